package cc_test

import (
	"context"
	"slices"
	"testing"
	"time"
)

// An agent logs in from any phone of the box: *50, work number #, PIN #,
// with spoken prompts; the phone is bound and rings for the agent's calls.
// *53 2 puts them on break with a reason, *52 makes them ready, *51 logs
// them out and unbinds the phone.
func TestFeatureCodesLogin(t *testing.T) {
	r := newRig(t, testConfig(), nil)
	r.dial("203", "*50")
	r.run(time.Second)
	r.keys("203", "1088#")
	r.run(time.Second)
	r.keys("203", "1234#")
	r.run(2 * time.Second)
	if got := r.prompts.take(); !slices.Equal(got, []string{"cc-login-number", "cc-login-pin", "cc-login-ok"}) {
		t.Fatalf("prompts %v", got)
	}
	if st := r.state("1088"); st != "idle" {
		t.Fatalf("1088 is %s after logging in", st)
	}
	r.phone("203").OnHook()
	r.run(time.Second)
	// A call for sales rings 203.
	co := r.ring("fxo1", "13800138000")
	r.untilAnswered(co)
	if err := co.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	r.untilRinging("203")
	if err := co.Hangup(1, 0); err != nil {
		t.Fatal(err)
	}
	r.run(2 * time.Second)
	if r.phone("203").Ringing() {
		t.Fatal("203 rings on after the caller gave up")
	}
	r.prompts.take()
	for _, c := range []struct{ code, state, reason string }{
		{"*532", "break", "break 2"},
		{"*52", "idle", "ready"},
		{"*54", "busy", "busy"},
		{"*51", "offline", "logout"},
	} {
		r.dial("203", c.code)
		if c.code == "*532" {
			r.run(4 * time.Second) // the reason digit ends on the inter-digit timeout
		}
		r.run(2 * time.Second)
		r.phone("203").OnHook()
		r.run(time.Second)
		st, _ := r.svc.ACD().Agent("1088")
		if st.State.String() != c.state || st.Reason != c.reason {
			t.Fatalf("after %s: 1088 is %s (%q), want %s (%q); prompts %v", c.code, st.State, st.Reason, c.state, c.reason, r.prompts.take())
		}
	}
	if got := r.prompts.take(); !slices.Equal(got, []string{"cc-state-ok", "cc-state-ok", "cc-state-ok", "cc-logout-ok"}) {
		t.Fatalf("prompts %v", got)
	}
	if devs := r.st.devices.m; len(devs) != 0 {
		t.Fatalf("device bindings after logout: %v", devs)
	}
}

// Bad input on the phone: an unknown work number and wrong PINs are
// refused with a spoken reason, three tries at most (the configuration's
// pin_tries), after which the phone is locked out for a while even across
// calls; a state code from a
// phone no agent is on, and the monitor code from a phone that is no
// supervisor's, are refused; nothing changes.
func TestFeatureCodesRefused(t *testing.T) {
	r := newRig(t, testConfig(), nil)
	r.dial("203", "*50")
	r.run(time.Second)
	for _, k := range []string{"9999#", "1088#", "1111#", "1088#", "2222#"} {
		r.keys("203", k)
		r.run(1500 * time.Millisecond)
	}
	r.run(3 * time.Second)
	want := []string{"cc-login-number", "cc-unknown-agent", "cc-login-number", "cc-login-pin", "cc-wrong-pin",
		"cc-login-number", "cc-login-pin", "cc-wrong-pin", "cc-login-failed"}
	if got := r.prompts.take(); !slices.Equal(got, want) {
		t.Fatalf("prompts %v, want %v", got, want)
	}
	if st := r.state("1088"); st != "offline" {
		t.Fatalf("1088 is %s after wrong PINs", st)
	}
	evs := r.events()
	n := 0
	for _, e := range evs {
		if e.Type == "notice" && e.Agent == "1088" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d wrong-PIN notices in %q", n, types(evs))
	}
	r.phone("203").OnHook()
	r.run(time.Second)
	// The phone is locked out for a while (20 s in the rig), across calls:
	// even the right PIN is refused at once; after the lockout it works.
	r.dial("203", "*50")
	r.run(2 * time.Second)
	if got := r.prompts.take(); !slices.Equal(got, []string{"cc-login-failed"}) {
		t.Fatalf("a locked phone: prompts %v", got)
	}
	r.phone("203").OnHook()
	r.run(20 * time.Second)
	r.dial("203", "*50")
	r.run(time.Second)
	r.keys("203", "1088#")
	r.run(time.Second)
	r.keys("203", "1234#")
	r.run(2 * time.Second)
	if got := r.prompts.take(); !slices.Equal(got, []string{"cc-login-number", "cc-login-pin", "cc-login-ok"}) {
		t.Fatalf("after the lockout: prompts %v", got)
	}
	if err := r.do(func(ctx context.Context) error { return r.svc.Logout(ctx, "1088") }); err != nil {
		t.Fatal(err)
	}
	r.phone("203").OnHook()
	r.run(time.Second)
	r.dial("204", "*52")
	r.run(2 * time.Second)
	r.phone("204").OnHook()
	r.run(time.Second)
	// 1088 (no supervisor) on 204 may not monitor.
	r.login("1088", "204")
	r.dial("204", "*562001#")
	r.run(2 * time.Second)
	if got := r.prompts.take(); !slices.Equal(got, []string{"cc-not-agent", "cc-not-allowed"}) {
		t.Fatalf("prompts %v", got)
	}
}

// A supervisor records a prompt by phone: *57 12 #, after the tone they
// speak (a tone here), # ends it; the prompt custom-12 is saved and played
// back. Another phone may not.
func TestRecordPromptByPhone(t *testing.T) {
	r := newRig(t, testConfig(), nil)
	r.login("1099", "203")
	r.dial("203", "*5712#")
	r.run(1500 * time.Millisecond)
	r.phone("203").Speak(sine(700, 6000, 8000*2))
	r.run(2500 * time.Millisecond)
	r.keys("203", "#")
	r.run(4 * time.Second)
	got := r.prompts.take()
	if !slices.Equal(got, []string{"rec/start", "custom-12", "rec/saved"}) {
		t.Fatalf("prompts %v", got)
	}
	x := r.prompts.saved["custom-12"]
	if len(x) < 8000*2 || hears(x, 700) != "700" {
		t.Fatalf("saved %d samples: %s", len(x), hears(x, 700))
	}
	r.phone("203").OnHook()
	r.run(time.Second)
	r.login("1088", "202")
	r.dial("202", "*5713#")
	r.run(2 * time.Second)
	if got := r.prompts.take(); !slices.Equal(got, []string{"cc-not-allowed"}) {
		t.Fatalf("prompts from a phone that may not %v", got)
	}
}
