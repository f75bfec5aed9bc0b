package proslic

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"callbox/board/internal/irqloop"
	"callbox/board/internal/vclock"
	"callbox/dsp/country"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
)

// Part identifies the chip model.
type Part uint8

// Parts the driver knows.
const (
	Si3210 Part = iota + 1
	Si3215
)

func (p Part) String() string {
	switch p {
	case Si3210:
		return "si3210"
	case Si3215:
		return "si3215"
	}
	return fmt.Sprintf("Part(%d)", uint8(p))
}

// Info is what Probe learns from the chip.
type Info struct {
	Part     Part
	Revision byte // 1 is revision A, 2 B, ...
}

// RevisionLetter returns the silicon revision as the datasheet writes it.
func (i Info) RevisionLetter() string { return string(rune('A' + i.Revision - 1)) }

func (i Info) String() string { return fmt.Sprintf("%s rev %s", i.Part, i.RevisionLetter()) }

// PCMFormat is the sample format of the chip's PCM timeslot.
type PCMFormat uint8

// PCM formats (register 1 bits 4:3).
const (
	PCMMuLaw  PCMFormat = iota // 8-bit G.711 mu-law, one slot of 8 bits
	PCMALaw                    // 8-bit G.711 A-law
	PCMLinear                  // 16-bit linear, two slots
)

// Errors callers branch on. Every error the driver returns is an *Error
// naming the port and the step, wrapping one of these or a specific cause.
var (
	// ErrAbsent: no chip answers on the port (reads of 0x00 or 0xFF).
	ErrAbsent = errors.New("no chip answers")
	// ErrFailed: the port failed earlier (bring-up, repeated power alarms)
	// and refuses to work until BringUp succeeds again.
	ErrFailed = errors.New("port failed")
	// ErrOffHook: the line is off hook, so it cannot ring.
	ErrOffHook = errors.New("line is off hook")
)

// Error is a failure of one port in one step ("probe", "bring-up", ...).
type Error struct {
	Port string
	Step string
	Err  error
}

