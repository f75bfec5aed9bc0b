package cc_test

import (
	"context"
	"testing"
	"time"

	"callbox/board/sim"
	"callbox/telephony/acd"
)

// A restart in the middle of the day keeps agents' states (with their
// reasons) and devices, pending callbacks and the fact rows: the service
// built again from the same stores carries on.
func TestRestartKeepsStatesCallbacksFacts(t *testing.T) {
	cfg := testConfig()
	cfg.Groups[0].CallbackOffer, cfg.Groups[0].CallbackKey = true, "1"
	st := newStores()
	r := newRig(t, cfg, st)
	r.login("1088", "202")
	r.login("1099", "203")
	for _, c := range []struct {
		agent  string
		to     acd.State
		reason string
	}{{"1088", acd.Busy, "paperwork"}, {"1099", acd.Break, "lunch"}} {
		if err := r.do(func(ctx context.Context) error {
			return r.svc.SetState(ctx, acd.AgentID(c.agent), c.to, c.reason, "")
		}); err != nil {
			t.Fatal(err)
		}
	}
	co := r.ring("fxo1", "13800138000")
	r.untilAnswered(co)
	co.SendDTMF("1")
	r.run(2 * time.Second)
	co.SendDTMF("1")
	r.run(4 * time.Second)
	if cbs, _ := st.acd.Callbacks(); len(cbs) != 1 {
		t.Fatalf("callbacks %+v", cbs)
	}
	facts := st.facts.all()
	if len(facts) != 1 || facts[0].Disposition != "callback" {
		t.Fatalf("facts %+v", facts)
	}
	// Restart: the service and the switch stop; the stores stay.
	r.svc.Close()
	r.sw.Close()
	r2 := newRig(t, cfg, st)
	for agent, want := range map[string]string{"1088": "busy paperwork", "1099": "break lunch"} {
		s, err := r2.svc.ACD().Agent(acd.AgentID(agent))
		if err != nil || s.State.String()+" "+s.Reason != want {
			t.Fatalf("%s after the restart: %s %q (%v), want %s", agent, s.State, s.Reason, err, want)
		}
	}
	if w := r2.svc.Waiting(); len(w) != 1 || !w[0].Callback {
		t.Fatalf("waiting after the restart %+v", w)
	}
	// 1088 ready: the callback rings 202, the device bound before.
	if err := r2.do(func(ctx context.Context) error { return r2.svc.SetState(ctx, "1088", acd.Idle, "ready", "") }); err != nil {
		t.Fatal(err)
	}
	r2.untilRinging("202")
	if len(st.facts.all()) != 1 {
		t.Fatalf("facts after the restart %+v", st.facts.all())
	}
}

// A restart in the middle of the day keeps the day's figures: the
// agent's state with its time in state, calls answered and talk time, and the group's offered,
// answered, answered within the service level and abandoned, as the
// board showed them before (the service built again from the same
// stores, as after kill -9 with the store reopened).
func TestRestartKeepsTodaysFigures(t *testing.T) {
	cfg := testConfig()
	st := newStores()
	r := newRig(t, cfg, st)
	r.login("1088", "202")
	// One call answered by 1088, 30 s of talk.
	co := r.ring("fxo1", "13800138000")
	r.untilAnswered(co)
	r.run(2 * time.Second)
	if err := co.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	r.answer("202")
	r.run(30 * time.Second)
	r.phone("202").OnHook()
	r.run(7 * time.Second)
	// 1088 on a break; a second caller waits 10 s and gives up.
	if err := r.do(func(ctx context.Context) error { return r.svc.SetState(ctx, "1088", acd.Break, "lunch", "") }); err != nil {
		t.Fatal(err)
	}
	co2 := r.ring("fxo2", "13900139000")
	r.untilAnswered(co2)
	r.run(2 * time.Second)
	if err := co2.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	r.run(10 * time.Second)
	if err := co2.Hangup(1, 0); err != nil {
		t.Fatal(err)
	}
	r.run(2 * time.Second)
	figures := func(r *rig) (acd.QueueStats, acd.AgentStatus) {
		t.Helper()
		a, err := r.svc.ACD().Agent("1088")
		if err != nil {
			t.Fatal(err)
		}
		return r.svc.ACD().Queues()[0], a
	}
	q, a := figures(r)
	if q.Offered != 2 || q.Answered != 1 || q.AnsweredSL != 1 || q.Abandoned != 1 || a.Answered != 1 ||
		a.TalkTime < 30*time.Second || a.TalkTime > 33*time.Second {
		t.Fatalf("before the restart: %+v, 1088 answered %d talked %v", q, a.Answered, a.TalkTime)
	}
	r.svc.Close()
	r.sw.Close()
	// The box comes back a minute later.
	st.later = r.now().Sub(sim.VirtualClock().Now()) + time.Minute
	r2 := newRig(t, cfg, st)
	q2, a2 := figures(r2)
	q2.LongestWait, q.LongestWait = 0, 0
	if a2.State != acd.Break || a2.Reason != "lunch" || !a2.Since.Equal(a.Since) {
		t.Fatalf("1088 after the restart: %s %q since %v; before it since %v", a2.State, a2.Reason, a2.Since, a.Since)
	}
	if q2 != q || a2.Answered != a.Answered || a2.TalkTime.Round(time.Second) != a.TalkTime.Round(time.Second) {
		t.Fatalf("after the restart: %+v, 1088 answered %d talked %v\n want %+v, %d, %v",
			q2, a2.Answered, a2.TalkTime, q, a.Answered, a.TalkTime)
	}
}
