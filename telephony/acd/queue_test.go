package acd

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func twoGroups(over Target) Config {
	return Config{
		Groups: []Group{
			{ID: 1, Priority: 2, Enabled: true, MaxWait: time.Minute, Overflow: over},
			{ID: 2, Priority: 1, Enabled: true},
		},
		Agents: []Agent{
			{ID: "a", Groups: []Membership{{1, 1}}},
			{ID: "b", Groups: []Membership{{2, 1}}},
		},
		Default: CustomerType{Groups: []int{1}},
	}
}

// TestMaxWaitOverflow covers every overflow target.
func TestMaxWaitOverflow(t *testing.T) {
	tests := []struct {
		name string
		to   Target
		want []string
	}{
		{"group", Target{Kind: TargetGroup, Group: 2}, []string{"ring b x"}},
		{"ivr", Target{Kind: TargetIVR, Flow: "night"}, []string{"route x ivr night"}},
		{"voicemail", Target{Kind: TargetVoicemail, Mailbox: "800"}, []string{"route x voicemail 800"}},
		{"hangup", Target{Kind: TargetHangup, Message: "sorry"}, []string{"route x hangup sorry"}},
		{"none", Target{}, []string{"route x hangup "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newEnv(t, twoGroups(tc.to))
			v.login("b")
			v.take()
			v.offer("x", "1")
			v.clk.Advance(59 * time.Second)
			v.expect()
			v.clk.Advance(time.Second)
			v.expect(tc.want...)
			if q := v.queue(1); q.TimedOut != 1 || q.Offered != 1 {
				t.Errorf("group 1 figures %+v", q)
			}
		})
	}
}

// TestOverflowStopsRing: a call ringing an agent when max wait expires
// stops ringing and moves.
func TestOverflowStopsRing(t *testing.T) {
	cfg := twoGroups(Target{Kind: TargetVoicemail, Mailbox: "1"})
	cfg.Groups[0].RingTimeout = 2 * time.Minute
	v := newEnv(t, cfg)
	v.login("a")
	v.take()
	v.offer("x", "1")
	v.clk.Advance(time.Minute)
	v.expect("ring a x", "stopring a x", "route x voicemail 1")
	if v.state("a") != Idle {
		t.Fatal("agent not released")
	}
}

// TestJoinLeaveRules covers joining and leaving with nobody logged in or available.
func TestJoinLeaveRules(t *testing.T) {
	vm := Target{Kind: TargetVoicemail, Mailbox: "9"}
	tests := []struct {
		name  string
		join  EmptyRule
		setup State // state of agent a before the call
		want  Outcome
	}{
		{"allow offline", EmptyAllow, Offline, Queued},
		{"loggedin offline", EmptyNoLoggedIn, Offline, Routed},
		{"loggedin break", EmptyNoLoggedIn, Break, Queued},
		{"available break", EmptyNoAvailable, Break, Routed},
		{"available busy", EmptyNoAvailable, Busy, Routed},
		{"available idle", EmptyNoAvailable, Idle, Queued},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := twoGroups(vm)
			cfg.Groups[0].Join = tc.join
			v := newEnv(t, cfg)
			if tc.setup != Offline {
				v.login("a")
				if tc.setup != Idle {
					v.ok(v.e.SetState("a", tc.setup, ""))
				}
			}
			out, tg, err := v.e.Offer(CallInfo{ID: "x", Number: "1"})
			v.ok(err)
			if out != tc.want {
				t.Fatalf("outcome %d, want %d", out, tc.want)
			}
			if out == Routed && tg != vm {
				t.Fatalf("target %+v", tg)
			}
		})
	}

	// Leave: the only agent going busy (from wrap-up) sends waiting callers out.
	cfg := twoGroups(vm)
	cfg.Groups[0].Leave = EmptyNoAvailable
	cfg.Groups[0].MaxWait = 0
	cfg.Agents[0].WrapUp = 30 * time.Second
	v := newEnv(t, cfg)
	v.login("a")
	v.offer("x", "1")
	v.ok(v.e.Answer("a", "x"))
	v.ok(v.e.Hangup("x"))
	v.offer("y", "1")
	v.take()
	v.ok(v.e.SetState("a", Busy, ""))
	v.expect("route y voicemail 9")
	if q := v.queue(1); q.TimedOut != 1 || q.Waiting != 0 {
		t.Fatalf("figures %+v", q)
	}
}

