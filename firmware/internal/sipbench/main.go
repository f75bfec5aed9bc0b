// Command sipbench measures the box's SIP calls with sipp on loopback
// (`make bench-sip`): it runs the daemon's wiring in process (firmware/app
// on the simulated board, SIP and RTP on free loopback ports), then
//
//  1. concurrent calls: sipp as extension 301 calls through a route to a
//     SIP trunk whose far end is a second sipp (on 127.0.0.2, answering at
//     once with -rtp_echo), each call carrying PCMA both ways; at the peak
//     it reports active calls, the process's CPU (cores), heap per call,
//     and after the calls the RTP figures summed over every stream;
//  2. call set-up rate: short calls (INVITE, 407, 200, ACK, BYE) at a
//     given rate, counting answered CDRs against the wall time, and the
//     set-up latency's percentiles (first INVITE to 200 OK, as the caller's
//     sipp measures it; phase 1 reports them too, at its ramp rate);
//  3. the media engine's part of the latency: its per-tick processing
//     time, plus the jitter buffer depth the streams had.
//
// Every phase is bounded in time and in calls. sipp comes from the Debian
// package sip-tester. With -flood it plays issue 15's attacks instead
// (flood.go): `make bench-sip-flood`; with -idle 60s it measures the idle
// box's CPU and wakes instead. With -bin it runs a callboxd binary as its
// own process instead of in process, an armv7 one under qemu-arm-static
// (external.go, `make bench-arm`), and reports that process's memory and CPU.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"callbox/firmware/app"
	"callbox/firmware/internal/benchkit"
	"callbox/firmware/logbuf"
	"callbox/telephony/pbxconf"
)

var (
	//go:embed uas.xml
	uasXML []byte
	//go:embed uac_media.xml
	uacMediaXML []byte
	//go:embed uac_setup.xml
	uacSetupXML []byte
)

const secret = "bench-secret-kq7w" // not containing the number: pbxconf refuses that

// The far end's echo: sipp -rtp_echo takes every call's packets (25,000 a
// second at 500 calls) on one socket and one thread, with the kernel's
// default receive buffer (sipp 3.6.1's -rtp_buffsize does not reach the echo
// sockets), about 8 ms of them: any longer pause of that thread on a loaded
// machine loses packets, which the box's figures then show as the box's.
// The per-socket kernel drops say where a loss was; -far-nice raises the
// far end's priority (it stands for another machine) when run as root.

// Ports: the box's RTP range, and the far end's echo socket (sipp echoes
// what comes to -mp and to -mp+2).
const (
	rtpMin, rtpMax = 20000, 29999
	echoPort       = 40000
)

type options struct {
	calls      int       // concurrent media calls
	ramp       float64   // calls per second while ramping up
	rates      []float64 // set-up rate phases, one after another: calls per second
	setupCalls int
	timeout    time.Duration
	memProfile string        // heap profile written at the peak
	idle       time.Duration // -idle: measure the idle box instead of calls
	farNice    int           // nice value of the far end's sipp in the concurrent phase
	flood      floodOptions
	bin        string // -bin: a callboxd binary run as its own process
}

