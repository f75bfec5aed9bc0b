package dialplan

import (
	"testing"

	"callbox/telephony/line"
)

// Numbers an application serves (the call centre's codes and its IVR
// number) are dialled like any other and resolve to the application,
// ahead of routes that would also take them.
func TestApplicationNumbers(t *testing.T) {
	p, err := New(Config{
		Extensions: []string{"201", "202"},
		Routes:     []Route{{Name: "any", Patterns: []string{"X."}, Trunks: []string{"fxo1"}}},
		Apps: []App{
			{Name: "cc", Patterns: []string{"*50", "*51", "*56X.", "8000"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		digits string
		match  line.Match
		kind   Kind
		number string
	}{
		{"*5", line.MatchMore, Invalid, ""},
		{"*50", line.MatchComplete, Application, "*50"},
		{"*56", line.MatchMore, Invalid, ""},
		{"*561088", line.MatchMore, Application, "*561088"},
		{"*561088#", line.MatchComplete, Application, "*561088"},
		{"8000", line.MatchMore, Application, "8000"}, // the route X. could go on
		{"201", line.MatchMore, Extension, "201"},
		{"*8", line.MatchComplete, FeatureCode, ""},
	} {
		if got := p.Match(c.digits); got != c.match {
			t.Errorf("Match(%q) = %v, want %v", c.digits, got, c.match)
		}
		if c.kind == Invalid {
			continue
		}
		d := p.Resolve("201", c.digits)
		if d.Kind != c.kind || (c.kind != FeatureCode && d.Number != c.number) {
			t.Errorf("Resolve(%q) = %+v, want %v %q", c.digits, d, c.kind, c.number)
		}
		if d.Kind == Application && d.App != "cc" {
			t.Errorf("Resolve(%q) names application %q", c.digits, d.App)
		}
	}
}

func TestApplicationConflicts(t *testing.T) {
	for _, c := range []struct {
		name string
		apps []App
	}{
		{"feature code", []App{{Name: "cc", Patterns: []string{"*8"}}}},
		{"pattern over a feature code", []App{{Name: "cc", Patterns: []string{"*7X"}}}},
		{"extension", []App{{Name: "cc", Patterns: []string{"201"}}}},
		{"no name", []App{{Patterns: []string{"*50"}}}},
		{"bad pattern", []App{{Name: "cc", Patterns: []string{"*5[0"}}}},
	} {
		if _, err := New(Config{Extensions: []string{"201"}, Apps: c.apps}); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}
