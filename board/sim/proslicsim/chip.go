package proslicsim

import (
	"fmt"
	"math"
	"sync"
	"time"

	"callbox/board/internal/vclock"
	"callbox/board/sim/simpin"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
)

// Register numbers the emulator gives behaviour to (Si3210 datasheet).
const (
	rID, rPCM, rLoopback, rHybrid, rPowerDown               = 0, 1, 8, 11, 14
	rInt1, rInt2, rInt3, rMask1, rMask2, rMask3             = 18, 19, 20, 21, 22, 23
	rIDALo, rIDAHi, rIAA, rIAS                              = 28, 29, 30, 31
	rLinefeed, rLoopStatus, rILim, rVOC, rVBATH, rVBATLSet  = 64, 68, 71, 72, 74, 75
	rLoopV, rLoopI, rTipV, rRingV, rVBATHSense, rVBATLSense = 78, 79, 80, 81, 82, 83
	rDCDC, rCal1                                            = 93, 96
	numRegs                                                 = 109
)

// Linefeed states (register 64).
const (
	lfOpen, lfFwd, lfFwdOHT, lfTipOpen, lfRinging, lfRev, lfRevOHT, lfRingOpen = 0, 1, 2, 3, 4, 5, 6, 7
)

// Fault is a chip failure the emulator can be told to show.
type Fault uint8

// Faults on demand.
const (
	// Absent: nothing on the bus; MISO floats high and every read is 0xFF.
	Absent Fault = 1 << iota
	// AbsentLow: nothing on the bus and MISO pulled low: reads are 0x00.
	AbsentLow
	// CalHang: calibration never completes (register 96 never reads 0).
	CalHang
	// VBATNeverRises: the DC-DC converter does not start (no inductor
	// supply): VBAT stays near 1 V.
	VBATNeverRises
	// VBATLost: the battery collapses while running; clearing it lets the
	// DC-DC converter ramp up again.
	VBATLost
	// IndirectStuck: the indirect access never completes (31 reads busy).
	IndirectStuck
)

// Config sets up an emulated chip. Clock is required.
type Config struct {
	Name     string // for pin names, e.g. "fxs1"
	Si3215   bool   // emulate a Si3215 instead of a Si3210
	Revision byte   // silicon revision, 1 = A; 0 means 3 (C)
	Clock    vclock.Clock
	// RampTime is how long VBAT takes to reach its target after the DC-DC
	// converter starts (default 100 ms); CalTime how long calibration
	// takes (default 300 ms).
	RampTime, CalTime time.Duration
	// LoopOhms is the resistance of the line plus the off-hook phone
	// (default 300 ohms).
	LoopOhms float64
}

// Change is a linefeed change seen by the emulator.
type Change struct {
	At       time.Time
	Linefeed byte
}

// Chip is an emulated Si3210/Si3215 ProSLIC with an analog phone on its
// line. It implements spi.Conn (one byte per chip select, or several: the
// byte stream is what counts), drives an interrupt pin and honours a reset
// pin. All its methods are safe for concurrent use.
type Chip struct {
	cfg Config

	mu       sync.Mutex
	faults   Fault
	inReset  bool
	regs     [numRegs]byte
	ind      [256]uint16
	idaDirty bool // 28/29 written since the last indirect access
	iasBusy  int  // reads of 31 still reporting busy
	// SPI byte stream state
	haveCtl bool
	ctl     byte
	// time-derived state
	dcdcOn     bool
	dcdcAt     time.Time
	vbatLostAt time.Time
	calRunning bool
	calDone    time.Time
	alarmStuck byte // alarm bits that re-trip on every powering of the line
	lastLCR    bool
	lastRTP    bool
	irqLow     bool
	log        []Change

	irq   *simpin.Pin
	reset *simpin.Pin
	phone *Phone
}

// New returns a chip in its power-on reset state with an on-hook phone.
func New(cfg Config) *Chip {
	if cfg.Clock == nil {
		panic("proslicsim: Config.Clock is required")
	}
	if cfg.Revision == 0 {
		cfg.Revision = 3
	}
	if cfg.RampTime <= 0 {
		cfg.RampTime = 100 * time.Millisecond
	}
	if cfg.CalTime <= 0 {
		cfg.CalTime = 300 * time.Millisecond
	}
	if cfg.LoopOhms <= 0 {
		cfg.LoopOhms = 300
	}
	c := &Chip{cfg: cfg}
	c.irq = simpin.New(cfg.Name+"_irq", gpio.High)
	c.reset = simpin.NewOutput(cfg.Name+"_reset", gpio.High, c.resetLine)
	c.phone = newPhone(c)
	c.resetRegs()
	return c
}

