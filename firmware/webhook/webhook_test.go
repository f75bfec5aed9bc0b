package webhook

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"callbox/telephony/cc/ccevent"
)

// memStore is an in-memory Store.
type memStore struct {
	mu      sync.Mutex
	journal []Entry
	subs    map[string]Subscriber
	log     []Delivery
}

func newMemStore() *memStore { return &memStore{subs: map[string]Subscriber{}} }

func (m *memStore) Append(evs []ccevent.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range evs {
		m.journal = append(m.journal, Entry{Pos: uint64(len(m.journal) + 1), Event: e})
	}
	return nil
}

func (m *memStore) After(pos uint64, limit int) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if pos >= uint64(len(m.journal)) {
		return nil, nil
	}
	out := m.journal[pos:]
	if len(out) > limit {
		out = out[:limit]
	}
	return slices.Clone(out), nil
}

func (m *memStore) Head() (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return uint64(len(m.journal)), nil
}

func (m *memStore) Subscribers() ([]Subscriber, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Subscriber
	for _, s := range m.subs {
		out = append(out, s)
	}
	return out, nil
}

func (m *memStore) PutSubscriber(s Subscriber) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subs[s.ID] = s
	return nil
}

func (m *memStore) DeleteSubscriber(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.subs, id)
	return nil
}

func (m *memStore) SetCursor(id string, pos uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[id]
	if !ok {
		return errors.New("no such subscriber")
	}
	s.Cursor = pos
	m.subs[id] = s
	return nil
}

func (m *memStore) Log(d Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log = append(m.log, d)
	return nil
}

func (m *memStore) Deliveries(id string, limit int) ([]Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Delivery
	for i := len(m.log) - 1; i >= 0 && len(out) < limit; i-- {
		if m.log[i].Subscriber == id {
			out = append(out, m.log[i])
		}
	}
	return out, nil
}

