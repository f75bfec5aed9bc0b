package ivr

import (
	"testing"
	"time"
)

func TestScheduleState(t *testing.T) {
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
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"Wednesday morning", at(2026, 11, 18, 9, 0), "open"},
		{"just before opening", at(2026, 11, 18, 8, 59), "closed"},
		{"lunch break", at(2026, 11, 18, 12, 0), "closed"},
		{"afternoon", at(2026, 11, 18, 13, 30), "open"},
		{"closing minute is closed", at(2026, 11, 18, 18, 0), "closed"},
		{"Saturday night until midnight", at(2026, 11, 21, 23, 59), "open"},
		{"Sunday", at(2026, 11, 22, 11, 0), "closed"},
		{"make-up working Sunday", at(2026, 9, 27, 16, 59), "open"},
		{"make-up Sunday after hours", at(2026, 9, 27, 17, 0), "closed"},
		{"special closed Thursday", at(2026, 12, 31, 10, 0), "closed"},
		{"National Day holiday", at(2026, 10, 3, 10, 0), "holiday"},
		{"last holiday day", at(2026, 10, 7, 23, 59), "holiday"},
		{"after the holiday", at(2026, 10, 8, 10, 0), "open"},
		{"New Year", at(2027, 1, 1, 10, 0), "holiday"},
		// The same instant seen from UTC: 01:30Z is 09:30 in Shanghai.
		{"instant in another zone", time.Date(2026, 11, 18, 1, 30, 0, 0, time.UTC), "open"},
	}
	for _, tt := range tests {
		if got := sch.state(tt.t); got != tt.want {
			t.Errorf("%s (%v): %s, want %s", tt.name, tt.t, got, tt.want)
		}
	}
}

func TestScheduleDST(t *testing.T) {
	// New York hours follow local time across the DST change.
	sch, ferr := compileSchedule(&TimeBranch{TZ: "America/New_York", Hours: map[string]string{"daily": "09:00-17:00"}})
	if ferr != nil {
		t.Fatal(ferr.msg)
	}
	summer := time.Date(2026, 7, 1, 13, 30, 0, 0, time.UTC)  // 09:30 EDT
	winter := time.Date(2026, 12, 1, 13, 30, 0, 0, time.UTC) // 08:30 EST
	if sch.state(summer) != "open" || sch.state(winter) != "closed" {
		t.Fatalf("summer %s winter %s", sch.state(summer), sch.state(winter))
	}
}

func TestParseDays(t *testing.T) {
	tests := map[string][]time.Weekday{
		"mon":     {time.Monday},
		"MON-fri": {1, 2, 3, 4, 5},
		"fri-mon": {5, 6, 0, 1},
		"daily":   {0, 1, 2, 3, 4, 5, 6},
		"sun-sun": {0},
	}
	for in, want := range tests {
		got, err := parseDays(in)
		if err != nil || len(got) != len(want) {
			t.Errorf("%s: %v %v", in, got, err)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %v, want %v", in, got, want)
			}
		}
	}
	for _, bad := range []string{"", "mo", "mon-", "-fri", "mon-fri-sat"} {
		if _, err := parseDays(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestLoadZone(t *testing.T) {
	for _, tz := range []string{"", "UTC", "+08:00", "-05:30", "Asia/Shanghai"} {
		if _, err := loadZone(tz); err != nil {
			t.Errorf("%q: %v", tz, err)
		}
	}
	for _, tz := range []string{"+8", "Nowhere/City", "../../etc/passwd", "/etc/localtime"} {
		if _, err := loadZone(tz); err == nil {
			t.Errorf("%q accepted", tz)
		}
	}
	l, _ := loadZone("-05:30")
	if _, off := time.Date(2026, 1, 1, 0, 0, 0, 0, l).Zone(); off != -(5*3600 + 1800) {
		t.Errorf("offset %d", off)
	}
}
