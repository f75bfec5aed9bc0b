package plc

import (
	"math"
	"testing"

	"callbox/dsp/internal/dsptest"
)

func voiced() []int16 {
	x := make([]int16, 8*FrameLen)
	for i := range x {
		ph := 2 * math.Pi * 140 * float64(i) / rate
		x[i] = int16(6000*math.Sin(ph) + 2000*math.Sin(3*ph))
	}
	return x
}

// BenchmarkGood is the cost of passing received frames.
func BenchmarkGood(b *testing.B) {
	x := voiced()
	out := make([]int16, FrameLen)
	c := New()
	b.ReportAllocs()
	defer dsptest.LockThread()()
	cpu0 := dsptest.ThreadCPU()
	i := 0
	for b.Loop() {
		c.Good(out, x[i:i+FrameLen])
		i = (i + FrameLen) % len(x)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*FrameLen), "ns/sample")
	b.ReportMetric(float64((dsptest.ThreadCPU()-cpu0).Nanoseconds())/float64(b.N*FrameLen), "cpu-ns/sample")
}

// BenchmarkLost is the worst case: every other frame lost, so each lost
// frame starts a loss with a pitch search, and each good one blends back.
func BenchmarkLost(b *testing.B) {
	x := voiced()
	out := make([]int16, FrameLen)
	c := New()
	b.ReportAllocs()
	defer dsptest.LockThread()()
	cpu0 := dsptest.ThreadCPU()
	i := 0
	for b.Loop() {
		c.Good(out, x[i:i+FrameLen])
		c.Lost(out)
		i = (i + FrameLen) % len(x)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2*FrameLen), "ns/sample")
	b.ReportMetric(float64((dsptest.ThreadCPU()-cpu0).Nanoseconds())/float64(b.N*2*FrameLen), "cpu-ns/sample")
}

// BenchmarkLossBurst is a 50 ms loss (five frames) after every good frame:
// one pitch search per loss, then plain synthesis.
func BenchmarkLossBurst(b *testing.B) {
	x := voiced()
	out := make([]int16, FrameLen)
	c := New()
	b.ReportAllocs()
	defer dsptest.LockThread()()
	cpu0 := dsptest.ThreadCPU()
	i := 0
	for b.Loop() {
		c.Good(out, x[i:i+FrameLen])
		for range 5 {
			c.Lost(out)
		}
		i = (i + FrameLen) % len(x)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*6*FrameLen), "ns/sample")
	b.ReportMetric(float64((dsptest.ThreadCPU()-cpu0).Nanoseconds())/float64(b.N*6*FrameLen), "cpu-ns/sample")
}