func main() {
	var o options
	flag.IntVar(&o.calls, "calls", 500, "concurrent G.711 calls with RTP both ways")
	flag.Float64Var(&o.ramp, "ramp", 100, "calls per second while ramping up to -calls")
	o.rates = []float64{100}
	flag.Func("rate", "call set-up rate to sustain (calls per second; a comma-separated list runs the phase at each, e.g. 100,200,400; default 100)", func(v string) error {
		r, err := parseRates(v)
		o.rates = r
		return err
	})
	flag.IntVar(&o.setupCalls, "setup-calls", 1000, "calls placed in the set-up rate phase")
	flag.DurationVar(&o.timeout, "timeout", 90*time.Second, "bound of each phase")
	flag.IntVar(&o.farNice, "far-nice", -10, "nice value for the far end's sipp (its RTP echo) when run as root; 0 leaves it")
	flag.DurationVar(&o.idle, "idle", 0, "instead of the call phases, measure the idle box's CPU and wakes over this long (issue 16: 60s), after 10 s to settle")
	flag.StringVar(&o.memProfile, "memprofile", "", "write a heap profile at the peak of concurrent calls to this file")
	flag.BoolVar(&o.flood.on, "flood", false, "instead of the call phases, play issue 15's attacks: flood, guessing, enumeration, silent TCP connections")
	flag.DurationVar(&o.flood.dur, "flood-for", 10*time.Second, "how long the flood lasts")
	flag.IntVar(&o.flood.sources, "flood-sources", 1, "addresses the flood comes from (127.0.0.3 up)")
	flag.IntVar(&o.flood.tcp, "flood-tcp", 500, "silent TCP connections opened (0: none)")
	flag.StringVar(&o.bin, "bin", "", "run this callboxd binary as its own process (another architecture's under qemu-user, as make bench-arm does) and report its resident memory idle and with -calls calls, or with -idle its idle CPU")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "sipbench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		return errors.New("sipp not found: install the Debian package sip-tester")
	}
	if _, err := os.Stat("/usr/share/sip-tester/g711a.pcap"); err != nil {
		return errors.New("sipp's pcap files not found: install the Debian package sip-tester")
	}
	dir, err := os.MkdirTemp("", "sipbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for name, data := range map[string][]byte{"uas.xml": uasXML, "uac_media.xml": uacMediaXML, "uac_setup.xml": uacSetupXML} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	uasPort, err := benchkit.FreePort("127.0.0.2")
	if err != nil {
		return fmt.Errorf("loopback 127.0.0.2: %w", err)
	}
	conf := pbxconf.Default(4)
	conf.Extensions = append(conf.Extensions, pbxconf.Extension{Number: "301", Name: "Bench", Kind: pbxconf.KindSIP, Secret: secret})
	conf.Trunks = []pbxconf.Trunk{{Name: "bench", Kind: pbxconf.KindSIP, Host: "127.0.0.2", Port: uasPort,
		Transport: pbxconf.TransportUDP, Username: "bench", Default: "201"}}
	conf.Routes = []pbxconf.Route{{Name: "bench", Patterns: []string{"8X."}, Strip: 1, Trunks: []string{"bench"}}}
	doc, err := pbxconf.Marshal(conf)
	if err != nil {
		return err
	}
	confPath := filepath.Join(dir, "pbx.json")
	if err := os.WriteFile(confPath, doc, 0o600); err != nil {
		return err
	}
	if o.bin != "" {
		return runExternal(o, sipp, dir, confPath, uasPort)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.New(app.Config{DataDir: filepath.Join(dir, "data"), Board: "sim", HTTPAddr: "127.0.0.1:0",
		SIPAddr: "127.0.0.1:0", Console: "none", NoWatchdog: true, RTPMin: rtpMin, RTPMax: rtpMax,
		Import: confPath, Out: io.Discard}, log, logbuf.New(10))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	var box string
	for end := time.Now().Add(60 * time.Second); box == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			return errors.New("the daemon did not start within 60 s")
		}
		select {
		case err := <-done:
			done <- err // for the deferred wait, which would block forever
			return fmt.Errorf("the daemon stopped: %w", err)
		default:
		}
		box = a.TelephonyStatus().SIPUDP
	}
	fmt.Printf("sipbench: box SIP on %s, trunk far end on 127.0.0.2:%d, GOMAXPROCS %d\n", box, uasPort, runtime.GOMAXPROCS(0))

	if o.idle > 0 {
		return idlePhase(o.idle)
	}
	if o.flood.on {
		return floodPhases(a, o, sipp, dir, box, uasPort)
	}
	if err := concurrent(a, o, sipp, dir, box, uasPort); err != nil {
		return err
	}
	for _, rate := range o.rates {
		if err := setupRate(a, o, rate, sipp, dir, box, uasPort); err != nil {
			return err
		}
	}
	return nil
}

// parseRates reads -rate: one rate or a comma-separated list, each above 0.
func parseRates(v string) ([]float64, error) {
	var out []float64
	for f := range strings.SplitSeq(v, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= 0 {
			return nil, fmt.Errorf("sipbench: rate %q: want calls per second above 0", f)
		}
		out = append(out, r)
	}
	return out, nil
}

