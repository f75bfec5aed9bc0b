// Command ccbench measures the live call centre on loopback (`make
// bench-cc`, issue 9 section 7). It runs the daemon's wiring in process
// (firmware/app on the simulated board, SIP and RTP on free loopback
// ports) with a call-centre configuration generated for the run: one group
// whose N agents are SIP extensions, all registered by sipp to one sipp
// that answers for every agent after a short ring; the agents are logged in
// and made ready through the REST API. Callers come from a SIP trunk (an
// in-process driver on 127.0.0.3, callers.go) into the group's DID as a
// Poisson stream; each hangs up after an exponential patience if no agent
// answered, else after an exponential handle time from the answer.
//
// At the end it prints the figures measured from the box's fact rows
// (offered, answered, abandoned, service level, ASA), the same figures from
// the ACD simulator (telephony/acd/simulate, what `callboxctl acd simulate`
// runs) with the same parameters, their differences, the process's CPU and
// memory, the delay from a call becoming routable (queued with an agent
// idle, or an agent turning idle with the call waiting) to the agent's
// INVITE reaching the agents' sipp, and the delay from the event bus to 50
// Server-Sent-Events clients of GET /api/v1/events.
//
// sipp comes from the Debian package sip-tester.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"callbox/firmware/app"
	"callbox/firmware/cli/configcli"
	"callbox/firmware/internal/benchkit"
	"callbox/firmware/logbuf"
	"callbox/telephony/cc"
	"callbox/telephony/ccconf"
	"callbox/telephony/pbxconf"
)

var (
	//go:embed agent_uas.xml
	agentXML []byte
	//go:embed register.xml
	registerXML []byte
)

const (
	secret = "bench-secret-kq7w"
	did    = "4008"
	// The box's RTP range.
	rtpMin, rtpMax = 30000, 39999
)

type options struct {
	agents      int
	duration    time.Duration
	aht         time.Duration // mean handle time (exponential)
	load        float64       // offered erlangs per agent
	patience    time.Duration // mean patience (exponential); 0: infinite
	answerDelay time.Duration // agents' phones ring this long
	sl          time.Duration // service-level threshold
	sseClients  int
	desks       int // agents at their web desks (own login, /desk, event stream)
	seed        uint64
	simRuns     int
	surge       int // callers waiting beyond the agents in the final surge
}

// surgeCalls is how many callers the surge places.
func (o options) surgeCalls() int {
	if o.surge <= 0 {
		return 0
	}
	return o.agents + o.surge
}

func main() {
	var o options
	flag.IntVar(&o.agents, "agents", 30, "agents in the group (SIP extensions 1001 up)")
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "how long callers arrive")
	flag.DurationVar(&o.aht, "aht", 20*time.Second, "mean handle time (exponential)")
	flag.Float64Var(&o.load, "load", 0.95, "offered load per agent (erlangs): the arrival rate is load*agents/aht")
	flag.DurationVar(&o.patience, "patience", 40*time.Second, "callers' mean patience (exponential); 0: they never give up")
	flag.DurationVar(&o.answerDelay, "answer-delay", 500*time.Millisecond, "how long an agent's phone rings before it answers")
	flag.DurationVar(&o.sl, "sl", 20*time.Second, "service-level threshold")
	flag.IntVar(&o.sseClients, "sse", 50, "clients of GET /api/v1/events")
	flag.IntVar(&o.desks, "desks", 0, "agents logged in to their own web desks (at most -agents), each with /desk loaded and its event stream open")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the arrivals, patiences and handle times")
	flag.IntVar(&o.surge, "surge", 60, "after the stream, callers for every agent plus this many more arrive at once (0: none)")
	flag.IntVar(&o.simRuns, "sim-runs", 200, "simulator runs averaged (each as long as the bench)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "ccbench:", err)
		os.Exit(1)
	}
}

func agentID(i int) string { return strconv.Itoa(1001 + i) }

