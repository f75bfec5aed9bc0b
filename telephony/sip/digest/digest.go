// Package digest implements SIP digest authentication (RFC 3261 section 22,
// with the SHA-256 algorithm of RFC 8760 and qop=auth): parsing credentials,
// computing responses for both sides, and issuing and checking nonces with
// expiry, stale signalling and replay protection: nonces are bound to the
// client's address, qop=auth is required and each nonce count is used once.
//
// It is standard library only so that the registrar and the trunk client
// share one implementation that tests can hold against independent ones.
package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Algorithm names a digest hash as written in the algorithm parameter.
type Algorithm string

// Algorithms the package supports (RFC 8760 section 2).
const (
	MD5    Algorithm = "MD5"
	SHA256 Algorithm = "SHA-256"
)

// ErrAlgorithm reports an algorithm the package does not implement.
var ErrAlgorithm = errors.New("digest: unsupported algorithm")

func (a Algorithm) hash() (hash.Hash, error) {
	switch strings.ToUpper(string(a)) {
	case "", "MD5":
		return md5.New(), nil
	case "SHA-256":
		return sha256.New(), nil
	}
	return nil, fmt.Errorf("%w %q", ErrAlgorithm, string(a))
}

func hashHex(h hash.Hash, parts ...string) string {
	h.Reset()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{':'})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Input is everything a digest response is computed from.
type Input struct {
	Algorithm Algorithm
	Username  string
	Realm     string
	Password  string
	Method    string
	URI       string
	Nonce     string
	// QOP is "auth" or empty (RFC 2069 compatibility, no cnonce or nc).
	QOP    string
	NC     string
	CNonce string
}

// Response computes the request-digest (RFC 2617 section 3.2.2.1) in lower-case hex.
func Response(in Input) (string, error) {
	h, err := in.Algorithm.hash()
	if err != nil {
		return "", err
	}
	ha1 := hashHex(h, in.Username, in.Realm, in.Password)
	ha2 := hashHex(h, in.Method, in.URI)
	if in.QOP == "" {
		return hashHex(h, ha1, in.Nonce, ha2), nil
	}
	return hashHex(h, ha1, in.Nonce, in.NC, in.CNonce, in.QOP, ha2), nil
}

// Challenge is a WWW-Authenticate or Proxy-Authenticate digest challenge.
type Challenge struct {
	Realm     string
	Nonce     string
	Opaque    string
	Algorithm Algorithm
	// QOP is the offered qop list, for example "auth".
	QOP   string
	Stale bool
}

// String renders the challenge as a header value.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString("Digest realm=")
	b.WriteString(quote(c.Realm))
	b.WriteString(", nonce=")
	b.WriteString(quote(c.Nonce))
	if c.Opaque != "" {
		b.WriteString(", opaque=")
		b.WriteString(quote(c.Opaque))
	}
	if c.Algorithm != "" {
		b.WriteString(", algorithm=")
		b.WriteString(string(c.Algorithm))
	}
	if c.QOP != "" {
		b.WriteString(", qop=")
		b.WriteString(quote(c.QOP))
	}
	if c.Stale {
		b.WriteString(", stale=true")
	}
	return b.String()
}

// Credentials is a parsed Authorization or Proxy-Authorization digest header.
type Credentials struct {
	Username  string
	Realm     string
	Nonce     string
	URI       string
	Response  string
	Algorithm Algorithm
	CNonce    string
	Opaque    string
	QOP       string
	NC        string
}

// String renders the credentials as a header value.
func (c Credentials) String() string {
	var b strings.Builder
	b.WriteString("Digest username=")
	b.WriteString(quote(c.Username))
	b.WriteString(", realm=")
	b.WriteString(quote(c.Realm))
	b.WriteString(", nonce=")
	b.WriteString(quote(c.Nonce))
	b.WriteString(", uri=")
	b.WriteString(quote(c.URI))
	b.WriteString(", response=")
	b.WriteString(quote(c.Response))
	if c.Algorithm != "" {
		b.WriteString(", algorithm=")
		b.WriteString(string(c.Algorithm))
	}
	if c.Opaque != "" {
		b.WriteString(", opaque=")
		b.WriteString(quote(c.Opaque))
	}
	if c.QOP != "" {
		b.WriteString(", qop=")
		b.WriteString(c.QOP)
		b.WriteString(", nc=")
		b.WriteString(c.NC)
		b.WriteString(", cnonce=")
		b.WriteString(quote(c.CNonce))
	}
	return b.String()
}

// Answer computes credentials answering chal for one request. cnonce and nc
// are only used when the challenge offers qop=auth.
func Answer(chal Challenge, username, password, method, uri, cnonce string, nc uint32) (Credentials, error) {
	in := Input{
		Algorithm: chal.Algorithm, Username: username, Realm: chal.Realm, Password: password,
		Method: method, URI: uri, Nonce: chal.Nonce,
	}
	if offersAuth(chal.QOP) {
		in.QOP, in.NC, in.CNonce = "auth", fmt.Sprintf("%08x", nc), cnonce
	}
	resp, err := Response(in)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{
		Username: username, Realm: chal.Realm, Nonce: chal.Nonce, URI: uri, Response: resp,
		Algorithm: chal.Algorithm, Opaque: chal.Opaque, QOP: in.QOP, NC: in.NC, CNonce: in.CNonce,
	}, nil
}

func offersAuth(qop string) bool {
	for _, q := range strings.Split(qop, ",") {
		if strings.EqualFold(strings.TrimSpace(q), "auth") {
			return true
		}
	}
	return false
}

func quote(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return `"` + s + `"`
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
