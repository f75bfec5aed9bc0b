package main

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"callbox/firmware/internal/benchkit"
)

// With -bin the box is not wired in process but run as its own process:
// a callboxd binary, which for another architecture (the armv7 build of
// `make bench-arm`) runs under qemu-user (qemu-arm-static). The figures are
// then the process's own, read from /proc: its resident memory idle and
// with the calls up, and its CPU idle. Under qemu-user the resident memory
// is qemu's process: the guest's pages plus qemu's translated code, so it
// overstates the box's a little, never understates it.

// daemon is callboxd run as a child process.
type daemon struct {
	cmd  *exec.Cmd
	out  *os.File
	web  string // 127.0.0.1:port of the web admin
	sip  string // 127.0.0.1:port of SIP over UDP
	done chan error
}

// emulator returns the qemu-user command that runs bin on this machine,
// or "" when bin is for this machine's architecture.
func emulator(bin string) (string, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return "", fmt.Errorf("sipbench: %s: %w", bin, err)
	}
	defer f.Close()
	native := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM, "386": elf.EM_386}
	if f.Machine == native[runtime.GOARCH] {
		return "", nil
	}
	qemu := map[elf.Machine]string{elf.EM_ARM: "qemu-arm-static", elf.EM_AARCH64: "qemu-aarch64-static"}[f.Machine]
	if qemu == "" {
		return "", fmt.Errorf("sipbench: %s is for %v, which this bench cannot run", bin, f.Machine)
	}
	if _, err := exec.LookPath(qemu); err != nil {
		return "", fmt.Errorf("sipbench: %s not found: install the Debian package qemu-user-static", qemu)
	}
	return qemu, nil
}

// startDaemon runs bin with the bench's configuration imported and waits
// until its web admin answers (SIP starts before it).
func startDaemon(ctx context.Context, bin, dir, confPath string) (*daemon, error) {
	qemu, err := emulator(bin)
	if err != nil {
		return nil, err
	}
	webPort, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	sipPort, err := benchkit.FreePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	d := &daemon{web: fmt.Sprintf("127.0.0.1:%d", webPort), sip: fmt.Sprintf("127.0.0.1:%d", sipPort), done: make(chan error, 1)}
	args := []string{"--board", "sim", "--data", filepath.Join(dir, "data"), "--http", d.web, "--https", "none",
		"--sip", d.sip, "--console", "none", "--no-watchdog", "--log-level", "warn",
		"--rtp-ports", fmt.Sprintf("%d-%d", rtpMin, rtpMax), "--import", confPath}
	name := bin
	if qemu != "" {
		name, args = qemu, append([]string{bin}, args...)
	}
	if d.out, err = os.Create(filepath.Join(dir, "callboxd.out")); err != nil {
		return nil, err
	}
	d.cmd = exec.CommandContext(ctx, name, args...)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		d.out.Close()
		return nil, fmt.Errorf("sipbench: %s: %w", bin, err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	c := http.Client{Timeout: 5 * time.Second}
	// Emulated, the daemon takes many seconds to start on a busy machine:
	// the wait ends when it answers, the limit only bounds one that never does.
	for end := time.Now().Add(5 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		select {
		case err := <-d.done:
			d.out.Close()
			b, _ := os.ReadFile(d.out.Name())
			return nil, fmt.Errorf("sipbench: the daemon stopped at start: %v: %s", err, tail(b, 1500))
		default:
		}
		if resp, err := c.Get("http://" + d.web + "/api/v1/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d, nil
			}
		}
		if time.Now().After(end) {
			d.stop()
			return nil, errors.New("sipbench: the daemon's web admin did not answer within 5 minutes")
		}
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// stop ends the daemon (SIGTERM, then SIGKILL after 30 s) and waits for it.
func (d *daemon) stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
	d.out.Close()
}

// rss is the daemon's resident memory now and at its peak, in bytes.
func (d *daemon) rss() (now, peak int64) { return benchkit.RSSOf(d.cmd.Process.Pid) }

// clockTick is USER_HZ, the unit of /proc/PID/stat's times on Linux.
const clockTick = 100

// cpuTime is the daemon's user and system CPU time so far.
func (d *daemon) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", d.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	return statCPU(b)
}

