package tone

import (
	"syscall"
	"testing"
)

// cpuClock returns the process's user+system CPU time in ns. The benchmarks
// report it per sample beside wall time ("cpu-ns/sample") because this
// machine is shared: under load wall time overstates the cost.
func cpuClock() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// benchSamples runs body b.N times over n samples per run and reports
// ns/sample (wall) and cpu-ns/sample.
func benchSamples(b *testing.B, n int, body func()) {
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuClock()
	for range b.N {
		body()
	}
	c1 := cpuClock()
	total := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/sample")
	b.ReportMetric(float64(c1-c0)/total, "cpu-ns/sample")
}
