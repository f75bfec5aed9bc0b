// Package vclock is the time source of the board drivers and chip
// emulators: the real clock on hardware, a virtual one in tests, so a
// 500 ms DC-DC ramp or a 2 s calibration timeout costs no wall time.
package vclock

import (
	"sync"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	Now() time.Time
	Sleep(d time.Duration)
}

// Real is the system clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Sleep calls time.Sleep.
func (Real) Sleep(d time.Duration) { time.Sleep(d) }

// Virtual is a clock that moves only when told to: Sleep and Advance move
// it forward at once. It is safe for concurrent use.
type Virtual struct {
	mu  sync.Mutex
	now time.Time
}

// NewVirtual returns a virtual clock set to a fixed instant.
func NewVirtual() *Virtual {
	return &Virtual{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// Now returns the virtual time.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

// Sleep advances the virtual time by d without waiting.
func (v *Virtual) Sleep(d time.Duration) { v.Advance(d) }

// Advance moves the virtual time forward by d (negative d is ignored).
func (v *Virtual) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	v.mu.Lock()
	v.now = v.now.Add(d)
	v.mu.Unlock()
}
