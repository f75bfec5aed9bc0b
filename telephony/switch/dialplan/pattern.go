package dialplan

import (
	"errors"
	"fmt"
	"strings"
)

// ErrPattern is returned for a pattern that cannot be parsed.
var ErrPattern = errors.New("dialplan: bad pattern")

// Pattern is a dial pattern in the notation PBX administrators know from
// Asterisk: digits, '*', '#', A-D and '+' stand for themselves; X is any digit,
// Z 1-9, N 2-9, [...] a set of digits with ranges ("[1-35]"); '.' at the end
// is one or more further characters, '!' zero or more. A leading '_' is
// accepted and ignored. Letters are case-insensitive.
type Pattern struct {
	src   string
	elems []elem
	tail  int // 0 none, 1 '.', 2 '!'
}

// elem is the set of characters one position accepts, as a bit set over
// the 16 DTMF symbols and the + of international numbers over SIP.
type elem uint32

const (
	tailNone = iota
	tailOneOrMore
	tailZeroOrMore
)

// symbols are the dialable characters, in bit order.
const symbols = "0123456789*#ABCD+"

func bit(c byte) elem {
	if i := strings.IndexByte(symbols, upper(c)); i >= 0 {
		return 1 << i
	}
	return 0
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func digitsFrom(lo, hi byte) elem {
	var e elem
	for c := lo; c <= hi; c++ {
		e |= bit(c)
	}
	return e
}

// maxPattern bounds a pattern's length (a dialled number is at most 32
// digits on an FXS line, a little more over SIP).
const maxPattern = 64

// ParsePattern parses s.
func ParsePattern(s string) (Pattern, error) {
	p := Pattern{src: s}
	body := strings.TrimPrefix(s, "_")
	if body == "" {
		return Pattern{}, fmt.Errorf("%w %q: empty", ErrPattern, s)
	}
	if len(body) > maxPattern {
		return Pattern{}, fmt.Errorf("%w %q: longer than %d", ErrPattern, s, maxPattern)
	}
	for i := 0; i < len(body); i++ {
		c := upper(body[i])
		switch {
		case c == '.' || c == '!':
			if i != len(body)-1 {
				return Pattern{}, fmt.Errorf("%w %q: %q only at the end", ErrPattern, s, c)
			}
			p.tail = tailOneOrMore
			if c == '!' {
				p.tail = tailZeroOrMore
			}
		case c == 'X':
			p.elems = append(p.elems, digitsFrom('0', '9'))
		case c == 'Z':
			p.elems = append(p.elems, digitsFrom('1', '9'))
		case c == 'N':
			p.elems = append(p.elems, digitsFrom('2', '9'))
		case c == '[':
			end := strings.IndexByte(body[i:], ']')
			if end < 0 {
				return Pattern{}, fmt.Errorf("%w %q: unclosed [", ErrPattern, s)
			}
			set, err := parseSet(body[i+1 : i+end])
			if err != nil {
				return Pattern{}, fmt.Errorf("%w %q: %v", ErrPattern, s, err)
			}
			p.elems = append(p.elems, set)
			i += end
		case bit(c) != 0:
			p.elems = append(p.elems, bit(c))
		default:
			return Pattern{}, fmt.Errorf("%w %q: %q is not dialable", ErrPattern, s, body[i])
		}
	}
	return p, nil
}

func parseSet(s string) (elem, error) {
	var e elem
	for i := 0; i < len(s); i++ {
		if bit(s[i]) == 0 {
			return 0, fmt.Errorf("%q in a set", s[i])
		}
		if i+2 < len(s) && s[i+1] == '-' {
			lo, hi := s[i], s[i+2]
			if lo < '0' || lo > '9' || hi < '0' || hi > '9' || hi < lo {
				return 0, fmt.Errorf("bad range %q", s[i:i+3])
			}
			e |= digitsFrom(lo, hi)
			i += 2
			continue
		}
		e |= bit(s[i])
	}
	if e == 0 {
		return 0, errors.New("empty set")
	}
	return e, nil
}

// MustPattern is ParsePattern for patterns written in code; it panics on
// an error.
func MustPattern(s string) Pattern {
	p, err := ParsePattern(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.src }

// Match says how digits stand against the pattern: full when they are a
// whole match, more when further digits could still make one (so both can
// be true of "9X." and "95").
func (p Pattern) Match(digits string) (full, more bool) {
	n := len(p.elems)
	m := min(len(digits), n)
	for i := 0; i < m; i++ {
		if bit(digits[i])&p.elems[i] == 0 {
			return false, false
		}
	}
	switch {
	case len(digits) < n:
		return false, true
	case len(digits) == n:
		return p.tail != tailOneOrMore, p.tail != tailNone
	}
	// Longer than the fixed part: only a tail takes the rest, and only
	// dialable symbols.
	if p.tail == tailNone {
		return false, false
	}
	for i := n; i < len(digits); i++ {
		if bit(digits[i]) == 0 {
			return false, false
		}
	}
	return true, true
}

// Fixed reports whether the pattern matches numbers of one length only.
func (p Pattern) Fixed() bool { return p.tail == tailNone }
