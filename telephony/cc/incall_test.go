package cc_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"callbox/board/sim/si3050sim"
	"callbox/dsp/tone"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/ccconf"
	"callbox/telephony/ivr"
	callswitch "callbox/telephony/switch"
)

// serve brings a call from the exchange on fxo1 to agent 1088 on 202.
func (r *rig) serve() *coCall {
	r.t.Helper()
	co := r.ring("fxo1", "13800138000")
	r.untilAnswered(co)
	if err := co.SendDTMF("1"); err != nil {
		r.t.Fatal(err)
	}
	r.answer("202")
	r.run(time.Second)
	if st := r.state("1088"); st != "talking" {
		r.t.Fatalf("1088 is %s, not serving", st)
	}
	return &coCall{co}
}

// talks checks that the caller on co and the phone hear each other.
func (r *rig) talks(co *coCall, ext string) {
	r.t.Helper()
	p := r.phone(ext)
	recordCO(co.CO, 2*time.Second)
	co.Play(sine(500, 5000, 16000))
	p.Speak(sine(1100, 5000, 16000))
	p.ClearHeard()
	r.run(2 * time.Second)
	if got := hears(heardBy(p)[4000:], 500, 1100); got != "500" {
		r.t.Errorf("%s heard %s, want the caller", ext, got)
	}
	if got := hears(co.Heard()[4000:], 500, 1100); got != "1100" {
		r.t.Errorf("the caller heard %s, want %s", got, ext)
	}
}

// The agent's * menu: *1 holds the caller (music; neither hears the
// other), *1 takes them back; *2 and a colleague's work number transfers
// blind: 1088 wraps up, 1099 rings, answers and talks, and 1088 takes
// the next call after the wrap-up. The menu digits never reach the caller.
func TestMenuHoldAndBlindTransferToAgent(t *testing.T) {
	r := newRig(t, testConfig(), nil)
	r.login("1088", "202")
	r.login("1099", "203")
	co := r.serve()
	before := co.Digits()
	r.keys("202", "*1")
	recordCO(co.CO, 2*time.Second)
	r.phone("202").Speak(sine(1100, 5000, 16000))
	r.run(2 * time.Second)
	if got := hears(co.Heard(), 1100); got == "1100" || got == "silence" {
		t.Fatalf("the held caller heard %s, want music only", got)
	}
	r.keys("202", "*1")
	r.talks(co, "202")
	r.keys("202", "*21099#")
	r.run(500 * time.Millisecond)
	if st := r.state("1088"); st != "wrap_up" {
		t.Fatalf("1088 is %s after the transfer", st)
	}
	r.answer("203")
	if st := r.state("1099"); st != "talking" {
		t.Fatalf("1099 is %s", st)
	}
	r.talks(co, "203")
	if got := co.Digits(); got != before {
		t.Fatalf("the caller heard the menu digits %q", got[len(before):])
	}
	r.phone("202").OnHook()
	r.run(6 * time.Second)
	// 1088, free again, takes the next call.
	co2 := r.ring("fxo2", "13900139000")
	r.untilAnswered(co2)
	co2.SendDTMF("1")
	r.answer("202")
	if st := r.state("1088"); st != "talking" {
		t.Fatalf("1088 is %s with the next call", st)
	}
	evs := r.events()
	if !has(evs, "call.held 1088", "call.resumed 1088", "call.transferred 1088", "call.answered 1099", "call.answered 1088") {
		t.Fatalf("events %q", types(evs))
	}
	var f *cc.Fact
	for _, x := range r.st.facts.all() {
		if x.Number == "13800138000" {
			f = &x
		}
	}
	if f == nil || len(f.Transfers) != 1 || f.Transfers[0] != "agent:1099" || f.Agent != "1099" {
		t.Fatalf("fact %+v", f)
	}
}

