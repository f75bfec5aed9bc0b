package acd

import (
	"errors"
	"testing"
	"time"
)

// TestGroupSLThreshold: each group counts its answers against its own
// service-level threshold; a group without one takes the configuration's.
func TestGroupSLThreshold(t *testing.T) {
	cfg := Config{
		Groups: []Group{
			{ID: 1, Name: "fast", Enabled: true, SLThreshold: 10 * time.Second},
			{ID: 2, Name: "slow", Enabled: true},
		},
		Agents: []Agent{
			{ID: "a", Groups: []Membership{{1, 1}}},
			{ID: "b", Groups: []Membership{{2, 1}}},
		},
		CustomerTypes: []CustomerType{{ID: 1, Name: "two", Priority: 1, Prefixes: []string{"2"}, Groups: []int{2}}},
		Default:       CustomerType{ID: 0, Groups: []int{1}},
		SLThreshold:   30 * time.Second,
	}
	v := newEnv(t, cfg)
	v.offer("x", "100") // group 1
	v.offer("y", "200") // group 2
	v.clk.Advance(15 * time.Second)
	v.login("a", "b")
	v.ok(v.e.Answer("a", "x"))
	v.ok(v.e.Answer("b", "y"))
	if q := v.queue(1); q.AnsweredSL != 0 || q.SLThreshold != 10*time.Second {
		t.Fatalf("group 1 answered after 15 s within its 10 s threshold: %+v", q)
	}
	if q := v.queue(2); q.AnsweredSL != 1 || q.SLThreshold != 30*time.Second {
		t.Fatalf("group 2 answered after 16 s outside the configuration's 30 s: %+v", q)
	}
	if got := v.e.Config(); got.Groups[1].SLThreshold != 30*time.Second {
		t.Fatalf("defaults: %+v", got.Groups[1])
	}
}

// TestGroupWrapUp: an agent without a wrap-up of their own wraps up for
// the time of the group the call came through; an agent's own wins.
func TestGroupWrapUp(t *testing.T) {
	cfg := Config{
		Groups: []Group{
			{ID: 1, Name: "long", Enabled: true, WrapUp: 20 * time.Second},
			{ID: 2, Name: "none", Enabled: true},
		},
		Agents: []Agent{
			{ID: "a", Groups: []Membership{{1, 1}, {2, 1}}},
			{ID: "b", Groups: []Membership{{1, 1}}, WrapUp: 5 * time.Second},
		},
		CustomerTypes: []CustomerType{{ID: 1, Name: "two", Priority: 1, Prefixes: []string{"2"}, Groups: []int{2}}},
		Default:       CustomerType{ID: 0, Groups: []int{1}},
	}
	v := newEnv(t, cfg)
	v.login("a")
	v.offer("x", "100") // group 1: rings a
	v.ok(v.e.Answer("a", "x"))
	v.ok(v.e.Hangup("x"))
	if v.state("a") != WrapUp {
		t.Fatalf("a after a group-1 call: %s", v.state("a"))
	}
	v.clk.Advance(19 * time.Second)
	if v.state("a") != WrapUp {
		t.Fatal("group wrap-up ended early")
	}
	v.clk.Advance(time.Second)
	if v.state("a") != Idle {
		t.Fatalf("a after 20 s: %s", v.state("a"))
	}
	v.offer("y", "200") // group 2: no wrap-up
	v.ok(v.e.Answer("a", "y"))
	v.ok(v.e.Hangup("y"))
	if v.state("a") != Idle {
		t.Fatalf("a after a group-2 call: %s", v.state("a"))
	}
	v.ok(v.e.Logout("a"))
	v.login("b")
	v.offer("z", "100")
	v.ok(v.e.Answer("b", "z"))
	v.ok(v.e.Hangup("z"))
	v.clk.Advance(5 * time.Second)
	if v.state("b") != Idle {
		t.Fatalf("b's own 5 s wrap-up: %s", v.state("b"))
	}
}

// TestGroupNoCallback: a group that offers no callbacks refuses the
// request and keeps the caller waiting.
func TestGroupNoCallback(t *testing.T) {
	cfg := oneAgent()
	cfg.Groups[0].NoCallback = true
	v := newEnv(t, cfg)
	v.offer("x", "100")
	if err := v.e.RequestCallback("x", ""); !errors.Is(err, ErrBadState) {
		t.Fatalf("callback in a group without: %v", err)
	}
	if w := v.e.Waiting(); len(w) != 1 || w[0].Callback {
		t.Fatalf("waiting %+v", w)
	}
	if cbs, _ := v.store.Callbacks(); len(cbs) != 0 {
		t.Fatalf("stored %+v", cbs)
	}
}
