package acd

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Errors a caller may branch on.
var (
	ErrUnknownAgent = errors.New("acd: unknown agent")
	ErrUnknownCall  = errors.New("acd: unknown call")
	ErrEngaged      = errors.New("acd: agent is ringing or talking")
	ErrBadState     = errors.New("acd: not allowed in this state")
)

// maxLastAgents bounds the memory of who last served each number (for the
// LastAgent rule).
const maxLastAgents = 50000

// Options are the engine's collaborators.
type Options struct {
	Clock   Clock   // required
	Actions Actions // required
	// Status receives the agent status log; nil discards it.
	Status StatusLog
	// Callbacks persists callbacks; nil keeps them in memory only.
	Callbacks CallbackStore
	// Seed seeds the Random rule.
	Seed uint64
}

// Outcome is what Offer did with a call.
type Outcome uint8

// Offer outcomes.
const (
	Queued  Outcome = iota // waiting in the engine
	Blocked                // blacklisted: hang up
	Routed                 // refused by join rules or queue length: send to Target
)

// CallInfo describes an incoming call.
type CallInfo struct {
	ID       CallID
	Number   string // caller's number
	Category string // contact category from the CRM, if known
	// Type, when not 0, is the customer type by id (an IVR queue node that
	// names a type), instead of classifying the number.
	Type int
	// Group, when not 0, is the group the call waits in (an IVR queue node
	// that names a group), instead of the customer type's groups; the
	// type still gives the call its priority.
	Group int
}

type callState uint8

const (
	callWaiting   callState = iota // caller on hold in the queue
	callCBWaiting                  // callback keeping its place
	callCBDialing                  // box calling the customer for a reserved agent
	callTalking                    // connected to an agent
)

type member struct {
	agent int
	skill int
}

type group struct {
	cfg     Group
	idx     int
	members []member
	rrLast  int // agent index rung last (RoundRobin), -1 at first
	c       counters
	handle  []time.Duration // ring of recent handle times
	hpos    int
}

type counters struct {
	offered, answered, answeredSL, abandoned, timedOut int
}

type agent struct {
	cfg       Agent
	idx       int
	skill     []int // by group index; -1: not a member
	state     State
	since     time.Time
	reason    string
	idleSince time.Time
	call      *call
	// ringGroup is the group index the current ring came through (for the
	// retry delay); from the answer on it is the call's queue, its primary
	// group, which the answered call, its service level and handle time
	// count with (-1 when that group was removed).
	ringGroup int
	noAnswer  int
	limit     int
	timer     Timer
	seq       uint64
	answered  int
	talk      time.Duration
}

// primary is the group a call counts with (figures, max wait), or -1 for
// a callback being dialled whose groups were all removed.
func (c *call) primary() int {
	if len(c.groups) == 0 {
		return -1
	}
	return c.groups[0]
}

// tried keeps an agent who let a call go from being rung for it again
// before until (the group's retry delay).
type tried struct {
	agent int
	until time.Time
}

func blocked(c *call, ai int, now time.Time) bool {
	for _, t := range c.tried {
		if t.agent == ai && now.Before(t.until) {
			return true
		}
	}
	return false
}

type custType struct {
	cfg    CustomerType
	groups []int // group indices, by group priority
}

type call struct {
	id       CallID
	number   string
	typ      *custType
	groups   []int // group indices; groups[0] is the primary (stats, max wait)
	queued   time.Time
	since    time.Time // entered the primary group
	seq      uint64
	state    callState
	ringing  []int
	tried    []tried
	agent    int
	answered time.Time
	tries    int
	notUntil time.Time
	timers   []*ctimer
	gen      uint64 // bumps on every queue exit so stale timer callbacks do nothing
}

// Engine is the ACD. It is safe for concurrent use; it calls Actions with
// its lock released, after each operation, in order.
type Engine struct {
	mu    sync.Mutex
	cfg   Config
	clock Clock
	act   Actions
	log   StatusLog
	cbs   CallbackStore
	rng   *rand.Rand

	groups    []*group
	groupIdx  map[int]int
	agents    []*agent
	agentIdx  map[AgentID]int
	types     []*custType
	byNumber  map[string]*custType
	byCat     map[string]*custType
	prefixes  []prefixType // longest first
	deflt     *custType
	blacklist map[string]bool

	calls     map[CallID]*call
	queue     []*call
	lastAgent map[string]int
	idle      int
	seq       uint64
	day       int
	out       []func()
}

type prefixType struct {
	prefix string
	t      *custType
}

