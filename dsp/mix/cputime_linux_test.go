package mix

import (
	"runtime"
	"syscall"
	"time"
)

// threadCPU returns the CPU time consumed by the calling OS thread. The
// benchmarks report it beside wall time because the build machines are
// shared: under load, wall time includes time spent waiting for a core.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// lockThread pins the goroutine to its thread so threadCPU is meaningful.
func lockThread() func() {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}
