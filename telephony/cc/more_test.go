package cc_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/ccconf"
	"callbox/telephony/ivr"
	"callbox/telephony/media"
	callswitch "callbox/telephony/switch"
)

// *0 hangs up the caller (the agent wraps up); *7 sends the next caller
// back into the flow they came through and frees the agent; *55 ends the
// wrap-up early.
func TestMenuHangupReleaseWrapUpDone(t *testing.T) {
	r := newRig(t, testConfig(), nil)
	r.login("1088", "202")
	co := r.serve()
	r.keys("202", "*0")
	r.run(2 * time.Second)
	if co.BoxOffHook() || r.state("1088") != "wrap_up" {
		t.Fatalf("after *0: line held %v, 1088 %s", co.BoxOffHook(), r.state("1088"))
	}
	r.phone("202").OnHook()
	r.run(time.Second)
	r.dial("202", "*55")
	r.run(2 * time.Second)
	r.phone("202").OnHook()
	r.run(500 * time.Millisecond)
	if st := r.state("1088"); st != "idle" {
		t.Fatalf("1088 is %s after *55", st)
	}
	co = r.serve()
	r.prompts.take()
	r.keys("202", "*7")
	r.run(2 * time.Second)
	if got := r.prompts.take(); !slices.Equal(got, []string{"main-menu"}) {
		t.Fatalf("after *7 the caller heard %v, want the main menu", got)
	}
	if st := r.state("1088"); st != "wrap_up" {
		t.Fatalf("1088 is %s after *7", st)
	}
	if !co.BoxOffHook() {
		t.Fatal("the caller was hung up instead of sent to the IVR")
	}
}

// Transfers to a group (the caller waits there and its agent answers) and
// blind to an extension by the menu (*2 204 #).
func TestTransferToGroupAndExtension(t *testing.T) {
	r := newRig(t, testConfig(), nil)
	r.login("1088", "202")
	r.login("2001", "203")
	co := r.serve()
	if err := r.do(func(ctx context.Context) error {
		return r.svc.Transfer(ctx, "1088", cc.Target{Kind: cc.ToGroup, Group: 2}, false)
	}); err != nil {
		t.Fatal(err)
	}
	r.answer("203")
	if st := r.state("2001"); st != "talking" {
		t.Fatalf("2001 is %s", st)
	}
	r.talks(co, "203")
	r.keys("203", "*2204#")
	r.run(time.Second)
	if st := r.state("2001"); st != "wrap_up" && st != "idle" {
		t.Fatalf("2001 is %s after the transfer", st)
	}
	r.answer("204")
	r.talks(co, "204")
	r.phone("204").OnHook()
	r.run(2 * time.Second)
	var f cc.Fact
	for _, x := range r.st.facts.all() {
		f = x
	}
	if len(f.Transfers) != 2 || f.Transfers[0] != "group:2" || f.Transfers[1] != "number:204" {
		t.Fatalf("fact %+v", f)
	}
}

// Prompts with release: the agent is free at once, the caller hears them
// and is hung up. A flow run on the caller is cut short by Resume and the
// caller is back with the agent.
func TestPromptsReleaseAndFlowResume(t *testing.T) {
	r := newRig(t, testConfig(), nil, `{"id": "long", "entry": "ask", "nodes": [
	 {"id": "ask", "type": "collect", "prompt": "welcome", "var": "x", "max": 4, "timeout": "30s", "next": "back"},
	 {"id": "back", "type": "return"}]}`)
	r.login("1088", "202")
	co := r.serve()
	if err := r.do(func(ctx context.Context) error { return r.svc.RunFlow(ctx, "1088", "long") }); err != nil {
		t.Fatal(err)
	}
	r.run(2 * time.Second)
	if err := r.do(func(ctx context.Context) error { return r.svc.Resume(ctx, "1088") }); err != nil {
		t.Fatal(err)
	}
	r.run(500 * time.Millisecond)
	r.talks(co, "202")
	r.prompts.take()
	if err := r.do(func(ctx context.Context) error {
		return r.svc.PlayPrompts(ctx, "1088", []ivr.Prompt{{File: "welcome"}}, true)
	}); err != nil {
		t.Fatal(err)
	}
	r.run(200 * time.Millisecond)
	if st := r.state("1088"); st != "wrap_up" {
		t.Fatalf("1088 is %s after releasing", st)
	}
	r.run(2 * time.Second)
	if got := r.prompts.take(); !slices.Equal(got, []string{"welcome"}) {
		t.Fatalf("prompts %v", got)
	}
	if co.BoxOffHook() {
		t.Fatal("the line is held after the prompts")
	}
	if err := r.do(func(ctx context.Context) error {
		return r.svc.PlayPrompts(ctx, "1088", make([]ivr.Prompt, 4), false)
	}); err == nil {
		t.Fatal("four prompts accepted")
	}
}

