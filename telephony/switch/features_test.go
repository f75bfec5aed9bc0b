package callswitch_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"callbox/dsp/tone"
	"callbox/telephony/line"
	"callbox/telephony/switch/cdr"
	"callbox/telephony/switch/dialplan"
)

// talk sets up an answered call from one extension to another.
func (r *rig) talk(from, to string) {
	r.t.Helper()
	r.dial(from, to)
	r.run(500 * time.Millisecond)
	if !r.phone(to).Ringing() && len(r.phone(to).Rings()) == 0 {
		r.t.Fatalf("%s does not ring after %s dialled it", to, from)
	}
	r.phone(to).OffHook()
	r.run(300 * time.Millisecond)
	r.hears(to, "1", from)
}

// hears checks that DTMF dialled on one phone reaches each of the others.
func (r *rig) hears(from, digits string, to ...string) {
	r.t.Helper()
	for _, x := range to {
		r.phone(x).ClearHeard()
	}
	if err := r.phone(from).Dial(digits); err != nil {
		r.t.Fatal(err)
	}
	r.run(time.Duration(len(digits))*200*time.Millisecond + 500*time.Millisecond)
	for _, x := range to {
		if got := r.phone(x).HeardDigits(); got != digits {
			r.t.Fatalf("%s heard %q from %s, want %q", x, got, from, digits)
		}
	}
}

// deaf checks that DTMF from one phone does not reach another.
func (r *rig) deaf(from, to string) {
	r.t.Helper()
	r.phone(to).ClearHeard()
	if err := r.phone(from).Dial("9"); err != nil {
		r.t.Fatal(err)
	}
	r.run(700 * time.Millisecond)
	if got := r.phone(to).HeardDigits(); got != "" {
		r.t.Fatalf("%s heard %q from %s", to, got, from)
	}
}

// hearsTone listens on a phone for up to 8 s for the named tone (CN
// ringback, 1 s on and 4 s off, is recognised after its second burst).
func (r *rig) hearsTone(ext, name string) {
	r.t.Helper()
	var got []string
	for range 16 {
		r.run(500 * time.Millisecond)
		var err error
		got, err = r.phone(ext).HeardTones("CN")
		if err != nil {
			r.t.Fatal(err)
		}
		if slices.Contains(got, name) {
			r.phone(ext).ClearHeard()
			return
		}
	}
	r.t.Fatalf("%s heard %v, want %s", ext, got, name)
}

func (r *rig) hangup(exts ...string) {
	for _, x := range exts {
		r.phone(x).OnHook()
	}
	r.run(1500 * time.Millisecond)
}

func (r *rig) flash() {
	r.t.Helper()
	// The virtual phone's Flash sleeps through the break on the clock,
	// where the driver would never see it: break the loop between frames.
	r.phone("201").OnHook()
	r.run(300 * time.Millisecond)
	r.phone("201").OffHook()
	r.run(500 * time.Millisecond)
}

func (r *rig) ext(n string) (e struct {
	DND                 bool
	All, Busy, NoAnswer string
}) {
	done := make(chan struct{})
	r.sw.Do(func() {
		x, _ := r.sw.ExtensionState(n)
		e.DND, e.All, e.Busy, e.NoAnswer = x.DND, x.ForwardAll, x.ForwardBusy, x.ForwardNoAnswer
		close(done)
	})
	r.run(20 * time.Millisecond)
	<-done
	return e
}

type wantCDR struct {
	disp   cdr.Disposition
	from   string
	to     string
	trunk  string
	cause  string
	legs   string // channel names joined by ","
	billed bool
}

