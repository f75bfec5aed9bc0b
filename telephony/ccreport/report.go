package ccreport

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"callbox/telephony/cc"
)

// ErrQuery: a report's query names an unknown dimension, period or
// measure, or an empty time range; the text after it says which.
var ErrQuery = errors.New("ccreport: bad query")

// Dimensions a report is broken down by.
const (
	ByGroup = "group"
	ByAgent = "agent"
	ByAll   = "all" // one row per period for the whole centre
)

// Periods a report is bucketed by, in the query's time zone; weeks start
// on Monday. PeriodAll is one bucket for the whole range.
const (
	PeriodHour  = "hour"
	PeriodDay   = "day"
	PeriodWeek  = "week"
	PeriodMonth = "month"
	PeriodAll   = "all"
)

// Measures, as columns are named.
const (
	// Offered: calls queued to the group; per agent, calls that rang it.
	Offered = "offered"
	// Answered: calls answered (per agent, by it).
	Answered = "answered"
	// Abandoned: calls the caller left while waiting (per agent, of those
	// that rang it).
	Abandoned = "abandoned"
	// TimedOut: calls that waited past the group's limit and overflowed
	// (per agent, of those that rang it).
	TimedOut = "timed_out"
	// ServiceLevel: cc.SLFormula, as a percentage, with each call's own
	// group's threshold.
	ServiceLevel = "service_level"
	// ASA: average speed of answer, seconds from queued to answered.
	ASA = "asa"
	// AHT: average handle time, talk plus wrap-up seconds of answered
	// calls.
	AHT = "aht"
	// Occupancy: the share of signed-in working time (idle, ringing,
	// talking, wrap-up) spent talking or in wrap-up, as a percentage.
	Occupancy = "occupancy"
	// Break: seconds on break in total; the report adds a column
	// "break:<reason>" per reason it met.
	Break = "break"
	// Survey: the average survey score of the calls that have one.
	Survey = "survey"
)

// Measures lists every measure in the order reports show them.
var Measures = []string{Offered, Answered, Abandoned, TimedOut, ServiceLevel, ASA, AHT, Occupancy, Break, Survey}

// OccupancyFormula is shown beside the occupancy figure.
const OccupancyFormula = "occupancy = (talking + wrap-up) / (idle + ringing + talking + wrap-up)"

// Query says what to report on.
type Query struct {
	Dimension string // ByGroup, ByAgent or ByAll
	Period    string
	// Measures picks the columns, in this order; empty: all of Measures.
	Measures []string
	// From and To bound the report: fact rows queued in [From, To), status
	// spans clipped to it. Open spans end at Now when it comes first.
	From, To, Now time.Time
	// Loc is the time zone periods are cut in (nil: UTC).
	Loc *time.Location
	// Threshold is each group's service-level threshold; groups not
	// listed take DefaultThreshold.
	Threshold        map[int]time.Duration
	DefaultThreshold time.Duration
	// Members lists each agent's groups, so that per-group reports count
	// their agents' occupancy and breaks.
	Members map[string][]int
}

// Report is a computed report: one row per key and period that had data,
// in key then period order.
type Report struct {
	Dimension, Period string
	// Columns name the measures of each row's Values (Break is followed by
	// its "break:<reason>" columns).
	Columns []string
	Rows    []Row
}

// Row is one key's figures for one period.
type Row struct {
	// Key is the group id, the agent's work number, or "" (ByAll).
	Key    string
	Period time.Time
	// Values line up with Report.Columns; NaN where the figure has nothing
	// to stand on (no answered call for an ASA).
	Values []float64
}

// acc adds up one key's figures for one period.
type acc struct {
	offered, answered, abandoned, timedOut int
	slIn, slDen                            int
	wait, handle                           float64
	survey                                 float64
	surveyN                                int
	busy, avail                            float64
	breaks                                 map[string]float64
}

type bucketKey struct {
	key    string
	period time.Time
}