// A consultative transfer to an extension: *3 204 # holds the caller
// while 1088 talks with 204; *3 completes: the caller talks with 204 and
// 1088 wraps up. A three-way call: *4 204 # brings 204 in, all three
// talk; *5 drops 204.
func TestConsultAndConference(t *testing.T) {
	r := newRig(t, testConfig(), nil)
	r.login("1088", "202")
	co := r.serve()
	r.keys("202", "*4204#")
	r.answer("204")
	recordCO(co.CO, 2*time.Second)
	r.phone("204").Speak(sine(1800, 5000, 16000))
	r.phone("202").Speak(sine(1100, 5000, 16000))
	r.run(2 * time.Second)
	if got := hears(co.Heard()[4000:], 1100, 1800); got != "1100+1800" {
		t.Fatalf("in the three-way call the caller heard %s", got)
	}
	r.keys("202", "*5")
	r.run(time.Second)
	r.phone("204").OnHook()
	r.run(time.Second)
	r.talks(co, "202")
	r.keys("202", "*3204#")
	r.answer("204")
	recordCO(co.CO, 2*time.Second)
	p4 := r.phone("204")
	p4.ClearHeard()
	r.phone("202").Speak(sine(1100, 5000, 16000))
	r.run(2 * time.Second)
	if got := hears(heardBy(p4)[4000:], 1100); got != "1100" {
		t.Fatalf("204 heard %s from the consulting agent", got)
	}
	if got := hears(co.Heard(), 1100); got == "1100" {
		t.Fatalf("the held caller heard the consultation")
	}
	r.keys("202", "*3")
	r.run(time.Second)
	if st := r.state("1088"); st != "wrap_up" {
		t.Fatalf("1088 is %s after completing the transfer", st)
	}
	r.talks(co, "204")
	r.phone("204").OnHook()
	r.run(2 * time.Second)
	if co.BoxOffHook() {
		t.Fatal("the line is held after 204 hung up")
	}
}

// A supervisor dials *56 and the agent's work number from a phone they
// are logged in on: they listen; 5 whispers (only the agent hears), 6
// barges (everyone), 4 listens again; checked by the tone each hears.
func TestMonitorByCode(t *testing.T) {
	r := newRig(t, testConfig(), nil)
	r.login("1088", "202")
	co := r.serve()
	r.login("1099", "203")
	r.dial("203", "*561088#")
	r.run(3 * time.Second)
	// Monitoring, the supervisor is busy in the ACD: no call rings them.
	if st := r.state("1099"); st != "busy" {
		t.Fatalf("the monitoring supervisor is %s", st)
	}
	pa, ps := r.phone("202"), r.phone("203")
	for _, st := range []struct {
		key           string
		caller, agent string
	}{
		{"", "1100", "500"},
		{"5", "1100", "500+1800"},
		{"6", "1100+1800", "500+1800"},
		{"4", "1100", "500"},
	} {
		if st.key != "" {
			r.keys("203", st.key)
		}
		recordCO(co.CO, 2*time.Second)
		co.Play(sine(500, 5000, 16000))
		pa.Speak(sine(1100, 5000, 16000))
		ps.Speak(sine(1800, 5000, 16000))
		pa.ClearHeard()
		ps.ClearHeard()
		r.run(2 * time.Second)
		if got := hears(co.Heard()[4000:], 500, 1100, 1800); got != st.caller {
			t.Errorf("after %q: the caller heard %s, want %s", st.key, got, st.caller)
		}
		if got := hears(heardBy(pa)[4000:], 500, 1100, 1800); got != st.agent {
			t.Errorf("after %q: the agent heard %s, want %s", st.key, got, st.agent)
		}
		if got := hears(heardBy(ps)[4000:], 500, 1100, 1800); got != "500+1100" {
			t.Errorf("after %q: the supervisor heard %s", st.key, got)
		}
	}
	evs := r.events()
	if !has(evs, "supervisor.action 1088", "supervisor.action 1088", "supervisor.action 1088") {
		t.Fatalf("events %q", types(evs))
	}
	// The service ends: the supervisor's leg goes with it.
	r.phone("202").OnHook()
	r.run(2 * time.Second)
	if got, _ := ps.HeardTones("CN"); !slices.Contains(got, tone.Busy) {
		t.Fatalf("the supervisor heard %v after the service ended", got)
	}
	if st := r.state("1099"); st != "idle" {
		t.Fatalf("the supervisor is %s after monitoring", st)
	}
}