// concurrent runs phase 1 and 3.
func concurrent(a *app.App, o options, sipp, dir, box string, uasPort int) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	drops := watchDrops(watchCtx, 200*time.Millisecond)
	farBin, farPre := sipp, []string(nil)
	if nice, err := exec.LookPath("nice"); err == nil && o.farNice != 0 && os.Geteuid() == 0 {
		farBin, farPre = nice, []string{"-n", strconv.Itoa(o.farNice), sipp}
		fmt.Printf("sipbench: the far end's sipp runs at nice %d\n", o.farNice)
	}
	uas, err := startSippVia(ctx, farBin, farPre, dir, "uas", "127.0.0.2", uasPort, "-sf", filepath.Join(dir, "uas.xml"),
		"-rtp_echo", "-mp", strconv.Itoa(echoPort), "-m", strconv.Itoa(o.calls), "-l", strconv.Itoa(o.calls))
	if err != nil {
		return err
	}
	uacPort, err := benchkit.FreePort("127.0.0.1")
	if err != nil {
		return err
	}
	uac, err := startSipp(ctx, sipp, dir, "uac_media", "127.0.0.1", uacPort, "-sf", filepath.Join(dir, "uac_media.xml"),
		"-s", "8100", "-key", "caller", "301", "-au", "301", "-ap", secret, "-auth_uri", "8100@"+box, "-mp", "42000",
		"-r", strconv.FormatFloat(o.ramp, 'f', -1, 64), "-m", strconv.Itoa(o.calls), "-l", strconv.Itoa(o.calls), "-trace_rtt", "-rtt_freq", "1", box)
	if err != nil {
		uas.Stop()
		return err
	}
	// The peak: all calls up (or the most that came up) for a few seconds.
	peak := 0
	var st app.TelephonyStatus
	rampEnd := time.Now().Add(time.Duration(float64(o.calls)/o.ramp*float64(time.Second)) + 3*time.Second)
	for time.Now().Before(rampEnd) {
		time.Sleep(250 * time.Millisecond)
		st = a.TelephonyStatus()
		peak = max(peak, st.ActiveCalls)
		if peak >= o.calls {
			break
		}
	}
	t0, c0 := time.Now(), benchkit.CPUTime()
	time.Sleep(3 * time.Second)
	cores := (benchkit.CPUTime() - c0).Seconds() / time.Since(t0).Seconds()
	st = a.TelephonyStatus()
	runtime.GC() // count live memory, not garbage awaiting collection
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	if o.memProfile != "" {
		if f, err := os.Create(o.memProfile); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	active := st.ActiveCalls
	uacErr := uac.Wait()
	uasErr := uas.Wait()
	// Let the last BYEs close their streams.
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if st = a.TelephonyStatus(); st.ActiveCalls == 0 && st.RTPInUse == 0 {
			break
		}
	}
	stopWatch()
	drops.wait()
	boxDrops := drops.sum(func(s udpSocket) bool {
		return s.ip == [4]byte{127, 0, 0, 1} && s.port >= rtpMin && s.port <= rtpMax
	})
	echoDrops := drops.sum(func(s udpSocket) bool {
		return s.ip == [4]byte{127, 0, 0, 2} && s.port >= echoPort && s.port <= echoPort+3
	})
	answered, total := countCDRs(a)
	mem := float64(m1.HeapInuse+m1.StackInuse) - float64(m0.HeapInuse+m0.StackInuse)
	fmt.Printf("\nconcurrent G.711 calls (target %d with CPU under one core and no loss):\n", o.calls)
	fmt.Printf("  active calls at the peak     %d (2 RTP legs each)\n", active)
	fmt.Printf("  process CPU at the peak      %.2f cores (box and in-process driver; sipp excluded)\n", cores)
	if active > 0 {
		fmt.Printf("  memory per active call       %.1f KB (heap+stack in use over idle)\n", mem/float64(active)/1024)
	}
	fmt.Printf("  calls answered (CDRs)        %d of %d placed\n", answered, total)
	printSetupLatency(dir, "uac_media")
	r := st.RTP
	fmt.Printf("  RTP streams                  %d: %d packets in, %d out\n", r.Streams, r.PacketsIn, r.PacketsOut)
	if r.PacketsIn > 0 {
		// Every packet a bridged leg hears is sent on by its partner.
		fmt.Printf("  packets unsent               %.1f %% (in minus out, over in)\n",
			100*float64(r.PacketsIn-min(r.PacketsOut, r.PacketsIn))/float64(r.PacketsIn))
	}
	fmt.Printf("  RTP lost (sequence gaps)     %d; late %d, concealed frames %d, ring drops %d, send drops %d\n",
		r.Lost, r.Late, r.Concealed, r.RingDrops, r.SendDrops)
	fmt.Printf("  kernel drops, full sockets   box's RTP sockets %d; far end's echo socket %d\n", boxDrops, echoDrops)
	ms := st.Media
	if ms.Ticks > 0 {
		fmt.Printf("\nmedia engine (the switch's frame clock, every channel):\n")
		fmt.Printf("  tick processing              mean %v, max %v over %d ticks\n",
			(ms.TickTime / time.Duration(ms.Ticks)).Round(time.Microsecond), ms.MaxTick.Round(time.Microsecond), ms.Ticks)
		fmt.Printf("  clock fell behind            %d frames skipped (every call alike); %d idle channel ticks passed by\n",
			st.ClockLost, ms.Slept)
		// Beyond the jitter buffer the engine adds only its tick's processing
		// when the talker's buffer holds the outgoing packet's second frame
		// (TestAddedLatency in rtpstream); a 10 ms frame when it does not
		// yet, and the concealer's 3.75 ms on a stream that has lost a packet.
		fmt.Printf("  added latency RTP in -> out  jitter buffer (deepest seen %.0f ms, 20 ms minimum) + tick processing (max %.1f ms);\n",
			r.MaxJitterDelay, float64(ms.MaxTick)/1e6)
		fmt.Printf("                               +10 ms while the talker's buffer lacks the packet's second frame, +3.75 ms after a loss\n")
	}
	if uacErr != nil || uasErr != nil {
		fmt.Printf("  sipp reported failed calls: caller %v; far end %v\n", uacErr, uasErr)
	}
	return nil
}