// configure writes the box's document: the agents' extensions, the trunk
// the callers come in on, the group, its agents and the DID's route.
func configure(path string, o options, trunkPort int) error {
	conf := pbxconf.Default(4)
	for i := range o.agents {
		conf.Extensions = append(conf.Extensions, pbxconf.Extension{Number: agentID(i), Name: "Agent " + agentID(i),
			Kind: pbxconf.KindSIP, Secret: secret})
	}
	conf.Trunks = []pbxconf.Trunk{{Name: "carrier", Kind: pbxconf.KindSIP, Host: "127.0.0.3", Port: trunkPort,
		Transport: pbxconf.TransportUDP, Username: "bench"}}
	off := false
	c := ccconf.Config{
		Version: 1,
		Groups: []ccconf.Group{{ID: 1, Name: "bench", RingTimeoutS: 15, SLThresholdS: int(o.sl / time.Second),
			Recording: &off}},
		InboundRoutes: []ccconf.InboundRoute{{Name: "did", Source: ccconf.SourceTrunk, Trunk: "carrier", DID: did,
			Target: ccconf.Target{Kind: ccconf.TargetGroup, Group: 1}}},
	}
	for i := range o.agents {
		c.Agents = append(c.Agents, ccconf.Agent{ID: agentID(i), Name: "Agent " + agentID(i), Mode: ccconf.ModeExtension,
			Device: agentID(i), Groups: []ccconf.Membership{{Group: 1, Skill: 1}}})
	}
	c.Normalize()
	doc, err := configcli.MarshalDocument(configcli.Document{PBX: &conf, CallCentre: &c})
	if err != nil {
		return err
	}
	return os.WriteFile(path, doc, 0o600)
}