func (c *Chip) resetRegs() {
	c.regs = [numRegs]byte{}
	c.ind = [256]uint16{}
	c.regs[rID] = c.cfg.Revision & 0x0F
	c.regs[rPCM] = 0x08
	if c.cfg.Si3215 {
		c.regs[rPCM] |= 0x80
	}
	c.regs[rLoopback] = 0x02
	c.regs[rHybrid] = 0x33
	c.regs[rPowerDown] = 0x10
	c.regs[rVOC] = 0x20
	c.regs[rVBATH] = 0x32
	c.regs[rVBATLSet] = 0x10
	c.regs[rCal1] = 0x1F
	c.regs[97] = 0x1F
	c.regs[92] = 0xFF
	c.regs[rDCDC] = 0x0C
	c.dcdcOn, c.calRunning, c.alarmStuck, c.idaDirty = false, false, 0, false
	c.iasBusy, c.haveCtl = 0, false
	c.lastLCR, c.lastRTP = false, false
	c.setIRQ(false)
}

// String implements conn.Resource.
func (c *Chip) String() string { return "proslicsim(" + c.cfg.Name + ")" }

// Duplex implements conn.Conn: SPI is full duplex.
func (c *Chip) Duplex() conn.Duplex { return conn.Full }

// Tx implements conn.Conn. Each byte of w is clocked in and the byte the
// chip shifts out at the same time lands in r (if r is not nil): a control
// byte (bit 7 read, 6:0 register) is followed by a data byte, written to
// the register or, for a read, returned in r.
func (c *Chip) Tx(w, r []byte) error {
	if len(r) != 0 && len(r) != len(w) {
		return fmt.Errorf("proslicsim: Tx: read buffer %d bytes, write %d", len(r), len(w))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, b := range w {
		out := c.clock(b)
		if len(r) != 0 {
			r[i] = out
		}
	}
	return nil
}

// TxPackets implements spi.Conn: the packets' bytes form one stream.
func (c *Chip) TxPackets(p []spi.Packet) error {
	for _, pk := range p {
		if err := c.Tx(pk.W, pk.R); err != nil {
			return err
		}
	}
	return nil
}

// clock takes one byte from MOSI and returns the byte on MISO.
func (c *Chip) clock(b byte) byte {
	switch {
	case c.faults&Absent != 0:
		return 0xFF
	case c.faults&AbsentLow != 0 || c.inReset:
		return 0x00
	}
	if !c.haveCtl {
		c.haveCtl, c.ctl = true, b
		return 0
	}
	c.haveCtl = false
	reg := c.ctl & 0x7F
	if c.ctl&0x80 != 0 {
		return c.readReg(reg)
	}
	c.writeReg(reg, b)
	return 0
}

func (c *Chip) now() time.Time { return c.cfg.Clock.Now() }

func (c *Chip) readReg(reg byte) byte {
	c.update()
	if int(reg) >= numRegs {
		return 0
	}
	switch reg {
	case rIAS:
		if c.iasBusy > 0 || c.faults&IndirectStuck != 0 {
			if c.iasBusy > 0 {
				c.iasBusy--
			}
			return 1
		}
		return 0
	case rLinefeed:
		return c.regs[rLinefeed]&7<<4 | c.regs[rLinefeed]&7
	case rLoopStatus:
		var v byte
		if c.lcr() {
			v |= 1
		}
		if c.rtp() {
			v |= 2
		}
		return v
	case rLoopV, rLoopI, rTipV, rRingV, rVBATHSense, rVBATLSense:
		return c.sense(reg)
	}
	return c.regs[reg]
}

func (c *Chip) writeReg(reg, v byte) {
	c.update()
	if int(reg) >= numRegs {
		return
	}
	switch reg {
	case rID, rIAS, rLoopStatus, rLoopV, rLoopI, rTipV, rRingV, rVBATHSense, rVBATLSense:
		return // read-only
	case rPCM:
		c.regs[rPCM] = v&0x7F | c.regs[rPCM]&0x80
	case rPowerDown:
		if v&0x10 == 0 && !c.dcdcOn {
			c.dcdcOn, c.dcdcAt = true, c.now()
		} else if v&0x10 != 0 {
			c.dcdcOn = false
		}
		c.regs[reg] = v
	case rInt1, rInt2, rInt3:
		c.regs[reg] &^= v // write 1 to clear
	case rIDALo, rIDAHi:
		c.regs[reg] = v
		c.idaDirty = true
	case rIAA:
		c.regs[reg] = v
		if c.idaDirty {
			c.ind[v] = uint16(c.regs[rIDAHi])<<8 | uint16(c.regs[rIDALo])
		} else {
			c.regs[rIDALo], c.regs[rIDAHi] = byte(c.ind[v]), byte(c.ind[v]>>8)
		}
		c.idaDirty = false
		c.iasBusy = 1
	case rLinefeed:
		c.setLinefeed(v & 7)
		if c.alarmStuck != 0 && v&7 != lfOpen {
			c.alarm(c.alarmStuck)
		}
	case rDCDC:
		c.regs[reg] = v &^ 0x80 // the DC-DC calibration finishes at once
	case rCal1:
		c.regs[reg] = v
		if v&0x40 != 0 {
			c.calRunning, c.calDone = true, c.now().Add(c.cfg.CalTime)
		}
	default:
		c.regs[reg] = v
	}
	c.update()
}

func (c *Chip) setLinefeed(lf byte) {
	if c.regs[rLinefeed]&7 == lf && len(c.log) > 0 {
		c.regs[rLinefeed] = lf
		return
	}
	c.regs[rLinefeed] = lf
	c.phone.linefeedChanged(c.now())
	if len(c.log) >= 512 {
		copy(c.log, c.log[256:])
		c.log = c.log[:len(c.log)-256]
	}
	c.log = append(c.log, Change{At: c.now(), Linefeed: lf})
}

// update derives the time-dependent state and raises interrupts for
// changes of loop closure and ring trip.
func (c *Chip) update() {
	if c.calRunning && c.faults&CalHang == 0 && !c.now().Before(c.calDone) {
		c.calRunning = false
		c.regs[rCal1] = 0
	}
	if lcr := c.lcr(); lcr != c.lastLCR {
		c.lastLCR = lcr
		c.pend(rInt2, 0x02)
	}
	if rtp := c.rtp(); rtp != c.lastRTP {
		c.lastRTP = rtp
		if rtp {
			c.pend(rInt2, 0x01)
		}
	}
	c.setIRQ(c.regs[rInt1]|c.regs[rInt2]|c.regs[rInt3] != 0)
}

// pend sets interrupt bits, if enabled by the matching mask register.
func (c *Chip) pend(reg, bits byte) {
	c.regs[reg] |= bits & c.regs[reg+3]
}

// setIRQ drives the active-low interrupt pin; its falling edge wakes a
// driver waiting for one.
func (c *Chip) setIRQ(low bool) {
	if low == c.irqLow {
		return
	}
	c.irqLow = low
	if low {
		c.irq.Drive(gpio.Low)
	} else {
		c.irq.Drive(gpio.High)
	}
}

// vbat is the high battery voltage now, in volts (positive magnitude).
func (c *Chip) vbat() float64 {
	switch {
	case !c.dcdcOn || c.faults&VBATLost != 0:
		return 0
	case c.faults&VBATNeverRises != 0:
		return 1.1
	}
	target := float64(c.regs[rVBATH]&0x3F) * 1.5
	start := c.dcdcAt
	if c.vbatLostAt.After(start) {
		start = c.vbatLostAt
	}
	f := float64(c.now().Sub(start)) / float64(c.cfg.RampTime)
	if f > 1 {
		f = 1
	}
	return target * f
}

// powered reports whether the battery can feed the line.
func (c *Chip) powered() bool { return c.vbat() >= 20 }

func (c *Chip) lf() byte { return c.regs[rLinefeed] & 7 }

// lcr: loop closure, detected in the active and OHT states.
func (c *Chip) lcr() bool {
	switch c.lf() {
	case lfFwd, lfFwdOHT, lfRev, lfRevOHT:
		return c.phone.loopClosed(c.now()) && c.powered()
	}
	return false
}

// rtp: ring trip, the phone answering while the line rings.
func (c *Chip) rtp() bool { return c.lf() == lfRinging && c.phone.loopClosed(c.now()) && c.powered() }

// line returns tip and ring voltages (magnitudes, volts) and loop current (mA).
func (c *Chip) line() (tip, ring, ma float64) {
	vb := c.vbat()
	if vb < 20 {
		return 0, 0, 0
	}
	voc := math.Min(float64(c.regs[rVOC]&0x3F)*1.5, vb-4)
	const base = 2.0 // tip sits a little below ground
	var a, b float64
	switch c.lf() {
	case lfOpen:
		return 0, 0, 0
	case lfRinging:
		return vb / 2, vb / 2, 0
	case lfFwd, lfFwdOHT, lfRev, lfRevOHT:
		a, b = base, base+voc
		if c.phone.loopClosed(c.now()) {
			ilim := 20 + 3*float64(c.regs[rILim]&7)
			ma = math.Min(ilim, voc/c.cfg.LoopOhms*1000)
			b = base + ma/1000*c.cfg.LoopOhms
		}
	case lfTipOpen:
		a, b = 0, base+voc
	case lfRingOpen:
		a, b = base, 0
	}
	if c.lf() == lfRev || c.lf() == lfRevOHT {
		a, b = b, a
	}
	return a, b, ma
}

func lsb(v, per float64) byte {
	n := math.Round(v / per)
	if n > 255 {
		n = 255
	}
	if n < 0 {
		n = 0
	}
	return byte(n)
}

func (c *Chip) sense(reg byte) byte {
	tip, ring, ma := c.line()
	switch reg {
	case rLoopV:
		return lsb(math.Abs(ring-tip), 0.376)
	case rLoopI:
		return lsb(ma, 1.1)
	case rTipV:
		return lsb(tip, 0.376)
	case rRingV:
		return lsb(ring, 0.376)
	case rVBATHSense:
		return lsb(c.vbat(), 0.376)
	default: // low battery
		return lsb(math.Min(c.vbat(), float64(c.regs[rVBATLSet]&0x3F)*1.5), 0.376)
	}
}

// alarm raises transistor power alarm bits and, as the chip's automatic
// power alarm protection does, opens the line.
func (c *Chip) alarm(bits byte) {
	c.pend(rInt2, bits&0xFC)
	c.setLinefeed(lfOpen)
	c.update()
}

// PowerAlarm makes transistors (register 19 bits, e.g. 0x0C for Q1 and Q2)
// report overheating: the chip opens the line and interrupts. With stuck
// set the fault persists: every later attempt to power the line raises it
// again, until ClearPowerAlarm.
func (c *Chip) PowerAlarm(bits byte, stuck bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.update()
	c.alarmStuck = 0
	if stuck {
		c.alarmStuck = bits
	}
	c.alarm(bits)
}

// ClearPowerAlarm ends a stuck power alarm.
func (c *Chip) ClearPowerAlarm() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.alarmStuck = 0
}

