package callswitch_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"callbox/board/pcm"
	"callbox/board/ports"
	"callbox/board/sim"
	"callbox/board/sim/proslicsim"
	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/firmware/lineport"
	"callbox/telephony/line"
	"callbox/telephony/media"
	callswitch "callbox/telephony/switch"
	"callbox/telephony/switch/cdr"
	"callbox/telephony/switch/dialplan"
)

// rig is the sim board with the switch on it: extensions 201-204 on
// fxs1-4, fxo1 and fxo2 as trunks, on a virtual clock.
type rig struct {
	t    testing.TB
	clk  interface{ Advance(time.Duration) }
	sb   *sim.Board
	bd   *ports.Board
	sw   *callswitch.Switch
	cdrs *cdr.Memory
	eng  *media.Engine
}

type rigOpt struct {
	exts    []callswitch.Extension
	plan    dialplan.Config
	inbound map[string]string
	ring    time.Duration
	fxo     line.FXOConfig
	sip     callswitch.SIPDialer
	changed func(callswitch.Extension)
	log     *slog.Logger
}

func defaultPlan() dialplan.Config {
	return dialplan.Config{
		Extensions: []string{"201", "202", "203", "204"},
		Routes: []dialplan.Route{
			{Name: "pstn", Patterns: []string{"9X."}, Strip: 1, Trunks: []string{"fxo1", "fxo2"}},
		},
	}
}

func defaultExts() []callswitch.Extension {
	return []callswitch.Extension{
		{Number: "201", Name: "EXT 201", Port: "fxs1", CallWaiting: true},
		{Number: "202", Name: "EXT 202", Port: "fxs2", CallWaiting: true},
		{Number: "203", Name: "EXT 203", Port: "fxs3"},
		{Number: "204", Name: "EXT 204", Port: "fxs4"},
	}
}

func newRig(t testing.TB, o rigOpt) *rig {
	t.Helper()
	if o.exts == nil {
		o.exts = defaultExts()
	}
	if o.plan.Extensions == nil {
		o.plan = defaultPlan()
	}
	clk := sim.VirtualClock()
	lp, err := lineport.OpenSim(context.Background(), sim.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	sb, bd := lp.Board, lp.Ports
	t.Cleanup(func() { bd.Close() })
	plan, err := dialplan.New(o.plan)
	if err != nil {
		t.Fatal(err)
	}
	eng := media.NewEngine(media.Config{})
	mem := &cdr.Memory{}
	sw, err := callswitch.New(callswitch.Config{Plan: plan, Extensions: o.exts, CDR: mem, Clock: clk,
		Inbound: o.inbound, RingTimeout: o.ring, SIP: o.sip, ExtensionChanged: o.changed, Logger: o.log}, eng)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range lp.FXS {
		if err := sw.AddFXS(line.FXSConfig{Name: p.P.Name()}, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range lp.FXO {
		cfg := o.fxo
		cfg.Name = p.P.Name()
		if err := sw.AddFXO(cfg, p); err != nil {
			t.Fatal(err)
		}
	}
	bd.SetHandler(func(pcm.Tick) { sw.Tick() })
	return &rig{t: t, clk: clk, sb: sb, bd: bd, sw: sw, cdrs: mem, eng: eng}
}

// run moves the board, the lines and the switch on by d, a frame at a time.
func (r *rig) run(d time.Duration) {
	r.t.Helper()
	for n := int(d / line.FrameTime); n > 0; n-- {
		r.clk.Advance(line.FrameTime)
		if err := r.bd.Step(); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *rig) phone(ext string) *proslicsim.Phone {
	return r.sb.Phone(map[string]string{"201": "fxs1", "202": "fxs2", "203": "fxs3", "204": "fxs4"}[ext])
}

func (r *rig) co(port string) *si3050sim.CO { return r.sb.CO(port) }

// heard returns the tones a phone heard since the last clear, and clears.
func (r *rig) heard(ext string) []string {
	r.t.Helper()
	p := r.phone(ext)
	tones, err := p.HeardTones("CN")
	if err != nil {
		r.t.Fatal(err)
	}
	p.ClearHeard()
	return tones
}

// dial takes a phone off hook, waits for dial tone and dials.
func (r *rig) dial(ext, digits string) {
	r.t.Helper()
	p := r.phone(ext)
	p.OffHook()
	r.run(300 * time.Millisecond)
	p.ClearHeard()
	if err := p.Dial(digits); err != nil {
		r.t.Fatal(err)
	}
	for p.Dialling() {
		r.run(50 * time.Millisecond)
	}
	r.run(200 * time.Millisecond)
}

// onlyCDR returns the one record written since the last call, or fails.
func (r *rig) cdr() []cdr.Record {
	recs := r.cdrs.Records()
	r.cdrs.Reset()
	return recs
}

func (r *rig) calls() int {
	n := make(chan int, 1)
	r.sw.Do(func() { n <- r.sw.ActiveCalls() })
	r.run(line.FrameTime)
	return <-n
}

func siCall(m *callerid.Message) si3050sim.Call { return si3050sim.Call{CallerID: m} }

func busyTone() si3050sim.Disconnect { return si3050sim.BusyTone }