func run(o options) error {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		return errors.New("sipp not found: install the Debian package sip-tester")
	}
	if o.agents < 1 || o.aht <= 0 || o.load <= 0 || o.duration <= 0 {
		return errors.New("need -agents, -aht, -load and -duration above zero")
	}
	dir, err := os.MkdirTemp("", "ccbench")
	if err != nil {
		return err
	}
	if os.Getenv("CCBENCH_KEEP") == "" {
		defer os.RemoveAll(dir)
	} else {
		fmt.Println("ccbench: keeping", dir)
	}
	for name, data := range map[string][]byte{"agent_uas.xml": agentXML, "register.xml": registerXML} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	trunkConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 3)})
	if err != nil {
		return fmt.Errorf("loopback 127.0.0.3: %w", err)
	}
	trunkPort := trunkConn.LocalAddr().(*net.UDPAddr).Port
	confPath := filepath.Join(dir, "box.json")
	if err := configure(confPath, o, trunkPort); err != nil {
		trunkConn.Close()
		return err
	}
	out := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	slog.SetDefault(log) // the callers' SIP stack logs through the default logger
	a, err := app.New(app.Config{DataDir: filepath.Join(dir, "data"), Board: "sim", HTTPAddr: "127.0.0.1:0",
		SIPAddr: "127.0.0.1:0", Console: "none", NoWatchdog: true, RTPMin: rtpMin, RTPMax: rtpMax,
		Import: confPath, Out: out}, log, logbuf.New(10))
	if err != nil {
		trunkConn.Close()
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	box, err := waitBox(a, done)
	if err != nil {
		trunkConn.Close()
		return err
	}
	_, bus := a.CallCentre()
	if bus == nil {
		trunkConn.Close()
		return errors.New("the daemon has no call centre")
	}
	fmt.Printf("ccbench: box SIP on %s, web on %s, %d agents, GOMAXPROCS %d\n", box, a.WebAddr(), o.agents, runtime.GOMAXPROCS(0))

	// Events from the bus, as they are published (the timestamps the
	// latencies start from).
	rec, err := record(bus)
	if err != nil {
		trunkConn.Close()
		return err
	}
	defer rec.stop()

	// The agents' phones: one sipp answering for all, then the
	// registrations pointing at it.
	agentPort, err := benchkit.FreePort("127.0.0.2")
	if err != nil {
		trunkConn.Close()
		return err
	}
	mediaPort, err := benchkit.FreePort("127.0.0.2")
	if err != nil {
		trunkConn.Close()
		return err
	}
	uas, err := startSipp(ctx, sipp, dir, "agents", "127.0.0.2", agentPort, "-sf", filepath.Join(dir, "agent_uas.xml"), "-aa",
		"-d", strconv.FormatInt(o.answerDelay.Milliseconds(), 10), "-mp", strconv.Itoa(mediaPort),
		"-trace_msg", "-message_file", filepath.Join(dir, "agents_msg.log"), box)
	if err != nil {
		trunkConn.Close()
		return err
	}
	defer uas.Stop()
	// The INVITEs to the agents on the wire, when a raw socket may be had.
	wr, wireErr := startWire(ctx, agentPort)
	var invites []wireInvite
	defer func() {
		if wr != nil {
			wr.stop()
		}
	}()
	if err := registerAgents(ctx, sipp, dir, box, agentPort, o.agents); err != nil {
		trunkConn.Close()
		return err
	}
	web, err := adminClient(a, out)
	if err != nil {
		trunkConn.Close()
		return err
	}
	for i := range o.agents {
		id := agentID(i)
		if err := web.post("/api/v1/cc/agents/"+id+"/login", nil); err != nil {
			trunkConn.Close()
			return err
		}
		if err := web.post("/api/v1/cc/agents/"+id+"/state", map[string]any{"state": "ready"}); err != nil {
			trunkConn.Close()
			return err
		}
	}
	fmt.Printf("ccbench: %d agents registered, logged in and ready through the REST API\n", o.agents)

	sse, err := startSSE(ctx, web, o.sseClients)
	if err != nil {
		trunkConn.Close()
		return err
	}
	defer sse.stop()
	var desks *sseClients
	if o.desks > 0 {
		if desks, err = startDesks(ctx, web, min(o.desks, o.agents)); err != nil {
			trunkConn.Close()
			return err
		}
		defer desks.stop()
		fmt.Printf("ccbench: %d agents logged in to their web desks, each streaming its events\n", min(o.desks, o.agents))
	}

	rate := o.load * float64(o.agents) / o.aht.Seconds()
	fmt.Printf("ccbench: callers arrive at %.3f/s (Poisson) for %v, handle time %v and patience %v (means, exponential)\n",
		rate, o.duration, o.aht, o.patience)
	drv, err := newDriver(trunkConn, box, rec)
	if err != nil {
		return err
	}
	defer drv.close()
	t0, c0 := time.Now(), benchkit.CPUTime()
	placed, failed := drv.traffic(ctx, o, rate)
	trafficTime := time.Since(t0)
	if wr != nil {
		invites, wr = wr.stop(), nil
	}
	cores := (benchkit.CPUTime() - c0).Seconds() / trafficTime.Seconds()
	rssNow, rssPeak := benchkit.RSS()
	// Let the queue drain and the facts settle.
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if a.TelephonyStatus().ActiveCalls == 0 {
			break
		}
	}
	time.Sleep(500 * time.Millisecond)
	facts, err := a.CallFacts()
	if err != nil {
		return err
	}
	stream := slices.DeleteFunc(slices.Clone(facts), func(f cc.Fact) bool { return strings.HasPrefix(f.Number, surgePrefix) })
	box1 := fromFacts(stream, o.sl)
	sim, err := simulateSame(o, rate)
	if err != nil {
		return err
	}
	sippInv, err := sippInvites(filepath.Join(dir, "agents_msg.log"))
	if err != nil {
		return err
	}
	lat, surgeLat, unmatched := rec.latencies(sippInv)
	sseLat, sseDropped := sse.result()
	var deskLat []time.Duration
	deskDropped := 0
	if desks != nil {
		deskLat, deskDropped = desks.result()
	}

	fmt.Printf("\ncallers placed %d (%d failed to get in; %d of them in the surge), arrivals and the calls' ends %v\n",
		placed, failed, o.surgeCalls(), trafficTime.Round(time.Second))
	fmt.Printf("\n%-34s %10s %10s %10s\n", "", "box", "simulator", "difference")
	row := func(name string, b, s float64, f string) {
		fmt.Printf("%-34s %10s %10s %10s\n", name, fmt.Sprintf(f, b), fmt.Sprintf(f, s), fmt.Sprintf(f, b-s))
	}
	row("offered", float64(box1.offered), sim.offered, "%.1f")
	row("answered", float64(box1.answered), sim.answered, "%.1f")
	row("abandoned", float64(box1.abandoned), sim.abandoned, "%.1f")
	row(fmt.Sprintf("SL: answered in %v / offered", o.sl), box1.sl, sim.sl, "%.3f")
	row("ASA (s)", box1.asa.Seconds(), sim.asa.Seconds(), "%.2f")
	row("ASA / mean handle time", box1.asa.Seconds()/o.aht.Seconds(), sim.asa.Seconds()/o.aht.Seconds(), "%.3f")
	fmt.Printf("%-34s %10.3f %10s %10s\n", "SL as the box shows it (cc.SLFormula)", box1.boxSL, "", "")
	fmt.Printf("  simulator: mean of %d runs of %v (one run's standard deviation: SL %.3f, ASA %.2f s, abandoned %.1f)\n",
		o.simRuns, o.duration, sim.slSD, sim.asaSD, sim.abandonedSD)
	fmt.Printf("  abandoned: %.0f%% of the simulator's runs had %d or more\n", 100*sim.atLeast(box1.abandoned), box1.abandoned)
	au := auditFacts(stream, drv.callerLog())
	fmt.Printf("\ncallers against the box's rows: %d of %d agree (gave up = abandoned, talked = answered)\n", au.agree, au.rows)
	for k, n := range au.mismatch {
		fmt.Printf("  %-30s %d\n", k, n)
	}
	fmt.Printf("  abandoned while an agent's phone rang for them: %d\n", au.ringingGone)
	fmt.Printf("  abandoned rows, caller's patience less the row's wait:\n")
	printPercentiles(au.patienceGap)
	fmt.Printf("\nprocess (box and in-process callers, SSE clients; sipp excluded):\n")
	fmt.Printf("  CPU, arrivals to the last call  %.2f cores\n", cores)
	fmt.Printf("  RSS                            %.1f MiB now, %.1f MiB peak\n", float64(rssNow)/(1<<20), float64(rssPeak)/(1<<20))
	fmt.Printf("  most callers waiting at once   %d\n", rec.maxWaiting())
	fmt.Printf("\nrouting delay, call routable -> agent's INVITE at the agent's phone (target p99 < 50 ms):\n")
	printPercentiles(lat)
	if o.surge > 0 {
		fmt.Printf("  in the surge (%d agents busy, up to %d waiting):\n", o.agents, rec.maxWaiting())
		printPercentiles(surgeLat)
	}
	if unmatched > 0 {
		fmt.Printf("  (%d INVITEs to agents not matched to a call)\n", unmatched)
	}
	engine, engineSurge := rec.engineDelays()
	fmt.Printf("  of which the engine's part, routable -> call.ringing published:\n")
	printPercentiles(engine)
	if o.surge > 0 {
		fmt.Printf("  in the surge:\n")
		printPercentiles(engineSurge)
	}
	if wireErr != nil {
		fmt.Printf("  (no times from the wire: %v)\n", wireErr)
	} else {
		wl, ws, fromRing, peer := rec.wireDelays(invites, sippInv)
		fmt.Printf("  call routable -> agent's INVITE leaving the box (the wire's time, as the issue defines it):\n")
		printPercentiles(wl)
		if o.surge > 0 {
			fmt.Printf("  in the surge:\n")
			printPercentiles(ws)
		}
		fmt.Printf("  of which the switch and SIP stack, call.ringing published -> INVITE on the wire:\n")
		printPercentiles(fromRing)
		fmt.Printf("  and after it, INVITE on the wire -> sipp's message log (the peer's part):\n")
		printPercentiles(peer)
	}
	fmt.Printf("\nevents, bus -> %d SSE clients (target < 100 ms):\n", o.sseClients)
	printPercentiles(sseLat)
	fmt.Printf("  clients dropped or failed      %d\n", sseDropped)
	if desks != nil {
		fmt.Printf("\nevents, bus -> %d agents' desks (each its own login and stream):\n", min(o.desks, o.agents))
		printPercentiles(deskLat)
		fmt.Printf("  desks dropped or failed        %d\n", deskDropped)
	}
	return nil
}

