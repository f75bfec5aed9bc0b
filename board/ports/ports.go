// Package ports brings up and runs every analog port of a board description,
// on hardware or in simulation, with the same drivers: board/proslic for FXS
// ports and board/si3050 for FXO ports, and the PCM highway of board/pcm.
//
// On hardware (a description without "sim") Open initialises periph.io's
// host drivers, opens each port's SPI port (spireg) and its reset and
// interrupt pins (gpioreg) by the names the description gives, and opens the
// ALSA TDM device of each pcm_device. On a simulated board it builds the
// emulated chips, phones, central offices and in-memory highway with package
// board/sim. Either way every port is brought up (FXS: BringUp, FXO: Init)
// concurrently, each bring-up is logged with the chip, its revision and the
// time it took, and a port that fails is marked failed with the driver's
// error while the others work.
//
// With the real clock (nil or vclock.Real) Open starts each working port's
// service goroutine and the highways; Close stops them all and waits. With
// any other clock (a vclock.Virtual in tests) nothing runs by itself: the
// test calls Step, which services every port and moves the highway one
// frame, and Ring steps the clock itself.
package ports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"callbox/board"
	"callbox/board/internal/vclock"
	"callbox/board/pcm"
	"callbox/board/proslic"
	"callbox/board/si3050"
	"callbox/board/sim"
)

// Options tune Open beyond the description.
type Options struct {
	// Clock is vclock.Real{} when nil. Any other clock means manual mode:
	// no goroutines, the caller drives Step.
	Clock vclock.Clock
	// Log receives the bring-up lines and runtime faults; nil discards.
	Log *slog.Logger
	// Sim is an emulated board built by the caller with sim.New (for
	// instance with faults injected); nil builds one from the description
	// when it is simulated. Its clock is used.
	Sim *sim.Board
	// Events, if set, is called with every driver event, from the port's
	// service goroutine (or from Step); it must not block.
	Events func(Event)
}

// Board is a running board: its ports and highways.
type Board struct {
	desc   board.Board
	log    *slog.Logger
	clock  vclock.Clock
	manual bool
	sim    *sim.Board
	ports  []*Port
	events func(Event)

	highways []*highway
	closers  []io.Closer // SPI ports opened on hardware

	mu      sync.Mutex
	handler pcm.Handler
	subs    map[int]chan Event
	nextSub int
	dropped uint64

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
	fxsEvs    []proslic.Event
	fxoEvs    []si3050.Event
}

// highway is one PCM device and the ports attached to it.
type highway struct {
	device string
	h      pcm.Highway
	err    error // opening or running failed
	ports  []*Port
	step   func() error // sim: one frame; nil on hardware
	mu     sync.Mutex
}

// Open brings up every port of b with the real clock (nil) or the given
// one, logging to log. It is Options' shorthand.
func Open(ctx context.Context, b board.Board, clock vclock.Clock, log *slog.Logger) (*Board, error) {
	return OpenWith(ctx, b, Options{Clock: clock, Log: log})
}

