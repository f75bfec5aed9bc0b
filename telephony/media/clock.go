package media

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// A Clock calls tick once per 10 ms frame until ctx is done, on one
// goroutine, and returns ctx's error.
type Clock interface {
	Run(ctx context.Context, tick func()) error
}

// Ticker is the real-time Clock of the simulation (on the board the PCM
// highway paces the engine instead). Ticks are due on a fixed grid from the
// start; a late tick is run at once so audio keeps its rate, and when more
// than MaxCatchUp ticks are due the excess is skipped and counted.
type Ticker struct {
	// MaxCatchUp bounds how many overdue ticks run back to back (default 5).
	MaxCatchUp int
	late       atomic.Uint64
	skipped    atomic.Uint64
}

// Late returns how many ticks ran after their due time plus one frame.
func (t *Ticker) Late() uint64 { return t.late.Load() }

// Skipped returns how many ticks were dropped to catch up.
func (t *Ticker) Skipped() uint64 { return t.skipped.Load() }

// Run implements Clock.
func (t *Ticker) Run(ctx context.Context, tick func()) error {
	catch := t.MaxCatchUp
	if catch <= 0 {
		catch = 5
	}
	timer := time.NewTimer(FrameDuration)
	defer timer.Stop()
	next := time.Now().Add(FrameDuration)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		now := time.Now()
		behind := int(now.Sub(next) / FrameDuration)
		if behind > catch {
			t.skipped.Add(uint64(behind - catch))
			next = next.Add(time.Duration(behind-catch) * FrameDuration)
			behind = catch
		}
		if behind > 0 {
			t.late.Add(uint64(behind))
		}
		for range behind + 1 {
			tick()
			next = next.Add(FrameDuration)
		}
		timer.Reset(time.Until(next))
	}
}

// ErrNotRunning is returned by Virtual.Step when no Run is in progress.
var ErrNotRunning = errors.New("media: virtual clock is not running")

// Virtual is a Clock for tests: Run waits for ctx, and each Step runs ticks
// synchronously on the caller's goroutine.
type Virtual struct {
	mu   sync.Mutex
	tick func()
	n    uint64
}

// Run implements Clock.
func (v *Virtual) Run(ctx context.Context, tick func()) error {
	v.mu.Lock()
	v.tick = tick
	v.mu.Unlock()
	<-ctx.Done()
	v.mu.Lock()
	v.tick = nil
	v.mu.Unlock()
	return ctx.Err()
}

// Step runs n ticks; it fails with ErrNotRunning outside Run.
func (v *Virtual) Step(n int) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.tick == nil {
		return ErrNotRunning
	}
	for range n {
		v.tick()
		v.n++
	}
	return nil
}

// Running reports whether a Run is in progress, for tests that start the
// engine on a goroutine and wait for it.
func (v *Virtual) Running() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.tick != nil
}

// Ticks returns how many ticks Step has run.
func (v *Virtual) Ticks() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.n
}
