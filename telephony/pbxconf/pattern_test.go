package pbxconf

import (
	"strings"
	"testing"
)

func TestPatternMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		yes     []string
		no      []string
	}{
		{"201", []string{"201"}, []string{"20", "2011", "202", ""}},
		{"_2XX", []string{"200", "299"}, []string{"2999", "20", "2*0"}},
		{"NXXXXXXX", []string{"23456789"}, []string{"13456789", "03456789"}},
		{"ZX", []string{"10", "99"}, []string{"01"}},
		{"9[1-35,7]X", []string{"910", "930", "950", "970"}, []string{"940", "960", "980"}},
		{"00.", []string{"001", "0044123"}, []string{"00", "01"}},
		{"9!", []string{"9", "91", "9123"}, []string{"", "8"}},
		{"*7[67]", []string{"*76", "*77"}, []string{"*78", "#76"}},
		{"1#", []string{"1#"}, []string{"1*"}},
		{"9.", []string{"9*1#"}, []string{"9a"}},
	} {
		p, err := ParsePattern(tc.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		for _, n := range tc.yes {
			if !p.Match(n) {
				t.Errorf("%q does not match %q", tc.pattern, n)
			}
		}
		for _, n := range tc.no {
			if p.Match(n) {
				t.Errorf("%q matches %q", tc.pattern, n)
			}
		}
	}
}

func TestPatternRefused(t *testing.T) {
	for _, tc := range []struct{ pattern, sub string }{
		{"", "empty"},
		{"_", "empty"},
		{"9.1", "only at the end"},
		{".", "at least one"},
		{"9[12", "without"},
		{"9[]", "empty"},
		{"9[a]", "not allowed"},
		{"9[5-1]", "ascending"},
		{"9A", "not a digit"},
		{strings.Repeat("9", MaxPatternLen+1), "longer"},
	} {
		if _, err := ParsePattern(tc.pattern); err == nil || !strings.Contains(err.Error(), tc.sub) {
			t.Errorf("%q: %v, want %q", tc.pattern, err, tc.sub)
		}
	}
}

// FuzzPattern: parsing never panics; an accepted pattern matches a number
// built from it (each position replaced by the smallest character it
// accepts), and never matches a number containing a non-dial character.
func FuzzPattern(f *testing.F) {
	for _, s := range []string{"201", "_9NXX.", "9[1-35,7]X!", "00.", "*7[67]", "[", "9.1", "X#"} {
		f.Add(s, "9123")
	}
	f.Fuzz(func(t *testing.T, pattern, number string) {
		p, err := ParsePattern(pattern)
		p.Match(number)
		if err != nil {
			return
		}
		var b []byte
		for _, e := range p.elems {
			for _, c := range []byte("0123456789*#") {
				if bitOf(c)&e != 0 {
					b = append(b, c)
					break
				}
			}
		}
		if p.tail == '.' {
			b = append(b, '5')
		}
		if !p.Match(string(b)) {
			t.Fatalf("%q does not match its own example %q", pattern, b)
		}
		if p.Match(string(b) + "x") {
			t.Fatalf("%q matches a letter", pattern)
		}
	})
}
