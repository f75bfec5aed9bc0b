// Package sim assembles the simulated board: for a board description it
// builds one register-level emulated chip per port (a ProSLIC with a virtual
// analog phone on each FXS port, a Si3050 with a virtual central office on
// each FXO port, from board/sim/proslicsim and board/sim/si3050sim), and an
// in-memory PCM highway (pcm.Sim) with every chip's line side plugged into
// its port's timeslots. Phones and offices follow the port's country and
// caller ID scheme, and each has an ear (board/sim/listen) naming the
// tones and digits the box sends it. The real drivers then run on it unchanged: package
// board/ports brings the ports up over Conn and Pins exactly as on hardware.
//
// Tests inject emulator faults per port through Options.Faults (or SetFault
// later), and reach the phones and offices to play the other end of a call.
package sim

import (
	"errors"
	"fmt"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"

	"callbox/board"
	"callbox/board/internal/vclock"
	"callbox/board/pcm"
	"callbox/board/sim/proslicsim"
	"callbox/board/sim/si3050sim"
)

// Fault is what an emulated chip is told to get wrong. FXS faults apply to
// ProSLIC ports, FXO faults to Si3050 ports.
type Fault struct {
	FXS proslicsim.Fault
	FXO si3050sim.Faults
}

// Options tune the emulated board.
type Options struct {
	// Clock paces the emulators and the highway: vclock.Real{} when nil
	// (make run), a vclock.Virtual in tests.
	Clock vclock.Clock
	// Faults are set on the named ports' chips before anything talks to
	// them: the test hook for "one port is broken, the others work".
	Faults map[string]Fault
}

// Board is an emulated board: the chips, their phones and offices, and the
// highway they are plugged into.
type Board struct {
	desc    board.Board
	clock   vclock.Clock
	highway *pcm.Sim
	fxs     map[string]*proslicsim.Chip
	fxo     map[string]*si3050sim.Chip
}

// New builds the emulated chips of every port of b (which must be a
// simulated board) and a highway of b's slot count with each chip connected
// at its port's timeslot.
func New(b board.Board, opt Options) (*Board, error) {
	if !b.Sim {
		return nil, fmt.Errorf("sim: board %q is not simulated (\"sim\": true)", b.Name)
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	for name := range opt.Faults {
		if _, ok := b.Port(name); !ok {
			return nil, fmt.Errorf("sim: fault for unknown port %q", name)
		}
	}
	b = b.Resolve()
	clock := opt.Clock
	if clock == nil {
		clock = vclock.Real{}
	}
	hw, err := pcm.NewSim(b.PCMSlots, clock)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	s := &Board{desc: b, clock: clock, highway: hw,
		fxs: map[string]*proslicsim.Chip{}, fxo: map[string]*si3050sim.Chip{}}
	for _, p := range b.Ports {
		var ep pcm.Endpoint
		switch p.Kind {
		case board.FXS:
			c := proslicsim.New(proslicsim.Config{Name: p.Name, Si3215: p.Chip == "si3215", Clock: clock})
			c.SetFault(opt.Faults[p.Name].FXS, true)
			// The phone is one of the port's country, with a caller ID
			// display for the port's scheme.
			if err := c.Phone().SetCountry(p.Country); err != nil {
				return nil, fmt.Errorf("sim: port %s: %w", p.Name, err)
			}
			if err := c.Phone().SetCallerID(p.CallerID); err != nil {
				return nil, fmt.Errorf("sim: port %s: %w", p.Name, err)
			}
			s.fxs[p.Name], ep = c, c
		case board.FXO:
			c, err := si3050sim.New(si3050sim.Config{Name: p.Name, Clock: clock, ChainID: uint8(p.ChipSelect),
				Country: p.Country, CallerID: p.CallerID})
			if err != nil {
				return nil, fmt.Errorf("sim: port %s: %w", p.Name, err)
			}
			c.SetFaults(opt.Faults[p.Name].FXO)
			s.fxo[p.Name], ep = c, c
		}
		if err := hw.Connect(p.PCMSlot, ep); err != nil {
			return nil, fmt.Errorf("sim: port %s: %w", p.Name, err)
		}
	}
	return s, nil
}

// Description returns the board description, with defaults resolved.
func (s *Board) Description() board.Board { return s.desc }

// Clock returns the clock the emulators run on.
func (s *Board) Clock() vclock.Clock { return s.clock }

// Highway returns the in-memory PCM highway the chips are plugged into.
func (s *Board) Highway() *pcm.Sim { return s.highway }

// Wiring returns what a driver needs to reach the named port's chip: its
// SPI connection and its reset and interrupt pins.
func (s *Board) Wiring(port string) (conn spi.Conn, reset gpio.PinOut, irq gpio.PinIO, err error) {
	if c := s.fxs[port]; c != nil {
		return c, c.Reset(), c.IRQ(), nil
	}
	if c := s.fxo[port]; c != nil {
		return c, c.ResetPin(), c.IRQ(), nil
	}
	return nil, nil, nil, fmt.Errorf("sim: no port %q", port)
}

// SLIC returns the emulated ProSLIC of an FXS port, or nil.
func (s *Board) SLIC(port string) *proslicsim.Chip { return s.fxs[port] }

// DAA returns the emulated Si3050 of an FXO port, or nil.
func (s *Board) DAA(port string) *si3050sim.Chip { return s.fxo[port] }

// Phone returns the virtual analog phone on an FXS port, or nil.
func (s *Board) Phone(port string) *proslicsim.Phone {
	if c := s.fxs[port]; c != nil {
		return c.Phone()
	}
	return nil
}

// CO returns the virtual central office on an FXO port's line, or nil.
func (s *Board) CO(port string) *si3050sim.CO {
	if c := s.fxo[port]; c != nil {
		return c.CO()
	}
	return nil
}

// SetFault replaces the faults of a port's chip while it runs (a battery
// lost, a line unplugged by the chip going absent...).
func (s *Board) SetFault(port string, f Fault) error {
	if c := s.fxs[port]; c != nil {
		for _, one := range []proslicsim.Fault{proslicsim.Absent, proslicsim.AbsentLow, proslicsim.CalHang, proslicsim.VBATNeverRises, proslicsim.VBATLost} {
			c.SetFault(one, f.FXS&one != 0)
		}
		return nil
	}
	if c := s.fxo[port]; c != nil {
		c.SetFaults(f.FXO)
		return nil
	}
	return fmt.Errorf("sim: no port %q", port)
}

// Step brings the FXO emulators to the clock's time between register
// accesses, as the highway's ticker does on the real board, so their
// interrupts fire between polls.
func (s *Board) Step() {
	for _, c := range s.fxo {
		c.Step()
	}
}

// Ports lists the emulated ports' names in board order.
func (s *Board) Ports() []string {
	out := make([]string, 0, len(s.desc.Ports))
	for _, p := range s.desc.Ports {
		out = append(out, p.Name)
	}
	return out
}

// Close stops the highway (if it runs) and releases it.
func (s *Board) Close() error {
	err := s.highway.Close()
	if errors.Is(err, pcm.ErrClosed) {
		return nil
	}
	return err
}

// VirtualClock returns a clock that moves only when something sleeps on it
// (or it is advanced): tests outside package board pass it in
// Options.Clock, so waits in bring-up and ring cadences cost no wall time.
func VirtualClock() *vclock.Virtual { return vclock.NewVirtual() }
