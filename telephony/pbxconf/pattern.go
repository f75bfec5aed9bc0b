package pbxconf

import (
	"errors"
	"fmt"
)

// MaxPatternLen bounds a pattern; dialled numbers are far shorter.
const MaxPatternLen = 64

// Pattern is a compiled dial pattern (see the package documentation for
// the syntax). The zero Pattern matches nothing.
type Pattern struct {
	src   string
	elems []elem
	tail  byte // 0, '.' (one or more) or '!' (zero or more)
}

// elem is one position: the set of dial characters it accepts.
type elem uint16 // bit i: digit i; bit 10 '*'; bit 11 '#'

const (
	bitStar = 1 << 10
	bitHash = 1 << 11
	digits  = 1<<10 - 1
)

func bitOf(c byte) elem {
	switch {
	case c >= '0' && c <= '9':
		return 1 << (c - '0')
	case c == '*':
		return bitStar
	case c == '#':
		return bitHash
	}
	return 0
}

var errEmptyPattern = errors.New("empty pattern")

// ParsePattern compiles a dial pattern. An optional leading '_' (the
// Asterisk marker) is accepted and ignored.
func ParsePattern(s string) (Pattern, error) {
	p := Pattern{src: s}
	if len(s) > MaxPatternLen {
		return Pattern{}, fmt.Errorf("longer than %d characters", MaxPatternLen)
	}
	if len(s) > 0 && s[0] == '_' {
		s = s[1:]
	}
	if s == "" {
		return Pattern{}, errEmptyPattern
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case 'X', 'x':
			p.elems = append(p.elems, digits)
		case 'Z', 'z':
			p.elems = append(p.elems, digits&^1)
		case 'N', 'n':
			p.elems = append(p.elems, digits&^3)
		case '.', '!':
			if i != len(s)-1 {
				return Pattern{}, fmt.Errorf("%q is allowed only at the end", c)
			}
			if len(p.elems) == 0 {
				return Pattern{}, fmt.Errorf("%q needs at least one character before it", c)
			}
			p.tail = c
		case '[':
			end := i + 1
			for end < len(s) && s[end] != ']' {
				end++
			}
			if end == len(s) {
				return Pattern{}, errors.New("'[' without ']'")
			}
			set, err := parseSet(s[i+1 : end])
			if err != nil {
				return Pattern{}, err
			}
			p.elems = append(p.elems, set)
			i = end
		default:
			b := bitOf(c)
			if b == 0 {
				return Pattern{}, fmt.Errorf("%q is not a digit, *, #, X, Z, N, [set], '.' or '!'", c)
			}
			p.elems = append(p.elems, b)
		}
	}
	return p, nil
}

// parseSet reads the inside of [...]: characters and ranges like 1-5.
func parseSet(s string) (elem, error) {
	var set elem
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ',' {
			continue
		}
		b := bitOf(c)
		if b == 0 {
			return 0, fmt.Errorf("%q is not allowed in a [set]", c)
		}
		if i+2 < len(s) && s[i+1] == '-' {
			hi := s[i+2]
			if c < '0' || c > '9' || hi < c || hi > '9' {
				return 0, fmt.Errorf("range %c-%c is not an ascending digit range", c, hi)
			}
			for d := c; d <= hi; d++ {
				set |= bitOf(d)
			}
			i += 2
			continue
		}
		set |= b
	}
	if set == 0 {
		return 0, errors.New("empty [set]")
	}
	return set, nil
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.src }

// Match reports whether the dialled number matches the whole pattern.
func (p Pattern) Match(number string) bool {
	if len(p.elems) == 0 || len(number) < len(p.elems) {
		return false
	}
	for i, e := range p.elems {
		if bitOf(number[i])&e == 0 {
			return false
		}
	}
	rest := number[len(p.elems):]
	for i := 0; i < len(rest); i++ {
		if bitOf(rest[i]) == 0 {
			return false
		}
	}
	switch p.tail {
	case '.':
		return len(rest) > 0
	case '!':
		return true
	}
	return len(rest) == 0
}

// MatchAny reports whether number matches one of the patterns; patterns
// that do not parse match nothing (Validate refuses them).
func MatchAny(patterns []string, number string) bool {
	for _, s := range patterns {
		if p, err := ParsePattern(s); err == nil && p.Match(number) {
			return true
		}
	}
	return false
}
