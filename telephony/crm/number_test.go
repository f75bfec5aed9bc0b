package crm

import (
	"strings"
	"testing"
)

func TestParseNumber(t *testing.T) {
	for _, tc := range []struct {
		in, area, want, ext string
	}{
		{"13800138000", "", "13800138000", ""},
		{"+86 138-0013-8000", "", "13800138000", ""},
		{"008613800138000", "", "13800138000", ""},
		{"8613800138000", "", "13800138000", ""},
		{"013800138000", "", "13800138000", ""},
		{"＋８６ １３８００１３８０００", "", "13800138000", ""},
		{"+86 25 8456 1234", "", "02584561234", ""},
		{"(025)84561234", "", "02584561234", ""},
		{"0086 10 6552 9988", "", "01065529988", ""},
		{"025-84561234-801", "", "02584561234", "801"},
		{"025-84561234 转 801", "", "02584561234", "801"},
		{"02584561234 ext. 12", "", "02584561234", "12"},
		{"84561234", "025", "02584561234", ""},
		{"84561234", "", "84561234", ""},
		{"95598", "025", "95598", ""},
		{"+1 415 555 0100", "", "0014155550100", ""},
		{"110", "", "110", ""},
	} {
		n, err := ParseNumber(tc.in, tc.area)
		if err != nil || n.Digits != tc.want || n.Ext != tc.ext {
			t.Errorf("ParseNumber(%q, %q) = %+v, %v; want %s ext %q", tc.in, tc.area, n, err, tc.want, tc.ext)
		}
	}
	for _, bad := range []string{"", "12", "abc", "1380013800a", "123456789012345678901", "025-8456 转 12a", "+"} {
		if n, err := ParseNumber(bad, ""); err == nil {
			t.Errorf("ParseNumber(%q) = %+v, want an error", bad, n)
		}
	}
}

func TestRegion(t *testing.T) {
	for in, want := range map[string]string{
		"02584561234": "南京", "075588889999": "深圳", "13800138000": "mobile", "95598": "", "03001234567": "0300",
	} {
		if got := Region(in); got != want {
			t.Errorf("Region(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestAreaCode(t *testing.T) {
	for in, want := range map[string]string{
		"01065529988": "010", "02584561234": "025", "075588889999": "0755", "13800138000": "mobile",
		"95598": "", "0014155550100": "",
	} {
		if got := AreaCode(in); got != want {
			t.Errorf("AreaCode(%s) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseNumber: whatever the input, a number that parses is digits of
// the allowed length, and parsing its own form again gives it back.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"+86 138-0013-8000", "025-84561234-801", "84561234", "0086", "＋８６", "x1", "转"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNumber(s, "025")
		if err != nil {
			return
		}
		if len(n.Digits) < 3 || len(n.Digits) > MaxNumberLen || !allDigits(n.Digits) || (n.Ext != "" && !allDigits(n.Ext)) {
			t.Fatalf("%q -> %+v", s, n)
		}
		again, err := ParseNumber(n.Digits, "025")
		if err != nil || again.Digits != n.Digits {
			t.Fatalf("%q -> %s, reparsed %+v, %v", s, n.Digits, again, err)
		}
		if strings.ContainsAny(n.Digits, " -+") {
			t.Fatal(n)
		}
	})
}

func TestNumberStringRoundTrip(t *testing.T) {
	for _, s := range []string{"02584561234-801", "13800138000", "075588889999-12345"} {
		n, err := ParseNumber(s, "")
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseNumber(n.String(), "")
		if err != nil || again != n {
			t.Errorf("%q -> %+v -> %q -> %+v, %v", s, n, n.String(), again, err)
		}
	}
	if n, _ := ParseNumber("138-0013-8000", ""); n.Ext != "" {
		t.Errorf("a mobile written in groups got extension %q", n.Ext)
	}
}
