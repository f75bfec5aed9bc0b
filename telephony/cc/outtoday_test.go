package cc

import (
	"testing"
	"time"
)

// An agent's outbound figures count today's calls: they start again at
// midnight (of the clock's zone) and not before.
func TestOutboundToday(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, cst)
	rt := &agentRT{}
	rt.outToday(day.Add(9 * time.Hour))
	rt.outCalls, rt.outTalk = 3, 5*time.Minute
	for _, c := range []struct {
		at    time.Time
		calls int
	}{
		{day.Add(23*time.Hour + 59*time.Minute), 3},
		{day.Add(24 * time.Hour), 0},
	} {
		rt.outToday(c.at)
		if rt.outCalls != c.calls {
			t.Fatalf("at %v: %d calls, want %d", c.at, rt.outCalls, c.calls)
		}
	}
	if rt.outTalk != 0 || !rt.day.Equal(day.Add(24*time.Hour)) {
		t.Fatalf("after midnight: talk %v, day %v", rt.outTalk, rt.day)
	}
}
