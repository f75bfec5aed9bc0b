package acd

import (
	"errors"
	"testing"
	"time"
)

// reach brings agent "a" of a one-agent group (wrap-up 30 s) into state s,
// with call "x" ringing or talking where the state needs one.
func reach(v *env, s State) {
	v.t.Helper()
	switch s {
	case Offline:
	case Idle:
		v.login("a")
	case Break, Busy:
		v.login("a")
		v.ok(v.e.SetState("a", s, "tea"))
	case Ringing:
		v.login("a")
		v.offer("x", "1")
	case Talking:
		reach(v, Ringing)
		v.ok(v.e.Answer("a", "x"))
	case WrapUp:
		reach(v, Talking)
		v.ok(v.e.Hangup("x"))
	}
	if got := v.state("a"); got != s {
		v.t.Fatalf("reached %s, want %s", got, s)
	}
	v.take()
}

func oneAgent() Config {
	return Config{
		Groups: []Group{{ID: 1, Enabled: true, RingTimeout: 10 * time.Second}},
		Agents: []Agent{{ID: "a", Groups: []Membership{{1, 1}}, WrapUp: 30 * time.Second}},
	}
}

// TestTransitions runs every operation from every state.
func TestTransitions(t *testing.T) {
	type op struct {
		name string
		do   func(v *env) error
	}
	set := func(s State) op {
		return op{"set " + s.String(), func(v *env) error { return v.e.SetState("a", s, "r") }}
	}
	ops := []op{
		set(Idle), set(Break), set(Busy), set(Offline),
		{"answer", func(v *env) error { return v.e.Answer("a", "x") }},
		{"reject", func(v *env) error { return v.e.Reject("a", "x") }},
		{"hangup", func(v *env) error { return v.e.Hangup("x") }},
		{"wait 10s", func(v *env) error { v.clk.Advance(10 * time.Second); return nil }},
		{"wait 30s", func(v *env) error { v.clk.Advance(30 * time.Second); return nil }},
	}
	// want[state][op]: the state after, or "E" for an error (state unchanged).
	want := map[State][]string{
		//        idle      break    busy     offline    answer     reject   hangup     10s        30s
		Offline: {"idle", "break", "busy", "offline", "E", "E", "E", "offline", "offline"},
		Idle:    {"idle", "break", "busy", "offline", "E", "E", "E", "idle", "idle"},
		Break:   {"idle", "break", "busy", "offline", "E", "E", "E", "break", "break"},
		Busy:    {"idle", "break", "busy", "offline", "E", "E", "E", "busy", "busy"},
		// ringing: manual changes refused; reject frees the agent (the call
		// waits on, re-rung after the 5 s retry); no answer in 10 s likewise.
		// (ring timeout at 10 s, re-rung at 15 s, 25 s, then 30 s).
		Ringing: {"E", "E", "E", "E", "talking", "idle", "idle", "idle", "ringing"},
		Talking: {"E", "E", "E", "E", "E", "E", "wrap_up", "talking", "talking"},
		WrapUp:  {"idle", "break", "busy", "offline", "E", "E", "E", "wrap_up", "idle"},
	}
	for from, row := range want {
		for i, o := range ops {
			t.Run(from.String()+"/"+o.name, func(t *testing.T) {
				v := newEnv(t, oneAgent())
				reach(v, from)
				err := o.do(v)
				got := v.state("a").String()
				if row[i] == "E" {
					if err == nil {
						t.Fatalf("no error; now %s", got)
					}
					if got != from.String() {
						t.Fatalf("error %v but state moved to %s", err, got)
					}
					if from.engaged() && o.name[:3] == "set" && !errors.Is(err, ErrEngaged) {
						t.Fatalf("error %v, want ErrEngaged", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got != row[i] {
					t.Fatalf("state %s, want %s", got, row[i])
				}
			})
		}
	}
}

// TestRingTimeoutTimeline: a ring lasts the group's ring timeout, then the
// call waits the retry delay before the same agent is rung again.
func TestRingTimeoutTimeline(t *testing.T) {
	v := newEnv(t, oneAgent())
	reach(v, Ringing)
	v.clk.Advance(9 * time.Second)
	v.expect()
	v.clk.Advance(time.Second)
	v.expect("stopring a x")
	if v.state("a") != Idle {
		t.Fatal("not idle after ring timeout")
	}
	v.clk.Advance(5 * time.Second) // retry delay: the only agent is rung again
	v.expect("ring a x")
}

// TestNoAnswerLimit: after N consecutive no-answers the agent goes on break
// (or is signed out) and supervisors are told; an answer resets the count.
func TestNoAnswerLimit(t *testing.T) {
	for _, act := range []NoAnswerAction{NoAnswerBreak, NoAnswerSignOut} {
		cfg := oneAgent()
		cfg.MaxNoAnswer = 2
		cfg.NoAnswer = act
		cfg.Agents = append(cfg.Agents, Agent{ID: "b", Groups: []Membership{{1, 1}}})
		v := newEnv(t, cfg)
		v.login("a")
		v.offer("x", "1")
		v.clk.Advance(10 * time.Second) // a: 1st no-answer, b offline so retry a
		v.clk.Advance(5 * time.Second)
		v.ok(v.e.Answer("a", "x")) // resets
		v.ok(v.e.Hangup("x"))
		v.clk.Advance(30 * time.Second) // wrap-up
		v.take()
		v.offer("y", "1")
		v.clk.Advance(10 * time.Second)
		if v.state("a") != Idle {
			t.Fatalf("count not reset by answer: %s", v.state("a"))
		}
		v.clk.Advance(5 * time.Second) // re-rung
		v.clk.Advance(10 * time.Second)
		want := Break
		if act == NoAnswerSignOut {
			want = Offline
		}
		if got := v.state("a"); got != want {
			t.Fatalf("after limit: %s, want %s", got, want)
		}
		if n := v.rec.notices; len(n) != 1 || n[0].Kind != NoticeNoAnswer || n[0].Agent != "a" {
			t.Fatalf("notices %+v", n)
		}
		// The call still waits and goes to b when b logs in.
		v.take()
		v.login("b")
		v.expect("ring b y")
	}
}

// TestRejectMovesOn: rejecting hands the call to the next agent at once.
func TestRejectMovesOn(t *testing.T) {
	v := newEnv(t, oneGroup(Linear))
	v.login("a", "b", "c")
	v.take()
	v.offer("x", "1")
	v.expect("ring a x")
	v.ok(v.e.Reject("a", "x"))
	v.expect("ring b x")
	v.ok(v.e.Reject("b", "x"))
	v.expect("ring c x")
}

// TestWrapUp ends by timer or by the agent.
func TestWrapUp(t *testing.T) {
	v := newEnv(t, oneAgent())
	reach(v, WrapUp)
	v.offer("y", "2")
	v.clk.Advance(29 * time.Second)
	v.expect()
	v.clk.Advance(time.Second)
	v.expect("ring a y")

	v = newEnv(t, oneAgent())
	reach(v, WrapUp)
	v.offer("y", "2")
	v.ok(v.e.SetState("a", Idle, "done"))
	v.expect("ring a y")
	v.ok(v.e.Answer("a", "y"))
	v.clk.Advance(time.Minute) // the stale wrap-up timer must not fire
	if v.state("a") != Talking {
		t.Fatal("stale wrap-up timer changed the state")
	}
}

// TestStatusLog: every change is logged with its time and reason.
func TestStatusLog(t *testing.T) {
	v := newEnv(t, oneAgent())
	reach(v, WrapUp)
	v.clk.Advance(30 * time.Second)
	v.ok(v.e.SetState("a", Break, "lunch"))
	got, err := v.store.StatusEntries("a", t0, t0.Add(time.Hour))
	v.ok(err)
	want := []struct {
		from, to State
		reason   string
	}{
		{Offline, Idle, "login"}, {Idle, Ringing, ""}, {Ringing, Talking, ""},
		{Talking, WrapUp, ""}, {WrapUp, Idle, "wrap-up over"}, {Idle, Break, "lunch"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries: %+v", len(got), got)
	}
	for i, w := range want {
		if got[i].From != w.from || got[i].To != w.to || got[i].Reason != w.reason {
			t.Errorf("entry %d: %+v want %+v", i, got[i], w)
		}
	}
	if !got[4].At.Equal(got[3].At.Add(30 * time.Second)) {
		t.Errorf("wrap-up lasted %s", got[4].At.Sub(got[3].At))
	}
	if got[1].Call != "x" {
		t.Errorf("ring entry without call: %+v", got[1])
	}
	st, _ := v.e.Agent("a")
	if st.State != Break || st.Reason != "lunch" || st.Answered != 1 {
		t.Errorf("agent status %+v", st)
	}
}
