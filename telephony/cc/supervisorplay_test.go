package cc_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"callbox/telephony/ivr"
)

// A supervisor plays a prompt and then a text to a waiting caller: the
// caller hears them over the group's music, which comes back after each,
// and is still waiting; once the agent is free the caller is served. It
// failed before: PlayToCaller refused a caller not yet with an agent.
func TestPlayToWaitingCaller(t *testing.T) {
	cfg := testConfig()
	cfg.Groups[0].MOH = "sales-hold"
	r := newRig(t, cfg, nil)
	r.login("1088", "202")
	r.serve()
	// The second caller waits: 1088 is busy with the first.
	co2 := r.ring("fxo2", "13900139000")
	r.untilAnswered(co2)
	if err := co2.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	r.run(time.Second)
	w := r.svc.Waiting()
	if len(w) != 1 {
		t.Fatalf("waiting %+v", w)
	}
	call := string(w[0].Call)
	r.prompts.take()
	recordCO(co2, 4*time.Second)
	for _, p := range []ivr.Prompt{{File: "welcome"}, {Text: "请稍候"}} {
		if err := r.do(func(ctx context.Context) error { return r.svc.PlayToCaller(ctx, "boss", call, p) }); err != nil {
			t.Fatalf("play %+v to a waiting caller: %v", p, err)
		}
		r.run(2 * time.Second)
	}
	if got := r.prompts.take(); !slices.Contains(got, "welcome") || !slices.Contains(got, "text:请稍候") ||
		!slices.Contains(got, "sales-hold") {
		t.Fatalf("prompts %v, want welcome, the text and the music again", got)
	}
	if got := heardPrompts(co2.Heard()); !slices.Contains(got, "welcome") {
		t.Fatalf("the waiting caller heard %v", got)
	}
	if w := r.svc.Waiting(); len(w) != 1 || string(w[0].Call) != call {
		t.Fatalf("after the prompts the caller no longer waits: %+v", w)
	}
	if !has(r.events(), "supervisor.action") {
		t.Fatal("no supervisor action published for the play")
	}
	// 1088 hangs up the first caller and takes the waiting one.
	r.phone("202").OnHook()
	r.run(7 * time.Second)
	r.answer("202")
	r.run(time.Second)
	if st := r.state("1088"); st != "talking" {
		t.Fatalf("1088 is %s, not serving the caller who heard the prompts", st)
	}
}
