package htmlpage

import (
	"strings"
	"unicode/utf8"
)

// HTML is markup the program built itself with every text in it escaped:
// written as it is in element content, escaped like any text elsewhere.
type HTML string

// JSON is a JSON document for a <script type="application/json"> block,
// the only value such a block takes. "<", ">" and "&" are written as
// \u003c, \u003e and \u0026, so the document cannot end the script.
type JSON string

// filtered replaces a URL whose scheme is not allowed, as html/template does.
const filtered = "#ZgotmplZ"

// writeText escapes s for element content or a quoted attribute value.
// Invalid UTF-8 and NUL become U+FFFD.
func writeText(b *strings.Builder, s string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '&':
				b.WriteString("&amp;")
			case '<':
				b.WriteString("&lt;")
			case '>':
				b.WriteString("&gt;")
			case '"':
				b.WriteString("&#34;")
			case '\'':
				b.WriteString("&#39;")
			case '+':
				b.WriteString("&#43;")
			case 0:
				b.WriteString("\uFFFD")
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
}

// allowedURL reports whether s is relative or of a scheme a page may link.
func allowedURL(s string) bool {
	i := strings.IndexByte(s, ':')
	if i < 0 || strings.ContainsRune(s[:i], '/') {
		return true
	}
	switch strings.ToLower(s[:i]) {
	case "http", "https", "mailto", "tel":
		return true
	}
	return false
}

// urlEncode percent-encodes s: everything but unreserved bytes, and with
// keepReserved the reserved ones and existing escapes are kept (a URL
// normalised, not re-encoded).
func urlEncode(s string, keepReserved bool) string {
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
			continue
		case keepReserved && strings.IndexByte("!#$&*+,/:;=?@[]%", c) >= 0:
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// writeJSON writes a JSON document into a script body.
func writeJSON(b *strings.Builder, s string) {
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString(`\u003c`)
		case '>':
			b.WriteString(`\u003e`)
		case '&':
			b.WriteString(`\u0026`)
		case '\u2028':
			b.WriteString(`\u2028`)
		case '\u2029':
			b.WriteString(`\u2029`)
		default:
			b.WriteRune(r)
		}
	}
}

// write escapes s by e.
func write(b *strings.Builder, e escaper, s string) {
	switch e {
	case escURLStart:
		if !allowedURL(s) {
			s = filtered
		}
		writeText(b, urlEncode(s, true))
	case escURLPath:
		writeText(b, urlEncode(s, true))
	case escURLQuery:
		writeText(b, urlEncode(s, false))
	default:
		writeText(b, s)
	}
}
