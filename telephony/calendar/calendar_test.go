package calendar

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var cst = time.FixedZone("CST", 8*3600)

func at(y int, mo time.Month, d, h, m int) time.Time { return time.Date(y, mo, d, h, m, 0, 0, cst) }

func shanghai(t testing.TB) *Calendar {
	t.Helper()
	c, err := New(Spec{
		TZ:       "Asia/Shanghai",
		Hours:    map[string]string{"mon-fri": "09:00-12:00,13:30-18:00", "sat": "10:00-24:00"},
		Special:  map[string]string{"2026-09-27": "09:00-17:00", "2026-12-31": ""},
		Holidays: []string{"2026-10-01..2026-10-07", "2027-01-01"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestState(t *testing.T) {
	c := shanghai(t)
	tests := []struct {
		name string
		t    time.Time
		want State
	}{
		{"Wednesday morning", at(2026, 11, 18, 9, 0), Open},
		{"just before opening", at(2026, 11, 18, 8, 59), Closed},
		{"lunch break", at(2026, 11, 18, 12, 0), Closed},
		{"afternoon", at(2026, 11, 18, 13, 30), Open},
		{"closing minute is closed", at(2026, 11, 18, 18, 0), Closed},
		{"Saturday night until midnight", at(2026, 11, 21, 23, 59), Open},
		{"Sunday", at(2026, 11, 22, 11, 0), Closed},
		{"make-up working Sunday", at(2026, 9, 27, 16, 59), Open},
		{"make-up Sunday after hours", at(2026, 9, 27, 17, 0), Closed},
		{"special closed Thursday", at(2026, 12, 31, 10, 0), Closed},
		{"National Day holiday", at(2026, 10, 3, 10, 0), Holiday},
		{"last holiday day", at(2026, 10, 7, 23, 59), Holiday},
		{"after the holiday", at(2026, 10, 8, 10, 0), Open},
		{"New Year", at(2027, 1, 1, 10, 0), Holiday},
		// The same instant seen from UTC: 01:30Z is 09:30 in Shanghai.
		{"instant in another zone", time.Date(2026, 11, 18, 1, 30, 0, 0, time.UTC), Open},
	}
	for _, tt := range tests {
		if got := c.State(tt.t); got != tt.want {
			t.Errorf("%s (%v): %s, want %s", tt.name, tt.t, got, tt.want)
		}
		if c.Open(tt.t) != (tt.want == Open) {
			t.Errorf("%s: Open disagrees with State", tt.name)
		}
	}
}

func TestDST(t *testing.T) {
	// New York hours follow local time across the DST change.
	c, err := New(Spec{TZ: "America/New_York", Hours: map[string]string{"daily": "09:00-17:00"}})
	if err != nil {
		t.Fatal(err)
	}
	summer := time.Date(2026, 7, 1, 13, 30, 0, 0, time.UTC)  // 09:30 EDT
	winter := time.Date(2026, 12, 1, 13, 30, 0, 0, time.UTC) // 08:30 EST
	if c.State(summer) != Open || c.State(winter) != Closed {
		t.Fatalf("summer %s winter %s", c.State(summer), c.State(winter))
	}
	// Next across the change (2026-11-01 in New York): Saturday 17:00 EDT
	// closes, Sunday 09:00 EST opens, 25 hours of wall time apart.
	sat := time.Date(2026, 10, 31, 16, 0, 0, 0, c.Location())
	closes, _, _ := c.Next(sat)
	opens, to, ok := c.Next(closes)
	if !ok || to != Open || !opens.Equal(time.Date(2026, 11, 1, 9, 0, 0, 0, c.Location())) || opens.Sub(closes) != 17*time.Hour {
		t.Fatalf("closes %v, opens %v (%s %v)", closes, opens, to, ok)
	}
}

func TestNext(t *testing.T) {
	c := shanghai(t)
	tests := []struct {
		name string
		from time.Time
		at   time.Time
		to   State
	}{
		{"opens in the morning", at(2026, 11, 18, 7, 15), at(2026, 11, 18, 9, 0), Open},
		{"lunch", at(2026, 11, 18, 9, 0), at(2026, 11, 18, 12, 0), Closed},
		{"after lunch", at(2026, 11, 18, 12, 0), at(2026, 11, 18, 13, 30), Open},
		{"mid-minute", time.Date(2026, 11, 18, 17, 59, 30, 0, cst), at(2026, 11, 18, 18, 0), Closed},
		{"Friday night to Saturday", at(2026, 11, 20, 18, 0), at(2026, 11, 21, 10, 0), Open},
		{"Saturday to midnight", at(2026, 11, 21, 10, 0), at(2026, 11, 22, 0, 0), Closed},
		{"Sunday to Monday", at(2026, 11, 22, 0, 0), at(2026, 11, 23, 9, 0), Open},
		{"into the holiday at midnight", at(2026, 9, 30, 18, 0), at(2026, 10, 1, 0, 0), Holiday},
		{"the holiday ends at midnight", at(2026, 10, 3, 12, 0), at(2026, 10, 8, 0, 0), Closed},
		{"then opens", at(2026, 10, 8, 0, 0), at(2026, 10, 8, 9, 0), Open},
		{"Saturday's hours end at midnight", at(2026, 9, 26, 23, 0), at(2026, 9, 27, 0, 0), Closed},
		{"make-up Sunday opens", at(2026, 9, 27, 0, 0), at(2026, 9, 27, 9, 0), Open},
		{"special closed day skipped", at(2026, 12, 30, 18, 0), at(2027, 1, 1, 0, 0), Holiday},
	}
	for _, tt := range tests {
		got, to, ok := c.Next(tt.from)
		if !ok || !got.Equal(tt.at) || to != tt.to {
			t.Errorf("%s: Next(%v) = %v %s %v, want %v %s", tt.name, tt.from, got.In(cst), to, ok, tt.at, tt.to)
		}
	}
}

func TestNextNever(t *testing.T) {
	always, err := New(Spec{Hours: map[string]string{"daily": "00:00-24:00"}})
	if err != nil {
		t.Fatal(err)
	}
	if at, to, ok := always.Next(at(2026, 1, 1, 0, 0)); ok {
		t.Fatalf("always open changes at %v to %s", at, to)
	}
	never, err := New(Spec{})
	if err != nil {
		t.Fatal(err)
	}
	if never.State(at(2026, 1, 1, 12, 0)) != Closed {
		t.Fatal("an empty calendar is open")
	}
	if _, _, ok := never.Next(at(2026, 1, 1, 0, 0)); ok {
		t.Fatal("an empty calendar changes")
	}
	// A holiday far ahead is found within the horizon.
	far, err := New(Spec{Holidays: []string{"2027-06-01"}})
	if err != nil {
		t.Fatal(err)
	}
	got, to, ok := far.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if !ok || to != Holiday || !got.Equal(time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("far holiday: %v %s %v", got, to, ok)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		spec  Spec
		field string
		code  Code
		text  string
	}{
		{Spec{Hours: map[string]string{"mon-fri": "18:00-09:00"}}, "hours.mon-fri", CodeRangeOrder,
			`time range "18:00-09:00" ends before it starts (split ranges that cross midnight)`},
		{Spec{Hours: map[string]string{"mon-fri": "09:00-18:00", "fri": "09:00-12:00"}}, "hours.mon-fri", CodeDayTwice,
			`Friday is also given by "fri"`},
		{Spec{Holidays: []string{"2026-10-07..2026-10-01"}}, "holidays", CodeHolidayOrder,
			`range "2026-10-07..2026-10-01" ends before it starts`},
		{Spec{Holidays: []string{"2026-10-32"}}, "holidays", CodeHoliday,
			`bad date "2026-10-32" (want YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)`},
		{Spec{Hours: map[string]string{"funday": "09:00-12:00"}}, "hours", CodeDay,
			`bad day "funday" (want mon..sun, a range such as mon-fri, or daily)`},
		{Spec{Hours: map[string]string{"sat": "09:00-12:00,11:00-13:00"}}, "hours.sat", CodeOverlap,
			`time ranges in "09:00-12:00,11:00-13:00" overlap`},
		{Spec{Hours: map[string]string{"sat": "09:00-25:00"}}, "hours.sat", CodeRange,
			`bad time range "09:00-25:00" (want HH:MM-HH:MM)`},
		{Spec{Hours: map[string]string{"sat": "9-18"}}, "hours.sat", CodeRange, `bad time range "9-18" (want HH:MM-HH:MM)`},
		{Spec{Special: map[string]string{"2026-13-01": ""}}, "special", CodeDate, `bad date "2026-13-01" (want YYYY-MM-DD)`},
		{Spec{Special: map[string]string{"2026-10-01": "x"}}, "special.2026-10-01", CodeRange, `bad time range "x" (want HH:MM-HH:MM)`},
		{Spec{Special: map[string]string{"2026-10-03": "09:00-12:00"}, Holidays: []string{"2026-10-01..2026-10-07"}},
			"special.2026-10-03", CodeSpecialHoliday, `2026-10-03 is also a holiday (2026-10-01..2026-10-07): give it one meaning`},
		{Spec{TZ: "Mars/Olympus"}, "tz", CodeZone, `unknown time zone "Mars/Olympus"`},
		{Spec{TZ: "+8"}, "tz", CodeOffset, `bad offset "+8" (want +HH:MM)`},
		{Spec{TZ: "../../etc/passwd"}, "tz", CodeZoneName, `bad time zone "../../etc/passwd"`},
	}
	for _, tt := range tests {
		_, err := New(tt.spec)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%+v: %v, want an *Error", tt.spec, err)
			continue
		}
		if e.Field != tt.field || e.Code != tt.code || e.Msg() != tt.text {
			t.Errorf("%+v: %q %q %q, want %q %q %q", tt.spec, e.Field, e.Code, e.Msg(), tt.field, tt.code, tt.text)
		}
		if !strings.HasPrefix(err.Error(), "calendar: "+tt.field+": ") {
			t.Errorf("Error() = %q", err)
		}
	}
}

func TestCodesHaveTexts(t *testing.T) {
	if len(Codes()) != len(codeTexts) || len(Codes()) < 10 {
		t.Fatalf("codes %v", Codes())
	}
	for _, c := range Codes() {
		if Text(c, "x", "y") == string(c) {
			t.Errorf("%s has no text", c)
		}
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
		got, err := ParseDays(in)
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
		if _, err := ParseDays(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestLoadZone(t *testing.T) {
	for _, tz := range []string{"", "UTC", "+08:00", "-05:30", "Asia/Shanghai"} {
		if _, err := LoadZone(tz); err != nil {
			t.Errorf("%q: %v", tz, err)
		}
	}
	for _, tz := range []string{"+8", "Nowhere/City", "../../etc/passwd", "/etc/localtime"} {
		if _, err := LoadZone(tz); err == nil {
			t.Errorf("%q accepted", tz)
		}
	}
	l, _ := LoadZone("-05:30")
	if _, off := time.Date(2026, 1, 1, 0, 0, 0, 0, l).Zone(); off != -(5*3600 + 1800) {
		t.Errorf("offset %d", off)
	}
}

func TestSpecJSON(t *testing.T) {
	var s Spec
	if err := json.Unmarshal([]byte(`{"tz":"+08:00","hours":{"daily":"09:00-18:00"},"holidays":["2026-10-01"]}`), &s); err != nil {
		t.Fatal(err)
	}
	c := s.Clone()
	c.Hours["daily"] = "x"
	c.Holidays[0] = "y"
	if s.Hours["daily"] != "09:00-18:00" || s.Holidays[0] != "2026-10-01" {
		t.Fatal("Clone shares its maps or lists")
	}
	if (Spec{}).IsZero() != true || s.IsZero() {
		t.Fatal("IsZero")
	}
	b, _ := json.Marshal(Spec{})
	if string(b) != "{}" {
		t.Fatalf("empty spec marshals as %s", b)
	}
}

// FuzzNew: any spec compiles or is refused with an *Error, and a compiled
// calendar's Next always moves forward to a different state.
func FuzzNew(f *testing.F) {
	f.Add("Asia/Shanghai", "mon-fri", "09:00-12:00,13:30-18:00", "2026-09-27", "09:00-17:00", "2026-10-01..2026-10-07", int64(1790000000))
	f.Add("", "daily", "00:00-24:00", "2026-12-31", "", "2027-01-01", int64(0))
	f.Add("+08:00", "fri-mon", "9:00-9:01", "2026-02-29", "x", "..", int64(-1))
	f.Fuzz(func(t *testing.T, tz, day, hours, date, special, holiday string, unix int64) {
		c, err := New(Spec{TZ: tz, Hours: map[string]string{day: hours}, Special: map[string]string{date: special}, Holidays: []string{holiday}})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Field == "" || strings.Contains(e.Msg(), "%!") {
				t.Fatalf("error %v", err)
			}
			return
		}
		from := time.Unix(unix%(1<<40), 0)
		s := c.State(from)
		if next, to, ok := c.Next(from); ok {
			if !next.After(from) || to == s || c.State(next) != to {
				t.Fatalf("Next(%v) = %v %s from %s", from, next, to, s)
			}
			if just := next.Add(-time.Minute); just.After(from) && c.State(just) != s {
				t.Fatalf("Next(%v) = %v missed an earlier change at %v", from, next, just)
			}
		}
	})
}

func BenchmarkState(b *testing.B) {
	c := shanghai(b)
	t0 := time.Date(2026, 11, 18, 2, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if c.State(t0) != Open {
			b.Fatal("closed")
		}
	}
}
