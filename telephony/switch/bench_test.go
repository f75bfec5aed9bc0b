package callswitch_test

import (
	"testing"
	"time"

	"callbox/telephony/line"
)

// Two calls in progress on the sim board (201-202, 203-204): one frame
// is every port's service, the highway, four FXS channels, two idle FXO
// channels, the switch and the media engine's two bridges. The switch's
// steady state must not allocate.
func BenchmarkFrameTwoCalls(b *testing.B) {
	r := newRig(b, rigOpt{})
	r.talk("201", "202")
	r.talk("203", "204")
	r.run(time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.clk.Advance(line.FrameTime)
		if err := r.bd.Step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}

func TestFrameAllocatesNothing(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.talk("201", "202")
	r.flash() // 202 on hold with music: the music player runs too
	r.talk("203", "204")
	r.run(time.Second)
	step := func() {
		r.clk.Advance(line.FrameTime)
		if err := r.bd.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(300, step); n != 0 {
		t.Fatalf("%v allocations per frame", n)
	}
}
