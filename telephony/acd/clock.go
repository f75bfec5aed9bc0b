package acd

import (
	"container/heap"
	"sync"
	"time"
)

// Clock is the engine's only source of time. Live wiring passes RealClock;
// tests and the simulator pass a VirtualClock and move time themselves.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f once, d from now, unless the returned timer is
	// stopped first. The engine tolerates a callback that races with Stop.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop cancels the call and reports whether it was still pending.
	Stop() bool
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// AfterFunc wraps time.AfterFunc.
func (RealClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// VirtualClock is a manual clock: time moves only through Advance, RunUntil
// or Step, and due callbacks run in time order on the caller's goroutine.
// Callbacks at the same instant run in the order they were scheduled, which
// keeps simulations reproducible. It is safe for concurrent use, but
// callbacks must not call Advance, RunUntil or Step themselves.
type VirtualClock struct {
	mu   sync.Mutex
	now  time.Time
	seq  uint64
	heap vtimers
}

// NewVirtualClock returns a clock that reads start.
func NewVirtualClock(start time.Time) *VirtualClock { return &VirtualClock{now: start} }

// Now returns the virtual time.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f at Now()+d (d < 0 counts as 0).
func (c *VirtualClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d < 0 {
		d = 0
	}
	c.seq++
	t := &vtimer{clock: c, when: c.now.Add(d), seq: c.seq, f: f, index: -1}
	heap.Push(&c.heap, t)
	return t
}

// Pending reports how many callbacks are scheduled.
func (c *VirtualClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.heap)
}

// Next returns the time of the earliest pending callback.
func (c *VirtualClock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.heap) == 0 {
		return time.Time{}, false
	}
	return c.heap[0].when, true
}

// Step moves time to the earliest pending callback and runs it. It reports
// false when nothing is pending.
func (c *VirtualClock) Step() bool {
	c.mu.Lock()
	if len(c.heap) == 0 {
		c.mu.Unlock()
		return false
	}
	t := heap.Pop(&c.heap).(*vtimer)
	if t.when.After(c.now) {
		c.now = t.when
	}
	f := t.f
	c.mu.Unlock()
	f()
	return true
}

// RunUntil runs every callback due at or before end, in order, then sets the
// clock to end (if that is later than now).
func (c *VirtualClock) RunUntil(end time.Time) {
	for {
		c.mu.Lock()
		if len(c.heap) == 0 || c.heap[0].when.After(end) {
			if end.After(c.now) {
				c.now = end
			}
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.Step()
	}
}

// Advance is RunUntil(Now()+d).
func (c *VirtualClock) Advance(d time.Duration) { c.RunUntil(c.Now().Add(d)) }

type vtimer struct {
	clock *VirtualClock
	when  time.Time
	seq   uint64
	f     func()
	index int
}

func (t *vtimer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&c.heap, t.index)
	return true
}

type vtimers []*vtimer

func (h vtimers) Len() int { return len(h) }
func (h vtimers) Less(i, j int) bool {
	if h[i].when.Equal(h[j].when) {
		return h[i].seq < h[j].seq
	}
	return h[i].when.Before(h[j].when)
}
func (h vtimers) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *vtimers) Push(x any) {
	t := x.(*vtimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *vtimers) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.index = -1
	*h = old[:n-1]
	return t
}
