package cc_test

import (
	"testing"
	"time"

	"callbox/telephony/acd"
)

// The inbound path on an analog line: the exchange calls fxo1,
// presenting the caller in international form (0086...), the box answers
// with the main menu (heard by the exchange), the caller
// keys 1 (in-band DTMF) and waits in sales with music; agent 1088 on
// phone 202 rings with the customer's number (in national form) as caller
// ID, answers, hears
// the connect beep, and the two talk (a tone each way); the agent hangs
// up and wraps up; the events and the fact row tell the story.
func TestLineCallThroughIVRToAgent(t *testing.T) {
	r := newRig(t, testConfig(), nil)
	r.login("1088", "202")
	co := r.ring("fxo1", "008613800138000")
	r.untilAnswered(co)
	recordCO(co, 3*time.Second)
	r.run(2 * time.Second)
	if got := heardPrompts(co.Heard()); len(got) == 0 || got[0] != "main-menu" {
		t.Fatalf("the caller heard %v, want the main menu", got)
	}
	if err := co.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	r.untilRinging("202")
	r.run(4500 * time.Millisecond) // caller ID comes after the first ring
	p := r.phone("202")
	if cid := p.CallerID(); len(cid) == 0 || cid[len(cid)-1].Number != "13800138000" {
		t.Fatalf("the agent's phone read caller ID %+v", cid)
	}
	if st := r.state("1088"); st != "ringing" {
		t.Fatalf("1088 is %s while rung", st)
	}
	p.ClearHeard()
	p.OffHook()
	r.run(400 * time.Millisecond)
	if got := hears(heardBy(p), 1000); got != "1000" {
		t.Errorf("the agent heard %s on connect, want the beep", got)
	}
	if st := r.state("1088"); st != "talking" {
		t.Fatalf("1088 is %s after answering", st)
	}
	recordCO(co, 2*time.Second)
	co.Play(sine(500, 5000, 16000))
	p.Speak(sine(1100, 5000, 16000))
	r.run(2 * time.Second)
	if got := hears(heardBy(p)[4000:], 500, 1100); got != "500" {
		t.Errorf("the agent heard %s, want the caller (500)", got)
	}
	if got := hears(co.Heard()[4000:], 500, 1100); got != "1100" {
		t.Errorf("the caller heard %s, want the agent (1100)", got)
	}
	p.OnHook()
	r.run(time.Second)
	if st := r.state("1088"); st != "wrap_up" {
		t.Fatalf("1088 is %s after hanging up", st)
	}
	r.run(6 * time.Second)
	if st := r.state("1088"); st != "idle" {
		t.Fatalf("1088 is %s after the wrap-up", st)
	}
	if co.BoxOffHook() {
		t.Error("the box still holds the line after the service")
	}
	evs := r.events()
	if !has(evs, "agent.state 1088 idle", "call.offered", "call.queued", "agent.state 1088 ringing", "call.ringing 1088",
		"agent.state 1088 talking", "call.answered 1088", "call.ended 1088", "agent.state 1088 wrap_up", "agent.state 1088 idle") {
		t.Fatalf("events %q", types(evs))
	}
	facts := r.st.facts.all()
	if len(facts) != 1 {
		t.Fatalf("facts %+v", facts)
	}
	f := facts[0]
	if f.Group != 1 || f.Number != "13800138000" || f.Agent != "1088" || f.Disposition != "answered" ||
		len(f.Rings) != 1 || f.Rings[0].Result != "answered" || f.TalkSeconds < 2 || f.WrapUpSeconds < 4 || f.Ended.IsZero() {
		t.Fatalf("fact %+v", f)
	}
	_ = acd.Idle
}