// New builds an engine from a configuration and restores pending callbacks
// from opts.Callbacks. Every agent starts offline.
func New(cfg Config, opts Options) (*Engine, error) {
	if opts.Clock == nil || opts.Actions == nil {
		return nil, errors.New("acd: clock and actions are required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	e := &Engine{
		clock: opts.Clock, act: opts.Actions, log: opts.Status, cbs: opts.Callbacks,
		rng:   rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		calls: map[CallID]*call{}, lastAgent: map[string]int{},
	}
	now := e.clock.Now()
	e.day = dayKey(now)
	e.build(cfg, now)
	if e.cbs != nil {
		cbs, err := e.cbs.Callbacks()
		if err != nil {
			return nil, fmt.Errorf("acd: restoring callbacks: %w", err)
		}
		slices.SortFunc(cbs, func(a, b Callback) int { return a.Queued.Compare(b.Queued) })
		for _, cb := range cbs {
			e.restoreCallback(cb)
		}
		e.run(e.takeOut())
	}
	return e, nil
}

// build installs cfg (validated, with defaults). Groups and agents already
// known by id keep their objects, so that timers and calls that refer to
// them stay valid across Reconfigure; new agents start offline.
func (e *Engine) build(cfg Config, now time.Time) {
	e.cfg = cfg
	oldGroups := map[int]*group{}
	for _, g := range e.groups {
		oldGroups[g.cfg.ID] = g
	}
	oldAgents := map[AgentID]*agent{}
	for _, a := range e.agents {
		oldAgents[a.cfg.ID] = a
	}
	e.groups, e.groupIdx = nil, map[int]int{}
	for i, gc := range cfg.Groups {
		g := oldGroups[gc.ID]
		if g == nil {
			g = &group{rrLast: -1, handle: make([]time.Duration, 0, cfg.HandleWindow)}
		}
		if len(g.handle) > cfg.HandleWindow {
			g.handle, g.hpos = g.handle[:cfg.HandleWindow], 0
		}
		g.cfg, g.idx, g.members = gc, i, nil
		e.groups = append(e.groups, g)
		e.groupIdx[gc.ID] = i
	}
	e.agents, e.agentIdx = nil, map[AgentID]int{}
	for i, ac := range cfg.Agents {
		a := oldAgents[ac.ID]
		if a == nil {
			a = &agent{since: now}
		}
		a.cfg, a.idx, a.limit = ac, i, ac.MaxNoAnswer
		if a.limit <= 0 {
			a.limit = cfg.MaxNoAnswer
		}
		a.skill = make([]int, len(e.groups))
		for j := range a.skill {
			a.skill[j] = -1
		}
		for _, m := range ac.Groups {
			gi := e.groupIdx[m.Group]
			a.skill[gi] = m.Skill
			e.groups[gi].members = append(e.groups[gi].members, member{agent: i, skill: m.Skill})
		}
		e.agents = append(e.agents, a)
		e.agentIdx[ac.ID] = i
	}
	e.idle = 0
	for _, a := range e.agents {
		if a.state == Idle {
			e.idle++
		}
	}
	mk := func(t CustomerType) *custType {
		ct := &custType{cfg: t}
		for _, id := range t.Groups {
			ct.groups = append(ct.groups, e.groupIdx[id])
		}
		if len(t.Groups) == 0 {
			for i := range e.groups {
				ct.groups = append(ct.groups, i)
			}
		}
		slices.SortStableFunc(ct.groups, func(a, b int) int {
			return cmp.Compare(e.groups[b].cfg.Priority, e.groups[a].cfg.Priority)
		})
		return ct
	}
	e.types, e.prefixes = nil, nil
	e.byNumber, e.byCat, e.blacklist = map[string]*custType{}, map[string]*custType{}, map[string]bool{}
	for _, t := range cfg.CustomerTypes {
		ct := mk(t)
		e.types = append(e.types, ct)
		for _, n := range t.Numbers {
			if old, ok := e.byNumber[n]; !ok || old.cfg.Priority < t.Priority {
				e.byNumber[n] = ct
			}
		}
		for _, c := range t.Categories {
			if old, ok := e.byCat[c]; !ok || old.cfg.Priority < t.Priority {
				e.byCat[c] = ct
			}
		}
		for _, p := range t.Prefixes {
			e.prefixes = append(e.prefixes, prefixType{p, ct})
		}
	}
	sort.SliceStable(e.prefixes, func(i, j int) bool {
		pi, pj := e.prefixes[i], e.prefixes[j]
		if len(pi.prefix) != len(pj.prefix) {
			return len(pi.prefix) > len(pj.prefix)
		}
		return pi.t.cfg.Priority > pj.t.cfg.Priority
	})
	e.deflt = mk(cfg.Default)
	for _, n := range cfg.Blacklist {
		e.blacklist[n] = true
	}
}

// Reconfigure puts a new configuration in force without dropping calls or
// agents' states. Removing an agent who is ringing or talking is refused
// (ErrEngaged); removed idle agents are signed out. Waiting calls keep
// their place and stay with the groups that still exist (re-routed by
// their customer type if none does); their queue timers restart under the
// new settings, counting from when they entered their group.
func (e *Engine) Reconfigure(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	return e.do(func(now time.Time) error {
		keep := map[AgentID]bool{}
		for _, a := range cfg.Agents {
			keep[a.ID] = true
		}
		for _, a := range e.agents {
			if !keep[a.cfg.ID] && a.state.engaged() {
				return fmt.Errorf("%w: cannot remove %s now", ErrEngaged, a.cfg.ID)
			}
		}
		// Remember everything that refers to groups and agents by index.
		gid := func(i int) int { return e.groups[i].cfg.ID }
		aid := func(i int) AgentID { return e.agents[i].cfg.ID }
		type callRefs struct {
			groups  []int
			ringing []AgentID
			tried   []AgentID
			agent   AgentID
			typ     int
		}
		refs := map[*call]callRefs{}
		for _, c := range e.calls {
			r := callRefs{typ: c.typ.cfg.ID}
			for _, gi := range c.groups {
				r.groups = append(r.groups, gid(gi))
			}
			for _, ai := range c.ringing {
				r.ringing = append(r.ringing, aid(ai))
			}
			for _, t := range c.tried {
				r.tried = append(r.tried, aid(t.agent))
			}
			if c.agent >= 0 {
				r.agent = aid(c.agent)
			}
			refs[c] = r
		}
		ringGroup := map[*agent]int{}
		for _, a := range e.agents {
			if a.ringGroup >= 0 {
				ringGroup[a] = gid(a.ringGroup)
			}
			if !keep[a.cfg.ID] && a.state != Offline {
				e.setState(a, Offline, "removed", now)
			}
		}
		rr := map[int]AgentID{}
		for _, g := range e.groups {
			if g.rrLast >= 0 {
				rr[g.cfg.ID] = aid(g.rrLast)
			}
		}
		last := map[string]AgentID{}
		for n, ai := range e.lastAgent {
			last[n] = aid(ai)
		}

		e.build(cfg, now)

		for _, g := range e.groups {
			g.rrLast = -1
			if id, ok := rr[g.cfg.ID]; ok {
				if ai, ok := e.agentIdx[id]; ok {
					g.rrLast = ai
				}
			}
		}
		e.lastAgent = map[string]int{}
		for n, id := range last {
			if ai, ok := e.agentIdx[id]; ok {
				e.lastAgent[n] = ai
			}
		}
		for a, id := range ringGroup {
			if gi, ok := e.groupIdx[id]; ok {
				a.ringGroup = gi
			} else {
				a.ringGroup = -1 // the group is gone: its figures with it
			}
		}
		for c, r := range refs {
			c.typ = e.deflt
			for _, t := range e.types {
				if t.cfg.ID == r.typ {
					c.typ = t
				}
			}
			c.groups = c.groups[:0]
			for _, id := range r.groups {
				if gi, ok := e.groupIdx[id]; ok && e.groups[gi].cfg.Enabled {
					c.groups = append(c.groups, gi)
				}
			}
			if len(c.groups) == 0 {
				for _, gi := range c.typ.groups {
					if e.groups[gi].cfg.Enabled {
						c.groups = append(c.groups, gi)
					}
				}
			}
			c.ringing = c.ringing[:0]
			for _, id := range r.ringing {
				c.ringing = append(c.ringing, e.agentIdx[id])
			}
			tr := c.tried
			c.tried = nil
			for i, id := range r.tried {
				if ai, ok := e.agentIdx[id]; ok {
					c.tried = append(c.tried, tried{ai, tr[i].until})
				}
			}
			if r.agent != "" {
				c.agent = e.agentIdx[r.agent]
			}
		}
		slices.SortStableFunc(e.queue, func(a, b *call) int {
			if before(a, b) {
				return -1
			}
			if before(b, a) {
				return 1
			}
			return 0
		})
		for _, c := range e.queue {
			if len(c.groups) == 0 {
				continue
			}
			if c.state == callWaiting {
				e.armWaiting(c, now)
			}
		}
		// A call whose groups all vanished and whose type has none left
		// cannot wait: it goes out with a message.
		for _, c := range slices.Clone(e.queue) {
			if len(c.groups) > 0 || c.state == callCBDialing {
				continue // a callback being dialled finishes first
			}
			e.releaseRings(c, now)
			e.unqueue(c)
			delete(e.calls, c.id)
			if c.state == callWaiting {
				e.emit(func() { e.act.Route(c.id, Target{Kind: TargetHangup}) })
				continue
			}
			e.dropCallback(c, now)
		}
		e.checkLeave(now)
		e.dispatch(now)
		return nil
	})
}

// Load builds an engine from the configuration in cs (an empty
// configuration if none was saved yet).
func Load(cs ConfigStore, opts Options) (*Engine, error) {
	cfg, _, err := cs.LoadConfig()
	if err != nil {
		return nil, fmt.Errorf("acd: loading configuration: %w", err)
	}
	return New(cfg, opts)
}

// Config returns the configuration in force (with defaults filled in).
func (e *Engine) Config() Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg
}

