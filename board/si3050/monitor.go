package si3050

import (
	"context"
	"errors"
	"fmt"
	"time"

	"callbox/board/internal/irqloop"

	"periph.io/x/conn/v3/gpio"
)

// EventKind says what happened on the line.
type EventKind uint8

// Line events.
const (
	// RingStart: a ring began (debounced). Off is the silence since the
	// previous ring of the same call, 0 for the first; Count numbers the
	// ring within the call.
	RingStart EventKind = iota + 1
	// RingEnd: the ring ended; On is its length. With the Off of the
	// next RingStart this is the cadence, so the line code counts rings
	// and tells distinctive rings apart.
	RingEnd
	// RingingStopped: no ring for RingSeriesTimeout; the caller gave up
	// (or was answered elsewhere). Count is the number of rings.
	RingingStopped
	// PolarityReversal: the line polarity changed (answer supervision,
	// ETSI caller ID alert, or disconnect). Polarity is the new one.
	PolarityReversal
	// BatteryLost: the line voltage stayed under BatteryThreshold: the
	// line is disconnected.
	BatteryLost
	// BatteryRestored: the line voltage came back.
	BatteryRestored
	// LoopDrop: off-hook, the loop current stayed under LoopDropCurrent
	// for LoopDropMin: the far end hung up (disconnect supervision).
	LoopDrop
	// LoopRestored: loop current flows again after a LoopDrop; On is how
	// long it was open.
	LoopRestored
	// MonitorError: a poll failed; Err says why.
	MonitorError
)

var kindNames = [...]string{"", "ring-start", "ring-end", "ringing-stopped", "polarity-reversal",
	"battery-lost", "battery-restored", "loop-drop", "loop-restored", "monitor-error"}

func (k EventKind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("event(%d)", uint8(k))
}

// Event is one thing the monitor saw. At is when it happened (for a ring,
// when the ring detector first or last fired), by the port's clock.
type Event struct {
	Kind     EventKind
	At       time.Time
	On, Off  time.Duration
	Count    int
	Polarity int     // PolarityReversal: +1 normal, -1 reversed
	Volts    float64 // line voltage at the event
	Err      error   // MonitorError
}

func (e Event) String() string {
	switch e.Kind {
	case RingStart:
		return fmt.Sprintf("%v #%d after %v", e.Kind, e.Count, e.Off)
	case RingEnd:
		return fmt.Sprintf("%v #%d on %v", e.Kind, e.Count, e.On)
	case RingingStopped:
		return fmt.Sprintf("%v after %d rings", e.Kind, e.Count)
	case PolarityReversal:
		return fmt.Sprintf("%v to %+d (%.0f V)", e.Kind, e.Polarity, e.Volts)
	case MonitorError:
		return fmt.Sprintf("%v: %v", e.Kind, e.Err)
	}
	return fmt.Sprintf("%v (%.0f V)", e.Kind, e.Volts)
}

type monitorState struct {
	// ring detector
	ringOn      bool
	ringFirst   time.Time // first detector hit of the candidate or current ring
	ringLast    time.Time // last detector hit
	ringPrevEnd time.Time // end of the previous ring of this call
	ringCount   int
	// polarity
	polarity   int
	polPending int
	polSince   time.Time
	// battery
	battery  bool
	batSince time.Time
	// loop current
	loopSince   time.Time
	loopDropped bool
}

