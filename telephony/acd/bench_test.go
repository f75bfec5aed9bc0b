package acd

import (
	"fmt"
	"testing"
	"time"
)

type nopActions struct{}

func (nopActions) Ring(RingRequest)                    {}
func (nopActions) StopRing(AgentID, CallID)            {}
func (nopActions) Connect(CallID, AgentID)             {}
func (nopActions) Play(CallID, string)                 {}
func (nopActions) Announce(CallID, int, time.Duration) {}
func (nopActions) Route(CallID, Target)                {}
func (nopActions) CallBack(CallID, string, AgentID)    {}
func (nopActions) Notify(Notice)                       {}

// centre is 30 agents over 10 groups (each agent in 3 groups), all rules.
func centre(rule Rule) Config {
	var cfg Config
	for g := 1; g <= 10; g++ {
		cfg.Groups = append(cfg.Groups, Group{ID: g, Priority: 10 - g, Rule: rule, Enabled: true,
			MinSkill: 2, Relax: []RelaxStep{{After: 30 * time.Second, MinSkill: 1}}})
		cfg.Default.Groups = append(cfg.Default.Groups, g)
	}
	for i := range 30 {
		a := Agent{ID: AgentID(fmt.Sprint(1000 + i)), Level: i % 5}
		for k := range 3 {
			a.Groups = append(a.Groups, Membership{Group: (i+k*3)%10 + 1, Skill: 1 + (i+k)%5})
		}
		cfg.Agents = append(cfg.Agents, a)
	}
	return cfg
}

// BenchmarkRoute measures one routing decision for a call that may go to
// any of 10 groups, with 30 agents: "few" has three idle agents, so most
// groups are scanned in vain first; "all" has everyone idle, so the rule
// compares every eligible member of the first group. For ring_all and
// ring_progressive the decision is the longest-idle member (as callbacks
// use); the set rung at once is the same scan.
func BenchmarkRoute(b *testing.B) {
	for _, few := range []bool{true, false} {
		for _, rule := range Rules() {
			name := map[bool]string{true: "few/", false: "all/"}[few] + rule.String()
			b.Run(name, func(b *testing.B) { benchRoute(b, rule, few) })
		}
	}
}

func benchRoute(b *testing.B, rule Rule, few bool) {
	{
		{
			clk := NewVirtualClock(t0)
			e, err := New(centre(rule), Options{Clock: clk, Actions: nopActions{}})
			if err != nil {
				b.Fatal(err)
			}
			for i, a := range e.agents {
				_ = e.Login(a.cfg.ID)
				if few && i%10 != 7 { // keep three idle agents
					_ = e.SetState(a.cfg.ID, Busy, "")
				}
				clk.Advance(time.Second)
			}
			c := &call{id: "x", number: "123", typ: e.deflt, groups: e.deflt.groups, queued: clk.Now(), agent: -1}
			now := clk.Now()
			b.ReportAllocs()
			b.ResetTimer()
			found := 0
			for b.Loop() {
				if ai, _ := e.pickAny(c, now); ai >= 0 {
					found++
				}
			}
			if found == 0 {
				b.Fatal("no agent found")
			}
		}
	}
}

// BenchmarkCallCycle measures a whole call through the engine: offer,
// ring, answer, hang up, with 30 agents and 10 groups.
func BenchmarkCallCycle(b *testing.B) {
	clk := NewVirtualClock(t0)
	e, err := New(centre(LongestIdle), Options{Clock: clk, Actions: nopActions{}})
	if err != nil {
		b.Fatal(err)
	}
	for _, a := range e.agents {
		_ = e.Login(a.cfg.ID)
	}
	ids := make([]CallID, 1024)
	for i := range ids {
		ids[i] = CallID(fmt.Sprint("c", i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id := ids[i%len(ids)]
		i++
		if _, _, err := e.Offer(CallInfo{ID: id, Number: "555"}); err != nil {
			b.Fatal(err)
		}
		var ag AgentID
		for _, a := range e.agents {
			if a.state == Ringing {
				ag = a.cfg.ID
			}
		}
		if err := e.Answer(ag, id); err != nil {
			b.Fatal(err)
		}
		if err := e.Hangup(id); err != nil {
			b.Fatal(err)
		}
		clk.Advance(time.Second)
	}
}