// OpenWith brings up every port of b. It fails only when the description
// is invalid or the platform cannot be reached at all (periph's host
// drivers); a port or highway that fails is logged and marked failed, and the
// rest run. The goroutines it starts end with ctx or Close.
func OpenWith(ctx context.Context, b board.Board, opt Options) (*Board, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	clock := opt.Clock
	if opt.Sim != nil {
		clock = opt.Sim.Clock()
	}
	if clock == nil {
		clock = vclock.Real{}
	}
	_, real := clock.(vclock.Real)
	bd := &Board{desc: b.Resolve(), log: log, clock: clock, manual: !real, events: opt.Events, subs: map[int]chan Event{}}

	var wiring func(p board.Port) (wires, error)
	if b.Sim {
		sb := opt.Sim
		if sb == nil {
			var err error
			if sb, err = sim.New(b, sim.Options{Clock: clock}); err != nil {
				return nil, fmt.Errorf("ports: %w", err)
			}
		}
		bd.sim = sb
		wiring = func(p board.Port) (wires, error) {
			conn, reset, irq, err := sb.Wiring(p.Name)
			return wires{conn: conn, reset: reset, irq: irq}, err
		}
		hs := sb.Highway()
		bd.highways = []*highway{{device: "sim", h: hs, step: hs.Step}}
	} else {
		hwWiring, err := openHardware(bd)
		if err != nil {
			return nil, err
		}
		wiring = hwWiring
	}

	bd.ports = make([]*Port, len(bd.desc.Ports))
	for i, d := range bd.desc.Ports {
		bd.ports[i] = &Port{desc: d, b: bd}
	}
	// Ports are independent chips, so they come up side by side on
	// hardware; on a virtual clock one after the other, so each port's
	// waits are its own and the run is repeatable.
	var wg sync.WaitGroup
	for _, p := range bd.ports {
		if bd.manual {
			p.bringUp(wiring)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.bringUp(wiring)
		}()
	}
	wg.Wait()
	bd.attach()

	runCtx, cancel := context.WithCancel(ctx)
	bd.cancel = cancel
	if !bd.manual {
		for _, p := range bd.ports {
			p.start(runCtx)
		}
		for _, h := range bd.highways {
			if h.err != nil {
				continue
			}
			bd.wg.Add(1)
			go func() {
				defer bd.wg.Done()
				if err := h.h.Run(runCtx); err != nil && !errors.Is(err, pcm.ErrClosed) {
					h.mu.Lock()
					h.err = err
					h.mu.Unlock()
					bd.log.Error("pcm highway stopped", "device", h.device, "err", err)
				}
			}()
		}
	}
	ok := 0
	for _, p := range bd.ports {
		if p.Err() == nil {
			ok++
		}
	}
	log.Info("board up", "board", bd.desc.Name, "sim", bd.desc.Sim, "ports", len(bd.ports), "working", ok, "failed", len(bd.ports)-ok)
	return bd, nil
}

// attach puts every working port on its highway and sets the tick handler.
func (bd *Board) attach() {
	byDev := map[string]*highway{}
	for _, h := range bd.highways {
		byDev[h.device] = h
	}
	for _, p := range bd.ports {
		if p.Err() != nil {
			continue
		}
		dev := p.desc.PCMDevice
		if bd.desc.Sim {
			dev = "sim"
		}
		h := byDev[dev]
		if h == nil || h.err != nil {
			continue
		}
		codec, _ := p.desc.PCMCodec() // validated
		pp, err := h.h.Attach(p.desc.PCMSlot, codec)
		if err != nil {
			bd.log.Error("pcm attach", "port", p.desc.Name, "err", err)
			continue
		}
		p.pcm = pp
		h.ports = append(h.ports, p)
	}
	for _, h := range bd.highways {
		if h.err != nil {
			continue
		}
		h.h.SetHandler(bd.tick(h))
	}
}

// silence is what a port sends while nothing else gives it audio.
var silence [pcm.FrameSize]int16

// tick is a highway's frame handler: it runs the media handler set with
// SetHandler, or keeps every line silent.
func (bd *Board) tick(h *highway) pcm.Handler {
	return func(t pcm.Tick) {
		if bd.sim != nil {
			bd.sim.Step()
		}
		bd.mu.Lock()
		fn := bd.handler
		bd.mu.Unlock()
		if fn != nil {
			fn(t)
			return
		}
		for _, p := range h.ports {
			p.pcm.Send(silence[:])
		}
	}
}

// SetHandler sets the media engine's frame handler, called on every tick
// of every highway (see pcm.Handler); nil keeps the lines silent. Each
// port's PCM gives its frames.
func (bd *Board) SetHandler(h pcm.Handler) {
	bd.mu.Lock()
	bd.handler = h
	bd.mu.Unlock()
}

// idleHighway is a highway that can sleep through idle stretches
// (pcm.Sim: the simulated board; a hardware highway is paced by its
// device and does not).
type idleHighway interface {
	SetIdle(idle func() bool, batch int)
	Wake()
}

// SetIdle lets the simulated highway wake once per batch frames while
// idle reports true, processing them back to back (pcm.Sim.SetIdle); on
// hardware it does nothing. Wake ends such a sleep at once.
func (bd *Board) SetIdle(idle func() bool, batch int) {
	for _, h := range bd.highways {
		if ih, ok := h.h.(idleHighway); ok {
			ih.SetIdle(idle, batch)
		}
	}
}

// Wake ends an idle sleep of the highways (see SetIdle) so that the frame
// due now runs on time: call it when something starts that needs the
// clock. It never blocks.
func (bd *Board) Wake() {
	for _, h := range bd.highways {
		if ih, ok := h.h.(idleHighway); ok {
			ih.Wake()
		}
	}
}

// Description returns the board description with its defaults resolved.
func (bd *Board) Description() board.Board { return bd.desc }

