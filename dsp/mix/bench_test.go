package mix

import (
	"fmt"
	"testing"

	"callbox/dsp/internal/dsptest"
)

// BenchmarkMixer reports ns per sample per party for 10 ms blocks.
func BenchmarkMixer(b *testing.B) {
	for _, parties := range []int{3, 8, 30} {
		b.Run(fmt.Sprintf("parties=%d", parties), func(b *testing.B) {
			m, _ := NewMixer(parties, 80)
			in := make([][]int16, parties)
			out := make([][]int16, parties)
			for p := range in {
				in[p] = noise(uint64(p), 80, 3000)
				out[p] = make([]int16, 80)
				m.SetInputGain(p, GainDB(float64(p%5)-2))
			}
			b.ReportAllocs()
			defer dsptest.LockThread()()
			cpu0 := dsptest.ThreadCPU()
			for b.Loop() {
				m.Mix(out, in)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*80*parties), "ns/sample")
			b.ReportMetric(float64((dsptest.ThreadCPU()-cpu0).Nanoseconds())/float64(b.N*80*parties), "cpu-ns/sample")
		})
	}
}

func BenchmarkGainApply(b *testing.B) {
	src := noise(1, 80, 3000)
	dst := make([]int16, 80)
	g := GainDB(-6)
	b.ReportAllocs()
	defer dsptest.LockThread()()
	cpu0 := dsptest.ThreadCPU()
	for b.Loop() {
		g.Apply(dst, src)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*80), "ns/sample")
	b.ReportMetric(float64((dsptest.ThreadCPU()-cpu0).Nanoseconds())/float64(b.N*80), "cpu-ns/sample")
}

func BenchmarkAGC(b *testing.B) {
	src := bursts(1, 1, -30)
	dst := make([]int16, len(src))
	a := NewAGC(AGCConfig{})
	b.ReportAllocs()
	defer dsptest.LockThread()()
	cpu0 := dsptest.ThreadCPU()
	i := 0
	for b.Loop() {
		a.Process(dst[i:i+80], src[i:i+80])
		i = (i + 80) % len(src)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*80), "ns/sample")
	b.ReportMetric(float64((dsptest.ThreadCPU()-cpu0).Nanoseconds())/float64(b.N*80), "cpu-ns/sample")
}
