package ccevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"
)

func drain(t *testing.T, s *Sub, n int) []Event {
	t.Helper()
	var out []Event
	for len(out) < n {
		select {
		case e, ok := <-s.C():
			if !ok {
				t.Fatalf("channel closed after %d of %d events", len(out), n)
			}
			out = append(out, e)
		case <-time.After(time.Second):
			t.Fatalf("got %d of %d events", len(out), n)
		}
	}
	return out
}

func TestPublishOrderAndIDs(t *testing.T) {
	b := New(8, nil)
	if b.Last() != "" {
		t.Fatalf("Last before any event = %q", b.Last())
	}
	s, err := b.Subscribe("", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		b.Publish(Event{Type: AgentState, Agent: strconv.Itoa(1000 + i)})
	}
	got := drain(t, s, 5)
	for i, e := range got {
		if e.Seq != uint64(i+1) || e.ID != b.Epoch()+"-"+strconv.Itoa(i+1) || e.Time.IsZero() {
			t.Errorf("event %d: seq %d id %q time %v", i, e.Seq, e.ID, e.Time)
		}
		if e.Agent != strconv.Itoa(1001+i) {
			t.Errorf("event %d out of order: agent %s", i, e.Agent)
		}
	}
	if b.Last() != got[4].ID {
		t.Errorf("Last = %q, want %q", b.Last(), got[4].ID)
	}
}

func TestResume(t *testing.T) {
	// Each case gets a bus with six events published and a ring of four
	// (seqs 3..6, calls 2..5 kept); after picks the resume id.
	cases := []struct {
		name      string
		after     func(b *Bus, ids []string) string
		wantReset bool
		wantCalls []string
	}{
		{"from the last", func(_ *Bus, ids []string) string { return ids[5] }, false, nil},
		{"two missed", func(_ *Bus, ids []string) string { return ids[3] }, false, []string{"4", "5"}},
		{"oldest in ring", func(_ *Bus, ids []string) string { return ids[1] }, false, []string{"2", "3", "4", "5"}},
		{"older than ring", func(_ *Bus, ids []string) string { return ids[0] }, true, nil},
		{"another boot", func(*Bus, []string) string { return "zzz-3" }, true, nil},
		{"from the future", func(b *Bus, _ []string) string { return b.Epoch() + "-99" }, true, nil},
		{"no id", func(*Bus, []string) string { return "" }, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := New(4, nil)
			var ids []string
			for i := 0; i < 6; i++ {
				ids = append(ids, b.Publish(Event{Type: CallQueued, Call: strconv.Itoa(i)}).ID)
			}
			s, err := b.Subscribe(c.after(b, ids), 0)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Unsubscribe(s)
			n := len(c.wantCalls)
			if c.wantReset {
				n++
			}
			got := drain(t, s, n)
			if c.wantReset {
				if got[0].Type != Reset || got[0].ID != ids[5] {
					t.Fatalf("first event %+v, want a reset at %s", got[0], ids[5])
				}
				got = got[1:]
			}
			for i, e := range got {
				if e.Call != c.wantCalls[i] {
					t.Errorf("event %d is call %s, want %s", i, e.Call, c.wantCalls[i])
				}
			}
			select {
			case e := <-s.C():
				t.Errorf("unexpected extra event %+v", e)
			default:
			}
			// New events follow the backlog.
			e := b.Publish(Event{Type: CallAnswered})
			if g := drain(t, s, 1)[0]; g.ID != e.ID {
				t.Errorf("after backlog got %s, want %s", g.ID, e.ID)
			}
		})
	}
}

func TestBadID(t *testing.T) {
	b := New(4, nil)
	for _, id := range []string{"nodash", "-4", "abc-", "abc-x", "abc--1"} {
		if _, err := b.Subscribe(id, 0); !errors.Is(err, ErrBadID) {
			t.Errorf("Subscribe(%q) = %v, want ErrBadID", id, err)
		}
	}
}

