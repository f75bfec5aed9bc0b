package si3050sim

import (
	"fmt"
	"math"
	"sync"
	"time"

	"callbox/board/internal/vclock"
	"callbox/board/si3050"
	"callbox/board/sim/simpin"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
)

// NumRegs is the size of the emulated register file; registers from 60 up
// are reserved and read 0.
const NumRegs = 60

// Config describes an emulated chip and the line it sits on.
type Config struct {
	Name    string       // for String and errors, "fxo1"
	Clock   vclock.Clock // vclock.Real{} when nil
	ChainID uint8        // daisy-chain address the chip answers to

	// Country picks the central office's ring cadence, ring frequency,
	// tone plan and caller ID preset from the country table (dsp/country:
	// CN by default, US, UK, EU, JP; "ETSI" is EU).
	Country string
	// CallerID names the dsp/callerid preset the office presents caller
	// ID with; "" takes the country's usual one.
	CallerID string

	LinkDelay  time.Duration // isolation link comes up this long after line-side power-up, 150 ms
	SystemRev  uint8         // register 11 bits 3:0, 5
	LineSideID uint8         // register 11 bits 7:4 once linked, 3 (Si3019)
	LineRev    uint8         // register 13 bits 5:2 once linked, 4

	Battery  float64 // central office battery, volts, 48
	LoopOhms float64 // feed bridge plus line resistance, ohms, 1550
}

func (c *Config) defaults() {
	if c.Name == "" {
		c.Name = "si3050sim"
	}
	if c.Clock == nil {
		c.Clock = vclock.Real{}
	}
	if c.LinkDelay <= 0 {
		c.LinkDelay = 150 * time.Millisecond
	}
	if c.SystemRev == 0 {
		c.SystemRev = 5
	}
	if c.LineSideID == 0 {
		c.LineSideID = si3050.LineSideSi3019
	}
	if c.LineRev == 0 {
		c.LineRev = 4
	}
	if c.Battery <= 0 {
		c.Battery = 48
	}
	if c.LoopOhms <= 0 {
		c.LoopOhms = 1550
	}
}

// Faults are failures the emulator shows on demand.
type Faults struct {
	// Absent: no chip on the chip select; reads return 0xFF (MISO
	// pulled up), or 0x00 with MISOLow.
	Absent  bool
	MISOLow bool
	// NoLink: the isolation link never comes up (line side dead or
	// isolation capacitors open).
	NoLink bool
}

// The DAA's DC model: off-hook it holds about vDAA volts plus rDAA ohms
// times the loop current, so a 48 V, 1550 ohm feed gives about 7 V and
// 26 mA, as a short loop does.
const (
	vDAA         = 6.0
	rDAA         = 50.0
	ringPeak     = 90.0 // ringing voltage, volts peak (about 64 V rms)
	ringDetectTh = 15.0 // ring detector threshold, volts
)

// Chip emulates one Si3050 with its line side and the line behind it. It
// implements spi.Conn (register access with the datasheet's framing) and
// the PCM line side (PCMRead, PCMWrite). Its central office is CO.
// Methods are safe for concurrent use.
type Chip struct {
	cfg Config

	mu        sync.Mutex
	regs      [NumRegs]byte
	faults    Faults
	linkStart time.Time // line side powered up; zero while powered down
	inReset   bool      // reset pin held low

	prev  status // for interrupt edges
	irq   *simpin.Pin
	reset *simpin.Pin
	co    *CO
	txs   int // SPI frames served, for tests
}

// status is the line as the chip sees it at one instant.
type status struct {
	link     bool
	offhook  bool // loop closed by the DAA (and the link up)
	volts    float64
	ma       float64
	ringEnv  bool    // the central office is ringing now
	ringV    float64 // instantaneous ring voltage
	polarity int
}

// New returns a chip in its reset state, its interrupt pin high (idle).
func New(cfg Config) (*Chip, error) {
	cfg.defaults()
	c := &Chip{cfg: cfg}
	c.irq = simpin.New(cfg.Name+".irq", gpio.High)
	c.reset = simpin.NewOutput(cfg.Name+".reset", gpio.High, c.resetPin)
	co, err := newCO(c, cfg.Country, cfg.CallerID)
	if err != nil {
		return nil, err
	}
	c.co = co
	c.softReset()
	return c, nil
}

// IRQ returns the chip's interrupt pin (active low).
func (c *Chip) IRQ() *simpin.Pin { return c.irq }

// ResetPin returns the chip's reset pin (active low).
func (c *Chip) ResetPin() *simpin.Pin { return c.reset }

// CO returns the central office on the chip's line.
func (c *Chip) CO() *CO { return c.co }

// SetFaults replaces the chip's faults.
func (c *Chip) SetFaults(f Faults) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = f
	c.update()
}

