package ivr

import (
	"errors"
	"fmt"
	"strings"
)

// Templates are strings in which ${name} is replaced by the variable
// name's value ("" when unset). "$$" writes a literal "$"; any other "$"
// is literal too. There is no other syntax: a flow is configuration, not
// a program.

var errUnclosed = errors.New("unclosed ${ in template")

// checkTemplate reports a malformed template.
func checkTemplate(s string) error {
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			continue
		}
		switch s[i+1] {
		case '$':
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return errUnclosed
			}
			if name := s[i+2 : i+2+end]; !isVarName(name) {
				return fmt.Errorf("bad variable name %q in template", name)
			}
			i += 2 + end
		}
	}
	return nil
}

// stripVars removes the ${...} references, leaving the literal text, so
// that a template's fixed part can be checked.
func stripVars(s string) string {
	return expand(s, func(string) string { return "" }, nil)
}

// expand substitutes variables; escape, when not nil, is applied to each
// substituted value (query escaping for URLs). Malformed references are
// kept literally.
func expand(s string, lookup func(string) string, escape func(string) string) string {
	if strings.IndexByte(s, '$') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			v := lookup(s[i+2 : i+2+end])
			if escape != nil {
				v = escape(v)
			}
			b.WriteString(v)
			i += 2 + end
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
