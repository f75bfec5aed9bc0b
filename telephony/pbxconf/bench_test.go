package pbxconf

import "testing"

// BenchmarkPatternMatch is the per-call cost of one compiled pattern.
func BenchmarkPatternMatch(b *testing.B) {
	p, err := ParsePattern("_9[1-35-9]XXXXXXXXX.")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !p.Match("9138001380001234") {
			b.Fatal("no match")
		}
	}
}

// BenchmarkPlanRoute is the whole outbound decision for one dialled number
// against the sample configuration's compiled plan: global blocked
// patterns, then routes in order. No prefix is added, so nothing is
// allocated.
func BenchmarkPlanRoute(b *testing.B) {
	c := sample()
	plan := c.Plan()
	b.ReportAllocs()
	for b.Loop() {
		if plan.Route("301", "913800138001").Route == nil {
			b.Fatal("unrouted")
		}
	}
}

// BenchmarkRouteOutbound compiles the plan for each decision.
func BenchmarkRouteOutbound(b *testing.B) {
	c := sample()
	b.ReportAllocs()
	for b.Loop() {
		if c.RouteOutbound("201", "955501234").Route == nil {
			b.Fatal("unrouted")
		}
	}
}
