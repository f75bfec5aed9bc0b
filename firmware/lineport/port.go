package lineport

import (
	"context"
	"fmt"
	"sync"
	"time"

	"callbox/board"
	"callbox/board/ports"
	"callbox/board/proslic"
	"callbox/board/si3050"
	"callbox/board/sim"
	"callbox/telephony/line"
)

// FXS adapts a running ProSLIC port of the board to line.FXSPort in the
// simplest way, for tests and tools that run the line code on the
// emulated chips: driver events (Push) are queued for NextEvent, audio
// passes through the port's place on the PCM highway, and it rings at
// 25 Hz. The daemon has its own allocation-free adapter.
type FXS struct {
	P  *ports.Port
	mu sync.Mutex
	q  []line.FXSEvent
}

// Push queues a driver event (from the board's event callback).
func (s *FXS) Push(e proslic.Event) {
	if ev, ok := FXSEvent(e); ok {
		s.mu.Lock()
		s.q = append(s.q, ev)
		s.mu.Unlock()
	}
}

// NextEvent implements line.FXSPort.
func (s *FXS) NextEvent() (line.FXSEvent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.q) == 0 {
		return line.FXSEvent{}, false
	}
	e := s.q[0]
	s.q = append(s.q[:0], s.q[1:]...)
	return e, true
}

// Ring implements line.FXSPort.
func (s *FXS) Ring(cad []time.Duration) error {
	return Ring(s.P.FXS(), proslic.Ring{Frequency: 25, Amplitude: 85}, cad)
}

// StopRing implements line.FXSPort.
func (s *FXS) StopRing() error { return s.P.FXS().StopRing() }

// SetFeed implements line.FXSPort.
func (s *FXS) SetFeed(f line.Feed) error { return SetFeed(s.P.FXS(), f) }

// ReadFrame implements line.FXSPort.
func (s *FXS) ReadFrame(f *line.Frame) { copy(f[:], s.P.PCM().Received()) }

// WriteFrame implements line.FXSPort.
func (s *FXS) WriteFrame(f *line.Frame) { s.P.PCM().Send(f[:]) }

// FXO adapts a running Si3050 port to line.FXOPort the same way.
type FXO struct {
	P  *ports.Port
	mu sync.Mutex
	q  []line.FXOEvent
}

// Push queues a driver event.
func (d *FXO) Push(e si3050.Event) {
	if ev, ok := FXOEvent(e); ok {
		d.mu.Lock()
		d.q = append(d.q, ev)
		d.mu.Unlock()
	}
}

// NextEvent implements line.FXOPort.
func (d *FXO) NextEvent() (line.FXOEvent, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.q) == 0 {
		return line.FXOEvent{}, false
	}
	e := d.q[0]
	d.q = append(d.q[:0], d.q[1:]...)
	return e, true
}

// Seize implements line.FXOPort.
func (d *FXO) Seize() error { return d.P.FXO().Seize() }

// Release implements line.FXOPort.
func (d *FXO) Release() error { return d.P.FXO().Release() }

// Flash implements line.FXOPort.
func (d *FXO) Flash() error { return d.P.FXO().Flash(0) }

// LineVoltage implements line.FXOPort.
func (d *FXO) LineVoltage() (float64, error) { return d.P.FXO().LineVoltage() }

// ReadFrame implements line.FXOPort.
func (d *FXO) ReadFrame(f *line.Frame) { copy(f[:], d.P.PCM().Received()) }

// WriteFrame implements line.FXOPort.
func (d *FXO) WriteFrame(f *line.Frame) { d.P.PCM().Send(f[:]) }

// Sim is the built-in simulated board brought up with each port adapted
// for the line code (FXS, FXO, in port order): what the switch's and the
// call centre's tests run on.
type Sim struct {
	Board *sim.Board
	Ports *ports.Board
	FXS   []*FXS
	FXO   []*FXO
}

// OpenSim brings the simulated board up with opt (its clock: a virtual
// one in tests), every driver event queued for its port's adapter. Close
// the ports when done; a port that failed to come up is an error.
func OpenSim(ctx context.Context, opt sim.Options) (*Sim, error) {
	desc := board.Sim()
	sb, err := sim.New(desc, opt)
	if err != nil {
		return nil, err
	}
	s := &Sim{Board: sb}
	// The adapters exist before the ports, so that the drivers' events,
	// which may come at once, always find theirs.
	fxs := map[string]*FXS{}
	fxo := map[string]*FXO{}
	for _, d := range desc.Ports {
		switch d.Kind {
		case board.FXS:
			fxs[d.Name] = &FXS{}
		case board.FXO:
			fxo[d.Name] = &FXO{}
		}
	}
	s.Ports, err = ports.OpenWith(ctx, desc, ports.Options{Sim: sb, Events: func(e ports.Event) {
		switch e.Kind {
		case board.FXS:
			if p := fxs[e.Port]; p != nil {
				p.Push(e.FXS)
			}
		case board.FXO:
			if p := fxo[e.Port]; p != nil {
				p.Push(e.FXO)
			}
		}
	}})
	if err != nil {
		return nil, err
	}
	for _, p := range s.Ports.Ports() {
		if err := p.Err(); err != nil {
			s.Ports.Close()
			return nil, fmt.Errorf("lineport: %s: %w", p.Name(), err)
		}
		switch p.Kind() {
		case board.FXS:
			a := fxs[p.Name()]
			a.P = p
			s.FXS = append(s.FXS, a)
		case board.FXO:
			a := fxo[p.Name()]
			a.P = p
			s.FXO = append(s.FXO, a)
		}
	}
	return s, nil
}
