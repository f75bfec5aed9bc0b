package cc_test

import (
	"context"
	"testing"
	"time"

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