// Reg returns a register as the driver would read it (tests peek with it).
func (c *Chip) Reg(n byte) byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.update()
	return c.read(n)
}

// Transfers returns the number of register frames the chip has served.
func (c *Chip) Transfers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.txs
}

func (c *Chip) resetPin(l gpio.Level) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inReset = l == gpio.Low
	if c.inReset {
		c.softReset()
	}
}

func (c *Chip) softReset() {
	c.regs = [NumRegs]byte{}
	c.regs[si3050.RegControl2] = si3050.Control2Reset
	c.regs[si3050.RegDAACtrl2] = si3050.DAA2PDL
	c.regs[si3050.RegRingVal1] = 0x96
	c.regs[si3050.RegRingVal2] = 0x2D
	c.regs[si3050.RegRingVal3] = 0x19
	c.regs[si3050.RegDAACtrl5] = 0x20
	c.linkStart = time.Time{}
	c.prev = status{}
	c.irq.Drive(gpio.High)
}

// String implements conn.Resource.
func (c *Chip) String() string { return c.cfg.Name }

// Duplex implements conn.Conn.
func (c *Chip) Duplex() conn.Duplex { return conn.Full }

// TxPackets implements spi.Conn, one Tx per packet.
func (c *Chip) TxPackets(p []spi.Packet) error {
	for i := range p {
		if err := c.Tx(p[i].W, p[i].R); err != nil {
			return err
		}
	}
	return nil
}

