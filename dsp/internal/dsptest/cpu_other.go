//go:build !linux

package dsptest

import (
	"testing"
	"time"
)

// ThreadCPU is not measured on this system; it returns 0.
func ThreadCPU() time.Duration { return 0 }

// LockThread does nothing on this system.
func LockThread() func() { return func() {} }

// CPUClock measures nothing on this system.
type CPUClock struct{}

// StartCPU returns a CPUClock that reports nothing.
func StartCPU(b *testing.B) CPUClock { return CPUClock{} }

// PerSample reports nothing on this system.
func (CPUClock) PerSample(b *testing.B, n int) {}
