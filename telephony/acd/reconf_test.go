package acd

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestReconfigure(t *testing.T) {
	cfg := oneGroup(Linear)
	v := newEnv(t, cfg)
	v.login("a", "b")
	v.offer("talk", "1")
	v.ok(v.e.Answer("a", "talk"))
	v.ok(v.e.SetState("b", Busy, ""))
	v.offer("x", "2")
	v.take()

	// Removing the talking agent is refused and changes nothing.
	c2 := cfg
	c2.Agents = cfg.Agents[1:]
	if err := v.e.Reconfigure(c2); !errors.Is(err, ErrEngaged) {
		t.Fatalf("removing a talking agent: %v", err)
	}

	// Add group 2 and agent d (in both), make group 1 longest-idle, drop c.
	c3 := Config{
		Groups: []Group{{ID: 1, Rule: LongestIdle, Enabled: true}, {ID: 2, Enabled: true}},
		Agents: []Agent{
			cfg.Agents[0], cfg.Agents[1],
			{ID: "d", Groups: []Membership{{1, 1}, {2, 1}}},
		},
	}
	v.ok(v.e.Reconfigure(c3))
	if v.state("a") != Talking || v.state("b") != Busy || v.state("d") != Offline {
		t.Fatal("states not kept")
	}
	if _, err := v.e.Agent("c"); !errors.Is(err, ErrUnknownAgent) {
		t.Fatalf("removed agent still there: %v", err)
	}
	if w := v.e.Waiting(); len(w) != 1 || w[0].Call != "x" || w[0].Group != 1 {
		t.Fatalf("waiting %+v", w)
	}
	v.login("d")
	v.expect("ring d x")
	v.ok(v.e.Answer("d", "x"))
	v.ok(v.e.Hangup("talk"))
	if q := v.queue(1); q.Answered != 2 || q.Offered != 2 {
		t.Fatalf("figures lost: %+v", q)
	}

	// Remove group 1: a waiting caller moves to the type's remaining groups.
	v.ok(v.e.SetState("a", Busy, ""))
	v.offer("y", "3")
	c4 := c3
	c4.Groups = c3.Groups[1:]
	c4.Agents = []Agent{{ID: "a"}, {ID: "b"}, {ID: "d", Groups: []Membership{{2, 1}}}}
	v.take()
	v.ok(v.e.Reconfigure(c4))
	if w := v.e.Waiting(); len(w) != 1 || w[0].Group != 2 {
		t.Fatalf("waiting after group removal %+v", w)
	}
	v.ok(v.e.Hangup("x"))
	v.expect("ring d y")

	// No groups at all: a waiting caller is sent away.
	v.ok(v.e.Reject("d", "y"))
	v.ok(v.e.SetState("d", Busy, ""))
	v.take()
	v.ok(v.e.Reconfigure(Config{Agents: []Agent{{ID: "d"}}}))
	if !slices.Contains(v.take(), "route y hangup ") {
		t.Fatal("caller not sent away")
	}
	if len(v.e.Waiting()) != 0 {
		t.Fatal("caller still waiting")
	}
}

// TestReconfigureTimers: a new max wait applies to callers already waiting,
// counted from when they joined.
func TestReconfigureTimers(t *testing.T) {
	cfg := oneAgent()
	v := newEnv(t, cfg)
	v.offer("x", "1")
	v.clk.Advance(time.Minute)
	cfg.Groups[0].MaxWait = 90 * time.Second
	cfg.Groups[0].Overflow = Target{Kind: TargetVoicemail, Mailbox: "5"}
	v.ok(v.e.Reconfigure(cfg))
	v.clk.Advance(29 * time.Second)
	v.expect()
	v.clk.Advance(time.Second)
	v.expect("route x voicemail 5")
}

func TestLoad(t *testing.T) {
	s := NewMemStore()
	opts := Options{Clock: NewVirtualClock(t0), Actions: &rec{}}
	e, err := Load(s, opts)
	if err != nil || len(e.Queues()) != 0 {
		t.Fatalf("empty store: %v", err)
	}
	_ = s.SaveConfig(oneGroup(RingAll))
	e, err = Load(s, opts)
	if err != nil || len(e.Agents()) != 3 || e.Config().Groups[0].Rule != RingAll {
		t.Fatalf("loaded %v", err)
	}
}

// TestDisabledGroups: a disabled group takes no callers, at the door, by
// overflow or after a reconfiguration.
func TestDisabledGroups(t *testing.T) {
	cfg := Config{
		Groups: []Group{
			{ID: 1, Enabled: true, MaxQueue: 1, Overflow: Target{Kind: TargetGroup, Group: 2}},
			{ID: 2, Enabled: false},
			{ID: 3, Enabled: true},
		},
		Agents:  []Agent{{ID: "a", Groups: []Membership{{3, 1}}}},
		Default: CustomerType{Groups: []int{1, 3}},
	}
	v := newEnv(t, cfg)
	v.offer("x", "1")
	if out, _, _ := v.e.Offer(CallInfo{ID: "y", Number: "1"}); out != Routed {
		t.Fatalf("overflow into a disabled group: outcome %d", out)
	}
	cfg.Groups[0].Enabled = false
	v.ok(v.e.Reconfigure(cfg))
	if w := v.e.Waiting(); len(w) != 1 || w[0].Group != 3 {
		t.Fatalf("after disabling group 1: %+v", w)
	}
	v.take()
	v.login("a")
	v.expect("ring a x")
}
