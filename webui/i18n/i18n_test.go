package i18n

import (
	"slices"
	"testing"
)

func load(t testing.TB) Catalogs {
	t.Helper()
	cs, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestCataloguesComplete fails when a key exists in one catalogue and not in
// another, or when a text is empty.
func TestCataloguesComplete(t *testing.T) {
	cs := load(t)
	if got, want := cs.Langs(), []string{"en", "zh-CN"}; !slices.Equal(got, want) {
		t.Fatalf("languages %v, want %v", got, want)
	}
	for _, a := range cs.Langs() {
		for key, text := range cs[a] {
			if text == "" {
				t.Errorf("%s: %q is empty", a, key)
			}
			for _, b := range cs.Langs() {
				if _, ok := cs[b][key]; !ok {
					t.Errorf("key %q is in %s but missing in %s", key, a, b)
				}
			}
		}
	}
	for _, lang := range cs.Langs() {
		if cs[lang]["lang.name"] == "" {
			t.Errorf("%s has no lang.name for the language switch", lang)
		}
	}
}

func TestNegotiate(t *testing.T) {
	cs := load(t)
	for _, tc := range []struct{ header, want string }{
		{"", "zh-CN"}, // the default: the box is made for mainland call centres
		{"zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"},
		{"zh-cn", "zh-CN"},
		{"zh-TW", "zh-CN"},
		{"zh", "zh-CN"},
		{"en-US,en;q=0.9", "en"},
		{"fr-FR,zh;q=0.5,en;q=0.4", "zh-CN"},
		{"fr-FR,de;q=0.5", "zh-CN"},
		{"en;q=0.2,zh-CN;q=0.8", "zh-CN"},
		{"zh-CN;q=0,en;q=0.1", "en"},
		{"zh-CN;q=abc,en;q=0.1", "en"},
		{"*", "zh-CN"},
		{"zh-CN;q=2", "zh-CN"},
		{";;;,,,", "zh-CN"},
		{"en;q=0.5, zh-CN;q=0.5", "en"},
	} {
		if got := cs.Negotiate(tc.header); got != tc.want {
			t.Errorf("Negotiate(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func TestT(t *testing.T) {
	cs := load(t)
	if got := cs.T("zh-CN", "nav.logout"); got != "退出登录" {
		t.Errorf("zh-CN nav.logout = %q", got)
	}
	if got := cs.T("en", "nav.logout"); got != "Log out" {
		t.Errorf("en nav.logout = %q", got)
	}
	if got := cs.T("en", "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key gives %q, want the key", got)
	}
	if got := cs.T("xx", "nav.logout"); got != "退出登录" {
		t.Errorf("unknown language gives %q, want the default text", got)
	}
	if got := cs.T("en", "err.retry_after", 3); got != "Too many attempts; try again in 3 s." {
		t.Errorf("formatted text %q", got)
	}
}

// FuzzNegotiate checks that any header yields a supported language and that
// a supported tag placed first always wins.
func FuzzNegotiate(f *testing.F) {
	cs := load(f)
	for _, s := range []string{"", "zh-CN,zh;q=0.9", "en;q=0.1", "*;q=0.5", "zh-CN;q=1.0000001", "x-\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got := cs.Negotiate(h)
		if cs.Supported(got) != got || got == "" {
			t.Fatalf("Negotiate(%q) = %q, not a supported language", h, got)
		}
		for _, l := range cs.Langs() {
			// An exact tag first has q=1, which nothing later can outrank.
			if got := cs.Negotiate(l + "," + h); got != l {
				t.Fatalf("Negotiate(%q) = %q, want %q", l+","+h, got, l)
			}
		}
	})
}

func BenchmarkNegotiate(b *testing.B) {
	cs := load(b)
	b.ReportAllocs()
	for b.Loop() {
		cs.Negotiate("fr-FR,fr;q=0.9,zh-CN;q=0.8,en;q=0.7")
	}
}