// Tx implements conn.Conn with the Si3050 framing: each three bytes are a
// control byte (0x20 write or 0x60 read, the chain address in bits 4:0), a
// register number and a data byte; a read returns the register in the
// third byte of r. Bytes of an incomplete frame are clocked in and
// ignored, as the chip ignores a frame cut short by chip select.
func (c *Chip) Tx(w, r []byte) error {
	if r != nil && len(r) != len(w) {
		return fmt.Errorf("si3050sim: %s: tx: read buffer of %d bytes for %d written", c.cfg.Name, len(r), len(w))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	absent := c.faults.Absent || c.inReset
	fill := byte(0xFF)
	if c.faults.MISOLow {
		fill = 0x00
	}
	for i := range r {
		r[i] = 0
		if absent {
			r[i] = fill
		}
	}
	if absent {
		return nil
	}
	c.update()
	for i := 0; i+3 <= len(w); i += 3 {
		ctrl, reg, v := w[i], w[i+1], w[i+2]
		if ctrl&0x1F != c.cfg.ChainID {
			continue // another chip on the chain
		}
		c.txs++
		switch ctrl & 0xE0 {
		case si3050.CtrlWrite:
			c.write(reg, v)
			c.update()
		case si3050.CtrlRead:
			if r != nil {
				r[i+2] = c.read(reg)
			}
		}
	}
	return nil
}

func (c *Chip) linkUp(now time.Time) bool {
	return !c.faults.NoLink && !c.linkStart.IsZero() && !now.Before(c.linkStart.Add(c.cfg.LinkDelay))
}

func (c *Chip) read(reg byte) byte {
	if int(reg) >= NumRegs {
		return 0
	}
	s := c.prev
	switch reg {
	case si3050.RegDAACtrl1:
		v := c.regs[reg] & (si3050.DAA1ONHM | si3050.DAA1OH)
		// The half-wave detector (register 18 RFWE clear) sees only
		// the positive half-cycles.
		fullWave := c.regs[si3050.RegIntl3]&0x02 != 0
		if s.ringV > ringDetectTh {
			v |= si3050.DAA1RDTP
		} else if s.ringV < -ringDetectTh && fullWave {
			v |= si3050.DAA1RDTN
		}
		validate := c.regs[si3050.RegRingVal3]&0x80 != 0
		if (validate && s.ringEnv) || (!validate && v&si3050.DAA1Ring != 0) {
			v |= si3050.DAA1RDT
		}
		return v
	case si3050.RegRevision:
		v := c.cfg.SystemRev & 0x0F
		if s.link {
			v |= c.cfg.LineSideID << 4
		}
		return v
	case si3050.RegLineStatus:
		if !s.link {
			return 0
		}
		return 0x40 | byte(min(31, math.Round(s.ma/3.3)))
	case si3050.RegLineRev:
		if !s.link {
			return 0
		}
		return c.cfg.LineRev & 0x0F << 2
	case si3050.RegLoopCur:
		if !s.link {
			return 0
		}
		return byte(min(255, math.Round(s.ma/si3050.LoopCurrentLSB)))
	case si3050.RegLineVolt:
		if !s.link {
			return 0
		}
		return byte(int8(max(-128, min(127, math.Round(s.volts)))))
	}
	return c.regs[reg]
}

func (c *Chip) write(reg, v byte) {
	if int(reg) >= NumRegs {
		return
	}
	switch reg {
	case si3050.RegControl1:
		if v&si3050.Control1SR != 0 {
			c.softReset()
		}
		c.regs[reg] = v &^ si3050.Control1SR
	case si3050.RegIntSource:
		c.regs[reg] &= v
	case si3050.RegDAACtrl1:
		c.regs[reg] = v & (si3050.DAA1ONHM | si3050.DAA1OH)
	case si3050.RegDAACtrl2:
		was := c.regs[reg]&si3050.DAA2PDL != 0
		c.regs[reg] = v
		if now := v&si3050.DAA2PDL != 0; now {
			c.linkStart = time.Time{}
		} else if was || c.linkStart.IsZero() {
			c.linkStart = c.cfg.Clock.Now()
		}
	case si3050.RegRevision, si3050.RegLineStatus, si3050.RegLineRev, si3050.RegLoopCur, si3050.RegLineVolt:
		// read-only
	default:
		c.regs[reg] = v
	}
}

// update brings the line state to now: the central office's schedule, the
// DC model, and the interrupts its changes raise.
func (c *Chip) update() {
	now := c.cfg.Clock.Now()
	s := status{link: c.linkUp(now)}
	s.offhook = s.link && c.regs[si3050.RegDAACtrl1]&si3050.DAA1OH != 0
	co := c.co
	co.advance(now, s.offhook)
	if s.link && co.fed(now) { // the line side measures and detects
		s.polarity = co.polarity()
		if s.offhook {
			s.ma = 1000 * (co.battery - vDAA) / (co.loopOhms + rDAA)
			s.volts = vDAA + s.ma*rDAA/1000
		} else {
			s.volts = co.battery
			s.ringEnv = co.ringingAt(now)
			if s.ringEnv {
				s.ringV = ringPeak * math.Sin(2*math.Pi*co.ringHz*now.Sub(co.ringT0).Seconds())
			}
		}
		s.volts *= float64(s.polarity)
	}
	p := c.prev
	var src byte
	if s.ringEnv != p.ringEnv && (s.ringEnv || c.regs[si3050.RegControl2]&si3050.Control2RDI != 0) {
		src |= si3050.IntRDT
	}
	if s.polarity != 0 && p.polarity != 0 && s.polarity != p.polarity {
		src |= si3050.IntPOL
	}
	if p.polarity != 0 && s.polarity == 0 {
		src |= si3050.IntBTD
	}
	if p.offhook && s.offhook && p.ma > 0 && s.ma == 0 {
		src |= si3050.IntDOD
	}
	if s.link && !p.link {
		src |= si3050.IntFDT
	}
	c.regs[si3050.RegIntSource] |= src
	c.prev = s
	level := gpio.High
	if c.regs[si3050.RegControl2]&si3050.Control2INTE != 0 && c.regs[si3050.RegIntSource]&c.regs[si3050.RegIntMask] != 0 {
		level = gpio.Low
	}
	c.irq.Drive(level)
}

// Status is the line as the emulator models it, for tests and `board diag`
// cross-checks.
type Status struct {
	Link      bool
	OffHook   bool
	Volts     float64
	MilliAmps float64
	Ringing   bool
}

// Status returns the modelled line state now.
func (c *Chip) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.update()
	s := c.prev
	return Status{Link: s.link, OffHook: s.offhook, Volts: s.volts, MilliAmps: s.ma, Ringing: s.ringEnv}
}

// Step brings the emulation to the clock's time without a register access:
// the PCM ticker's job on the sim board, so interrupts fire between polls.
func (c *Chip) Step() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.update()
}

// PCMRead fills frame with what the line sends towards the box (the
// central office's tones, caller ID and voice) and brings the emulation to
// the clock's time. Like the chip, it passes audio only with the isolation
// link up and battery on the line, and only off-hook or in on-hook line
// monitor; otherwise the frame is silence (the central office's audio is
// still consumed, as on a real line). It does not allocate.
func (c *Chip) PCMRead(frame []int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.update()
	c.co.produce(frame)
	s := c.prev
	open := c.regs[si3050.RegDAACtrl1]&(si3050.DAA1OH|si3050.DAA1ONHM) != 0
	if !s.link || s.polarity == 0 || !open {
		clear(frame)
	}
}

// PCMWrite takes the box's audio towards the line; the central office
// hears it (and detects DTMF in it) only while the line is seized. It does
// not allocate.
func (c *Chip) PCMWrite(frame []int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.update()
	if c.prev.offhook && c.prev.polarity != 0 {
		c.co.hear(frame)
	}
}

var _ spi.Conn = (*Chip)(nil)
