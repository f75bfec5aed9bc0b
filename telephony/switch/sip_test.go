package callswitch_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/board/sim"
	"callbox/dsp/dtmf"
	"callbox/dsp/tone"
	"callbox/telephony/media"
	"callbox/telephony/sip"
	callswitch "callbox/telephony/switch"
	"callbox/telephony/switch/cdr"
	"callbox/telephony/switch/dialplan"
)

// sipLeg is an in-memory SIP leg: it records what the switch asked of it.
type sipLeg struct {
	id, ext, trunk string
	dir            sip.Direction
	from, to       sip.Party

	mu  sync.Mutex
	ops []string
}

func (l *sipLeg) op(s string) error {
	l.mu.Lock()
	l.ops = append(l.ops, s)
	l.mu.Unlock()
	return nil
}

func (l *sipLeg) did(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.ops, s)
}

func (l *sipLeg) ID() string                   { return l.id }
func (l *sipLeg) Direction() sip.Direction     { return l.dir }
func (l *sipLeg) Extension() string            { return l.ext }
func (l *sipLeg) Trunk() string                { return l.trunk }
func (l *sipLeg) From() sip.Party              { return l.from }
func (l *sipLeg) To() sip.Party                { return l.to }
func (l *sipLeg) Ringing(early bool) error     { return l.op(fmt.Sprint("ringing ", early)) }
func (l *sipLeg) Answer() error                { return l.op("answer") }
func (l *sipLeg) Reject(c sip.Cause) error     { return l.op("reject " + c.String()) }
func (l *sipLeg) Hangup() error                { return l.op("hangup") }
func (l *sipLeg) Hold(context.Context) error   { return l.op("hold") }
func (l *sipLeg) Resume(context.Context) error { return l.op("resume") }

// rtp stands in for a leg's RTP stream: it plays queued audio and detects
// the DTMF it is sent.
type rtp struct {
	mu     sync.Mutex
	out    []int16
	det    *dtmf.Detector
	evs    []dtmf.Event
	digits string
	closed bool
}

func (e *rtp) ReadFrame(f []int16) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := copy(f, e.out)
	e.out = e.out[n:]
	clear(f[n:])
}

func (e *rtp) WriteFrame(f []int16) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = e.det.Process(f, e.evs[:0])
	for _, ev := range e.evs {
		if ev.Kind == dtmf.DigitStart {
			e.digits += string(ev.Digit)
		}
	}
}

func (e *rtp) send(t *testing.T, digits string) {
	x, err := dtmf.Synthesize(digits, dtmf.DefaultGeneratorConfig())
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.out = append(e.out, x...)
	e.mu.Unlock()
}

// got reports whether digits were detected, without taking them.
func (e *rtp) got(digits string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Contains(e.digits, digits)
}

func (e *rtp) heard() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := e.digits
	e.digits = ""
	return d
}

// dialer places in-memory legs; trunks named "down" refuse.
type dialer struct {
	// early, if set, sees each leg before Dial returns it (a peer that
	// answers or refuses at once).
	early func(*sipLeg)
	// quiet gives legs silent endpoints without detectors (benchmarks).
	quiet bool
	// oob gives legs endpoints with RFC 4733 (oobRTP); noEvents lists
	// the legs whose peers did not negotiate telephone-event.
	oob      bool
	noEvents map[string]bool
	oobs     map[string]*oobRTP
	opened   int
	mu       sync.Mutex
	n        int
	reqs     []sip.DialRequest
	legs     []*sipLeg
	media    map[string]*rtp
}

func (d *dialer) Dial(_ context.Context, req sip.DialRequest) (callswitch.SIPLeg, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reqs = append(d.reqs, req)
	if req.Trunk == "down" {
		return nil, errors.New("trunk down")
	}
	d.n++
	l := &sipLeg{id: fmt.Sprintf("out%d", d.n), ext: req.Extension, trunk: req.Trunk, dir: sip.Outbound,
		to: sip.Party{User: req.Number}, from: req.From}
	d.legs = append(d.legs, l)
	if d.early != nil {
		d.early(l)
	}
	return l, nil
}

