package callswitch_test

import (
	"testing"
	"time"

	"callbox/telephony/sip"
	"callbox/telephony/switch/cdr"
	"callbox/telephony/switch/dialplan"
)

// A SIP trunk's call rings the extension its DID maps to; a number not
// in the map rings that extension number, else the trunk's default.
func TestTrunkDIDRouting(t *testing.T) {
	dids := map[string]map[string]string{
		"carrier": {"02155550001": "202", "862155550002": "204", "02155550003": "201"},
		"other":   {"02155550009": "204"},
	}
	for _, c := range []struct {
		name, trunk, to, ext string
	}{
		{"did", "carrier", "02155550001", "202"},
		{"did with plus", "carrier", "+862155550002", "204"},
		{"did to the first extension", "carrier", "02155550003", "201"},
		{"extension number", "carrier", "202", "202"},
		{"unknown number takes the default", "carrier", "02155559999", "203"},
		{"another trunk's did is not ours", "carrier", "02155550009", "203"},
		{"no to user takes the default", "carrier", "", "203"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, _ := newSIPRig(t) // carrier's default is 203
			r.sw.SetDIDs(dids)
			ev := r.sw.SIPEvents()
			leg := &sipLeg{id: "trunk1", trunk: c.trunk, dir: sip.Inbound,
				from: sip.Party{User: "13912345678"}, to: sip.Party{User: c.to}}
			ev.Offered(leg)
			r.run(7 * time.Second)
			if !r.phone(c.ext).Ringing() && len(r.phone(c.ext).CallerID()) == 0 {
				t.Fatalf("%s is not rung", c.ext)
			}
			ev.HungUp(leg, sip.CauseCancelled)
			r.run(6 * time.Second)
			recs := r.cdr()
			if len(recs) != 1 || recs[0].To != c.ext || recs[0].Trunk != "carrier" || recs[0].Disposition != cdr.Cancelled {
				t.Fatalf("CDR %+v, want one cancelled call to %s", recs, c.ext)
			}
		})
	}
}

// Outside calls present the route's number when the route overrides;
// otherwise the extension's own caller ID number and name if it has them,
// else the route's number, else the extension.
func TestOutboundCallerID(t *testing.T) {
	pc := defaultPlan()
	pc.Routes = append(pc.Routes,
		dialplan.Route{Name: "carrier", Patterns: []string{"8X."}, Strip: 1, CallerID: "01088886666", Trunks: []string{"carrier"}},
		dialplan.Route{Name: "plain", Patterns: []string{"7X."}, Strip: 1, Trunks: []string{"carrier"}},
		dialplan.Route{Name: "main-number", Patterns: []string{"6X."}, Strip: 1, CallerID: "01088887777", CallerIDOverride: true, Trunks: []string{"carrier"}})
	exts := defaultExts()
	exts[0].CallerIDNumber, exts[0].Name = "02166668888", "SALES"
	for _, c := range []struct {
		name, ext, dial string
		want            sip.Party
	}{
		{"extension's number over the route's", "201", "813800138000", sip.Party{User: "02166668888", Display: "SALES"}},
		{"extension's number on a plain route", "201", "713800138000", sip.Party{User: "02166668888", Display: "SALES"}},
		{"route's number", "202", "813800138000", sip.Party{User: "01088886666"}},
		{"the extension itself", "202", "713800138000", sip.Party{User: "202", Display: "EXT 202"}},
		{"the route overrides the extension's number", "201", "613800138000", sip.Party{User: "01088887777"}},
		{"the route overrides the extension", "202", "613800138000", sip.Party{User: "01088887777"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := &dialer{}
			r := newRig(t, rigOpt{exts: exts, plan: pc, sip: d})
			t.Cleanup(func() { r.sw.Close() })
			r.dial(c.ext, c.dial)
			var leg *sipLeg
			r.until("the dial", func() bool { leg, _ = d.last(); return leg != nil })
			_, reqs := d.last()
			if len(reqs) != 1 || reqs[0].Number != "13800138000" || reqs[0].From != c.want {
				t.Fatalf("dial requests %+v, want from %+v", reqs, c.want)
			}
			r.sw.SIPEvents().HungUp(leg, sip.CauseBusy)
			r.run(time.Second)
		})
	}
}
