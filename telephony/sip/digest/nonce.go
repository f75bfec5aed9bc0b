package digest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"sync"
	"time"
)

// Result is the outcome of checking credentials.
type Result int

// Results of Verifier.Check.
const (
	// OK: the response is right, the nonce fresh and the nonce count new.
	OK Result = iota
	// Stale: the response is right for an expired nonce of ours; challenge
	// again with stale=true so the client retries without asking its user.
	Stale
	// BadNonce: the nonce is not one we issued (or is garbled).
	BadNonce
	// BadResponse: wrong password, user, method or URI.
	BadResponse
	// Replay: a nonce count that is not larger than one already used.
	Replay
)

var resultNames = [...]string{"ok", "stale", "bad nonce", "bad response", "replay"}

// String names the result for logs.
func (r Result) String() string {
	if int(r) < len(resultNames) {
		return resultNames[r]
	}
	return "result(" + strconv.Itoa(int(r)) + ")"
}

// maxTracked bounds the nonce-count table; past it, older entries are dropped
// and their clients see stale=true, which costs one round trip, not a failure.
const maxTracked = 1 << 14

// Verifier issues nonces and checks credentials against them. Nonces carry
// their issue time and an HMAC, so any nonce we issued is recognised without
// state; only the highest nonce count seen per nonce is remembered.
type Verifier struct {
	key []byte
	ttl time.Duration

	mu      sync.Mutex
	seen    map[string]ncEntry
	inserts int
}

type ncEntry struct {
	nc     uint64
	issued time.Time
}

// NewVerifier returns a verifier whose nonces expire after ttl. A nil key
// draws a random one, so nonces do not survive a restart.
func NewVerifier(key []byte, ttl time.Duration) *Verifier {
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			panic("digest: no randomness: " + err.Error())
		}
	}
	return &Verifier{key: key, ttl: ttl, seen: make(map[string]ncEntry)}
}

// Nonce issues a new nonce at time now.
func (v *Verifier) Nonce(now time.Time) string {
	var buf [8 + 8]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(now.UnixNano()))
	if _, err := rand.Read(buf[8:]); err != nil {
		panic("digest: no randomness: " + err.Error())
	}
	mac := v.mac(buf[:])
	return hex.EncodeToString(buf[:]) + hex.EncodeToString(mac)
}

func (v *Verifier) mac(b []byte) []byte {
	m := hmac.New(sha256.New, v.key)
	m.Write(b)
	return m.Sum(nil)[:12]
}

// issued returns when a nonce was issued, or false if it is not ours.
func (v *Verifier) issued(nonce string) (time.Time, bool) {
	if len(nonce) != 2*(16+12) {
		return time.Time{}, false
	}
	raw, err := hex.DecodeString(nonce)
	if err != nil {
		return time.Time{}, false
	}
	if !hmac.Equal(raw[16:], v.mac(raw[:16])) {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8]))), true
}

// Check verifies credentials for a request with the given method against
// the user's password at time now.
func (v *Verifier) Check(c Credentials, method, password string, now time.Time) Result {
	at, ok := v.issued(c.Nonce)
	if !ok {
		return BadNonce
	}
	want, err := Response(Input{
		Algorithm: c.Algorithm, Username: c.Username, Realm: c.Realm, Password: password,
		Method: method, URI: c.URI, Nonce: c.Nonce, QOP: c.QOP, NC: c.NC, CNonce: c.CNonce,
	})
	if err != nil || c.QOP != "" && c.QOP != "auth" {
		return BadResponse
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(c.Response)) != 1 {
		return BadResponse
	}
	if now.Sub(at) > v.ttl || at.After(now.Add(time.Minute)) {
		return Stale
	}
	if c.QOP == "" {
		// RFC 2069 clients send no count; the nonce lifetime bounds replay.
		return OK
	}
	nc, err := strconv.ParseUint(c.NC, 16, 32)
	if err != nil {
		return BadResponse
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	e, known := v.seen[c.Nonce]
	if known && nc <= e.nc {
		return Replay
	}
	if !known {
		// Forget expired nonces now and then, and always at the cap.
		if v.inserts++; v.inserts%1024 == 0 || len(v.seen) >= maxTracked {
			v.pruneLocked(now)
		}
	}
	v.seen[c.Nonce] = ncEntry{nc: nc, issued: at}
	return OK
}

// pruneLocked forgets expired nonces, and everything if that is not enough.
func (v *Verifier) pruneLocked(now time.Time) {
	for k, e := range v.seen {
		if now.Sub(e.issued) > v.ttl {
			delete(v.seen, k)
		}
	}
	if len(v.seen) >= maxTracked {
		clear(v.seen)
	}
}

// tracked returns how many nonces have a remembered count (for tests).
func (v *Verifier) tracked() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.seen)
}