// waitBox waits for the daemon's SIP socket.
func waitBox(a *app.App, done chan error) (string, error) {
	for end := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			return "", errors.New("the daemon did not start within 60 s")
		}
		select {
		case err := <-done:
			done <- err // for the deferred wait
			return "", fmt.Errorf("the daemon stopped: %w", err)
		default:
		}
		if box := a.TelephonyStatus().SIPUDP; box != "" && a.WebAddr() != "" {
			return box, nil
		}
	}
}

// registerAgents registers every agent's extension with the agents' sipp
// as contact, one short sipp run each.
func registerAgents(ctx context.Context, sipp, dir, box string, agentPort, n int) error {
	port, err := benchkit.FreePort("127.0.0.2")
	if err != nil {
		return err
	}
	for i := range n {
		id := agentID(i)
		reg, err := startSipp(ctx, sipp, dir, "register", "127.0.0.2", port, "-sf", filepath.Join(dir, "register.xml"),
			"-s", id, "-au", id, "-ap", secret, "-key", "cport", strconv.Itoa(agentPort), "-m", "1", box)
		if err != nil {
			return err
		}
		if err := reg.Wait(); err != nil {
			return fmt.Errorf("registering agent %s: %w", id, err)
		}
	}
	return nil
}

// figures are the box's, counted from its fact rows: the simulator's
// service level (answered within the threshold over offered) and the
// box's own (cc.ServiceLevel, what the API shows).
type figures struct {
	offered, answered, abandoned int
	sl, boxSL                    float64
	asa                          time.Duration
}

