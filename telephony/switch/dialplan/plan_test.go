package dialplan

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"callbox/telephony/line"
)

func testPlan(t testing.TB) *Plan {
	t.Helper()
	p, err := New(Config{
		Extensions: []string{"201", "202", "203", "204", "2050"},
		Routes: []Route{
			{Name: "local", Patterns: []string{"9NXXXXXXX"}, Strip: 1, Trunks: []string{"fxo1", "fxo2"}},
			{Name: "mobile", Patterns: []string{"91[3-9]XXXXXXXXX"}, Strip: 1, Prepend: "", CallerID: "01088886666", Trunks: []string{"sip-carrier", "fxo1"}},
			{Name: "long", Patterns: []string{"90X."}, Strip: 1, Trunks: []string{"sip-carrier"}},
			{Name: "boss-intl", Patterns: []string{"8X."}, Strip: 1, Prepend: "00", Trunks: []string{"sip-carrier"}, Callers: []string{"201"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPatternMatch(t *testing.T) {
	for _, c := range []struct {
		pat, digits string
		full, more  bool
	}{
		{"201", "2", false, true},
		{"201", "201", true, false},
		{"201", "2011", false, false},
		{"_9NXX", "92", false, true},
		{"_9NXX", "912", false, false},
		{"9NXX", "9234", true, false},
		{"9X.", "9", false, true},
		{"9X.", "95", false, true},
		{"9X.", "955", true, true},
		{"9X!", "95", true, true},
		{"[1-35]X", "4", false, false},
		{"[1-35]X", "51", true, false},
		{"*72X.", "*7", false, true},
		{"*72X.", "*72201", true, true},
		{"#", "#", true, false},
		{"x", "7", true, false},
		{"ZX", "07", false, false},
	} {
		p, err := ParsePattern(c.pat)
		if err != nil {
			t.Fatalf("%q: %v", c.pat, err)
		}
		full, more := p.Match(c.digits)
		if full != c.full || more != c.more {
			t.Errorf("%q against %q: full %v more %v, want %v %v", c.pat, c.digits, full, more, c.full, c.more)
		}
	}
}

func TestPatternErrors(t *testing.T) {
	for _, s := range []string{"", "_", "9.X", "[", "[]", "[9-1]", "12e", "9 1", strings.Repeat("1", 65)} {
		if _, err := ParsePattern(s); !errors.Is(err, ErrPattern) {
			t.Errorf("%q: err %v, want ErrPattern", s, err)
		}
	}
}

func TestMatchDigitByDigit(t *testing.T) {
	p := testPlan(t)
	for _, c := range []struct {
		digits string
		want   line.Match
	}{
		{"2", line.MatchMore},
		{"20", line.MatchMore},
		{"202", line.MatchComplete},
		{"205", line.MatchMore},
		{"2050", line.MatchComplete},
		{"207", line.MatchInvalid},
		{"3", line.MatchInvalid},
		{"11", line.MatchMore},
		{"110", line.MatchComplete}, // emergency at once
		{"112", line.MatchComplete},
		{"911", line.MatchComplete}, // emergency even though 9... routes could go on
		{"*", line.MatchMore},
		{"*8", line.MatchComplete},
		{"*76", line.MatchComplete},
		{"*77", line.MatchComplete},
		{"*72", line.MatchMore},
		{"*72203", line.MatchMore},
		{"*72203#", line.MatchComplete},
		{"*9", line.MatchMore},
		{"*5", line.MatchInvalid},
		{"9", line.MatchMore},
		{"955551234", line.MatchComplete}, // fixed length local number
		{"913800138000", line.MatchComplete},
		{"9010", line.MatchMore},
	} {
		if got := p.Match(c.digits); got != c.want {
			t.Errorf("Match(%q) = %v, want %v", c.digits, got, c.want)
		}
	}
}

func TestResolve(t *testing.T) {
	p := testPlan(t)
	if f := p.Features(); f != DefaultFeatures {
		t.Errorf("features %+v", f)
	}
	for _, c := range []struct {
		from, digits string
		want         Decision
	}{
		{"201", "202", Decision{Kind: Extension, Number: "202"}},
		{"201", "*8", Decision{Kind: FeatureCode, Feature: Pickup}},
		{"201", "*76", Decision{Kind: FeatureCode, Feature: DNDOn}},
		{"201", "*77", Decision{Kind: FeatureCode, Feature: DNDOff}},
		{"201", "*72913800138000", Decision{Kind: FeatureCode, Feature: ForwardAll, Number: "913800138000"}},
		{"201", "*72203#", Decision{Kind: FeatureCode, Feature: ForwardAll, Number: "203"}},
		{"201", "*73", Decision{Kind: FeatureCode, Feature: ForwardAllOff}},
		{"201", "*90204", Decision{Kind: FeatureCode, Feature: ForwardBusy, Number: "204"}},
		{"201", "*91", Decision{Kind: FeatureCode, Feature: ForwardBusyOff}},
		{"201", "*92204", Decision{Kind: FeatureCode, Feature: ForwardNoAnswer, Number: "204"}},
		{"201", "*93", Decision{Kind: FeatureCode, Feature: ForwardNoAnswerOff}},
		{"202", "955551234", Decision{Kind: Outbound, Number: "55551234", Route: "local", Trunks: []string{"fxo1", "fxo2"}}},
		{"202", "913800138000", Decision{Kind: Outbound, Number: "13800138000", Route: "mobile", CallerID: "01088886666", Trunks: []string{"sip-carrier", "fxo1"}}},
		{"202", "901087654321", Decision{Kind: Outbound, Number: "01087654321", Route: "long", Trunks: []string{"sip-carrier"}}},
		// Prefix add: the boss may call abroad with 8 + country code.
		{"201", "8852123", Decision{Kind: Blocked, Number: "00852123", Route: "boss-intl", Reason: "blocked pattern 00."}},
		{"202", "8852123", Decision{Kind: NoRoute, Route: "boss-intl", Reason: "extension 202 may not use route boss-intl"}},
		// International and premium are blocked by default.
		{"202", "90085212345678", Decision{Kind: Blocked, Number: "0085212345678", Route: "long", Reason: "blocked pattern 00."}},
		{"202", "0085212345678", Decision{Kind: Blocked, Number: "0085212345678", Reason: "blocked pattern 00."}},
		{"202", "916812345678", Decision{Kind: Blocked, Number: "16812345678", Route: "mobile", Reason: "blocked pattern 168X."}},
		// Emergency: always, with or without the access code, for anyone.
		{"202", "110", Decision{Kind: Emergency, Number: "110", Trunks: []string{"fxo1", "fxo2", "sip-carrier"}}},
		{"", "119", Decision{Kind: Emergency, Number: "119", Trunks: []string{"fxo1", "fxo2", "sip-carrier"}}},
		{"203", "9120", Decision{Kind: Emergency, Number: "120", Trunks: []string{"fxo1", "fxo2", "sip-carrier"}}},
		{"203", "122", Decision{Kind: Emergency, Number: "122", Trunks: []string{"fxo1", "fxo2", "sip-carrier"}}},
		{"203", "911", Decision{Kind: Emergency, Number: "911", Trunks: []string{"fxo1", "fxo2", "sip-carrier"}}},
		{"203", "112", Decision{Kind: Emergency, Number: "112", Trunks: []string{"fxo1", "fxo2", "sip-carrier"}}},
		{"203", "207", Decision{Kind: Invalid, Reason: "no extension, feature or route matches"}},
	} {
		got := p.Resolve(c.from, c.digits)
		if got.Kind != c.want.Kind || got.Number != c.want.Number || got.Feature != c.want.Feature ||
			got.Route != c.want.Route || got.CallerID != c.want.CallerID || got.Reason != c.want.Reason ||
			!slices.Equal(got.Trunks, c.want.Trunks) {
			t.Errorf("Resolve(%q, %q) = %+v, want %+v", c.from, c.digits, got, c.want)
		}
	}
}

// With no routes at all and a plan that blocks everything, emergency
// numbers still go out on the emergency trunks.
func TestEmergencyAlwaysAllowed(t *testing.T) {
	p, err := New(Config{
		Extensions:      []string{"201"},
		Blocked:         []string{"X!", "*!", "#!"},
		EmergencyTrunks: []string{"fxo1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range DefaultEmergency {
		if m := p.Match(n); m != line.MatchComplete {
			t.Errorf("Match(%s) = %v", n, m)
		}
		d := p.Resolve("201", n)
		if d.Kind != Emergency || d.Number != n || !slices.Equal(d.Trunks, []string{"fxo1"}) {
			t.Errorf("Resolve(%s) = %+v", n, d)
		}
	}
	if d := p.Resolve("201", "95551234"); d.Kind != Blocked {
		t.Errorf("ordinary number: %+v, want blocked", d)
	}
}

func TestBlockedCanBeCleared(t *testing.T) {
	p, err := New(Config{Blocked: []string{}, Routes: []Route{{Name: "any", Patterns: []string{"0X."}, Trunks: []string{"t"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Resolve("201", "0085212345678"); d.Kind != Outbound {
		t.Fatalf("with no blocked patterns: %+v", d)
	}
}

// A route's own blocked patterns refuse numbers on that route only: the
// same number goes out on another route that does not block it.
func TestRouteBlocked(t *testing.T) {
	p, err := New(Config{Blocked: []string{"00."}, Routes: []Route{
		{Name: "local", Patterns: []string{"9X."}, Strip: 1, Trunks: []string{"fxo1"}, Blocked: []string{"1XXXXXXXXXX", "0X."}},
		{Name: "mobile", Patterns: []string{"8X."}, Strip: 1, Trunks: []string{"sip1"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dial string
		want Decision
	}{
		{"913800138000", Decision{Kind: Blocked, Number: "13800138000", Route: "local", Reason: "route local blocks pattern 1XXXXXXXXXX"}},
		{"813800138000", Decision{Kind: Outbound, Number: "13800138000", Route: "mobile", Trunks: []string{"sip1"}}},
		{"9055512345", Decision{Kind: Blocked, Number: "055512345", Route: "local", Reason: "route local blocks pattern 0X."}},
		{"855512345", Decision{Kind: Outbound, Number: "55512345", Route: "mobile", Trunks: []string{"sip1"}}},
		{"95551234", Decision{Kind: Outbound, Number: "5551234", Route: "local", Trunks: []string{"fxo1"}}},
		{"800852123", Decision{Kind: Blocked, Number: "00852123", Route: "mobile", Reason: "blocked pattern 00."}},
		{"9110", Decision{Kind: Emergency, Number: "110", Trunks: []string{"fxo1", "sip1"}}},
	} {
		if got := p.Resolve("201", c.dial); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.dial, got, c.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for name, c := range map[string]Config{
		"extension":     {Extensions: []string{"20a"}},
		"route pattern": {Routes: []Route{{Name: "r", Patterns: []string{"9[X"}}}},
		"no patterns":   {Routes: []Route{{Name: "r"}}},
		"strip":         {Routes: []Route{{Name: "r", Patterns: []string{"9."}, Strip: -1}}},
		"callers":       {Routes: []Route{{Name: "r", Patterns: []string{"9."}, Callers: []string{"?"}}}},
		"blocked":       {Blocked: []string{"0.0"}},
		"route blocked": {Routes: []Route{{Name: "r", Patterns: []string{"9."}, Blocked: []string{"0.0"}}}},
		"feature":       {Features: FeatureCodes{Pickup: "*X"}},
		"duplicate":     {Features: FeatureCodes{DNDOn: "*8"}},
	} {
		if _, err := New(c); err == nil || !strings.HasPrefix(err.Error(), "dialplan: ") {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

// FuzzPattern parses arbitrary patterns and checks the matcher's
// invariants: every prefix of a full match answers "more", the pattern
// keeps its text, and a fixed pattern never fully matches two lengths.
func FuzzPattern(f *testing.F) {
	for _, s := range []string{"201", "_9NXXXXXX", "9X.", "*72X!", "[1-35-7]Z", "00.", "1900NXXXXXX"} {
		f.Add(s, "913800138000")
	}
	f.Fuzz(func(t *testing.T, pat, digits string) {
		p, err := ParsePattern(pat)
		if err != nil {
			if !errors.Is(err, ErrPattern) {
				t.Fatalf("error %v does not wrap ErrPattern", err)
			}
			return
		}
		if p.String() != pat {
			t.Fatalf("String %q, want %q", p.String(), pat)
		}
		full, _ := p.Match(digits)
		if !full {
			return
		}
		for i := 0; i < len(digits); i++ {
			if _, more := p.Match(digits[:i]); !more {
				t.Fatalf("%q fully matches %q but its prefix %q is not a candidate", pat, digits, digits[:i])
			}
		}
		if p.Fixed() {
			if f2, _ := p.Match(digits + "1"); f2 {
				t.Fatalf("fixed %q matches %q and one digit more", pat, digits)
			}
		}
	})
}

// FuzzMatch checks that the plan's per-digit verdicts agree with Resolve:
// a number the plan calls complete resolves to something, and an invalid
// prefix never becomes valid with more digits.
func FuzzMatch(f *testing.F) {
	p := testPlan(f)
	for _, s := range []string{"202", "*72203#", "913800138000", "110", "9120", "8852", "20"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, digits string) {
		if len(digits) > 40 {
			return
		}
		if p.Match(digits) == line.MatchComplete {
			if d := p.Resolve("201", digits); d.Kind == Invalid {
				t.Fatalf("%q complete but resolves invalid: %+v", digits, d)
			}
		}
		for i := 1; i < len(digits); i++ {
			if p.Match(digits[:i]) == line.MatchInvalid && p.Match(digits) != line.MatchInvalid && !p.IsEmergency(digits) {
				t.Fatalf("%q invalid but %q is %v", digits[:i], digits, p.Match(digits))
			}
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	p := testPlan(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range []string{"9", "91", "913", "9138", "2", "20", "202"} {
			p.Match(d)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/7, "ns/digit")
}

// A route's caller ID reaches the decision, marked to override the
// caller's own number only when the route says so and has a number.
func TestRouteCallerIDOverride(t *testing.T) {
	p, err := New(Config{Extensions: []string{"201"}, Routes: []Route{
		{Name: "plain", Patterns: []string{"8X."}, Strip: 1, CallerID: "01088886666", Trunks: []string{"sip-carrier"}},
		{Name: "main-number", Patterns: []string{"7X."}, Strip: 1, CallerID: "01088887777", CallerIDOverride: true, Trunks: []string{"sip-carrier"}},
		{Name: "no-number", Patterns: []string{"6X."}, Strip: 1, CallerIDOverride: true, Trunks: []string{"sip-carrier"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		digits   string
		callerID string
		override bool
	}{
		{"813800138000", "01088886666", false},
		{"713800138000", "01088887777", true},
		{"613800138000", "", false},
	} {
		d := p.Resolve("201", c.digits)
		if d.Kind != Outbound || d.CallerID != c.callerID || d.CallerIDOverride != c.override {
			t.Errorf("%s: %+v, want caller ID %q override %v", c.digits, d, c.callerID, c.override)
		}
	}
}
