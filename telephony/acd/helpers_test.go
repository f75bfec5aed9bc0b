package acd

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// rec records every action as a short line.
type rec struct {
	mu      sync.Mutex
	lines   []string
	notices []Notice
}

func (r *rec) add(format string, a ...any) {
	r.mu.Lock()
	r.lines = append(r.lines, fmt.Sprintf(format, a...))
	r.mu.Unlock()
}

func (r *rec) Ring(q RingRequest)                     { r.add("ring %s %s", q.Agent, q.Call) }
func (r *rec) StopRing(a AgentID, c CallID)           { r.add("stopring %s %s", a, c) }
func (r *rec) Connect(c CallID, a AgentID)            { r.add("connect %s %s", c, a) }
func (r *rec) Play(c CallID, p string)                { r.add("play %s %s", c, p) }
func (r *rec) CallBack(c CallID, n string, a AgentID) { r.add("callback %s %s %s", c, n, a) }
func (r *rec) Announce(c CallID, pos int, est time.Duration) {
	r.add("announce %s %d %s", c, pos, est)
}
func (r *rec) Route(c CallID, t Target) {
	switch t.Kind {
	case TargetIVR:
		r.add("route %s ivr %s", c, t.Flow)
	case TargetVoicemail:
		r.add("route %s voicemail %s", c, t.Mailbox)
	default:
		r.add("route %s hangup %s", c, t.Message)
	}
}
func (r *rec) Notify(n Notice) {
	r.mu.Lock()
	r.notices = append(r.notices, n)
	r.mu.Unlock()
	r.add("notify %d %s %s", n.Kind, n.Agent, n.Call)
}

type env struct {
	t     *testing.T
	e     *Engine
	clk   *VirtualClock
	rec   *rec
	store *MemStore
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	v := &env{t: t, clk: NewVirtualClock(t0), rec: &rec{}, store: NewMemStore()}
	e, err := New(cfg, Options{Clock: v.clk, Actions: v.rec, Status: v.store, Callbacks: v.store, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	v.e = e
	return v
}

// take returns and clears the recorded actions.
func (v *env) take() []string {
	v.rec.mu.Lock()
	defer v.rec.mu.Unlock()
	l := v.rec.lines
	v.rec.lines = nil
	return l
}

func (v *env) expect(want ...string) {
	v.t.Helper()
	got := v.take()
	if !slices.Equal(got, want) {
		v.t.Fatalf("actions:\n got %q\nwant %q", got, want)
	}
}

// expectSet is expect for actions due at one instant, in any order.
func (v *env) expectSet(want ...string) {
	v.t.Helper()
	got := v.take()
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		v.t.Fatalf("actions:\n got %q\nwant %q", got, want)
	}
}

func (v *env) ok(err error) {
	v.t.Helper()
	if err != nil {
		v.t.Fatal(err)
	}
}

func (v *env) offer(id, number string) {
	v.t.Helper()
	out, _, err := v.e.Offer(CallInfo{ID: CallID(id), Number: number})
	v.ok(err)
	if out != Queued {
		v.t.Fatalf("offer %s: outcome %d", id, out)
	}
}

func (v *env) login(ids ...AgentID) {
	v.t.Helper()
	for _, id := range ids {
		v.ok(v.e.Login(id))
		v.clk.Advance(time.Second) // distinct idle times: first logged in is longest idle
	}
}

func (v *env) state(id AgentID) State {
	v.t.Helper()
	s, err := v.e.Agent(id)
	v.ok(err)
	return s.State
}

func (v *env) queue(gid int) QueueStats {
	for _, q := range v.e.Queues() {
		if q.Group == gid {
			return q
		}
	}
	v.t.Fatalf("no group %d", gid)
	return QueueStats{}
}

// oneGroup is a configuration with group 1 and agents a, b, c.
func oneGroup(rule Rule) Config {
	return Config{
		Groups: []Group{{ID: 1, Name: "sales", Rule: rule, Enabled: true}},
		Agents: []Agent{
			{ID: "a", Level: 1, Groups: []Membership{{1, 5}}},
			{ID: "b", Level: 3, Groups: []Membership{{1, 1}}},
			{ID: "c", Level: 2, Groups: []Membership{{1, 3}}},
		},
	}
}