// SetFault turns faults on or off.
func (c *Chip) SetFault(f Fault, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.update()
	if on {
		c.faults |= f
	} else {
		if f&VBATLost != 0 && c.faults&VBATLost != 0 {
			c.vbatLostAt = c.now() // the converter ramps up again
		}
		c.faults &^= f
	}
	c.update()
}

// IRQ returns the chip's interrupt pin (active low: it falls when an
// enabled interrupt becomes pending, and that edge wakes WaitForEdge once
// the driver has asked for falling edges with In).
func (c *Chip) IRQ() *simpin.Pin { return c.irq }

// Reset returns the chip's reset pin: driving it low holds the chip in
// reset (reads 0x00); releasing it restores the power-on registers.
func (c *Chip) Reset() *simpin.Pin { return c.reset }

// Phone returns the analog phone on the chip's line.
func (c *Chip) Phone() *Phone { return c.phone }

// Reg returns direct register n as the driver would read it (read-only
// sense registers are computed; reading 31 here does not consume busy).
func (c *Chip) Reg(n byte) byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n == rIAS {
		if c.iasBusy > 0 {
			return 1
		}
		return 0
	}
	return c.readReg(n)
}

// Indirect returns indirect register n (chip numbering).
func (c *Chip) Indirect(n byte) uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ind[n]
}

