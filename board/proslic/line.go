package proslic

import (
	"fmt"
	"time"
)

// Linefeed is the state of the line driver (register 64).
type Linefeed uint8

// Linefeed states. The OHT states pass audio to an on-hook phone (caller
// ID); the reverse states swap tip and ring.
const (
	Open          Linefeed = 0
	ForwardActive Linefeed = 1
	ForwardOHT    Linefeed = 2
	TipOpen       Linefeed = 3
	Ringing       Linefeed = 4
	ReverseActive Linefeed = 5
	ReverseOHT    Linefeed = 6
	RingOpen      Linefeed = 7
)

var linefeedNames = [...]string{"open", "forward active", "forward on-hook transmission", "tip open", "ringing", "reverse active", "reverse on-hook transmission", "ring open"}

func (l Linefeed) String() string {
	if int(l) < len(linefeedNames) {
		return linefeedNames[l]
	}
	return fmt.Sprintf("Linefeed(%d)", uint8(l))
}

// reversed swaps the polarity of the active and OHT states.
func (l Linefeed) reversed() Linefeed {
	switch l {
	case ForwardActive, ForwardOHT, ReverseActive, ReverseOHT:
		return l ^ 4
	}
	return l
}

// idle is the linefeed of an idle line: active in the chosen polarity.
func (p *Port) idle() Linefeed {
	if p.reverse {
		return ReverseActive
	}
	return ForwardActive
}

func (p *Port) oht() Linefeed {
	if p.reverse {
		return ReverseOHT
	}
	return ForwardOHT
}

// EventKind says what happened on a port.
type EventKind uint8

// Event kinds.
const (
	OffHook      EventKind = iota + 1 // the phone went off hook (answer while ringing)
	OnHook                            // the phone hung up (on hook longer than the flash window)
	Flash                             // hook flash: on hook within the flash window
	RingPause                         // a cadence cycle's last pause began: the caller ID window after ring Cycle
	RingDone                          // the requested cycles have rung; the line is idle
	PowerAlarm                        // a power alarm opened the line; it was restored
	VBATLoss                          // the battery voltage collapsed; the line is dead
	VBATRestored                      // the battery is back and the line restored
	PortFailed                        // the port gave up (Err says why); it needs BringUp
	PulseDigit                        // a pulse-dialled digit (Digit): loop breaks shorter than a flash
)

var kindNames = [...]string{"", "off-hook", "on-hook", "flash", "ring-pause", "ring-done", "power-alarm", "vbat-loss", "vbat-restored", "port-failed", "pulse-digit"}

func (k EventKind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is something the port reports from Service.
type Event struct {
	Port string
	Kind EventKind
	At   time.Time
	// Cycle is the ring cycle just finished (RingPause, RingDone), from 1.
	Cycle int
	// Window is how long the pause lasts (RingPause): the time the line
	// code has to send caller ID, or the flash's on-hook time (Flash).
	Window time.Duration
	// Alarm holds register 19's transistor alarm bits (PowerAlarm), Volts
	// the battery voltage read (VBATLoss, VBATRestored).
	Alarm byte
	Volts float64
	Err   error // PortFailed
	// Digit is the digit dialled ('0' to '9', PulseDigit); Cycle holds
	// its pulse count.
	Digit byte
}

// SetLinefeed puts the line in state lf. It stops ringing, except that
// asking for on-hook transmission during a ring pause keeps the cadence
// going (the pause is already in OHT: that is the caller ID window).
// Forward states follow the polarity set by SetPolarity.
func (p *Port) SetLinefeed(lf Linefeed) error {
	if lf > RingOpen {
		return p.errf("linefeed", "no linefeed state %d", lf)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable("linefeed"); err != nil {
		return err
	}
	if lf == Ringing {
		return p.errf("linefeed", "use Ring to ring the line")
	}
	if p.reverse {
		lf = lf.reversed()
	}
	if p.ringing {
		if lf == p.oht() && p.lf == lf {
			return nil
		}
		p.ringing = false
	}
	return p.setLF(lf)
}

func (p *Port) setLF(lf Linefeed) error {
	if err := p.write(regLinefeed, byte(lf)); err != nil {
		return p.fail("linefeed", err)
	}
	p.lf = lf
	return nil
}

// Linefeed returns the commanded linefeed state.
func (p *Port) Linefeed() Linefeed {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lf
}

// SetPolarity sets the line's polarity (reverse true swaps tip and ring):
// for ETSI caller ID before the first ring and answer supervision. The
// current active or OHT state flips at once; idle states follow it.
func (p *Port) SetPolarity(reverse bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable("polarity"); err != nil {
		return err
	}
	if p.reverse == reverse {
		return nil
	}
	p.reverse = reverse
	if lf := p.lf.reversed(); lf != p.lf {
		return p.setLF(lf)
	}
	return nil
}

// Reversed reports whether the polarity is reversed.
func (p *Port) Reversed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reverse
}

// OffHook reports the debounced hook state.
func (p *Port) OffHook() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hook
}

