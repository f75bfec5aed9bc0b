package voicemail

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PINs are kept as argon2id hashes in the PHC string format, the format of
// the web admin's passwords and the agents' PINs. A PIN has at most 10^8
// values, so wrong tries are limited per call and per box (lockout).

// pinParams are the cost of new hashes (the OWASP minimum for argon2id:
// 19 MiB, 2 passes, 1 lane). Tests lower them.
var pinParams = struct {
	memory, passes uint32
	lanes          uint8
}{19 * 1024, 2, 1}

// Bounds on a stored hash's parameters, so a damaged store cannot make a
// check allocate gigabytes.
const (
	pinMaxMemory = 256 * 1024
	pinMaxPasses = 16
)

var b64 = base64.RawStdEncoding

// ValidPIN reports whether pin is 4 to 8 digits.
func ValidPIN(pin string) bool { return len(pin) >= 4 && len(pin) <= 8 && digits(pin) }

// HashPIN returns the argon2id hash of pin.
func HashPIN(pin string) (string, error) {
	if !ValidPIN(pin) {
		return "", invalid("pin", "4 to 8 digits")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("voicemail: pin salt: %w", err)
	}
	p := pinParams
	key := argon2.IDKey([]byte(pin), salt, p.passes, p.memory, p.lanes, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.passes, p.lanes,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// checkPIN reports whether pin matches hash; a malformed hash matches
// nothing.
func checkPIN(hash, pin string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil ||
		m == 0 || m > pinMaxMemory || t == 0 || t > pinMaxPasses || p == 0 {
		return false
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 || len(key) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(pin), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}
