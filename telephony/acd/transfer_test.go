package acd

import (
	"errors"
	"testing"
	"time"
)

// A connected call handed from one agent to another: the first wraps up,
// the second talks; the call's end puts the second in wrap-up.
func TestTransferConnectedCall(t *testing.T) {
	cfg := oneGroup(LongestIdle)
	for i := range cfg.Agents {
		cfg.Agents[i].WrapUp = 30 * time.Second
	}
	v := newEnv(t, cfg)
	v.login("a")
	v.offer("c1", "13800138000")
	v.expect("ring a c1")
	v.ok(v.e.Answer("a", "c1"))
	v.take()
	if err := v.e.Transfer("c1", "b"); !errors.Is(err, ErrBadState) {
		t.Fatalf("transfer to an offline agent: %v", err)
	}
	v.login("b")
	v.ok(v.e.Transfer("c1", "b"))
	if v.state("a") != WrapUp || v.state("b") != Talking {
		t.Fatalf("a %s, b %s after the transfer", v.state("a"), v.state("b"))
	}
	if s, _ := v.e.Agent("b"); s.Call != "c1" {
		t.Fatalf("b's call %q", s.Call)
	}
	v.ok(v.e.Hangup("c1"))
	if v.state("b") != WrapUp {
		t.Fatalf("b %s after the hang-up", v.state("b"))
	}
	if err := v.e.Transfer("c1", "a"); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("transfer of an ended call: %v", err)
	}
}
