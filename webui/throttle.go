package webui

import (
	"sync"
	"time"
)

// throttle slows down guessing: after free failures for one key (a client
// address) each further attempt must wait base, then 2*base, 4*base ... up
// to limit after the previous failure. A success or forget of quiet time
// clears the key, so nobody is ever locked out for good.
type throttle struct {
	free   int
	base   time.Duration
	limit  time.Duration
	forget time.Duration
	now    func() time.Time

	mu sync.Mutex
	m  map[string]*attempts
}

type attempts struct {
	failures int
	last     time.Time
	until    time.Time
}

// maxThrottleKeys bounds the table; beyond it, stale keys are swept.
const maxThrottleKeys = 4096

func newThrottle(free int, base, limit time.Duration, now func() time.Time) *throttle {
	return &throttle{free: free, base: base, limit: limit, forget: time.Hour, now: now, m: map[string]*attempts{}}
}

// wait returns how long key must still wait before its next attempt; zero
// means it may try now.
func (t *throttle) wait(key string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.m[key]
	if !ok {
		return 0
	}
	if now.Sub(a.last) > t.forget {
		delete(t.m, key)
		return 0
	}
	if d := a.until.Sub(now); d > 0 {
		return d
	}
	return 0
}

// fail records a failed attempt by key.
func (t *throttle) fail(key string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.m[key]
	if !ok {
		if len(t.m) >= maxThrottleKeys {
			t.sweepLocked(now)
		}
		a = &attempts{}
		t.m[key] = a
	}
	a.failures++
	a.last = now
	if over := a.failures - t.free; over >= 0 {
		d := t.limit
		if over < 30 {
			d = min(t.base<<over, t.limit)
		}
		a.until = now.Add(d)
	}
}

// succeed clears key's failures.
func (t *throttle) succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
}

func (t *throttle) sweepLocked(now time.Time) {
	for k, a := range t.m {
		if now.Sub(a.last) > t.forget || now.After(a.until) {
			delete(t.m, k)
		}
	}
}
