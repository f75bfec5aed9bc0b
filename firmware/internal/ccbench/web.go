package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"callbox/firmware/app"
	"callbox/telephony/acd"
	"callbox/telephony/acd/simulate"
)

// webClient is a cookie-keeping JSON client of the daemon's web API.
type webClient struct {
	base string
	c    *http.Client
	csrf string
}

// adminClient sets the box up with the setup code it printed and logs in.
func adminClient(a *app.App, out *syncBuffer) (*webClient, error) {
	codeRE := regexp.MustCompile(`setup code ([0-9]{4}-[0-9]{4})`)
	var m []string
	for end := time.Now().Add(10 * time.Second); m == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			return nil, errors.New("the daemon printed no setup code")
		}
		m = codeRE.FindStringSubmatch(out.String())
	}
	jar, _ := cookiejar.New(nil)
	w := &webClient{base: "http://" + a.WebAddr(), c: &http.Client{Jar: jar}}
	for _, s := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/session", nil},
		{"POST", "/api/v1/setup", map[string]any{"code": m[1], "login": "bench", "password": "Paper-Lantern-77"}},
		{"POST", "/api/v1/login", map[string]any{"login": "bench", "password": "Paper-Lantern-77"}},
	} {
		if err := w.do(s.method, s.path, s.body); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func (w *webClient) post(path string, body any) error { return w.do("POST", path, body) }

func (w *webClient) do(method, path string, body any) error {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, w.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", w.csrf)
	resp, err := w.c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if tok, ok := m["csrf_token"].(string); ok {
		w.csrf = tok
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	return nil
}

// sseClients are the readers of GET /api/v1/events, each timing every
// event from its publication (its "time") to its arrival. Desks also
// time the part each refetches (refreshed).
type sseClients struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	lat     []time.Duration
	dropped int
	// refreshed are the times from an event's publication to the end of
	// the desk part's refetch it caused; fetches counts the refetches and
	// fetchErrs those that failed.
	refreshed          []time.Duration
	fetches, fetchErrs int
}

func startSSE(ctx context.Context, w *webClient, n int) (*sseClients, error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &sseClients{cancel: cancel}
	// Every stream is its own connection: the shared client's transport
	// would otherwise keep at most two idle per host, which is no limit on
	// open ones, so one client serves all.
	ready := make(chan error, n)
	for range n {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.read(ctx, w, ready, nil)
		}()
	}
	for range n {
		if err := <-ready; err != nil {
			cancel()
			s.wg.Wait()
			return nil, err
		}
	}
	return s, nil
}

// read reads one stream; a desk (not nil) hears each event to refetch
// its part as the page does.
func (s *sseClients) read(ctx context.Context, w *webClient, ready chan<- error, desk *deskPage) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.base+"/api/v1/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := w.c.Do(req)
	if err != nil {
		ready <- fmt.Errorf("events stream: %w", err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ready <- fmt.Errorf("events stream: %s", resp.Status)
		return
	}
	ready <- nil
	var local []time.Duration
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	typ := ""
	if desk != nil {
		desk.heard("open", "", time.Time{}) // the page refetches once its stream is up (untimed)
	}
	for sc.Scan() {
		line := sc.Text()
		if t, ok := strings.CutPrefix(line, "event:"); ok {
			typ = strings.TrimSpace(t)
			continue
		}
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue
		}
		now := time.Now()
		t, ok := eventTime(data)
		if ok {
			local = append(local, now.Sub(t))
		}
		if desk != nil && ok {
			desk.heard(typ, data, t)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lat = append(s.lat, local...)
	if ctx.Err() == nil {
		s.dropped++ // the stream ended before the bench did
	}
}

func (s *sseClients) stop() {
	s.cancel()
	s.wg.Wait()
}

// result stops the clients and returns their latencies and how many
// streams ended early.
func (s *sseClients) result() ([]time.Duration, int) {
	s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lat, s.dropped
}

// refreshes returns, once stopped, the desks' event-to-refetched-part
// times, their refetches and the failed ones.
func (s *sseClients) refreshes() ([]time.Duration, int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshed, s.fetches, s.fetchErrs
}

// simFigures are the simulator's figures, averaged over runs.
type simFigures struct {
	offered, answered, abandoned float64
	sl, slSD                     float64
	asa                          time.Duration
	asaSD                        float64 // seconds
	abandonedSD                  float64
	// abandons are each run's abandoned calls, sorted.
	abandons []int
}

// atLeast is the share of the simulator's runs with at least n abandons.
func (f simFigures) atLeast(n int) float64 {
	if len(f.abandons) == 0 {
		return 0
	}
	i, _ := slices.BinarySearch(f.abandons, n)
	return float64(len(f.abandons)-i) / float64(len(f.abandons))
}

// simulateSame runs the ACD simulator (what `callboxctl acd simulate`
// runs) with the bench's parameters: one group, the agents answering after
// the same ring, the same arrivals, handle times and patience.
func simulateSame(o options, rate float64) (simFigures, error) {
	var f simFigures
	var sls, asas, abs []float64
	for i := range o.simRuns {
		p := simulate.Simple(o.agents, acd.LongestIdle, 0, simulate.Stream{Name: "bench", ArrivalRate: rate * 3600,
			AHT: o.aht, Dist: simulate.Exponential, Patience: o.patience})
		p.Duration, p.Seed, p.SLThreshold, p.AnswerDelay = o.duration, uint64(i)+1000, o.sl, o.answerDelay
		r, err := simulate.Run(p)
		if err != nil {
			return f, err
		}
		f.offered += float64(r.Offered)
		f.answered += float64(r.Answered)
		f.abandoned += float64(r.Abandoned)
		f.abandons = append(f.abandons, r.Abandoned)
		abs = append(abs, float64(r.Abandoned))
		sls = append(sls, r.ServiceLevel)
		asas = append(asas, r.ASA.Seconds())
	}
	n := float64(o.simRuns)
	f.offered, f.answered, f.abandoned = f.offered/n, f.answered/n, f.abandoned/n
	var slm, asam float64
	slm, f.slSD = meanSD(sls)
	asam, f.asaSD = meanSD(asas)
	_, f.abandonedSD = meanSD(abs)
	slices.Sort(f.abandons)
	f.sl, f.asa = slm, time.Duration(asam*float64(time.Second))
	return f, nil
}

func meanSD(x []float64) (mean, sd float64) {
	if len(x) == 0 {
		return 0, 0
	}
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		sd += (v - mean) * (v - mean)
	}
	if len(x) > 1 {
		sd /= float64(len(x) - 1)
	}
	return mean, math.Sqrt(sd)
}

