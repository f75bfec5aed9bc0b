package webui

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callbox/telephony/cc/ccevent"
)

// busEvents serves a real ccevent.Bus to the tests as firmware/app does.
type busEvents struct{ b *ccevent.Bus }

type busStream struct {
	b   *ccevent.Bus
	sub *ccevent.Sub
}

func (be busEvents) Subscribe(after string) (EventStream, error) {
	sub, err := be.b.Subscribe(after, 0)
	if errors.Is(err, ccevent.ErrBadID) {
		return nil, fmt.Errorf("%w: %w", ErrBadEventID, err)
	}
	if err != nil {
		return nil, err
	}
	return busStream{be.b, sub}, nil
}

func (be busEvents) Last() (string, bool) { return be.b.Last(), true }

func (bs busStream) Next(ctx context.Context) (LiveEvent, bool) {
	var e ccevent.Event
	var ok bool
	select {
	case e, ok = <-bs.sub.C():
	default:
		select {
		case e, ok = <-bs.sub.C():
		case <-ctx.Done():
			return LiveEvent{}, false
		}
	}
	if !ok {
		return LiveEvent{}, false
	}
	data, err := e.JSON()
	if err != nil {
		return LiveEvent{}, false
	}
	return LiveEvent{ID: e.ID, Type: string(e.Type), Agent: e.Agent, Data: data}, true
}

func (bs busStream) Close() { bs.b.Unsubscribe(bs.sub) }

// sseEvent is one event as a test client reads it.
type sseEvent struct {
	id, typ, data string
	at            time.Time
}

// sseClient reads a stream as EventSource would.
type sseClient struct {
	resp *http.Response
	c    chan sseEvent
	done chan struct{}
}

// openStream opens GET /api/v1/events at srv with the session cookies of
// c and reads it on a goroutine until the stream ends or the test does.
func openStream(t testing.TB, srv string, c *client, lastID string) (*sseClient, int) {
	t.Helper()
	return openStreamURL(t, srv+"/api/v1/events", c, lastID)
}

// openStreamURL is openStream at a URL of the stream's own (a view).
func openStreamURL(t testing.TB, url string, c *client, lastID string) (*sseClient, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for _, ck := range c.jar.Cookies(base) {
		req.AddCookie(ck)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, resp.StatusCode
	}
	sc := &sseClient{resp: resp, c: make(chan sseEvent, 4096), done: make(chan struct{})}
	go func() {
		defer close(sc.done)
		defer close(sc.c)
		br := bufio.NewReader(resp.Body)
		var ev sseEvent
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				if ev.typ != "" {
					ev.at = time.Now()
					sc.c <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.typ = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data += line[6:]
			}
		}
	}()
	t.Cleanup(sc.close)
	return sc, http.StatusOK
}

func (sc *sseClient) close() {
	sc.resp.Body.Close()
	<-sc.done
}

// next returns the next event that is not a heartbeat.
func (sc *sseClient) next(t testing.TB, within time.Duration) sseEvent {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case e, ok := <-sc.c:
			if !ok {
				t.Fatal("stream ended")
			}
			if e.typ != "heartbeat" {
				return e
			}
		case <-timeout:
			t.Fatalf("no event within %v", within)
		}
	}
}

// quiet checks no event but heartbeats arrives for a while.
func (sc *sseClient) quiet(t testing.TB, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e, ok := <-sc.c:
			if ok && e.typ != "heartbeat" {
				t.Fatalf("unexpected event %+v", e)
			}
		case <-timeout:
			return
		}
	}
}

// eventsEnv is a server on a real socket with a bus and users of each role.
type eventsEnv struct {
	*env
	bus *ccevent.Bus
	url string
}

func newEventsEnv(t testing.TB, cfg Config) *eventsEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("opens sockets")
	}
	bus := ccevent.New(64, nil)
	cfg.Events = busEvents{bus}
	e := newEnv(t, cfg)
	e.s.now = time.Now
	srv := httptest.NewServer(e.s.Handler())
	t.Cleanup(srv.Close)
	return &eventsEnv{env: e, bus: bus, url: srv.URL}
}

