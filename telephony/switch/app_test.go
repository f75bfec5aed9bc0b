package callswitch_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/dsp/callerid"
	"callbox/telephony/sip"
	callswitch "callbox/telephony/switch"
	"callbox/telephony/switch/dialplan"
)

// testApp is an application that takes every call offered and records
// the events of its calls.
type testApp struct {
	mu     sync.Mutex
	offers []callswitch.Incoming
	calls  []*callswitch.AppCall
	evs    []string
	caller map[*callswitch.AppCall]callswitch.LegID
	// decline leaves calls from these channels to the switch.
	decline map[string]bool
}

func newTestApp() *testApp {
	return &testApp{caller: map[*callswitch.AppCall]callswitch.LegID{}, decline: map[string]bool{}}
}

func (a *testApp) Offer(in callswitch.Incoming) callswitch.AppHandler {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.offers = append(a.offers, in)
	if a.decline[in.Channel] {
		return nil
	}
	return a
}

func (a *testApp) AppEvent(c *callswitch.AppCall, ev callswitch.AppEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ev.Kind == callswitch.AppStarted {
		a.calls = append(a.calls, c)
		a.caller[c] = ev.Leg
	}
	s := fmt.Sprintf("%d %s", ev.Leg, ev.Kind)
	switch ev.Kind {
	case callswitch.AppDigit:
		s += " " + string(ev.Digit)
	case callswitch.AppLegEnded, callswitch.AppEnded:
		s += " " + ev.Cause.String()
	case callswitch.AppAnswered, callswitch.AppStarted, callswitch.AppJoined:
		if ev.Channel != "" {
			s += " " + ev.Channel
		}
	}
	a.evs = append(a.evs, s)
}

// events returns the events recorded since the last call, and clears.
func (a *testApp) events() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.evs
	a.evs = nil
	return e
}

func (a *testApp) has(ev string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Contains(a.evs, ev)
}

func (a *testApp) call(i int) (*callswitch.AppCall, callswitch.LegID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if i >= len(a.calls) {
		return nil, 0
	}
	return a.calls[i], a.caller[a.calls[i]]
}

// sine is n samples of a tone at hz, amplitude amp.
func sine(hz, amp float64, n int) []int16 {
	x := make([]int16, n)
	for i := range x {
		x[i] = int16(amp * math.Sin(2*math.Pi*hz*float64(i)/8000))
	}
	return x
}

// hears reports which of the frequencies fs carry a real share of the
// audio x (Goertzel): each is heard when it holds at least 5 % of the
// power of a signal that is not silence.
func hears(x []int16, fs ...float64) string {
	var p float64
	for _, v := range x {
		p += float64(v) * float64(v)
	}
	if len(x) == 0 || p/float64(len(x)) < 100 { // below about -50 dBm0: silence
		return "silence"
	}
	var got []string
	for _, f := range fs {
		if share(x, f) > 0.05 {
			got = append(got, fmt.Sprint(f))
		}
	}
	return strings.Join(got, "+")
}

// Voices of the parties: a tone each, none a DTMF frequency.
const (
	callerHz = 500
	agentHz  = 1100
	supHz    = 1800
)