// The caller hears the agent's work number on connect when the group says
// so; an agent on an outside number is rung through the route (prefix 9)
// on fxo2 with the customer's number.
func TestAnnounceAgentAndOutsideAgent(t *testing.T) {
	cfg := testConfig()
	cfg.Groups[0].AnnounceAgent = true
	cfg.Agents[1].Mode = ccconf.ModeOutside
	cfg.Agents[1].Device = "13911112222"
	r := newRig(t, cfg, nil)
	r.login("1088", "202")
	co := r.serve()
	r.run(time.Second)
	if d := co.Digits(); !strings.Contains(d, "1088") {
		t.Fatalf("the caller heard digits %q, want the agent's number", d)
	}
	r.talks(co, "202")
	r.phone("202").OnHook()
	r.run(6 * time.Second)
	if err := r.do(func(ctx context.Context) error { return r.svc.SetState(ctx, "1088", acd.Busy, "", "") }); err != nil {
		t.Fatal(err)
	}
	if err := r.do(func(ctx context.Context) error { return r.svc.Login(ctx, "1099", cc.Device{}) }); err != nil {
		t.Fatal(err)
	}
	co1 := r.ring("fxo1", "13800138000")
	r.untilAnswered(co1)
	co1.SendDTMF("1")
	r.run(4 * time.Second)
	out := r.co("fxo2")
	if got := out.Digits(); got != "13911112222" {
		t.Fatalf("the exchange on fxo2 got %q, want the agent's mobile", got)
	}
	if err := out.Answer(); err != nil {
		t.Fatal(err)
	}
	r.run(time.Second)
	if st := r.state("1099"); st != "talking" {
		t.Fatalf("1099 is %s", st)
	}
}

// Overflow to a flow, and to hang-up with a message.
func TestOverflowToFlowAndMessage(t *testing.T) {
	cfg := testConfig()
	cfg.Groups[0].MaxWaitS = 10
	cfg.Groups[0].Overflow = ccconf.Target{Kind: ccconf.TargetFlow, Flow: "after"}
	cfg.Groups[1].MaxWaitS = 10
	cfg.Groups[1].Overflow = ccconf.Target{Kind: ccconf.TargetHangup, Message: "busy-msg"}
	r := newRig(t, cfg, nil, `{"id": "after", "entry": "p", "nodes": [
	 {"id": "p", "type": "play", "prompt": "closed", "next": "bye"},
	 {"id": "bye", "type": "hangup"}]}`)
	for _, c := range []struct{ key, want string }{{"1", "closed"}, {"2", "busy-msg"}} {
		co := r.ring("fxo1", "13800138000")
		r.untilAnswered(co)
		co.SendDTMF(c.key)
		r.run(time.Second)
		r.prompts.take()
		r.run(13 * time.Second)
		if got := r.prompts.take(); !slices.Equal(got, []string{c.want}) {
			t.Fatalf("group %s overflow: prompts %v, want %s", c.key, got, c.want)
		}
		if co.BoxOffHook() {
			t.Fatalf("group %s overflow: the line is held", c.key)
		}
		r.run(2 * time.Second)
	}
}

// An IVR transfer node rings an extension in the call: once it answers,
// the caller and the extension talk; a number that does not answer takes
// the node's fail branch.
func TestIVRTransferNode(t *testing.T) {
	cfg := testConfig()
	cfg.InboundRoutes[0].Target.Flow = "xfer"
	r := newRig(t, cfg, nil, `{"id": "xfer", "entry": "t", "nodes": [
	 {"id": "t", "type": "transfer", "to": "204", "timeout": "8s", "fail": "sorry"},
	 {"id": "sorry", "type": "play", "prompt": "closed", "next": "bye"},
	 {"id": "bye", "type": "hangup"}]}`)
	co := &coCall{r.ring("fxo1", "13800138000")}
	r.untilAnswered(co.CO)
	r.answer("204")
	r.talks(co, "204")
	r.phone("204").OnHook()
	r.run(2 * time.Second)
	if co.BoxOffHook() {
		t.Fatal("the line is held after 204 hung up")
	}
	co = &coCall{r.ring("fxo1", "13800138000")}
	r.untilAnswered(co.CO)
	r.prompts.take()
	r.run(12 * time.Second)
	if got := r.prompts.take(); !slices.Equal(got, []string{"closed"}) {
		t.Fatalf("an unanswered transfer: prompts %v", got)
	}
}

