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

// A restart counts the day's calls in again from the status log: every
// turn to talking (a transfer to the agent too) is a call, its talk runs
// to the next entry, a call answered before midnight adds only its talk
// after midnight and a call the restart cut talks until the restart.
func TestInboundToday(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, cst)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	st := func(t time.Time, from, to acd.State, reason string) acd.StatusEntry {
		return acd.StatusEntry{Agent: "1088", At: t, From: from, To: to, Reason: reason}
	}
	es := []acd.StatusEntry{
		st(at(-1, -12), acd.Ringing, acd.Talking, ""), // 23:48 yesterday
		st(at(0, 2), acd.Talking, acd.WrapUp, ""),     // 2 minutes today
		st(at(0, 3), acd.WrapUp, acd.Idle, "wrap-up over"),
		st(at(9, 0), acd.Ringing, acd.Talking, ""),
		st(at(9, 4), acd.Talking, acd.Idle, ""), // 4 minutes
		st(at(9, 30), acd.Idle, acd.Busy, ReasonOutbound),
		st(at(9, 31), acd.Busy, acd.Busy, ReasonOutboundAnswered), // not a call in
		st(at(9, 40), acd.Busy, acd.Idle, "outbound call over"),
		st(at(10, 0), acd.Idle, acd.Talking, "transfer"),
		st(at(10, 5), acd.Talking, acd.WrapUp, ""), // 5 minutes
		st(at(10, 6), acd.WrapUp, acd.Ringing, ""),
		st(at(10, 6), acd.Ringing, acd.Talking, ""), // cut by the restart at 10:12
	}
	got := inboundToday(es, at(10, 12))
	if want := (acd.AgentCounts{Answered: 3, Talk: 17 * time.Minute}); got != want {
		t.Fatalf("restored %+v, want %+v", got, want)
	}
}

// A restart counts the groups' day again from the fact rows: offered by
// the row's group, answered within the threshold or after it, abandoned,
// overflowed as timed out; yesterday's rows and rows without a group count
// nothing; stopped and cut calls are offered only.
func TestGroupsToday(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, cst)
	at := func(h, m, s int) time.Time {
		return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	fs := []Fact{
		{Group: 1, Queued: at(-1, 0, 0), Answered: at(-1, 0, 5), Disposition: "answered"},
		{Group: 1, Queued: at(9, 0, 0), Answered: at(9, 0, 20), Disposition: "answered"},
		{Group: 1, Queued: at(9, 1, 0), Answered: at(9, 1, 21), Disposition: "answered"},
		{Group: 1, Queued: at(9, 2, 0), Ended: at(9, 2, 30), Disposition: "abandoned"},
		{Group: 1, Queued: at(9, 3, 0), Disposition: "overflowed", Overflow: "voicemail"},
		{Group: 1, Queued: at(9, 4, 0), Disposition: "stopped"},
		{Group: 2, Queued: at(9, 5, 0), Answered: at(9, 5, 1), Disposition: "answered", Transfers: []string{"1099"}},
		{Group: 2, Queued: at(10, 0, 0), Disposition: "waiting"},
		{Queued: at(9, 0, 0), Disposition: "waiting"},
	}
	got := groupsToday(fs, map[int]time.Duration{1: 20 * time.Second, 2: 10 * time.Second}, at(10, 12, 0))
	want := map[int]acd.GroupCounts{
		1: {Offered: 5, Answered: 2, AnsweredSL: 1, Abandoned: 1, TimedOut: 1},
		2: {Offered: 2, Answered: 1, AnsweredSL: 1},
	}
	if len(got) != len(want) || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("restored %+v, want %+v", got, want)
	}
}

// An agent restored after a restart is in their state since they entered
// it, across any number of restarts (each logs the state again from
// offline); a state entered anew after a restart counts from then.
func TestStateSince(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 12, 7, 9, m, 0, 0, time.UTC) }
	e := func(m int, from, to acd.State, reason string) acd.StatusEntry {
		return acd.StatusEntry{Agent: "1088", At: at(m), From: from, To: to, Reason: reason}
	}
	for _, c := range []struct {
		name string
		es   []acd.StatusEntry
		want time.Time
	}{
		{"one entry", []acd.StatusEntry{e(1, acd.Offline, acd.Idle, "login")}, at(1)},
		{"two restarts", []acd.StatusEntry{e(1, acd.Idle, acd.Break, "lunch"), e(5, acd.Offline, acd.Break, "lunch"),
			e(9, acd.Offline, acd.Break, "lunch")}, at(1)},
		{"another reason", []acd.StatusEntry{e(1, acd.Idle, acd.Break, "lunch"), e(5, acd.Break, acd.Break, "tea")}, at(5)},
		{"logged in again", []acd.StatusEntry{e(1, acd.Idle, acd.Offline, "logout"), e(5, acd.Offline, acd.Idle, "login")}, at(5)},
		{"after a call", []acd.StatusEntry{e(1, acd.Ringing, acd.Talking, ""), e(5, acd.Offline, acd.Idle, ReasonRestored),
			e(9, acd.Offline, acd.Idle, ReasonRestored)}, at(5)},
	} {
		if got := stateSince(c.es); !got.Equal(c.want) {
			t.Errorf("%s: since %v, want %v", c.name, got, c.want)
		}
	}
}
