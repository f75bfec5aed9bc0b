package registrar

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestApply(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	tab := New(2)
	meta := func(callID string, cseq uint32) Binding {
		return Binding{CallID: callID, CSeq: cseq, Source: "10.0.0.1:5060", Transport: "UDP", UserAgent: "ua"}
	}
	steps := []struct {
		name    string
		meta    Binding
		at      time.Duration
		changes []Change
		star    bool
		err     error
		want    []string
		removed int
	}{
		{name: "first", meta: meta("a", 1), changes: []Change{{"sip:201@10.0.0.1", time.Hour}}, want: []string{"sip:201@10.0.0.1"}},
		{name: "second contact other call-id", meta: meta("b", 1), changes: []Change{{"sip:201@10.0.0.2", time.Minute}}, want: []string{"sip:201@10.0.0.1", "sip:201@10.0.0.2"}},
		{name: "third is too many", meta: meta("c", 1), changes: []Change{{"sip:201@10.0.0.3", time.Minute}}, err: ErrTooMany, want: []string{"sip:201@10.0.0.1", "sip:201@10.0.0.2"}},
		{name: "replayed cseq", meta: meta("a", 1), changes: []Change{{"sip:201@10.0.0.1", 0}}, err: ErrOutOfOrder, want: []string{"sip:201@10.0.0.1", "sip:201@10.0.0.2"}},
		{name: "refresh", meta: meta("a", 2), at: time.Second, changes: []Change{{"sip:201@10.0.0.1", time.Hour}}, want: []string{"sip:201@10.0.0.1", "sip:201@10.0.0.2"}},
		{name: "atomic: one bad change rejects all", meta: meta("b", 1), changes: []Change{{"sip:201@10.0.0.1", 0}, {"sip:201@10.0.0.2", 0}}, err: ErrOutOfOrder, want: []string{"sip:201@10.0.0.1", "sip:201@10.0.0.2"}},
		{name: "unregister one", meta: meta("b", 2), changes: []Change{{"sip:201@10.0.0.2", 0}}, want: []string{"sip:201@10.0.0.1"}, removed: 1},
		{name: "unregister unknown is fine", meta: meta("z", 1), changes: []Change{{"sip:201@10.9.9.9", 0}}, want: []string{"sip:201@10.0.0.1"}},
		{name: "star out of order", meta: meta("a", 2), star: true, err: ErrOutOfOrder, want: []string{"sip:201@10.0.0.1"}},
		{name: "star", meta: meta("a", 3), star: true, want: nil, removed: 1},
	}
	for _, s := range steps {
		var removed []Binding
		var err error
		if s.star {
			removed, err = tab.RemoveAll("201", s.meta)
		} else {
			_, removed, err = tab.Apply("201", s.meta, t0.Add(s.at), s.changes)
		}
		if !errors.Is(err, s.err) {
			t.Fatalf("%s: err %v, want %v", s.name, err, s.err)
		}
		if err == nil && len(removed) != s.removed {
			t.Errorf("%s: removed %d, want %d", s.name, len(removed), s.removed)
		}
		got := tab.All()
		if len(got) != len(s.want) {
			t.Fatalf("%s: have %v", s.name, got)
		}
		for i := range got {
			if got[i].Contact != s.want[i] || got[i].Extension != "201" {
				t.Fatalf("%s: have %v", s.name, got)
			}
		}
	}
}

func TestExpiryAndLookup(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	tab := New(0)
	tab.Apply("201", Binding{CallID: "a", CSeq: 1}, t0, []Change{{"sip:a@h", 10 * time.Second}})
	tab.Apply("201", Binding{CallID: "b", CSeq: 1}, t0.Add(time.Second), []Change{{"sip:b@h", 60 * time.Second}})
	tab.Apply("202", Binding{CallID: "c", CSeq: 1}, t0, []Change{{"sip:c@h", 5 * time.Second}})
	if l := tab.Lookup("201", t0.Add(2*time.Second)); len(l) != 2 || l[0].Contact != "sip:b@h" {
		t.Fatalf("lookup orders by refresh: %v", l)
	}
	if l := tab.Lookup("201", t0.Add(10*time.Second)); len(l) != 1 {
		t.Fatalf("lookup hides expired: %v", l)
	}
	gone := tab.Expire(t0.Add(10 * time.Second))
	if len(gone) != 2 || gone[0].Contact != "sip:a@h" || gone[1].Contact != "sip:c@h" {
		t.Fatalf("expired %v", gone)
	}
	if tab.Len() != 1 {
		t.Fatalf("len %d", tab.Len())
	}
	if _, ok := tab.Remove("201", "sip:b@h"); !ok || tab.Len() != 0 {
		t.Fatal("remove")
	}
	if _, ok := tab.Remove("201", "sip:b@h"); ok {
		t.Fatal("removed twice")
	}
}

func BenchmarkApply(b *testing.B) {
	t0 := time.Unix(1_800_000_000, 0)
	tab := New(0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ext := fmt.Sprint(i % 1000)
		if _, _, err := tab.Apply(ext, Binding{CallID: "x", CSeq: uint32(i)}, t0, []Change{{"sip:" + ext + "@h", time.Hour}}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHasSource follows the source index through every way a binding comes
// and goes, with two extensions sharing a phone's address.
func TestHasSource(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	tab := New(5)
	a, b := Binding{Source: "10.0.0.1:5060", CallID: "a", CSeq: 1}, Binding{Source: "10.0.0.2:5060", CallID: "b", CSeq: 1}
	mustApply := func(ext string, m Binding, ch ...Change) {
		t.Helper()
		if _, _, err := tab.Apply(ext, m, t0, ch); err != nil {
			t.Fatal(err)
		}
	}
	check := func(step string, want map[string]bool) {
		t.Helper()
		for src, w := range want {
			if got := tab.HasSource(src); got != w {
				t.Errorf("%s: HasSource(%s) = %v, want %v", step, src, got, w)
			}
		}
	}
	mustApply("201", a, Change{"sip:201@10.0.0.1", time.Hour})
	mustApply("202", a, Change{"sip:202@10.0.0.1", time.Minute})
	mustApply("202", b, Change{"sip:202@10.0.0.2", time.Hour})
	check("registered", map[string]bool{"10.0.0.1:5060": true, "10.0.0.2:5060": true, "10.0.0.3:5060": false})
	tab.Expire(t0.Add(2 * time.Minute))
	check("202's first contact expired", map[string]bool{"10.0.0.1:5060": true, "10.0.0.2:5060": true})
	tab.Remove("201", "sip:201@10.0.0.1")
	check("removed", map[string]bool{"10.0.0.1:5060": false, "10.0.0.2:5060": true})
	b.CSeq = 2
	if _, err := tab.RemoveAll("202", b); err != nil {
		t.Fatal(err)
	}
	check("all removed", map[string]bool{"10.0.0.2:5060": false})
	if len(tab.sources) != 0 {
		t.Errorf("index left with %v", tab.sources)
	}
}
