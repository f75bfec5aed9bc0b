package webui

import (
	"net/netip"
	"sync"
	"time"
)

// rateLimiter is a token bucket per source address in a table of bounded
// size: each request takes a token, tokens come back at rate per second up
// to burst. A full table first drops buckets that have refilled (their
// address has been quiet), at most once a second, and otherwise any one
// entry: evicting only gives that address a full bucket again, so a flood
// from many addresses costs bounded memory and gains nothing.
type rateLimiter struct {
	rate  float64 // tokens per second
	burst float64
	max   int
	now   func() time.Time

	mu        sync.Mutex
	m         map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time // when tokens was computed
	warned time.Time // when a refusal was last logged for this address
}

func newRateLimiter(rate float64, burst, max int, now func() time.Time) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), max: max, now: now, m: map[string]*bucket{}}
}

// allow takes a token for key. When none is left it returns false, how long
// until one is, and whether this refusal should be logged (at most once a
// minute per key, so a flood does not flood the log too).
func (l *rateLimiter) allow(key string) (ok bool, retry time.Duration, warn bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, found := l.m[key]
	if !found {
		if len(l.m) >= l.max {
			l.makeRoomLocked(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.m[key] = b
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0, false
	}
	retry = time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	if now.Sub(b.warned) >= time.Minute {
		b.warned = now
		warn = true
	}
	return false, retry, warn
}

func (l *rateLimiter) refill(b *bucket, now time.Time) {
	if dt := now.Sub(b.last); dt > 0 {
		b.tokens = min(l.burst, b.tokens+dt.Seconds()*l.rate)
		b.last = now
	}
}

// makeRoomLocked frees at least one entry.
func (l *rateLimiter) makeRoomLocked(now time.Time) {
	if now.Sub(l.lastSweep) >= time.Second {
		l.lastSweep = now
		for k, b := range l.m {
			if l.refill(b, now); b.tokens >= l.burst {
				delete(l.m, k)
			}
		}
		if len(l.m) < l.max {
			return
		}
	}
	for k := range l.m {
		delete(l.m, k)
		return
	}
}

// len reports the table's size (for tests).
func (l *rateLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// addrKey is the throttling key of a client address: the IPv4 address, or
// the /64 of an IPv6 one (a single host is usually given a whole /64, so
// keying on the full address would let it pick a fresh key per request).
func addrKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