func (r *rig) checkCDRs(want ...wantCDR) {
	r.t.Helper()
	got := r.cdr()
	if len(got) != len(want) {
		r.t.Fatalf("%d CDRs, want %d: %+v", len(got), len(want), got)
	}
	ids := map[string]bool{}
	for i, w := range want {
		g := got[i]
		if ids[g.ID] {
			r.t.Errorf("CDR %d: ID %s repeats", i, g.ID)
		}
		ids[g.ID] = true
		var legs []string
		for _, l := range g.Legs {
			legs = append(legs, l.Channel)
		}
		if g.Disposition != w.disp || g.From != w.from || g.To != w.to || g.Trunk != w.trunk || g.Cause != w.cause ||
			strings.Join(legs, ",") != w.legs || (g.Billable > 0) != w.billed || g.ID == "" || g.End.Before(g.Start) {
			r.t.Errorf("CDR %d: %s %s->%s trunk %s cause %q legs %v billable %v, want %+v", i, g.Disposition, g.From, g.To, g.Trunk, g.Cause, legs, g.Billable, w)
		}
	}
}

func TestDispositions(t *testing.T) {
	t.Run("busy", func(t *testing.T) {
		r := newRig(t, rigOpt{})
		r.talk("203", "204")
		r.dial("201", "204") // 204 has no call waiting
		r.hearsTone("201", tone.Busy)
		r.hangup("201", "203", "204")
		r.checkCDRs(
			wantCDR{cdr.Busy, "201", "204", "fxs1", "busy", "fxs1", false},
			wantCDR{cdr.Answered, "203", "204", "fxs3", "normal", "fxs3,fxs4", true},
		)
	})
	t.Run("no answer", func(t *testing.T) {
		r := newRig(t, rigOpt{ring: 12 * time.Second})
		r.dial("201", "202")
		r.run(13 * time.Second)
		if r.phone("202").Ringing() {
			t.Fatal("202 still rings")
		}
		r.hearsTone("201", tone.Busy)
		r.hangup("201")
		r.checkCDRs(wantCDR{cdr.NoAnswer, "201", "202", "fxs1", "no answer", "fxs1,fxs2", false})
	})
	t.Run("cancelled", func(t *testing.T) {
		r := newRig(t, rigOpt{})
		r.dial("201", "202")
		r.run(3 * time.Second)
		r.hangup("201")
		r.run(5 * time.Second)
		if r.phone("202").Ringing() {
			t.Fatal("202 still rings after the caller gave up")
		}
		r.checkCDRs(wantCDR{cdr.Cancelled, "201", "202", "fxs1", "cancelled", "fxs1,fxs2", false})
	})
	t.Run("failed: no trunk", func(t *testing.T) {
		r := newRig(t, rigOpt{})
		r.co("fxo1").Unplug(true)
		r.co("fxo2").Unplug(true)
		r.run(time.Second)
		r.dial("201", "955551234")
		r.run(5 * time.Second)
		r.hearsTone("201", tone.Congestion)
		r.hangup("201")
		r.checkCDRs(wantCDR{cdr.Failed, "201", "955551234", "fxo2", "congestion", "fxs1,fxo1,fxo2", false})
	})
	t.Run("failed: no such number", func(t *testing.T) {
		r := newRig(t, rigOpt{})
		r.dial("201", "27")
		r.hearsTone("201", tone.Congestion)
		r.hangup("201")
		r.checkCDRs(wantCDR{cdr.Failed, "201", "27", "fxs1", "not found", "fxs1", false})
	})
	t.Run("failed: blocked", func(t *testing.T) {
		r := newRig(t, rigOpt{})
		r.dial("201", "9008613800138000")
		r.run(5 * time.Second)
		r.hearsTone("201", tone.Congestion)
		if r.co("fxo1").BoxOffHook() || r.co("fxo2").BoxOffHook() {
			t.Fatal("a blocked number seized a line")
		}
		r.hangup("201")
		r.checkCDRs(wantCDR{cdr.Failed, "201", "9008613800138000", "fxs1", "blocked", "fxs1", false})
	})
}