func fromFacts(facts []cc.Fact, threshold time.Duration) figures {
	f := figures{offered: len(facts)}
	box := cc.ServiceLevel(facts, 0, threshold)
	f.answered, f.abandoned, f.boxSL = box.Answered, box.Abandoned, box.Value
	var waits time.Duration
	for _, x := range facts {
		if x.Disposition == "answered" {
			waits += time.Duration(x.WaitSeconds * float64(time.Second))
		}
	}
	if f.offered > 0 {
		f.sl = float64(box.AnsweredInT) / float64(f.offered)
	}
	if f.answered > 0 {
		f.asa = waits / time.Duration(f.answered)
	}
	return f
}

func printPercentiles(d []time.Duration) {
	if len(d) == 0 {
		fmt.Printf("  no samples\n")
		return
	}
	slices.Sort(d)
	p := func(q float64) time.Duration { return d[min(len(d)-1, int(math.Ceil(q*float64(len(d))))-1)] }
	fmt.Printf("  p50 %v  p95 %v  p99 %v  max %v  (%d samples)\n", p(0.50).Round(10*time.Microsecond),
		p(0.95).Round(10*time.Microsecond), p(0.99).Round(10*time.Microsecond), d[len(d)-1].Round(10*time.Microsecond), len(d))
}

// dispatchLatency reads the agents' sipp message log: for each INVITE to
// an agent, the delay from the moment its call became routable (queued,
// or the agent turning idle while it waited, whichever is later) to the
// INVITE's arrival.
func dispatchLatency(path string, rec *recorder) (stream, surge []time.Duration, unmatched int, err error) {
	invs, err := sippInvites(path)
	if err != nil {
		return nil, nil, 0, err
	}
	stream, surge, unmatched = rec.latencies(invs)
	return stream, surge, unmatched, nil
}

// latencies are, for each INVITE to an agent, the delay from its call
// becoming routable; the surge's calls apart.
func (r *recorder) latencies(invs []wireInvite) (stream, surge []time.Duration, unmatched int) {
	for _, inv := range invs {
		d, ok := r.routable(inv.from, inv.agent, inv.at)
		switch {
		case !ok:
			unmatched++
		case strings.HasPrefix(inv.from, surgePrefix):
			surge = append(surge, inv.at.Sub(d))
		default:
			stream = append(stream, inv.at.Sub(d))
		}
	}
	return stream, surge, unmatched
}

