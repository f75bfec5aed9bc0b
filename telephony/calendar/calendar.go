// Package calendar is the call centre's business calendars: weekly working
// hours, holidays, and days with their own hours (make-up working days,
// 调休, on a weekend; short days), in a time zone. A calendar says whether
// the centre is open at an instant and when that next changes. IVR time
// branches name a calendar (or give the same fields literally), and the
// call-centre configuration (telephony/ccconf) keeps them.
//
// # Format
//
//	{"tz": "Asia/Shanghai",
//	 "hours": {"mon-fri": "09:00-12:00,13:30-18:00", "sat": "09:00-12:00"},
//	 "special": {"2026-09-27": "09:00-18:00", "2026-12-31": "09:00-12:00"},
//	 "holidays": ["2026-10-01..2026-10-07", "2027-01-01"]}
//
// Hours keys are "mon".."sun", wrapping day ranges such as "mon-fri" or
// "fri-mon", or "daily"; each weekday is given at most once. Values are
// comma-separated "HH:MM-HH:MM" ranges, end exclusive, "24:00" allowed as
// an end, not overlapping; "" (or a day not given) is closed. Special maps
// dates to that day's hours, overriding the weekday: a make-up working
// Sunday, or a short day; "" closes the day without it being a holiday.
// Holidays are dates or inclusive date ranges ("2026-10-01..2026-10-07"),
// closed and reported as Holiday, so a caller can hear a holiday message; a
// date may not be both a holiday and special. TZ is an IANA zone, a fixed
// offset ("+08:00") or empty for UTC.
//
// Times are judged to the minute in the calendar's zone: 18:00 is closed
// when the hours end at 18:00, and the hours follow local time across a
// daylight-saving change.
package calendar

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Spec is a calendar as configured: the JSON of the package documentation.
type Spec struct {
	// TZ is an IANA zone ("Asia/Shanghai"), a fixed offset ("+08:00"), or
	// empty for UTC ("tz").
	TZ string `json:"tz,omitempty"`
	// Hours are the working hours per weekday ("hours").
	Hours map[string]string `json:"hours,omitempty"`
	// Special gives single dates their own hours ("special").
	Special map[string]string `json:"special,omitempty"`
	// Holidays are closed dates and date ranges ("holidays").
	Holidays []string `json:"holidays,omitempty"`
}

// IsZero reports whether the spec gives nothing at all.
func (s Spec) IsZero() bool {
	return s.TZ == "" && len(s.Hours) == 0 && len(s.Special) == 0 && len(s.Holidays) == 0
}

// Clone returns a deep copy of s.
func (s Spec) Clone() Spec {
	s.Hours = maps.Clone(s.Hours)
	s.Special = maps.Clone(s.Special)
	s.Holidays = slices.Clone(s.Holidays)
	return s
}

// State is whether the centre works at an instant.
type State uint8

// States. The zero value is Closed.
const (
	Closed  State = iota // outside the working hours
	Open                 // inside the working hours
	Holiday              // a holiday (closed)
)

var stateNames = [...]string{"closed", "open", "holiday"}

// String names the state: "closed", "open" or "holiday".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Calendar is a compiled Spec. It is immutable and safe for concurrent use.
type Calendar struct {
	loc      *time.Location
	week     [7][]span // indexed by time.Weekday
	special  map[int][]span
	holidays [][2]int // inclusive date ranges as dateKey values
}

// span is [from, to) in minutes after midnight.
type span struct{ from, to int }

// DateLayout is how dates are written: 2026-10-01.
const DateLayout = "2006-01-02"

