// Package limiter is the SIP side's per-key accounting of what a peer may
// cost the box: a token bucket for the rate of its messages, a failure
// budget whose exhaustion bans the key for a time that doubles with each
// offence up to a cap, a count of resources it holds (open connections),
// and a trust mark that gives known peers a larger rate.
//
// One Table serves every use (message rate per source address, failed
// authentications per source and per extension, TCP connections per
// source, log lines per source), so the rules are written and tested once.
// A table is bounded in size and forgets keys whose state has returned to
// that of a stranger never seen, so inventing keys can neither grow it
// without limit nor cheaply evict a ban. It takes the time as an argument
// and starts no goroutine; it is safe for concurrent use.
package limiter

import (
	"sync"
	"time"
)

// Policy sets a table's limits. A zero field disables its limit.
type Policy struct {
	// Rate is the sustained number of events per second a key may have and
	// Burst how many it may have at once (at least 1 when Rate is set).
	Rate, Burst float64
	// TrustedRate and TrustedBurst apply instead while a key is trusted
	// (see Trust); zero TrustedRate means no limit for trusted keys.
	TrustedRate, TrustedBurst float64
	// Failures is how many failures a key may have at once; they are
	// forgiven one by one over FailureWindow / Failures. The failure that
	// finds none left bans the key.
	Failures      int
	FailureWindow time.Duration
	// BanMin is the first ban of a key; each further ban doubles it up to
	// BanMax. A key's offences are forgotten after BanMax (at least BanMin)
	// without a ban.
	BanMin, BanMax time.Duration
	// Hold caps the resources a key may hold at once (Acquire).
	Hold int
}

// Table holds the state of up to a fixed number of keys.
type Table[K comparable] struct {
	p     Policy
	max   int
	epoch time.Time

	mu   sync.Mutex
	m    map[K]*entry[K]
	head *entry[K] // most recently used; head.prev is the least
	free *entry[K] // evicted entries kept for reuse, so churn allocates nothing
}

// entry is one key's state; times are nanoseconds since the table's epoch.
type entry[K comparable] struct {
	key        K
	prev, next *entry[K]

	tokens     float64 // rate bucket, as of last
	last       int64
	fails      float64 // failure budget left, as of failLast
	failLast   int64
	banUntil   int64
	banEnd     int64 // when the last ban ended (offences decay from there)
	offences   int
	held       int
	trustUntil int64
}

// New returns a table for at most max keys (at least 16).
func New[K comparable](p Policy, max int) *Table[K] {
	if max < 16 {
		max = 16
	}
	if p.Rate > 0 && p.Burst < 1 {
		p.Burst = 1
	}
	if p.TrustedRate > 0 && p.TrustedBurst < 1 {
		p.TrustedBurst = 1
	}
	if p.BanMax < p.BanMin {
		p.BanMax = p.BanMin
	}
	return &Table[K]{p: p, max: max, epoch: time.Now(), m: make(map[K]*entry[K])}
}

func (t *Table[K]) ns(now time.Time) int64 { return int64(now.Sub(t.epoch)) }

// Allow takes one event from key's bucket at now and reports whether the
// key was within its rate.
func (t *Table[K]) Allow(key K, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.ns(now)
	rate, burst := t.p.Rate, t.p.Burst
	if e := t.m[key]; e != nil && e.trustUntil > n {
		rate, burst = t.p.TrustedRate, t.p.TrustedBurst
	}
	if rate <= 0 {
		return true
	}
	e := t.get(key, n)
	e.tokens = min(burst, e.tokens+float64(n-e.last)*rate/1e9)
	e.last = n
	if e.tokens < 1 {
		return false
	}
	e.tokens--
	return true
}

// Fail records a failure of key at now. It reports whether the key is
// banned afterwards, whether this failure started the ban, and until when
// the ban lasts. Failures while banned neither extend nor count.
func (t *Table[K]) Fail(key K, now time.Time) (banned, started bool, until time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.p.Failures <= 0 || t.p.BanMin <= 0 {
		return false, false, time.Time{}
	}
	n := t.ns(now)
	e := t.get(key, n)
	if e.banUntil > n {
		return true, false, t.at(e.banUntil)
	}
	t.refillFailures(e, n)
	if e.fails >= 1 {
		e.fails--
		return false, false, time.Time{}
	}
	if e.offences > 0 && n-e.banEnd > int64(t.forget()) {
		e.offences = 0
	}
	d := t.p.BanMin
	for i := 0; i < e.offences && d < t.p.BanMax; i++ {
		d *= 2
	}
	d = min(d, t.p.BanMax)
	e.offences++
	e.banUntil = n + int64(d)
	e.banEnd = e.banUntil
	// A ban wipes the slate: after it the key has its whole budget again,
	// and a repeat offence costs a longer ban.
	e.fails, e.failLast = float64(t.p.Failures), e.banUntil
	return true, true, t.at(e.banUntil)
}

