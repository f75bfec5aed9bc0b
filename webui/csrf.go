package webui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Anonymous visitors (the login and setup forms) get a signed double-submit
// CSRF token instead of a server session: the same token sits in a cookie
// and in the form or X-CSRF-Token header, and the server only checks that
// the two agree and that the token carries its own valid signature (HMAC
// over a random value and an expiry, with a key made at boot). No state is
// kept per visitor, so a flood of cookieless requests cannot push a real
// visitor's token out of a table. A cross-site page cannot read or set the
// SameSite=Strict cookie, so it cannot forge the pair.

// anonCSRFTTL is how long an anonymous token stays valid: long enough for
// a login page left open, short enough that a leaked one soon expires.
const anonCSRFTTL = 12 * time.Hour

// anonCSRFRenew makes a page mint a fresh token when the cookie's has less
// than this left, so a form rendered now still works when submitted later.
const anonCSRFRenew = time.Hour

// csrfSigner signs and checks anonymous CSRF tokens.
type csrfSigner struct {
	key [32]byte
	now func() time.Time
}

func newCSRFSigner(now func() time.Time) *csrfSigner {
	s := &csrfSigner{now: now}
	// crypto/rand.Read never returns an error on supported platforms.
	_, _ = rand.Read(s.key[:])
	return s
}

const (
	csrfNonceLen = 16
	csrfMACLen   = sha256.Size
	csrfTokenLen = csrfNonceLen + 8 + csrfMACLen
)

func (s *csrfSigner) mac(body []byte) []byte {
	m := hmac.New(sha256.New, s.key[:])
	m.Write([]byte("callbox anonymous csrf v1\x00"))
	m.Write(body)
	return m.Sum(nil)
}

// mint returns a new token valid for anonCSRFTTL.
func (s *csrfSigner) mint() string {
	var b [csrfTokenLen]byte
	_, _ = rand.Read(b[:csrfNonceLen])
	binary.BigEndian.PutUint64(b[csrfNonceLen:], uint64(s.now().Add(anonCSRFTTL).Unix()))
	copy(b[csrfNonceLen+8:], s.mac(b[:csrfNonceLen+8]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// valid reports whether tok is a token this signer made that has more than
// margin left before it expires.
func (s *csrfSigner) valid(tok string, margin time.Duration) bool {
	if base64.RawURLEncoding.DecodedLen(len(tok)) != csrfTokenLen {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) != csrfTokenLen {
		return false
	}
	if !hmac.Equal(b[csrfNonceLen+8:], s.mac(b[:csrfNonceLen+8])) {
		return false
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(b[csrfNonceLen:])), 0)
	return s.now().Add(margin).Before(exp)
}

// anonToken returns the anonymous CSRF token for a page or the session API:
// the cookie's when it is still good for a while (so several open tabs
// agree), otherwise a fresh one set in the cookie.
func (s *Server) anonToken(c *gin.Context) string {
	if tok, ok := c.Get(keyAnonCSRF); ok {
		return tok.(string)
	}
	if tok, err := c.Cookie(s.cookieName(c, csrfCookie)); err == nil && s.csrf.valid(tok, anonCSRFRenew) {
		c.Set(keyAnonCSRF, tok)
		return tok
	}
	tok := s.csrf.mint()
	http.SetCookie(c.Writer, &http.Cookie{Name: s.cookieName(c, csrfCookie), Value: tok, Path: "/",
		MaxAge: int(anonCSRFTTL / time.Second), HttpOnly: true, Secure: isTLS(c), SameSite: http.SameSiteStrictMode})
	c.Set(keyAnonCSRF, tok)
	return tok
}

// anonTokenOK checks a state-changing request without a session: the
// submitted token must equal the cookie's, and be signed and unexpired.
func (s *Server) anonTokenOK(c *gin.Context, submitted string) bool {
	cookie, err := c.Cookie(s.cookieName(c, csrfCookie))
	if err != nil || cookie == "" || submitted == "" {
		return false
	}
	if subtle.ConstantTimeCompare([]byte(cookie), []byte(submitted)) != 1 {
		return false
	}
	return s.csrf.valid(cookie, 0)
}