func (e *Error) Error() string { return "proslic: " + e.Port + ": " + e.Step + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Config describes one FXS port. Conn and Clock are required; the rest has
// defaults.
type Config struct {
	Name     string        // port name for errors and events, e.g. "fxs1"
	Part     Part          // expected part; 0 accepts either
	Conn     spi.Conn      // the chip's SPI connection (chip select per byte)
	Reset    gpio.PinOut   // active-low reset line; nil if not wired
	IRQ      gpio.PinIn    // active-low interrupt line; nil means polling only
	Clock    vclock.Clock  // vclock.Real{} on hardware
	Ring     Ring          // ringing signal; zero means the CN preset
	PCM      PCMFormat     // sample format on the highway
	Slot     int           // PCM timeslot (8-bit units)
	Loop     int           // loop current limit in mA, 20-41; 0 means 20
	Flash    FlashWindow   // zero means 100-800 ms
	Debounce time.Duration // hook debounce; 0 means 30 ms
	// InterDigit is how long the loop stays closed after a pulse before
	// the pulses count as a digit (pulse dialling); 0 means 300 ms.
	InterDigit time.Duration
	// VBATMin is the battery voltage below which the DC-DC converter has not
	// come up (bring-up) or has been lost (service); 0 means 40 V.
	VBATMin float64
	// PowerUpTimeout bounds the VBAT ramp (default 500 ms), CalTimeout the
	// calibration (default 2 s).
	PowerUpTimeout, CalTimeout time.Duration
	// PollInterval is the service period while something is timed (ringing,
	// debounce, flash window; default 10 ms), IdleInterval the polling
	// fallback otherwise (default 100 ms; interrupts come sooner).
	PollInterval, IdleInterval time.Duration
	// HealthInterval is how often VBAT and the linefeed are checked for
	// power faults the interrupts may not show (default 200 ms).
	HealthInterval time.Duration
	// MaxPowerAlarms within AlarmWindow (defaults 3 and 1 minute) fail the
	// port; fewer are recovered from by restoring the linefeed.
	MaxPowerAlarms int
	AlarmWindow    time.Duration
}

// FlashWindow is the range of on-hook times read as a hook flash; shorter
// breaks are ignored as bounce, longer ones hang up.
type FlashWindow struct{ Min, Max time.Duration }

func (c *Config) defaults() error {
	if c.Conn == nil {
		return errors.New("no SPI connection")
	}
	if c.Clock == nil {
		return errors.New("no clock")
	}
	if c.Name == "" {
		c.Name = "fxs"
	}
	if c.Ring.Cadence == nil {
		r, err := PresetFor(country.Default)
		if err != nil {
			return err
		}
		c.Ring = r
	}
	if err := c.Ring.Validate(); err != nil {
		return err
	}
	if c.Loop == 0 {
		c.Loop = 20
	}
	if c.Loop < 20 || c.Loop > 41 {
		return fmt.Errorf("loop current %d mA is outside 20-41 mA", c.Loop)
	}
	if c.Flash == (FlashWindow{}) {
		c.Flash = FlashWindow{100 * time.Millisecond, 800 * time.Millisecond}
	}
	if c.Flash.Min < 0 || c.Flash.Max <= c.Flash.Min {
		return fmt.Errorf("flash window %v-%v is empty", c.Flash.Min, c.Flash.Max)
	}
	if c.Slot < 0 || c.Slot > 127 {
		return fmt.Errorf("pcm slot %d is outside 0-127", c.Slot)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Debounce, 30*time.Millisecond)
	def(&c.InterDigit, 300*time.Millisecond)
	def(&c.PowerUpTimeout, 500*time.Millisecond)
	def(&c.CalTimeout, 2*time.Second)
	def(&c.PollInterval, 10*time.Millisecond)
	def(&c.IdleInterval, 100*time.Millisecond)
	def(&c.HealthInterval, 200*time.Millisecond)
	def(&c.AlarmWindow, time.Minute)
	if c.VBATMin <= 0 {
		c.VBATMin = 40
	}
	if c.MaxPowerAlarms <= 0 {
		c.MaxPowerAlarms = 3
	}
	return nil
}

// Port drives one ProSLIC. Its methods are safe for concurrent use.
type Port struct {
	cfg Config

	mu     sync.Mutex
	tx, rx [1]byte // SPI buffers, kept here so transfers do not allocate
	info   Info
	failed error // non-nil: the port refuses to work
	up     bool  // bring-up completed
	halted bool  // Halt left the chip safe; BringUp again to use it

	lf         Linefeed // commanded linefeed
	reverse    bool     // idle polarity is reversed
	lastHealth time.Time

	// hook state
	raw, hook bool      // raw and debounced off-hook
	rawAt     time.Time // when raw last changed
	onAt      time.Time // raw on-hook time of a break that may be a flash
	breakOpen bool      // on hook, waiting to tell a pulse, a flash or a hang-up apart
	pulses    int       // pulses of the digit being dialled
	pulseAt   time.Time // when its last pulse ended
	vbatLost  bool
	alarms    []time.Time

	// ringing
	ringing    bool
	ringStart  time.Time
	ringCycles int
	ringSeg    int // current cadence segment, counted from the start

	run irqloop.Loop // the service goroutine (Start, Close)
}

// New checks cfg and returns a port; it does not touch the chip.
func New(cfg Config) (*Port, error) {
	if err := cfg.defaults(); err != nil {
		return nil, &Error{Port: cfg.Name, Step: "config", Err: err}
	}
	return &Port{cfg: cfg}, nil
}

// Name returns the port's name.
func (p *Port) Name() string { return p.cfg.Name }

// Info returns what the last successful Probe found.
func (p *Port) Info() Info {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.info
}

// Failed returns why the port is out of service, or nil.
func (p *Port) Failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed
}

func (p *Port) errf(step, format string, a ...any) error {
	return &Error{Port: p.cfg.Name, Step: step, Err: fmt.Errorf(format, a...)}
}

// SPI access. The ProSLIC takes a control byte (bit 7 = read, 6:0 =
// register) and a data byte, with chip select released between bytes, so
// every byte is its own transaction.

func (p *Port) write(reg, v byte) error {
	p.tx[0] = reg & 0x7F
	if err := p.cfg.Conn.Tx(p.tx[:], nil); err != nil {
		return err
	}
	p.tx[0] = v
	return p.cfg.Conn.Tx(p.tx[:], nil)
}

func (p *Port) read(reg byte) (byte, error) {
	p.tx[0] = reg | 0x80
	if err := p.cfg.Conn.Tx(p.tx[:], p.rx[:]); err != nil {
		return 0, err
	}
	p.tx[0] = 0
	if err := p.cfg.Conn.Tx(p.tx[:], p.rx[:]); err != nil {
		return 0, err
	}
	return p.rx[0], nil
}

// waitIndirect polls the indirect access status until the chip is ready.
func (p *Port) waitIndirect() error {
	for i := 0; i < 100; i++ {
		s, err := p.read(regIAS)
		if err != nil {
			return err
		}
		if s&iasBusy == 0 {
			return nil
		}
	}
	return errors.New("indirect access stayed busy (reg 31)")
}

