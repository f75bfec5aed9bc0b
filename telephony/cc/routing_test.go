package cc_test

import (
	"context"
	"testing"
	"time"

	"callbox/telephony/acd"
)

// Routing waits for nothing: once a caller is queued and the agent is
// ready (the caller arriving with the agent idle, or the agent turning
// ready with the caller waiting), the agent's analog phone rings within
// the frames the line itself needs, counted on the virtual clock, not in
// wall time (speed lives in bench-cc). A timer, poll or second tick in the
// path would show as more frames.
func TestRoutingWaitsNoFrames(t *testing.T) {
	for _, readyFirst := range []bool{true, false} {
		r := newRig(t, testConfig(), nil)
		r.login("1088", "202")
		setState := func(to acd.State, reason string) {
			t.Helper()
			if err := r.do(func(ctx context.Context) error { return r.svc.SetState(ctx, "1088", to, reason, "") }); err != nil {
				t.Fatal(err)
			}
		}
		if !readyFirst {
			setState(acd.Break, "tea")
		}
		co := r.ring("fxo1", "13800138000")
		r.untilAnswered(co)
		r.run(2 * time.Second)
		if err := co.SendDTMF("1"); err != nil {
			t.Fatal(err)
		}
		for n := 0; len(r.svc.Waiting()) == 0; n++ {
			if n > 300 {
				t.Fatal("the caller never queued")
			}
			r.run(10 * time.Millisecond)
		}
		if !readyFirst {
			setState(acd.Idle, "ready")
		}
		frames := 0
		for ; !r.phone("202").Ringing() && frames < 100; frames++ {
			r.run(10 * time.Millisecond)
		}
		if frames > 1 {
			t.Errorf("agent ready first %v: 202 rang %d frames after the call could go to 1088, want at most 1",
				readyFirst, frames)
		}
		r.svc.Close()
		r.sw.Close()
	}
}