// statCPU reads the user and system times of a /proc/PID/stat line (its
// 14th and 15th fields, in USER_HZ ticks).
func statCPU(b []byte) (time.Duration, error) {
	// The command name may hold spaces and parentheses: the fields start
	// after its last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("sipbench: /proc/PID/stat unreadable")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("sipbench: /proc/PID/stat too short")
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 32)
	stime, err2 := strconv.ParseUint(f[12], 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("sipbench: /proc/PID/stat: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / clockTick, nil
}

// freeTCPPort returns a TCP port free on 127.0.0.1 right now.
func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// runExternal is the bench with -bin: the idle figures and, unless -idle
// is given, the memory with o.calls concurrent calls.
func runExternal(o options, sipp, dir, confPath string, uasPort int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t0 := time.Now()
	d, err := startDaemon(ctx, o.bin, dir, confPath)
	if err != nil {
		return err
	}
	defer d.stop()
	fmt.Printf("sipbench: %s answering after %v (SIP %s, web %s)\n", o.bin, time.Since(t0).Round(100*time.Millisecond), d.sip, d.web)
	time.Sleep(10 * time.Second) // the start's work ends (first-boot key, prompt checks)
	if o.idle > 0 {
		c0, err := d.cpuTime()
		if err != nil {
			return err
		}
		t1 := time.Now()
		time.Sleep(o.idle)
		c1, err := d.cpuTime()
		if err != nil {
			return err
		}
		cores := (c1 - c0).Seconds() / time.Since(t1).Seconds()
		now, _ := d.rss()
		fmt.Printf("sipbench: idle over %v: %.4f cores; resident %.1f MiB\n", o.idle, cores, mib(now))
		return nil
	}
	idle, _ := d.rss()
	fmt.Printf("sipbench: idle resident %.1f MiB\n", mib(idle))
	return externalCalls(ctx, d, o, sipp, dir, uasPort, idle)
}

// externalCalls places o.calls media calls as concurrent does and reads the
// daemon's memory and CPU with them up; the calls up are the far end sipp's
// own count (its statistics file), the box's not being reachable in process.
func externalCalls(ctx context.Context, d *daemon, o options, sipp, dir string, uasPort int, idle int64) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	uas, err := startSipp(ctx, sipp, dir, "uas", "127.0.0.2", uasPort, "-sf", filepath.Join(dir, "uas.xml"),
		"-rtp_echo", "-mp", strconv.Itoa(echoPort), "-m", strconv.Itoa(o.calls), "-l", strconv.Itoa(o.calls),
		"-trace_stat", "-fd", "1")
	if err != nil {
		return err
	}
	uacPort, err := benchkit.FreePort("127.0.0.1")
	if err != nil {
		uas.Stop()
		return err
	}
	uac, err := startSipp(ctx, sipp, dir, "uac_media", "127.0.0.1", uacPort, "-sf", filepath.Join(dir, "uac_media.xml"),
		"-s", "8100", "-key", "caller", "301", "-au", "301", "-ap", secret, "-auth_uri", "8100@"+d.sip, "-mp", "42000",
		"-r", strconv.FormatFloat(o.ramp, 'f', -1, 64), "-m", strconv.Itoa(o.calls), "-l", strconv.Itoa(o.calls),
		"-trace_stat", "-fd", "1", "-trace_rtt", "-rtt_freq", "1", d.sip)
	if err != nil {
		uas.Stop()
		return err
	}
	// The peak: every call through to the far end (or the most that got
	// there) by its own count, a second for the media to start, then CPU
	// and memory over a few seconds of media (each call carries 13.6 s).
	peak := 0
	for end := time.Now().Add(time.Duration(float64(o.calls)/o.ramp*float64(time.Second)) + 20*time.Second); time.Now().Before(end) && peak < o.calls; {
		time.Sleep(250 * time.Millisecond)
		peak = max(peak, sippCurrentCalls(dir, "uas"))
	}
	time.Sleep(time.Second)
	c0, _ := d.cpuTime()
	t0 := time.Now()
	time.Sleep(5 * time.Second)
	c1, _ := d.cpuTime()
	cores := (c1 - c0).Seconds() / time.Since(t0).Seconds()
	up := sippCurrentCalls(dir, "uas")
	now, _ := d.rss()
	uacErr := uac.Wait()
	uasErr := uas.Wait()
	_, hwm := d.rss()
	fmt.Printf("\n%d concurrent G.711 calls through %s:\n", o.calls, filepath.Base(o.bin))
	fmt.Printf("  calls up at the peak         %d (the far end's count; %d at the most)\n", up, peak)
	fmt.Printf("  resident memory              idle %.1f MiB, with the calls %.1f MiB, peak %.1f MiB\n", mib(idle), mib(now), mib(hwm))
	fmt.Printf("  CPU with the calls           %.2f cores\n", cores)
	printSetupLatency(dir, "uac_media")
	if uacErr != nil || uasErr != nil {
		fmt.Printf("  sipp reported failed calls: caller %v; far end %v\n", uacErr, uasErr)
	}
	return nil
}

// sippCurrentCalls reads the calls in progress from the statistics file
// sipp -trace_stat writes in dir (NAME_PID_.csv); 0 when there is none yet.
func sippCurrentCalls(dir, name string) int {
	files, _ := filepath.Glob(filepath.Join(dir, name+"_*_.csv"))
	if len(files) == 0 {
		return 0
	}
	b, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		return 0
	}
	return currentCalls(b)
}

// currentCalls reads the CurrentCall column of the last line of sipp's
// statistics (fields separated by ';', a header naming them first).
func currentCalls(b []byte) int {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return 0
	}
	col := -1
	for i, h := range strings.Split(lines[0], ";") {
		if h == "CurrentCall" {
			col = i
		}
	}
	last := strings.Split(lines[len(lines)-1], ";")
	if col < 0 || col >= len(last) {
		return 0
	}
	n, _ := strconv.Atoi(last[col])
	return n
}
