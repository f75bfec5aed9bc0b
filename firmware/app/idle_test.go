package app

import (
	"testing"
	"time"

	"callbox/board/pcm"
	"callbox/dsp/tone"
)

// An idle simulated box runs its frames in batches (one wake per
// idleBatch frames, issue 16's idle CPU); a phone taken off hook wakes the
// clock and gets dial tone, and no frame is batched while it is off hook;
// once it hangs up the batches come back. Counted in frames, not time.
func TestIdleBoxBatchesFrames(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon in real time with sockets")
	}
	a, _ := newApp(t, Config{Board: "sim", NoWatchdog: true})
	stop := start(t, a)
	defer func() {
		if _, err := stop(); err != nil {
			t.Error(err)
		}
	}()
	pb := a.livePorts()
	stats := func() pcm.Stats {
		for _, h := range pb.HighwayStats() {
			return h.Stats
		}
		t.Fatal("no highway")
		return pcm.Stats{}
	}
	eventually(t, 30*time.Second, "frames batched while idle", func() bool { return stats().Batched > 0 })

	p := pb.Sim().Phone("fxs1")
	p.OffHook()
	eventually(t, 30*time.Second, "dial tone", func() bool { return p.Status(time.Time{}).Hears == tone.Dial })
	before := stats()
	eventually(t, 30*time.Second, "50 frames", func() bool { return stats().Ticks >= before.Ticks+50 })
	if after := stats(); after.Batched != before.Batched {
		t.Errorf("%d frames batched with a phone off hook", after.Batched-before.Batched)
	}

	p.OnHook()
	eventually(t, 30*time.Second, "batches again after hanging up", func() bool { return stats().Batched > before.Batched })
}