// dayStart is the midnight that began t's day, in t's zone.
func dayStart(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func dayKey(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// --- plumbing ---------------------------------------------------------------

func (e *Engine) emit(f func()) { e.out = append(e.out, f) }

func (e *Engine) takeOut() []func() {
	out := e.out
	e.out = nil
	return out
}

func (e *Engine) run(out []func()) {
	for _, f := range out {
		f()
	}
}

// do runs op under the lock, then the actions it queued without it.
func (e *Engine) do(op func(now time.Time) error) error {
	e.mu.Lock()
	now := e.clock.Now()
	e.rollDay(now)
	err := op(now)
	out := e.takeOut()
	e.mu.Unlock()
	e.run(out)
	return err
}

// after schedules op at now+d under the engine's discipline.
func (e *Engine) after(d time.Duration, op func(now time.Time)) Timer {
	return e.clock.AfterFunc(d, func() {
		_ = e.do(func(now time.Time) error { op(now); return nil })
	})
}

func (e *Engine) rollDay(now time.Time) {
	k := dayKey(now)
	if k == e.day {
		return
	}
	e.day = k
	for _, g := range e.groups {
		g.c = counters{}
	}
	for _, a := range e.agents {
		a.answered, a.talk = 0, 0
	}
}

func (e *Engine) agentByID(id AgentID) (*agent, error) {
	i, ok := e.agentIdx[id]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownAgent, id)
	}
	return e.agents[i], nil
}

func (e *Engine) callByID(id CallID) (*call, error) {
	c, ok := e.calls[id]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownCall, id)
	}
	return c, nil
}

func (e *Engine) storeErr(now time.Time, err error) {
	if err == nil {
		return
	}
	n := Notice{Kind: NoticeStoreError, At: now, Err: err}
	e.emit(func() { e.act.Notify(n) })
}

// setState moves an agent and logs the change.
func (e *Engine) setState(a *agent, to State, reason string, now time.Time) {
	from := a.state
	if from == Idle {
		e.idle--
	}
	if to == Idle {
		e.idle++
		if from != Ringing {
			a.idleSince = now
		}
	}
	if from == WrapUp && a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
	a.state, a.since, a.reason = to, now, reason
	if e.log != nil {
		ent := StatusEntry{Agent: a.cfg.ID, At: now, From: from, To: to, Reason: reason}
		if a.call != nil {
			ent.Call = a.call.id
		}
		e.storeErr(now, e.log.AppendStatus(ent))
	}
}

// --- admission ----------------------------------------------------------------

// Classify returns the customer type for a number and CRM category:
// exact number, then category, then the longest matching prefix, else the
// default type. It reports whether the number is blacklisted.
func (e *Engine) Classify(number, category string) (CustomerType, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.classify(number, category).cfg, e.blacklist[number]
}

func (e *Engine) classify(number, category string) *custType {
	if t, ok := e.byNumber[number]; ok {
		return t
	}
	if category != "" {
		if t, ok := e.byCat[category]; ok {
			return t
		}
	}
	for _, p := range e.prefixes {
		if strings.HasPrefix(number, p.prefix) {
			return p.t
		}
	}
	return e.deflt
}

// Offer puts a new call in the queue, or says why not. On Routed the caller
// goes to the returned target (the engine does not call Route for it).
func (e *Engine) Offer(ci CallInfo) (out Outcome, t Target, err error) {
	err = e.do(func(now time.Time) error {
		if _, dup := e.calls[ci.ID]; dup {
			return fmt.Errorf("acd: call %q already offered", ci.ID)
		}
		if e.blacklist[ci.Number] {
			out = Blocked
			return nil
		}
		ct := e.classify(ci.Number, ci.Category)
		if ci.Type != 0 {
			t, ok := e.typeByID(ci.Type)
			if !ok {
				return fmt.Errorf("acd: call %q: unknown customer type %d", ci.ID, ci.Type)
			}
			ct = t
		}
		cand := ct.groups
		if ci.Group != 0 {
			gi, ok := e.groupIdx[ci.Group]
			if !ok {
				return fmt.Errorf("acd: call %q: unknown group %d", ci.ID, ci.Group)
			}
			cand = []int{gi}
		}
		groups := make([]int, 0, len(cand))
		for _, gi := range cand {
			if e.groups[gi].cfg.Enabled {
				groups = append(groups, gi)
			}
		}
		if len(groups) == 0 {
			out, t = Routed, Target{Kind: TargetHangup}
			return nil
		}
		// Join rules on the primary group; a group overflow tries the next.
		for hops := 0; ; hops++ {
			g := e.groups[groups[0]]
			if e.joinAllowed(g) {
				break
			}
			g.c.offered++
			g.c.timedOut++ // refused at the door counts with overflows
			next := -1
			if g.cfg.Overflow.Kind == TargetGroup {
				next = e.groupIdx[g.cfg.Overflow.Group]
			}
			if next < 0 || !e.groups[next].cfg.Enabled || hops >= len(e.groups) {
				out, t = Routed, external(g.cfg.Overflow)
				return nil
			}
			groups = []int{next}
		}
		e.seq++
		c := &call{id: ci.ID, number: ci.Number, typ: ct, groups: groups, queued: now, since: now, seq: e.seq, agent: -1}
		e.calls[c.id] = c
		e.insert(c)
		e.groups[groups[0]].c.offered++
		e.armWaiting(c, now)
		out = Queued
		e.dispatch(now)
		return nil
	})
	return out, t, err
}

