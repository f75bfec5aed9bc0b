package dsptest

import (
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// ThreadCPU returns the CPU time the calling OS thread has consumed
// (CLOCK_THREAD_CPUTIME_ID). Benchmarks report it per sample as
// "cpu-ns/sample" beside wall time because build machines are shared:
// under load, wall time includes time spent waiting for a core.
func ThreadCPU() time.Duration {
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	var ts syscall.Timespec
	_, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}

// LockThread pins the goroutine to its thread so ThreadCPU measures the
// benchmark alone; call the returned function to unpin.
func LockThread() func() {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}

// CPUClock measures a benchmark's thread CPU time from StartCPU on.
type CPUClock struct{ start time.Duration }

// StartCPU pins the benchmark to its thread for the rest of b and starts
// measuring its CPU time.
func StartCPU(b *testing.B) CPUClock {
	b.Cleanup(LockThread())
	return CPUClock{ThreadCPU()}
}

// PerSample reports "cpu-ns/sample" for b.N iterations of n samples each.
func (c CPUClock) PerSample(b *testing.B, n int) {
	b.ReportMetric(float64((ThreadCPU()-c.start).Nanoseconds())/float64(b.N*n), "cpu-ns/sample")
}