// An FXO call handed to an application: it answers, plays a beep that the
// exchange hears and that ends on its own, collects the exchange's DTMF,
// rings an agent's analog phone with the customer's number as caller ID,
// and talks: audio both ways, the agent's digits the application's and
// never the caller's. The agent hangs up, the application ends the call,
// and one CDR names both legs.
func TestAppCallOnLine(t *testing.T) {
	r := newRig(t, rigOpt{inbound: map[string]string{"fxo1": "201"}})
	app := newTestApp()
	r.sw.SetApplication(app)
	co := r.co("fxo1")
	if err := co.Ring(siCall(&callerid.Message{Format: callerid.MDMF, Number: "13800138000"})); err != nil {
		t.Fatal(err)
	}
	r.until("the offer", func() bool { c, _ := app.call(0); return c != nil })
	ac, caller := app.call(0)
	if in := app.offers[0]; in.Kind != callswitch.FromLine || in.Channel != "fxo1" || in.Trunk != "fxo1" || in.From.Number != "13800138000" {
		t.Fatalf("offer %+v", in)
	}
	if r.phone("201").Ringing() {
		t.Fatal("the line's extension rings: the application took the call")
	}
	ac.Answer(caller)
	r.run(time.Second)
	if !co.Answered() {
		t.Fatal("the box did not answer the line")
	}
	done := make(chan bool, 1)
	co.Record(8000 * 3)
	ac.Play(caller, callswitch.Beep(1000, 600*time.Millisecond), func(ok bool) { done <- ok })
	r.run(time.Second)
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("the beep was stopped")
		}
	default:
		t.Fatal("the beep never ended")
	}
	if got := hears(co.Heard(), 1000); got != "1000" {
		t.Fatalf("the exchange heard %s, want the beep", got)
	}
	app.events()
	if err := co.SendDTMF("42"); err != nil {
		t.Fatal(err)
	}
	r.run(time.Second)
	if ev := app.events(); !slices.Equal(ev, []string{fmt.Sprint(caller, " digit 4"), fmt.Sprint(caller, " digit 2")}) {
		t.Fatalf("events %v, want the digits 4 and 2", ev)
	}

	agent := ac.Originate(callswitch.Originate{Extension: "202", CallerID: callswitch.Party{Number: "13800138000", Name: "ZHANG SAN"}, Mode: callswitch.ModeTalk})
	ac.SetMode(caller, callswitch.ModeTalk, 0)
	r.run(6 * time.Second)
	p := r.phone("202")
	if cid := p.CallerID(); len(cid) == 0 || cid[0].Number != "13800138000" {
		t.Fatalf("the agent's phone read caller ID %+v", cid)
	}
	if !app.has(fmt.Sprint(agent, " ringing")) {
		t.Fatalf("no ringing event: %v", app.events())
	}
	p.OffHook()
	r.run(500 * time.Millisecond)
	if !app.has(fmt.Sprint(agent, " answered fxs2")) {
		t.Fatalf("no answer event: %v", app.events())
	}
	co.Record(8000 * 2)
	co.Play(sine(callerHz, 6000, 8000*2))
	p.Speak(sine(agentHz, 6000, 8000*2))
	p.ClearHeard()
	r.run(2 * time.Second)
	if got := hears(p.Heard()[4000:], callerHz, agentHz); got != "500" {
		t.Errorf("the agent heard %s, want the caller (500)", got)
	}
	if got := hears(co.Heard()[4000:], callerHz, agentHz); got != "1100" {
		t.Errorf("the caller heard %s, want the agent (1100)", got)
	}
	app.events()
	before := co.Digits()
	if err := p.Dial("*1"); err != nil {
		t.Fatal(err)
	}
	r.run(time.Second)
	if ev := app.events(); !slices.Equal(ev, []string{fmt.Sprint(agent, " digit *"), fmt.Sprint(agent, " digit 1")}) {
		t.Fatalf("events %v, want the agent's * and 1", ev)
	}
	if got := co.Digits(); got != before {
		t.Fatalf("the caller heard the agent's digits: %q", strings.TrimPrefix(got, before))
	}
	// Hold: the caller hears music, the agent silence.
	ac.SetMode(caller, callswitch.ModeHold, 0)
	r.run(300 * time.Millisecond)
	co.Record(8000 * 2)
	p.Speak(sine(agentHz, 6000, 8000*2))
	p.ClearHeard()
	r.run(2 * time.Second)
	if got := hears(co.Heard(), agentHz); got == "1100" || got == "silence" {
		t.Errorf("the held caller heard %s, want music and not the agent", got)
	}
	if got := hears(p.Heard()); got != "silence" {
		t.Errorf("the agent heard %s with the caller held", got)
	}
	p.OnHook()
	r.run(time.Second)
	if ev := app.events(); !slices.Contains(ev, fmt.Sprint(agent, " leg-ended normal")) {
		t.Fatalf("events %v, want the agent's leg ended", ev)
	}
	ac.End(callswitch.CauseNormal)
	r.run(time.Second)
	if ev := app.events(); !slices.Contains(ev, "0 ended normal") || !ac.Ended() {
		t.Fatalf("events %v, want the call ended", ev)
	}
	r.run(2 * time.Second)
	if co.BoxOffHook() {
		t.Fatal("the box still holds the line")
	}
	recs := r.cdr()
	if len(recs) != 1 || recs[0].ID != ac.ID() || recs[0].From != "13800138000" || len(recs[0].Legs) != 2 ||
		recs[0].Legs[0].Channel != "fxo1" || recs[0].Legs[1].Channel != "fxs2" || recs[0].Legs[1].Party != "202" {
		t.Fatalf("CDRs %+v", recs)
	}
}