// typeByID returns a customer type (the default one too) by id.
func (e *Engine) typeByID(id int) (*custType, bool) {
	for _, t := range e.types {
		if t.cfg.ID == id {
			return t, true
		}
	}
	if e.deflt.cfg.ID == id {
		return e.deflt, true
	}
	return nil, false
}

func external(t Target) Target {
	if t.Kind == TargetNone || t.Kind == TargetGroup {
		return Target{Kind: TargetHangup, Message: t.Message}
	}
	return t
}

func (e *Engine) joinAllowed(g *group) bool {
	if g.cfg.MaxQueue > 0 {
		n := 0
		for _, c := range e.queue {
			if c.state == callWaiting && c.primary() == g.idx {
				n++
			}
		}
		if n >= g.cfg.MaxQueue {
			return false
		}
	}
	return e.emptyOK(g, g.cfg.Join)
}

func (e *Engine) emptyOK(g *group, r EmptyRule) bool {
	switch r {
	case EmptyNoLoggedIn:
		for _, m := range g.members {
			if e.agents[m.agent].state.loggedIn() {
				return true
			}
		}
		return false
	case EmptyNoAvailable:
		for _, m := range g.members {
			if e.agents[m.agent].state.available() {
				return true
			}
		}
		return false
	}
	return true
}

// before is the order of service: customer-type priority, then waiting time.
func before(a, b *call) bool {
	if a.typ.cfg.Priority != b.typ.cfg.Priority {
		return a.typ.cfg.Priority > b.typ.cfg.Priority
	}
	if !a.queued.Equal(b.queued) {
		return a.queued.Before(b.queued)
	}
	return a.seq < b.seq
}

func (e *Engine) insert(c *call) {
	i := sort.Search(len(e.queue), func(i int) bool { return before(c, e.queue[i]) })
	e.queue = slices.Insert(e.queue, i, c)
}

func (e *Engine) unqueue(c *call) {
	if i := slices.Index(e.queue, c); i >= 0 {
		e.queue = slices.Delete(e.queue, i, i+1)
	}
	c.gen++
	c.stopTimers()
}

// ctimer is a call's timer that knows whether it has fired, so that the
// list of a long-waiting call's timers can be pruned.
type ctimer struct {
	t     Timer
	fired bool
}

// callAfter schedules op for call c; unqueue and armWaiting stop it.
func (e *Engine) callAfter(c *call, d time.Duration, op func(now time.Time)) {
	if len(c.timers) >= 8 {
		c.timers = slices.DeleteFunc(c.timers, func(t *ctimer) bool { return t.fired })
	}
	ct := &ctimer{}
	ct.t = e.after(d, func(now time.Time) {
		ct.fired = true
		op(now)
	})
	c.timers = append(c.timers, ct)
}

func (c *call) stopTimers() {
	for _, t := range c.timers {
		if !t.fired {
			t.t.Stop()
		}
	}
	c.timers = c.timers[:0]
}

// armWaiting starts a live caller's queue timers: max wait, prompts,
// announcements and relaxation steps. Timers check c.gen so that a call
// which left the queue (or moved group) ignores them.
func (e *Engine) armWaiting(c *call, now time.Time) {
	c.stopTimers()
	c.gen++
	gen := c.gen
	g := e.groups[c.groups[0]]
	alive := func() bool { return c.gen == gen && e.calls[c.id] == c && c.state == callWaiting }
	if g.cfg.MaxWait > 0 {
		e.callAfter(c, g.cfg.MaxWait-now.Sub(c.since), func(now time.Time) {
			if alive() {
				e.maxWait(c, now)
			}
		})
	}
	if g.cfg.PromptEvery > 0 && g.cfg.Prompt != "" {
		var tick func(now time.Time)
		tick = func(now time.Time) {
			if !alive() {
				return
			}
			e.emit(func() { e.act.Play(c.id, g.cfg.Prompt) })
			e.callAfter(c, g.cfg.PromptEvery, tick)
		}
		e.callAfter(c, g.cfg.PromptEvery, tick)
	}
	if g.cfg.AnnounceEvery > 0 {
		var tick func(now time.Time)
		tick = func(now time.Time) {
			if !alive() {
				return
			}
			pos, est := e.position(c)
			e.emit(func() { e.act.Announce(c.id, pos, est) })
			e.callAfter(c, g.cfg.AnnounceEvery, tick)
		}
		e.callAfter(c, g.cfg.AnnounceEvery, tick)
	}
	// Relaxation: re-run dispatch when a step of any of the call's groups falls due.
	for _, gi := range c.groups {
		for _, st := range e.groups[gi].cfg.Relax {
			if d := c.queued.Add(st.After).Sub(now); d > 0 {
				e.callAfter(c, d, func(now time.Time) {
					if alive() {
						e.dispatch(now)
					}
				})
			}
		}
	}
}

// position returns the caller's place among callers of the same primary
// group and the estimated wait from recent handle times.
func (e *Engine) position(c *call) (int, time.Duration) {
	pos := 1
	for _, o := range e.queue {
		if o == c {
			break
		}
		if o.state != callTalking && o.primary() == c.groups[0] {
			pos++
		}
	}
	g := e.groups[c.groups[0]]
	working := 0
	for _, m := range g.members {
		if e.agents[m.agent].state.available() {
			working++
		}
	}
	return pos, time.Duration(pos) * e.avgHandle(g) / time.Duration(max(working, 1))
}

// avgHandle is the mean of the group's recent handle times (talk plus
// wrap-up); 3 minutes until the first call is handled.
func (g *group) avg() time.Duration {
	if len(g.handle) == 0 {
		return 3 * time.Minute
	}
	var s time.Duration
	for _, h := range g.handle {
		s += h
	}
	return s / time.Duration(len(g.handle))
}

func (e *Engine) avgHandle(g *group) time.Duration { return g.avg() }

func (g *group) addHandle(d time.Duration, window int) {
	if len(g.handle) < window {
		g.handle = append(g.handle, d)
		return
	}
	g.handle[g.hpos] = d
	g.hpos = (g.hpos + 1) % window
}

// EstimatedWait returns what a new caller to group would be told.
func (e *Engine) EstimatedWait(groupID int) (time.Duration, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	gi, ok := e.groupIdx[groupID]
	if !ok {
		return 0, fmt.Errorf("acd: unknown group %d", groupID)
	}
	g := e.groups[gi]
	n, working := 0, 0
	for _, c := range e.queue {
		if c.state == callWaiting && c.primary() == gi {
			n++
		}
	}
	for _, m := range g.members {
		if e.agents[m.agent].state.available() {
			working++
		}
	}
	return time.Duration(n+1) * g.avg() / time.Duration(max(working, 1)), nil
}