// A supervisor's operations from the API: the box calls the supervisor's
// phone into a service (listen), a prompt is played to the caller, the
// state of a talking agent cannot be forced, and the service is torn
// down; a waiting request is stopped and another assigned to a named
// agent.
func TestSupervisorOperations(t *testing.T) {
	r := newRig(t, testConfig(), nil)
	r.login("1088", "202")
	co := r.serve()
	call := r.onlyService()
	if err := r.do(func(ctx context.Context) error { return r.svc.Monitor(ctx, "1099", call, "203") }); err != nil {
		t.Fatal(err)
	}
	r.answer("203")
	r.run(time.Second)
	recordCO(co.CO, 2*time.Second)
	ps := r.phone("203")
	ps.ClearHeard()
	co.Play(sine(500, 5000, 16000))
	ps.Speak(sine(1800, 5000, 16000))
	r.run(2 * time.Second)
	if got := hears(co.Heard()[4000:], 1800); got == "1800" {
		t.Fatal("the caller hears the listening supervisor")
	}
	if got := hears(heardBy(ps)[4000:], 500); got != "500" {
		t.Fatalf("the supervisor heard %s", got)
	}
	if err := r.do(func(ctx context.Context) error {
		return r.svc.PlayToCaller(ctx, "boss", call, ivr.Prompt{File: "welcome"})
	}); err != nil {
		t.Fatal(err)
	}
	r.run(2 * time.Second)
	if got := r.prompts.take(); !slices.Contains(got, "welcome") {
		t.Fatalf("prompts %v", got)
	}
	if err := r.do(func(ctx context.Context) error {
		return r.svc.SetState(ctx, "1088", acd.Offline, "", "boss")
	}); !errors.Is(err, acd.ErrEngaged) {
		t.Fatalf("forced logout of a talking agent: %v", err)
	}
	if err := r.do(func(ctx context.Context) error { return r.svc.TearDown(ctx, "boss", call) }); err != nil {
		t.Fatal(err)
	}
	r.run(2 * time.Second)
	if co.BoxOffHook() || r.state("1088") != "wrap_up" {
		t.Fatalf("after tear-down: line held %v, 1088 %s", co.BoxOffHook(), r.state("1088"))
	}
	r.phone("202").OnHook()
	r.phone("203").OnHook()
	r.run(6 * time.Second)
	// Two callers wait while 1088 is busy; one is stopped, the other
	// assigned to 1099.
	if err := r.do(func(ctx context.Context) error { return r.svc.SetState(ctx, "1088", acd.Busy, "", "boss") }); err != nil {
		t.Fatal(err)
	}
	r.login("1099", "203")
	if err := r.do(func(ctx context.Context) error { return r.svc.SetState(ctx, "1099", acd.Busy, "", "") }); err != nil {
		t.Fatal(err)
	}
	c1 := r.ring("fxo1", "13800138001")
	c2 := r.ring("fxo2", "13800138002")
	r.untilAnswered(c1)
	r.untilAnswered(c2)
	c1.SendDTMF("1")
	c2.SendDTMF("1")
	r.run(2 * time.Second)
	w := r.svc.Waiting()
	if len(w) != 2 {
		t.Fatalf("waiting %+v", w)
	}
	if w[0].Number != "13800138001" {
		w[0], w[1] = w[1], w[0] // both keyed 1 at the same instant
	}
	if err := r.do(func(ctx context.Context) error { return r.svc.StopRequest(ctx, "boss", string(w[0].Call)) }); err != nil {
		t.Fatal(err)
	}
	if err := r.do(func(ctx context.Context) error { return r.svc.Assign(ctx, "boss", string(w[1].Call), "1099") }); err != nil {
		t.Fatal(err)
	}
	r.answer("203")
	r.run(3 * time.Second)
	if c1.BoxOffHook() {
		t.Fatal("the stopped caller's line is still held")
	}
	if st := r.state("1099"); st != "talking" {
		t.Fatalf("the assigned agent is %s", st)
	}
	_ = c2
}

// The agent plays prompts to the caller and takes them back; runs a flow
// on the caller (执行流程) that returns them (通话返回); sends DTMF.
func TestPromptsAndFlowOnCaller(t *testing.T) {
	r := newRig(t, testConfig(), nil, `{"id": "verify", "entry": "ask", "nodes": [
	 {"id": "ask", "type": "collect", "prompt": "welcome", "var": "id", "max": 4, "timeout": "5s", "next": "back"},
	 {"id": "back", "type": "return"}]}`)
	r.login("1088", "202")
	co := r.serve()
	r.prompts.take()
	if err := r.do(func(ctx context.Context) error {
		return r.svc.PlayPrompts(ctx, "1088", []ivr.Prompt{{File: "welcome"}, {Text: "hello"}}, false)
	}); err != nil {
		t.Fatal(err)
	}
	r.run(3 * time.Second)
	if got := r.prompts.take(); !slices.Equal(got, []string{"welcome", "text:hello"}) {
		t.Fatalf("prompts %v", got)
	}
	r.talks(co, "202")
	if err := r.do(func(ctx context.Context) error { return r.svc.RunFlow(ctx, "1088", "verify") }); err != nil {
		t.Fatal(err)
	}
	r.run(time.Second)
	co.SendDTMF("4321")
	r.run(3 * time.Second)
	if got := r.prompts.take(); !slices.Equal(got, []string{"welcome"}) {
		t.Fatalf("prompts %v", got)
	}
	r.talks(co, "202")
	before := co.Digits()
	if err := r.do(func(ctx context.Context) error { return r.svc.SendDTMF(ctx, "1088", "7#") }); err != nil {
		t.Fatal(err)
	}
	r.run(time.Second)
	if got := co.Digits()[len(before):]; got != "7#" {
		t.Fatalf("the caller heard %q", got)
	}
	if err := r.do(func(ctx context.Context) error { return r.svc.SendDTMF(ctx, "1088", "x") }); !errors.Is(err, cc.ErrRefused) {
		t.Fatalf("bad DTMF: %v", err)
	}
	if err := r.do(func(ctx context.Context) error { return r.svc.Hold(ctx, "2001") }); !errors.Is(err, cc.ErrNotInCall) {
		t.Fatalf("hold for an agent in no call: %v", err)
	}
}