// A supervisor monitors a service: listen, whisper (only the agent hears)
// and barge (everyone), checked by the tone each party hears.
func TestAppMonitorModes(t *testing.T) {
	r := newRig(t, rigOpt{})
	app := newTestApp()
	r.sw.SetApplication(app)
	co := r.co("fxo1")
	if err := co.Ring(siCall(&callerid.Message{Format: callerid.MDMF, Number: "13800138000"})); err != nil {
		t.Fatal(err)
	}
	r.until("the offer", func() bool { c, _ := app.call(0); return c != nil })
	ac, caller := app.call(0)
	ac.Answer(caller)
	ac.SetMode(caller, callswitch.ModeTalk, 0)
	agent := ac.Originate(callswitch.Originate{Extension: "202", Mode: callswitch.ModeTalk})
	r.run(5 * time.Second)
	r.phone("202").OffHook()
	r.run(500 * time.Millisecond)
	sup := ac.Originate(callswitch.Originate{Extension: "203", Mode: callswitch.ModeListen})
	r.run(5 * time.Second)
	r.phone("203").OffHook()
	r.run(500 * time.Millisecond)
	pa, ps := r.phone("202"), r.phone("203")
	for _, st := range []struct {
		name          string
		mode          callswitch.Mode
		caller, agent string // what they hear
	}{
		{"listen", callswitch.ModeListen, "1100", "500"},
		{"whisper", callswitch.ModeWhisper, "1100", "500+1800"},
		{"barge", callswitch.ModeTalk, "1100+1800", "500+1800"},
		{"listen again", callswitch.ModeListen, "1100", "500"},
	} {
		ac.SetMode(sup, st.mode, agent)
		r.run(200 * time.Millisecond)
		co.Record(8000 * 2)
		co.Play(sine(callerHz, 5000, 8000*2))
		pa.Speak(sine(agentHz, 5000, 8000*2))
		ps.Speak(sine(supHz, 5000, 8000*2))
		pa.ClearHeard()
		ps.ClearHeard()
		r.run(2 * time.Second)
		if got := hears(co.Heard()[4000:], callerHz, agentHz, supHz); got != st.caller {
			t.Errorf("%s: the caller heard %s, want %s", st.name, got, st.caller)
		}
		if got := hears(pa.Heard()[4000:], callerHz, agentHz, supHz); got != st.agent {
			t.Errorf("%s: the agent heard %s, want %s", st.name, got, st.agent)
		}
		if got := hears(ps.Heard()[4000:], callerHz, agentHz, supHz); got != "500+1100" {
			t.Errorf("%s: the supervisor heard %s, want the caller and the agent", st.name, got)
		}
	}
	// The caller hangs up: the application ends the call and both phones
	// hear it.
	if err := co.Hangup(busyTone(), 0); err != nil {
		t.Fatal(err)
	}
	r.until("the caller's hang-up", func() bool { return app.has(fmt.Sprint(caller, " leg-ended normal")) })
	ac.End(callswitch.CauseNormal)
	r.run(time.Second)
	r.hangup("202", "203")
	if n := r.calls(); n != 0 {
		t.Fatalf("%d calls left", n)
	}
}

// An unanswered originate gives up at its ring timeout; an extension
// that is busy fails at once; a number the dial plan refuses is blocked.
func TestAppOriginateFailures(t *testing.T) {
	r := newRig(t, rigOpt{})
	app := newTestApp()
	r.sw.SetApplication(app)
	ac := r.sw.NewAppCall(app, callswitch.Party{Number: "cc"}, "")
	r.run(20 * time.Millisecond)
	if ev := app.events(); !slices.Equal(ev, []string{"0 started"}) || ac.ID() == "" {
		t.Fatalf("events %v, id %q", ev, ac.ID())
	}
	r.phone("203").OffHook() // busy: off hook
	r.run(300 * time.Millisecond)
	slow := ac.Originate(callswitch.Originate{Extension: "202", RingTimeout: 3 * time.Second})
	busy := ac.Originate(callswitch.Originate{Extension: "203"})
	blocked := ac.Originate(callswitch.Originate{Number: "90011234", Via: "201"})
	none := ac.Originate(callswitch.Originate{Number: "555"})
	r.run(4 * time.Second)
	ev := app.events()
	for _, want := range []string{
		fmt.Sprint(slow, " ringing"), fmt.Sprint(slow, " leg-ended no answer"),
		fmt.Sprint(busy, " leg-ended busy"), fmt.Sprint(blocked, " leg-ended blocked"),
		fmt.Sprint(none, " leg-ended not found"), "0 ended no answer",
	} {
		if !slices.Contains(ev, want) {
			t.Errorf("no %q in %v", want, ev)
		}
	}
	if r.phone("202").Ringing() {
		t.Error("202 still rings after the timeout")
	}
	if !ac.Ended() {
		t.Error("a call whose every leg failed did not end")
	}
}