// Ring starts ringing with the port's ring preset for cycles cadence
// cycles (0: until StopRing, SetLinefeed or an answer). The driver times
// the cadence itself, switching the linefeed between ringing and on-hook
// transmission from Service (as the chip's own ring timers would do), so
// every pause can carry caller ID and the timing is the clock's. The first
// ring starts now. At the start of each cycle's last pause Service reports
// RingPause with the cycle number: after ring 1 that is the Bellcore caller
// ID window, and the line is already in OHT for it.
func (p *Port) Ring(cycles int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable("ring"); err != nil {
		return err
	}
	if p.hook {
		return &Error{p.cfg.Name, "ring", ErrOffHook}
	}
	if p.vbatLost {
		return p.errf("ring", "no battery voltage")
	}
	if err := p.setLF(Ringing); err != nil {
		return err
	}
	p.ringing = true
	p.ringStart = p.cfg.Clock.Now()
	p.ringCycles = cycles
	p.ringSeg = 0
	return nil
}

// StopRing stops ringing and returns the line to idle.
func (p *Port) StopRing() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.ringing {
		return nil
	}
	p.ringing = false
	return p.setLF(p.idle())
}

// stopRing forgets ringing without touching the chip.
func (p *Port) stopRing() { p.ringing = false }

// IsRinging reports whether a ring is in progress (on or pause).
func (p *Port) IsRinging() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ringing
}

// busy reports whether Service must run at PollInterval.
func (p *Port) busy() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ringing || p.breakOpen || p.raw != p.hook || p.vbatLost || p.pulses > 0
}

// Service does the port's timed and interrupt work and appends what happened
// to events: it reads and clears the interrupt registers, debounces the
// hook, tells flashes from hang-ups, advances the ring cadence, and checks
// for power alarms and battery loss. Call it when the interrupt line falls
// and at least every PollInterval while ringing or a hook change is being
// debounced (Start does this); tests call it on a virtual clock. It
// allocates nothing when events has room.
func (p *Port) Service(events []Event) []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed != nil || !p.up {
		return events
	}
	now := p.cfg.Clock.Now()
	events, err := p.service(now, events)
	if err != nil {
		p.failed = &Error{p.cfg.Name, "service", err}
		events = append(events, Event{Port: p.cfg.Name, Kind: PortFailed, At: now, Err: p.failed})
	}
	return events
}

func (p *Port) service(now time.Time, ev []Event) ([]Event, error) {
	var st [3]byte
	for i := range st {
		v, err := p.read(regIntStatus1 + byte(i))
		if err != nil {
			return ev, err
		}
		st[i] = v
	}
	for i, v := range st {
		if v != 0 {
			if err := p.write(regIntStatus1+byte(i), v); err != nil {
				return ev, err
			}
		}
	}
	if a := st[1] & int2Alarms; a != 0 {
		var err error
		if ev, err = p.powerAlarm(now, a, ev); err != nil || p.failed != nil {
			return ev, err
		}
	}
	if now.Sub(p.lastHealth) >= p.cfg.HealthInterval || p.vbatLost {
		p.lastHealth = now
		var err error
		if ev, err = p.health(now, ev); err != nil || p.failed != nil {
			return ev, err
		}
	}
	if !p.vbatLost {
		ls, err := p.read(regLoopStatus)
		if err != nil {
			return ev, err
		}
		if ev, err = p.hookState(now, ls&(lsLCR|lsRTP) != 0, ev); err != nil {
			return ev, err
		}
	}
	if p.ringing {
		return p.cadence(now, ev)
	}
	return ev, nil
}

// makeDebounce confirms the make that ends a break: pulse dialling's
// makes last about 40 ms, too short for the full debounce.
const makeDebounce = 10 * time.Millisecond