func (t *Table[K]) refillFailures(e *entry[K], n int64) {
	f := float64(t.p.Failures)
	if t.p.FailureWindow > 0 && n > e.failLast {
		e.fails = min(f, e.fails+float64(n-e.failLast)*f/float64(t.p.FailureWindow))
	}
	e.failLast = max(e.failLast, n)
}

func (t *Table[K]) forget() time.Duration { return max(t.p.BanMax, t.p.BanMin) }

func (t *Table[K]) at(n int64) time.Time { return t.epoch.Add(time.Duration(n)) }

// Banned reports whether key is banned at now, and until when.
func (t *Table[K]) Banned(key K, now time.Time) (bool, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.m[key]
	if e == nil || e.banUntil <= t.ns(now) {
		return false, time.Time{}
	}
	return true, t.at(e.banUntil)
}

// Trust marks key as known until the given time: it gets the trusted rate.
func (t *Table[K]) Trust(key K, now, until time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.ns(now)
	e := t.get(key, n)
	e.trustUntil = max(e.trustUntil, t.ns(until))
}

// Trusted reports whether key is trusted at now.
func (t *Table[K]) Trusted(key K, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.m[key]
	return e != nil && e.trustUntil > t.ns(now)
}

// Acquire takes one of key's Hold resources; false when it holds them all.
// Every true must be matched by one Release.
func (t *Table[K]) Acquire(key K, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.get(key, t.ns(now))
	if t.p.Hold > 0 && e.held >= t.p.Hold {
		return false
	}
	e.held++
	return true
}

// Release gives back a resource taken by Acquire.
func (t *Table[K]) Release(key K) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.m[key]; e != nil && e.held > 0 {
		e.held--
	}
}

// Len returns the number of keys remembered.
func (t *Table[K]) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// get returns key's entry, creating it (as a fresh stranger) if needed, and
// marks it most recently used. Creating one first forgets up to two
// entries that carry nothing, and at the size limit evicts one.
func (t *Table[K]) get(key K, n int64) *entry[K] {
	if e := t.m[key]; e != nil {
		t.touch(e)
		return e
	}
	for i := 0; i < 2 && t.head != nil; i++ {
		if old := t.head.prev; t.blank(old, n) {
			t.remove(old)
		}
	}
	if len(t.m) >= t.max {
		t.remove(t.victim(n))
	}
	e := t.free
	if e != nil {
		t.free = e.next
		*e = entry[K]{}
	} else {
		e = new(entry[K])
	}
	e.key, e.last, e.failLast = key, n, n
	e.tokens = t.p.Burst
	e.fails = float64(t.p.Failures)
	t.m[key] = e
	t.pushFront(e)
	return e
}

// blank reports whether e's state at n is that of a key never seen, so
// forgetting it loses nothing.
func (t *Table[K]) blank(e *entry[K], n int64) bool {
	if e.held > 0 || e.trustUntil > n || e.banUntil > n {
		return false
	}
	if e.offences > 0 && n-e.banEnd <= int64(t.forget()) {
		return false
	}
	if t.p.Rate > 0 && e.tokens+float64(n-e.last)*t.p.Rate/1e9 < t.p.Burst {
		return false
	}
	if t.p.Failures > 0 {
		f := float64(t.p.Failures)
		if t.p.FailureWindow <= 0 && e.fails < f {
			return false
		}
		if t.p.FailureWindow > 0 && e.fails+float64(n-e.failLast)*f/float64(t.p.FailureWindow) < f {
			return false
		}
	}
	return true
}

// victim picks the entry to evict when the table is full: the least
// recently used of the oldest few that is neither banned, trusted nor
// holding anything, else the least recently used of all. Evicting a ban
// then takes as many fresh keys as the table holds.
func (t *Table[K]) victim(n int64) *entry[K] {
	tail := t.head.prev
	e := tail
	for i := 0; i < 16; i++ {
		if e.held == 0 && e.banUntil <= n && e.trustUntil <= n {
			return e
		}
		if e = e.prev; e == tail {
			break
		}
	}
	return tail
}

func (t *Table[K]) pushFront(e *entry[K]) {
	if t.head == nil {
		e.prev, e.next = e, e
	} else {
		e.next, e.prev = t.head, t.head.prev
		t.head.prev.next = e
		t.head.prev = e
	}
	t.head = e
}

func (t *Table[K]) unlink(e *entry[K]) {
	if e.next == e {
		t.head = nil
	} else {
		e.prev.next, e.next.prev = e.next, e.prev
		if t.head == e {
			t.head = e.next
		}
	}
	e.prev, e.next = nil, nil
}

func (t *Table[K]) touch(e *entry[K]) {
	if t.head == e {
		return
	}
	t.unlink(e)
	t.pushFront(e)
}

func (t *Table[K]) remove(e *entry[K]) {
	t.unlink(e)
	delete(t.m, e.key)
	var zero K
	e.key = zero
	e.next = t.free
	t.free = e
}
