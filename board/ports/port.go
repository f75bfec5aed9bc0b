package ports

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"

	"callbox/board"
	"callbox/board/pcm"
	"callbox/board/proslic"
	"callbox/board/si3050"
)

// ErrNotFXS is returned by Ring on an FXO port.
var ErrNotFXS = errors.New("ports: only FXS ports ring")

// wires is how a driver reaches its chip.
type wires struct {
	conn  spi.Conn
	reset gpio.PinOut
	irq   gpio.PinIO
}

// Port is one analog port of a running board: its description, its driver
// (FXS or FXO), its PCM port, and its state.
type Port struct {
	desc board.Port
	b    *Board
	fxs  *proslic.Port
	fxo  *si3050.Port
	pcm  *pcm.Port
	took time.Duration

	mu      sync.Mutex
	err     error // why the port does not work
	battery bool  // FXO: the line has battery (from events)
	events  []Event
}

// Event is a driver event of one port: FXS holds a ProSLIC event when Kind
// is board.FXS, FXO a Si3050 event when it is board.FXO.
type Event struct {
	Port string
	Kind board.Kind
	FXS  proslic.Event
	FXO  si3050.Event
}

// String describes the event for logs and the CLI.
func (e Event) String() string {
	if e.Kind == board.FXS {
		s := e.Port + ": " + e.FXS.Kind.String()
		switch e.FXS.Kind {
		case proslic.RingPause, proslic.RingDone:
			s += fmt.Sprintf(" (cycle %d)", e.FXS.Cycle)
		case proslic.Flash:
			s += fmt.Sprintf(" (%v)", e.FXS.Window)
		case proslic.PortFailed:
			s += fmt.Sprintf(": %v", e.FXS.Err)
		}
		return s
	}
	return e.Port + ": " + e.FXO.String()
}

// Name returns the port's name.
func (p *Port) Name() string { return p.desc.Name }

// Kind returns fxs or fxo.
func (p *Port) Kind() board.Kind { return p.desc.Kind }

// Chip returns the chip the description names (si3210, si3215, si3050).
func (p *Port) Chip() string { return p.desc.Chip }

// Description returns the port's resolved description.
func (p *Port) Description() board.Port { return p.desc }

// FXS returns the ProSLIC driver of an FXS port (nil otherwise, or when
// the port could not be wired).
func (p *Port) FXS() *proslic.Port { return p.fxs }

// FXO returns the Si3050 driver of an FXO port (nil otherwise, or when the
// port could not be wired).
func (p *Port) FXO() *si3050.Port { return p.fxo }

// PCM returns the port's place on the highway (nil when the port or its
// highway failed): the media engine reads Received and calls Send in the
// Board's handler.
func (p *Port) PCM() *pcm.Port { return p.pcm }

// BringUpTime is how long the port's bring-up took, on the board's clock.
func (p *Port) BringUpTime() time.Duration { return p.took }

// Err returns why the port is out of service (bring-up failure, or the
// driver giving up later), or nil.
func (p *Port) Err() error {
	p.mu.Lock()
	err := p.err
	p.mu.Unlock()
	if err != nil {
		return err
	}
	switch {
	case p.fxs != nil:
		return p.fxs.Failed()
	case p.fxo != nil:
		return p.fxo.Err()
	}
	return nil
}

func (p *Port) setErr(err error) {
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
}

// bringUp wires the driver to the chip and runs its bring-up, logging the
// outcome. A failure is kept in p.err.
func (p *Port) bringUp(wiring func(board.Port) (wires, error)) {
	d := p.desc
	log := p.b.log.With("port", d.Name, "kind", d.Kind, "chip", d.Chip)
	t0 := p.b.clock.Now()
	err := p.init(wiring)
	p.took = p.b.since(t0)
	if err != nil {
		p.setErr(err)
		log.Error("port failed", "err", err, "took", p.took)
		return
	}
	log.Info("port up", "revision", p.revision(), "took", p.took)
}