// setupRate runs phase 2 at rate calls per second.
func setupRate(a *app.App, o options, rate float64, sipp, dir, box string, uasPort int) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	_, before := countCDRs(a)
	ansBefore, _ := countCDRs(a)
	uas, err := startSipp(ctx, sipp, dir, "uas_setup", "127.0.0.2", uasPort, "-sf", filepath.Join(dir, "uas.xml"),
		"-mp", "44000", "-m", strconv.Itoa(o.setupCalls))
	if err != nil {
		return err
	}
	uacPort, err := benchkit.FreePort("127.0.0.1")
	if err != nil {
		return err
	}
	t0 := time.Now()
	uac, err := startSipp(ctx, sipp, dir, "uac_setup", "127.0.0.1", uacPort, "-sf", filepath.Join(dir, "uac_setup.xml"),
		"-s", "8100", "-key", "caller", "301", "-au", "301", "-ap", secret, "-auth_uri", "8100@"+box, "-mp", "46000",
		"-r", strconv.FormatFloat(rate, 'f', -1, 64), "-m", strconv.Itoa(o.setupCalls), "-l", "400", "-trace_rtt", "-rtt_freq", "1", box)
	if err != nil {
		uas.Stop()
		return err
	}
	uacErr := uac.Wait()
	elapsed := time.Since(t0)
	uasErr := uas.Wait()
	var answered, total int
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if answered, total = countCDRs(a); total-before >= o.setupCalls {
			break
		}
	}
	ok := answered - ansBefore
	fmt.Printf("\ncall set-up rate (target %.0f calls/s sustained):\n", rate)
	fmt.Printf("  offered                      %d calls at %.0f/s\n", o.setupCalls, rate)
	fmt.Printf("  answered (CDRs)              %d of %d in %v: %.1f calls/s\n", ok, total-before,
		elapsed.Round(10*time.Millisecond), float64(ok)/elapsed.Seconds())
	printSetupLatency(dir, "uac_setup")
	clearSetupLatencies(dir, "uac_setup") // the next rate's are its own
	if uacErr != nil || uasErr != nil {
		fmt.Printf("  sipp reported failed calls: caller %v; far end %v\n", uacErr, uasErr)
	}
	return nil
}

// countCDRs pages through the store: answered calls and all calls.
func countCDRs(a *app.App) (answered, total int) {
	var from time.Time
	for {
		list, next, err := a.CDRs(from, time.Time{}, 1000)
		if err != nil {
			return answered, total
		}
		for _, c := range list {
			total++
			if c.Disposition == "answered" {
				answered++
			}
		}
		if next.IsZero() {
			return answered, total
		}
		from = next
	}
}

// sippOpts are the options every sipp of this bench runs with: a call
// stuck for 80 s is an error, and the UAC may open many sockets.
var sippOpts = []string{"-timeout", "80s", "-timeout_error", "-max_socket", "4096"}

func startSipp(ctx context.Context, bin, dir, name, ip string, port int, args ...string) (*benchkit.Sipp, error) {
	return startSippVia(ctx, bin, nil, dir, name, ip, port, args...)
}

// startSippVia runs sipp through a wrapper: bin is the wrapper and pre its
// arguments up to and including sipp's path.
func startSippVia(ctx context.Context, bin string, pre []string, dir, name, ip string, port int, args ...string) (*benchkit.Sipp, error) {
	return benchkit.StartSipp(ctx, bin, pre, dir, name, ip, port, append(slices.Clone(sippOpts), args...)...)
}

// idlePhase measures the box with nothing happening: the process's CPU
// (cores) and context switches a second (each one a wake of a thread),
// over d after 10 s for the boot's work to end.
func idlePhase(d time.Duration) error {
	time.Sleep(10 * time.Second)
	var r0, r1 syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r0); err != nil {
		return err
	}
	t0 := time.Now()
	time.Sleep(d)
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r1); err != nil {
		return err
	}
	secs := time.Since(t0).Seconds()
	cpu := time.Duration(r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano())
	switches := (r1.Nvcsw + r1.Nivcsw) - (r0.Nvcsw + r0.Nivcsw)
	fmt.Printf("sipbench: idle over %v: %.4f cores, %.0f context switches/s\n", d, cpu.Seconds()/secs, float64(switches)/secs)
	return nil
}