// Compute works out the report over facts and spans (the caller passes the
// rows of the range; others are left out here anyway).
func Compute(q Query, facts []cc.Fact, spans []Span) (Report, error) {
	if err := q.check(); err != nil {
		return Report{}, err
	}
	measures := q.Measures
	if len(measures) == 0 {
		measures = Measures
	}
	accs := map[bucketKey]*acc{}
	get := func(key string, t time.Time) *acc {
		k := bucketKey{key, q.bucket(t)}
		a := accs[k]
		if a == nil {
			a = &acc{breaks: map[string]float64{}}
			accs[k] = a
		}
		return a
	}
	for _, f := range facts {
		if f.Queued.Before(q.From) || !f.Queued.Before(q.To) {
			continue
		}
		for _, key := range q.factKeys(f) {
			q.addFact(get(key, f.Queued), f, key)
		}
	}
	end := q.To
	if !q.Now.IsZero() && q.Now.Before(end) {
		end = q.Now
	}
	for _, s := range spans {
		se := s.End
		if se.IsZero() || se.After(end) {
			se = end
		}
		st := s.Start
		if st.Before(q.From) {
			st = q.From
		}
		for b := q.bucket(st); b.Before(se); b = q.next(b) {
			lo, hi := maxTime(st, b), minTime(se, q.next(b))
			if !lo.Before(hi) {
				continue
			}
			secs := hi.Sub(lo).Seconds()
			for _, key := range q.spanKeys(s.Agent) {
				a := get(key, lo)
				switch s.State {
				case "talking", "wrap_up":
					a.busy += secs
					a.avail += secs
				case "idle", "ringing":
					a.avail += secs
				case "break":
					a.breaks[s.Reason] += secs
				}
			}
		}
	}
	var reasons []string
	for _, a := range accs {
		for r := range a.breaks {
			if !slices.Contains(reasons, r) {
				reasons = append(reasons, r)
			}
		}
	}
	slices.Sort(reasons)
	var cols []string
	for _, m := range measures {
		cols = append(cols, m)
		if m == Break {
			for _, r := range reasons {
				cols = append(cols, Break+":"+r)
			}
		}
	}
	rep := Report{Dimension: q.Dimension, Period: q.Period, Columns: cols}
	for k, a := range accs {
		row := Row{Key: k.key, Period: k.period, Values: make([]float64, 0, len(cols))}
		for _, c := range cols {
			row.Values = append(row.Values, a.value(c))
		}
		rep.Rows = append(rep.Rows, row)
	}
	slices.SortFunc(rep.Rows, func(x, y Row) int {
		return cmp.Or(compareKeys(x.Key, y.Key), x.Period.Compare(y.Period))
	})
	return rep, nil
}

// compareKeys orders group ids as numbers and work numbers as text.
func compareKeys(x, y string) int {
	a, errA := strconv.Atoi(x)
	b, errB := strconv.Atoi(y)
	if errA == nil && errB == nil {
		return cmp.Compare(a, b)
	}
	return strings.Compare(x, y)
}

func (q *Query) check() error {
	if !slices.Contains([]string{ByGroup, ByAgent, ByAll}, q.Dimension) {
		return fmt.Errorf("%w: dimension %q: group, agent or all", ErrQuery, q.Dimension)
	}
	if !slices.Contains([]string{PeriodHour, PeriodDay, PeriodWeek, PeriodMonth, PeriodAll}, q.Period) {
		return fmt.Errorf("%w: period %q: hour, day, week, month or all", ErrQuery, q.Period)
	}
	for _, m := range q.Measures {
		if !slices.Contains(Measures, m) {
			return fmt.Errorf("%w: measure %q", ErrQuery, m)
		}
	}
	if !q.From.Before(q.To) {
		return fmt.Errorf("%w: the range ends before it starts", ErrQuery)
	}
	if q.Loc == nil {
		q.Loc = time.UTC
	}
	return nil
}

