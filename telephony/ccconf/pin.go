package ccconf

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Agents' PINs are kept as argon2id hashes in the PHC string format
// ($argon2id$v=19$m=...,t=...,p=...$salt$key), the format of the web
// admin's passwords. A PIN has at most 10^8 values, so its hash is as
// sensitive as the PIN: the document keeps it (a backup must restore the
// PINs) but the web API never shows it, and wrong PINs are limited per
// phone (Settings.PINTries).

// pinParams are the cost of new hashes: the OWASP minimum for argon2id (19
// MiB, 2 passes, 1 lane), as for the web passwords. Tests lower it.
var pinParams = struct {
	memory, passes uint32
	lanes          uint8
}{19 * 1024, 2, 1}

const (
	pinSaltLen = 16
	pinKeyLen  = 32
	// Bounds on stored parameters, so a hostile hash cannot make a check
	// allocate gigabytes or spin for minutes.
	pinMaxMemory = 256 * 1024
	pinMaxPasses = 16
	pinMaxLanes  = 16
)

var b64 = base64.RawStdEncoding

// HashPIN returns the argon2id hash of pin in PHC form.
func HashPIN(pin string) (string, error) {
	salt := make([]byte, pinSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("ccconf: pin salt: %w", err)
	}
	p := pinParams
	key := argon2.IDKey([]byte(pin), salt, p.passes, p.memory, p.lanes, pinKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.passes, p.lanes,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

type pinHash struct {
	memory, passes uint32
	lanes          uint8
	salt, key      []byte
}

// parsePINHash reads a PHC argon2id string within the accepted bounds.
func parsePINHash(s string) (pinHash, bool) {
	var h pinHash
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return h, false
	}
	var m, t, p uint64
	if n, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &m, &t, &p); n != 3 || err != nil ||
		f[3] != fmt.Sprintf("m=%d,t=%d,p=%d", m, t, p) {
		return h, false
	}
	if m < 8*p || m > pinMaxMemory || t < 1 || t > pinMaxPasses || p < 1 || p > pinMaxLanes {
		return h, false
	}
	if strings.ContainsAny(f[4]+f[5], "\r\n") {
		return h, false
	}
	salt, err1 := b64.Strict().DecodeString(f[4])
	key, err2 := b64.Strict().DecodeString(f[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(salt) > 64 || len(key) < 16 || len(key) > 64 {
		return h, false
	}
	return pinHash{uint32(m), uint32(t), uint8(p), salt, key}, true
}

func pinHashOK(s string) bool {
	_, ok := parsePINHash(s)
	return ok
}

// CheckPIN reports whether pin matches the agent's stored PIN; an agent
// without a PIN matches none. The comparison is constant-time.
func (a *Agent) CheckPIN(pin string) bool {
	h, ok := parsePINHash(a.PINHash)
	if !ok || !rePIN.MatchString(pin) {
		return false
	}
	key := argon2.IDKey([]byte(pin), h.salt, h.passes, h.memory, h.lanes, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1
}

// HashPINs replaces every PIN given in clear by its hash, so the
// configuration can be stored. Validate first: a PIN that is not 4 to 8
// digits is refused here too.
func (c *Config) HashPINs() error {
	for i := range c.Agents {
		a := &c.Agents[i]
		if a.PIN == "" {
			continue
		}
		if !rePIN.MatchString(a.PIN) || a.PINHash != "" {
			return newFieldError("agents["+strconv.Itoa(i)+"]", agentRef(a.ID), "pin", ReasonPIN)
		}
		h, err := HashPIN(a.PIN)
		if err != nil {
			return err
		}
		a.PIN, a.PINHash = "", h
	}
	return nil
}

// KeepPINs gives every agent that has neither a PIN nor a hash the hash
// the same agent has in old: an edit or an import that does not mention
// the PIN keeps it.
func (c *Config) KeepPINs(old *Config) {
	if old == nil {
		return
	}
	hashes := make(map[string]string, len(old.Agents))
	for _, a := range old.Agents {
		hashes[a.ID] = a.PINHash
	}
	for i := range c.Agents {
		if a := &c.Agents[i]; a.PIN == "" && a.PINHash == "" {
			a.PINHash = hashes[a.ID]
		}
	}
}
