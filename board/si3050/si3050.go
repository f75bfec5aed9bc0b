package si3050

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"callbox/board/internal/irqloop"
	"callbox/board/internal/vclock"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
)

// Errors a caller may branch on.
var (
	// ErrAbsent means no chip answers: register reads are all 0x00 or all
	// 0xFF, as an empty socket or an unpowered chip gives.
	ErrAbsent = errors.New("si3050: no chip answers")
	// ErrNoLine means the line gives no battery or no loop current: the
	// PSTN line is unplugged or the exchange has cut it.
	ErrNoLine = errors.New("si3050: line disconnected")
	// ErrFailed is returned by every operation of a port whose bring-up
	// failed; the bring-up error is wrapped alongside it.
	ErrFailed = errors.New("si3050: port failed")
)

// Law is the PCM sample format on the wire.
type Law uint8

// PCM formats of register 33.
const (
	MuLaw Law = iota
	ALaw
	Linear
)

// Config describes one FXO port: the chip's connection, pins and line
// settings. Only Conn is required; zero durations take the defaults shown.
type Config struct {
	Name  string       // port name for logs and errors, "fxo1"
	Conn  spi.Conn     // the chip's SPI connection (mode 3, up to 16 MHz on hardware)
	Reset gpio.PinOut  // optional reset line (active low)
	IRQ   gpio.PinIn   // optional interrupt line (active low); nil polls
	Clock vclock.Clock // vclock.Real{} when nil

	// ChainID is the daisy-chain address put in the control byte's low
	// bits (0 for a chip on its own chip select).
	ChainID uint8
	// Country is the line preset; the zero value means CN.
	Country Country
	// PCMSlot is the chip's timeslot on the PCM highway; Law its format.
	PCMSlot int
	Law     Law

	LinkTimeout  time.Duration // isolation link wait, 2 s
	PollInterval time.Duration // monitor period while anything is in progress (or with no IRQ pin), 10 ms
	IdlePoll     time.Duration // with an IRQ pin: fallback period while the line is idle, 100 ms

	RingMinOn         time.Duration // ring detector active this long before a ring counts, 40 ms
	RingOffGap        time.Duration // ring detector quiet this long ends a ring, 100 ms
	RingSeriesTimeout time.Duration // no ring this long ends the ringing (caller gave up), 8 s

	SeizeTimeout    time.Duration // loop current must flow within this after seizing, 500 ms
	MinLoopCurrent  float64       // mA a seized line must draw, 8
	LoopDropCurrent float64       // mA under which the loop counts as open, 3
	LoopDropMin     time.Duration // open loop this long is a disconnect, 200 ms
	LoopSettle      time.Duration // no loop-drop checks this long after seize or flash, 300 ms

	BatteryThreshold float64       // |line volts| under which the battery is gone, 3
	BatteryDebounce  time.Duration // battery state must hold this long to change, 500 ms
	PolarityMinVolts float64       // |line volts| needed to tell polarity, 3
	PolarityDebounce time.Duration // a new polarity must hold this long, 20 ms
}

