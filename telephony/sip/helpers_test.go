package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"callbox/telephony/sip/registrar"
	"callbox/telephony/sip/sdpneg"
)

type directory map[string]string

func (d directory) Extension(user string) (Extension, bool) {
	p, ok := d[user]
	return Extension{Number: user, Password: p}, ok
}

// ports hands out RTP addresses and checks that every one comes back.
type ports struct {
	mu   sync.Mutex
	next uint16
	out  map[netip.AddrPort]bool
}

func newPorts() *ports { return &ports{next: 40000, out: map[netip.AddrPort]bool{}} }

func (p *ports) AllocRTP() (netip.AddrPort, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next += 2
	a := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), p.next)
	p.out[a] = true
	return a, nil
}

func (p *ports) ReleaseRTP(a netip.AddrPort) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.out[a] {
		panic(fmt.Sprintf("release of %v not allocated", a))
	}
	delete(p.out, a)
}

func (p *ports) outstanding() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.out)
}

// event is one CallHandler or observer call, flattened for assertions.
type event struct {
	kind  string
	leg   *Leg
	cause Cause
	media sdpneg.Media
	digit byte
	xfer  Transfer
	code  int
	bind  registrar.Binding
}

// recorder is the test call handler: a scripted switch.
type recorder struct {
	events chan event
	// onOffered decides what to do with an inbound leg.
	onOffered func(l *Leg)
	transfer  error
}

func newRecorder(onOffered func(l *Leg)) *recorder {
	return &recorder{events: make(chan event, 1<<12), onOffered: onOffered}
}

func (r *recorder) Offered(l *Leg) {
	r.events <- event{kind: "offered", leg: l}
	if r.onOffered != nil {
		r.onOffered(l)
	}
}
func (r *recorder) Progress(l *Leg, code int, early bool) {
	r.events <- event{kind: "progress", leg: l, code: code}
}
func (r *recorder) Answered(l *Leg) { r.events <- event{kind: "answered", leg: l} }
func (r *recorder) MediaChanged(l *Leg, m sdpneg.Media) {
	r.events <- event{kind: "media", leg: l, media: m}
}
func (r *recorder) DTMF(l *Leg, d byte, _ time.Duration) {
	r.events <- event{kind: "dtmf", leg: l, digit: d}
}
func (r *recorder) Transfer(l *Leg, t Transfer) error {
	r.events <- event{kind: "transfer", leg: l, xfer: t}
	return r.transfer
}
func (r *recorder) HungUp(l *Leg, c Cause) { r.events <- event{kind: "hungup", leg: l, cause: c} }
func (r *recorder) Registered(b registrar.Binding) {
	r.events <- event{kind: "registered", bind: b}
}
func (r *recorder) Unregistered(b registrar.Binding, reason string) {
	r.events <- event{kind: "unregistered:" + reason, bind: b}
}

// next waits for the next event of a kind, skipping others.
func (r *recorder) next(t *testing.T, kind string, within time.Duration) event {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-r.events:
			if ev.kind == kind {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %q event within %v", kind, within)
		}
	}
}

// all waits for one event of each kind, in any order, skipping others.
func (r *recorder) all(t *testing.T, within time.Duration, kinds ...string) map[string]event {
	t.Helper()
	got := map[string]event{}
	deadline := time.After(within)
	for len(got) < len(kinds) {
		select {
		case ev := <-r.events:
			for _, k := range kinds {
				if ev.kind == k {
					if _, dup := got[k]; !dup {
						got[k] = ev
					}
				}
			}
		case <-deadline:
			t.Fatalf("within %v got only %d of %q", within, len(got), kinds)
		}
	}
	return got
}

