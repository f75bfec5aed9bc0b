package ivr

import (
	"testing"
	"time"

	"callbox/telephony/calendar"
)

// TestScheduleLiteral: a time branch's literal hours compile to the same
// calendar telephony/calendar tests in depth.
func TestScheduleLiteral(t *testing.T) {
	tb := &TimeBranch{
		TZ:       "Asia/Shanghai",
		Hours:    map[string]string{"mon-fri": "09:00-12:00,13:30-18:00", "sat": "10:00-24:00"},
		Special:  map[string]string{"2026-09-27": "09:00-17:00", "2026-12-31": ""},
		Holidays: []string{"2026-10-01..2026-10-07", "2027-01-01"},
	}
	sch, ferr := compileSchedule(tb)
	if ferr != nil {
		t.Fatal(ferr.msg)
	}
	cst := time.FixedZone("CST", 8*3600)
	at := func(y int, mo time.Month, d, h, m int) time.Time { return time.Date(y, mo, d, h, m, 0, 0, cst) }
	for _, tt := range []struct {
		t    time.Time
		want calendar.State
	}{
		{at(2026, 11, 18, 9, 0), calendar.Open},
		{at(2026, 11, 18, 18, 0), calendar.Closed},
		{at(2026, 9, 27, 16, 59), calendar.Open},
		{at(2026, 10, 3, 10, 0), calendar.Holiday},
	} {
		if got := sch.State(tt.t); got != tt.want {
			t.Errorf("%v: %s, want %s", tt.t, got, tt.want)
		}
	}
}