// An agent's outbound call (click to dial): the agent's phone rings, then
// the customer through the route with an allowed caller ID; the agent is
// busy meanwhile and back to idle after. A caller ID the agent may not use
// is refused, and so is a number on the outbound blacklist (in any form),
// with the reason.
func TestClickToDial(t *testing.T) {
	cfg := testConfig()
	cfg.CallerIDs = []ccconf.CallerID{{Number: "4008001234", AllAgents: true}, {Number: "02588886666", Agents: []string{"1099"}}}
	cfg.Blacklist = []ccconf.BlacklistEntry{{Number: "13000000000", Direction: ccconf.DirOut, Note: "asked not to be called"}}
	r := newRig(t, cfg, nil)
	r.login("1088", "202")
	if err := r.do(func(ctx context.Context) error {
		_, err := r.svc.Dial(ctx, "1088", "13800138000", "02588886666")
		return err
	}); !errors.Is(err, cc.ErrRefused) {
		t.Fatalf("dial with a caller ID not allowed: %v", err)
	}
	if err := r.do(func(ctx context.Context) error {
		_, err := r.svc.Dial(ctx, "1088", "+8613000000000", "4008001234")
		return err
	}); !errors.Is(err, cc.ErrRefused) || !strings.Contains(err.Error(), "outbound blacklist") {
		t.Fatalf("dial to a number on the outbound blacklist: %v", err)
	}
	if err := r.do(func(ctx context.Context) error {
		_, err := r.svc.Dial(ctx, "1088", "13800138000", "4008001234")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if st := r.state("1088"); st != "busy" {
		t.Fatalf("1088 is %s while dialling out", st)
	}
	r.answer("202")
	r.run(3 * time.Second)
	co := r.co("fxo2")
	if got := co.Digits(); got != "13800138000" {
		t.Fatalf("the exchange got %q", got)
	}
	if err := co.Answer(); err != nil {
		t.Fatal(err)
	}
	r.run(time.Second)
	r.talks(&coCall{co}, "202")
	r.phone("202").OnHook()
	r.run(2 * time.Second)
	if st := r.state("1088"); st != "idle" {
		t.Fatalf("1088 is %s after the outbound call", st)
	}
	if !has(r.events(), "call.offered 1088", "call.answered 1088", "call.ended 1088") {
		t.Fatal("no outbound events")
	}
	_ = callswitch.ModeTalk
}

// A device that goes away puts its agent on break until it is back.
func TestDeviceDownAndBack(t *testing.T) {
	r := newRig(t, testConfig(), nil)
	r.login("1088", "202")
	r.svc.DeviceState("202", false)
	r.run(100 * time.Millisecond)
	if st, _ := r.svc.ACD().Agent("1088"); st.State != acd.Break || st.Reason != cc.ReasonDeviceDown {
		t.Fatalf("1088 is %s (%s) with the phone down", st.State, st.Reason)
	}
	r.svc.DeviceState("202", true)
	r.run(100 * time.Millisecond)
	if st := r.state("1088"); st != "idle" {
		t.Fatalf("1088 is %s with the phone back", st)
	}
	evs := r.events()
	for _, e := range evs {
		if e.Type == "agent.state" && e.State == "break" && e.Detail["registered"] != "false" {
			t.Fatalf("the break event does not say the device is gone: %+v", e)
		}
	}
}

// coCall is the exchange's end of a call.
type coCall struct{ *si3050sim.CO }