// --- leaving the queue ------------------------------------------------------

// releaseRings stops every ring of c; the agents return to idle without a
// no-answer count.
func (e *Engine) releaseRings(c *call, now time.Time) {
	for _, ai := range c.ringing {
		a := e.agents[ai]
		e.stopAgentTimer(a)
		a.call = nil
		e.setState(a, Idle, "", now)
		id := a.cfg.ID
		e.emit(func() { e.act.StopRing(id, c.id) })
	}
	c.ringing = c.ringing[:0]
}

func (e *Engine) stopAgentTimer(a *agent) {
	a.seq++
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
}

func (e *Engine) maxWait(c *call, now time.Time) {
	g := e.groups[c.groups[0]]
	g.c.timedOut++
	e.overflow(c, g, now)
}

// overflow moves c to g's overflow target.
func (e *Engine) overflow(c *call, g *group, now time.Time) {
	e.releaseRings(c, now)
	if g.cfg.Overflow.Kind == TargetGroup {
		ng := e.groups[e.groupIdx[g.cfg.Overflow.Group]]
		// The leave rule too, or two empty groups would pass a caller back
		// and forth for ever.
		if ng.cfg.Enabled && e.joinAllowed(ng) && e.emptyOK(ng, ng.cfg.Leave) {
			c.groups = []int{ng.idx}
			c.since = now
			c.tried = c.tried[:0]
			ng.c.offered++
			e.armWaiting(c, now)
			e.dispatch(now)
			return
		}
	}
	e.unqueue(c)
	delete(e.calls, c.id)
	t := external(g.cfg.Overflow)
	e.emit(func() { e.act.Route(c.id, t) })
	e.dispatch(now)
}

// checkLeave sends callers out of groups whose leave rule now holds.
func (e *Engine) checkLeave(now time.Time) {
	for i := 0; i < len(e.queue); i++ {
		c := e.queue[i]
		if c.state != callWaiting {
			continue
		}
		g := e.groups[c.groups[0]]
		if g.cfg.Leave != EmptyAllow && !e.emptyOK(g, g.cfg.Leave) {
			g.c.timedOut++
			e.overflow(c, g, now)
			i = -1 // the queue changed; start again
		}
	}
}

// --- routing ----------------------------------------------------------------

// dispatch hands idle agents to waiting calls in order of service.
func (e *Engine) dispatch(now time.Time) {
	for i := 0; i < len(e.queue) && e.idle > 0; i++ {
		c := e.queue[i]
		switch c.state {
		case callWaiting:
			if len(c.ringing) > 0 {
				continue
			}
			e.route(c, now)
		case callCBWaiting:
			if now.Before(c.notUntil) {
				continue
			}
			if ai, gi := e.pickAny(c, now); ai >= 0 {
				e.dialCallback(c, e.agents[ai], gi, now)
			}
		}
	}
}

// route rings agent(s) for c through the first of its groups that has one.
func (e *Engine) route(c *call, now time.Time) bool {
	for _, gi := range c.groups {
		g := e.groups[gi]
		if !g.cfg.Enabled {
			continue
		}
		switch g.cfg.Rule {
		case RingAll:
			n := 0
			for _, m := range g.members {
				if e.eligible(c, g, m, now) {
					e.ring(c, e.agents[m.agent], g, now)
					n++
				}
			}
			if n > 0 {
				return true
			}
		case RingProgressive:
			if e.ringProgressive(c, g, now, 1) > 0 {
				return true
			}
		default:
			if ai := e.pick(c, g, now); ai >= 0 {
				e.ring(c, e.agents[ai], g, now)
				return true
			}
		}
	}
	return false
}

// minSkill is the skill g requires of c's agent after c's wait so far.
func minSkill(g *group, c *call, now time.Time) int {
	m := g.cfg.MinSkill
	w := now.Sub(c.queued)
	for _, st := range g.cfg.Relax {
		if w >= st.After {
			m = st.MinSkill
		}
	}
	return m
}

func (e *Engine) eligible(c *call, g *group, m member, now time.Time) bool {
	a := e.agents[m.agent]
	return a.state == Idle && m.skill >= minSkill(g, c, now) && !blocked(c, m.agent, now)
}

// pick chooses one agent of g for c by g's rule, or -1.
func (e *Engine) pick(c *call, g *group, now time.Time) int {
	need := minSkill(g, c, now)
	ok := func(m member) bool {
		return e.agents[m.agent].state == Idle && m.skill >= need && !blocked(c, m.agent, now)
	}
	best := -1
	switch g.cfg.Rule {
	case Linear:
		for _, m := range g.members {
			if ok(m) {
				return m.agent
			}
		}
		return -1
	case RoundRobin:
		start := 0
		if g.rrLast >= 0 {
			for i, m := range g.members {
				if m.agent == g.rrLast {
					start = i + 1
					break
				}
			}
		}
		n := len(g.members)
		for k := range n {
			m := g.members[(start+k)%n]
			if ok(m) {
				return m.agent
			}
		}
		return -1
	case Random:
		seen := 0
		for _, m := range g.members {
			if ok(m) {
				seen++
				if e.rng.IntN(seen) == 0 {
					best = m.agent
				}
			}
		}
		return best
	case LastAgent:
		if ai, found := e.lastAgent[c.number]; found && ai >= 0 {
			if s := e.agents[ai].skill[g.idx]; s >= 0 && ok(member{ai, s}) {
				return ai
			}
		}
	}
	var bestSkill int
	for _, m := range g.members {
		if !ok(m) {
			continue
		}
		if best < 0 || e.better(g.cfg.Rule, m, bestSkill, best) {
			best, bestSkill = m.agent, m.skill
		}
	}
	return best
}

// better reports whether member m beats the current best agent under rule;
// ties go to the longest idle.
func (e *Engine) better(rule Rule, m member, bestSkill, best int) bool {
	a, b := e.agents[m.agent], e.agents[best]
	switch rule {
	case AgentLevel:
		if a.cfg.Level != b.cfg.Level {
			return a.cfg.Level > b.cfg.Level
		}
		if m.skill != bestSkill {
			return m.skill > bestSkill
		}
	case FewestCalls:
		if a.answered != b.answered {
			return a.answered < b.answered
		}
	case LeastTalkTime:
		if a.talk != b.talk {
			return a.talk < b.talk
		}
	}
	return a.idleSince.Before(b.idleSince)
}