// Linefeed returns the linefeed state the chip is in.
func (c *Chip) Linefeed() byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lf()
}

// Changes returns the recent linefeed changes (up to the last 512).
func (c *Chip) Changes() []Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Change(nil), c.log...)
}

// RingSignal returns the frequency (Hz) and peak voltage the ring
// oscillator is programmed for (RCO and RNGX; indirect 20/21 on a Si3210,
// 7/8 on a Si3215): cos(2 pi f / 1000) = RCO / 2^15 and
// Vpk = 4 * 96 V * RNGX / 2^15 / sqrt((1 - cos)/(1 + cos)).
func (c *Chip) RingSignal() (freq, vpk float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ringSignal()
}

func (c *Chip) ringSignal() (freq, vpk float64) {
	co, x := c.ind[20], c.ind[21]
	if c.cfg.Si3215 {
		co, x = c.ind[7], c.ind[8]
	}
	cs := math.Min(float64(co)/32768, 1)
	freq = math.Acos(cs) * 1000 / (2 * math.Pi)
	if k := math.Sqrt((1 - cs) / (1 + cs)); k > 0 {
		vpk = float64(x) / 32768 * 96 * 4 / k
	}
	return freq, math.Min(vpk, c.vbat())
}

// resetLine follows the reset pin: low holds the chip in reset (reads
// 0x00), the rising edge releases it with its power-on registers.
func (c *Chip) resetLine(l gpio.Level) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l == gpio.Low {
		c.inReset = true
	} else if c.inReset {
		c.inReset = false
		c.resetRegs()
	}
}

var _ spi.Conn = (*Chip)(nil)
