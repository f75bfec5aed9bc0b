package cc_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/ccconf"
)

// A ring nobody answers moves on to the next agent; the agent who let it
// ring reaches the no-answer limit (1 here) and goes on break, and the
// supervisors hear of it.
func TestUnansweredRingMovesOn(t *testing.T) {
	cfg := testConfig()
	cfg.Settings.MaxNoAnswer = 1
	r := newRig(t, cfg, nil)
	r.login("1088", "202")
	r.run(time.Second)
	r.login("1099", "203")
	co := r.ring("fxo1", "13800138000")
	r.untilAnswered(co)
	if err := co.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	r.untilRinging("202") // longest idle first
	r.run(11 * time.Second)
	if r.phone("202").Ringing() {
		t.Fatal("202 still rings after the group's ring timeout")
	}
	if st, _ := r.svc.ACD().Agent("1088"); st.State != acd.Break || st.Reason != "no answer" {
		t.Fatalf("1088 is %s (%s) after the limit", st.State, st.Reason)
	}
	r.answer("203")
	if st := r.state("1099"); st != "talking" {
		t.Fatalf("1099 is %s", st)
	}
	evs := r.events()
	if !has(evs, "call.ringing 1088", "call.ring_ended 1088", "notice 1088 break", "call.ringing 1099", "call.answered 1099") {
		t.Fatalf("events %q", types(evs))
	}
	for _, e := range evs {
		if e.Type == ccevent.CallRingEnded && e.Reason != "no answer" {
			t.Errorf("ring ended: %q", e.Reason)
		}
	}
	f := r.st.facts.all()
	if len(f) != 1 || len(f[0].Rings) != 2 || f[0].Rings[0].Result != "no answer" || f[0].Rings[1].Result != "answered" {
		t.Fatalf("fact %+v", f)
	}
}

// All agents busy: the caller hears music, the group's periodic prompt and
// position announcements; a key asks for a callback (the caller keeps the
// place and is told, then hung up); once an agent is free the agent's
// phone rings first, then the box dials the customer back and they talk.
func TestAllBusyMusicAnnouncementsCallback(t *testing.T) {
	cfg := testConfig()
	g := &cfg.Groups[0]
	g.Prompt, g.PromptEveryS = "queue-prompt", 8
	g.AnnouncePosition, g.AnnounceWait, g.AnnounceEveryS = true, true, 12
	g.CallbackOffer, g.CallbackKey = true, "1"
	r := newRig(t, cfg, nil)
	r.login("1088", "202")
	// 1088 is busy with the first caller.
	co1 := r.ring("fxo1", "13800138000")
	r.untilAnswered(co1)
	co1.SendDTMF("1")
	r.answer("202")
	// The second caller waits.
	co2 := r.ring("fxo2", "13900139000")
	r.untilAnswered(co2)
	co2.SendDTMF("1")
	r.run(time.Second)
	recordCO(co2, 14*time.Second)
	r.run(14 * time.Second)
	heard := co2.Heard()
	if got := hears(heard[:8000*2]); got == "silence" {
		t.Fatalf("the waiting caller heard silence, want music")
	}
	if got := heardPrompts(heard); !slices.Contains(got, "queue-prompt") {
		t.Fatalf("the waiting caller heard %v, want the queue prompt", got)
	}
	if d := co2.Digits(); !strings.Contains(d, "A1") {
		t.Fatalf("the waiting caller heard digits %q, want the position (A1)", d)
	}
	if err := co2.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	r.run(3 * time.Second)
	if got := r.prompts.take(); !slices.Contains(got, "cc-callback-confirm") {
		t.Fatalf("prompts %v, want the callback confirmation", got)
	}
	r.run(3 * time.Second)
	if co2.BoxOffHook() {
		t.Fatal("the box still holds the line after the callback request")
	}
	w := r.svc.Waiting()
	if len(w) != 1 || !w[0].Callback || w[0].Number != "13900139000" {
		t.Fatalf("waiting %+v", w)
	}
	if cbs, _ := r.st.acd.Callbacks(); len(cbs) != 1 {
		t.Fatalf("stored callbacks %+v", cbs)
	}
	// 1088 ends the first call and wraps up; then the callback rings 202
	// first, and once answered the box dials the customer on fxo2
	// through the route (prefix 9 stripped by it).
	r.phone("202").OnHook()
	r.run(7 * time.Second)
	r.answer("202")
	r.run(3 * time.Second)
	co := r.co("fxo2")
	if got := co.Digits(); !strings.HasSuffix(got, "13900139000") {
		t.Fatalf("the exchange got digits %q, want the customer's number", got)
	}
	if err := co.Answer(); err != nil {
		t.Fatal(err)
	}
	r.run(2 * time.Second)
	if st := r.state("1088"); st != "talking" {
		t.Fatalf("1088 is %s in the callback", st)
	}
	recordCO(co, 2*time.Second)
	r.phone("202").Speak(sine(1100, 5000, 16000))
	r.run(2 * time.Second)
	if got := hears(co.Heard()[4000:], 1100); got != "1100" {
		t.Fatalf("the called-back customer heard %s", got)
	}
	evs := r.events()
	if !has(evs, "callback.requested", "callback.dialled 1088", "callback.connected 1088") {
		t.Fatalf("events %q", types(evs))
	}
	if cbs, _ := r.st.acd.Callbacks(); len(cbs) != 0 {
		t.Fatalf("callbacks left %+v", cbs)
	}
	r.phone("202").OnHook()
	r.run(2 * time.Second)
	var f *cc.Fact
	for _, x := range r.st.facts.all() {
		if x.Number == "13900139000" {
			f = &x
		}
	}
	if f == nil || f.Disposition != "answered" || f.Agent != "1088" || f.Ended.IsZero() {
		t.Fatalf("the callback's fact %+v", f)
	}
}