func (ee *eventsEnv) user(t testing.TB, login, role, agent string, perms map[string]bool) *client {
	t.Helper()
	ee.users.add(t, login, role, login+"-password")
	u, _ := ee.users.Get(context.Background(), login)
	u.Agent, u.Permissions = agent, perms
	if err := ee.users.Update(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	c := ee.client(t)
	c.login(login, login+"-password")
	return c
}

// TestEventsRoleFilter: an agent sees its own calls and every agent's
// state; a supervisor sees everything; a supervisor whose queue monitor
// (and queue control, which includes it) the admin revoked sees what an
// agent sees.
func TestEventsRoleFilter(t *testing.T) {
	ee := newEventsEnv(t, Config{})
	ann := ee.user(t, "ann", RoleAgent, "1001", nil)
	sue := ee.user(t, "sue", RoleSupervisor, "", nil)
	sam := ee.user(t, "sam", RoleSupervisor, "2001", map[string]bool{"queue.monitor": false, "queue.control": false})
	streams := map[string]*sseClient{}
	for name, c := range map[string]*client{"ann": ann, "sue": sue, "sam": sam} {
		streams[name], _ = openStream(t, ee.url, c, "")
	}
	waitFor(t, func() bool { return ee.bus.Subscribers() == 3 })
	published := []ccevent.Event{
		{Type: ccevent.CallQueued, Call: "c1", Group: 1, Number: "13800138000"},
		{Type: ccevent.CallRinging, Call: "c1", Agent: "1002", Number: "13800138000"},
		{Type: ccevent.AgentState, Agent: "1002", State: "ringing"},
		{Type: ccevent.CallRinging, Call: "c2", Agent: "1001", Number: "02512345678"},
		{Type: ccevent.Notice, Agent: "1001", Reason: "no answer"},
		{Type: ccevent.ConfigChanged, Actor: "root"},
		{Type: ccevent.CallAnswered, Call: "c3", Agent: "2001"},
	}
	for _, e := range published {
		ee.bus.Publish(e)
	}
	want := map[string][]string{
		"sue": {"call.queued", "call.ringing", "agent.state", "call.ringing", "notice", "config.changed", "call.answered"},
		"ann": {"agent.state", "call.ringing", "notice", "config.changed"},
		"sam": {"agent.state", "config.changed", "call.answered"},
	}
	for name, types := range want {
		var got []string
		for range types {
			e := streams[name].next(t, 5*time.Second)
			got = append(got, e.typ)
			var be ccevent.Event
			if err := json.Unmarshal([]byte(e.data), &be); err != nil || be.ID != e.id || string(be.Type) != e.typ {
				t.Errorf("%s: event %+v does not carry its JSON: %v", name, e, err)
			}
		}
		if !slices.Equal(got, types) {
			t.Errorf("%s saw %v, want %v", name, got, types)
		}
	}
	streams["ann"].quiet(t, 200*time.Millisecond)
}

// TestEventsResume: a client that comes back with Last-Event-ID gets what
// it missed, one with an id the ring no longer has gets a reset, a
// malformed id is refused.
func TestEventsResume(t *testing.T) {
	ee := newEventsEnv(t, Config{})
	sue := ee.user(t, "sue", RoleSupervisor, "", nil)
	var ids []string
	for i := range 10 {
		ids = append(ids, ee.bus.Publish(ccevent.Event{Type: ccevent.CallQueued, Call: fmt.Sprint(i)}).ID)
	}
	s, _ := openStream(t, ee.url, sue, ids[6])
	for _, want := range ids[7:] {
		if e := s.next(t, 5*time.Second); e.id != want {
			t.Fatalf("resumed with %s, want %s", e.id, want)
		}
	}
	for range 70 { // past the ring of 64
		ee.bus.Publish(ccevent.Event{Type: ccevent.CallQueued})
	}
	s.close()
	old, _ := openStream(t, ee.url, sue, ids[0])
	if e := old.next(t, 5*time.Second); e.typ != EventReset {
		t.Fatalf("resume from an id past the ring gave %+v, want a reset", e)
	}
	other, _ := openStream(t, ee.url, sue, "otherboot-3")
	if e := other.next(t, 5*time.Second); e.typ != EventReset {
		t.Fatalf("resume from another boot gave %+v, want a reset", e)
	}
	if _, st := openStream(t, ee.url, sue, "nonsense"); st != http.StatusBadRequest {
		t.Fatalf("malformed id: %d", st)
	}
}

// TestEventsOutliveServerTimeouts: a stream on a server whose read and
// write timeouts are short keeps delivering long after them. Before the
// stream cleared its deadlines, the server cut it at the first timeout.
func TestEventsOutliveServerTimeouts(t *testing.T) {
	if testing.Short() {
		t.Skip("opens sockets")
	}
	bus := ccevent.New(64, nil)
	e := newEnv(t, Config{Events: busEvents{bus}, Heartbeat: time.Hour})
	e.s.now = time.Now
	srv := httptest.NewUnstartedServer(e.s.Handler())
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close) // after the stream's cleanup
	e.users.add(t, "sue", RoleSupervisor, "sue-password")
	c := e.client(t)
	c.login("sue", "sue-password")
	s, st := openStream(t, srv.URL, c, "")
	if st != http.StatusOK {
		t.Fatalf("open: %d", st)
	}
	waitFor(t, func() bool { return bus.Subscribers() == 1 })
	for i := range 3 {
		time.Sleep(400 * time.Millisecond)
		sent := bus.Publish(ccevent.Event{Type: ccevent.CallQueued, Call: fmt.Sprint(i)})
		if got := s.next(t, 5*time.Second); got.id != sent.ID {
			t.Fatalf("after %d00 ms got %+v, want %s", (i+1)*4, got, sent.ID)
		}
	}
}