func TestSlowReaderDroppedAndResumes(t *testing.T) {
	b := New(64, nil)
	fast, _ := b.Subscribe("", 100)
	slow, _ := b.Subscribe("", 2)
	var last string
	for i := 0; i < 10; i++ {
		last = b.Publish(Event{Type: CallRinging, Call: strconv.Itoa(i)}).ID
	}
	if !slow.Dropped() || fast.Dropped() {
		t.Fatalf("dropped: slow %v fast %v", slow.Dropped(), fast.Dropped())
	}
	got := []Event{}
	for e := range slow.C() { // closed after what fitted
		got = append(got, e)
	}
	if len(got) != 2 {
		t.Fatalf("slow reader got %d events before the drop, want 2", len(got))
	}
	// It resumes from the last one it saw and misses nothing.
	again, err := b.Subscribe(got[1].ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	rest := drain(t, again, 8)
	if rest[0].Call != "2" || rest[7].ID != last {
		t.Errorf("resumed from call %s to %s, want 2 to %s", rest[0].Call, rest[7].ID, last)
	}
	if n := len(drain(t, fast, 10)); n != 10 {
		t.Errorf("fast reader got %d", n)
	}
	if b.Subscribers() != 2 {
		t.Errorf("subscribers = %d, want 2 (fast and the resumed one)", b.Subscribers())
	}
	b.Unsubscribe(again)
	b.Unsubscribe(again) // twice is fine
	b.Unsubscribe(slow)  // after a drop is fine
}

func TestConcurrentPublishers(t *testing.T) {
	b := New(1024, nil)
	s, _ := b.Subscribe("", 1024)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				b.Publish(Event{Type: Notice})
			}
		}()
	}
	wg.Wait()
	got := drain(t, s, 800)
	for i, e := range got {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: out of order", i, e.Seq)
		}
	}
}

// BenchmarkPublish50 is publishing with 50 desks subscribed, each reading.
func BenchmarkPublish50(b *testing.B) {
	bus := New(DefaultRing, nil)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		s, _ := bus.Subscribe("", 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range s.C() {
			}
		}()
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		bus.Publish(Event{Type: AgentState, Agent: "1088", State: "idle"})
	}
	b.StopTimer()
	for s := range bus.subs {
		bus.Unsubscribe(s)
	}
	wg.Wait()
}

// TestJSONEncodedOnce: every reader of a published event, and a resume
// from the ring, gets the same bytes, encoded once; they are the event's
// JSON. An event that never went through the bus is encoded on its own.
func TestJSONEncodedOnce(t *testing.T) {
	b := New(8, nil)
	s1, _ := b.Subscribe("", 0)
	s2, _ := b.Subscribe("", 0)
	pub := b.Publish(Event{Type: CallRinging, Call: "c1", Agent: "1001", Detail: map[string]string{"k": "v"}})
	e1, e2 := drain(t, s1, 1)[0], drain(t, s2, 1)[0]
	j1, err1 := e1.JSON()
	j2, err2 := e2.JSON()
	if err1 != nil || err2 != nil || &j1[0] != &j2[0] {
		t.Fatalf("two readers got two encodings (%v %v)", err1, err2)
	}
	s3, _ := b.Subscribe(b.Epoch()+"-0", 0)
	if j3, _ := drain(t, s3, 1)[0].JSON(); &j3[0] != &j1[0] {
		t.Fatal("a resumed reader's event was encoded again")
	}
	want, _ := json.Marshal(pub)
	if !bytes.Equal(j1, want) {
		t.Fatalf("JSON %s, want %s", j1, want)
	}
	var back Event
	if err := json.Unmarshal(j1, &back); err != nil || back.ID != pub.ID || back.Detail["k"] != "v" {
		t.Fatalf("JSON does not read back: %+v %v", back, err)
	}
	if j, err := (Event{Type: Notice, Reason: "x"}).JSON(); err != nil || !bytes.Contains(j, []byte(`"reason":"x"`)) {
		t.Fatalf("an event off the bus: %s %v", j, err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = e1.JSON() }); n != 0 {
		t.Fatalf("JSON of an encoded event allocates %v times", n)
	}
}