// receiver is a subscriber's HTTP server that fails every other request
// (before looking at it) and records what it accepted.
type receiver struct {
	t      *testing.T
	secret string

	mu       sync.Mutex
	requests int
	got      []ccevent.Event
	pos      []uint64
	badSig   int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.requests++
	fail := rc.requests%2 == 1
	rc.mu.Unlock()
	if fail {
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if err := Verify(rc.secret, r.Header, body, time.Now(), time.Minute); err != nil {
		rc.mu.Lock()
		rc.badSig++
		rc.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var e ccevent.Event
	if err := json.Unmarshal(body, &e); err != nil || string(e.Type) != r.Header.Get(HeaderEvent) {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	pos, _ := strconv.ParseUint(r.Header.Get(HeaderDelivery), 10, 64)
	rc.mu.Lock()
	rc.got = append(rc.got, e)
	rc.pos = append(rc.pos, pos)
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) received() ([]ccevent.Event, []uint64) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got), slices.Clone(rc.pos)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWebhooksOnceInOrderThroughFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("opens sockets")
	}
	bus := ccevent.New(0, nil)
	store := newMemStore()
	types := [][]ccevent.Type{nil, {ccevent.CallAnswered, ccevent.CallEnded}, {ccevent.AgentState}}
	var recv []*receiver
	for i, ty := range types {
		rc := &receiver{t: t, secret: fmt.Sprintf("secret-%d", i)}
		srv := httptest.NewServer(rc)
		t.Cleanup(srv.Close)
		recv = append(recv, rc)
		if err := store.PutSubscriber(Subscriber{ID: fmt.Sprint("s", i), URL: srv.URL, Secret: rc.secret, Types: ty, Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	newDispatcher := func() *Dispatcher {
		d := New(Config{Store: store, Bus: bus, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
		if err := d.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := newDispatcher()
	waitFor(t, "the journal writer", func() bool { return bus.Subscribers() == 1 })
	kinds := []ccevent.Type{ccevent.CallOffered, ccevent.CallAnswered, ccevent.AgentState, ccevent.CallEnded}
	const n = 400
	for i := range n {
		bus.Publish(ccevent.Event{Type: kinds[i%len(kinds)], Call: strconv.Itoa(i)})
		if i == n/2 {
			// The box restarts mid-stream: the new dispatcher resumes from
			// the stored cursors (the bus here outlives it, as its ring
			// would in a restart of the service alone).
			waitFor(t, "some deliveries", func() bool { ev, _ := recv[0].received(); return len(ev) > 20 })
			d.Close()
			d = newDispatcher()
		}
	}
	defer d.Close()
	for i, rc := range recv {
		want := 0
		for k := range n {
			sub := Subscriber{Types: types[i]}
			if sub.Wants(kinds[k%len(kinds)]) {
				want++
			}
		}
		waitFor(t, fmt.Sprintf("subscriber %d's %d events", i, want), func() bool { ev, _ := rc.received(); return len(ev) >= want })
		time.Sleep(20 * time.Millisecond)
		ev, pos := rc.received()
		// In order, each once: the calls a subscriber got are increasing.
		last := -1
		for k, e := range ev {
			c, _ := strconv.Atoi(e.Call)
			if c <= last {
				t.Fatalf("subscriber %d: event %d (call %s, pos %d) after call %d: duplicate or out of order", i, k, e.Call, pos[k], last)
			}
			if !(&Subscriber{Types: types[i]}).Wants(e.Type) {
				t.Errorf("subscriber %d got a %s", i, e.Type)
			}
			last = c
		}
		if len(ev) != want || rc.badSig != 0 {
			t.Errorf("subscriber %d: %d events, want %d; %d bad signatures", i, len(ev), want, rc.badSig)
		}
		t.Logf("subscriber %d (types %v): %d events once and in order in %d requests, half refused, a restart midway", i, types[i], len(ev), rc.requests)
	}
	if st := d.Status(); st["s0"].Pending != 0 {
		t.Errorf("status %+v", st)
	}
	if log, _ := store.Deliveries("s1", 4); len(log) != 4 || log[0].Time.Before(log[3].Time) {
		t.Errorf("delivery log: %+v", log)
	}
}

func TestSignature(t *testing.T) {
	body := []byte(`{"type":"call.answered"}`)
	now := time.Unix(1_800_000_000, 0)
	h := http.Header{}
	h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(HeaderSignature, Sign("k", now.Unix(), body))
	if err := Verify("k", h, body, now, time.Minute); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		secret string
		body   string
		now    time.Time
	}{
		"other secret":   {"j", string(body), now},
		"changed body":   {"k", `{"type":"call.ended"}`, now},
		"replayed later": {"k", string(body), now.Add(10 * time.Minute)},
	} {
		if err := Verify(c.secret, h, []byte(c.body), c.now, time.Minute); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	for _, u := range []string{"ftp://x/y", "http://", "https://user:pw@host/", "::"} {
		if CheckURL(u) == nil {
			t.Errorf("url %q accepted", u)
		}
	}
}

// streamClient connects, says hello and reads lines.
func streamClient(t *testing.T, addr string, hello string) (*bufio.Scanner, net.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, hello+"\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	return bufio.NewScanner(c), c
}

func TestStreamResume(t *testing.T) {
	if testing.Short() {
		t.Skip("opens sockets")
	}
	store := newMemStore()
	d := New(Config{Store: store})
	if err := d.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s, err := d.ListenStream(t.Context(), "127.0.0.1:0", func(tok string) error {
		if tok != "good" {
			return errors.New("no")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr := s.Addr().String()

	sc, _ := streamClient(t, addr, `{"token":"bad"}`)
	if !sc.Scan() || sc.Text() != `{"error":"token refused","ok":false}` || sc.Scan() {
		t.Fatalf("bad token: %q", sc.Text())
	}
	sc, _ = streamClient(t, addr, "not json")
	if !sc.Scan() || sc.Scan() {
		t.Fatal("garbage kept the connection")
	}

	_ = d.Publish(ccevent.Event{Type: ccevent.CallOffered, Call: "old"})
	sc, c := streamClient(t, addr, `{"token":"good","types":["call.answered"]}`)
	if !sc.Scan() || sc.Text() != `{"head":1,"ok":true}` {
		t.Fatalf("hello answer %q", sc.Text())
	}
	for i := range 10 {
		ty := ccevent.CallAnswered
		if i%2 == 1 {
			ty = ccevent.CallEnded
		}
		_ = d.Publish(ccevent.Event{Type: ty, Call: strconv.Itoa(i)})
	}
	var last Entry
	for range 3 {
		if !sc.Scan() {
			t.Fatal(sc.Err())
		}
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil || last.Event.Type != ccevent.CallAnswered {
			t.Fatalf("line %q", sc.Text())
		}
	}
	c.Close() // the receiver restarts
	sc, _ = streamClient(t, addr, fmt.Sprintf(`{"token":"good","after":%d}`, last.Pos))
	sc.Scan()
	var calls []string
	for len(calls) < 10-int(last.Pos)+1 {
		if !sc.Scan() {
			t.Fatal(sc.Err())
		}
		var e Entry
		_ = json.Unmarshal(sc.Bytes(), &e)
		calls = append(calls, e.Event.Call)
	}
	want := []string{}
	for i := int(last.Pos) - 1; i < 10; i++ {
		want = append(want, strconv.Itoa(i))
	}
	if !slices.Equal(calls, want) {
		t.Errorf("resumed with %v, want %v", calls, want)
	}
}