// TestMaxQueue refuses the caller beyond the maximum, to the overflow.
func TestMaxQueue(t *testing.T) {
	cfg := twoGroups(Target{Kind: TargetGroup, Group: 2})
	cfg.Groups[0].MaxQueue = 2
	v := newEnv(t, cfg)
	v.offer("1", "1")
	v.offer("2", "1")
	v.offer("3", "1") // full: overflows into group 2 at the door
	var got []int
	for _, w := range v.e.Waiting() {
		got = append(got, w.Group)
	}
	if !slices.Equal(got, []int{1, 1, 2}) {
		t.Fatalf("groups of waiting calls %v", got)
	}
	cfg.Groups[0].Overflow = Target{Kind: TargetHangup, Message: "full"}
	v = newEnv(t, cfg)
	v.offer("1", "1")
	v.offer("2", "1")
	out, tg, _ := v.e.Offer(CallInfo{ID: "3", Number: "1"})
	if out != Routed || tg.Message != "full" {
		t.Fatalf("outcome %d %+v", out, tg)
	}
}

// TestPromptsAndAnnouncements: periodic prompt and position / estimate
// from recent handle times.
func TestPromptsAndAnnouncements(t *testing.T) {
	cfg := oneAgent()
	cfg.Agents[0].WrapUp = 0
	cfg.Groups[0].Prompt = "hold.wav"
	cfg.Groups[0].PromptEvery = 30 * time.Second
	cfg.Groups[0].AnnounceEvery = 45 * time.Second
	v := newEnv(t, cfg)
	v.login("a")
	// Two handled calls of 60 s and 120 s: the estimate uses their mean, 90 s.
	for i, d := range []time.Duration{60 * time.Second, 120 * time.Second} {
		id := CallID([]string{"h1", "h2"}[i])
		v.offer(string(id), "1")
		v.ok(v.e.Answer("a", id))
		v.clk.Advance(d)
		v.ok(v.e.Hangup(id))
	}
	v.offer("busy", "1")
	v.ok(v.e.Answer("a", "busy"))
	v.take()
	v.offer("x", "1")
	v.offer("y", "1")
	v.clk.Advance(30 * time.Second)
	v.expect("play x hold.wav", "play y hold.wav")
	v.clk.Advance(15 * time.Second)
	v.expect("announce x 1 1m30s", "announce y 2 3m0s")
	v.ok(v.e.Hangup("x")) // x abandons: y moves up
	v.clk.Advance(15 * time.Second)
	v.expect("play y hold.wav")
	v.clk.Advance(30 * time.Second)
	v.expectSet("play y hold.wav", "announce y 1 1m30s")
	if est, _ := v.e.EstimatedWait(1); est != 3*time.Minute {
		t.Fatalf("estimate for a new caller %s", est)
	}
}

// TestCallbackKeepsPlace: a caller who asks for a callback keeps their
// place; when their turn comes the box dials them for the agent.
func TestCallbackKeepsPlace(t *testing.T) {
	v := newEnv(t, oneAgent())
	v.login("a")
	v.offer("busy", "1")
	v.ok(v.e.Answer("a", "busy"))
	v.offer("x", "100")
	v.clk.Advance(time.Second)
	v.offer("y", "200")
	v.ok(v.e.RequestCallback("x", "13800000000"))
	v.take()
	v.ok(v.e.Hangup("busy"))
	v.clk.Advance(30 * time.Second) // wrap-up
	v.expect("callback x 13800000000 a")
	if v.state("a") != Ringing {
		t.Fatal("agent not reserved")
	}
	v.ok(v.e.CallbackConnected("x"))
	v.expect("connect x a")
	if cbs, _ := v.store.Callbacks(); len(cbs) != 0 {
		t.Fatalf("callback still stored: %+v", cbs)
	}
}

