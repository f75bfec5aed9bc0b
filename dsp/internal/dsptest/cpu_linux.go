package dsptest

import (
	"runtime"
	"syscall"
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