// ringProgressive rings up to n more agents of g (longest idle first) and
// arms the step timer that adds one more.
func (e *Engine) ringProgressive(c *call, g *group, now time.Time, n int) int {
	rung := 0
	for rung < n {
		ai := -1
		for _, m := range g.members {
			if !e.eligible(c, g, m, now) {
				continue
			}
			if ai < 0 || e.agents[m.agent].idleSince.Before(e.agents[ai].idleSince) {
				ai = m.agent
			}
		}
		if ai < 0 {
			break
		}
		e.ring(c, e.agents[ai], g, now)
		rung++
	}
	if rung > 0 {
		gen := c.gen
		e.callAfter(c, g.cfg.ProgressStep, func(now time.Time) {
			if c.gen == gen && e.calls[c.id] == c && c.state == callWaiting && len(c.ringing) > 0 {
				e.ringProgressive(c, g, now, 1)
			}
		})
	}
	return rung
}

// pickAny picks one agent over c's groups (callbacks ring one agent
// whatever the group's rule).
func (e *Engine) pickAny(c *call, now time.Time) (int, int) {
	for _, gi := range c.groups {
		g := e.groups[gi]
		if !g.cfg.Enabled {
			continue
		}
		if g.cfg.Rule == RingAll || g.cfg.Rule == RingProgressive {
			best := -1
			for _, m := range g.members {
				if e.eligible(c, g, m, now) && (best < 0 || e.agents[m.agent].idleSince.Before(e.agents[best].idleSince)) {
					best = m.agent
				}
			}
			if best >= 0 {
				return best, gi
			}
			continue
		}
		if ai := e.pick(c, g, now); ai >= 0 {
			return ai, gi
		}
	}
	return -1, -1
}

func (e *Engine) ring(c *call, a *agent, g *group, now time.Time) {
	a.call = c
	a.ringGroup = g.idx
	e.setState(a, Ringing, "", now)
	c.ringing = append(c.ringing, a.idx)
	g.rrLast = a.idx
	e.stopAgentTimer(a)
	seq := a.seq
	a.timer = e.after(g.cfg.RingTimeout, func(now time.Time) {
		if a.seq == seq && a.state == Ringing && a.call == c {
			e.noAnswer(a, now)
		}
	})
	r := RingRequest{Agent: a.cfg.ID, Device: a.cfg.Device, Mode: a.cfg.Mode, AutoAnswer: a.cfg.AutoAnswer, Call: c.id, Number: c.number, Group: g.cfg.ID}
	e.emit(func() { e.act.Ring(r) })
}

// detach takes a ringing agent off its call and keeps them from being
// rung for it again before the group's retry delay, when dispatch runs anew.
func (e *Engine) detach(a *agent, now time.Time) *call {
	c := a.call
	a.call = nil
	e.stopAgentTimer(a)
	if i := slices.Index(c.ringing, a.idx); i >= 0 {
		c.ringing = slices.Delete(c.ringing, i, i+1)
	}
	retry := DefaultRetry
	if a.ringGroup >= 0 {
		retry = e.groups[a.ringGroup].cfg.Retry
	}
	until := now.Add(retry)
	if i := slices.IndexFunc(c.tried, func(t tried) bool { return t.agent == a.idx }); i >= 0 {
		c.tried[i].until = until
	} else {
		c.tried = append(c.tried, tried{a.idx, until})
	}
	gen := c.gen
	e.callAfter(c, retry, func(now time.Time) {
		if c.gen == gen && e.calls[c.id] == c && c.state == callWaiting {
			e.dispatch(now)
		}
	})
	return c
}

func (e *Engine) noAnswer(a *agent, now time.Time) {
	c := e.detach(a, now)
	id := a.cfg.ID
	e.emit(func() { e.act.StopRing(id, c.id) })
	a.noAnswer++
	if a.noAnswer >= a.limit {
		a.noAnswer = 0
		to, reason := Break, "no answer"
		if e.cfg.NoAnswer == NoAnswerSignOut {
			to = Offline
		}
		e.setState(a, to, reason, now)
		n := Notice{Kind: NoticeNoAnswer, At: now, Agent: id, State: to, Call: c.id}
		e.emit(func() { e.act.Notify(n) })
		e.checkLeave(now)
	} else {
		e.setState(a, Idle, "", now)
	}
	e.dispatch(now)
}

// --- agent and call events ------------------------------------------------------

// Answer reports that agent answered the ringing call.
func (e *Engine) Answer(agentID AgentID, callID CallID) error {
	return e.do(func(now time.Time) error {
		a, err := e.agentByID(agentID)
		if err != nil {
			return err
		}
		if a.state != Ringing || a.call == nil || a.call.id != callID || a.call.state != callWaiting {
			return fmt.Errorf("%w: %s answering %s while %s", ErrBadState, agentID, callID, a.state)
		}
		c := a.call
		e.detach(a, now)
		e.releaseRings(c, now)
		e.connect(c, a, now)
		e.dispatch(now)
		return nil
	})
}

func (e *Engine) connect(c *call, a *agent, now time.Time) {
	e.unqueue(c)
	c.state = callTalking
	c.agent = a.idx
	c.answered = now
	a.call = c
	a.noAnswer = 0
	e.setState(a, Talking, "", now)
	if q := c.primary(); q >= 0 {
		a.ringGroup = q
	}
	if a.ringGroup >= 0 {
		g := e.groups[a.ringGroup]
		g.c.answered++
		if now.Sub(c.queued) <= g.cfg.SLThreshold {
			g.c.answeredSL++
		}
	}
	a.answered++
	if len(e.lastAgent) >= maxLastAgents {
		clear(e.lastAgent) // crude bound: the CRM is the long-term memory
	}
	e.lastAgent[c.number] = a.idx
	id := a.cfg.ID
	e.emit(func() { e.act.Connect(c.id, id) })
}

// Reject reports that agent declined the ring: the call moves on at once.
func (e *Engine) Reject(agentID AgentID, callID CallID) error {
	return e.do(func(now time.Time) error {
		a, err := e.agentByID(agentID)
		if err != nil {
			return err
		}
		if a.state != Ringing || a.call == nil || a.call.id != callID || a.call.state != callWaiting {
			return fmt.Errorf("%w: %s rejecting %s while %s", ErrBadState, agentID, callID, a.state)
		}
		e.detach(a, now)
		e.setState(a, Idle, "rejected", now)
		e.dispatch(now)
		return nil
	})
}

// Hangup reports that a call ended: a waiting caller abandoned, a
// connected call finished (the agent goes to wrap-up), or a callback was
// cancelled.
func (e *Engine) Hangup(callID CallID) error {
	return e.do(func(now time.Time) error {
		c, err := e.callByID(callID)
		if err != nil {
			return err
		}
		switch c.state {
		case callWaiting:
			e.groups[c.groups[0]].c.abandoned++
			e.releaseRings(c, now)
			e.unqueue(c)
		case callCBWaiting, callCBDialing:
			e.endCallback(c, now, false)
		case callTalking:
			e.endTalk(c, now)
		}
		delete(e.calls, c.id)
		e.dispatch(now)
		return nil
	})
}