// writeIndirect writes an indirect register given in Si3210 numbering; on a
// Si3215 it is mapped, and skipped if that part lacks it.
func (p *Port) writeIndirect(addr byte, v uint16) error {
	a, ok := IndirectAddr(p.info.Part, addr)
	if !ok {
		return nil
	}
	if err := p.waitIndirect(); err != nil {
		return err
	}
	if err := p.write(regIDALo, byte(v)); err != nil {
		return err
	}
	if err := p.write(regIDAHi, byte(v>>8)); err != nil {
		return err
	}
	return p.write(regIAA, a)
}

func (p *Port) readIndirect(addr byte) (uint16, error) {
	a, ok := IndirectAddr(p.info.Part, addr)
	if !ok {
		return 0, nil
	}
	if err := p.waitIndirect(); err != nil {
		return 0, err
	}
	if err := p.write(regIAA, a); err != nil {
		return 0, err
	}
	if err := p.waitIndirect(); err != nil {
		return 0, err
	}
	lo, err := p.read(regIDALo)
	if err != nil {
		return 0, err
	}
	hi, err := p.read(regIDAHi)
	return uint16(hi)<<8 | uint16(lo), err
}

// Probe reads the chip's identity: register 0 gives part and revision
// (0x00 or 0xFF, and revisions 0 or 15, mean nothing answers), register 1
// bit 7 tells a Si3215 from a Si3210.
func (p *Port) Probe() (Info, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.probe()
}

func (p *Port) probe() (Info, error) {
	id, err := p.read(regID)
	if err != nil {
		return Info{}, &Error{p.cfg.Name, "probe", err}
	}
	rev := id & 0x0F
	if id == 0x00 || id == 0xFF || rev == 0 || rev == 0x0F {
		return Info{}, &Error{p.cfg.Name, "probe", fmt.Errorf("%w (reg 0 reads 0x%02x)", ErrAbsent, id)}
	}
	if rev < 2 {
		return Info{}, p.errf("probe", "revision %c is too old (reg 0 reads 0x%02x)", 'A'+rev-1, id)
	}
	mode, err := p.read(regPCMMode)
	if err != nil {
		return Info{}, &Error{p.cfg.Name, "probe", err}
	}
	info := Info{Part: Si3210, Revision: rev}
	if mode&si3215Flag != 0 {
		info.Part = Si3215
	}
	if p.cfg.Part != 0 && p.cfg.Part != info.Part {
		return Info{}, p.errf("probe", "found %s, the board says %s", info.Part, p.cfg.Part)
	}
	p.info = info
	return info, nil
}

// ResetChip pulses the reset line low (if wired) and lets the chip settle.
func (p *Port) ResetChip() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reset()
}

func (p *Port) reset() error {
	if p.cfg.Reset == nil {
		return nil
	}
	if err := p.cfg.Reset.Out(gpio.Low); err != nil {
		return &Error{p.cfg.Name, "reset", err}
	}
	p.cfg.Clock.Sleep(time.Millisecond) // datasheet: at least 250 ns
	if err := p.cfg.Reset.Out(gpio.High); err != nil {
		return &Error{p.cfg.Name, "reset", err}
	}
	p.cfg.Clock.Sleep(10 * time.Millisecond)
	p.up = false
	return nil
}

// BringUp resets, probes and initialises the chip, in the datasheet's order:
//
//  1. reset pulse; probe (reg 0, 1); after-reset sanity (reg 8 = 0x02,
//     reg 11 = 0x33, reg 64 = 0)
//  2. DC-DC held off (reg 14 = 0x10), interrupts masked (21-23 = 0)
//  3. the indirect register table through 28/29/30, polling 31 before each,
//     then read back and compared
//  4. loopback off (8), revision C enhancements (108), manual battery
//     control (67), Q7 off (66), battery voltages (74, 75) from the ring
//     amplitude, on-hook voltage (72)
//  5. DC-DC period (92) and control (93), then power up (14 = 0); poll VBAT
//     (82) until it exceeds VBATMin, within PowerUpTimeout
//  6. loop current limit (71)
//  7. calibration: 97 = 0x1F, 96 = 0x5F; poll 96 until 0, within CalTimeout;
//     DC-DC calibration (93 = 0x99)
//  8. PCM format and timeslot (1-5)
//  9. ring generator: oscillator control (34), ROFF, RCO, RNGX, RNGY and the
//     ring trip threshold (indirect 19-22, 29)
//  10. interrupts: clear 18-20, enable ring trip, loop closure and power
//     alarms (22 = 0xFF)
//  11. linefeed forward active (64 = 1)
//
// A failure marks the port failed and returns an *Error naming the step;
// other ports are not touched.
func (p *Port) BringUp() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopRing()
	p.up, p.halted = false, false
	err := p.bringUp()
	p.failed = err
	if err == nil {
		p.up = true
		p.lf = p.idle()
		p.raw, p.hook, p.breakOpen, p.vbatLost, p.pulses = false, false, false, false, 0
		p.alarms = p.alarms[:0]
		p.lastHealth = p.cfg.Clock.Now()
	}
	return err
}

