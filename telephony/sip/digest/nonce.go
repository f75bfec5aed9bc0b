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
	// BadNonce: the nonce is not one we issued to this client (or is garbled).
	BadNonce
	// BadResponse: wrong password, user, method or URI, or no qop=auth.
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

// maxTracked bounds the nonce-count table. Past it every nonce issued so far
// is declared stale: its clients answer a new challenge without asking their
// user, which costs a round trip, and no count is ever forgotten while its
// nonce still verifies.
const maxTracked = 1 << 14

// Verifier issues nonces and checks credentials against them. A nonce
// carries its issue time, the address it was issued to and an HMAC, so
// any nonce we issued is recognised without per-request state; only the
// highest nonce count used with each nonce is remembered, and only once a
// request with it verified.
type Verifier struct {
	key []byte
	ttl time.Duration

	mu      sync.Mutex
	seen    map[string]ncEntry
	inserts int
	// floor: nonces issued at or before it are stale (the table overflowed).
	floor time.Time
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

// Nonce issues a new nonce at time now for the client identified by bind
// (the box passes the source IP address): credentials computed with it
// verify only when presented with the same bind, so a sniffed nonce is of
// no use from another address.
func (v *Verifier) Nonce(now time.Time, bind string) string {
	var buf [8 + 8]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(now.UnixNano()))
	if _, err := rand.Read(buf[8:]); err != nil {
		panic("digest: no randomness: " + err.Error())
	}
	mac := v.mac(buf[:], bind)
	return hex.EncodeToString(buf[:]) + hex.EncodeToString(mac)
}

func (v *Verifier) mac(b []byte, bind string) []byte {
	m := hmac.New(sha256.New, v.key)
	m.Write(b)
	m.Write([]byte{0})
	m.Write([]byte(bind))
	return m.Sum(nil)[:12]
}

// issued returns when a nonce was issued, or false if we did not issue it
// to bind.
func (v *Verifier) issued(nonce, bind string) (time.Time, bool) {
	if len(nonce) != 2*(16+12) {
		return time.Time{}, false
	}
	var raw [16 + 12]byte
	if _, err := hex.Decode(raw[:], []byte(nonce)); err != nil {
		return time.Time{}, false
	}
	if !hmac.Equal(raw[16:], v.mac(raw[:16], bind)) {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8]))), true
}

// stale reports whether a nonce issued at is past its lifetime at now.
func (v *Verifier) stale(at, now time.Time) bool {
	v.mu.Lock()
	floor := v.floor
	v.mu.Unlock()
	return now.Sub(at) > v.ttl || at.After(now.Add(time.Minute)) || !at.After(floor)
}

// Fresh checks a nonce alone, with no password: BadNonce when we did not
// issue it to bind, Stale when its lifetime is over, OK otherwise. It lets
// the registrar answer made-up and old nonces before it looks the user up.
func (v *Verifier) Fresh(nonce, bind string, now time.Time) Result {
	at, ok := v.issued(nonce, bind)
	switch {
	case !ok:
		return BadNonce
	case v.stale(at, now):
		return Stale
	}
	return OK
}

// Check verifies credentials for a request with the given method, from the
// client bind, against the user's password at time now. It requires
// qop=auth: without it nothing distinguishes a replayed request from a new
// one. The caller compares the digest uri with the request's own URI.
func (v *Verifier) Check(c Credentials, method, password, bind string, now time.Time) Result {
	at, ok := v.issued(c.Nonce, bind)
	if !ok {
		return BadNonce
	}
	want, err := Response(Input{
		Algorithm: c.Algorithm, Username: c.Username, Realm: c.Realm, Password: password,
		Method: method, URI: c.URI, Nonce: c.Nonce, QOP: c.QOP, NC: c.NC, CNonce: c.CNonce,
	})
	if err != nil || c.QOP != "auth" {
		return BadResponse
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(c.Response)) != 1 {
		return BadResponse
	}
	if v.stale(at, now) {
		return Stale
	}
	nc, err := strconv.ParseUint(c.NC, 16, 32)
	if err != nil || nc == 0 {
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
		if !at.After(v.floor) {
			return Stale
		}
	}
	v.seen[c.Nonce] = ncEntry{nc: nc, issued: at}
	return OK
}

// pruneLocked forgets expired nonces; if that is not enough it forgets all
// and makes every nonce issued until now stale, so that none of the
// forgotten counts can be used again.
func (v *Verifier) pruneLocked(now time.Time) {
	for k, e := range v.seen {
		if now.Sub(e.issued) > v.ttl {
			delete(v.seen, k)
		}
	}
	if len(v.seen) >= maxTracked {
		clear(v.seen)
		v.floor = now
	}
}

// tracked returns how many nonces have a remembered count (for tests).
func (v *Verifier) tracked() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.seen)
}