// A caller waiting past the group's maximum wait overflows to the
// voicemail target: with voicemail not there yet, the caller hears so and
// the call ends, logged and counted.
func TestMaxWaitOverflowsToVoicemail(t *testing.T) {
	cfg := testConfig()
	cfg.Groups[0].MaxWaitS = 20
	cfg.Groups[0].Overflow = ccconf.Target{Kind: ccconf.TargetVoicemail, Mailbox: "100"}
	r := newRig(t, cfg, nil)
	co := r.ring("fxo1", "13800138000")
	r.untilAnswered(co)
	co.SendDTMF("1")
	r.run(15 * time.Second)
	r.prompts.take()
	r.run(10 * time.Second)
	if got := r.prompts.take(); !slices.Equal(got, []string{"cc-voicemail-unavailable"}) {
		t.Fatalf("prompts %v", got)
	}
	r.run(3 * time.Second)
	if co.BoxOffHook() {
		t.Fatal("the line is still held")
	}
	evs := r.events()
	if !has(evs, "call.queued", "call.overflowed", "notice") {
		t.Fatalf("events %q", types(evs))
	}
	f := r.st.facts.all()
	if len(f) != 1 || f[0].Disposition != "overflowed" || f[0].Overflow != "voicemail:100" || f[0].WaitSeconds < 19 {
		t.Fatalf("fact %+v", f)
	}
	if q := r.svc.ACD().Queues()[0]; q.TimedOut != 1 {
		t.Fatalf("queue figures %+v", q)
	}
}

// A blacklisted number (listed in international form, calling in
// national form) is refused before the IVR: the line is never
// answered into a menu, and the refusal is an event.
func TestBlacklistedCallerRefused(t *testing.T) {
	cfg := testConfig()
	cfg.Blacklist = []ccconf.BlacklistEntry{{Number: "+86 138 0013 8000", Direction: ccconf.DirIn}}
	r := newRig(t, cfg, nil)
	co := r.ring("fxo1", "13800138000")
	r.run(10 * time.Second)
	if got := r.prompts.take(); len(got) != 0 {
		t.Fatalf("prompts %v played to a blacklisted caller", got)
	}
	if r.phone("204").Ringing() {
		t.Fatal("the line's extension rings for a blacklisted caller")
	}
	evs := r.events()
	if !has(evs, "call.offered", "call.ended") || evs[len(evs)-1].Reason != "blacklisted" {
		t.Fatalf("events %q", types(evs))
	}
	_ = co
}

