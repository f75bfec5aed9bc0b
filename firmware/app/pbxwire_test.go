package app

import (
	"slices"
	"testing"

	"callbox/telephony/pbxconf"
	"callbox/telephony/switch/dialplan"
)

// dialPBX adapts c (which must validate) and compiles the switch's plan.
func dialPBX(t *testing.T, c pbxconf.Config) *dialplan.Plan {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	plan, err := dialplan.New(adaptPBX(c, "CN").plan)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// The stored configuration's outbound rules decide calls in the switch as
// pbxconf documents them: routes in order (one an extension may not use
// passes the call on), strip and prepend, a route's allowed list and own
// blocked patterns, the global blocked list and emergency numbers above
// all of them.
func TestAdaptPBXDialling(t *testing.T) {
	c := pbxconf.Default(4)
	c.Extensions = append(c.Extensions, pbxconf.Extension{Number: "301", Name: "Agent Li", Kind: pbxconf.KindSIP, Secret: "s3cret-pass"})
	c.Trunks = []pbxconf.Trunk{
		{Name: "provider", Kind: pbxconf.KindSIP, Host: "sip.example.net"},
		{Name: "pstn1", Kind: pbxconf.KindFXO, Port: 1},
	}
	c.Routes = []pbxconf.Route{
		{Name: "mobile", Patterns: []string{"91[3-9]XXXXXXXXX"}, Strip: 1, Trunks: []string{"provider", "pstn1"},
			CallerID: "02155550100", Allowed: []string{"301"}, Blocked: []string{"9138001380000"}},
		{Name: "local", Patterns: []string{"9NXXXXXXX", "_9ZXX."}, Strip: 1, Prepend: "021", Trunks: []string{"pstn1"}},
	}
	plan := dialPBX(t, c)
	all := []string{"provider", "fxo1"}
	for _, tc := range []struct {
		from, dial string
		want       dialplan.Decision
	}{
		{"301", "913800138001", dialplan.Decision{Kind: dialplan.Outbound, Number: "13800138001", Route: "mobile", Trunks: all, CallerID: "02155550100"}},
		// 201 may not use mobile: the next route that matches takes it.
		{"201", "913800138001", dialplan.Decision{Kind: dialplan.Outbound, Number: "02113800138001", Route: "local", Trunks: []string{"fxo1"}}},
		{"301", "9138001380000", dialplan.Decision{Kind: dialplan.Outbound, Number: "021138001380000", Route: "local", Trunks: []string{"fxo1"}}}, // too long for mobile
		{"201", "955501234", dialplan.Decision{Kind: dialplan.Outbound, Number: "02155501234", Route: "local", Trunks: []string{"fxo1"}}},
		{"201", "0044123456", dialplan.Decision{Kind: dialplan.Blocked, Number: "0044123456", Reason: "blocked pattern 00."}},
		{"201", "19005551234", dialplan.Decision{Kind: dialplan.Blocked, Number: "19005551234", Reason: "blocked pattern 1900NXXXXXX"}},
		{"201", "9005551234", dialplan.Decision{Kind: dialplan.Blocked, Number: "9005551234", Reason: "blocked pattern 900NXXXXXX"}},
		{"201", "110", dialplan.Decision{Kind: dialplan.Emergency, Number: "110", Trunks: all}},
		{"201", "9119", dialplan.Decision{Kind: dialplan.Emergency, Number: "119", Trunks: all}},
		{"201", "1234", dialplan.Decision{Kind: dialplan.Invalid, Reason: "no extension, feature or route matches"}},
	} {
		if got := plan.Resolve(tc.from, tc.dial); !decisionIs(got, tc.want) {
			t.Errorf("%s dials %s: %+v, want %+v", tc.from, tc.dial, got, tc.want)
		}
	}

	// The route's own blocked list.
	c.Routes[0].Blocked = []string{"9138XXXXXXXX"}
	if d := dialPBX(t, c).Resolve("301", "913800138001"); d.Kind != dialplan.Blocked || d.Route != "mobile" {
		t.Errorf("route blocked list ignored: %+v", d)
	}
	// Emergency wins over blocked patterns and allowed lists.
	c.Blocked = append(c.Blocked, "1XX")
	c.Routes[0].Allowed = []string{"301"}
	if d := dialPBX(t, c).Resolve("201", "119"); d.Kind != dialplan.Emergency || !slices.Equal(d.Trunks, all) {
		t.Errorf("emergency call refused: %+v", d)
	}
}

// An empty blocked list blocks nothing; a new box's lists are the
// switch's defaults, as is a configuration built in code without them.
func TestAdaptPBXBlockedLists(t *testing.T) {
	c := pbxconf.Default(1)
	c.Trunks = []pbxconf.Trunk{{Name: "pstn1", Kind: pbxconf.KindFXO, Port: 1}}
	c.Routes = []pbxconf.Route{{Name: "any", Patterns: []string{"X.", "+."}, Trunks: []string{"pstn1"}}}
	sc := adaptPBX(c, "CN")
	if !slices.Equal(sc.plan.Blocked, dialplan.DefaultBlocked) || !slices.Equal(sc.plan.Emergency, dialplan.DefaultEmergency) {
		t.Errorf("new box: blocked %q emergency %q", sc.plan.Blocked, sc.plan.Emergency)
	}
	sc.plan.Blocked[0] = "changed"
	if c.Blocked[0] == "changed" {
		t.Error("the plan's list is the configuration's")
	}
	for _, tc := range []struct {
		name    string
		blocked []string
		want    dialplan.Kind
	}{
		{"defaults", pbxconf.DefaultBlocked, dialplan.Blocked},
		{"none", []string{}, dialplan.Outbound},
		{"nil", nil, dialplan.Blocked},
	} {
		c.Blocked = tc.blocked
		plan, err := dialplan.New(adaptPBX(c, "CN").plan)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"0085212345678", "+85212345678", "16812345"} {
			if d := plan.Resolve("201", n); d.Kind != tc.want {
				t.Errorf("%s: %s: %+v, want %v", tc.name, n, d, tc.want)
			}
		}
	}
}

func decisionIs(got, want dialplan.Decision) bool {
	return got.Kind == want.Kind && got.Number == want.Number && got.Route == want.Route &&
		got.CallerID == want.CallerID && got.Reason == want.Reason && slices.Equal(got.Trunks, want.Trunks)
}