// TestEventsHeartbeatAndLogout: an idle stream sends heartbeats carrying
// the last id it passed (filtered ones included), and ends with "logout"
// once the session is gone.
func TestEventsHeartbeatAndLogout(t *testing.T) {
	ee := newEventsEnv(t, Config{Heartbeat: 100 * time.Millisecond})
	ann := ee.user(t, "ann", RoleAgent, "1001", nil)
	s, _ := openStream(t, ee.url, ann, "")
	waitFor(t, func() bool { return ee.bus.Subscribers() == 1 })
	hidden := ee.bus.Publish(ccevent.Event{Type: ccevent.CallQueued, Call: "x"}) // not ann's
	deadline := time.After(5 * time.Second)
	for found := false; !found; {
		select {
		case e := <-s.c:
			if e.typ != "heartbeat" {
				t.Fatalf("ann got %+v", e)
			}
			found = e.id == hidden.ID
		case <-deadline:
			t.Fatal("no heartbeat with the last id")
		}
	}
	st, m := ann.api(http.MethodPost, "/api/v1/logout", nil)
	wantStatus(t, "logout", st, http.StatusOK, m)
	s.waitLogout(t)
}

// waitLogout waits (30 s at most) for the stream's logout event, only
// heartbeats before it, and then for the stream's end.
func (sc *sseClient) waitLogout(t testing.TB) {
	t.Helper()
	for {
		select {
		case e, ok := <-sc.c:
			if !ok {
				t.Fatal("stream ended without a logout event")
			}
			if e.typ == "heartbeat" {
				continue
			}
			if e.typ != "logout" {
				t.Fatalf("got %+v, want logout", e)
			}
			select {
			case _, ok := <-sc.c:
				if ok {
					t.Fatal("stream goes on after logout")
				}
			case <-time.After(30 * time.Second):
				t.Fatal("stream not closed after logout")
			}
			return
		case <-time.After(30 * time.Second):
			t.Fatal("no logout event within 30 s")
		}
	}
}