func (p *Port) init(wiring func(board.Port) (wires, error)) error {
	d := p.desc
	w, err := wiring(d)
	if err != nil {
		return err
	}
	// With an interrupt pin a hook change or a ring is seen on its edge;
	// the idle poll only catches a lost edge and checks the battery.
	var idle time.Duration
	var irq gpio.PinIn
	if w.irq != nil {
		irq = w.irq
		idle = irqIdlePoll
	}
	switch d.Kind {
	case board.FXS:
		ring, err := proslic.PresetFor(d.Ring)
		if err != nil {
			return err
		}
		part := proslic.Si3215
		if d.Chip == "si3210" {
			part = proslic.Si3210
		}
		format := map[string]proslic.PCMFormat{"alaw": proslic.PCMALaw, "ulaw": proslic.PCMMuLaw, "linear": proslic.PCMLinear}[d.Codec]
		fxs, err := proslic.New(proslic.Config{Name: d.Name, Part: part, Conn: w.conn, Reset: w.reset, IRQ: irq,
			IdleInterval: idle, Clock: p.b.clock, Ring: ring, PCM: format, Slot: d.PCMSlot, Loop: d.LoopMA})
		if err != nil {
			return err
		}
		p.fxs = fxs
		return fxs.BringUp()
	case board.FXO:
		country, err := si3050.CountryFor(d.Country)
		if err != nil {
			return err
		}
		law := map[string]si3050.Law{"alaw": si3050.ALaw, "ulaw": si3050.MuLaw, "linear": si3050.Linear}[d.Codec]
		fxo, err := si3050.New(si3050.Config{Name: d.Name, Conn: w.conn, Reset: w.reset, IRQ: irq, IdlePoll: idle, Clock: p.b.clock,
			ChainID: uint8(d.ChipSelect), Country: country, PCMSlot: d.PCMSlot, Law: law})
		if err != nil {
			return err
		}
		p.fxo = fxo
		p.battery = true // Init checked the line; events say when it goes
		return fxo.Init()
	}
	return fmt.Errorf("ports: %s: kind %q", d.Name, d.Kind)
}

// revision is what bring-up found, for the log.
func (p *Port) revision() string {
	switch {
	case p.fxs != nil:
		return p.fxs.Info().String()
	case p.fxo != nil:
		return p.fxo.Info().String()
	}
	return ""
}

// start runs the driver's service goroutine of a working port.
func (p *Port) start(ctx context.Context) {
	if p.Err() != nil {
		return
	}
	var err error
	switch {
	case p.fxs != nil:
		err = p.fxs.Start(ctx, func(e proslic.Event) { p.handle(Event{Port: p.desc.Name, Kind: board.FXS, FXS: e}) })
	case p.fxo != nil:
		err = p.fxo.Start(ctx, func(e si3050.Event) { p.handle(Event{Port: p.desc.Name, Kind: board.FXO, FXO: e}) })
	}
	if err != nil {
		p.setErr(err)
		p.b.log.Error("port failed", "port", p.desc.Name, "err", err)
	}
}

// service is Step's share of one port: what the goroutine does per wake-up.
func (p *Port) service() {
	if p.Err() != nil {
		return
	}
	b := p.b
	switch {
	case p.fxs != nil:
		b.fxsEvs = p.fxs.Service(b.fxsEvs[:0])
		for _, e := range b.fxsEvs {
			p.handle(Event{Port: p.desc.Name, Kind: board.FXS, FXS: e})
		}
	case p.fxo != nil:
		var err error
		b.fxoEvs, err = p.fxo.Poll(b.fxoEvs[:0])
		for _, e := range b.fxoEvs {
			p.handle(Event{Port: p.desc.Name, Kind: board.FXO, FXO: e})
		}
		if err != nil {
			p.handle(Event{Port: p.desc.Name, Kind: board.FXO, FXO: si3050.Event{Kind: si3050.MonitorError, At: b.clock.Now(), Err: err}})
		}
	}
}

// recentEvents is how many events a port remembers for diag.
const recentEvents = 8

// handle tracks what the state needs from an event and publishes it.
func (p *Port) handle(e Event) {
	p.mu.Lock()
	switch {
	case e.Kind == board.FXO && e.FXO.Kind == si3050.BatteryLost:
		p.battery = false
	case e.Kind == board.FXO && e.FXO.Kind == si3050.BatteryRestored:
		p.battery = true
	}
	if len(p.events) == recentEvents {
		copy(p.events, p.events[1:])
		p.events = p.events[:recentEvents-1]
	}
	p.events = append(p.events, e)
	p.mu.Unlock()
	switch {
	case e.Kind == board.FXS && (e.FXS.Kind == proslic.PortFailed || e.FXS.Kind == proslic.VBATLoss || e.FXS.Kind == proslic.PowerAlarm):
		p.b.log.Warn("port fault", "port", p.desc.Name, "event", e.String())
	case e.Kind == board.FXO && (e.FXO.Kind == si3050.MonitorError || e.FXO.Kind == si3050.BatteryLost):
		p.b.log.Warn("port fault", "port", p.desc.Name, "event", e.String())
	default:
		p.b.log.Debug("port event", "port", p.desc.Name, "event", e.String())
	}
	p.b.publish(e)
}