// hookState debounces the raw hook reading and turns changes into events:
// off-hook, on-hook (a break longer than the flash window), flash, and
// pulse digits (breaks shorter than a flash, counted until the loop stays
// closed for InterDigit).
func (p *Port) hookState(now time.Time, raw bool, ev []Event) ([]Event, error) {
	if raw != p.raw {
		p.raw, p.rawAt = raw, now
	}
	debounce := p.cfg.Debounce
	if p.breakOpen && p.raw {
		debounce = min(debounce, makeDebounce)
	}
	if p.raw != p.hook && now.Sub(p.rawAt) >= debounce {
		p.hook = p.raw
		if !p.hook { // a break: pulse, flash or hang-up, decided later
			p.breakOpen, p.onAt = true, p.rawAt
		} else if d := p.rawAt.Sub(p.onAt); p.breakOpen && d <= p.cfg.Flash.Max {
			p.breakOpen = false
			if d >= p.cfg.Flash.Min {
				p.pulses = 0
				ev = append(ev, Event{Port: p.cfg.Name, Kind: Flash, At: now, Window: d})
			} else {
				// A pulse of a dialled digit (a break that passed the
				// debounce is no contact bounce).
				p.pulses++
				p.pulseAt = p.rawAt
			}
		} else {
			p.pulses = 0
			if p.breakOpen { // back off hook just after the window: a hang-up first
				p.breakOpen = false
				ev = append(ev, Event{Port: p.cfg.Name, Kind: OnHook, At: now})
			}
			if p.ringing { // answer: ring trip
				p.ringing = false
				if err := p.setLF(p.idle()); err != nil {
					return ev, err
				}
			} else if p.lf == ForwardOHT || p.lf == ReverseOHT {
				if err := p.setLF(p.idle()); err != nil {
					return ev, err
				}
			}
			ev = append(ev, Event{Port: p.cfg.Name, Kind: OffHook, At: now})
		}
	}
	// A raw off-hook still being debounced may yet end the break in time.
	if p.breakOpen && !p.raw && now.Sub(p.onAt) > p.cfg.Flash.Max {
		p.breakOpen, p.pulses = false, 0
		ev = append(ev, Event{Port: p.cfg.Name, Kind: OnHook, At: now})
	}
	if p.pulses > 0 && p.hook && !p.breakOpen && now.Sub(p.pulseAt) >= p.cfg.InterDigit {
		n := p.pulses
		p.pulses = 0
		if n <= 10 { // more is no digit: a jiggled hook
			ev = append(ev, Event{Port: p.cfg.Name, Kind: PulseDigit, At: now, Digit: byte('0' + n%10), Cycle: n})
		}
	}
	return ev, nil
}

// cadence switches the linefeed at the cadence's segment boundaries.
func (p *Port) cadence(now time.Time, ev []Event) ([]Event, error) {
	c := p.cfg.Ring.Cadence
	period := p.cfg.Ring.Period()
	el := now.Sub(p.ringStart)
	cycle := int(el / period)
	if p.ringCycles > 0 && cycle >= p.ringCycles {
		p.ringing = false
		if err := p.setLF(p.idle()); err != nil {
			return ev, err
		}
		return append(ev, Event{Port: p.cfg.Name, Kind: RingDone, At: now, Cycle: cycle}), nil
	}
	pos := el - time.Duration(cycle)*period
	seg := 0
	for pos >= c[seg] {
		pos -= c[seg]
		seg++
	}
	abs := cycle*len(c) + seg
	if abs == p.ringSeg {
		return ev, nil
	}
	p.ringSeg = abs
	lf := Ringing
	if seg%2 == 1 {
		lf = p.oht()
	}
	if err := p.setLF(lf); err != nil {
		return ev, err
	}
	if seg == len(c)-1 {
		ev = append(ev, Event{Port: p.cfg.Name, Kind: RingPause, At: now, Cycle: cycle + 1, Window: c[seg] - pos})
	}
	return ev, nil
}

// powerAlarm handles transistor power alarms: the chip has opened the line
// to protect itself. A few are recovered from by restoring the linefeed;
// MaxPowerAlarms within AlarmWindow leave the line open and fail the port.
func (p *Port) powerAlarm(now time.Time, bits byte, ev []Event) ([]Event, error) {
	keep := p.alarms[:0]
	for _, t := range p.alarms {
		if now.Sub(t) < p.cfg.AlarmWindow {
			keep = append(keep, t)
		}
	}
	p.alarms = append(keep, now)
	if len(p.alarms) >= p.cfg.MaxPowerAlarms {
		p.ringing = false
		if err := p.setLF(Open); err != nil {
			return ev, err
		}
		p.failed = p.errf("power alarm", "%d power alarms within %v (transistors %s): line left open", len(p.alarms), p.cfg.AlarmWindow, transistors(bits))
		return append(ev, Event{Port: p.cfg.Name, Kind: PortFailed, At: now, Alarm: bits, Err: p.failed}), nil
	}
	if p.ringing { // ringing is the likeliest cause: do not resume it
		p.ringing = false
		p.lf = p.idle()
	}
	if err := p.setLF(p.lf); err != nil {
		return ev, err
	}
	return append(ev, Event{Port: p.cfg.Name, Kind: PowerAlarm, At: now, Alarm: bits}), nil
}