// An IVR record node records the caller (what they say) through the
// Recorder; the recording's id lands in the flow's variable.
func TestIVRRecordNode(t *testing.T) {
	cfg := testConfig()
	cfg.InboundRoutes[0].Target.Flow = "rec"
	rec := &memRecorder{}
	st := newStores()
	r := newRigWith(t, cfg, st, cc.Options{Recorder: rec}, `{"id": "rec", "entry": "r", "nodes": [
	 {"id": "r", "type": "record", "prompt": "welcome", "var": "msg", "max": "3s", "terminator": "#", "next": "bye"},
	 {"id": "bye", "type": "hangup"}]}`)
	co := r.ring("fxo1", "13800138000")
	r.untilAnswered(co)
	r.run(time.Second)
	co.Play(sine(500, 5000, 8000*2))
	r.run(4 * time.Second)
	if n, stopped := rec.stats(); n < 100 || !stopped {
		t.Fatalf("recorded %d frames, stopped %v", n, stopped)
	}
	if co.BoxOffHook() {
		t.Fatal("the line is held after the recording")
	}
}

// memRecorder keeps what it was given.
type memRecorder struct {
	mu      sync.Mutex
	tap     *media.Tap
	frames  int
	stopped bool
}

func (m *memRecorder) Start(call, kind string) (cc.Recording, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tap = media.NewTap(1000)
	return m, nil
}

func (m *memRecorder) Tap() *media.Tap { return m.tap }

func (m *memRecorder) Stop() (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var f media.TapFrame
	for m.tap.Read(&f) {
		m.frames++
	}
	m.stopped = true
	return "rec-1", nil
}

func (m *memRecorder) stats() (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.frames, m.stopped
}

// Prompts the box cannot play are the API caller's error, and the call
// goes on untouched: a file that does not exist, text without a speech
// engine.
func TestPromptErrorsFromTheAPI(t *testing.T) {
	r := newRig(t, testConfig(), nil)
	r.login("1088", "202")
	co := r.serve()
	r.prompts.noSpeech = true
	for _, p := range []ivr.Prompt{{File: "no-such-prompt"}, {Text: "hello"}} {
		err := r.do(func(ctx context.Context) error { return r.svc.PlayPrompts(ctx, "1088", []ivr.Prompt{p}, false) })
		if err == nil {
			t.Fatalf("prompt %+v accepted", p)
		}
		if p.File != "" && !errors.Is(err, ivr.ErrPromptMissing) {
			t.Fatalf("missing file: %v", err)
		}
		if p.Text != "" && !strings.Contains(err.Error(), "speech") {
			t.Fatalf("text without speech: %v", err)
		}
	}
	r.talks(co, "202")
}

// The live figures name each agent's device and state, the queues and the
// waiting callers.
func TestFigures(t *testing.T) {
	r := newRig(t, testConfig(), nil)
	r.login("1088", "202")
	co := r.ring("fxo1", "13800138000")
	r.untilAnswered(co)
	co.SendDTMF("2") // support: nobody there
	r.run(2 * time.Second)
	var f cc.Figures
	if err := r.do(func(ctx context.Context) (err error) { f, err = r.svc.Figures(ctx); return err }); err != nil {
		t.Fatal(err)
	}
	if len(f.Queues) != 2 || f.Queues[1].Waiting != 1 || len(f.Waiting) != 1 || f.SLFormula == "" {
		t.Fatalf("figures %+v", f)
	}
	if a := f.Agents[0]; a.Agent != "1088" || a.State != acd.Idle || a.Device.Extension != "202" || a.DeviceDown {
		t.Fatalf("agent figure %+v", a)
	}
}

