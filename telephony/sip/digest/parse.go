package digest

import (
	"errors"
	"fmt"
	"strings"
)

// ErrSyntax reports a header that is not a well-formed digest header.
var ErrSyntax = errors.New("digest: malformed header")

// params splits `Digest a="b", c=d` into lower-cased names and unquoted values.
func params(header string) (map[string]string, error) {
	s := strings.TrimSpace(header)
	if len(s) < 6 || !strings.EqualFold(s[:6], "digest") {
		return nil, fmt.Errorf("%w: not a digest scheme", ErrSyntax)
	}
	s = s[6:]
	if s != "" && s[0] != ' ' && s[0] != '\t' {
		return nil, fmt.Errorf("%w: not a digest scheme", ErrSyntax)
	}
	out := make(map[string]string, 10)
	for {
		s = strings.TrimLeft(s, " \t\r\n,")
		if s == "" {
			return out, nil
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("%w: parameter without value", ErrSyntax)
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		if name == "" || strings.ContainsAny(name, " \t\",") {
			return nil, fmt.Errorf("%w: bad parameter name", ErrSyntax)
		}
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s); i++ {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					i++
					b.WriteByte(s[i])
					continue
				}
				if c == '"' {
					break
				}
				b.WriteByte(c)
			}
			if i >= len(s) {
				return nil, fmt.Errorf("%w: unterminated quoted string", ErrSyntax)
			}
			val, s = b.String(), s[i+1:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%w: duplicate parameter %s", ErrSyntax, name)
		}
		out[name] = val
		s = strings.TrimLeft(s, " \t")
		if s != "" && s[0] != ',' {
			return nil, fmt.Errorf("%w: junk after parameter %s", ErrSyntax, name)
		}
	}
}

// ParseCredentials parses an Authorization or Proxy-Authorization value.
// username, realm, nonce, uri and response are required; with qop, nc and
// cnonce are required too (RFC 2617 section 3.2.2).
func ParseCredentials(header string) (Credentials, error) {
	p, err := params(header)
	if err != nil {
		return Credentials{}, err
	}
	c := Credentials{
		Username: p["username"], Realm: p["realm"], Nonce: p["nonce"], URI: p["uri"],
		Response: p["response"], Algorithm: Algorithm(p["algorithm"]), CNonce: p["cnonce"],
		Opaque: p["opaque"], QOP: p["qop"], NC: p["nc"],
	}
	for _, req := range []string{"username", "realm", "nonce", "uri", "response"} {
		if _, ok := p[req]; !ok {
			return Credentials{}, fmt.Errorf("%w: missing %s", ErrSyntax, req)
		}
	}
	if !isToken(string(c.Algorithm)) || !isToken(c.QOP) {
		return Credentials{}, fmt.Errorf("%w: algorithm or qop is not a token", ErrSyntax)
	}
	if c.QOP == "" {
		// Without qop, nc and cnonce take no part in the digest.
		c.NC, c.CNonce = "", ""
	} else {
		if c.NC == "" || c.CNonce == "" {
			return Credentials{}, fmt.Errorf("%w: qop without nc or cnonce", ErrSyntax)
		}
		if len(c.NC) != 8 || strings.Trim(c.NC, "0123456789abcdefABCDEF") != "" {
			return Credentials{}, fmt.Errorf("%w: nc is not 8 hex digits", ErrSyntax)
		}
	}
	return c, nil
}

// ParseChallenge parses a WWW-Authenticate or Proxy-Authenticate value.
func ParseChallenge(header string) (Challenge, error) {
	p, err := params(header)
	if err != nil {
		return Challenge{}, err
	}
	c := Challenge{
		Realm: p["realm"], Nonce: p["nonce"], Opaque: p["opaque"],
		Algorithm: Algorithm(p["algorithm"]), QOP: p["qop"],
		Stale: strings.EqualFold(p["stale"], "true"),
	}
	if _, ok := p["nonce"]; !ok {
		return Challenge{}, fmt.Errorf("%w: missing nonce", ErrSyntax)
	}
	if _, ok := p["realm"]; !ok {
		return Challenge{}, fmt.Errorf("%w: missing realm", ErrSyntax)
	}
	return c, nil
}

// isToken reports whether s is empty or an RFC 3261 token.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}