func (d *dialer) OpenMedia(l callswitch.SIPLeg) (media.Endpoint, func(), error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.opened++
	if d.quiet {
		return silence{}, func() {}, nil
	}
	if d.media == nil {
		d.media = map[string]*rtp{}
	}
	e := &rtp{det: dtmf.NewDetector(dtmf.DetectorConfig{})}
	d.media[l.ID()] = e
	if d.oob {
		if d.oobs == nil {
			d.oobs = map[string]*oobRTP{}
		}
		o := &oobRTP{rtp: e, events: !d.noEvents[l.ID()]}
		d.oobs[l.ID()] = o
		return o, func() {}, nil
	}
	return e, func() {
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
	}, nil
}

func (d *dialer) rtp(id string) *rtp {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.media[id]
}

func (d *dialer) last() (*sipLeg, []sip.DialRequest) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.legs) == 0 {
		return nil, slices.Clone(d.reqs)
	}
	return d.legs[len(d.legs)-1], slices.Clone(d.reqs)
}

// until runs the rig until cond holds (the switch's SIP requests run on
// goroutines of their own, so real time passes too).
func (r *rig) until(what string, cond func() bool) {
	r.t.Helper()
	// Bounded in real time, not in ticks: on a loaded machine the SIP
	// goroutines may lag the virtual clock.
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		if cond() {
			return
		}
		r.run(10 * time.Millisecond)
		time.Sleep(time.Millisecond)
	}
	r.t.Fatalf("gave up waiting for %s", what)
}

func newSIPRig(t *testing.T) (*rig, *dialer) {
	d := &dialer{}
	pc := defaultPlan()
	pc.Extensions = append(pc.Extensions, "205")
	pc.Routes = append(pc.Routes, dialplan.Route{Name: "carrier", Patterns: []string{"8X."}, Strip: 1,
		CallerID: "01088886666", Trunks: []string{"down", "carrier"}})
	exts := append(defaultExts(), callswitch.Extension{Number: "205", Name: "SOFT 205"})
	r := newRig(t, rigOpt{exts: exts, plan: pc, sip: d, inbound: map[string]string{"carrier": "203"}})
	t.Cleanup(func() { r.sw.Close() })
	return r, d
}

// A softphone registered as 205 calls analog 201 and they talk.
func TestSIPExtensionCallsAnalog(t *testing.T) {
	r, d := newSIPRig(t)
	ev := r.sw.SIPEvents()
	leg := &sipLeg{id: "in1", ext: "205", dir: sip.Inbound, from: sip.Party{User: "205", Display: "SOFT 205"}, to: sip.Party{User: "201"}}
	ev.Offered(leg)
	r.run(8 * time.Second)
	if cid := r.phone("201").CallerID(); len(cid) != 1 || cid[0].Number != "205" || cid[0].Name != "SOFT 205" {
		t.Fatalf("201 read caller ID %+v", cid)
	}
	r.until("180 Ringing", func() bool { return leg.did("ringing false") })
	r.phone("201").OffHook()
	r.until("200 OK", func() bool { return leg.did("answer") })
	ev.Answered(leg) // the ACK
	r.run(300 * time.Millisecond)
	m := d.rtp("in1")
	if m == nil {
		t.Fatal("no media opened for the leg")
	}
	m.send(t, "37")
	r.phone("201").ClearHeard()
	r.run(time.Second)
	if got := r.phone("201").HeardDigits(); got != "37" {
		t.Fatalf("201 heard %q from the softphone", got)
	}
	m.heard()
	r.phone("201").Dial("4")
	r.run(time.Second)
	if got := m.heard(); got != "4" {
		t.Fatalf("softphone heard %q from 201", got)
	}
	ev.HungUp(leg, sip.CauseNormal)
	r.hearsTone("201", tone.Busy)
	r.hangup("201")
	if leg.did("hangup") {
		t.Fatal("the switch hung up a leg that had ended")
	}
	r.checkCDRs(wantCDR{cdr.Answered, "205", "201", "sip/in1", "normal", "sip/in1,fxs1", true})
}