// New compiles a spec. The error is an *Error naming the field.
func New(s Spec) (*Calendar, error) {
	loc, err := LoadZone(s.TZ)
	if err != nil {
		return nil, err
	}
	c := &Calendar{loc: loc, special: make(map[int][]span, len(s.Special))}
	var given [7]string
	for _, key := range slices.Sorted(maps.Keys(s.Hours)) {
		days, err := ParseDays(key)
		if err != nil {
			return nil, err
		}
		spans, err := parseSpans("hours."+key, s.Hours[key])
		if err != nil {
			return nil, err
		}
		for _, d := range days {
			if given[d] != "" {
				return nil, newError("hours."+key, CodeDayTwice, d.String(), given[d])
			}
			given[d] = key
			c.week[d] = spans
		}
	}
	for _, date := range slices.Sorted(maps.Keys(s.Special)) {
		d, err := time.Parse(DateLayout, date)
		if err != nil {
			return nil, newError("special", CodeDate, date)
		}
		spans, err := parseSpans("special."+date, s.Special[date])
		if err != nil {
			return nil, err
		}
		c.special[dateKey(d)] = spans
	}
	for _, h := range s.Holidays {
		from, to, ok := strings.Cut(h, "..")
		if !ok {
			to = from
		}
		a, err1 := time.Parse(DateLayout, from)
		b, err2 := time.Parse(DateLayout, to)
		if err1 != nil || err2 != nil {
			return nil, newError("holidays", CodeHoliday, h)
		}
		if b.Before(a) {
			return nil, newError("holidays", CodeHolidayOrder, h)
		}
		r := [2]int{dateKey(a), dateKey(b)}
		for _, date := range slices.Sorted(maps.Keys(s.Special)) {
			d, _ := time.Parse(DateLayout, date)
			if k := dateKey(d); k >= r[0] && k <= r[1] {
				return nil, newError("special."+date, CodeSpecialHoliday, date, h)
			}
		}
		c.holidays = append(c.holidays, r)
	}
	return c, nil
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// State says whether the centre is open at t, to the minute in the
// calendar's zone. It does not allocate.
func (c *Calendar) State(t time.Time) State {
	lt := t.In(c.loc)
	date := dateKey(lt)
	for _, h := range c.holidays {
		if date >= h[0] && date <= h[1] {
			return Holiday
		}
	}
	spans, ok := c.special[date]
	if !ok {
		spans = c.week[lt.Weekday()]
	}
	m := lt.Hour()*60 + lt.Minute()
	for _, sp := range spans {
		if m >= sp.from && m < sp.to {
			return Open
		}
	}
	return Closed
}

// Open reports whether the centre works at t.
func (c *Calendar) Open(t time.Time) bool { return c.State(t) == Open }

// horizon bounds Next's search: a calendar that does not change within two
// years (open day and night, or never open) has no next change.
const horizon = 2 * 366

// Next returns the first instant after t at which the state differs from
// the state at t, and that new state; ok is false when nothing changes
// within two years.
func (c *Calendar) Next(t time.Time) (at time.Time, to State, ok bool) {
	from := c.State(t)
	lt := t.In(c.loc)
	y, m, d := lt.Date()
	for day := 0; day <= horizon; day++ {
		// The state can change only at midnight and at the edges of the
		// day's hours; between them it is constant.
		date := time.Date(y, m, d+day, 0, 0, 0, 0, c.loc)
		if c.after(t, date, from, &at, &to) {
			return at, to, true
		}
		spans, special := c.special[dateKey(date)]
		if !special {
			spans = c.week[date.Weekday()]
		}
		for _, sp := range spans {
			for _, min := range [2]int{sp.from, sp.to} {
				edge := time.Date(y, m, d+day, min/60, min%60, 0, 0, c.loc)
				if c.after(t, edge, from, &at, &to) {
					return at, to, true
				}
			}
		}
	}
	return time.Time{}, from, false
}

// after reports whether edge is after t with a state other than from,
// storing the edge and its state.
func (c *Calendar) after(t, edge time.Time, from State, at *time.Time, to *State) bool {
	if !edge.After(t) {
		return false
	}
	if s := c.State(edge); s != from {
		*at, *to = edge, s
		return true
	}
	return false
}

// dateKey orders calendar dates as integers: 2026-10-01 is 20261001. It
// keeps State free of allocation.
func dateKey(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseDays reads an hours key: "mon", "mon-fri" (wrapping allowed:
// "fri-mon") or "daily", case-insensitively. The error is an *Error.
func ParseDays(key string) ([]time.Weekday, error) {
	k := strings.ToLower(strings.TrimSpace(key))
	if k == "daily" {
		return []time.Weekday{0, 1, 2, 3, 4, 5, 6}, nil
	}
	from, to, isRange := strings.Cut(k, "-")
	a, ok1 := dayNames[from]
	b, ok2 := a, true
	if isRange {
		b, ok2 = dayNames[to]
	}
	if !ok1 || !ok2 {
		return nil, newError("hours", CodeDay, key)
	}
	var days []time.Weekday
	for d := a; ; d = (d + 1) % 7 {
		days = append(days, d)
		if d == b {
			break
		}
	}
	return days, nil
}

// parseSpans reads "09:00-12:00,13:00-18:00" for field; "" is a closed day.
func parseSpans(field, v string) ([]span, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return []span{}, nil
	}
	var out []span
	for _, part := range strings.Split(v, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil, newError(field, CodeRange, part)
		}
		a, ok1 := parseClock(from)
		b, ok2 := parseClock(to)
		if !ok1 || !ok2 {
			return nil, newError(field, CodeRange, part)
		}
		if a >= b {
			return nil, newError(field, CodeRangeOrder, part)
		}
		out = append(out, span{a, b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].from < out[j].from })
	for i := 1; i < len(out); i++ {
		if out[i].from < out[i-1].to {
			return nil, newError(field, CodeOverlap, v)
		}
	}
	return out, nil
}

// parseClock reads "9:00", "09:00" or "24:00" as minutes after midnight.
func parseClock(s string) (int, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) == 0 || len(h) > 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

var zoneCache sync.Map // string -> *time.Location

// LoadZone reads a calendar's zone: "" or "UTC", a fixed offset "+08:00",
// or an IANA name. The error is an *Error on field "tz".
func LoadZone(tz string) (*time.Location, error) {
	if tz == "" || tz == "UTC" {
		return time.UTC, nil
	}
	if l, ok := zoneCache.Load(tz); ok {
		return l.(*time.Location), nil
	}
	var loc *time.Location
	if tz[0] == '+' || tz[0] == '-' {
		t, err := time.Parse("-07:00", tz)
		if err != nil {
			return nil, newError("tz", CodeOffset, tz)
		}
		_, off := t.Zone()
		loc = time.FixedZone(tz, off)
	} else {
		// time.LoadLocation reads files named by the zone: keep it to names.
		if strings.ContainsAny(tz, "\\") || strings.Contains(tz, "..") || strings.HasPrefix(tz, "/") {
			return nil, newError("tz", CodeZoneName, tz)
		}
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, newError("tz", CodeZone, tz)
		}
		loc = l
	}
	zoneCache.Store(tz, loc)
	return loc, nil
}