// A leg moves between app calls (a transfer between services), and a
// leg handed off to the dial plan rings an extension and talks there.
func TestAppMoveAndHandoff(t *testing.T) {
	r := newRig(t, rigOpt{})
	app := newTestApp()
	r.sw.SetApplication(app)
	co := r.co("fxo1")
	if err := co.Ring(siCall(&callerid.Message{Format: callerid.MDMF, Number: "13800138000"})); err != nil {
		t.Fatal(err)
	}
	r.until("the offer", func() bool { c, _ := app.call(0); return c != nil })
	a, caller := app.call(0)
	a.Answer(caller)
	r.run(time.Second)
	b := r.sw.NewAppCall(app, callswitch.Party{Number: "svc"}, "")
	r.run(20 * time.Millisecond)
	app.events()
	a.Move(caller, b)
	r.run(100 * time.Millisecond)
	ev := app.events()
	if !slices.Contains(ev, fmt.Sprint(caller, " leg-ended transferred")) || !slices.Contains(ev, fmt.Sprint(caller, " joined fxo1")) ||
		!slices.Contains(ev, "0 ended transferred") || !a.Ended() {
		t.Fatalf("events %v after the move", ev)
	}
	// In b the caller hears b's beep.
	co.Record(8000)
	b.Play(caller, callswitch.Beep(1000, 500*time.Millisecond), nil)
	r.run(time.Second)
	if got := hears(co.Heard(), 1000); got != "1000" {
		t.Fatalf("the moved caller heard %s", got)
	}
	b.Handoff(caller, "204", "")
	r.run(6 * time.Second)
	if cid := r.phone("204").CallerID(); len(cid) == 0 || cid[0].Number != "13800138000" {
		t.Fatalf("204 read caller ID %+v", cid)
	}
	if !b.Ended() {
		t.Fatal("the app call with no leg left did not end")
	}
	p := r.phone("204")
	p.OffHook()
	r.run(500 * time.Millisecond)
	co.Record(8000 * 2)
	p.Speak(sine(agentHz, 5000, 8000*2))
	r.run(2 * time.Second)
	if got := hears(co.Heard()[4000:], agentHz); got != "1100" {
		t.Fatalf("the caller heard %s from 204 after the hand-off", got)
	}
	r.hangup("204")
	r.run(2 * time.Second)
	recs := r.cdr()
	if len(recs) != 3 {
		t.Fatalf("%d CDRs, want the two app calls and the handed-off call: %+v", len(recs), recs)
	}
}

// An extension dials a number the dial plan gives to the application
// (a call-centre code); a number the application declines is not found.
func TestAppDialled(t *testing.T) {
	pc := defaultPlan()
	pc.Apps = []dialplan.App{{Name: "cc", Patterns: []string{"*50", "8000"}}}
	r := newRig(t, rigOpt{plan: pc})
	app := newTestApp()
	r.sw.SetApplication(app)
	r.dial("201", "*50")
	c, leg := app.call(0)
	if c == nil {
		t.Fatal("no app call for *50")
	}
	if in := app.offers[0]; in.Kind != callswitch.Dialled || in.To != "*50" || in.Extension != "201" || in.App != "cc" || in.Channel != "fxs1" {
		t.Fatalf("offer %+v", in)
	}
	c.Answer(leg)
	c.Play(leg, callswitch.Beep(1000, 400*time.Millisecond), func(bool) { c.End(callswitch.CauseFeature) })
	p := r.phone("201")
	p.ClearHeard()
	r.run(time.Second)
	if got := hears(p.Heard()[:3000], 1000); got != "1000" {
		t.Fatalf("201 heard %s", got)
	}
	r.hangup("201")
	app.decline["fxs2"] = true
	r.dial("202", "8000")
	r.hearsTone("202", "congestion")
	r.hangup("202")
}

