package ccreport

import (
	"errors"
	"math"
	"testing"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/cc"
)

var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC) // a Monday

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func TestSpans(t *testing.T) {
	es := []acd.StatusEntry{
		{Agent: "1001", At: at(0), From: acd.Offline, To: acd.Idle, Reason: "login"},
		{Agent: "1002", At: at(1), From: acd.Offline, To: acd.Idle, Reason: "login"},
		{Agent: "1001", At: at(10), From: acd.Idle, To: acd.Break, Reason: cc.ReasonDeviceDown},
		{Agent: "1001", At: at(12), From: acd.Break, To: acd.Busy, Reason: ""},
		{Agent: "1001", At: at(15), From: acd.Busy, To: acd.Idle, Reason: cc.ReasonDeviceBack},
		{Agent: "1001", At: at(20), From: acd.Idle, To: acd.Offline, Reason: "logout"},
	}
	got := Spans(es)
	want := []Span{
		{Agent: "1001", State: "offline", Reason: "logout", Start: at(20)},
		{Agent: "1001", State: "idle", Reason: cc.ReasonDeviceBack, Device: DeviceRegistered, Start: at(15), End: at(20)},
		{Agent: "1001", State: "busy", Device: DeviceUnregistered, Start: at(12), End: at(15)},
		{Agent: "1001", State: "break", Reason: cc.ReasonDeviceDown, Device: DeviceUnregistered, Start: at(10), End: at(12)},
		{Agent: "1002", State: "idle", Reason: "login", Device: DeviceRegistered, Start: at(1)},
		{Agent: "1001", State: "idle", Reason: "login", Device: DeviceRegistered, Start: at(0), End: at(10)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d spans, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("span %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if d := got[2].Duration(); d != 3*time.Minute {
		t.Errorf("busy lasted %v, want 3m", d)
	}
	if d := got[0].Duration(); d != 0 {
		t.Errorf("an open span lasted %v, want 0", d)
	}

	for _, c := range []struct {
		name     string
		agents   Agents
		from, to time.Time
		n        int
	}{
		{"everyone", Agents{}, time.Time{}, time.Time{}, 6},
		{"include 1002", Agents{IDs: []string{"1002"}}, time.Time{}, time.Time{}, 1},
		{"exclude 1002", Agents{IDs: []string{"1002"}, Exclude: true}, time.Time{}, time.Time{}, 5},
		{"several", Agents{IDs: []string{"1001", "1002"}}, time.Time{}, time.Time{}, 6},
		{"range", Agents{}, at(1), at(15), 3}, // starts at 1, 10, 12
	} {
		if n := len(FilterSpans(got, c.agents, c.from, c.to)); n != c.n {
			t.Errorf("%s: %d spans, want %d", c.name, n, c.n)
		}
	}
}

func score(n int) *int { return &n }

// dayFacts is a small hand-checked day: group 1 with a 20 s threshold,
// group 2 with 10 s.
func dayFacts() []cc.Fact {
	return []cc.Fact{
		// 09:00 group 1: answered by 1001 after 8 s, talk 60, wrap 10, survey 5.
		{Call: "a", Group: 1, Queued: at(0), Agent: "1001", Disposition: "answered", WaitSeconds: 8, TalkSeconds: 60, WrapUpSeconds: 10,
			Rings: []cc.FactRing{{Agent: "1001", Result: "answered"}}, Survey: score(5)},
		// 09:05 group 1: rang 1002 (no answer), answered by 1001 after 30 s, talk 100, wrap 20, survey 3.
		{Call: "b", Group: 1, Queued: at(5), Agent: "1001", Disposition: "answered", WaitSeconds: 30, TalkSeconds: 100, WrapUpSeconds: 20,
			Rings: []cc.FactRing{{Agent: "1002", Result: "no answer"}, {Agent: "1001", Result: "answered"}}, Survey: score(3)},
		// 09:20 group 1: abandoned after 3 s (short: out of the SL).
		{Call: "c", Group: 1, Queued: at(20), Disposition: "abandoned", WaitSeconds: 3},
		// 09:30 group 1: rang 1002, abandoned after 40 s (counts against the SL).
		{Call: "d", Group: 1, Queued: at(30), Disposition: "abandoned", WaitSeconds: 40, Rings: []cc.FactRing{{Agent: "1002", Result: "caller gone"}}},
		// 10:10 group 2: answered by 1002 after 12 s (over its 10 s), talk 50, wrap 0.
		{Call: "e", Group: 2, Queued: at(70), Agent: "1002", Disposition: "answered", WaitSeconds: 12, TalkSeconds: 50,
			Rings: []cc.FactRing{{Agent: "1002", Result: "answered"}}},
		// 10:20 group 2: timed out after 60 s and overflowed.
		{Call: "f", Group: 2, Queued: at(80), Disposition: "overflowed", WaitSeconds: 60, Overflow: "voicemail"},
		// The next day: outside a one-day range.
		{Call: "g", Group: 1, Queued: at(24 * 60), Agent: "1001", Disposition: "answered", WaitSeconds: 1},
	}
}

// daySpans: 1001 idle 09:00-09:30, talking 09:30-09:45, wrap-up 09:45-09:50,
// break (meal) 09:50-10:20, idle from 10:20 (open); 1002 idle 09:00-10:00,
// break (rest) 10:00-10:10, talking 10:10-10:30, offline after.
func daySpans() []Span {
	return []Span{
		{Agent: "1001", State: "idle", Start: at(0), End: at(30)},
		{Agent: "1001", State: "talking", Start: at(30), End: at(45)},
		{Agent: "1001", State: "wrap_up", Start: at(45), End: at(50)},
		{Agent: "1001", State: "break", Reason: "meal", Start: at(50), End: at(80)},
		{Agent: "1001", State: "idle", Start: at(80)},
		{Agent: "1002", State: "idle", Start: at(0), End: at(60)},
		{Agent: "1002", State: "break", Reason: "rest", Start: at(60), End: at(70)},
		{Agent: "1002", State: "talking", Start: at(70), End: at(90)},
		{Agent: "1002", State: "offline", Start: at(90)},
	}
}

func TestReport(t *testing.T) {
	nan := math.NaN()
	base := Query{From: t0.Add(-9 * time.Hour), To: t0.Add(15 * time.Hour), Now: at(120), // Now: 11:00
		Threshold: map[int]time.Duration{2: 10 * time.Second}, DefaultThreshold: 20 * time.Second,
		Members: map[string][]int{"1001": {1}, "1002": {1, 2}}}
	cols := []string{Offered, Answered, Abandoned, TimedOut, ServiceLevel, ASA, AHT, Occupancy, Break, "break:meal", "break:rest", Survey}
	type row struct {
		key    string
		period time.Time
		values []float64
	}
	for _, c := range []struct {
		name      string
		dim, per  string
		measures  []string
		wantCols  []string
		wantRows  []row
		wantError bool
	}{
		{name: "per group per day", dim: ByGroup, per: PeriodDay, wantCols: cols, wantRows: []row{
			// group 1: offered a b c d = 4; answered a b; abandoned c d; SL: in-T a (8 s) of
			// answered 2 + abandoned-after-T 1 (d) = 1/3; ASA (8+30)/2 = 19; AHT (70+120)/2 = 95;
			// occupancy: members 1001 and 1002 (09:00-11:00): busy 15+5 + 20 = 40 min,
			// available 30+15+5+40 (1001 idle 10:20-11:00) + 60+20 = 170 min -> 40/170;
			// break meal 30 min, rest 10 min; survey (5+3)/2 = 4.
			{"1", t0.Add(-9 * time.Hour), []float64{4, 2, 2, 0, 100.0 / 3, 19, 95, 100 * 40.0 / 170, 2400, 1800, 600, 4}},
			// group 2: e answered after 12 s (> 10 s) and f timed out: SL 0/1; ASA 12; AHT 50;
			// occupancy: member 1002 only: busy 20, available 60+20 = 80 -> 25 %; break rest 10 min.
			{"2", t0.Add(-9 * time.Hour), []float64{2, 1, 0, 1, 0, 12, 50, 25, 600, 0, 600, nan}},
		}},
		{name: "per agent per hour, some measures", dim: ByAgent, per: PeriodHour, measures: []string{Offered, Answered, Abandoned, Occupancy, Break},
			wantCols: []string{Offered, Answered, Abandoned, Occupancy, Break, "break:meal", "break:rest"}, wantRows: []row{
				// 1001 09:00: rang by a, b; answered both; busy 20 of 50 min (09:50-10:00 on break).
				{"1001", at(0), []float64{2, 2, 0, 40, 600, 600, 0}},
				// 1001 10:00: break 10:00-10:20 (20 min), idle 10:20-11:00 (40 min): occupancy 0.
				{"1001", at(60), []float64{0, 0, 0, 0, 1200, 1200, 0}},
				// 1002 09:00: rang by b (no answer) and d (abandoned); idle all hour.
				{"1002", at(0), []float64{2, 0, 1, 0, 0, 0, 0}},
				// 1002 10:00: e answered; break 10 min, talking 20 min: occupancy 100.
				{"1002", at(60), []float64{1, 1, 0, 100, 600, 0, 600}},
			}},
		{name: "the whole centre at once", dim: ByAll, per: PeriodAll, measures: []string{Offered, Answered, ServiceLevel},
			wantCols: []string{Offered, Answered, ServiceLevel}, wantRows: []row{
				// SL: a in T; answered a b e, abandoned after T d: 1/4.
				{"", t0.Add(-9 * time.Hour), []float64{6, 3, 25}},
			}},
		{name: "unknown measure", dim: ByAll, per: PeriodAll, measures: []string{"profit"}, wantError: true},
		{name: "unknown period", dim: ByAll, per: "fortnight", wantError: true},
		{name: "unknown dimension", dim: "queue", per: PeriodDay, wantError: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := base
			q.Dimension, q.Period, q.Measures = c.dim, c.per, c.measures
			rep, err := Compute(q, dayFacts(), daySpans())
			if c.wantError {
				if !errors.Is(err, ErrQuery) {
					t.Fatalf("got %v, want ErrQuery", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Columns) != len(c.wantCols) {
				t.Fatalf("columns %q, want %q", rep.Columns, c.wantCols)
			}
			for i := range c.wantCols {
				if rep.Columns[i] != c.wantCols[i] {
					t.Fatalf("columns %q, want %q", rep.Columns, c.wantCols)
				}
			}
			if len(rep.Rows) != len(c.wantRows) {
				t.Fatalf("%d rows, want %d: %+v", len(rep.Rows), len(c.wantRows), rep.Rows)
			}
			for i, w := range c.wantRows {
				g := rep.Rows[i]
				if g.Key != w.key || !g.Period.Equal(w.period) {
					t.Errorf("row %d is %q %v, want %q %v", i, g.Key, g.Period, w.key, w.period)
				}
				for j, v := range w.values {
					if !(math.IsNaN(v) && math.IsNaN(g.Values[j]) || math.Abs(v-g.Values[j]) < 1e-9) {
						t.Errorf("row %d (%s) %s = %v, want %v", i, w.key, rep.Columns[j], g.Values[j], v)
					}
				}
			}
		})
	}
}

func TestFilterFacts(t *testing.T) {
	for _, c := range []struct {
		name   string
		agents Agents
		want   int
	}{
		{"everyone", Agents{}, 6},
		{"1002's", Agents{IDs: []string{"1002"}}, 3},                      // b, d, e
		{"all but 1002", Agents{IDs: []string{"1002"}, Exclude: true}, 4}, // a, b (1001 too), c, f (nobody's)
	} {
		if n := len(FilterFacts(dayFacts(), c.agents, t0, at(24*60))); n != c.want {
			t.Errorf("%s: %d rows, want %d", c.name, n, c.want)
		}
	}
}

func TestBuckets(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	q := Query{Loc: loc}
	// 2026-12-06 23:30 UTC is Monday 07:30 in UTC+8.
	tt := time.Date(2026, 12, 6, 23, 30, 0, 0, time.UTC)
	for per, want := range map[string]time.Time{
		PeriodHour:  time.Date(2026, 12, 7, 7, 0, 0, 0, loc),
		PeriodDay:   time.Date(2026, 12, 7, 0, 0, 0, 0, loc),
		PeriodWeek:  time.Date(2026, 12, 7, 0, 0, 0, 0, loc),
		PeriodMonth: time.Date(2026, 12, 1, 0, 0, 0, 0, loc),
	} {
		q.Period = per
		if got := q.bucket(tt); !got.Equal(want) {
			t.Errorf("%s: %v, want %v", per, got, want)
		}
	}
	q.Period = PeriodWeek
	if got := q.bucket(time.Date(2026, 12, 13, 12, 0, 0, 0, loc)); !got.Equal(time.Date(2026, 12, 7, 0, 0, 0, 0, loc)) {
		t.Errorf("Sunday's week starts %v", got)
	}
}