func (e *Engine) endTalk(c *call, now time.Time) {
	a := e.agents[c.agent]
	talk := now.Sub(c.answered)
	a.talk += now.Sub(later(c.answered, dayStart(now))) // today's part
	a.call = nil
	// The agent's own wrap-up, else that of the group the call came
	// through; either way one clock, the agent's.
	wrap := a.cfg.WrapUp
	if a.ringGroup >= 0 {
		g := e.groups[a.ringGroup]
		if wrap == 0 {
			wrap = g.cfg.WrapUp
		}
		g.addHandle(talk+wrap, e.cfg.HandleWindow)
	}
	if wrap > 0 {
		e.setState(a, WrapUp, "", now)
		e.stopAgentTimer(a)
		seq := a.seq
		a.timer = e.after(wrap, func(now time.Time) {
			if a.seq == seq && a.state == WrapUp {
				e.setState(a, Idle, "wrap-up over", now)
				e.dispatch(now)
			}
		})
		return
	}
	e.setState(a, Idle, "", now)
}

// --- callbacks ----------------------------------------------------------------

// RequestCallback turns a waiting caller into a callback that keeps their
// place; number is where to call back (empty: the calling number). A
// number that already has a callback pending keeps that one (the earlier
// place) and this call is merged into it. The wiring hangs up the
// caller's leg afterwards.
func (e *Engine) RequestCallback(callID CallID, number string) error {
	return e.do(func(now time.Time) error {
		c, err := e.callByID(callID)
		if err != nil {
			return err
		}
		if c.state != callWaiting {
			return fmt.Errorf("%w: call %s cannot take a callback", ErrBadState, callID)
		}
		if g := e.groups[c.groups[0]]; g.cfg.NoCallback {
			return fmt.Errorf("%w: group %d offers no callbacks", ErrBadState, g.cfg.ID)
		}
		if number != "" {
			c.number = number
		}
		e.releaseRings(c, now)
		c.stopTimers()
		c.gen++
		// One callback per number: a caller who already has one (from an
		// earlier call, keeping an earlier place) is not called twice.
		for _, o := range e.queue {
			if o != c && o.number == c.number && (o.state == callCBWaiting || o.state == callCBDialing) {
				e.unqueue(c)
				delete(e.calls, c.id)
				e.dispatch(now)
				return nil
			}
		}
		c.state = callCBWaiting
		e.persist(c, now)
		e.dispatch(now)
		return nil
	})
}

func (e *Engine) persist(c *call, now time.Time) {
	if e.cbs == nil {
		return
	}
	cb := Callback{Call: c.id, Number: c.number, Type: c.typ.cfg.ID, Queued: c.queued, Tries: c.tries, NotUntil: c.notUntil}
	for _, gi := range c.groups {
		cb.Groups = append(cb.Groups, e.groups[gi].cfg.ID)
	}
	e.storeErr(now, e.cbs.PutCallback(cb))
}

func (e *Engine) restoreCallback(cb Callback) {
	ct := e.deflt
	for _, t := range e.types {
		if t.cfg.ID == cb.Type {
			ct = t
		}
	}
	var groups []int
	for _, id := range cb.Groups {
		if gi, ok := e.groupIdx[id]; ok {
			groups = append(groups, gi)
		}
	}
	if len(groups) == 0 {
		groups = slices.Clone(ct.groups)
	}
	if len(groups) == 0 {
		return
	}
	e.seq++
	c := &call{id: cb.Call, number: cb.Number, typ: ct, groups: groups, queued: cb.Queued, since: cb.Queued,
		seq: e.seq, state: callCBWaiting, agent: -1, tries: cb.Tries, notUntil: cb.NotUntil}
	e.calls[c.id] = c
	e.insert(c)
	e.armRetry(c, e.clock.Now())
}

func (e *Engine) armRetry(c *call, now time.Time) {
	if d := c.notUntil.Sub(now); d > 0 {
		gen := c.gen
		e.callAfter(c, d, func(now time.Time) {
			if c.gen == gen && e.calls[c.id] == c {
				e.dispatch(now)
			}
		})
	}
}

func (e *Engine) dialCallback(c *call, a *agent, gi int, now time.Time) {
	c.state = callCBDialing
	c.agent = a.idx
	a.call = c
	a.ringGroup = gi
	e.setState(a, Ringing, "callback", now)
	e.stopAgentTimer(a)
	seq := a.seq
	a.timer = e.after(e.cfg.CallbackTimeout, func(now time.Time) {
		if a.seq == seq && a.call == c && c.state == callCBDialing {
			id := a.cfg.ID
			e.emit(func() { e.act.StopRing(id, c.id) }) // give up the dial
			e.callbackFailed(c, now)
		}
	})
	id, num := a.cfg.ID, c.number
	e.emit(func() { e.act.CallBack(c.id, num, id) })
}

// CallbackConnected reports that the called-back customer and the reserved
// agent are connected.
func (e *Engine) CallbackConnected(callID CallID) error {
	return e.do(func(now time.Time) error {
		c, err := e.callByID(callID)
		if err != nil {
			return err
		}
		if c.state != callCBDialing {
			return fmt.Errorf("%w: callback %s is not being dialled", ErrBadState, callID)
		}
		a := e.agents[c.agent]
		e.stopAgentTimer(a)
		if e.cbs != nil {
			e.storeErr(now, e.cbs.DeleteCallback(c.id))
		}
		e.connect(c, a, now)
		return nil
	})
}

// CallbackFailed reports that the customer could not be reached; the
// callback is retried later, keeping its place, up to Config.CallbackTries.
func (e *Engine) CallbackFailed(callID CallID) error {
	return e.do(func(now time.Time) error {
		c, err := e.callByID(callID)
		if err != nil {
			return err
		}
		if c.state != callCBDialing {
			return fmt.Errorf("%w: callback %s is not being dialled", ErrBadState, callID)
		}
		e.callbackFailed(c, now)
		return nil
	})
}

func (e *Engine) callbackFailed(c *call, now time.Time) {
	a := e.agents[c.agent]
	e.stopAgentTimer(a)
	a.call = nil
	c.agent = -1
	e.setState(a, Idle, "callback failed", now)
	c.tries++
	if c.tries >= e.cfg.CallbackTries || len(c.groups) == 0 {
		e.unqueue(c)
		delete(e.calls, c.id)
		e.dropCallback(c, now)
	} else {
		c.state = callCBWaiting
		c.notUntil = now.Add(e.cfg.CallbackRetry)
		e.persist(c, now)
		e.armRetry(c, now)
	}
	e.dispatch(now)
}