// RecentEvents returns the port's last few events, oldest first.
func (p *Port) RecentEvents() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

// halt leaves the port's chip safe, if a driver was wired to it. A port
// already out of service is halted as far as its chip lets it, quietly: its
// fault was reported when it happened.
func (p *Port) halt() error {
	working := p.Err() == nil
	var err error
	switch {
	case p.fxs != nil:
		err = p.fxs.Halt()
	case p.fxo != nil:
		err = p.fxo.Halt()
	}
	if !working {
		return nil
	}
	return err
}

func (p *Port) close() error {
	switch {
	case p.fxs != nil:
		return p.fxs.Close()
	case p.fxo != nil:
		return p.fxo.Close()
	}
	return nil
}

// State is a port's condition as installers see it.
type State struct {
	OK      bool
	Err     error  // why the port is out of service
	Hook    string // "on-hook" or "off-hook" (FXS: the phone; FXO: the box's seizure)
	Line    string // FXS: the linefeed (e.g. "forward active", "ringing"); FXO: "battery" or "no battery"
	Ringing bool
}

// String is the one-line form: "ok, on-hook, forward active" or
// "failed: proslic: fxs2: bring-up: ...".
func (s State) String() string {
	if !s.OK {
		return "failed: " + s.Err.Error()
	}
	parts := []string{"ok", s.Hook, s.Line}
	if s.Ringing {
		parts = append(parts, "ringing")
	}
	return strings.Join(parts, ", ")
}

// State returns the port's state from the driver's cached view; it does not
// touch the chip.
func (p *Port) State() State {
	if err := p.Err(); err != nil {
		return State{Err: err}
	}
	s := State{OK: true, Hook: "on-hook"}
	switch {
	case p.fxs != nil:
		if p.fxs.OffHook() {
			s.Hook = "off-hook"
		}
		s.Line = p.fxs.Linefeed().String()
		s.Ringing = p.fxs.IsRinging()
	case p.fxo != nil:
		if p.fxo.OffHook() {
			s.Hook = "off-hook"
		}
		p.mu.Lock()
		s.Line = "battery"
		if !p.battery {
			s.Line = "no battery"
		}
		p.mu.Unlock()
	}
	return s
}

// ProbeInfo is what `board probe` shows: whether a chip answers and what it is.
type ProbeInfo struct {
	Answers bool
	Chip    string // what the chip says it is, e.g. "si3215 rev C", "si3050 rev 5, si3019 rev 4"
	Err     error  // why it does not answer
}

// Probe asks the chip who it is, without changing its state; it works on a
// failed port as long as the driver could be wired.
func (p *Port) Probe() ProbeInfo {
	switch {
	case p.fxs != nil:
		info, err := p.fxs.Probe()
		if err != nil {
			return ProbeInfo{Err: err}
		}
		return ProbeInfo{Answers: true, Chip: info.String()}
	case p.fxo != nil:
		info, err := p.fxo.Probe()
		if err != nil {
			return ProbeInfo{Err: err}
		}
		return ProbeInfo{Answers: true, Chip: info.String()}
	}
	return ProbeInfo{Err: p.Err()}
}

// Diag is a port's analog readings: FXS tip, ring and battery volts and
// loop current; FXO line volts, loop current, polarity and hook.
type Diag struct {
	Kind board.Kind
	FXS  proslic.Diag
	FXO  si3050.Diag
}

// Lines formats the readings for the CLI, one fact per line.
func (d Diag) Lines() []string {
	if d.Kind == board.FXS {
		x := d.FXS
		return []string{
			fmt.Sprintf("linefeed: %s (chip reports %s)", x.Linefeed, x.Actual),
			fmt.Sprintf("hook: %s", hook(x.OffHook)),
			fmt.Sprintf("ringing: %t", x.Ringing),
			fmt.Sprintf("tip: %.1f V", x.Tip),
			fmt.Sprintf("ring: %.1f V", x.Ring),
			fmt.Sprintf("battery: %.1f V", x.Battery),
			fmt.Sprintf("loop current: %.1f mA", x.LoopCurrent),
		}
	}
	x := d.FXO
	pol := "unknown (no battery)"
	switch x.Polarity {
	case 1:
		pol = "normal"
	case -1:
		pol = "reversed"
	}
	return []string{
		fmt.Sprintf("chip: %s", x.Info),
		fmt.Sprintf("hook: %s", hook(x.OffHook)),
		fmt.Sprintf("line voltage: %.0f V", x.Volts),
		fmt.Sprintf("loop current: %.1f mA", x.MilliAmps),
		fmt.Sprintf("polarity: %s", pol),
		fmt.Sprintf("battery: %t", x.Battery),
		fmt.Sprintf("ringing: %t", x.Ringing),
	}
}

