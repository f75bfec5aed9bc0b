package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

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
	return &recorder{events: make(chan event, 256), onOffered: onOffered}
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
	rec := newRecorder(onOffered)
	p := newPorts()
	e, err := New(cfg, Deps{Directory: dir, Handler: rec, RTP: p, Observer: rec})
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
	bin := needSipp(t)
	dir := t.TempDir()
	port := freeUDPPort(t)
	full := append([]string{
		"-sf", filepath.Join("testdata", scenario),
		"-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-m", "1", "-timeout", "15s", "-timeout_error", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "err.log"),
	}, args...)
	full = append(full, addr.String())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, full...)
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("sipp did not finish: %w", ctx.Err())
	}
	if err != nil {
		errlog, _ := exec.Command("tail", "-n", "40", filepath.Join(dir, "err.log")).Output()
		return string(out) + "\n--- sipp errors ---\n" + string(errlog), err
	}
	return string(out), nil
}
