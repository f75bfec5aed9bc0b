package cc_test

import (
	"testing"
	"time"

	"callbox/board/sim/si3050sim"
	"callbox/dsp/fax/t30"
	"callbox/telephony/cc"
	"callbox/telephony/ccconf"
	"callbox/telephony/fax"
	"callbox/telephony/fax/faxtest"
)

// A fax machine that calls a number whose route queues it, or that an
// agent answers, or that is asked to leave a recording in a flow, is
// heard calling (CNG) and received: the pages pixel for pixel, the record
// linking the call centre's call. A queued machine leaves the queue and
// the agent it rang stops ringing; an agent's call stays the agent's; the
// recording (the group's, or the record node's) heard the caller all the
// while, chained behind the detector. Before, the call centre stopped
// listening once the caller queued, an agent answered or a recording took
// the caller's tap, and none of these faxes was received.
func TestCNGHeardQueuedWithAgentOrRecording(t *testing.T) {
	const recFlow = `{"id": "msg", "entry": "r", "nodes": [
 {"id": "r", "type": "record", "var": "msg", "max": "60s", "next": "bye"},
 {"id": "bye", "type": "hangup"}]}`
	for _, tc := range []struct {
		name   string
		target ccconf.Target
		agent  bool // the agent answers before the machine starts
		record bool // the group records its calls
	}{
		{"queued", ccconf.Target{Kind: ccconf.TargetGroup, Group: 1}, false, false},
		{"with agent", ccconf.Target{Kind: ccconf.TargetGroup, Group: 1}, true, true},
		{"record node", ccconf.Target{Kind: ccconf.TargetFlow, Flow: "msg"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.InboundRoutes[0].Target = tc.target
			cfg.Groups[0].RingTimeoutS = 60
			if tc.record {
				on := true
				cfg.Groups[0].Recording = &on
			}
			rec := &memRecorder{}
			doc := faxtest.Document(1)
			r := newFaxRigWith(t, cfg, cc.Options{Recorder: rec},
				t30.Config{Calling: true, Pages: doc, Ident: "+86 10 8888 0606", NoECM: true}, recFlow)
			if tc.target.Kind == ccconf.TargetGroup {
				r.login("1088", "201")
			}
			if err := r.co.Ring(si3050sim.Call{}); err != nil {
				t.Fatal(err)
			}
			if tc.agent {
				r.answer("201")
			}
			for n := 0; !r.co.Answered(); n++ {
				if n > 1500 {
					t.Fatal("the box did not answer")
				}
				r.frame()
			}
			r.on = true
			kept, pages := r.finished(t)
			if kept.Status != fax.StatusDone || kept.Direction != fax.In || kept.Pages != 1 || kept.Ident != "+86 10 8888 0606" {
				t.Fatalf("kept %+v; the machine: %+v", kept, r.machine.Result())
			}
			faxtest.SamePages(t, pages, doc)
			evs := r.events()
			if call := callOf(evs); kept.CallID != call {
				t.Errorf("the record links call %q, the call centre's call is %q", kept.CallID, call)
			}
			switch tc.name {
			case "queued":
				if !has(evs, "call.queued") {
					t.Errorf("the machine was never queued: %v", types(evs))
				}
				if r.phone("201").Ringing() {
					t.Error("the agent's phone still rings")
				}
			case "with agent":
				r.run(100 * time.Millisecond)
				if !r.co.BoxOffHook() || !r.phone("201").IsOffHook() || has(r.events(), "call.ended") {
					t.Fatal("the call ended with the fax")
				}
			}
			if tc.record || tc.name == "record node" {
				// Frames read when it stopped, or waiting to be.
				if n, _ := rec.stats(); rec.Tap() == nil || n+rec.Tap().Len() < 100 {
					t.Error("the recording heard nothing while the detector listened")
				}
			}
		})
	}
}
