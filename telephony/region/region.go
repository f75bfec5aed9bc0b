// Package region tells where a Chinese telephone number is from: the
// mainland's landline area codes (长途区号) are built in, with each city and
// province in Chinese and English ("025" is 南京 Nanjing in 江苏 Jiangsu), and
// Lookup reads a number as it arrives (0-prefixed, with +86 or 0086, with
// spaces or dashes) and says whether it is a landline of a known area, a
// mobile number (no city: mobile prefixes are not tied to a place), a
// service number (400, 800), an international one, or a local number
// without an area code.
//
// The call centre binds customer types to regions by area code
// (telephony/ccconf), shows the caller's city to agents, and compares
// numbers in one form (National).
package region

import (
	"bufio"
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Area is one area code's place.
type Area struct {
	Code       string // with the trunk prefix: "025", "0512"
	City       string // 南京; "" for a code a whole province dials
	CityEN     string // Nanjing
	Province   string // 江苏 (or a municipality: 北京)
	ProvinceEN string // Jiangsu
}

// Name is the area's name in a language ("zh..." or anything else for
// English): the city, or the province when the code names no city.
func (a Area) Name(lang string) string {
	zh := strings.HasPrefix(strings.ToLower(lang), "zh")
	switch {
	case a.City == "" && zh:
		return a.Province
	case a.City == "":
		return a.ProvinceEN
	case zh:
		return a.City
	}
	return a.CityEN
}

// Kind is what sort of number a number is.
type Kind uint8

// Kinds of numbers.
const (
	Unknown       Kind = iota // not a telephone number
	Landline                  // 0 + area code + subscriber number
	Mobile                    // 1[3-9] + 9 digits
	Service                   // 400 / 800 numbers, reached nationwide
	International             // + or 00 followed by another country
	Local                     // a number without an area code (local call, extension)
)

var kindNames = [...]string{"unknown", "landline", "mobile", "service", "international", "local"}

// String names the kind ("landline", "mobile", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// MarshalText encodes the kind by name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Info is what Lookup found.
type Info struct {
	Kind Kind
	// National is the number in national form: the trunk prefix 0 and the
	// area code for a landline ("02583201234"), the 11 digits of a mobile,
	// the number itself otherwise (international numbers keep their +).
	National string
	// Area is the landline's area; Known is false when the code is not in
	// the table (or the number is not a landline).
	Area  Area
	Known bool
}

//go:embed areacodes.txt
var areacodesTxt string

var table = sync.OnceValue(func() map[string]Area {
	areas, err := parse(areacodesTxt)
	if err != nil {
		panic(err) // the embedded file is checked by the package's tests
	}
	m := make(map[string]Area, len(areas))
	for _, a := range areas {
		m[a.Code] = a
	}
	return m
})

// parse reads the area code file (areacodes.txt documents it).
func parse(text string) ([]Area, error) {
	var out []Area
	var prov, provEN string
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 || f[1] == "" || f[2] == "" {
			return nil, fmt.Errorf("region: areacodes.txt:%d: want three tab-separated fields", n)
		}
		if f[0] == "province" {
			prov, provEN = f[1], f[2]
			continue
		}
		if prov == "" {
			return nil, fmt.Errorf("region: areacodes.txt:%d: code before any province", n)
		}
		if !isAreaCode(f[0]) {
			return nil, fmt.Errorf("region: areacodes.txt:%d: %q is not an area code", n, f[0])
		}
		a := Area{Code: f[0], City: f[1], CityEN: f[2], Province: prov, ProvinceEN: provEN}
		if a.City == "-" {
			a.City, a.CityEN = "", ""
		}
		out = append(out, a)
	}
	return out, nil
}

// isAreaCode accepts 0 followed by 2 or 3 digits, not 00.
func isAreaCode(s string) bool {
	if (len(s) != 3 && len(s) != 4) || s[0] != '0' || s[1] == '0' {
		return false
	}
	return allDigits(s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Areas returns every area, sorted by code.
func Areas() []Area {
	t := table()
	out := make([]Area, 0, len(t))
	for _, a := range t {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Area) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// ByCode returns the area of a code ("025", or "25" without the 0).
func ByCode(code string) (Area, bool) {
	if !strings.HasPrefix(code, "0") {
		code = "0" + code
	}
	a, ok := table()[code]
	return a, ok
}

// Lookup reads a dialled or presented number: digits, optionally after +
// or 00 and a country code, with spaces, dashes, dots and brackets
// ignored.
func Lookup(number string) Info {
	n, ok := clean(number)
	if !ok {
		return Info{Kind: Unknown, National: number}
	}
	switch {
	case strings.HasPrefix(n, "+86"):
		if n, ok = national(n[3:]); !ok {
			return Info{Kind: Unknown, National: number}
		}
	case strings.HasPrefix(n, "0086"):
		if n, ok = national(n[4:]); !ok {
			return Info{Kind: Unknown, National: number}
		}
	case strings.HasPrefix(n, "+") || strings.HasPrefix(n, "00"):
		if strings.HasPrefix(n, "00") {
			n = "+" + n[2:]
		}
		if len(n) < 4 {
			return Info{Kind: Unknown, National: n}
		}
		return Info{Kind: International, National: n}
	}
	if len(n) == 13 && strings.HasPrefix(n, "86") && isMobile(n[2:]) {
		n = n[2:] // a mobile presented with the country code but no +
	}
	info := Info{National: n}
	switch {
	case isMobile(n):
		info.Kind = Mobile
	case len(n) == 10 && (strings.HasPrefix(n, "400") || strings.HasPrefix(n, "800")):
		info.Kind = Service
	case strings.HasPrefix(n, "0") && len(n) >= 10 && len(n) <= 12:
		info.Kind = Landline
		t := table()
		for _, l := range []int{3, 4} {
			if a, ok := t[n[:l]]; ok {
				info.Area, info.Known = a, true
				break
			}
		}
	case strings.HasPrefix(n, "0"):
		info.Kind = Unknown
	default:
		info.Kind = Local
	}
	return info
}

// National returns the number in national form (see Info.National), so
// that "+86 25 8320 1234", "0086-25-83201234" and "02583201234" compare
// equal.
func National(number string) string { return Lookup(number).National }

// national puts the trunk prefix back on what followed +86: landlines
// lose it after the country code (some write it anyway: +86 (0)25 ...),
// mobiles and service numbers never have one.
func national(n string) (string, bool) {
	n = strings.TrimPrefix(n, "0")
	switch {
	case n == "" || n[0] == '0':
		return "", false
	case isMobile(n) || strings.HasPrefix(n, "400") || strings.HasPrefix(n, "800"):
		return n, true
	}
	return "0" + n, true
}

func isMobile(n string) bool {
	return len(n) == 11 && n[0] == '1' && n[1] >= '3' && n[1] <= '9' && allDigits(n)
}

// clean drops the separators people write between digits and checks what
// is left: digits, with at most one leading +.
func clean(number string) (string, bool) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(number) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	s := b.String()
	return s, s != "" && s != "+" && len(s) <= 24
}

// Prefixes returns the forms a number of an area code begins with as
// callers present it: "025", "+8625" and "008625", for matching by
// prefix.
func Prefixes(code string) []string {
	if !strings.HasPrefix(code, "0") {
		code = "0" + code
	}
	return []string{code, "+86" + code[1:], "0086" + code[1:]}
}
