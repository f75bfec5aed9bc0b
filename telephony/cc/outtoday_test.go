package cc

import (
	"testing"
	"time"

	"callbox/telephony/acd"
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

// A restart counts the day's outbound calls and talk again from the status
// log: a call answered before midnight adds only its talk after midnight,
// a call the restart cut (no end entry) talks until the restart, and
// other entries count nothing.
func TestRestoreOutbound(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, cst)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	busy := func(t time.Time, reason string) acd.StatusEntry {
		return acd.StatusEntry{Agent: "1088", At: t, From: acd.Busy, To: acd.Busy, Reason: reason}
	}
	es := []acd.StatusEntry{
		{Agent: "1088", At: at(-1, -20), From: acd.Idle, To: acd.Busy, Reason: ReasonOutbound},
		busy(at(-1, -10), ReasonOutboundAnswered), // 23:50 yesterday
		busy(at(0, 5), ReasonOutboundEnded),       // 5 minutes today
		{Agent: "1088", At: at(0, 5), From: acd.Busy, To: acd.Idle, Reason: "outbound call over"},
		{Agent: "1088", At: at(9, 0), From: acd.Idle, To: acd.Busy, Reason: ReasonOutbound},
		busy(at(9, 1), ReasonOutboundAnswered),
		busy(at(9, 4), ReasonOutboundEnded), // 3 minutes
		{Agent: "1088", At: at(9, 4), From: acd.Busy, To: acd.Idle, Reason: "outbound call over"},
		{Agent: "1088", At: at(10, 0), From: acd.Idle, To: acd.Busy, Reason: ReasonOutbound},
		busy(at(10, 2), ReasonOutboundAnswered), // cut by the restart at 10:12
	}
	rt := &agentRT{}
	rt.restoreOutbound(es, at(10, 12))
	if rt.outCalls != 2 || rt.outTalk != 18*time.Minute {
		t.Fatalf("restored %d calls, %v talk; want 2 and 18m0s", rt.outCalls, rt.outTalk)
	}
}
