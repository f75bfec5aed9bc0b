package callswitch_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"callbox/board"
	"callbox/board/pcm"
	"callbox/board/ports"
	"callbox/board/proslic"
	"callbox/board/si3050"
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

// slicPort adapts a running ProSLIC port of the sim board to
// line.FXSPort, as firmware/app does: driver events queued for NextEvent,
// PCM through the highway's port.
type slicPort struct {
	mu sync.Mutex
	p  *ports.Port
	q  []line.FXSEvent
}

func (s *slicPort) push(e proslic.Event) {
	if ev, ok := lineport.FXSEvent(e); ok {
		s.mu.Lock()
		s.q = append(s.q, ev)
		s.mu.Unlock()
	}
}

func (s *slicPort) NextEvent() (line.FXSEvent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.q) == 0 {
		return line.FXSEvent{}, false
	}
	e := s.q[0]
	s.q = append(s.q[:0], s.q[1:]...)
	return e, true
}

func (s *slicPort) Ring(cad []time.Duration) error {
	return lineport.Ring(s.p.FXS(), proslic.Ring{Frequency: 25, Amplitude: 85}, cad)
}

func (s *slicPort) StopRing() error { return s.p.FXS().StopRing() }

func (s *slicPort) SetFeed(f line.Feed) error { return lineport.SetFeed(s.p.FXS(), f) }

func (s *slicPort) ReadFrame(f *line.Frame)  { copy(f[:], s.p.PCM().Received()) }
func (s *slicPort) WriteFrame(f *line.Frame) { s.p.PCM().Send(f[:]) }

// daaPort adapts a running Si3050 port to line.FXOPort.
type daaPort struct {
	mu sync.Mutex
	p  *ports.Port
	q  []line.FXOEvent
}

func (d *daaPort) push(e si3050.Event) {
	if ev, ok := lineport.FXOEvent(e); ok {
		d.mu.Lock()
		d.q = append(d.q, ev)
		d.mu.Unlock()
	}
}

func (d *daaPort) NextEvent() (line.FXOEvent, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.q) == 0 {
		return line.FXOEvent{}, false
	}
	e := d.q[0]
	d.q = append(d.q[:0], d.q[1:]...)
	return e, true
}

func (d *daaPort) Seize() error                  { return d.p.FXO().Seize() }
func (d *daaPort) Release() error                { return d.p.FXO().Release() }
func (d *daaPort) Flash() error                  { return d.p.FXO().Flash(0) }
func (d *daaPort) LineVoltage() (float64, error) { return d.p.FXO().LineVoltage() }
func (d *daaPort) ReadFrame(f *line.Frame)       { copy(f[:], d.p.PCM().Received()) }
func (d *daaPort) WriteFrame(f *line.Frame)      { d.p.PCM().Send(f[:]) }

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
	sb, err := sim.New(board.Sim(), sim.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	slics := map[string]*slicPort{}
	daas := map[string]*daaPort{}
	bd, err := ports.OpenWith(context.Background(), board.Sim(), ports.Options{Sim: sb, Events: func(e ports.Event) {
		switch e.Kind {
		case board.FXS:
			if s := slics[e.Port]; s != nil {
				s.push(e.FXS)
			}
		case board.FXO:
			if d := daas[e.Port]; d != nil {
				d.push(e.FXO)
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
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
	for _, p := range bd.Ports() {
		if p.Err() != nil {
			t.Fatalf("%s: %v", p.Name(), p.Err())
		}
		switch p.Kind() {
		case board.FXS:
			sp := &slicPort{p: p}
			slics[p.Name()] = sp
			if err := sw.AddFXS(line.FXSConfig{Name: p.Name()}, sp); err != nil {
				t.Fatal(err)
			}
		case board.FXO:
			dp := &daaPort{p: p}
			daas[p.Name()] = dp
			cfg := o.fxo
			cfg.Name = p.Name()
			if err := sw.AddFXO(cfg, dp); err != nil {
				t.Fatal(err)
			}
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
