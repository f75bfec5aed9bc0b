package webui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"math/big"
	"strings"
	"sync"
)

// setupCode holds the one valid setup code, if any. A new code replaces the
// old one; a successful setup consumes it.
type setupCode struct {
	mu     sync.Mutex
	digits string // "" when no code is valid
}

// IssueSetupCode makes a new one-time setup code, 8 random digits shown as
// "1234-5678", and invalidates any earlier one. While no user exists the
// code lets the first visitor create the administrator on /setup; later it
// lets its holder set a new password for an administrator (the console's
// passwd-reset). The caller shows it to the operator (console, log).
func (s *Server) IssueSetupCode(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		return "", fmt.Errorf("webui: setup code: %w", err)
	}
	d := fmt.Sprintf("%08d", n.Int64())
	s.code.mu.Lock()
	s.code.digits = d
	s.code.mu.Unlock()
	s.log.Info("webui: new setup code issued")
	return d[:4] + "-" + d[4:], nil
}

// normalizeCode keeps the digits of what the user typed, so "1234 5678",
// "1234-5678" and "12345678" are the same code.
func normalizeCode(in string) string {
	var b strings.Builder
	for _, r := range in {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if r != ' ' && r != '-' {
			return ""
		}
	}
	return b.String()
}

// check reports whether in is the current code, in constant time.
func (c *setupCode) check(in string) bool {
	in = normalizeCode(in)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.digits == "" || len(in) != len(c.digits) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(in), []byte(c.digits)) == 1
}

// consume invalidates the code if in is still the current one, and reports
// whether it was; two requests racing with one code cannot both use it.
func (c *setupCode) consume(in string) bool {
	in = normalizeCode(in)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.digits == "" || subtle.ConstantTimeCompare([]byte(in), []byte(c.digits)) != 1 {
		return false
	}
	c.digits = ""
	return true
}