// TestEvents50Clients: fifty desks open at once each get every event in
// order; the test logs the latency from Publish to the client's read.
func TestEvents50Clients(t *testing.T) {
	ee := newEventsEnv(t, Config{})
	const clients, events = 50, 200
	sue := ee.user(t, "sue", RoleSupervisor, "", nil)
	var streams []*sseClient
	for range clients {
		s, st := openStream(t, ee.url, sue, "")
		if st != http.StatusOK {
			t.Fatalf("open: %d", st)
		}
		streams = append(streams, s)
	}
	waitFor(t, func() bool { return ee.bus.Subscribers() == clients })
	if n := ee.s.Streams(); n != clients {
		t.Errorf("Streams() = %d", n)
	}
	sent := make([]time.Time, events)
	go func() {
		for i := range events {
			sent[i] = time.Now()
			ee.bus.Publish(ccevent.Event{Type: ccevent.AgentState, Agent: "1001", State: fmt.Sprint(i)})
			time.Sleep(2 * time.Millisecond)
		}
	}()
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for _, s := range streams {
		wg.Go(func() {
			for i := range events {
				e := s.next(t, 10*time.Second)
				var be ccevent.Event
				if json.Unmarshal([]byte(e.data), &be) != nil || be.State != fmt.Sprint(i) {
					t.Errorf("event %d out of order: %s", i, e.data)
					return
				}
				mu.Lock()
				lat = append(lat, e.at.Sub(be.Time))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(lat)
	if len(lat) == clients*events {
		t.Logf("event latency Publish to client over %d clients x %d events: p50 %v, p99 %v, max %v",
			clients, events, lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
	}
	for _, s := range streams {
		s.close()
	}
	waitFor(t, func() bool { return ee.s.Streams() == 0 && ee.bus.Subscribers() == 0 })
}

// waitFor polls cond for up to five seconds.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	// Readiness, not speed: a headless browser under -race on a loaded
	// 2-core machine took over 5 s to subscribe.
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkEventsFanout measures the stream's fan-out: one op is one event
// published on the bus and delivered to every one of 50 supervisors'
// streams over real sockets (the clients only count frames). ns/event/client
// is the cost of one delivery, allocs/op what one event costs the process
// across all 50 streams. The publisher keeps at most 64 events ahead of the
// slowest client, under the subscribers' buffer, so nobody is dropped.
func BenchmarkEventsFanout(b *testing.B) {
	const clients, ahead = 50, 64
	ee := newEventsEnv(b, Config{})
	bus := ccevent.New(0, nil)
	ee.s.cfg.Events = busEvents{bus}
	sue := ee.user(b, "sue", RoleSupervisor, "", nil)
	got := make([]atomic.Int64, clients)
	var wg sync.WaitGroup
	var bodies []io.Closer
	for i := range clients {
		req, _ := http.NewRequest(http.MethodGet, ee.url+"/api/v1/events", nil)
		for _, ck := range sue.jar.Cookies(base) {
			req.AddCookie(ck)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("open: %v %v", err, resp)
		}
		bodies = append(bodies, resp.Body)
		wg.Go(func() {
			// Frames end with an empty line; the first is the retry field.
			buf := make([]byte, 64<<10)
			var last byte
			for {
				n, err := resp.Body.Read(buf)
				for _, c := range buf[:n] {
					if c == '\n' && last == '\n' {
						got[i].Add(1)
					}
					last = c
				}
				if err != nil {
					return
				}
			}
		})
	}
	waitFor(b, func() bool { return bus.Subscribers() == clients })
	slowest := func() int64 {
		m := got[0].Load()
		for i := range got {
			m = min(m, got[i].Load())
		}
		return m - 1 // the retry frame
	}
	e := ccevent.Event{Type: ccevent.CallRinging, Call: "20261207-1a2b3c-17", Agent: "1001", Group: 1,
		Number: "13800138000", Device: "sip:1001"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		for int64(i)-slowest() >= ahead {
			time.Sleep(20 * time.Microsecond)
		}
		bus.Publish(e)
	}
	for slowest() < int64(b.N) {
		time.Sleep(20 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/clients, "ns/event/client")
	for _, c := range bodies {
		c.Close()
	}
	wg.Wait()
}

// TestEventsSlowClientAlone: a client that stops reading does not hold
// back the others: a supervisor's stream gets every one of 3000 large
// events, in order, while another connection takes none; the bus drops the
// stuck one once it is a buffer behind, its stream ends when it reads
// again, and its resume from the last id it got is a reset (the ring has
// moved on), so its page reloads.
func TestEventsSlowClientAlone(t *testing.T) {
	ee := newEventsEnv(t, Config{})
	sue := ee.user(t, "sue", RoleSupervisor, "", nil)
	fast, _ := openStream(t, ee.url, sue, "")
	conn, err := net.Dial("tcp", strings.TrimPrefix(ee.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(256 << 10) // above loopback's segment size, or the window reopens only on probes
	var cookies []string
	for _, ck := range sue.jar.Cookies(base) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	if _, err := fmt.Fprintf(conn, "GET /api/v1/events HTTP/1.1\r\nHost: callbox.test\r\nCookie: %s\r\n\r\n",
		strings.Join(cookies, "; ")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return ee.bus.Subscribers() == 2 })
	pad := strings.Repeat("x", 4000)
	const events = 3000
	for i := range events {
		ee.bus.Publish(ccevent.Event{Type: ccevent.AgentState, Agent: "1001", State: strconv.Itoa(i),
			Detail: map[string]string{"pad": pad}})
		e := fast.next(t, 30*time.Second)
		var be ccevent.Event
		if json.Unmarshal([]byte(e.data), &be) != nil || be.State != strconv.Itoa(i) {
			t.Fatalf("event %d: the reading client got %.80s", i, e.data)
		}
	}
	if n := ee.bus.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers after 3000 events: the stuck client was not dropped", n)
	}
	// The stuck client reads again: it gets what was written, then its
	// stream ends.
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(conn)
		got <- b
	}()
	for end := time.Now().Add(30 * time.Second); ee.s.Streams() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the stuck client's stream did not end when it read again")
		}
	}
	conn.Close()
	b := <-got
	i := bytes.LastIndex(b, []byte("\nid: "))
	if i < 0 {
		t.Fatal("the stuck client got no event")
	}
	lastID, _, _ := strings.Cut(string(b[i+5:]), "\n")
	if n := strings.Count(string(b), "\nevent: agent.state\n"); n >= events {
		t.Fatalf("the stuck client got all %d events", n)
	}
	again, _ := openStream(t, ee.url, sue, lastID)
	if e := again.next(t, 10*time.Second); e.typ != EventReset {
		t.Fatalf("the stuck client's resume from %s began with %+v, want a reset", lastID, e)
	}
}