// Poll reads the chip once (interrupt source if the pin says so or no pin
// is used, register 5, line voltage and, off-hook, loop current), runs the
// debouncers and appends what happened to dst. Call it every PollInterval,
// or let Start do it; tests on a virtual clock call it in explicit steps.
func (p *Port) Poll(dst []Event) ([]Event, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.halted { // stopped on purpose: nothing to report
		return dst, nil
	}
	if err := p.usable("monitor"); err != nil {
		return dst, err
	}
	now := p.cfg.Clock.Now()
	if p.cfg.IRQ == nil || p.cfg.IRQ.Read() == gpio.Low {
		src, err := p.readReg(RegIntSource)
		if err != nil {
			return dst, p.errorf("monitor", "%w", err)
		}
		if src != 0 {
			// Latched bits only wake us: the registers below tell the
			// state. Writing 0 to the seen bits clears just those.
			if err := p.writeReg(RegIntSource, ^src); err != nil {
				return dst, p.errorf("monitor", "%w", err)
			}
		}
	}
	r5, err := p.readReg(RegDAACtrl1)
	if err != nil {
		return dst, p.errorf("monitor", "%w", err)
	}
	lv, err := p.readReg(RegLineVolt)
	if err != nil {
		return dst, p.errorf("monitor", "%w", err)
	}
	volts := float64(int8(lv)) * LineVoltageLSB
	m := &p.mon
	cfg := &p.cfg

	// Ring: the instantaneous detector (either half-cycle, or the
	// validated RDT) must stay active RingMinOn to start a ring; a quiet
	// RingOffGap ends it.
	hit := !p.offhook && r5&(DAA1Ring|DAA1RDT) != 0
	switch {
	case hit && !m.ringOn:
		if m.ringFirst.IsZero() || now.Sub(m.ringLast) >= cfg.RingOffGap {
			m.ringFirst = now
		}
		m.ringLast = now
		if now.Sub(m.ringFirst) >= cfg.RingMinOn {
			m.ringOn = true
			m.ringCount++
			var off time.Duration
			if !m.ringPrevEnd.IsZero() {
				off = m.ringFirst.Sub(m.ringPrevEnd)
			}
			dst = append(dst, Event{Kind: RingStart, At: m.ringFirst, Off: off, Count: m.ringCount, Volts: volts})
		}
	case hit:
		m.ringLast = now
	case m.ringOn && now.Sub(m.ringLast) >= cfg.RingOffGap:
		m.ringOn = false
		m.ringPrevEnd = m.ringLast
		dst = append(dst, Event{Kind: RingEnd, At: m.ringLast, On: m.ringLast.Sub(m.ringFirst), Count: m.ringCount, Volts: volts})
		m.ringFirst = time.Time{}
	case !m.ringOn && !m.ringFirst.IsZero() && now.Sub(m.ringLast) >= cfg.RingOffGap:
		m.ringFirst = time.Time{} // a glitch shorter than RingMinOn
	case !m.ringOn && m.ringCount > 0 && now.Sub(m.ringPrevEnd) >= cfg.RingSeriesTimeout:
		dst = append(dst, Event{Kind: RingingStopped, At: now, Count: m.ringCount, Volts: volts})
		m.ringCount, m.ringPrevEnd, m.ringFirst = 0, time.Time{}, time.Time{}
	}
	if p.offhook && m.ringCount > 0 { // answered: the call's ringing is over
		if m.ringOn {
			dst = append(dst, Event{Kind: RingEnd, At: m.ringLast, On: m.ringLast.Sub(m.ringFirst), Count: m.ringCount, Volts: volts})
		}
		m.ringOn, m.ringCount, m.ringPrevEnd, m.ringFirst = false, 0, time.Time{}, time.Time{}
	}

	// Polarity: the sign of a clear line voltage, held PolarityDebounce.
	sign := 0
	if volts >= cfg.PolarityMinVolts {
		sign = 1
	} else if volts <= -cfg.PolarityMinVolts {
		sign = -1
	}
	switch {
	case sign == 0 || sign == m.polarity:
		m.polPending = 0
	case m.polarity == 0:
		m.polarity = sign // first reading, or back from no battery: not a reversal
	case sign != m.polPending:
		m.polPending, m.polSince = sign, now
	case now.Sub(m.polSince) >= cfg.PolarityDebounce:
		m.polarity, m.polPending = sign, 0
		dst = append(dst, Event{Kind: PolarityReversal, At: m.polSince, Polarity: sign, Volts: volts})
	}

	// Battery: |V| under the threshold for BatteryDebounce.
	present := volts >= cfg.BatteryThreshold || volts <= -cfg.BatteryThreshold
	if present == m.battery {
		m.batSince = time.Time{}
	} else if m.batSince.IsZero() {
		m.batSince = now
	} else if now.Sub(m.batSince) >= cfg.BatteryDebounce {
		m.battery = present
		k := BatteryLost
		if present {
			k = BatteryRestored
		} else {
			m.polarity = 0
		}
		dst = append(dst, Event{Kind: k, At: m.batSince, Volts: volts})
		m.batSince = time.Time{}
	}

	// Loop current, off-hook and settled: the far end's disconnect.
	if p.offhook && !p.flashing && now.Sub(p.seizedAt) >= cfg.LoopSettle {
		lc, err := p.readReg(RegLoopCur)
		if err != nil {
			return dst, p.errorf("monitor", "%w", err)
		}
		ma := float64(lc) * LoopCurrentLSB
		switch {
		case ma < cfg.LoopDropCurrent && m.loopSince.IsZero():
			m.loopSince = now
		case ma < cfg.LoopDropCurrent && !m.loopDropped && now.Sub(m.loopSince) >= cfg.LoopDropMin:
			m.loopDropped = true
			dst = append(dst, Event{Kind: LoopDrop, At: m.loopSince, Volts: volts})
		case ma >= cfg.LoopDropCurrent:
			if m.loopDropped {
				dst = append(dst, Event{Kind: LoopRestored, At: now, On: now.Sub(m.loopSince), Volts: volts})
			}
			m.loopSince, m.loopDropped = time.Time{}, false
		}
	}
	return dst, nil
}

