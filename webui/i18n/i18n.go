// Package i18n holds the web admin's message catalogues (one embedded JSON
// object per language, key to text) and picks a language for a request from
// a cookie or the Accept-Language header.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Default is the language used when nothing the client asks for is
// supported: the box is made for call centres in mainland China.
const Default = "zh-CN"

//go:embed catalog/*.json
var files embed.FS

// Catalogs maps each supported language tag to its messages.
type Catalogs map[string]map[string]string

// Load reads the embedded catalogues. It fails when a file is not a flat JSON
// object of strings.
func Load() (Catalogs, error) {
	ents, err := files.ReadDir("catalog")
	if err != nil {
		return nil, fmt.Errorf("i18n: %w", err)
	}
	cs := Catalogs{}
	for _, e := range ents {
		b, err := files.ReadFile(path.Join("catalog", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", e.Name(), err)
		}
		cs[strings.TrimSuffix(e.Name(), ".json")] = m
	}
	if _, ok := cs[Default]; !ok {
		return nil, fmt.Errorf("i18n: no catalogue for the default language %q", Default)
	}
	return cs, nil
}

// Langs returns the supported language tags, sorted.
func (cs Catalogs) Langs() []string {
	var l []string
	for k := range cs {
		l = append(l, k)
	}
	slices.Sort(l)
	return l
}

// Supported returns the supported tag equal to tag ignoring case, or "".
func (cs Catalogs) Supported(tag string) string {
	for k := range cs {
		if strings.EqualFold(k, tag) {
			return k
		}
	}
	return ""
}

// T returns the text for key in lang, formatted with args when given. A key
// missing from lang falls back to the default language, then to the key
// itself, so a gap shows up on the page instead of an empty string (the
// catalogue tests keep gaps from being committed).
func (cs Catalogs) T(lang, key string, args ...any) string {
	s, ok := cs[lang][key]
	if !ok {
		if s, ok = cs[Default][key]; !ok {
			return key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether the default language has key; the tests keep every
// other catalogue in step with it.
func (cs Catalogs) Has(key string) bool {
	_, ok := cs[Default][key]
	return ok
}

// Negotiate picks the supported language that best matches an
// Accept-Language header (RFC 9110 section 12.5.4): the highest q wins, ties go
// to the earlier entry, and a tag matches a language that shares its primary
// subtag ("zh-TW" and "zh" match "zh-CN"). It returns Default when nothing
// matches.
func (cs Catalogs) Negotiate(header string) string {
	best, bestQ := "", 0.0
	for part := range strings.SplitSeq(header, ",") {
		tag, q, ok := parseRange(part)
		if !ok || q <= bestQ {
			continue
		}
		if m := cs.match(tag); m != "" {
			best, bestQ = m, q
		}
	}
	if best == "" {
		return Default
	}
	return best
}

// match finds the supported language for one language range.
func (cs Catalogs) match(tag string) string {
	if tag == "*" {
		return Default
	}
	if m := cs.Supported(tag); m != "" {
		return m
	}
	primary, _, _ := strings.Cut(tag, "-")
	for _, k := range cs.Langs() {
		kp, _, _ := strings.Cut(k, "-")
		if strings.EqualFold(kp, primary) {
			return k
		}
	}
	return ""
}

// parseRange parses one "tag;q=0.8" element. Elements that are malformed
// are skipped by the caller rather than failing the whole header.
func parseRange(s string) (tag string, q float64, ok bool) {
	tag, params, _ := strings.Cut(s, ";")
	tag = strings.TrimSpace(tag)
	if tag == "" || len(tag) > 35 {
		return "", 0, false
	}
	for _, r := range tag {
		if !(r == '-' || r == '*' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "", 0, false
		}
	}
	q = 1
	params = strings.TrimSpace(params)
	if params != "" {
		v, found := strings.CutPrefix(params, "q=")
		if !found {
			return "", 0, false
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f > 1 {
			return "", 0, false
		}
		q = f
	}
	return tag, q, true
}
