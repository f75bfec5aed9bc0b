package acd

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// model checks the engine's actions as they happen: no agent rung or
// connected for two calls at once, no call connected twice, no call ended
// twice.
type model struct {
	t        *testing.T
	seed     uint64
	ringing  map[AgentID]CallID
	reserved map[AgentID]CallID // callbacks being dialled
	talking  map[AgentID]CallID
	served   map[CallID]bool
	done     map[CallID]string
	trace    []string
}

func (m *model) log(format string, a ...any) {
	m.trace = append(m.trace, fmt.Sprintf(format, a...))
	if len(m.trace) > 40 {
		m.trace = m.trace[1:]
	}
}

func (m *model) fail(format string, a ...any) {
	m.t.Helper()
	m.t.Fatalf("seed %d: %s\nlast actions:\n%s", m.seed, fmt.Sprintf(format, a...), strings.Join(m.trace, "\n"))
}

func (m *model) busy(a AgentID) bool {
	_, r := m.ringing[a]
	_, c := m.reserved[a]
	_, t := m.talking[a]
	return r || c || t
}

func (m *model) Ring(q RingRequest) {
	m.log("ring %s %s", q.Agent, q.Call)
	if m.busy(q.Agent) {
		m.fail("ring %s for %s while busy", q.Agent, q.Call)
	}
	if m.served[q.Call] || m.done[q.Call] != "" {
		m.fail("ring %s for %s, which is over or served", q.Agent, q.Call)
	}
	m.ringing[q.Agent] = q.Call
}

func (m *model) StopRing(a AgentID, c CallID) {
	m.log("stopring %s %s", a, c)
	switch c {
	case m.ringing[a]:
		delete(m.ringing, a)
	case m.reserved[a]:
		delete(m.reserved, a)
	default:
		m.fail("stopring %s %s, ringing %q", a, c, m.ringing[a])
	}
}

func (m *model) Connect(c CallID, a AgentID) {
	m.log("connect %s %s", c, a)
	if m.served[c] {
		m.fail("call %s served twice", c)
	}
	if _, t := m.talking[a]; t {
		m.fail("agent %s connected to %s while talking", a, c)
	}
	if m.ringing[a] != c && m.reserved[a] != c {
		m.fail("agent %s connected to %s without ringing", a, c)
	}
	delete(m.ringing, a)
	delete(m.reserved, a)
	m.served[c] = true
	m.talking[a] = c
}

func (m *model) Play(CallID, string)                 {}
func (m *model) Announce(CallID, int, time.Duration) {}
func (m *model) end(c CallID, how string) {
	m.log("end %s %s", c, how)
	if m.done[c] != "" {
		m.fail("call %s ended twice (%s, %s)", c, m.done[c], how)
	}
	m.done[c] = how
}
func (m *model) Route(c CallID, t Target) { m.end(c, "routed") }
func (m *model) CallBack(c CallID, n string, a AgentID) {
	m.log("callback %s %s", c, a)
	if m.busy(a) {
		m.fail("callback %s reserves busy agent %s", c, a)
	}
	m.reserved[a] = c
}
func (m *model) Notify(n Notice) {
	if n.Kind == NoticeCallbackFailed {
		m.end(n.Call, "callback failed")
		for a, c := range m.reserved {
			if c == n.Call {
				delete(m.reserved, a)
			}
		}
	}
}

