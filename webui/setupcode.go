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
// old one; a successful setup consumes it. Each code takes at most
// maxCodeGuesses wrong guesses, from all addresses together, and is then
// withdrawn: whatever the number of addresses, a guesser's chance stays
// below maxCodeGuesses in 10^8, and the console issues a new code at once.
type setupCode struct {
	mu     sync.Mutex
	digits string // "" when no code is valid
	wrong  int    // wrong guesses at this code
}

// maxCodeGuesses is the guess budget of one setup code.
const maxCodeGuesses = 10000

// codeResult is what check found.
type codeResult int

const (
	codeRight codeResult = iota
	codeWrong
	codeWithdrawn // this guess used up the code's budget
)

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
	s.code.digits, s.code.wrong = d, 0
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

// check reports whether in is the current code, in constant time, and
// counts a wrong guess against the code's budget.
func (c *setupCode) check(in string) codeResult {
	in = normalizeCode(in)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.digits != "" && len(in) == len(c.digits) && subtle.ConstantTimeCompare([]byte(in), []byte(c.digits)) == 1 {
		return codeRight
	}
	if c.digits == "" {
		return codeWrong
	}
	if c.wrong++; c.wrong >= maxCodeGuesses {
		c.digits = ""
		return codeWithdrawn
	}
	return codeWrong
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