func (c *Config) defaults() {
	if c.Name == "" {
		c.Name = "fxo"
	}
	if c.Clock == nil {
		c.Clock = vclock.Real{}
	}
	if c.Country.Code == "" {
		c.Country, _ = CountryFor("") // the default country is always in the table
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	deff := func(f *float64, v float64) {
		if *f <= 0 {
			*f = v
		}
	}
	def(&c.LinkTimeout, 2*time.Second)
	def(&c.PollInterval, 10*time.Millisecond)
	def(&c.IdlePoll, 100*time.Millisecond)
	def(&c.RingMinOn, 40*time.Millisecond)
	def(&c.RingOffGap, 100*time.Millisecond)
	def(&c.RingSeriesTimeout, 8*time.Second)
	def(&c.SeizeTimeout, 500*time.Millisecond)
	def(&c.LoopDropMin, 200*time.Millisecond)
	def(&c.LoopSettle, 300*time.Millisecond)
	def(&c.BatteryDebounce, 500*time.Millisecond)
	def(&c.PolarityDebounce, 20*time.Millisecond)
	deff(&c.MinLoopCurrent, 8)
	deff(&c.LoopDropCurrent, 3)
	deff(&c.BatteryThreshold, 3)
	deff(&c.PolarityMinVolts, 3)
}

// Info is what Probe reads: the chip's revisions.
type Info struct {
	SystemRev  uint8 // system-side revision (register 11 bits 3:0)
	LineSideID uint8 // line-side device (register 11 bits 7:4); 0 while the isolation link is down
	LineRev    uint8 // line-side revision (register 13 bits 5:2); 0 while the link is down
}

// LinkUp reports whether the isolation link to the line side was up.
func (i Info) LinkUp() bool { return i.LineSideID != 0 }

// String describes the chip as installers read it.
func (i Info) String() string {
	if !i.LinkUp() {
		return fmt.Sprintf("si3050 rev %d, line side not linked", i.SystemRev)
	}
	ls := fmt.Sprintf("line side id %d", i.LineSideID)
	switch i.LineSideID {
	case LineSideSi3018:
		ls = "si3018"
	case LineSideSi3019:
		ls = "si3019"
	}
	return fmt.Sprintf("si3050 rev %d, %s rev %d", i.SystemRev, ls, i.LineRev)
}

// Port drives one Si3050 DAA. Its methods are safe for concurrent use.
type Port struct {
	cfg Config

	mu       sync.Mutex
	w, r     [3]byte
	info     Info
	ready    bool  // Init succeeded
	halted   bool  // Halt left the chip safe; Init again to use it
	failed   error // bring-up error; the port is out of service
	offhook  bool
	flashing bool
	seizedAt time.Time
	mon      monitorState
	run      irqloop.Loop // the monitor goroutine (Start, Close)
}

// New checks cfg and returns a port; nothing is sent to the chip until
// Probe or Init.
func New(cfg Config) (*Port, error) {
	cfg.defaults()
	if cfg.Conn == nil {
		return nil, fmt.Errorf("si3050: %s: config: no SPI connection", cfg.Name)
	}
	if cfg.ChainID > 0x1F {
		return nil, fmt.Errorf("si3050: %s: config: chain id %d is over 31", cfg.Name, cfg.ChainID)
	}
	if cfg.PCMSlot < 0 || cfg.PCMSlot > 127 {
		return nil, fmt.Errorf("si3050: %s: config: pcm slot %d is outside 0-127", cfg.Name, cfg.PCMSlot)
	}
	if cfg.Law > Linear {
		return nil, fmt.Errorf("si3050: %s: config: unknown pcm law %d", cfg.Name, cfg.Law)
	}
	return &Port{cfg: cfg}, nil
}

// Name returns the port's name.
func (p *Port) Name() string { return p.cfg.Name }

// Err returns the bring-up error of a failed port, nil otherwise.
func (p *Port) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed
}

// Info returns the revisions read by the last Probe or Init.
func (p *Port) Info() Info {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.info
}

func (p *Port) errorf(step, format string, a ...any) error {
	return fmt.Errorf("si3050: %s: %s: "+format, append([]any{p.cfg.Name, step}, a...)...)
}

func (p *Port) readReg(reg byte) (byte, error) {
	p.w = [3]byte{CtrlRead | p.cfg.ChainID, reg, 0}
	p.r = [3]byte{}
	if err := p.cfg.Conn.Tx(p.w[:], p.r[:]); err != nil {
		return 0, fmt.Errorf("spi read of register %d: %w", reg, err)
	}
	return p.r[2], nil
}

func (p *Port) writeReg(reg, v byte) error {
	p.w = [3]byte{CtrlWrite | p.cfg.ChainID, reg, v}
	if err := p.cfg.Conn.Tx(p.w[:], nil); err != nil {
		return fmt.Errorf("spi write of register %d: %w", reg, err)
	}
	return nil
}