func propConfig(r *rand.Rand) Config {
	cfg := Config{MaxNoAnswer: 1 + r.IntN(3), NoAnswer: NoAnswerAction(r.IntN(2)), CallbackTries: 2, CallbackRetry: 20 * time.Second}
	for g := 1; g <= 3; g++ {
		grp := Group{ID: g, Priority: r.IntN(3), Rule: Rule(r.IntN(int(numRules))), Enabled: true,
			RingTimeout: time.Duration(5+r.IntN(10)) * time.Second, MinSkill: r.IntN(3),
			Relax: []RelaxStep{{After: 20 * time.Second, MinSkill: 0}},
			Join:  EmptyRule(r.IntN(3)), Leave: EmptyRule(r.IntN(3)), MaxQueue: r.IntN(6),
			PromptEvery: 10 * time.Second, Prompt: "p", AnnounceEvery: 15 * time.Second}
		if r.IntN(2) == 0 {
			grp.MaxWait = time.Duration(30+r.IntN(60)) * time.Second
			grp.Overflow = []Target{{Kind: TargetGroup, Group: g%3 + 1}, {Kind: TargetIVR, Flow: "f"}, {}}[r.IntN(3)]
		}
		cfg.Groups = append(cfg.Groups, grp)
	}
	for i := range 6 {
		a := Agent{ID: AgentID(fmt.Sprint("ag", i)), Level: r.IntN(4), WrapUp: time.Duration(r.IntN(3)) * 5 * time.Second}
		for g := 1; g <= 3; g++ {
			if r.IntN(2) == 0 {
				a.Groups = append(a.Groups, Membership{g, r.IntN(4)})
			}
		}
		cfg.Agents = append(cfg.Agents, a)
	}
	cfg.CustomerTypes = []CustomerType{{ID: 1, Priority: 5, Prefixes: []string{"1"}, Groups: []int{1, 2}}}
	cfg.Default = CustomerType{ID: 0, Groups: []int{3, 2}}
	cfg.Blacklist = []string{"000"}
	return cfg
}

var propSeeds = flag.Int("acd.seeds", 0, "random sequences for TestProperties (default 150)")

// TestProperties drives random operation sequences and checks that no
// call is lost or served twice and no agent has two calls at once.
func TestProperties(t *testing.T) {
	seeds := 150
	if testing.Short() || raceEnabled {
		seeds = 40
	}
	if *propSeeds > 0 {
		seeds = *propSeeds
	}
	for seed := range uint64(seeds) {
		runProperty(t, seed, 400)
	}
}