// TestCallbackRetries: failures retry after the delay, then give up.
func TestCallbackRetries(t *testing.T) {
	cfg := oneAgent()
	cfg.CallbackTries = 2
	cfg.CallbackRetry = time.Minute
	v := newEnv(t, cfg)
	v.offer("x", "100")
	v.ok(v.e.RequestCallback("x", ""))
	v.login("a")
	v.expect("callback x 100 a")
	v.ok(v.e.CallbackFailed("x"))
	if cbs, _ := v.store.Callbacks(); len(cbs) != 1 || cbs[0].Tries != 1 {
		t.Fatalf("stored %+v", cbs)
	}
	v.clk.Advance(59 * time.Second)
	v.expect()
	v.clk.Advance(time.Second)
	v.expect("callback x 100 a")
	v.clk.Advance(DefaultCallbackTimeout)   // no report: counts as failure
	v.expect("stopring a x", "notify 1  x") // the engine gives up the dial
	if cbs, _ := v.store.Callbacks(); len(cbs) != 0 {
		t.Fatalf("callback kept after giving up: %+v", cbs)
	}
	if v.state("a") != Idle || len(v.e.Waiting()) != 0 {
		t.Fatal("not cleaned up")
	}
}

// TestCallbackSurvivesRestart: a new engine over the same store restores
// the callback at its original place, ahead of later callers.
func TestCallbackSurvivesRestart(t *testing.T) {
	v := newEnv(t, oneAgent())
	v.offer("early", "100")
	v.clk.Advance(time.Minute)
	v.ok(v.e.RequestCallback("early", ""))

	e2, err := New(oneAgent(), Options{Clock: v.clk, Actions: v.rec, Status: v.store, Callbacks: v.store})
	v.ok(err)
	v.e = e2
	v.clk.Advance(time.Minute)
	v.offer("late", "200")
	w := v.e.Waiting()
	if len(w) != 2 || w[0].Call != "early" || !w[0].Callback || w[0].Waited != 2*time.Minute {
		t.Fatalf("waiting after restart %+v", w)
	}
	v.take()
	v.login("a")
	v.expect("callback early 100 a")
	v.ok(v.e.CallbackConnected("early"))
	v.ok(v.e.Hangup("early"))
	v.clk.Advance(30 * time.Second)
	v.expect("connect early a", "ring a late")
}

// TestSupervisor covers stop, assign and state changes.
func TestSupervisor(t *testing.T) {
	v := newEnv(t, oneGroup(Linear))
	v.login("a", "b")
	v.ok(v.e.SetState("b", Break, "meeting"))
	v.take()
	v.offer("x", "1")
	v.expect("ring a x")
	// Forced logout is refused while ringing.
	if err := v.e.SetState("a", Offline, "forced"); !errors.Is(err, ErrEngaged) {
		t.Fatalf("forced logout while ringing: %v", err)
	}
	// Assign to b (on break): a stops ringing, b rings.
	v.ok(v.e.Assign("x", "b"))
	v.expect("stopring a x", "ring b x")
	v.ok(v.e.Answer("b", "x"))
	v.take()
	if err := v.e.Assign("x", "a"); err == nil {
		t.Fatal("assigned a connected call")
	}
	if err := v.e.Assign("zz", "a"); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("unknown call: %v", err)
	}
	// Stop a waiting request.
	v.ok(v.e.SetState("a", Busy, ""))
	v.offer("y", "1")
	v.ok(v.e.Stop("y"))
	v.expect("route y hangup ")
	if len(v.e.Waiting()) != 0 {
		t.Fatal("stopped call still waiting")
	}
	if err := v.e.Assign("y", "a"); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("stopped call assignable: %v", err)
	}
	// Forced logout of an idle agent.
	v.ok(v.e.SetState("a", Offline, "forced"))
	if v.state("a") != Offline {
		t.Fatal("forced logout failed")
	}
	if err := v.e.Assign("x", "nobody"); !errors.Is(err, ErrUnknownAgent) {
		t.Fatalf("unknown agent: %v", err)
	}
}

