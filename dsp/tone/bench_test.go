package tone

import (
	"testing"

	"callbox/dsp/internal/dsptest"
)

// benchSamples runs body b.N times over n samples per run and reports
// ns/sample (wall) and cpu-ns/sample.
func benchSamples(b *testing.B, n int, body func()) {
	defer dsptest.LockThread()()
	b.ReportAllocs()
	b.ResetTimer()
	c0 := dsptest.ThreadCPU()
	for range b.N {
		body()
	}
	c1 := dsptest.ThreadCPU()
	total := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/sample")
	b.ReportMetric(float64((c1-c0).Nanoseconds())/total, "cpu-ns/sample")
}