// Outbound through the PSTN: the route strips the 9, the first line is
// used, and a line that cannot take the call passes it to the next.
func TestOutboundRoutes(t *testing.T) {
	for _, c := range []struct {
		name    string
		plan    func(*dialplan.Config)
		unplug  string
		dial    string
		trunk   string
		digits  string
		outcome cdr.Disposition
		cause   string
	}{
		{name: "first trunk", dial: "955551234", trunk: "fxo1", digits: "55551234", outcome: cdr.Answered, cause: "normal"},
		{name: "failover", unplug: "fxo1", dial: "955551234", trunk: "fxo2", digits: "55551234", outcome: cdr.Answered, cause: "normal"},
		{name: "prefix added", plan: func(c *dialplan.Config) { c.Routes[0].Prepend = "010" }, dial: "955551234", trunk: "fxo1", digits: "01055551234", outcome: cdr.Answered, cause: "normal"},
		{name: "emergency with everything blocked", plan: func(c *dialplan.Config) {
			c.Routes = nil
			c.Blocked = []string{"X!"}
			c.EmergencyTrunks = []string{"fxo2"}
		}, dial: "110", trunk: "fxo2", digits: "110", outcome: cdr.Answered, cause: "normal"},
		{name: "emergency behind the access code", plan: func(c *dialplan.Config) {
			c.Emergency = []string{"110", "119", "120", "122", "112"}
		}, dial: "9119", trunk: "fxo1", digits: "119", outcome: cdr.Answered, cause: "normal"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pc := defaultPlan()
			if c.plan != nil {
				c.plan(&pc)
			}
			// The line's echo canceller is telephony/line's to test; without
			// it this table runs five times faster under -race.
			r := newRig(t, rigOpt{plan: pc, fxo: line.FXOConfig{NoEcho: true}})
			if c.unplug != "" {
				r.co(c.unplug).Unplug(true)
				r.run(time.Second)
			}
			r.dial("201", c.dial)
			co := r.co(c.trunk)
			for i := 0; i < 40 && len(co.Digits()) < len(c.digits); i++ {
				r.run(250 * time.Millisecond)
			}
			r.run(500 * time.Millisecond)
			if got := co.Digits(); got != c.digits {
				t.Fatalf("%s heard digits %q, want %q", c.trunk, got, c.digits)
			}
			// The exchange's far party talks to 201.
			r.phone("201").ClearHeard()
			if err := co.SendDTMF("42"); err != nil {
				t.Fatal(err)
			}
			r.run(2 * time.Second)
			if got := r.phone("201").HeardDigits(); got != "42" {
				t.Fatalf("201 heard %q from the line", got)
			}
			r.hangup("201")
			if co.BoxOffHook() {
				t.Fatal("the line is still seized")
			}
			legs := "fxs1," + c.trunk
			if c.unplug != "" {
				legs = "fxs1," + c.unplug + "," + c.trunk // the failed attempt is a leg too
			}
			r.checkCDRs(wantCDR{c.outcome, "201", c.dial, c.trunk, c.cause, legs, true})
		})
	}
}

func TestDND(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.dial("202", "*76")
	r.hearsTone("202", tone.Stutter)
	r.hangup("202")
	if !r.ext("202").DND {
		t.Fatal("DND not set")
	}
	r.dial("201", "202")
	if r.phone("202").Ringing() || len(r.phone("202").Rings()) > 0 {
		t.Fatal("202 rang in DND")
	}
	r.hearsTone("201", tone.Busy)
	r.hangup("201")
	r.dial("202", "*77")
	r.hangup("202")
	if r.ext("202").DND {
		t.Fatal("DND still set")
	}
	r.dial("201", "202")
	r.run(2 * time.Second)
	if len(r.phone("202").Rings()) == 0 {
		t.Fatal("202 does not ring after *77")
	}
	r.hangup("201")
	r.checkCDRs(
		wantCDR{cdr.Answered, "202", "*76", "fxs2", "feature", "fxs2", false},
		wantCDR{cdr.Busy, "201", "202", "fxs1", "busy", "fxs1", false},
		wantCDR{cdr.Answered, "202", "*77", "fxs2", "feature", "fxs2", false},
		wantCDR{cdr.Cancelled, "201", "202", "fxs1", "cancelled", "fxs1,fxs2", false},
	)
}

