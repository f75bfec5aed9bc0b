package echo

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// threadCPU returns the CPU time consumed by the calling OS thread
// (clock_gettime CLOCK_THREAD_CPUTIME_ID, nanosecond resolution). The
// benchmarks report it beside wall time because the build machines are
// shared: under load, wall time includes time spent waiting for a core.
func threadCPU() time.Duration {
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	var ts syscall.Timespec
	_, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}

// lockThread pins the goroutine to its thread so threadCPU is meaningful.
func lockThread() func() {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}