func hook(off bool) string {
	if off {
		return "off-hook"
	}
	return "on-hook"
}

// Diag reads the port's line. A port whose chip does not answer returns
// its error.
func (p *Port) Diag() (Diag, error) {
	switch {
	case p.fxs != nil:
		d, err := p.fxs.Diagnose()
		return Diag{Kind: board.FXS, FXS: d}, err
	case p.fxo != nil:
		if err := p.fxo.Err(); err != nil {
			return Diag{Kind: board.FXO}, err
		}
		d, err := p.fxo.Diag()
		return Diag{Kind: board.FXO, FXO: d}, err
	}
	return Diag{Kind: p.desc.Kind}, p.Err()
}

// MaxRingCycles bounds a ring test.
const MaxRingCycles = 20

// Ring rings an FXS port for cycles cadence cycles of its ring preset (the
// installer's wiring check) and returns when they have rung, the phone
// answered (nil, with an OffHook event), the port failed, or ctx ended (the
// ring is stopped). Every event of the port meanwhile goes to progress, if
// set. In manual mode Ring moves the clock itself, a poll period at a time.
func (p *Port) Ring(ctx context.Context, cycles int, progress func(Event)) error {
	if p.desc.Kind != board.FXS {
		return fmt.Errorf("%w: %s is %s", ErrNotFXS, p.desc.Name, p.desc.Kind)
	}
	if cycles < 1 || cycles > MaxRingCycles {
		return fmt.Errorf("ports: %s: ring: %d cycles is outside 1-%d", p.desc.Name, cycles, MaxRingCycles)
	}
	if err := p.Err(); err != nil {
		return err
	}
	ring, err := proslic.PresetFor(p.desc.Ring)
	if err != nil {
		return err
	}
	events, cancel := p.b.Subscribe(64)
	defer cancel()
	if err := p.fxs.Ring(cycles); err != nil {
		return err
	}
	deadline := p.b.clock.Now().Add(time.Duration(cycles)*ring.Period() + 5*time.Second)
	const poll = 10 * time.Millisecond
	for {
		if p.b.manual {
			p.b.clock.Sleep(poll)
			if err := p.b.Step(); err != nil {
				_ = p.fxs.StopRing()
				return err
			}
		} else {
			select {
			case <-ctx.Done():
				_ = p.fxs.StopRing()
				return ctx.Err()
			case e := <-events:
				if done, err := p.ringEvent(e, progress); done {
					return err
				}
				continue
			case <-time.After(poll * 10):
			}
		}
		for drained := false; !drained; {
			select {
			case e := <-events:
				if done, err := p.ringEvent(e, progress); done {
					return err
				}
			default:
				drained = true
			}
		}
		if ctx.Err() != nil {
			_ = p.fxs.StopRing()
			return ctx.Err()
		}
		if p.b.clock.Now().After(deadline) {
			_ = p.fxs.StopRing()
			return fmt.Errorf("ports: %s: ring: no end of ringing after %d cycles", p.desc.Name, cycles)
		}
	}
}

// ringEvent passes one of the port's events on and says whether the ring
// test is over.
func (p *Port) ringEvent(e Event, progress func(Event)) (bool, error) {
	if e.Port != p.desc.Name {
		return false, nil
	}
	if progress != nil {
		progress(e)
	}
	switch e.FXS.Kind {
	case proslic.RingDone, proslic.OffHook:
		return true, nil
	case proslic.PortFailed:
		return true, e.FXS.Err
	}
	return false, nil
}

// irqIdlePoll is how often an idle line chip with an interrupt pin is
// polled anyway (the drivers' default is 100 ms): its edges report hook
// changes and rings at once, so the poll only bounds a lost edge and runs
// the FXS battery check, whose own period (proslic's HealthInterval) it
// matches. Fewer wakes of an idle box.
const irqIdlePoll = 200 * time.Millisecond