// deskTypes are the events desk.js listens to (its TYPES); deskAlways
// those it refetches on whoever they concern.
var (
	deskTypes = []string{"agent.state", "call.ringing", "call.ring_ended", "call.answered", "call.transferred", "call.held",
		"call.resumed", "call.ended", "callback.dialled", "callback.connected", "notice", "config.changed", "fax.progress"}
	deskAlways = []string{"config.changed", "reset", "open"}
)

// deskPage is one agent's desk page as its script behaves: an event of
// deskTypes that concerns the agent (or one of deskAlways) refetches the
// live part (GET /desk with X-Desk-Part, what desk.js's refresh does),
// one fetch at a time, the events of a burst coalesced into the next
// one. The colleague search (a fetch on every agent's state while the
// agent has it open) is not run: a desk opens it only to transfer.
type deskPage struct {
	s     *sseClients
	w     *webClient
	agent string
	kick  chan struct{}
	mu    sync.Mutex
	// pending are the publication times of the events the next fetch
	// answers.
	pending []time.Time
}

func newDeskPage(s *sseClients, w *webClient, agent string) *deskPage {
	return &deskPage{s: s, w: w, agent: agent, kick: make(chan struct{}, 1)}
}

// heard takes one event from the stream (typ, its JSON, its publication
// time).
func (d *deskPage) heard(typ, data string, at time.Time) {
	if !slices.Contains(deskAlways, typ) && (!slices.Contains(deskTypes, typ) || eventField(data, "agent") != d.agent) {
		return
	}
	d.mu.Lock()
	d.pending = append(d.pending, at)
	d.mu.Unlock()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// run refetches the part until ctx ends, timing each event it answers
// from its publication to the fetch's end.
func (d *deskPage) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		}
		d.mu.Lock()
		due := d.pending
		d.pending = nil
		d.mu.Unlock()
		err := d.w.getPart(ctx, "/desk")
		now := time.Now()
		d.s.mu.Lock()
		d.s.fetches++
		if err != nil {
			if ctx.Err() == nil {
				d.s.fetchErrs++
			}
		} else {
			for _, t := range due {
				if !t.IsZero() {
					d.s.refreshed = append(d.s.refreshed, now.Sub(t))
				}
			}
		}
		d.s.mu.Unlock()
	}
}

// getPart fetches a page's live part as desk.js does (the X-Desk-Part
// header) and reads it whole.
func (w *webClient) getPart(ctx context.Context, path string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.base+path, nil)
	req.Header.Set("X-Desk-Part", "1")
	resp, err := w.c.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return nil
}

// deskPassword is the bench agents' web password.
const deskPassword = "Bench-Desk-Lantern-58"

// startDesks puts n agents at their web desks: each gets a web account
// (role agent, login its work number), logs in with its own cookies, loads
// /desk once and keeps its event stream open, refetching the desk's part
// on the events its page reacts to (deskPage), as an agent's browser
// does. The streams time their events like the other SSE clients, and
// the refetches the events' way to the agent's screen.
func startDesks(ctx context.Context, admin *webClient, n int) (*sseClients, error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &sseClients{cancel: cancel}
	ready := make(chan error, n)
	started := 0
	fail := func(err error) (*sseClients, error) {
		for range started {
			if e := <-ready; e != nil && err == nil {
				err = e
			}
		}
		cancel()
		s.wg.Wait()
		return nil, err
	}
	for i := range n {
		id := agentID(i)
		if err := admin.post("/api/v1/users", map[string]any{"login": id, "role": "agent", "password": deskPassword}); err != nil {
			return fail(err)
		}
		jar, _ := cookiejar.New(nil)
		w := &webClient{base: admin.base, c: &http.Client{Jar: jar}}
		for _, st := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/session", nil},
			{"POST", "/api/v1/login", map[string]any{"login": id, "password": deskPassword}},
			{"GET", "/desk", nil},
		} {
			if err := w.do(st.method, st.path, st.body); err != nil {
				return fail(fmt.Errorf("desk %s: %w", id, err))
			}
		}
		started++
		page := newDeskPage(s, w, id)
		s.wg.Add(2)
		go func() {
			defer s.wg.Done()
			page.run(ctx)
		}()
		go func() {
			defer s.wg.Done()
			s.read(ctx, w, ready, page)
		}()
	}
	for range started {
		if err := <-ready; err != nil {
			started = 0 // drained here
			return fail(err)
		}
	}
	return s, nil
}

// eventTime reads an event's "time" field without decoding the rest: the
// fifty clients share the bench's process with the box, and what they
// spend is taken from it.
func eventTime(data string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, eventField(data, "time"))
	return t, err == nil
}

// eventField reads a top-level string field of an event's JSON without
// decoding it ("" when absent). The bus writes the event's own fields
// before its detail, so the first match is the event's.
func eventField(data, name string) string {
	_, rest, ok := strings.Cut(data, `"`+name+`":"`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}