func runProperty(t *testing.T, seed uint64, steps int) {
	r := rand.New(rand.NewPCG(seed, 7))
	m := &model{t: t, seed: seed, ringing: map[AgentID]CallID{}, reserved: map[AgentID]CallID{},
		talking: map[AgentID]CallID{}, served: map[CallID]bool{}, done: map[CallID]string{}}
	clk := NewVirtualClock(t0)
	store := NewMemStore()
	cfg := propConfig(r)
	full := cfg
	e, err := New(cfg, Options{Clock: clk, Actions: m, Status: store, Callbacks: store, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	var offered []CallID
	agents := func() AgentID { return full.Agents[r.IntN(len(full.Agents))].ID }
	anyCall := func() CallID {
		if len(offered) == 0 {
			return "none"
		}
		return offered[r.IntN(len(offered))]
	}
	for step := range steps {
		op := r.IntN(14)
		m.log("-- step %d op %d at %s", step, op, clk.Now().Format("15:04:05"))
		switch op {
		case 0, 1:
			id := CallID(fmt.Sprint("c", step))
			num := []string{"000", "123", "456", "789"}[r.IntN(4)]
			out, _, err := e.Offer(CallInfo{ID: id, Number: num})
			if err != nil {
				m.fail("offer: %v", err)
			}
			offered = append(offered, id)
			if out != Queued {
				m.end(id, "refused")
			}
		case 2, 3:
			for a, c := range m.ringing {
				if r.IntN(2) == 0 && e.Answer(a, c) == nil {
					break
				}
			}
		case 4:
			for a, c := range m.ringing {
				delete(m.ringing, a) // before: the engine may ring a again at once
				if e.Reject(a, c) != nil {
					m.ringing[a] = c
				}
				break
			}
		case 5, 6:
			c := anyCall()
			// Free the agent in the model first: hanging up dispatches anew.
			saved := map[AgentID]CallID{}
			for _, mm := range []map[AgentID]CallID{m.talking, m.reserved} {
				for a, tc := range mm {
					if tc == c {
						saved[a] = tc
						delete(mm, a)
					}
				}
			}
			wasTalking := m.served[c]
			if e.Hangup(c) == nil {
				m.end(c, "hangup")
			} else {
				for a, tc := range saved {
					if wasTalking {
						m.talking[a] = tc
					} else {
						m.reserved[a] = tc
					}
				}
			}
		case 7:
			_ = e.SetState(agents(), []State{Idle, Idle, Break, Busy, Offline}[r.IntN(5)], "x")
		case 8:
			c := anyCall()
			if e.RequestCallback(c, "") == nil {
				e.mu.Lock()
				_, known := e.calls[c]
				e.mu.Unlock()
				if !known {
					m.end(c, "merged into its number's callback")
				}
			}
		case 9:
			for a, c := range m.reserved {
				if r.IntN(2) == 0 {
					_ = e.CallbackConnected(c)
				} else {
					delete(m.reserved, a)
					if e.CallbackFailed(c) != nil {
						m.reserved[a] = c
					}
				}
				break
			}
		case 10:
			c := anyCall()
			if e.Stop(c) == nil && m.done[c] == "" {
				m.end(c, "stopped callback") // a live caller was routed instead
			}
		case 11:
			_ = e.Assign(anyCall(), agents())
		case 12:
			if r.IntN(3) == 0 {
				cfg = mutate(r, cfg, full)
				if err := e.Reconfigure(cfg); err != nil && !errors.Is(err, ErrEngaged) {
					m.fail("reconfigure: %v", err)
				} else if err != nil {
					cfg = e.Config()
				}
				break
			}
			fallthrough
		default:
			clk.Advance(time.Duration(r.IntN(20)) * time.Second)
		}
		check(m, e, offered)
	}
}

// mutate changes routing rules, enables or disables a group, and drops or
// restores agents (from full), as an administrator might mid-day.
func mutate(r *rand.Rand, cfg, full Config) Config {
	cfg.Groups = slices.Clone(cfg.Groups)
	for i := range cfg.Groups {
		if r.IntN(2) == 0 {
			cfg.Groups[i].Rule = Rule(r.IntN(int(numRules)))
		}
	}
	if r.IntN(4) == 0 {
		i := r.IntN(len(cfg.Groups))
		cfg.Groups[i].Enabled = !cfg.Groups[i].Enabled
	}
	if r.IntN(2) == 0 && len(cfg.Agents) > 1 {
		i := r.IntN(len(cfg.Agents))
		cfg.Agents = slices.Delete(slices.Clone(cfg.Agents), i, i+1)
	} else {
		cfg.Agents = full.Agents
	}
	return cfg
}

// check compares the engine's view with the model and accounts for every call.
func check(m *model, e *Engine, offered []CallID) {
	m.t.Helper()
	known := map[CallID]string{}
	for _, w := range e.Waiting() {
		known[w.Call] = "waiting"
	}
	for _, a := range e.Agents() {
		switch a.State {
		case Talking:
			if m.talking[a.Agent] != a.Call {
				m.fail("engine: %s talking %s; model %q", a.Agent, a.Call, m.talking[a.Agent])
			}
			known[a.Call] = "talking"
		case Ringing:
			if m.served[a.Call] || m.done[a.Call] != "" {
				m.fail("engine: %s ringing for %s, which is over or served", a.Agent, a.Call)
			}
			if m.ringing[a.Agent] != a.Call && m.reserved[a.Agent] != a.Call {
				m.fail("engine: %s ringing %s; model %q/%q", a.Agent, a.Call, m.ringing[a.Agent], m.reserved[a.Agent])
			}
		default:
			if m.busy(a.Agent) {
				m.fail("engine: %s %s but model has a call", a.Agent, a.State)
			}
		}
	}
	for _, c := range offered {
		_, k := known[c]
		d := m.done[c] != ""
		if k == d {
			m.fail("call %s: known=%v ended=%q", c, k, m.done[c])
		}
	}
}