// Analog 201 calls softphone 205: the switch dials the extension, and the
// answer bridges them; 201's hang-up sends BYE.
func TestAnalogCallsSIPExtension(t *testing.T) {
	r, d := newSIPRig(t)
	r.dial("201", "205")
	var leg *sipLeg
	r.until("the dial", func() bool { leg, _ = d.last(); return leg != nil })
	_, reqs := d.last()
	if reqs[0].Extension != "205" || reqs[0].From.User != "201" || reqs[0].From.Display != "EXT 201" {
		t.Fatalf("dial request %+v", reqs[0])
	}
	r.hearsTone("201", tone.Ringback)
	r.sw.SIPEvents().Answered(leg)
	r.until("media", func() bool { return d.rtp(leg.id) != nil })
	m := d.rtp(leg.id)
	r.run(300 * time.Millisecond)
	m.send(t, "9")
	r.phone("201").ClearHeard()
	r.run(time.Second)
	if got := r.phone("201").HeardDigits(); got != "9" {
		t.Fatalf("201 heard %q", got)
	}
	r.hangup("201")
	r.until("BYE", func() bool { return leg.did("hangup") })
	r.sw.SIPEvents().HungUp(leg, sip.CauseNormal)
	r.run(100 * time.Millisecond)
	r.checkCDRs(wantCDR{cdr.Answered, "201", "205", "fxs1", "normal", "fxs1,sip/out1", true})
}

// A SIP trunk route: the first trunk refuses, the second carries the
// call with the route's caller ID and the access code stripped; the far
// end is busy.
func TestSIPTrunkFailoverBusy(t *testing.T) {
	r, d := newSIPRig(t)
	r.dial("201", "813800138000")
	r.run(5 * time.Second)
	var leg *sipLeg
	r.until("the dial", func() bool { leg, _ = d.last(); return leg != nil })
	_, reqs := d.last()
	if len(reqs) != 2 || reqs[0].Trunk != "down" || reqs[1].Trunk != "carrier" || reqs[1].Number != "13800138000" || reqs[1].From.User != "01088886666" {
		t.Fatalf("dial requests %+v", reqs)
	}
	r.sw.SIPEvents().HungUp(leg, sip.CauseBusy)
	r.hearsTone("201", tone.Busy)
	r.hangup("201")
	r.checkCDRs(wantCDR{cdr.Busy, "201", "813800138000", "carrier", "busy", "fxs1,sip/out1", false})
}

// A call from the trunk for DID 202 rings 202; one for a number that is
// no extension goes to the trunk's destination (203). The caller gives up:
// cancelled.
func TestSIPTrunkInbound(t *testing.T) {
	r, _ := newSIPRig(t)
	ev := r.sw.SIPEvents()
	for i, c := range []struct{ did, ext string }{{"202", "202"}, {"01088886666", "203"}} {
		leg := &sipLeg{id: fmt.Sprint("trunk", i), trunk: "carrier", dir: sip.Inbound,
			from: sip.Party{User: "13912345678"}, to: sip.Party{User: c.did}}
		ev.Offered(leg)
		r.run(7 * time.Second)
		p := r.phone(c.ext)
		if cid := p.CallerID(); len(cid) == 0 || cid[len(cid)-1].Number != "13912345678" {
			t.Fatalf("%s read caller ID %+v", c.ext, cid)
		}
		ev.HungUp(leg, sip.CauseCancelled)
		r.run(6 * time.Second)
		if p.Ringing() {
			t.Fatalf("%s rings on", c.ext)
		}
		recs := r.cdr()
		if len(recs) != 1 || recs[0].Disposition != cdr.Cancelled || recs[0].To != c.ext || recs[0].Trunk != "carrier" {
			t.Fatalf("CDR %+v", recs)
		}
	}
}