func TestForwarding(t *testing.T) {
	for _, c := range []struct {
		name, set string
		busy      bool // 202 is in a call with 204 first
		waitRing  time.Duration
		target    string // extension that should ring, or "" for the line
		legs      string
	}{
		{name: "unconditional", set: "*72203#", target: "203", legs: "fxs1,fxs3"},
		{name: "busy", set: "*90203#", busy: true, target: "203", legs: "fxs1,fxs3"},
		{name: "no answer", set: "*92203#", waitRing: 11 * time.Second, target: "203", legs: "fxs1,fxs2,fxs3"},
		{name: "to an outside number", set: "*72955551234#", legs: "fxs1,fxo1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			exts := defaultExts()
			exts[1].CallWaiting = false
			r := newRig(t, rigOpt{exts: exts, ring: 10 * time.Second})
			r.dial("202", c.set)
			r.hearsTone("202", tone.Stutter)
			r.hangup("202")
			r.cdr()
			if c.busy {
				r.talk("204", "202")
			}
			r.dial("201", "202")
			r.run(c.waitRing + 3*time.Second)
			if c.target == "" {
				r.run(5 * time.Second)
				if got := r.co("fxo1").Digits(); got != "55551234" {
					t.Fatalf("forwarded outside: the line heard %q", got)
				}
			} else {
				p := r.phone(c.target)
				if len(p.Rings()) == 0 {
					t.Fatalf("%s does not ring", c.target)
				}
				if cid := p.CallerID(); len(cid) == 0 || cid[len(cid)-1].Number != "201" {
					t.Fatalf("%s read caller ID %+v", c.target, cid)
				}
				p.OffHook()
				r.run(300 * time.Millisecond)
			}
			if c.target != "" {
				r.hears("201", "3", c.target)
			} else {
				r.phone("201").ClearHeard()
				if err := r.co("fxo1").SendDTMF("3"); err != nil {
					t.Fatal(err)
				}
				r.run(time.Second)
				if got := r.phone("201").HeardDigits(); got != "3" {
					t.Fatalf("201 heard %q from the forwarded-to line", got)
				}
			}
			r.hangup("201")
			if c.target != "" {
				r.hangup(c.target)
			}
			recs := r.cdr()
			last := recs[0]
			if c.busy {
				last = recs[len(recs)-1]
				for _, x := range recs {
					if x.From == "201" {
						last = x
					}
				}
			}
			var legs []string
			for _, l := range last.Legs {
				legs = append(legs, l.Channel)
			}
			if last.Disposition != cdr.Answered || last.From != "201" || last.To != "202" || strings.Join(legs, ",") != c.legs {
				t.Fatalf("CDR %+v legs %v", last, legs)
			}
		})
	}
}

// With both lines busy, an emergency call takes one from an ordinary
// call (whose phone hears congestion) instead of failing.
func TestEmergencyPreemptsALine(t *testing.T) {
	r := newRig(t, rigOpt{fxo: line.FXOConfig{NoEcho: true}})
	// Each number completes on the 4 s inter-digit timeout, then the line
	// waits for dial tone and dials.
	r.dial("203", "955551111")
	r.run(8 * time.Second)
	r.dial("204", "955552222")
	r.run(8 * time.Second)
	if r.co("fxo1").Digits() != "55551111" || r.co("fxo2").Digits() != "55552222" {
		t.Fatalf("lines dialled %q and %q", r.co("fxo1").Digits(), r.co("fxo2").Digits())
	}
	r.dial("201", "119")
	r.run(6 * time.Second)
	if got := r.co("fxo1").Digits(); got != "119" {
		t.Fatalf("fxo1 dialled %q after the emergency call", got)
	}
	r.hearsTone("203", tone.Congestion)
	r.phone("201").ClearHeard()
	if err := r.co("fxo1").SendDTMF("0"); err != nil {
		t.Fatal(err)
	}
	r.run(time.Second)
	if got := r.phone("201").HeardDigits(); got != "0" {
		t.Fatalf("201 heard %q from the emergency line", got)
	}
	r.hangup("201", "203", "204")
	r.checkCDRs(
		wantCDR{cdr.Answered, "203", "955551111", "fxo1", "preempted", "fxs3,fxo1", true},
		wantCDR{cdr.Answered, "201", "119", "fxo1", "normal", "fxs1,fxo1", true},
		wantCDR{cdr.Answered, "204", "955552222", "fxo2", "normal", "fxs4,fxo2", true},
	)
}
