// Package pin keeps the PINs people type on a phone's keypad (voicemail
// boxes, conference rooms): 4 to 8 digits, stored as argon2id hashes in
// the PHC string format of the web admin's passwords. A PIN has at most
// 10^8 values, so its hash is as sensitive as the PIN: never shown, and
// wrong tries are limited by whoever checks them.
package pin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrInvalid: a PIN that is not 4 to 8 digits.
var ErrInvalid = errors.New("pin: 4 to 8 digits")

// Params is the cost of new hashes: the OWASP minimum for argon2id (19 MiB,
// 2 passes, 1 lane), as for the web passwords. Tests lower it.
var Params = struct {
	Memory, Passes uint32
	Lanes          uint8
}{19 * 1024, 2, 1}

// Bounds on a stored hash's parameters, so a damaged or hostile hash cannot
// make a check allocate gigabytes or spin for minutes.
const (
	maxMemory = 256 * 1024
	maxPasses = 16
	maxLanes  = 16
)

var b64 = base64.RawStdEncoding

// Valid reports whether p is 4 to 8 digits.
func Valid(p string) bool {
	if len(p) < 4 || len(p) > 8 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// Hash returns the argon2id hash of p.
func Hash(p string) (string, error) {
	if !Valid(p) {
		return "", ErrInvalid
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("pin: salt: %w", err)
	}
	ps := Params
	key := argon2.IDKey([]byte(p), salt, ps.Passes, ps.Memory, ps.Lanes, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, ps.Memory, ps.Passes, ps.Lanes,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Check reports whether p matches hash, in constant time; a malformed hash
// (or an empty one) matches nothing.
func Check(hash, p string) bool {
	f := strings.Split(hash, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) || !Valid(p) {
		return false
	}
	var m, t, l uint64
	if n, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &m, &t, &l); n != 3 || err != nil ||
		f[3] != fmt.Sprintf("m=%d,t=%d,p=%d", m, t, l) {
		return false
	}
	if m < 8*l || m > maxMemory || t < 1 || t > maxPasses || l < 1 || l > maxLanes {
		return false
	}
	salt, err1 := b64.Strict().DecodeString(f[4])
	key, err2 := b64.Strict().DecodeString(f[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(salt) > 64 || len(key) < 16 || len(key) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(p), salt, uint32(t), uint32(m), uint8(l), uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}