// A SIP phone's blind REFER sends its far party (analog 201) to 203.
func TestSIPBlindTransfer(t *testing.T) {
	r, _ := newSIPRig(t)
	ev := r.sw.SIPEvents()
	leg := &sipLeg{id: "in1", ext: "205", dir: sip.Inbound, from: sip.Party{User: "205"}, to: sip.Party{User: "201"}}
	ev.Offered(leg)
	r.run(time.Second)
	r.phone("201").OffHook()
	r.until("200 OK", func() bool { return leg.did("answer") })
	r.run(300 * time.Millisecond)
	if err := ev.Transfer(leg, sip.Transfer{User: "203"}); err != nil {
		t.Fatal(err)
	}
	r.until("BYE to the transferor", func() bool { return leg.did("hangup") })
	if !leg.did("notify 200") {
		t.Fatal("no final NOTIFY to the transferor")
	}
	r.hearsTone("201", tone.Ringback)
	r.phone("203").OffHook()
	r.run(300 * time.Millisecond)
	r.hears("203", "2", "201")
	r.hangup("201", "203")
	got := r.cdr()
	var s []string
	for _, c := range got {
		s = append(s, c.Disposition.String()+" "+c.From+"->"+c.To+" "+c.Cause)
	}
	if strings.Join(s, "; ") != "answered 205->201 transferred; answered 201->203 normal" {
		t.Fatalf("CDRs: %s", strings.Join(s, "; "))
	}
}

// Two softphones talk through the switch with no board at all: the
// switch runs on media's virtual clock.
func TestSIPToSIPOnVirtualClock(t *testing.T) {
	pc := defaultPlan()
	pc.Extensions = append(pc.Extensions, "205", "206")
	plan, err := dialplan.New(pc)
	if err != nil {
		t.Fatal(err)
	}
	clk := sim.VirtualClock()
	mem := &cdr.Memory{}
	d := &dialer{}
	sw, err := callswitch.New(callswitch.Config{Plan: plan, Clock: clk, CDR: mem,
		Extensions: []callswitch.Extension{{Number: "205"}, {Number: "206"}}}, media.NewEngine(media.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	sw.SetSIP(d) // as firmware/app does, once the endpoint exists
	var v media.Virtual
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- sw.Run(ctx, &v) }()
	for !v.Running() {
		time.Sleep(time.Millisecond)
	}
	step := func(what string, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
			if cond() {
				return
			}
			clk.Advance(10 * time.Millisecond)
			if err := v.Step(1); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Microsecond)
		}
		t.Fatalf("gave up waiting for %s", what)
	}
	ev := sw.SIPEvents()
	in := &sipLeg{id: "in1", ext: "205", dir: sip.Inbound, from: sip.Party{User: "205"}, to: sip.Party{User: "206"}}
	ev.Offered(in)
	var out *sipLeg
	step("the dial to 206", func() bool { out, _ = d.last(); return out != nil })
	step("180 to 205", func() bool { return in.did("ringing false") })
	ev.Answered(out)
	step("200 to 205", func() bool { return in.did("answer") })
	step("media", func() bool { return d.rtp("in1") != nil && d.rtp(out.id) != nil })
	a, b := d.rtp("in1"), d.rtp(out.id)
	a.send(t, "12")
	b.send(t, "34")
	step("the digits", func() bool {
		return b.got("12") && a.got("34")
	})
	ev.HungUp(out, sip.CauseNormal)
	step("BYE to 205", func() bool { return in.did("hangup") })
	cancel()
	if err := <-ran; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	sw.Close()
	recs := mem.Records()
	if len(recs) != 1 || recs[0].Disposition != cdr.Answered || recs[0].From != "205" || recs[0].To != "206" || len(recs[0].Legs) != 2 {
		t.Fatalf("CDRs %+v", recs)
	}
}

