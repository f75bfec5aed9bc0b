package webui

import (
	"sync"
	"time"
)

// throttle slows down guessing: after free failures for one key (a client
// address, an account) each further attempt must wait base, then 2*base,
// 4*base ... up to limit after the previous failure. A success or forget of
// quiet time clears the key, so nobody is ever locked out for good.
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
		if len(t.m) >= maxThrottleKeys {
			// Still full of keys that are waiting: forget the one that
			// failed longest ago rather than grow without bound.
			var oldest string
			var at time.Time
			for k, a := range t.m {
				if oldest == "" || a.last.Before(at) {
					oldest, at = k, a.last
				}
			}
			delete(t.m, oldest)
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

// trustedAddrs remembers, per account, the addresses it has logged in from
// lately, so the account's own delay (a guesser's doing) does not hold up
// its owner at their usual desk. In memory only: a reboot forgets it, and
// then the owner waits out the delay like anyone else, once.
type trustedAddrs struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]map[string]time.Time // login -> address -> last success
}

// maxTrustedPerAccount bounds each account's list; the oldest goes first.
const maxTrustedPerAccount = 16

func newTrustedAddrs(ttl time.Duration, now func() time.Time) *trustedAddrs {
	return &trustedAddrs{ttl: ttl, now: now, m: map[string]map[string]time.Time{}}
}

// add records a successful login of login from addr.
func (t *trustedAddrs) add(login, addr string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	as := t.m[login]
	if as == nil {
		if len(t.m) >= maxThrottleKeys {
			for k := range t.m { // accounts are few; this only stops abuse
				delete(t.m, k)
				break
			}
		}
		as = map[string]time.Time{}
		t.m[login] = as
	}
	if _, ok := as[addr]; !ok && len(as) >= maxTrustedPerAccount {
		var oldest string
		for a, at := range as {
			if oldest == "" || at.Before(as[oldest]) {
				oldest = a
			}
		}
		delete(as, oldest)
	}
	as[addr] = now
}

// has reports whether login logged in from addr within the trust period.
func (t *trustedAddrs) has(login, addr string) bool {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.m[login][addr]
	return ok && now.Sub(at) <= t.ttl
}

// forget drops login's addresses (its password changed: whoever had it
// before is no longer the owner by default).
func (t *trustedAddrs) forget(login string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, login)
}