// Code names why a spec was refused, stably, so a caller can translate
// the reason (telephony/ccconf and the web admin do).
type Code string

// Error codes, with the values their texts take.
const (
	CodeDay            Code = "day.unknown"     // key
	CodeDayTwice       Code = "day.twice"       // weekday, the other key
	CodeRange          Code = "range.format"    // range
	CodeRangeOrder     Code = "range.order"     // range
	CodeOverlap        Code = "range.overlap"   // ranges
	CodeDate           Code = "date.format"     // date
	CodeHoliday        Code = "holiday.format"  // entry
	CodeHolidayOrder   Code = "holiday.order"   // entry
	CodeSpecialHoliday Code = "special.holiday" // date, holiday entry
	CodeOffset         Code = "tz.offset"       // tz
	CodeZoneName       Code = "tz.name"         // tz
	CodeZone           Code = "tz.unknown"      // tz
)

var codeTexts = map[Code]string{
	CodeDay:            "bad day %q (want mon..sun, a range such as mon-fri, or daily)",
	CodeDayTwice:       "%s is also given by %q",
	CodeRange:          "bad time range %q (want HH:MM-HH:MM)",
	CodeRangeOrder:     "time range %q ends before it starts (split ranges that cross midnight)",
	CodeOverlap:        "time ranges in %q overlap",
	CodeDate:           "bad date %q (want YYYY-MM-DD)",
	CodeHoliday:        "bad date %q (want YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)",
	CodeHolidayOrder:   "range %q ends before it starts",
	CodeSpecialHoliday: "%s is also a holiday (%s): give it one meaning",
	CodeOffset:         "bad offset %q (want +HH:MM)",
	CodeZoneName:       "bad time zone %q",
	CodeZone:           "unknown time zone %q",
}

// Codes lists every error code, sorted.
func Codes() []Code {
	out := make([]Code, 0, len(codeTexts))
	for c := range codeTexts {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Text is the English text of code with args.
func Text(code Code, args ...any) string {
	if f, ok := codeTexts[code]; ok {
		return fmt.Sprintf(f, args...)
	}
	return string(code)
}

// Error is a refused spec: the field ("hours.mon-fri", "holidays", "tz")
// and why, as a Code with its values.
type Error struct {
	Field string
	Code  Code
	Args  []any
}

func newError(field string, code Code, args ...any) *Error {
	return &Error{Field: field, Code: code, Args: args}
}

// Msg is the reason in English, without the field.
func (e *Error) Msg() string { return Text(e.Code, e.Args...) }

func (e *Error) Error() string { return "calendar: " + e.Field + ": " + e.Msg() }