// bucket is the start of the period t falls in.
func (q *Query) bucket(t time.Time) time.Time {
	t = t.In(q.Loc)
	y, m, d := t.Date()
	switch q.Period {
	case PeriodHour:
		return time.Date(y, m, d, t.Hour(), 0, 0, 0, q.Loc)
	case PeriodDay:
		return time.Date(y, m, d, 0, 0, 0, 0, q.Loc)
	case PeriodWeek:
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, m, d-back, 0, 0, 0, 0, q.Loc)
	case PeriodMonth:
		return time.Date(y, m, 1, 0, 0, 0, 0, q.Loc)
	}
	return q.From.In(q.Loc)
}

// next is the start of the period after the one starting at b.
func (q *Query) next(b time.Time) time.Time {
	y, m, d := b.Date()
	switch q.Period {
	case PeriodHour:
		return time.Date(y, m, d, b.Hour()+1, 0, 0, 0, q.Loc)
	case PeriodDay:
		return time.Date(y, m, d+1, 0, 0, 0, 0, q.Loc)
	case PeriodWeek:
		return time.Date(y, m, d+7, 0, 0, 0, 0, q.Loc)
	case PeriodMonth:
		return time.Date(y, m+1, 1, 0, 0, 0, 0, q.Loc)
	}
	return q.To
}

// factKeys are the rows a fact counts in.
func (q *Query) factKeys(f cc.Fact) []string {
	switch q.Dimension {
	case ByGroup:
		return []string{strconv.Itoa(f.Group)}
	case ByAgent:
		return factAgents(f)
	}
	return []string{""}
}

// spanKeys are the rows an agent's time counts in.
func (q *Query) spanKeys(agent string) []string {
	switch q.Dimension {
	case ByGroup:
		var out []string
		for _, g := range q.Members[agent] {
			out = append(out, strconv.Itoa(g))
		}
		return out
	case ByAgent:
		return []string{agent}
	}
	return []string{""}
}

func (q *Query) threshold(group int) time.Duration {
	if t, ok := q.Threshold[group]; ok && t > 0 {
		return t
	}
	if q.DefaultThreshold > 0 {
		return q.DefaultThreshold
	}
	return 20 * time.Second
}

// addFact counts one call in a; key is the agent for ByAgent.
func (q *Query) addFact(a *acc, f cc.Fact, key string) {
	a.offered++
	answeredHere := f.Disposition == "answered" && (q.Dimension != ByAgent || f.Agent == key)
	t := q.threshold(f.Group).Seconds()
	switch {
	case answeredHere:
		a.answered++
		a.wait += f.WaitSeconds
		a.handle += f.TalkSeconds + f.WrapUpSeconds
		a.slDen++
		if f.WaitSeconds <= t {
			a.slIn++
		}
		if f.Survey != nil {
			a.survey += float64(*f.Survey)
			a.surveyN++
		}
	case f.Disposition == "abandoned":
		a.abandoned++
		if f.WaitSeconds >= cc.ShortAbandon.Seconds() && f.WaitSeconds > t {
			a.slDen++
		}
	case f.Disposition == "overflowed":
		a.timedOut++
	}
}

// value is one column's figure.
func (a *acc) value(col string) float64 {
	ratio := func(n, d float64) float64 {
		if d == 0 {
			return math.NaN()
		}
		return n / d
	}
	switch col {
	case Offered:
		return float64(a.offered)
	case Answered:
		return float64(a.answered)
	case Abandoned:
		return float64(a.abandoned)
	case TimedOut:
		return float64(a.timedOut)
	case ServiceLevel:
		return 100 * ratio(float64(a.slIn), float64(a.slDen))
	case ASA:
		return ratio(a.wait, float64(a.answered))
	case AHT:
		return ratio(a.handle, float64(a.answered))
	case Occupancy:
		return 100 * ratio(a.busy, a.avail)
	case Break:
		var sum float64
		for _, v := range a.breaks {
			sum += v
		}
		return sum
	case Survey:
		return ratio(a.survey, float64(a.surveyN))
	}
	if r, ok := strings.CutPrefix(col, Break+":"); ok {
		return a.breaks[r]
	}
	return math.NaN()
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