// busy reports whether a debouncer is timing something or the line is
// seized: then the monitor polls every PollInterval even with an IRQ pin.
func (p *Port) busy() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := &p.mon
	return p.offhook || m.ringOn || !m.ringFirst.IsZero() || m.ringCount > 0 ||
		m.polPending != 0 || !m.batSince.IsZero()
}

// Start runs the monitor in a goroutine until ctx ends or Close is called:
// it polls at once, then after each falling edge of the interrupt pin or
// IdlePoll (PollInterval while a ring, a reversal or a battery change is
// being timed, or the line is seized), or without a pin every
// PollInterval, and passes each event to handle (from the goroutine;
// handle must not block long, nor call Close). Poll errors reach handle as
// MonitorError events. Start uses wall time for its waits; on a virtual
// clock call Poll yourself.
func (p *Port) Start(ctx context.Context, handle func(Event)) error {
	p.mu.Lock()
	err := p.usable("monitor")
	p.mu.Unlock()
	if err != nil {
		return err
	}
	var evs []Event
	err = p.run.Start(ctx, p.cfg.IRQ, func() (time.Duration, bool) {
		var err error
		evs, err = p.Poll(evs[:0])
		for _, e := range evs {
			handle(e)
		}
		if err != nil {
			handle(Event{Kind: MonitorError, At: p.cfg.Clock.Now(), Err: err})
		}
		if p.cfg.IRQ != nil && !p.busy() {
			return p.cfg.IdlePoll, true
		}
		return p.cfg.PollInterval, true
	})
	switch {
	case errors.Is(err, irqloop.ErrStarted):
		return p.errorf("monitor", "already started")
	case err != nil:
		return p.errorf("interrupt set-up", "irq pin %s: %w", p.cfg.IRQ, err)
	}
	return nil
}

// Close stops the monitor goroutine started by Start and waits for it: at
// once if the interrupt pin's WaitForEdge returns when In is called
// (periph documents this), else within the wait in progress. It leaves the
// line as it is.
func (p *Port) Close() error {
	p.run.Close()
	return nil
}