// Fact rows leave the service's memory once nothing more can happen to
// them: answered calls of agents with and without wrap-up, abandoned
// calls.
func TestFactsDoNotPileUp(t *testing.T) {
	cfg := testConfig()
	cfg.Agents[0].WrapUpS = 0
	r := newRig(t, cfg, nil)
	r.login("1088", "202")
	for range 2 {
		r.serve()
		r.phone("202").OnHook()
		r.run(2 * time.Second)
	}
	co := r.ring("fxo1", "13900000000")
	r.untilAnswered(co)
	co.SendDTMF("2") // support: nobody
	r.run(2 * time.Second)
	co.Hangup(1, 0)
	r.run(3 * time.Second)
	if n := len(r.st.facts.all()); n != 3 {
		t.Fatalf("%d rows stored", n)
	}
	var n int
	if err := r.do(func(context.Context) error { n = r.svc.FactsInMemory(); return nil }); err != nil || n != 0 {
		t.Fatalf("%d rows still held", n)
	}
}

// A consultative transfer between two agents: 1088 consults 1099 (busy,
// another caller waiting) and completes; the engine moves the call to
// 1099 straight from the consultation, so the waiting caller does not
// take them in between.
func TestConsultTransferToAgent(t *testing.T) {
	r, co := serveWithBusyColleague(t)
	co2 := r.ring("fxo2", "13900139000")
	r.untilAnswered(co2)
	co2.SendDTMF("1")
	r.run(2 * time.Second)
	r.keys("202", "*31099#")
	r.answer("203")
	r.keys("202", "*3")
	r.run(time.Second)
	if a, b := r.state("1088"), r.state("1099"); a != "wrap_up" || b != "talking" {
		t.Fatalf("after the transfer: 1088 %s, 1099 %s", a, b)
	}
	r.talks(co, "203")
	if w := r.svc.Waiting(); len(w) != 1 || w[0].Number != "13900139000" {
		t.Fatalf("waiting %+v", w)
	}
}

// A supervisor whispering to an agent keeps whispering to the service's
// agent after an agent-to-agent transfer: 1099, who took the call, hears
// the supervisor; the caller still does not (before, the whisper pointed
// at 1088's leg, gone, and nobody heard it).
func TestWhisperFollowsTransfer(t *testing.T) {
	r, co := serveWithBusyColleague(t)
	call := r.onlyService()
	if err := r.do(func(ctx context.Context) error { return r.svc.Monitor(ctx, "boss", call, "204") }); err != nil {
		t.Fatal(err)
	}
	r.answer("204")
	r.run(time.Second)
	if err := r.do(func(ctx context.Context) error {
		return r.svc.SetMonitorMode(ctx, "boss", call, callswitch.ModeWhisper)
	}); err != nil {
		t.Fatal(err)
	}
	r.keys("202", "*31099#")
	r.answer("203")
	r.keys("202", "*3")
	r.run(time.Second)
	if a, b := r.state("1088"), r.state("1099"); a != "wrap_up" || b != "talking" {
		t.Fatalf("after the transfer: 1088 %s, 1099 %s", a, b)
	}
	pb, ps := r.phone("203"), r.phone("204")
	recordCO(co.CO, 2*time.Second)
	co.Play(sine(500, 5000, 16000))
	pb.Speak(sine(1100, 5000, 16000))
	ps.Speak(sine(1800, 5000, 16000))
	pb.ClearHeard()
	ps.ClearHeard()
	r.run(2 * time.Second)
	if got := hears(heardBy(pb)[4000:], 500, 1100, 1800); got != "500+1800" {
		t.Errorf("the agent who took the call heard %s, want 500+1800", got)
	}
	if got := hears(co.Heard()[4000:], 500, 1100, 1800); got != "1100" {
		t.Errorf("the caller heard %s, want 1100", got)
	}
}

// onlyService returns the id of the one service in progress.
func (r *rig) onlyService() string {
	r.t.Helper()
	var call string
	if err := r.do(func(ctx context.Context) error {
		s, err := r.svc.Services(ctx)
		if len(s) == 1 {
			call = s[0].Call
		}
		return err
	}); err != nil || call == "" {
		r.t.Fatalf("services: %v", err)
	}
	return call
}

// serveWithBusyColleague logs 1088 in on 202 and 1099 on 203 (busy), and
// serves a caller: 1088 talks with them.
func serveWithBusyColleague(t *testing.T) (*rig, *coCall) {
	t.Helper()
	r := newRig(t, testConfig(), nil)
	r.login("1088", "202")
	r.login("1099", "203")
	if err := r.do(func(ctx context.Context) error { return r.svc.SetState(ctx, "1099", acd.Busy, "", "") }); err != nil {
		t.Fatal(err)
	}
	return r, r.serve()
}
