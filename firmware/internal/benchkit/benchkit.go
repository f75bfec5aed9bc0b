// Package benchkit holds what the loopback benchmarks (make bench-sip,
// make bench-cc) share: sipp processes, free ports, and the process's CPU
// time and memory.
package benchkit

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Sipp is one sipp process. Its output goes to dir/NAME.out, its error log
// to dir/NAME.err.
type Sipp struct {
	name string
	cmd  *exec.Cmd
	errf string
	out  *os.File
}

// StartSipp starts sipp bound to ip:port with its working directory dir
// (where -trace_rtt and -trace_msg write), stdin off and the error trace
// on, then args. bin is sipp, or a wrapper when pre is given: pre are the
// wrapper's arguments up to and including sipp's path. The process is
// killed when ctx ends or the benchmark dies.
func StartSipp(ctx context.Context, bin string, pre []string, dir, name, ip string, port int, args ...string) (*Sipp, error) {
	r := &Sipp{name: name, errf: filepath.Join(dir, name+".err")}
	full := append(append([]string(nil), pre...), "-i", ip, "-p", strconv.Itoa(port), "-nostdin", "-trace_err",
		"-error_file", r.errf)
	full = append(full, args...)
	var err error
	if r.out, err = os.Create(filepath.Join(dir, name+".out")); err != nil {
		return nil, fmt.Errorf("benchkit: sipp %s: %w", name, err)
	}
	r.cmd = exec.CommandContext(ctx, bin, full...)
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	r.cmd.Dir = dir
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no sipp outlives an interrupted bench
	if err := r.cmd.Start(); err != nil {
		r.out.Close()
		return nil, fmt.Errorf("benchkit: sipp %s: %w", name, err)
	}
	return r, nil
}

// Wait waits for sipp to end; a failure carries the tail of its error log.
func (r *Sipp) Wait() error {
	err := r.cmd.Wait()
	r.out.Close()
	if err != nil {
		b, _ := os.ReadFile(r.errf)
		if len(b) > 600 {
			b = b[len(b)-600:]
		}
		return fmt.Errorf("benchkit: sipp %s: %w (error log tail: %q)", r.name, err, b)
	}
	return nil
}

// Stop kills sipp and waits for it.
func (r *Sipp) Stop() {
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.out.Close()
}

// FreePort returns a UDP port free on ip right now.
func FreePort(ip string) (int, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		return 0, fmt.Errorf("benchkit: a free port on %s: %w", ip, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// CPUTime is the process's user and system CPU time so far.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// RSS is the process's resident memory now and at its peak, in bytes
// (zeros where /proc is not there).
func RSS() (now, peak int64) { return rssOf("/proc/self/status") }

// RSSOf is RSS of another process, by its id.
func RSSOf(pid int) (now, peak int64) { return rssOf(fmt.Sprintf("/proc/%d/status", pid)) }

func rssOf(status string) (now, peak int64) {
	f, err := os.Open(status)
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			now = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	return now, peak
}
