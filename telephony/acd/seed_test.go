package acd

import (
	"errors"
	"testing"
	"time"
)

// A restart gives the day's counters back before calls arrive: the
// figures show them, the next call adds to them, another day's counts are
// dropped, and with a call in progress seeding is refused.
func TestSeedToday(t *testing.T) {
	v := newEnv(t, oneGroup(LongestIdle))
	seed := DayCounts{Day: t0.Add(-2 * time.Hour),
		Groups: map[int]GroupCounts{1: {Offered: 9, Answered: 6, AnsweredSL: 5, Abandoned: 2, TimedOut: 1}, 7: {Offered: 3}},
		Agents: map[AgentID]AgentCounts{"a": {Answered: 4, Talk: 7 * time.Minute}, "zz": {Answered: 1}}}
	v.ok(v.e.SeedToday(seed))
	q := v.queue(1)
	if q.Offered != 9 || q.Answered != 6 || q.AnsweredSL != 5 || q.Abandoned != 2 || q.TimedOut != 1 || q.ServiceLevel != 5.0/9 {
		t.Fatalf("seeded queue %+v", q)
	}
	if s, _ := v.e.Agent("a"); s.Answered != 4 || s.TalkTime != 7*time.Minute {
		t.Fatalf("seeded agent %+v", s)
	}

	v.login("a")
	v.offer("c1", "100")
	v.take()
	v.ok(v.e.Answer("a", "c1"))
	v.clk.Advance(time.Minute)
	v.ok(v.e.Hangup("c1"))
	if q := v.queue(1); q.Offered != 10 || q.Answered != 7 || q.AnsweredSL != 6 {
		t.Fatalf("after a call: %+v", q)
	}
	if s, _ := v.e.Agent("a"); s.Answered != 5 || s.TalkTime != 8*time.Minute {
		t.Fatalf("after a call: agent %+v", s)
	}

	// Yesterday's counts change nothing.
	v.ok(v.e.SeedToday(DayCounts{Day: t0.Add(-24 * time.Hour), Groups: map[int]GroupCounts{1: {Offered: 99}}}))
	if q := v.queue(1); q.Offered != 10 {
		t.Fatalf("yesterday's seed applied: %+v", q)
	}

	// A call waiting: refused, nothing changed.
	v.offer("c2", "101")
	if err := v.e.SeedToday(seed); !errors.Is(err, ErrBadState) {
		t.Fatalf("seed with a call waiting: %v", err)
	}
	if q := v.queue(1); q.Offered != 11 {
		t.Fatalf("refused seed changed the figures: %+v", q)
	}
}

// Talk time is today's: a call answered before midnight adds only its
// talk after midnight to the new day (and counts as a call on the day it
// was answered), as a restart counts it again from the status log.
func TestTalkTodayAcrossMidnight(t *testing.T) {
	cfg := oneAgent()
	cfg.Agents[0].WrapUp = 0
	v := newEnv(t, cfg)
	v.login("a")
	v.clk.Advance(t0.Add(15*time.Hour - time.Minute).Sub(v.clk.Now())) // 23:59
	v.offer("late", "1")
	v.ok(v.e.Answer("a", "late"))
	v.clk.Advance(2 * time.Minute)
	if st, _ := v.e.Agent("a"); st.Answered != 0 || st.TalkTime != time.Minute {
		t.Fatalf("talking after midnight: %d calls, %v talk; want 0 and 1m0s", st.Answered, st.TalkTime)
	}
	v.clk.Advance(time.Minute)
	v.ok(v.e.Hangup("late"))
	if st, _ := v.e.Agent("a"); st.Answered != 0 || st.TalkTime != 2*time.Minute {
		t.Fatalf("after the call: %d calls, %v talk; want 0 and 2m0s", st.Answered, st.TalkTime)
	}
}

// An agent restored after a restart is in their state since the time
// given: the time in state and the longest-idle order go on as before.
func TestRestoreState(t *testing.T) {
	v := newEnv(t, oneGroup(LongestIdle))
	v.ok(v.e.RestoreState("a", Idle, "", t0.Add(-time.Minute)))
	v.ok(v.e.RestoreState("b", Idle, "", t0.Add(-time.Hour)))
	v.ok(v.e.RestoreState("c", Break, "lunch", t0.Add(time.Hour))) // not before now: from now
	if s, _ := v.e.Agent("b"); s.State != Idle || !s.Since.Equal(t0.Add(-time.Hour)) || s.InState != time.Hour {
		t.Fatalf("b restored: %+v", s)
	}
	if s, _ := v.e.Agent("c"); s.State != Break || s.Reason != "lunch" || !s.Since.Equal(t0) {
		t.Fatalf("c restored: %+v", s)
	}
	v.offer("c1", "100")
	v.expect("ring b c1")
}