// dropCallback forgets a callback the engine gives up on and tells
// supervisors.
func (e *Engine) dropCallback(c *call, now time.Time) {
	if e.cbs != nil {
		e.storeErr(now, e.cbs.DeleteCallback(c.id))
	}
	n := Notice{Kind: NoticeCallbackFailed, At: now, Call: c.id, Number: c.number}
	e.emit(func() { e.act.Notify(n) })
}

// endCallback cancels a callback (Hangup, or Stop with stopDial so the
// wiring gives up a dial in progress).
func (e *Engine) endCallback(c *call, now time.Time, stopDial bool) {
	if c.state == callCBDialing {
		a := e.agents[c.agent]
		e.stopAgentTimer(a)
		a.call = nil
		if stopDial {
			id := a.cfg.ID
			e.emit(func() { e.act.StopRing(id, c.id) })
		}
		e.setState(a, Idle, "callback cancelled", now)
	}
	e.unqueue(c)
	if e.cbs != nil {
		e.storeErr(now, e.cbs.DeleteCallback(c.id))
	}
}

// --- agent state ------------------------------------------------------------------

// Login signs an agent in as idle.
func (e *Engine) Login(agentID AgentID) error { return e.SetState(agentID, Idle, "login") }

// Logout signs an agent out; refused while ringing or talking.
func (e *Engine) Logout(agentID AgentID) error { return e.SetState(agentID, Offline, "logout") }

// SetState is an agent's (or a supervisor's) state change: Idle (also to
// end wrap-up), Break with a reason, Busy, or Offline (forced logout).
// Ringing and talking agents cannot be changed (ErrEngaged); the engine
// alone sets Ringing, Talking and WrapUp.
func (e *Engine) SetState(agentID AgentID, to State, reason string) error {
	return e.setStateSince(agentID, to, reason, time.Time{})
}

// RestoreState is SetState for a restart: the agent is back in the state
// their status log ended in, in it since that time (an earlier since than
// now), so that the time in state and the longest-idle order go on as
// before the restart.
func (e *Engine) RestoreState(agentID AgentID, to State, reason string, since time.Time) error {
	return e.setStateSince(agentID, to, reason, since)
}

func (e *Engine) setStateSince(agentID AgentID, to State, reason string, since time.Time) error {
	return e.do(func(now time.Time) error {
		a, err := e.agentByID(agentID)
		if err != nil {
			return err
		}
		if a.state.engaged() {
			return fmt.Errorf("%w: %s is %s", ErrEngaged, agentID, a.state)
		}
		switch to {
		case Idle, Break, Busy, Offline:
		default:
			return fmt.Errorf("%w: cannot set %s by hand", ErrBadState, to)
		}
		if a.state == to && (to != Break || a.reason == reason) {
			return nil // only a break's reason is worth a new entry
		}
		if a.state == WrapUp {
			e.stopAgentTimer(a)
		}
		if to == Idle || to == Offline {
			a.noAnswer = 0
		}
		e.setState(a, to, reason, now)
		if !since.IsZero() && since.Before(now) {
			a.since = since
			if to == Idle {
				a.idleSince = since
			}
		}
		if to == Idle {
			e.dispatch(now)
		} else {
			e.checkLeave(now)
		}
		return nil
	})
}

// --- supervisor operations ------------------------------------------------

// Stop removes a waiting request (or callback): the caller is routed to
// TargetHangup.
func (e *Engine) Stop(callID CallID) error {
	return e.do(func(now time.Time) error {
		c, err := e.callByID(callID)
		if err != nil {
			return err
		}
		switch c.state {
		case callTalking:
			return fmt.Errorf("%w: call %s is connected", ErrBadState, callID)
		case callWaiting:
			e.releaseRings(c, now)
			e.unqueue(c)
			e.emit(func() { e.act.Route(c.id, Target{Kind: TargetHangup}) })
		default:
			e.endCallback(c, now, true)
		}
		delete(e.calls, c.id)
		e.dispatch(now)
		return nil
	})
}

// Assign rings a chosen agent for a waiting request at once (a callback
// is dialled for them). The agent must be signed in and not engaged; a
// supervisor may take them off break, busy or wrap-up to do so.
func (e *Engine) Assign(callID CallID, agentID AgentID) error {
	return e.do(func(now time.Time) error {
		c, err := e.callByID(callID)
		if err != nil {
			return err
		}
		a, err := e.agentByID(agentID)
		if err != nil {
			return err
		}
		if a.state.engaged() {
			return fmt.Errorf("%w: %s is %s", ErrEngaged, agentID, a.state)
		}
		if a.state == Offline {
			return fmt.Errorf("%w: %s is offline", ErrBadState, agentID)
		}
		if len(c.groups) == 0 {
			return fmt.Errorf("%w: call %s is not waiting", ErrBadState, callID)
		}
		gi := c.groups[0]
		for _, g := range c.groups {
			if a.skill[g] >= 0 {
				gi = g
				break
			}
		}
		switch c.state {
		case callWaiting:
			e.releaseRings(c, now)
			if a.state == WrapUp {
				e.stopAgentTimer(a)
			}
			e.ring(c, a, e.groups[gi], now)
		case callCBWaiting:
			e.dialCallback(c, a, gi, now)
		default:
			return fmt.Errorf("%w: call %s is not waiting", ErrBadState, callID)
		}
		e.dispatch(now)
		return nil
	})
}

// Transfer hands a connected call to another agent (a consultative
// transfer the agents completed between them): the serving agent goes to
// wrap-up as after a hang-up, and to talks the call from now on. to must
// be signed in and not ringing or talking for another call.
func (e *Engine) Transfer(callID CallID, to AgentID) error {
	return e.do(func(now time.Time) error {
		c, err := e.callByID(callID)
		if err != nil {
			return err
		}
		if c.state != callTalking {
			return fmt.Errorf("%w: call %s is not connected", ErrBadState, callID)
		}
		b, err := e.agentByID(to)
		if err != nil {
			return err
		}
		if b.idx == c.agent {
			return fmt.Errorf("%w: %s already has call %s", ErrBadState, to, callID)
		}
		if b.state.engaged() {
			return fmt.Errorf("%w: %s is %s", ErrEngaged, to, b.state)
		}
		if b.state == Offline {
			return fmt.Errorf("%w: %s is offline", ErrBadState, to)
		}
		e.endTalk(c, now)
		if b.state == WrapUp {
			e.stopAgentTimer(b)
		}
		c.agent = b.idx
		c.answered = now
		b.call = c
		b.ringGroup = c.primary()
		e.setState(b, Talking, "transfer", now)
		b.answered++
		e.dispatch(now)
		return nil
	})
}
