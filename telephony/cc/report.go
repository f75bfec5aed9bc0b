package cc

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"callbox/telephony/acd"
)

// SL is a service level worked out from fact rows, with what it counted.
type SL struct {
	// Value is AnsweredInT / (Answered + AbandonedAfterT); 1 when no call
	// counts yet.
	Value           float64 `json:"value"`
	Answered        int     `json:"answered"`
	AnsweredInT     int     `json:"answered_in_threshold"`
	AbandonedAfterT int     `json:"abandoned_after_threshold"`
	// Abandoned counts every abandon, the short ones (under ShortAbandon)
	// and those within the threshold included; neither of those count.
	Abandoned int           `json:"abandoned"`
	Threshold time.Duration `json:"threshold"`
	Formula   string        `json:"formula"`
}

// ServiceLevel works out the box's service level (SLFormula) over the
// fact rows of group (0: every group) with threshold T.
func ServiceLevel(facts []Fact, group int, threshold time.Duration) SL {
	sl := SL{Value: 1, Threshold: threshold, Formula: SLFormula}
	t := threshold.Seconds()
	for _, f := range facts {
		if group != 0 && f.Group != group {
			continue
		}
		switch f.Disposition {
		case "answered":
			sl.Answered++
			if f.WaitSeconds <= t {
				sl.AnsweredInT++
			}
		case "abandoned":
			sl.Abandoned++
			if f.WaitSeconds >= ShortAbandon.Seconds() && f.WaitSeconds > t {
				sl.AbandonedAfterT++
			}
		}
	}
	if n := sl.Answered + sl.AbandonedAfterT; n > 0 {
		sl.Value = float64(sl.AnsweredInT) / float64(n)
	}
	return sl
}

// factColumns are the CSV columns of a fact row.
var factColumns = []string{"call", "group", "number", "customer_type", "queued", "answered", "agent", "ended",
	"disposition", "wait_seconds", "talk_seconds", "wrap_up_seconds", "rings", "transfers", "recording", "survey", "overflow"}

// WriteFactsCSV writes fact rows as CSV with a header line; times are
// RFC 3339, rings "agent@time:result" joined by ";".
func WriteFactsCSV(w io.Writer, facts []Fact) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(factColumns); err != nil {
		return fmt.Errorf("cc: facts csv: %w", err)
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	for _, f := range facts {
		var rings []string
		for _, r := range f.Rings {
			rings = append(rings, r.Agent+"@"+ts(r.At)+":"+r.Result)
		}
		survey := ""
		if f.Survey != nil {
			survey = strconv.Itoa(*f.Survey)
		}
		if err := cw.Write([]string{f.Call, strconv.Itoa(f.Group), f.Number, f.CustomerType, ts(f.Queued), ts(f.Answered),
			f.Agent, ts(f.Ended), f.Disposition, num(f.WaitSeconds), num(f.TalkSeconds), num(f.WrapUpSeconds),
			strings.Join(rings, ";"), strings.Join(f.Transfers, ";"), f.Recording, survey, f.Overflow}); err != nil {
			return fmt.Errorf("cc: facts csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("cc: facts csv: %w", err)
	}
	return nil
}

// WriteStatusCSV writes agents' status log entries as CSV with a header
// line: agent, time, from, to, reason, call.
func WriteStatusCSV(w io.Writer, es []acd.StatusEntry) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"agent", "at", "from", "to", "reason", "call"}); err != nil {
		return fmt.Errorf("cc: status csv: %w", err)
	}
	for _, e := range es {
		if err := cw.Write([]string{string(e.Agent), e.At.Format(time.RFC3339), e.From.String(), e.To.String(), e.Reason, string(e.Call)}); err != nil {
			return fmt.Errorf("cc: status csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("cc: status csv: %w", err)
	}
	return nil
}