// A SIP extension with two registered contacts: both ring (asked to
// answer by themselves), the first to answer takes the leg and the other
// is cancelled.
func TestAppOriginateForksSIP(t *testing.T) {
	d := &contactDialer{dialer: &dialer{}, contacts: map[string][]string{"205": {"sip:205@10.0.0.1", "sip:205@10.0.0.2"}}}
	pc := defaultPlan()
	pc.Extensions = append(pc.Extensions, "205")
	exts := append(defaultExts(), callswitch.Extension{Number: "205", Name: "SOFT 205"})
	r := newRig(t, rigOpt{exts: exts, plan: pc, sip: d})
	t.Cleanup(func() { r.sw.Close() })
	app := newTestApp()
	r.sw.SetApplication(app)
	ac := r.sw.NewAppCall(app, callswitch.Party{Number: "cc"}, "")
	leg := ac.Originate(callswitch.Originate{Extension: "205", CallerID: callswitch.Party{Number: "13800138000"}, Mode: callswitch.ModeTalk,
		AutoAnswer: true})
	r.until("two dials", func() bool { _, reqs := d.last(); return len(reqs) == 2 })
	_, reqs := d.last()
	if reqs[0].Contact == reqs[1].Contact || reqs[0].From.User != "13800138000" || !reqs[0].AutoAnswer || !reqs[1].AutoAnswer {
		t.Fatalf("dial requests %+v", reqs)
	}
	d.mu.Lock()
	first, second := d.legs[0], d.legs[1]
	d.mu.Unlock()
	ev := r.sw.SIPEvents()
	ev.Progress(second, 180, false)
	r.until("ringing", func() bool { return app.has(fmt.Sprint(leg, " ringing")) })
	ev.Answered(second)
	r.until("the answer", func() bool { return app.has(fmt.Sprintf("%d answered sip/%s", leg, second.id)) })
	r.until("the other fork cancelled", func() bool { return first.did("hangup") })
	if second.did("hangup") {
		t.Fatal("the answering fork was hung up")
	}
	ac.End(callswitch.CauseNormal)
	r.until("BYE", func() bool { return second.did("hangup") })
	ev.HungUp(first, sip.CauseCancelled)
	ev.HungUp(second, sip.CauseNormal)
	r.run(100 * time.Millisecond)
}

// contactDialer is the in-memory dialer with registered contacts.
type contactDialer struct {
	*dialer
	contacts map[string][]string
}

func (d *contactDialer) Contacts(ext string) []string { return d.contacts[ext] }

// A call from a SIP trunk handed to the application: its DID is in the
// offer, the answer sends 200, and a digit sent by SIP INFO (as RFC 4733
// ones) is the application's, not relayed anywhere.
func TestAppTrunkCallDigitsByINFO(t *testing.T) {
	r, d := newSIPRig(t)
	app := newTestApp()
	r.sw.SetApplication(app)
	ev := r.sw.SIPEvents()
	leg := &sipLeg{id: "trunk1", trunk: "carrier", dir: sip.Inbound, from: sip.Party{User: "13800138000"}, to: sip.Party{User: "4008"}}
	ev.Offered(leg)
	r.until("the offer", func() bool { c, _ := app.call(0); return c != nil })
	ac, caller := app.call(0)
	if in := app.offers[0]; in.Kind != callswitch.FromTrunk || in.Trunk != "carrier" || in.To != "4008" || in.From.Number != "13800138000" {
		t.Fatalf("offer %+v", in)
	}
	ac.Answer(caller)
	r.until("200 OK", func() bool { return leg.did("answer") })
	ev.Answered(leg)
	r.run(100 * time.Millisecond)
	app.events()
	ev.DTMF(leg, '5', 160*time.Millisecond)
	r.run(100 * time.Millisecond)
	if got := app.events(); !slices.Equal(got, []string{fmt.Sprint(caller, " digit 5")}) {
		t.Fatalf("events %v", got)
	}
	m := d.rtp("trunk1")
	if m == nil || m.heard() != "" {
		t.Fatal("the digit went back to the caller")
	}
	ac.End(callswitch.CauseNormal)
	r.until("BYE", func() bool { return leg.did("hangup") })
	ev.HungUp(leg, sip.CauseNormal)
	r.run(100 * time.Millisecond)
}
