package cc

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"

	"callbox/telephony/acd"
)

// The service level counts answers within the threshold over answers and
// abandons after it; abandons under 5 s and within the threshold are left
// out, as SLFormula says.
func TestServiceLevel(t *testing.T) {
	facts := []Fact{
		{Group: 1, Disposition: "answered", WaitSeconds: 5},
		{Group: 1, Disposition: "answered", WaitSeconds: 19.9},
		{Group: 1, Disposition: "answered", WaitSeconds: 40},
		{Group: 1, Disposition: "abandoned", WaitSeconds: 3},  // short: left out
		{Group: 1, Disposition: "abandoned", WaitSeconds: 12}, // within T: left out
		{Group: 1, Disposition: "abandoned", WaitSeconds: 30},
		{Group: 2, Disposition: "answered", WaitSeconds: 60},
		{Group: 1, Disposition: "overflowed", WaitSeconds: 90},
	}
	sl := ServiceLevel(facts, 1, 20*time.Second)
	if sl.Answered != 3 || sl.AnsweredInT != 2 || sl.AbandonedAfterT != 1 || sl.Abandoned != 3 || sl.Value != 0.5 || sl.Formula == "" {
		t.Fatalf("SL %+v", sl)
	}
	if all := ServiceLevel(facts, 0, 20*time.Second); all.Answered != 4 || all.Value != 0.4 {
		t.Fatalf("SL of all groups %+v", all)
	}
	if none := ServiceLevel(nil, 0, time.Second); none.Value != 1 {
		t.Fatalf("SL of nothing %+v", none)
	}
}

func TestCSV(t *testing.T) {
	at := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	score := 5
	var b bytes.Buffer
	if err := WriteFactsCSV(&b, []Fact{{Call: "c1", Group: 1, Number: "13800138000", Queued: at, Disposition: "answered",
		Agent: "1088", WaitSeconds: 4.2, Rings: []FactRing{{Agent: "1088", At: at, Result: "answered"}}, Survey: &score,
		Transfers: []string{"agent:1099", "number:204"}}}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(rows) != 2 || len(rows[1]) != len(factColumns) || rows[1][0] != "c1" || rows[1][9] != "4.2" ||
		rows[1][12] != "1088@2026-01-01T09:00:00Z:answered" || rows[1][13] != "agent:1099;number:204" || rows[1][15] != "5" {
		t.Fatalf("facts csv %q %v", rows, err)
	}
	b.Reset()
	if err := WriteStatusCSV(&b, []acd.StatusEntry{{Agent: "1088", At: at, From: acd.Idle, To: acd.Break, Reason: "lunch, long"}}); err != nil {
		t.Fatal(err)
	}
	rows, err = csv.NewReader(&b).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][3] != "break" || rows[1][4] != "lunch, long" {
		t.Fatalf("status csv %q %v", rows, err)
	}
}
