package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"callbox/telephony/cc"
)

// The agents' sipp message log: each INVITE to an agent is timed from the
// moment its caller became routable (queued, or the agent turning idle
// later); responses, other requests and unknown callers are not samples.
func TestDispatchLatency(t *testing.T) {
	log := "----------------------------------------------- 2026-12-07\t16:30:10.250000\n" +
		"UDP message received [500] bytes :\n\nINVITE sip:1001@127.0.0.2:5070 SIP/2.0\r\n" +
		"From: \"x\" <sip:13900000001@127.0.0.1>;tag=a\r\nTo: <sip:1001@127.0.0.2>\r\n\r\n" +
		"----------------------------------------------- 2026-12-07\t16:30:10.300000\n" +
		"UDP message sent (300 bytes):\n\nSIP/2.0 180 Ringing\r\nFrom: <sip:13900000001@127.0.0.1>;tag=a\r\n\r\n" +
		"----------------------------------------------- 2026-12-07\t16:30:12.020000\n" +
		"UDP message received [500] bytes :\n\nINVITE sip:1002@127.0.0.2:5070 SIP/2.0\r\n" +
		"f: <sip:13800000007@127.0.0.1>;tag=b\r\n\r\n" +
		"----------------------------------------------- 2026-12-07\t16:30:13.000000\n" +
		"UDP message received [500] bytes :\n\nINVITE sip:1003@127.0.0.2:5070 SIP/2.0\r\n" +
		"From: <sip:13999999999@127.0.0.1>;tag=c\r\n\r\n"
	path := filepath.Join(t.TempDir(), "msg.log")
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("15:04:05.000", s, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		return time.Date(2026, 12, 7, v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.Local)
	}
	rec := &recorder{queued: map[string]time.Time{"13900000001": at("16:30:10.240"), "13800000007": at("16:30:05.000")},
		idle: map[string][]time.Time{"1002": {at("16:30:01.000"), at("16:30:12.000"), at("16:30:14.000")}}}
	stream, surge, unmatched, err := dispatchLatency(path, rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(stream) != 1 || stream[0] != 10*time.Millisecond {
		t.Errorf("stream samples %v, want [10ms]", stream)
	}
	if len(surge) != 1 || surge[0] != 20*time.Millisecond {
		t.Errorf("surge samples %v, want [20ms] (from 1002 turning idle)", surge)
	}
	if unmatched != 1 {
		t.Errorf("%d unmatched INVITEs, want 1", unmatched)
	}
}

// The box's figures from fact rows: the simulator's service level
// (answered in the threshold over offered), ASA over answered calls, and
// the box's own formula (short abandons and those within the threshold
// left out).
func TestFromFacts(t *testing.T) {
	facts := []cc.Fact{
		{Disposition: "answered", WaitSeconds: 2},
		{Disposition: "answered", WaitSeconds: 30},
		{Disposition: "abandoned", WaitSeconds: 3},
		{Disposition: "abandoned", WaitSeconds: 25},
	}
	f := fromFacts(facts, 20*time.Second)
	if f.offered != 4 || f.answered != 2 || f.abandoned != 2 {
		t.Fatalf("counts %+v", f)
	}
	if f.sl != 0.25 || f.asa != 16*time.Second || f.boxSL != 1.0/3 {
		t.Fatalf("SL %v, ASA %v, box SL %v; want 0.25, 16s, 1/3", f.sl, f.asa, f.boxSL)
	}
}

// The audit pairs each row with its caller: gave up with abandoned,
// talked with answered; anything else is a mismatch named by both sides.
// Rows of callers the driver did not place are not counted.
func TestAuditFacts(t *testing.T) {
	callers := map[string]caller{
		"1": {patience: 30 * time.Second, outcome: outGaveUp},
		"2": {patience: 12 * time.Second, outcome: outGaveUp},
		"3": {patience: time.Minute, outcome: outTalked},
		"4": {patience: 5 * time.Second, outcome: outGaveUp},
	}
	facts := []cc.Fact{
		{Number: "1", Disposition: "abandoned", WaitSeconds: 29.99},
		{Number: "2", Disposition: "abandoned", WaitSeconds: 11.9, Rings: []cc.FactRing{{Agent: "1001", Result: "caller gone"}}},
		{Number: "3", Disposition: "answered", WaitSeconds: 3},
		{Number: "4", Disposition: "answered", WaitSeconds: 4.9},
		{Number: "9", Disposition: "answered"},
	}
	a := auditFacts(facts, callers)
	if a.rows != 4 || a.agree != 3 || a.ringingGone != 1 || len(a.mismatch) != 1 || a.mismatch["gave up -> answered"] != 1 {
		t.Fatalf("audit %+v", a)
	}
	if len(a.patienceGap) != 2 || a.patienceGap[0] != 10*time.Millisecond || a.patienceGap[1] != 100*time.Millisecond {
		t.Fatalf("patience gaps %v", a.patienceGap)
	}
}

// The SSE clients read an event's time without decoding it; the share of
// simulator runs with at least n abandons counts the runs at n.
func TestEventTimeAndShare(t *testing.T) {
	at, ok := eventTime(`{"id":"x-1","seq":1,"time":"2026-12-07T19:40:01.123456789Z","type":"notice","detail":{"time":"no"}}`)
	if !ok || !at.Equal(time.Date(2026, 12, 7, 19, 40, 1, 123456789, time.UTC)) {
		t.Fatalf("eventTime = %v %v", at, ok)
	}
	if _, ok := eventTime(`{"type":"heartbeat"}`); ok {
		t.Fatal("a time from an event without one")
	}
	f := simFigures{abandons: []int{30, 40, 44, 44, 55, 60}}
	for n, want := range map[int]float64{44: 4.0 / 6, 55: 2.0 / 6, 61: 0, 0: 1} {
		if got := f.atLeast(n); got != want {
			t.Errorf("atLeast(%d) = %v, want %v", n, got, want)
		}
	}
}

// TestDeskPageRefetches: a bench desk refetches its part (GET /desk with
// X-Desk-Part, as desk.js) on the events its page reacts to (its agent's,
// and config.changed for everyone) and not on others', timing each event
// it answers.
func TestDeskPageRefetches(t *testing.T) {
	if testing.Short() {
		t.Skip("opens a socket")
	}
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path+" "+r.Header.Get("X-Desk-Part"))
		mu.Unlock()
		_, _ = io.WriteString(w, "<h1>desk</h1>")
	}))
	defer srv.Close()
	s := &sseClients{}
	d := newDeskPage(s, &webClient{base: srv.URL, c: srv.Client()}, "1001")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.run(ctx)
	}()
	now := time.Now()
	fetches := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.fetches
	}
	for _, e := range []struct {
		typ, data string
		fetch     bool
	}{
		{"agent.state", `{"type":"agent.state","agent":"1002","state":"idle"}`, false},
		{"call.queued", `{"type":"call.queued","call":"c1","group":1}`, false},
		{"call.ringing", `{"type":"call.ringing","call":"c1","agent":"1001"}`, true},
		{"config.changed", `{"type":"config.changed","actor":"root"}`, true},
		{"survey.answered", `{"type":"survey.answered","agent":"1001"}`, false},
	} {
		before := fetches()
		d.heard(e.typ, e.data, now)
		if e.fetch {
			for end := time.Now().Add(30 * time.Second); fetches() == before; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(end) {
					t.Fatalf("%s: no refetch", e.typ)
				}
			}
		} else {
			d.mu.Lock()
			n := len(d.pending)
			d.mu.Unlock()
			if n != 0 {
				t.Fatalf("%s: a refetch for an event the page ignores", e.typ)
			}
		}
	}
	cancel()
	<-done
	refreshed, n, failed := s.refreshes()
	mu.Lock()
	defer mu.Unlock()
	if n != 2 || failed != 0 || len(refreshed) != 2 || len(got) != 2 || got[0] != "/desk 1" {
		t.Fatalf("fetches %d (failed %d), timed %d, requests %q", n, failed, len(refreshed), got)
	}
}
