package callswitch_test

import (
	"slices"
	"testing"
	"time"

	"callbox/dsp/callerid"
	"callbox/dsp/tone"
	"callbox/telephony/switch/cdr"
)

// The analog call through the simulated board: 201 goes off hook
// and hears dial tone (detected by the virtual phone with dsp/tone), dials
// 202; 202 rings with caller ID 201 while 201 hears ringback; 202 answers,
// its DTMF is detected at 201; 202 hangs up, 201 hears busy; one CDR,
// answered, with both legs.
func TestAnalogCallEndToEnd(t *testing.T) {
	r := newRig(t, rigOpt{})
	p201, p202 := r.phone("201"), r.phone("202")
	p201.OffHook()
	r.run(1500 * time.Millisecond)
	if got := r.heard("201"); !slices.Equal(got, []string{tone.Dial}) {
		t.Fatalf("201 heard %v, want dial tone", got)
	}
	if err := p201.Dial("202"); err != nil {
		t.Fatal(err)
	}
	r.run(8 * time.Second)
	cid := p202.CallerID()
	if len(cid) != 1 || cid[0].Number != "201" || cid[0].Name != "EXT 201" {
		t.Fatalf("202 read caller ID %+v", cid)
	}
	if n := len(p202.Rings()); n < 2 {
		t.Fatalf("202 rang %d times in 8 s", n)
	}
	if got := r.heard("201"); !slices.Contains(got, tone.Ringback) {
		t.Fatalf("201 heard %v, want ringback", got)
	}
	p202.OffHook()
	r.run(300 * time.Millisecond)
	p201.ClearHeard()
	if err := p202.Dial("5*9"); err != nil {
		t.Fatal(err)
	}
	r.run(time.Second)
	if got := p201.HeardDigits(); got != "5*9" {
		t.Fatalf("201 heard digits %q from 202, want 5*9", got)
	}
	r.run(10 * time.Second)
	p202.OnHook()
	r.run(2 * time.Second)
	if got := r.heard("201"); !slices.Contains(got, tone.Busy) {
		t.Fatalf("201 heard %v after 202 hung up, want busy", got)
	}
	p201.OnHook()
	r.run(time.Second)
	recs := r.cdr()
	if len(recs) != 1 {
		t.Fatalf("%d CDRs: %+v", len(recs), recs)
	}
	c := recs[0]
	if c.Disposition != cdr.Answered || c.From != "201" || c.To != "202" || c.Trunk != "fxs1" || c.Cause != "normal" {
		t.Fatalf("CDR %+v", c)
	}
	if len(c.Legs) != 2 || c.Legs[0].Channel != "fxs1" || c.Legs[1].Channel != "fxs2" || c.Legs[1].Kind != "fxs" {
		t.Fatalf("CDR legs %+v", c.Legs)
	}
	if c.Billable < 11*time.Second || c.Billable > 13*time.Second || c.Duration < c.Billable+7*time.Second {
		t.Fatalf("CDR duration %v billable %v", c.Duration, c.Billable)
	}
}

// A call from the virtual central office on FXO 1 rings the extension
// the line is routed to with the caller's number; answered, the two talk
// (DTMF from the exchange reaches the phone), and the caller's hang-up
// (busy tone from the exchange) ends it with a CDR naming the trunk.
func TestInboundFromPSTN(t *testing.T) {
	r := newRig(t, rigOpt{inbound: map[string]string{"fxo1": "203"}})
	co := r.co("fxo1")
	msg := callerid.Message{Format: callerid.MDMF, Time: "11211230", Number: "13800138000", Name: "ZHANG SAN"}
	if err := co.Ring(siCall(&msg)); err != nil {
		t.Fatal(err)
	}
	r.run(14 * time.Second)
	p := r.phone("203")
	cid := p.CallerID()
	if len(cid) != 1 || cid[0].Number != "13800138000" {
		t.Fatalf("203 read caller ID %+v", cid)
	}
	if !p.Ringing() && len(p.Rings()) == 0 {
		t.Fatal("203 never rang")
	}
	p.OffHook()
	r.run(time.Second)
	if !co.Answered() {
		t.Fatal("the line was not answered")
	}
	p.ClearHeard()
	if err := co.SendDTMF("73"); err != nil {
		t.Fatal(err)
	}
	r.run(2 * time.Second)
	if got := p.HeardDigits(); got != "73" {
		t.Fatalf("203 heard %q from the exchange", got)
	}
	if err := co.Hangup(busyTone(), 0); err != nil {
		t.Fatal(err)
	}
	r.run(6 * time.Second)
	if got := r.heard("203"); !slices.Contains(got, tone.Busy) {
		t.Fatalf("203 heard %v after the caller hung up", got)
	}
	p.OnHook()
	r.run(time.Second)
	recs := r.cdr()
	if len(recs) != 1 {
		t.Fatalf("CDRs %+v", recs)
	}
	c := recs[0]
	if c.Disposition != cdr.Answered || c.From != "13800138000" || c.To != "203" || c.Trunk != "fxo1" || c.Legs[0].Trunk != "fxo1" {
		t.Fatalf("CDR %+v", c)
	}
}