func (p *Port) bringUp() error {
	if err := p.reset(); err != nil {
		return err
	}
	if _, err := p.probe(); err != nil {
		return err
	}
	step := "bring-up"
	fail := func(err error) error {
		var e *Error
		if errors.As(err, &e) {
			return err
		}
		return &Error{p.cfg.Name, step, err}
	}
	for _, s := range []struct{ reg, want byte }{{regLoopback, 0x02}, {regHybrid, 0x33}, {regLinefeed, 0}} {
		v, err := p.read(s.reg)
		if err != nil {
			return fail(err)
		}
		if v != s.want {
			return p.errf(step, "chip not in its reset state: reg %d reads 0x%02x, want 0x%02x", s.reg, v, s.want)
		}
	}
	// Datasheet order: keep the DC-DC converter off while programming it.
	seq := []struct{ reg, v byte }{
		{regPowerDown1, pdDCDC},
		{regIntMask1, 0}, {regIntMask2, 0}, {regIntMask3, 0},
	}
	if err := p.writes(seq); err != nil {
		return fail(err)
	}
	step = "bring-up: indirect registers"
	for _, r := range indirectTable {
		if err := p.writeIndirect(r.addr, r.value); err != nil {
			return fail(fmt.Errorf("%s (%d): %w", r.name, r.addr, err))
		}
	}
	// Read the table back: a marginal SPI bus shows here, not as a
	// mistuned line later.
	for _, r := range indirectTable {
		if _, ok := IndirectAddr(p.info.Part, r.addr); !ok {
			continue
		}
		v, err := p.readIndirect(r.addr)
		if err != nil {
			return fail(fmt.Errorf("%s (%d): %w", r.name, r.addr, err))
		}
		if v != r.value {
			return fail(fmt.Errorf("%s (%d) reads 0x%04x after writing 0x%04x", r.name, r.addr, v, r.value))
		}
	}
	step = "bring-up"
	vbath := int(math.Ceil((p.cfg.Ring.Amplitude + 5) * 1000 / batPerLSBmV))
	if vbath > 0x3F {
		vbath = 0x3F
	}
	seq = []struct{ reg, v byte }{
		{regLoopback, 0},
		{regEnhance, 0xEB},
		{regAutoCtl, 0x07},
		{regBatFeed, 0x01},
		{regVBATH, byte(vbath)},
		{regVBATL, 0x10},
		{regVOC, 0x20},
		{regDCDCPeriod, 0xFF},
		{regDCDC, 0x19},
		{regPowerDown1, 0},
	}
	if err := p.writes(seq); err != nil {
		return fail(err)
	}
	step = "bring-up: dc-dc power-up"
	start := p.cfg.Clock.Now()
	for {
		v, err := p.read(regVBATSense)
		if err != nil {
			return fail(err)
		}
		volts := float64(v) * mvPerLSB / 1000
		if volts >= p.cfg.VBATMin {
			break
		}
		if p.cfg.Clock.Now().Sub(start) >= p.cfg.PowerUpTimeout {
			return p.errf("bring-up", "vbat did not rise above %.0f V within %v (read %.1f V)", p.cfg.VBATMin, p.cfg.PowerUpTimeout, volts)
		}
		p.cfg.Clock.Sleep(10 * time.Millisecond)
	}
	step = "bring-up"
	if err := p.write(regILim, byte((p.cfg.Loop-20)/3)); err != nil {
		return fail(err)
	}
	step = "bring-up: calibration"
	if err := p.writes([]struct{ reg, v byte }{{regCal2, calAll}, {regCal1, calStart | calAll}}); err != nil {
		return fail(err)
	}
	start = p.cfg.Clock.Now()
	for {
		v, err := p.read(regCal1)
		if err != nil {
			return fail(err)
		}
		if v == 0 {
			break
		}
		if p.cfg.Clock.Now().Sub(start) >= p.cfg.CalTimeout {
			return p.errf("bring-up", "calibration did not complete within %v (reg 96 reads 0x%02x)", p.cfg.CalTimeout, v)
		}
		p.cfg.Clock.Sleep(10 * time.Millisecond)
	}
	if err := p.write(regDCDC, 0x19|dcdcCal); err != nil {
		return fail(err)
	}
	step = "bring-up: pcm"
	mode := byte(0x20) | byte([]byte{1, 0, 3}[p.cfg.PCM])<<3
	count := p.cfg.Slot * 8
	seq = []struct{ reg, v byte }{
		{regPCMMode, mode},
		{regTxStartLo, byte(count)}, {regTxStartHi, byte(count >> 8 & 3)},
		{regRxStartLo, byte(count)}, {regRxStartHi, byte(count >> 8 & 3)},
	}
	if err := p.writes(seq); err != nil {
		return fail(err)
	}
	step = "bring-up: ring generator"
	if err := p.setRing(p.cfg.Ring); err != nil {
		return fail(err)
	}
	step = "bring-up: interrupts"
	seq = []struct{ reg, v byte }{
		{regIntStatus1, 0xFF}, {regIntStatus2, 0xFF}, {regIntStatus3, 0xFF},
		{regIntMask2, 0xFF},
	}
	if err := p.writes(seq); err != nil {
		return fail(err)
	}
	step = "bring-up: linefeed"
	if err := p.write(regLinefeed, byte(p.idle())); err != nil {
		return fail(err)
	}
	return nil
}

