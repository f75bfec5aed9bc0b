//go:build !linux

package dsptest

import "time"

// ThreadCPU is not measured on this system; it returns 0.
func ThreadCPU() time.Duration { return 0 }

// LockThread does nothing on this system.
func LockThread() func() { return func() {} }