// wireDelays splits the routing delay at the wire: routable -> INVITE on
// the wire (stream, surge), call.ringing published -> INVITE on the wire
// (the switch and the SIP stack, first rings), and INVITE on the wire ->
// sipp's log of it (the peer's part; sipp's INVITEs matched in order by
// caller and agent).
func (r *recorder) wireDelays(wire, sipp []wireInvite) (stream, surge, fromRing, peer []time.Duration) {
	stream, surge, _ = r.latencies(wire)
	r.mu.Lock()
	rung := maps.Clone(r.rung)
	r.mu.Unlock()
	type key struct{ from, agent string }
	seen := map[key][]time.Time{}
	for _, inv := range wire {
		k := key{inv.from, inv.agent}
		seen[k] = append(seen[k], inv.at)
		if g, ok := rung[inv.from]; ok && g.agent == inv.agent && len(seen[k]) == 1 {
			fromRing = append(fromRing, inv.at.Sub(g.at))
		}
	}
	used := map[key]int{}
	for _, inv := range sipp {
		k := key{inv.from, inv.agent}
		if i := used[k]; i < len(seen[k]) {
			peer = append(peer, inv.at.Sub(seen[k][i]))
			used[k] = i + 1
		}
	}
	return stream, surge, fromRing, peer
}

// sippInvites reads the INVITEs to agents from sipp's message log, with
// the times sipp logged them.
func sippInvites(path string) ([]wireInvite, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []wireInvite
	// sipp's message log: a dashed line with the time, then
	// "UDP message received [n] bytes :", a blank line, the message.
	stamp := regexp.MustCompile(`(?m)^-+ (\d{4}-\d\d-\d\d\t?\s*\d\d:\d\d:\d\d\.\d+)`)
	idx := stamp.FindAllSubmatchIndex(b, -1)
	for k, m := range idx {
		end := len(b)
		if k+1 < len(idx) {
			end = idx[k+1][0]
		}
		msg := b[m[1]:end]
		if !bytes.Contains(msg, []byte("message received")) {
			continue
		}
		body := msg[bytes.Index(msg, []byte("received")):]
		line := body
		if i := bytes.Index(body, []byte("\n\n")); i >= 0 {
			line = body[i+2:]
		}
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("INVITE ")) {
			continue
		}
		at, err := parseSippTime(string(b[m[2]:m[3]]))
		if err != nil {
			return nil, err
		}
		out = append(out, wireInvite{at: at, from: fromUser(line), agent: requestUser(line)})
	}
	return out, nil
}

func parseSippTime(s string) (time.Time, error) {
	s = strings.Join(strings.Fields(s), " ")
	t, err := time.ParseInLocation("2006-01-02 15:04:05.000000", s, time.Local)
	if err != nil {
		return time.Time{}, fmt.Errorf("sipp's message log time %q: %w", s, err)
	}
	return t, nil
}

var (
	fromRE = regexp.MustCompile(`(?mi)^(?:From|f)\s*:[^\n]*?sip:([^@;>\s]+)@`)
	ruriRE = regexp.MustCompile(`^\s*INVITE sip:([^@;>\s]+)@`)
)

func fromUser(msg []byte) string {
	if m := fromRE.FindSubmatch(msg); m != nil {
		return string(m[1])
	}
	return ""
}

func requestUser(msg []byte) string {
	if m := ruriRE.FindSubmatch(msg); m != nil {
		return string(m[1])
	}
	return ""
}

// syncBuffer is what the daemon prints (the setup code).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sippOpts are the options every sipp of this bench runs with.
var sippOpts = []string{"-max_socket", "1024"}

func startSipp(ctx context.Context, bin, dir, name, ip string, port int, args ...string) (*benchkit.Sipp, error) {
	return benchkit.StartSipp(ctx, bin, nil, dir, name, ip, port, append(slices.Clone(sippOpts), args...)...)
}