// TestFigures checks queue and agent figures, service level with the 20 s
// default threshold, and the reset at midnight.
func TestFigures(t *testing.T) {
	cfg := oneAgent()
	cfg.Agents[0].WrapUp = 0
	v := newEnv(t, cfg)
	v.offer("slow", "1")
	v.clk.Advance(25 * time.Second)
	v.login("a") // slow is answered after 26 s: outside SL
	v.ok(v.e.Answer("a", "slow"))
	v.offer("w1", "1")
	v.offer("w2", "1")
	v.clk.Advance(40 * time.Second)
	q := v.queue(1)
	if q.Waiting != 2 || q.LongestWait != 40*time.Second || q.Answered != 1 || q.AnsweredSL != 0 {
		t.Fatalf("figures %+v", q)
	}
	v.ok(v.e.Hangup("w2")) // abandoned
	v.ok(v.e.Hangup("slow"))
	v.ok(v.e.Answer("a", "w1")) // 40 s: outside
	v.clk.Advance(30 * time.Second)
	v.ok(v.e.Hangup("w1"))
	v.offer("fast", "1")
	v.clk.Advance(5 * time.Second)
	v.ok(v.e.Answer("a", "fast")) // about 5 s
	q = v.queue(1)
	if q.Offered != 4 || q.Answered != 3 || q.AnsweredSL != 1 || q.Abandoned != 1 {
		t.Fatalf("figures %+v", q)
	}
	if want := 1.0 / 4; q.ServiceLevel != want {
		t.Fatalf("service level %v, want %v", q.ServiceLevel, want)
	}
	st, _ := v.e.Agent("a")
	if st.Answered != 3 || st.TalkTime != 40*time.Second+30*time.Second {
		t.Fatalf("agent %+v", st)
	}
	v.clk.Advance(24 * time.Hour)
	if q := v.queue(1); q.Answered != 0 || q.Offered != 0 {
		t.Fatalf("not reset next day %+v", q)
	}
	if st, _ := v.e.Agent("a"); st.Answered != 0 || st.State != Talking || st.InState != 24*time.Hour {
		t.Fatalf("agent next day %+v", st)
	}
}

// TestLeaveNoPingPong: two groups that overflow into each other, both
// emptied, send the caller out instead of passing them back and forth.
func TestLeaveNoPingPong(t *testing.T) {
	cfg := Config{
		Groups: []Group{
			{ID: 1, Enabled: true, Leave: EmptyNoAvailable, Overflow: Target{Kind: TargetGroup, Group: 2}},
			{ID: 2, Enabled: true, Leave: EmptyNoAvailable, Overflow: Target{Kind: TargetGroup, Group: 1}},
		},
		Agents:  []Agent{{ID: "a", Groups: []Membership{{1, 1}, {2, 1}}, WrapUp: time.Minute}},
		Default: CustomerType{Groups: []int{1}},
	}
	v := newEnv(t, cfg)
	v.login("a")
	v.offer("x", "1")
	v.ok(v.e.Answer("a", "x"))
	v.ok(v.e.Hangup("x")) // a in wrap-up: still available
	v.offer("y", "1")
	v.take()
	v.ok(v.e.SetState("a", Break, ""))
	v.expect("route y hangup ")
}

// TestLongWaitTimers: a caller waiting for hours with frequent prompts and
// no agents keeps a bounded list of timers.
func TestLongWaitTimers(t *testing.T) {
	cfg := oneAgent()
	cfg.Groups[0].Prompt, cfg.Groups[0].PromptEvery, cfg.Groups[0].AnnounceEvery = "p", 5*time.Second, 7*time.Second
	v := newEnv(t, cfg)
	v.offer("x", "1")
	v.clk.Advance(3 * time.Hour)
	if n := len(v.e.calls["x"].timers); n > 10 {
		t.Fatalf("%d timers kept", n)
	}
	if n := v.clk.Pending(); n != 2 {
		t.Fatalf("%d timers pending, want prompt and announcement", n)
	}
	v.ok(v.e.Hangup("x"))
	if n := v.clk.Pending(); n != 0 {
		t.Fatalf("%d timers left after hangup", n)
	}
}

// TestFiguresByQueue: a call counts with its queue (primary group) even
// when an agent of a later group answers it.
func TestFiguresByQueue(t *testing.T) {
	cfg := twoGroups(Target{})
	cfg.Groups[0].MaxWait = 0
	cfg.Default = CustomerType{Groups: []int{1, 2}}
	v := newEnv(t, cfg)
	v.login("b")
	v.take()
	v.offer("x", "1")
	v.expect("ring b x")
	v.ok(v.e.Answer("b", "x"))
	v.clk.Advance(time.Minute)
	v.ok(v.e.Hangup("x"))
	q1, q2 := v.queue(1), v.queue(2)
	if q1.Offered != 1 || q1.Answered != 1 || q1.AnsweredSL != 1 || q2.Offered != 0 || q2.Answered != 0 {
		t.Fatalf("group 1 %+v\ngroup 2 %+v", q1, q2)
	}
	if est, _ := v.e.EstimatedWait(1); est != time.Minute {
		t.Fatalf("group 1 estimate %s from its own handle time", est)
	}
}
