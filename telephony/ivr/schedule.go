package ivr

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// schedule is a TimeBranch's hours compiled for evaluation.
type schedule struct {
	loc      *time.Location
	week     [7][]span // indexed by time.Weekday
	special  map[int][]span
	holidays [][2]int // inclusive date ranges as dateKey values
}

// span is [from, to) in minutes after midnight.
type span struct{ from, to int }

type fieldErr struct{ field, msg string }

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

const dateLayout = "2006-01-02"

// state returns "open", "closed" or "holiday" for an instant.
func (s *schedule) state(t time.Time) string {
	lt := t.In(s.loc)
	date := dateKey(lt)
	for _, h := range s.holidays {
		if date >= h[0] && date <= h[1] {
			return "holiday"
		}
	}
	spans, ok := s.special[date]
	if !ok {
		spans = s.week[lt.Weekday()]
	}
	m := lt.Hour()*60 + lt.Minute()
	for _, sp := range spans {
		if m >= sp.from && m < sp.to {
			return "open"
		}
	}
	return "closed"
}

func compileSchedule(tb *TimeBranch) (*schedule, *fieldErr) {
	loc, err := loadZone(tb.TZ)
	if err != nil {
		return nil, &fieldErr{"tz", err.Error()}
	}
	s := &schedule{loc: loc, special: make(map[int][]span, len(tb.Special))}
	var given [7]string
	for _, key := range sortedKeys(tb.Hours) {
		days, err := parseDays(key)
		if err != nil {
			return nil, &fieldErr{"hours", err.Error()}
		}
		spans, err := parseSpans(tb.Hours[key])
		if err != nil {
			return nil, &fieldErr{"hours." + key, err.Error()}
		}
		for _, d := range days {
			if given[d] != "" {
				return nil, &fieldErr{"hours." + key, fmt.Sprintf("%s is also given by %q", d, given[d])}
			}
			given[d] = key
			s.week[d] = spans
		}
	}
	for _, date := range sortedKeys(tb.Special) {
		d, err := time.Parse(dateLayout, date)
		if err != nil {
			return nil, &fieldErr{"special", fmt.Sprintf("bad date %q (want YYYY-MM-DD)", date)}
		}
		spans, err := parseSpans(tb.Special[date])
		if err != nil {
			return nil, &fieldErr{"special." + date, err.Error()}
		}
		s.special[dateKey(d)] = spans
	}
	for _, h := range tb.Holidays {
		from, to, ok := strings.Cut(h, "..")
		if !ok {
			to = from
		}
		a, err1 := time.Parse(dateLayout, from)
		b, err2 := time.Parse(dateLayout, to)
		if err1 != nil || err2 != nil {
			return nil, &fieldErr{"holidays", fmt.Sprintf("bad date %q (want YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)", h)}
		}
		if b.Before(a) {
			return nil, &fieldErr{"holidays", fmt.Sprintf("range %q ends before it starts", h)}
		}
		s.holidays = append(s.holidays, [2]int{dateKey(a), dateKey(b)})
	}
	return s, nil
}

// dateKey orders calendar dates as integers: 2026-10-01 is 20261001. It
// keeps the time branch free of allocation.
func dateKey(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// parseDays reads "mon", "mon-fri" (wrapping allowed: "fri-mon") or
// "daily".
func parseDays(key string) ([]time.Weekday, error) {
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
		return nil, fmt.Errorf("bad day %q (want mon..sun, a range such as mon-fri, or daily)", key)
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

// parseSpans reads "09:00-12:00,13:00-18:00"; "" is a closed day.
func parseSpans(v string) ([]span, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return []span{}, nil
	}
	var out []span
	for _, part := range strings.Split(v, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil, fmt.Errorf("bad time range %q (want HH:MM-HH:MM)", part)
		}
		a, err1 := parseClock(from)
		b, err2 := parseClock(to)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad time range %q (want HH:MM-HH:MM)", part)
		}
		if a >= b {
			return nil, fmt.Errorf("time range %q ends before it starts (split ranges that cross midnight)", part)
		}
		out = append(out, span{a, b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].from < out[j].from })
	for i := 1; i < len(out); i++ {
		if out[i].from < out[i-1].to {
			return nil, fmt.Errorf("time ranges in %q overlap", v)
		}
	}
	return out, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) == 0 || len(h) > 2 || len(m) != 2 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return hh*60 + mm, nil
}

var zoneCache sync.Map // string -> *time.Location

// loadZone reads "" (UTC), a fixed offset "+08:00" or an IANA name.
func loadZone(tz string) (*time.Location, error) {
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
			return nil, fmt.Errorf("bad offset %q (want +HH:MM)", tz)
		}
		_, off := t.Zone()
		loc = time.FixedZone(tz, off)
	} else {
		if strings.ContainsAny(tz, "\\") || strings.Contains(tz, "..") || strings.HasPrefix(tz, "/") {
			return nil, fmt.Errorf("bad time zone %q", tz)
		}
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, fmt.Errorf("unknown time zone %q", tz)
		}
		loc = l
	}
	zoneCache.Store(tz, loc)
	return loc, nil
}
