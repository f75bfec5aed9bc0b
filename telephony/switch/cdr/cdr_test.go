package cdr

import (
	"testing"
	"time"
)

func TestFinish(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name          string
		r             Record
		dur, bill     time.Duration
		billedSeconds int64
	}{
		{"answered", Record{Start: t0, Answer: t0.Add(5 * time.Second), End: t0.Add(65*time.Second + 100*time.Millisecond)}, 65*time.Second + 100*time.Millisecond, 60*time.Second + 100*time.Millisecond, 61},
		{"unanswered", Record{Start: t0, End: t0.Add(30 * time.Second)}, 30 * time.Second, 0, 0},
		{"answered at the end", Record{Start: t0, Answer: t0.Add(time.Second), End: t0.Add(time.Second)}, time.Second, 0, 0},
	} {
		c.r.Finish()
		if c.r.Duration != c.dur || c.r.Billable != c.bill || c.r.BillableSeconds() != c.billedSeconds {
			t.Errorf("%s: duration %v billable %v (%d s), want %v %v (%d s)", c.name, c.r.Duration, c.r.Billable, c.r.BillableSeconds(), c.dur, c.bill, c.billedSeconds)
		}
	}
}

func TestMemoryCopies(t *testing.T) {
	var m Memory
	legs := []Leg{{Channel: "fxs1"}}
	m.Write(Record{ID: "1", Legs: legs, Disposition: Busy})
	legs[0].Channel = "changed"
	got := m.Records()
	if len(got) != 1 || got[0].Legs[0].Channel != "fxs1" || got[0].Disposition.String() != "busy" {
		t.Fatalf("records %+v", got)
	}
	got[0].ID = "x"
	if m.Records()[0].ID != "1" {
		t.Fatal("Records shares its slice")
	}
	m.Reset()
	if len(m.Records()) != 0 {
		t.Fatal("Reset kept records")
	}
}

func TestDispositionNames(t *testing.T) {
	want := map[Disposition]string{Answered: "answered", Busy: "busy", NoAnswer: "no answer", Failed: "failed", Cancelled: "cancelled", 0: "disposition(0)", 9: "disposition(9)"}
	for d, s := range want {
		if d.String() != s {
			t.Errorf("%d: %q, want %q", d, d.String(), s)
		}
	}
}