// drain returns the events received so far.
func (r *recorder) drain() []event {
	var out []event
	for {
		select {
		case ev := <-r.events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

type testBox struct {
	*Endpoint
	rec   *recorder
	ports *ports
}

func startBox(t *testing.T, cfg Config, dir directory, onOffered func(*Leg)) *testBox {
	t.Helper()
	if cfg.UDP == "" && cfg.TCP == "" {
		cfg.UDP, cfg.TCP = "127.0.0.1:0", "127.0.0.1:0"
	}
	if cfg.KeepaliveInterval == 0 {
		cfg.KeepaliveInterval = -1
	}
	return startBoxClock(t, cfg, dir, onOffered, nil)
}

func startBoxClock(t *testing.T, cfg Config, dir directory, onOffered func(*Leg), clock Clock) *testBox {
	t.Helper()
	return startBoxWith(t, cfg, dir, onOffered, clock, nil)
}

// startBoxWith starts a box with an optional clock and logger.
func startBoxWith(t *testing.T, cfg Config, dir directory, onOffered func(*Leg), clock Clock, log *slog.Logger) *testBox {
	t.Helper()
	if testing.Short() {
		t.Skip("opens sockets")
	}
	if cfg.UDP == "" && cfg.TCP == "" {
		cfg.UDP, cfg.TCP = "127.0.0.1:0", "127.0.0.1:0"
	}
	if cfg.KeepaliveInterval == 0 {
		cfg.KeepaliveInterval = -1
	}
	rec := newRecorder(onOffered)
	p := newPorts()
	e, err := New(cfg, Deps{Directory: dir, Handler: rec, RTP: p, Observer: rec, Clock: clock, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return &testBox{Endpoint: e, rec: rec, ports: p}
}

// needSipp skips under -short and fails naming the Debian package otherwise.
func needSipp(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("sipp tests start processes and open sockets")
	}
	p, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatal("sipp not found: install the Debian package sip-tester")
	}
	return p
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// sipp runs one scenario from testdata against addr, bounded in time, and
// returns its output; err is non-nil when any call failed.
func sipp(t *testing.T, scenario string, addr netip.AddrPort, args ...string) (string, error) {
	t.Helper()
	if number := authedCall(t, scenario); number != "" {
		// sipp's digest uri is remote_ip:remote_port unless told
		// otherwise; the box requires the Request-URI (replay defence).
		args = append([]string{"-auth_uri", number + "@" + addr.String()}, args...)
	}
	return sippAt(t, freeUDPPort(t), scenario, append(args, addr.String())...)()
}

var inviteTarget = regexp.MustCompile(`INVITE sip:([^@\s]+)@\[remote_ip\]`)

// authedCall returns the number a scenario calls with credentials, if any.
func authedCall(t *testing.T, scenario string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	if m := inviteTarget.FindSubmatch(b); m != nil && bytes.Contains(b, []byte("[authentication]")) {
		return string(m[1])
	}
	return ""
}

// sippAt starts sipp on a local port and returns a function waiting for it.
func sippAt(t *testing.T, port int, scenario string, args ...string) func() (string, error) {
	t.Helper()
	bin := needSipp(t)
	dir := t.TempDir()
	full := append([]string{
		"-sf", filepath.Join("testdata", scenario),
		"-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-m", "1", "-timeout", "15s", "-timeout_error", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "err.log"),
	}, args...)
	// A later -timeout in args wins in sipp; the guard follows it.
	limit := 15 * time.Second
	for i := len(args) - 2; i >= 0; i-- {
		if args[i] == "-timeout" {
			if d, err := time.ParseDuration(args[i+1]); err == nil {
				limit = d
			}
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit+5*time.Second)
	cmd := exec.CommandContext(ctx, bin, full...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	return func() (string, error) {
		defer cancel()
		err := cmd.Wait()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("sipp did not finish: %w", ctx.Err())
		}
		if err != nil {
			errlog, _ := os.ReadFile(filepath.Join(dir, "err.log"))
			return out.String() + "\n--- sipp errors ---\n" + string(errlog), err
		}
		return out.String(), nil
	}
}

// fakeClock is a settable clock for expiry tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// phone is a SIP user agent built on sipgo for tests that need a peer
// sipp cannot play (SHA-256 digest, replayed credentials, keepalives).
type phone struct {
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cl   *sipgo.Client
	conn net.PacketConn
	addr netip.AddrPort
	// options counts OPTIONS received (keepalive probes).
	mu      sync.Mutex
	options int
}

func newPhone(t *testing.T) *phone {
	t.Helper()
	if testing.Short() {
		t.Skip("opens sockets")
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{conn: conn, addr: netip.MustParseAddrPort(conn.LocalAddr().String())}
	p.ua, _ = sipgo.NewUA(sipgo.WithUserAgent("testphone"), sipgo.WithUserAgentHostname("127.0.0.1"))
	p.srv, _ = sipgo.NewServer(p.ua)
	p.cl, _ = sipgo.NewClient(p.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(p.addr.String()))
	p.srv.OnOptions(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		p.mu.Lock()
		p.options++
		p.mu.Unlock()
		tx.Respond(sipmsg.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go p.srv.ServeUDP(conn)
	waitPooled(p.ua.TransportLayer())
	t.Cleanup(func() { p.close() })
	return p
}

func (p *phone) close() {
	p.conn.Close()
	p.ua.Close()
}

func (p *phone) optionsSeen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.options
}

// register sends a REGISTER for user with the given contact and extra
// headers; it returns the final response.
func (p *phone) register(t *testing.T, box netip.AddrPort, user, contact string, cseq uint32, callID string, hdrs ...sipmsg.Header) *sipmsg.Response {
	t.Helper()
	req := sipmsg.NewRequest(sipmsg.REGISTER, sipmsg.Uri{Scheme: "sip", Host: box.Addr().String(), Port: int(box.Port())})
	aor := sipmsg.Uri{Scheme: "sip", User: user, Host: box.Addr().String()}
	from := &sipmsg.FromHeader{Address: aor, Params: sipmsg.NewParams()}
	from.Params.Add("tag", "ph"+strconv.Itoa(int(cseq)))
	req.AppendHeader(from)
	req.AppendHeader(&sipmsg.ToHeader{Address: aor})
	cid := sipmsg.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: cseq, MethodName: sipmsg.REGISTER})
	if contact != "" {
		req.AppendHeader(sipmsg.NewHeader("Contact", contact))
	}
	req.AppendHeader(sipmsg.NewHeader("User-Agent", "testphone"))
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	// A phone's patience (Timer F), not a speed test: under -race on a
	// loaded machine the box may still be working through a flood's
	// datagrams queued before this one.
	ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
	defer cancel()
	res, err := p.cl.Do(ctx, req)
	if err != nil {
		t.Fatalf("REGISTER: %v", err)
	}
	return res
}

// waitBound waits until something (sipp) has bound a UDP port on loopback.
// It reads /proc/net/udp rather than probing with bind, which could steal
// the port from sipp.
func waitBound(t *testing.T, port int) {
	t.Helper()
	want := fmt.Sprintf(":%04X ", port)
	for i := 0; i < 500; i++ {
		tab, err := os.ReadFile("/proc/net/udp")
		if err != nil {
			time.Sleep(200 * time.Millisecond) // not Linux: give sipp time
			return
		}
		for _, line := range strings.Split(string(tab), "\n") {
			f := strings.Fields(line)
			if len(f) > 1 && strings.HasSuffix(f[1]+" ", want) {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("nothing bound udp port %d within 5s", port)
}

func contextBackground() context.Context { return context.Background() }