// transistors names the alarm bits Q1..Q6 of register 19.
func transistors(bits byte) string {
	s := ""
	for q := 1; q <= 6; q++ {
		if bits&(1<<(q+1)) != 0 {
			if s != "" {
				s += ","
			}
			s += fmt.Sprintf("Q%d", q)
		}
	}
	return s
}

// health reads VBAT and the actual linefeed state: battery loss shows only
// there, and a power alarm whose interrupt was missed leaves the line open.
func (p *Port) health(now time.Time, ev []Event) ([]Event, error) {
	v, err := p.read(regVBATSense)
	if err != nil {
		return ev, err
	}
	volts := float64(v) * mvPerLSB / 1000
	switch {
	case !p.vbatLost && volts < p.cfg.VBATMin:
		p.vbatLost = true
		p.ringing = false
		// The loop current died with the battery: a break seen since is
		// not the phone's doing.
		if p.breakOpen {
			p.breakOpen, p.hook = false, true
		}
		p.raw = p.hook
		return append(ev, Event{Port: p.cfg.Name, Kind: VBATLoss, At: now, Volts: volts}), nil
	case p.vbatLost && volts < p.cfg.VBATMin:
		// Keep the converter enabled so the battery comes back by itself.
		return ev, p.write(regPowerDown1, 0)
	case p.vbatLost:
		p.vbatLost = false
		if p.lf == Ringing {
			p.lf = p.idle()
		}
		if err := p.setLF(p.lf); err != nil {
			return ev, err
		}
		p.raw, p.rawAt = p.hook, now
		return append(ev, Event{Port: p.cfg.Name, Kind: VBATRestored, At: now, Volts: volts}), nil
	}
	lf, err := p.read(regLinefeed)
	if err != nil {
		return ev, err
	}
	if actual := Linefeed(lf >> 4 & 7); actual == Open && p.lf != Open {
		return p.powerAlarm(now, 0, ev)
	}
	return ev, nil
}

// Diag is a snapshot of the line's analog state.
type Diag struct {
	Linefeed Linefeed // commanded
	Actual   Linefeed // what the chip reports it is doing
	OffHook  bool
	Ringing  bool
	// Tip, Ring and Battery are in volts; the sense registers hold
	// magnitudes of voltages negative to ground (376 mV/LSB).
	Tip, Ring, Battery float64
	LoopCurrent        float64 // mA, 1.1 mA/LSB
	Failed             error
}

func (d Diag) String() string {
	return fmt.Sprintf("linefeed %s (chip: %s), off-hook %t, tip %.1f V, ring %.1f V, battery %.1f V, loop %.1f mA",
		d.Linefeed, d.Actual, d.OffHook, d.Tip, d.Ring, d.Battery, d.LoopCurrent)
}

// Diagnose reads the voltages and loop current (registers 79-82) and the
// linefeed state. It works on a failed port as long as the chip answers.
func (p *Port) Diagnose() (Diag, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := Diag{Linefeed: p.lf, OffHook: p.hook, Ringing: p.ringing, Failed: p.failed}
	var r [5]byte
	for i, reg := range []byte{regLinefeed, regLoopISense, regTipSense, regRingSense, regVBATSense} {
		v, err := p.read(reg)
		if err != nil {
			return d, p.fail("diag", err)
		}
		r[i] = v
	}
	if r[0] == 0xFF && r[2] == 0xFF && r[4] == 0xFF {
		return d, &Error{p.cfg.Name, "diag", fmt.Errorf("%w (reads 0xff)", ErrAbsent)}
	}
	d.Actual = Linefeed(r[0] >> 4 & 7)
	d.LoopCurrent = float64(r[1]) * uaPerLSB / 1000
	d.Tip = -float64(r[2]) * mvPerLSB / 1000
	d.Ring = -float64(r[3]) * mvPerLSB / 1000
	d.Battery = -float64(r[4]) * mvPerLSB / 1000
	return d, nil
}