// A SIP phone (205) talks to 201, calls 202 as a consultation, and sends
// REFER with Replaces: 201 and 202 talk.
func TestSIPAttendedTransfer(t *testing.T) {
	r, _ := newSIPRig(t)
	ev := r.sw.SIPEvents()
	l1 := &sipLeg{id: "in1", ext: "205", dir: sip.Inbound, from: sip.Party{User: "205"}, to: sip.Party{User: "201"}}
	ev.Offered(l1)
	r.run(time.Second)
	r.phone("201").OffHook()
	r.until("200 OK on the first call", func() bool { return l1.did("answer") })
	ev.Held(l1, true)
	r.hearsMusic("201")
	l2 := &sipLeg{id: "in2", ext: "205", dir: sip.Inbound, from: sip.Party{User: "205"}, to: sip.Party{User: "202"}}
	ev.Offered(l2)
	r.run(time.Second)
	r.phone("202").OffHook()
	r.until("200 OK on the consultation", func() bool { return l2.did("answer") })
	r.run(300 * time.Millisecond)
	if err := ev.Transfer(l2, sip.Transfer{User: "201", Replaces: &sip.Replaces{CallID: "call-nobody"}}); err != nil {
		t.Fatal(err)
	}
	r.until("481 for an unknown dialog", func() bool { return l2.did("notify 481") })
	if err := ev.Transfer(l1, sip.Transfer{User: "202", Replaces: &sip.Replaces{CallID: "call-in2"}}); err != nil {
		t.Fatal(err)
	}
	r.until("BYE on both dialogs", func() bool { return l1.did("hangup") && l2.did("hangup") })
	if !l1.did("notify 200") {
		t.Fatal("no final NOTIFY on the REFER's dialog")
	}
	r.hears("201", "5", "202")
	r.hears("202", "6", "201")
	r.hangup("201", "202")
	var s []string
	for _, c := range r.cdr() {
		var legs []string
		for _, l := range c.Legs {
			legs = append(legs, l.Channel)
		}
		s = append(s, c.Disposition.String()+" "+c.From+"->"+c.To+" "+c.Cause+" "+strings.Join(legs, ","))
	}
	if got := strings.Join(s, "; "); got != "answered 205->201 transferred sip/in1,fxs1; answered 205->202 normal sip/in2,fxs2,fxs1" {
		t.Fatalf("CDRs: %s", got)
	}
}

func (l *sipLeg) CallID() string { return "call-" + l.id }

func (l *sipLeg) NotifyTransfer(status int, _ string) error {
	return l.op(fmt.Sprint("notify ", status))
}

// A peer that refuses before Dial has even returned: the switch still
// learns of it and ends the call busy.
func TestSIPLegEndsBeforeDialReturns(t *testing.T) {
	r, d := newSIPRig(t)
	d.early = func(l *sipLeg) { r.sw.SIPEvents().HungUp(l, sip.CauseBusy) }
	r.dial("201", "205")
	r.hearsTone("201", tone.Busy)
	r.hangup("201")
	r.checkCDRs(wantCDR{cdr.Busy, "201", "205", "fxs1", "busy", "fxs1,sip/out1", false})
	if n := r.calls(); n != 0 {
		t.Fatalf("%d calls left", n)
	}
}

// A peer that answers before Dial has returned: the answer waits for the
// leg and then bridges.
func TestSIPLegAnsweredBeforeDialReturns(t *testing.T) {
	r, d := newSIPRig(t)
	d.early = func(l *sipLeg) { r.sw.SIPEvents().Answered(l) }
	r.dial("201", "205")
	r.until("media", func() bool { return d.rtp("out1") != nil })
	r.run(300 * time.Millisecond)
	m := d.rtp("out1")
	m.heard() // the tail of the last dialled digit may reach an instant answer
	r.phone("201").Dial("8")
	r.run(time.Second)
	if got := m.heard(); got != "8" {
		t.Fatalf("the softphone heard %q", got)
	}
	r.hangup("201")
	leg, _ := d.last()
	r.until("BYE", func() bool { return leg.did("hangup") })
}

func (d *dialer) openedMedia() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.opened
}
