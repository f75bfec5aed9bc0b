package crm

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"callbox/telephony/region"
)

// MaxNumberLen bounds a normalised number (ITU-T E.164 allows 15 digits
// after the country code; "00" and a country code come on top).
const MaxNumberLen = 20

// Number is a telephone number in the one form the directory indexes:
// digits only, mainland numbers in national form (mobiles as 11 digits,
// landlines with their 0 and area code: "02584561234"), other countries
// as "00" + country code + number, and an extension apart.
type Number struct {
	Digits string `json:"number"`
	Ext    string `json:"ext,omitempty"`
}

func (n Number) String() string {
	if n.Ext != "" {
		return n.Digits + "-" + n.Ext
	}
	return n.Digits
}

// ParseNumber normalises a number as people write or phones send it:
// "+86 138-0013-8000", "008613800138000", "8613800138000" and
// "013800138000" are all 13800138000; "+86 25 8456 1234" and
// "(025)84561234" are 02584561234; "025-84561234 转 801" and
// "025-84561234-801" keep 801 as the extension. A local number (7 or 8
// digits, no area code) gets localArea ("025") when that is set.
func ParseNumber(s, localArea string) (Number, error) {
	var n Number
	if !utf8.ValidString(s) {
		return n, fmt.Errorf("crm: number: not UTF-8")
	}
	s = strings.TrimSpace(foldWidth(s))
	main, ext := splitExt(s)
	var b strings.Builder
	for i, r := range main {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteString("00")
		case strings.ContainsRune(" -().·/", r):
		default:
			return n, fmt.Errorf("crm: number %q: %q is not a digit", s, r)
		}
	}
	d := b.String()
	for _, r := range ext {
		if r < '0' || r > '9' {
			return n, fmt.Errorf("crm: number %q: extension %q is not digits", s, ext)
		}
	}
	d = national(d, localArea)
	if len(d) < 3 || len(d) > MaxNumberLen {
		return n, fmt.Errorf("crm: number %q: must have 3 to %d digits", s, MaxNumberLen)
	}
	if len(ext) > 8 {
		return n, fmt.Errorf("crm: number %q: extension longer than 8 digits", s)
	}
	return Number{Digits: d, Ext: ext}, nil
}

// national turns digits into the directory's form (see Number).
func national(d, localArea string) string {
	switch {
	case strings.HasPrefix(d, "0086"):
		d = nsn(d[4:])
	case strings.HasPrefix(d, "00"):
		return d
	case len(d) == 13 && strings.HasPrefix(d, "86") && isMobile(d[2:]):
		d = d[2:]
	}
	switch {
	case len(d) == 12 && d[0] == '0' && isMobile(d[1:]):
		// A mobile dialled with the long-distance 0, as some exchanges send it.
		return d[1:]
	case (len(d) == 7 || len(d) == 8) && d[0] != '0' && d[0] != '1' && localArea != "":
		return localArea + d
	}
	return d
}

// nsn turns a national significant number (after +86) into national form:
// landlines get back their trunk prefix 0.
func nsn(d string) string {
	if isMobile(d) || d == "" || d[0] == '0' || len(d) <= 6 {
		return d
	}
	return "0" + d
}

// isMobile: 11 digits starting 13-19.
func isMobile(d string) bool {
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9' && allDigits(d)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// splitExt separates an extension written after "转", "ext", "x", "#" or
// a second "-" that follows a full landline.
func splitExt(s string) (main, ext string) {
	lower := strings.ToLower(s)
	for _, sep := range []string{"转", "ext.", "ext", "x", "#", ","} {
		if i := strings.Index(lower, sep); i > 0 {
			return s[:i], strings.TrimSpace(strings.Trim(s[i+len(sep):], " -."))
		}
	}
	// "025-84561234-801", "02584561234-801": a short last group after a
	// whole landline.
	if i := strings.LastIndex(s, "-"); i > 0 {
		head, tail := s[:i], strings.TrimSpace(s[i+1:])
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, head)
		if len(tail) <= 5 && len(digits) >= 10 && digits[0] == '0' && !strings.HasPrefix(digits, "00") {
			return head, tail
		}
	}
	return s, ""
}

// foldWidth turns full-width ASCII (＋８６) into ASCII.
func foldWidth(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= 0xFF01 && r <= 0xFF5E || r == 0x3000 }) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			return r - 0xFF01 + 0x21
		case r == 0x3000:
			return ' '
		}
		return r
	}, s)
}

// Region names where a number in the directory's form is: the city (or
// province) of a mainland landline's area code from telephony/region
// ("南京"), "mobile" for a mobile, and "" otherwise. It is the directory's
// region when Options.Region is nil.
func Region(digits string) string {
	info := region.Lookup(digits)
	switch {
	case info.Kind == region.Landline && info.Known:
		return info.Area.Name("zh")
	case info.Kind == region.Landline:
		return AreaCode(digits)
	case info.Kind == region.Mobile:
		return "mobile"
	}
	return ""
}

// AreaCode returns the long-distance area code of a mainland landline in
// national form ("010", "025", "0755"), "mobile" for a mobile number, and
// "" otherwise.
func AreaCode(digits string) string {
	switch {
	case isMobile(digits):
		return "mobile"
	case len(digits) < 10 || digits[0] != '0' || strings.HasPrefix(digits, "00"):
		return ""
	case digits[1] == '1' || digits[1] == '2':
		return digits[:3]
	}
	return digits[:4]
}

// SearchDigits returns the digits of a query that reads as a number
// ("138-0013", "+86 25"), normalised as ParseNumber does as far as a
// partial number allows, and whether it is one.
func SearchDigits(q string) (string, bool) {
	q = strings.TrimSpace(foldWidth(q))
	var b strings.Builder
	for i, r := range q {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteString("00")
		case strings.ContainsRune(" -().", r):
		default:
			return "", false
		}
	}
	d := b.String()
	if d == "" {
		return "", false
	}
	if rest, ok := strings.CutPrefix(d, "0086"); ok {
		// What follows +86 is a mobile or a landline without its 0.
		d = rest
		if d != "" && d[0] != '1' && d[0] != '0' {
			d = "0" + d
		}
	}
	return d, true
}