// usable returns the error that stops an operation on a port that failed
// or was never brought up.
func (p *Port) usable(step string) error {
	if p.failed != nil {
		return fmt.Errorf("si3050: %s: %s: %w: %w", p.cfg.Name, step, ErrFailed, p.failed)
	}
	if p.halted {
		return p.errorf(step, "%w: halted", ErrFailed)
	}
	if !p.ready {
		return p.errorf(step, "port not initialised")
	}
	return nil
}

// Probe reads the revision register and tells whether a chip answers,
// without changing its state. It reads register 11 and, if the isolation
// link is up, register 13.
func (p *Port) Probe() (Info, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.probe()
}

func (p *Port) probe() (Info, error) {
	v, err := p.readReg(RegRevision)
	if err != nil {
		return Info{}, p.errorf("probe", "%w", err)
	}
	if v == 0x00 || v == 0xFF {
		return Info{}, fmt.Errorf("si3050: %s: probe: register 11 reads 0x%02x: %w", p.cfg.Name, v, ErrAbsent)
	}
	info := Info{SystemRev: v & 0x0F, LineSideID: v >> 4}
	if info.LinkUp() {
		lr, err := p.readReg(RegLineRev)
		if err != nil {
			return Info{}, p.errorf("probe", "%w", err)
		}
		info.LineRev = lr >> 2 & 0x0F
	}
	p.info = info
	return info, nil
}

// Init brings the chip up, in the datasheet's order: reset (pin, then
// register 1), presence and revision, PCM format, country set-up
// (registers 16, 18, 22-24, 26, 30, 31), PCM timeslots (34-37),
// interrupts (3, 2), line side power-up (6) and the wait for the
// isolation link (11), line-side revision (13), clearing interrupts (4),
// on-hook line monitor (5 = 0x08) and the line polarity (29). A failure
// marks the port failed and names the step; other ports are not touched.
func (p *Port) Init() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ready, p.failed, p.halted = false, nil, false
	if err := p.bringUp(); err != nil {
		p.failed = err
		return err
	}
	p.ready = true
	return nil
}

func (p *Port) bringUp() error {
	clk := p.cfg.Clock
	if p.cfg.Reset != nil {
		if err := p.cfg.Reset.Out(gpio.Low); err != nil {
			return p.errorf("reset", "reset pin: %w", err)
		}
		clk.Sleep(time.Millisecond)
		if err := p.cfg.Reset.Out(gpio.High); err != nil {
			return p.errorf("reset", "reset pin: %w", err)
		}
		clk.Sleep(time.Millisecond)
	}
	if err := p.writeReg(RegControl1, Control1SR); err != nil {
		return p.errorf("reset", "%w", err)
	}
	clk.Sleep(100 * time.Millisecond) // the chip is deaf while it resets
	if _, err := p.probe(); err != nil {
		return err
	}
	law := [...]byte{MuLaw: PCMMuLaw, ALaw: PCMALaw, Linear: PCMLinear}[p.cfg.Law]
	if err := p.writeReg(RegPCMMode, PCMEnable|law); err != nil {
		return p.errorf("pcm set-up", "%w", err)
	}
	for _, rv := range p.cfg.Country.Registers() {
		if err := p.writeReg(rv.Reg, rv.Value); err != nil {
			return p.errorf("country set-up ("+p.cfg.Country.Code+")", "%w", err)
		}
	}
	bits := 8
	if p.cfg.Law == Linear {
		bits = 16
	}
	start := p.cfg.PCMSlot * bits
	for _, rv := range []RegValue{
		{RegTXStartLo, byte(start)}, {RegTXStartHi, byte(start >> 8)},
		{RegRXStartLo, byte(start)}, {RegRXStartHi, byte(start >> 8)},
	} {
		if err := p.writeReg(rv.Reg, rv.Value); err != nil {
			return p.errorf("pcm set-up", "%w", err)
		}
	}
	if err := p.writeReg(RegIntMask, IntRDT|IntBTD|IntDOD|IntPOL); err != nil {
		return p.errorf("interrupt set-up", "%w", err)
	}
	c2 := byte(Control2Reset | Control2RDI)
	if p.cfg.IRQ != nil {
		c2 |= Control2INTE
		if err := p.cfg.IRQ.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return p.errorf("interrupt set-up", "irq pin %s: %w", p.cfg.IRQ, err)
		}
	}
	if err := p.writeReg(RegControl2, c2); err != nil {
		return p.errorf("interrupt set-up", "%w", err)
	}
	if err := p.writeReg(RegDAACtrl2, 0x00); err != nil {
		return p.errorf("line side power-up", "%w", err)
	}
	deadline := clk.Now().Add(p.cfg.LinkTimeout)
	for {
		v, err := p.readReg(RegRevision)
		if err != nil {
			return p.errorf("isolation link", "%w", err)
		}
		if v&0xF0 != 0 {
			break
		}
		if !clk.Now().Before(deadline) {
			return p.errorf("isolation link", "line side did not answer within %v (register 11 = 0x%02x)", p.cfg.LinkTimeout, v)
		}
		clk.Sleep(10 * time.Millisecond)
	}
	if _, err := p.probe(); err != nil {
		return err
	}
	if err := p.writeReg(RegIntSource, 0x00); err != nil {
		return p.errorf("interrupt set-up", "%w", err)
	}
	if err := p.writeReg(RegDAACtrl1, OnHookMonitor); err != nil {
		return p.errorf("line monitor", "%w", err)
	}
	p.offhook, p.flashing = false, false
	p.mon = monitorState{battery: true}
	// Learn the line's polarity now, so a reversal before the first poll
	// (an ETSI caller ID alert) is not taken as the normal state.
	v, err := p.readReg(RegLineVolt)
	if err != nil {
		return p.errorf("line monitor", "%w", err)
	}
	if volts := float64(int8(v)) * LineVoltageLSB; volts >= p.cfg.PolarityMinVolts {
		p.mon.polarity = 1
	} else if volts <= -p.cfg.PolarityMinVolts {
		p.mon.polarity = -1
	}
	return nil
}

