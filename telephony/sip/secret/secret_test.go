package secret

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		s    string
		p    Policy
		user string
		want string // weakness code, "" for accepted
	}{
		{"password", SIP, "", TooShort},
		{"Kx7mQ2pZ", SIP, "", TooShort},
		{"Kx7mQ2pZ", Staff, "", ""},
		{"Kx7mQ2pZw9", SIP, "", ""},
		{"correct horse battery", Admin, "root", ""},
		{"root-password", Admin, "root", ContainsUser},
		{"xROOTx-wild-9", Admin, "root", ContainsUser},
		{"201", Staff, "201", TooShort},
		{"secret-201-x", SIP, "201", ContainsUser},
		{"ab-horse-cd", Staff, "ab", ""}, // a two-letter user is not searched inside
		{"password12", SIP, "", Common},
		{"Password2024!", SIP, "", Common},
		{"2024password", SIP, "", Common},
		{"P@ssw0rd!!", SIP, "", Common},
		{"P@55w0rd123", SIP, "", Common},
		{"pass-word_99", SIP, "", Common},
		{"passwordpassword", SIP, "", Common},
		{"qwertyuiop", SIP, "", Common},
		{"1qaz2wsx3edc", SIP, "", Common},
		{"woaini1314", SIP, "", Common},
		{"5201314520", SIP, "", Common},
		{"asterisk123", SIP, "", Common},
		{"changeme!!", SIP, "", Common},
		{"Monkey2000", SIP, "", Common},
		{"19850612", Staff, "", Common}, // a birthday
		{"06121985", Staff, "", Common},
		{"1234567890", SIP, "", Common},
		{"12345678", Staff, "", Common},
		{"9876543210", SIP, "", Common},
		{"abcdefghij", SIP, "", Common}, // "abcdefg" is on the list
		{"zyxwvutsrq", SIP, "", Sequence},
		{"aaaaaaaaaa", SIP, "", Sequence},
		{"1212121212", SIP, "", Sequence},
		{"abcabcabca", SIP, "", Sequence},
		{"x1234567890", SIP, "", Common},
		{"bob12345678", SIP, "", Common},
		{"zz-jklmnopq", SIP, "", Sequence},
		{"11112222xy", SIP, "", Sequence},
		{"Tr0ub4dor&3", SIP, "", ""},
		{"k7Qm2pX9vA", SIP, "", ""},
		{"abcXk7Qm2p", SIP, "", ""}, // a short run inside is fine
		{"xyzx-k7Qm2", SIP, "", ""},
		{"密码安全第一的一天", Staff, "", ""},
	} {
		err := Check(tc.s, tc.p, tc.user)
		got := ""
		var w *Weakness
		if errors.As(err, &w) {
			got = w.Code
		} else if err != nil {
			t.Fatalf("Check(%q) = %v, not a *Weakness", tc.s, err)
		}
		if got != tc.want {
			t.Errorf("Check(%q, min %d, user %q) = %v, want %q", tc.s, tc.p.MinLen, tc.user, err, tc.want)
		}
		if err != nil && (!strings.HasPrefix(err.Error(), "secret: ") || strings.Contains(err.Error(), "%!")) {
			t.Errorf("Check(%q) error text %q", tc.s, err)
		}
	}
}

// TestCodesHaveTexts: every code has an English text that takes its Args.
func TestCodesHaveTexts(t *testing.T) {
	for _, c := range Codes() {
		if texts[c] == "" {
			t.Errorf("code %q has no text", c)
		}
	}
	if (&Weakness{Code: TooShort, Args: []any{10}}).Reason() != "too short (at least 10 characters)" {
		t.Error("too_short text")
	}
}

func TestList(t *testing.T) {
	if n := len(common); n < 2500 {
		t.Fatalf("common list has %d entries", n)
	}
	for _, w := range []string{"password", "123456789", "qwerty", "iloveyou", "woaini1314", "admin", "asterisk", "yealink"} {
		if !common[w] {
			t.Errorf("%q missing from the list", w)
		}
	}
	for w := range common {
		if w != strings.ToLower(w) || len(w) < 4 || strings.TrimSpace(w) != w {
			t.Errorf("list entry %q: entries are lower case, 4 characters or more, trimmed", w)
		}
	}
}

// TestListIsGenerated: common.txt is what gen_common.go writes, so edits go
// to the generator.
func TestListIsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	dir := t.TempDir()
	src, err := os.ReadFile("gen_common.go")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gen_common.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "gen_common.go")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen_common.go: %v\n%s", err, out)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "common.txt"))
	if string(want) != commonText {
		t.Fatal("common.txt differs from what gen_common.go generates: run go generate ./telephony/sip/secret")
	}
}

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		s, err := Generate("201")
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != GeneratedLen || seen[s] {
			t.Fatalf("Generate = %q (len %d, seen before %v)", s, len(s), seen[s])
		}
		seen[s] = true
		for _, r := range s {
			if !strings.ContainsRune(Alphabet, r) {
				t.Fatalf("Generate = %q: %q is not in the alphabet", s, r)
			}
		}
		for _, p := range []Policy{SIP, Admin, Staff} {
			if err := Check(s, p, "201"); err != nil {
				t.Fatalf("generated %q refused: %v", s, err)
			}
		}
	}
	for _, r := range "0Oo1lIi" {
		if strings.ContainsRune(Alphabet, r) {
			t.Errorf("alphabet has the look-alike %q", r)
		}
	}
}

// FuzzCheck: Check never panics, refuses with a known code only, and
// everything shorter than the minimum is too short.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"password", "Tr0ub4dor&3", "1234abcd", "", "ééééé", "\x00\xff"} {
		f.Add(s, "201")
	}
	known := map[string]bool{}
	for _, c := range Codes() {
		known[c] = true
	}
	f.Fuzz(func(t *testing.T, s, user string) {
		err := Check(s, SIP, user)
		if err == nil {
			if len([]rune(s)) < SIP.MinLen {
				t.Fatalf("Check(%q) accepted a short secret", s)
			}
			return
		}
		var w *Weakness
		if !errors.As(err, &w) || !known[w.Code] {
			t.Fatalf("Check(%q) = %v", s, err)
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Check("Tr0ub4dor&3-horse", SIP, "201")
	}
}