// Ports returns the ports in description order.
func (bd *Board) Ports() []*Port { return bd.ports }

// Port returns the named port, or nil.
func (bd *Board) Port(name string) *Port {
	for _, p := range bd.ports {
		if p.desc.Name == name {
			return p
		}
	}
	return nil
}

// Sim returns the emulated board (phones, central offices, faults), or nil
// on hardware.
func (bd *Board) Sim() *sim.Board { return bd.sim }

// Clock returns the clock the drivers run on.
func (bd *Board) Clock() vclock.Clock { return bd.clock }

// Manual reports whether the board runs no goroutines and waits for Step.
func (bd *Board) Manual() bool { return bd.manual }

// HighwayStats returns each PCM device's counters and error, by device
// ("sim" on the simulated board).
func (bd *Board) HighwayStats() map[string]HighwayState {
	out := map[string]HighwayState{}
	for _, h := range bd.highways {
		h.mu.Lock()
		st := HighwayState{Err: h.err}
		h.mu.Unlock()
		if h.h != nil {
			st.Stats = h.h.Stats()
		}
		out[h.device] = st
	}
	return out
}

// HighwayState is one PCM device's counters, and why it is not running.
type HighwayState struct {
	Stats pcm.Stats
	Err   error
}

// Subscribe returns a channel that receives every port's events from now
// on, holding up to n of them; events that do not fit are dropped (and
// counted in Dropped), so a slow reader never stalls a port. cancel ends
// the subscription.
func (bd *Board) Subscribe(n int) (events <-chan Event, cancel func()) {
	ch := make(chan Event, max(n, 1))
	bd.mu.Lock()
	id := bd.nextSub
	bd.nextSub++
	bd.subs[id] = ch
	bd.mu.Unlock()
	return ch, func() {
		bd.mu.Lock()
		delete(bd.subs, id)
		bd.mu.Unlock()
	}
}

// Dropped counts events subscribers had no room for.
func (bd *Board) Dropped() uint64 {
	bd.mu.Lock()
	defer bd.mu.Unlock()
	return bd.dropped
}

func (bd *Board) publish(e Event) {
	if bd.events != nil {
		bd.events(e)
	}
	bd.mu.Lock()
	defer bd.mu.Unlock()
	for _, ch := range bd.subs {
		select {
		case ch <- e:
		default:
			bd.dropped++
		}
	}
}

// Step, in manual mode, services every working port once (FXS Service,
// FXO Poll), publishing their events, and moves each simulated highway one
// frame. It does not move the clock. Calls must not overlap.
func (bd *Board) Step() error {
	if !bd.manual {
		return errors.New("ports: Step: the board runs on the real clock")
	}
	for _, p := range bd.ports {
		p.service()
	}
	for _, h := range bd.highways {
		if h.step != nil && h.err == nil {
			if err := h.step(); err != nil {
				return fmt.Errorf("ports: highway %s: %w", h.device, err)
			}
		}
	}
	return nil
}

// Halt leaves every port's chip safe (see proslic.Port.Halt and
// si3050.Port.Halt): FXS lines open with ringing stopped, FXO lines
// on-hook, interrupts masked. The ports stay out of service until the
// board is opened again; Close halts too. It is safe to call more than
// once and while the board runs.
func (bd *Board) Halt() error {
	var errs []error
	for _, p := range bd.ports {
		if err := p.halt(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close halts every port, stops every port's goroutine and the highways,
// waits for them, and releases the devices. It is safe to call more than
// once.
func (bd *Board) Close() error {
	bd.closeOnce.Do(func() {
		if bd.cancel != nil {
			bd.cancel()
		}
		var errs []error
		if err := bd.Halt(); err != nil {
			errs = append(errs, err)
		}
		for _, p := range bd.ports {
			if err := p.close(); err != nil {
				errs = append(errs, err)
			}
		}
		for _, h := range bd.highways {
			if h.h == nil {
				continue
			}
			if err := h.h.Close(); err != nil && !errors.Is(err, pcm.ErrClosed) {
				errs = append(errs, fmt.Errorf("ports: highway %s: %w", h.device, err))
			}
		}
		bd.wg.Wait()
		for _, c := range bd.closers {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("ports: %w", err))
			}
		}
		bd.closeErr = errors.Join(errs...)
	})
	return bd.closeErr
}

// since measures on the board's clock, for bring-up durations.
func (bd *Board) since(t0 time.Time) time.Duration { return bd.clock.Now().Sub(t0) }