// Seize takes the line off-hook (register 5 = 0x09), as answering a call
// or starting to dial does, and checks that loop current flows within
// SeizeTimeout. Without loop current the line is put back on-hook and the
// error wraps ErrNoLine.
func (p *Port) Seize() error {
	p.mu.Lock()
	if err := p.usable("seize"); err != nil {
		p.mu.Unlock()
		return err
	}
	if err := p.writeReg(RegDAACtrl1, OffHook); err != nil {
		p.mu.Unlock()
		return p.errorf("seize", "%w", err)
	}
	p.offhook = true
	p.seizedAt = p.cfg.Clock.Now()
	p.mon.loopSince, p.mon.loopDropped = time.Time{}, false
	p.mu.Unlock()

	clk := p.cfg.Clock
	deadline := clk.Now().Add(p.cfg.SeizeTimeout)
	for {
		ma, err := p.LoopCurrent()
		if err != nil {
			return err
		}
		if ma >= p.cfg.MinLoopCurrent {
			return nil
		}
		if !clk.Now().Before(deadline) {
			v, _ := p.LineVoltage()
			_ = p.Release()
			return fmt.Errorf("si3050: %s: seize: loop current %.1f mA within %v, want %.0f mA (line %.0f V): %w",
				p.cfg.Name, ma, p.cfg.SeizeTimeout, p.cfg.MinLoopCurrent, v, ErrNoLine)
		}
		clk.Sleep(10 * time.Millisecond)
	}
}

// Release puts the line back on-hook, with the on-hook line monitor on
// so caller ID of the next call is heard (register 5 = 0x08).
func (p *Port) Release() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable("release"); err != nil {
		return err
	}
	if err := p.writeReg(RegDAACtrl1, OnHookMonitor); err != nil {
		return p.errorf("release", "%w", err)
	}
	p.offhook, p.flashing = false, false
	return nil
}

