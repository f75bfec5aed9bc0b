package g711

import (
	"runtime"
	"syscall"
	"testing"
)

// The machines that run the benchmarks are shared, so wall time per sample
// (ns/sample) swings with the load; the benchmarks also report the CPU time
// of the benchmarking thread (cpu-ns/sample), which does not.

// cpuClock measures the calling thread's CPU time.
type cpuClock struct{ start int64 }

func startCPU(b *testing.B) cpuClock {
	runtime.LockOSThread()
	b.Cleanup(runtime.UnlockOSThread)
	return cpuClock{threadCPU()}
}

// perSample reports CPU ns per sample for b.N iterations of n samples.
func (c cpuClock) perSample(b *testing.B, n int) {
	b.ReportMetric(float64(threadCPU()-c.start)/float64(b.N*n), "cpu-ns/sample")
}

func threadCPU() int64 {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