// After the agent hangs up, a caller of a group with the survey on hears
// the survey flow and presses a digit; the score is stored with the call.
func TestSurveyAfterService(t *testing.T) {
	cfg := testConfig()
	cfg.Groups[0].Survey, cfg.Groups[0].SurveyFlow = true, "survey"
	r := newRig(t, cfg, nil, `{"id": "survey", "entry": "q", "nodes": [
	 {"id": "q", "type": "survey", "question": "satisfaction", "prompt": "survey-q", "thanks": "survey-thanks", "timeout": "5s", "next": "bye"},
	 {"id": "bye", "type": "hangup"}]}`)
	r.login("1088", "202")
	co := r.ring("fxo1", "13800138000")
	r.untilAnswered(co)
	co.SendDTMF("1")
	r.answer("202")
	r.run(2 * time.Second)
	r.phone("202").OnHook()
	r.run(1500 * time.Millisecond)
	if err := co.SendDTMF("5"); err != nil {
		t.Fatal(err)
	}
	r.run(3 * time.Second)
	if got := r.prompts.take(); !slices.Contains(got, "survey-q") || !slices.Contains(got, "survey-thanks") {
		t.Fatalf("prompts %v", got)
	}
	if co.BoxOffHook() {
		t.Fatal("the line is held after the survey")
	}
	r.run(6 * time.Second)
	f := r.st.facts.all()
	if len(f) != 1 || f[0].Survey == nil || *f[0].Survey != 5 || f[0].Agent != "1088" {
		t.Fatalf("fact %+v", f)
	}
	if !has(r.events(), "survey.answered 1088") {
		t.Fatal("no survey event")
	}
}

// A time branch reads the box's clock: the same call is served before
// closing time and told "closed" after it.
func TestTimeBranchAtClosing(t *testing.T) {
	cfg := testConfig()
	cfg.InboundRoutes[0].Target.Flow = "hours"
	r := newRig(t, cfg, nil, `{"id": "hours", "entry": "t", "nodes": [
	 {"id": "t", "type": "time", "tz": "+08:00", "hours": {"mon-sun": "09:00-18:00"}, "open": "menu", "closed": "closed"},
	 {"id": "menu", "type": "play", "prompt": "welcome", "next": "bye"},
	 {"id": "closed", "type": "play", "prompt": "closed", "next": "bye"},
	 {"id": "bye", "type": "hangup"}]}`)
	// The rig starts at 2026-01-01 00:00 UTC, 08:00 in Beijing: move to
	// 17:59:50 Beijing time.
	r.jump(9*time.Hour + 59*time.Minute + 50*time.Second)
	co := r.ring("fxo1", "13800138000")
	r.untilAnswered(co)
	r.run(3 * time.Second)
	if got := r.prompts.take(); !slices.Equal(got, []string{"welcome"}) {
		t.Fatalf("before closing: prompts %v", got)
	}
	r.run(5 * time.Second)
	co = r.ring("fxo1", "13800138000")
	r.untilAnswered(co)
	r.run(3 * time.Second)
	if got := r.prompts.take(); !slices.Equal(got, []string{"closed"}) {
		t.Fatalf("after closing: prompts %v", got)
	}
}

// An extension dials the internal number of the IVR (8000) and gets the
// same flow; a flow that fails at run time (no such group) gives the
// apology, and the call ends; nothing is left behind.
func TestInternalNumberAndFailingFlow(t *testing.T) {
	cfg := testConfig()
	cfg.InboundRoutes = append(cfg.InboundRoutes, ccconf.InboundRoute{Name: "broken", Source: ccconf.SourceInternal, Number: "8001",
		Target: ccconf.Target{Kind: ccconf.TargetFlow, Flow: "broken"}})
	r := newRig(t, cfg, nil, `{"id": "broken", "entry": "q", "nodes": [
	 {"id": "q", "type": "queue", "group": 9}]}`)
	r.dial("201", "8000")
	r.run(2 * time.Second)
	if got := r.prompts.take(); !slices.Equal(got, []string{"main-menu"}) {
		t.Fatalf("prompts %v", got)
	}
	r.phone("201").OnHook()
	r.run(time.Second)
	r.dial("201", "8001")
	r.run(3 * time.Second)
	if got := r.prompts.take(); !slices.Equal(got, []string{"sorry-youre-having-problems"}) {
		t.Fatalf("prompts %v", got)
	}
	r.phone("201").OnHook()
	r.run(time.Second)
	if err := r.do(func(ctx context.Context) error {
		s, err := r.svc.Services(ctx)
		if err == nil && len(s) != 0 {
			t.Errorf("services %+v", s)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// jump moves the clocks on at once (nothing is in progress).
func (r *rig) jump(d time.Duration) {
	r.bclk.Advance(d)
	r.aclk.RunUntil(r.now())
	r.run(20 * time.Millisecond)
}