// Halt leaves the chip safe and quiet, as periph's conn.Resource Halt
// does for a device: the line on-hook (register 5 = 0: no loop, the
// on-hook monitor off), every interrupt masked (3 = 0) and cleared (4 = 0),
// and the interrupt pin no longer driven (2 back to its reset value). A
// seizure or flash in progress ends on-hook; Poll does nothing afterwards
// and every operation fails until Init. It tries every step even when one
// fails and returns the errors; it is safe to call more than once, on a
// failed port, and while Start's goroutine runs.
func (p *Port) Halt() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ready, p.halted = false, true
	p.offhook, p.flashing = false, false
	var errs []error
	for _, rv := range []RegValue{
		{RegDAACtrl1, 0},
		{RegIntMask, 0},
		{RegIntSource, 0},
		{RegControl2, Control2Reset},
	} {
		if err := p.writeReg(rv.Reg, rv.Value); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return p.errorf("halt", "%w", err)
	}
	return nil
}

// OffHook reports whether the line is seized.
func (p *Port) OffHook() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.offhook
}

// Flash sends a hook flash: on-hook for d (the country's Flash when d is
// 0), then off-hook again. The line must be seized. Loop-drop detection is
// suspended meanwhile.
func (p *Port) Flash(d time.Duration) error {
	if d <= 0 {
		d = p.cfg.Country.Flash
	}
	p.mu.Lock()
	if err := p.usable("flash"); err != nil {
		p.mu.Unlock()
		return err
	}
	if !p.offhook {
		p.mu.Unlock()
		return p.errorf("flash", "line is on-hook")
	}
	if err := p.writeReg(RegDAACtrl1, OnHookMonitor); err != nil {
		p.mu.Unlock()
		return p.errorf("flash", "%w", err)
	}
	p.flashing = true
	p.mu.Unlock()

	p.cfg.Clock.Sleep(d)

	p.mu.Lock()
	defer p.mu.Unlock()
	p.flashing = false
	if !p.offhook { // released meanwhile
		return nil
	}
	if err := p.writeReg(RegDAACtrl1, OffHook); err != nil {
		return p.errorf("flash", "%w", err)
	}
	p.seizedAt = p.cfg.Clock.Now()
	p.mon.loopSince, p.mon.loopDropped = time.Time{}, false
	return nil
}

// LineVoltage returns the tip-ring voltage (register 29, signed, 1 V per
// LSB): about ±48 V on-hook, a few volts off-hook, 0 with no battery. The
// sign is the line polarity.
func (p *Port) LineVoltage() (float64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable("line voltage"); err != nil {
		return 0, err
	}
	v, err := p.readReg(RegLineVolt)
	if err != nil {
		return 0, p.errorf("line voltage", "%w", err)
	}
	return float64(int8(v)) * LineVoltageLSB, nil
}

// LoopCurrent returns the loop current in milliamps (register 28, 1.1 mA
// per LSB); 0 on-hook.
func (p *Port) LoopCurrent() (float64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable("loop current"); err != nil {
		return 0, err
	}
	v, err := p.readReg(RegLoopCur)
	if err != nil {
		return 0, p.errorf("loop current", "%w", err)
	}
	return float64(v) * LoopCurrentLSB, nil
}

// Diag is a snapshot of the port for `board diag`.
type Diag struct {
	Info      Info
	OffHook   bool
	Ringing   bool    // the debounced ring detector
	Volts     float64 // line voltage, signed
	MilliAmps float64 // loop current
	Polarity  int     // +1 normal, -1 reversed, 0 unknown (no battery)
	Battery   bool    // the debounced battery state
	Err       error   // bring-up error of a failed port
}

// Diag reads the line voltage and loop current and reports the port state.
// A failed port returns its error in Diag.Err and no readings.
func (p *Port) Diag() (Diag, error) {
	p.mu.Lock()
	d := Diag{Info: p.info, OffHook: p.offhook, Ringing: p.mon.ringOn, Polarity: p.mon.polarity, Battery: p.mon.battery, Err: p.failed}
	p.mu.Unlock()
	if d.Err != nil {
		return d, nil
	}
	var err error
	if d.Volts, err = p.LineVoltage(); err != nil {
		return d, err
	}
	if d.MilliAmps, err = p.LoopCurrent(); err != nil {
		return d, err
	}
	return d, nil
}
