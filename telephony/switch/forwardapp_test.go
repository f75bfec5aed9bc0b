package callswitch_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	callswitch "callbox/telephony/switch"
	"callbox/telephony/switch/dialplan"
)

// An extension forwarded (always, busy, no answer) to a number of the
// application (voicemail's *96 and a box) hands the caller to the
// application, as a number the forwarding extension dialled: the offer
// names the number and the extension, the application answers and hears
// the caller's digits. Before the switch's forward knew applications, the
// caller got "not found".
func TestForwardToApplication(t *testing.T) {
	for _, tc := range []struct {
		name string
		ext  callswitch.Extension
		busy bool
	}{
		{"always", callswitch.Extension{Number: "202", Port: "fxs2", ForwardAll: "*96202"}, false},
		{"busy", callswitch.Extension{Number: "202", Port: "fxs2", ForwardBusy: "*96202"}, true},
		{"no answer", callswitch.Extension{Number: "202", Port: "fxs2", ForwardNoAnswer: "*96202", RingTimeout: 3 * time.Second}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := defaultPlan()
			plan.Apps = []dialplan.App{{Name: "cc", Patterns: []string{"*96X."}}}
			exts := defaultExts()
			exts[1] = tc.ext
			r := newRig(t, rigOpt{plan: plan, exts: exts})
			app := newTestApp()
			r.sw.SetApplication(app)
			if tc.busy {
				r.phone("202").OffHook()
				r.run(300 * time.Millisecond)
			}
			p := r.phone("201")
			p.OffHook()
			r.run(300 * time.Millisecond)
			if err := p.Dial("202"); err != nil {
				t.Fatal(err)
			}
			r.until("the offer", func() bool { c, _ := app.call(0); return c != nil })
			ac, caller := app.call(0)
			in := app.offers[len(app.offers)-1]
			if in.Kind != callswitch.Dialled || in.To != "*96202" || in.Extension != "202" || in.App != "cc" || in.From.Number != "201" {
				t.Fatalf("offer %+v", in)
			}
			if tc.name == "no answer" && r.phone("202").Ringing() {
				t.Fatal("the forwarding phone still rings")
			}
			ac.Answer(caller)
			r.run(500 * time.Millisecond)
			app.events()
			if err := p.Dial("7"); err != nil {
				t.Fatal(err)
			}
			r.run(time.Second)
			if ev := app.events(); !slices.Contains(ev, fmt.Sprint(caller, " digit 7")) {
				t.Fatalf("events %v, want the caller's 7", ev)
			}
			ac.End(callswitch.CauseNormal)
			r.run(time.Second)
			r.hangup("201", "202")
			if n := r.calls(); n != 0 {
				t.Fatalf("%d calls left", n)
			}
		})
	}
}