func (p *Port) writes(seq []struct{ reg, v byte }) error {
	for _, s := range seq {
		if err := p.write(s.reg, s.v); err != nil {
			return fmt.Errorf("writing reg %d: %w", s.reg, err)
		}
	}
	return nil
}

// setRing programs the ring oscillator for r (sine, chip timers off: the
// driver times the cadence).
func (p *Port) setRing(r Ring) error {
	rco, rngx := RingRegisters(r)
	if err := p.write(regRingCtl, 0); err != nil {
		return err
	}
	for _, w := range []struct {
		addr byte
		v    uint16
	}{{iRingOffset, 0}, {iRingCoef, rco}, {iRingX, rngx}, {iRingY, 0}, {iRingTrip, 0x3600}} {
		if err := p.writeIndirect(w.addr, w.v); err != nil {
			return err
		}
	}
	return nil
}

// SetRing changes the ringing signal (frequency, amplitude, cadence); it
// takes effect at the next Ring.
func (p *Port) SetRing(r Ring) error {
	if err := r.Validate(); err != nil {
		return &Error{p.cfg.Name, "ring", err}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable("ring"); err != nil {
		return err
	}
	if p.ringing {
		return p.errf("ring", "cannot change the ring while ringing")
	}
	if err := p.setRing(r); err != nil {
		return p.fail("ring", err)
	}
	p.cfg.Ring = r
	return nil
}

// usable reports why the port cannot be operated now.
func (p *Port) usable(step string) error {
	if p.failed != nil {
		return &Error{p.cfg.Name, step, fmt.Errorf("%w: %v", ErrFailed, p.failed)}
	}
	if p.halted {
		return &Error{p.cfg.Name, step, fmt.Errorf("%w: halted", ErrFailed)}
	}
	if !p.up {
		return &Error{p.cfg.Name, step, fmt.Errorf("%w: not brought up", ErrFailed)}
	}
	return nil
}

// Halt leaves the chip safe and quiet, as periph's conn.Resource Halt
// does for a device: ringing stopped, the linefeed open (no battery feed,
// so no phone rings or draws current), every interrupt masked and cleared,
// and the DC-DC converter powered down. Service does nothing afterwards and
// every operation fails until BringUp. It tries every step even when one
// fails (a chip that stopped answering) and returns the errors; it is safe
// to call more than once, on a failed port, and while Start's goroutine
// runs.
func (p *Port) Halt() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ringing, p.up, p.halted = false, false, true
	p.breakOpen, p.pulses = false, 0
	var errs []error
	for _, s := range []struct{ reg, v byte }{
		{regLinefeed, byte(Open)},
		{regIntMask1, 0}, {regIntMask2, 0}, {regIntMask3, 0},
		{regIntStatus1, 0xFF}, {regIntStatus2, 0xFF}, {regIntStatus3, 0xFF},
		{regPowerDown1, pdDCDC},
	} {
		if err := p.write(s.reg, s.v); err != nil {
			errs = append(errs, fmt.Errorf("writing reg %d: %w", s.reg, err))
		}
	}
	p.lf = Open
	if err := errors.Join(errs...); err != nil {
		return &Error{p.cfg.Name, "halt", err}
	}
	return nil
}

// fail wraps an SPI error of an operation.
func (p *Port) fail(step string, err error) error {
	return &Error{p.cfg.Name, step, err}
}
