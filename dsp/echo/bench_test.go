package echo

import (
	"fmt"
	"testing"

	"callbox/dsp/internal/dsptest"
)

// BenchmarkProcess measures the canceller in 10 ms blocks while it adapts
// (far-end noise through model D.2), the worst case per sample.
func BenchmarkProcess(b *testing.B) {
	for _, taps := range []int{256, 1024} {
		for _, nlp := range []bool{false, true} {
			b.Run(fmt.Sprintf("taps=%d/nlp=%v", taps, nlp), func(b *testing.B) {
				const n = rate
				far := noise(3, n, farRMS)
				near := convolve(far, echoPath(g168Models[0], 20, 10))
				out := make([]int16, n)
				c := newCanceller(b, taps, WithNLP(nlp))
				b.ReportAllocs()
				defer dsptest.LockThread()()
				cpu0 := dsptest.ThreadCPU()
				b.ResetTimer()
				samples := 0
				for i := 0; b.Loop(); i = (i + 80) % n {
					c.Process(out[i:i+80], near[i:i+80], far[i:i+80])
					samples += 80
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(samples), "ns/sample")
				b.ReportMetric(float64((dsptest.ThreadCPU()-cpu0).Nanoseconds())/float64(samples), "cpu-ns/sample")
			})
		}
	}
}
