// Package passwd hashes and verifies passwords with argon2id, storing them in
// the PHC string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash) so the
// parameters travel with each hash and can be raised later without breaking
// old accounts.
package passwd

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

// Parameters for new hashes: the OWASP minimum for argon2id (19 MiB, 2 passes,
// 1 lane), chosen because the appliance is a small ARM board with little RAM.
const (
	memoryKiB = 19 * 1024
	passes    = 2
	lanes     = 1
	saltLen   = 16
	keyLen    = 32
)

// Bounds accepted when parsing a stored hash, so a corrupted or hostile hash
// cannot make Verify allocate gigabytes or spin for minutes.
const (
	maxMemoryKiB = 256 * 1024
	maxPasses    = 16
	maxLanes     = 16
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

// MaxPasswordLen bounds the password length in bytes; longer input is refused
// rather than hashed, to keep request handling cheap and predictable.
const MaxPasswordLen = 1024

// ErrMalformed is returned by Verify when the stored hash is not a valid
// argon2id PHC string within the accepted parameter bounds.
var ErrMalformed = errors.New("passwd: malformed hash")

var b64 = base64.RawStdEncoding

// params is a decoded PHC string.
type params struct {
	memory  uint32
	passes  uint32
	lanes   uint8
	salt    []byte
	key     []byte
	version int
}

// Hash returns the argon2id hash of pw in PHC string form with a fresh random
// salt.
func Hash(pw string) (string, error) {
	return HashParams(pw, memoryKiB, passes, lanes)
}

// HashParams is Hash with explicit argon2id cost parameters (memory in KiB,
// passes, lanes), for tests that need cheap hashes and for tuning on a new
// board. Verify reads the parameters back from the hash.
func HashParams(pw string, memoryKiB, passes uint32, lanes uint8) (string, error) {
	if memoryKiB < 8*uint32(lanes) || memoryKiB > maxMemoryKiB || passes < 1 || passes > maxPasses ||
		lanes < 1 || lanes > maxLanes {
		return "", fmt.Errorf("passwd: parameters m=%d t=%d p=%d out of range", memoryKiB, passes, lanes)
	}
	if len(pw) > MaxPasswordLen {
		return "", fmt.Errorf("passwd: password longer than %d bytes", MaxPasswordLen)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("passwd: salt: %w", err)
	}
	p := params{memory: memoryKiB, passes: passes, lanes: lanes, salt: salt, version: argon2.Version}
	p.key = argon2.IDKey([]byte(pw), salt, p.passes, p.memory, p.lanes, keyLen)
	return p.encode(), nil
}

// Verify reports whether pw matches hash. The comparison of the derived keys
// is constant-time. A hash that cannot be parsed yields ErrMalformed.
func Verify(hash, pw string) (bool, error) {
	p, err := parse(hash)
	if err != nil {
		return false, err
	}
	if len(pw) > MaxPasswordLen {
		return false, nil
	}
	key := argon2.IDKey([]byte(pw), p.salt, p.passes, p.memory, p.lanes, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

func (p params) encode() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		p.version, p.memory, p.passes, p.lanes, b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

// parse decodes a PHC argon2id string. It accepts only the canonical form that
// encode produces, so parse(s) succeeding implies encode(parse(s)) == s.
func parse(s string) (params, error) {
	var p params
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" {
		return p, ErrMalformed
	}
	v, ok := strings.CutPrefix(f[2], "v=")
	if !ok {
		return p, ErrMalformed
	}
	ver, err := canonUint(v, 32)
	if err != nil || ver != argon2.Version {
		return p, ErrMalformed
	}
	p.version = int(ver)
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return p, ErrMalformed
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		num, ok := strings.CutPrefix(kv[i], name)
		if !ok {
			return p, ErrMalformed
		}
		if vals[i], err = canonUint(num, 32); err != nil {
			return p, ErrMalformed
		}
	}
	if vals[0] < 8 || vals[0] > maxMemoryKiB || vals[1] < 1 || vals[1] > maxPasses ||
		vals[2] < 1 || vals[2] > maxLanes || vals[0] < 8*vals[2] {
		return p, ErrMalformed
	}
	p.memory, p.passes, p.lanes = uint32(vals[0]), uint32(vals[1]), uint8(vals[2])
	// The decoder skips CR and LF; refuse them so only canonical text parses.
	if strings.ContainsAny(f[4]+f[5], "\r\n") {
		return p, ErrMalformed
	}
	if p.salt, err = b64.Strict().DecodeString(f[4]); err != nil || len(p.salt) < minSaltLen || len(p.salt) > maxSaltLen {
		return p, ErrMalformed
	}
	if p.key, err = b64.Strict().DecodeString(f[5]); err != nil || len(p.key) < minKeyLen || len(p.key) > maxKeyLen {
		return p, ErrMalformed
	}
	return p, nil
}

// canonUint parses a decimal number without sign or leading zeros.
func canonUint(s string, bits int) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || s[0] == '+' || s[0] == '-' {
		return 0, ErrMalformed
	}
	return strconv.ParseUint(s, 10, bits)
}
