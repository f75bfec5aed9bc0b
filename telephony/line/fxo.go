package line

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"callbox/dsp/callerid"
	"callbox/dsp/callerid/fsk"
	"callbox/dsp/dtmf"
	"callbox/dsp/echo"
	"callbox/dsp/tone"
)

// ErrNoLine means the FXO line has no battery: it is unplugged or cut.
var ErrNoLine = errors.New("line: no battery on the line")

// Cause says why an FXO call ended.
type Cause uint8

// Causes reported by FXOHandler.HungUp.
const (
	// CauseRingingStopped: the caller gave up before the call was answered.
	CauseRingingStopped Cause = iota + 1
	// CauseBusyTone: the exchange played busy tone (the far end hung up,
	// or the number called was busy).
	CauseBusyTone
	// CauseCongestionTone: the exchange played congestion (reorder) tone.
	CauseCongestionTone
	// CauseReversal: the line polarity reversed during the call.
	CauseReversal
	// CauseLoopDrop: the exchange opened the loop (disconnect clear).
	CauseLoopDrop
	// CauseBatteryLost: the line lost its battery (unplugged, cut).
	CauseBatteryLost
	// CauseNoDialTone: the exchange gave no dial tone after seizing.
	CauseNoDialTone
	// CauseSeizeFailed: the line could not be seized to answer.
	CauseSeizeFailed
)

var causeNames = [...]string{"", "ringing-stopped", "busy-tone", "congestion-tone", "reversal", "loop-drop",
	"battery-lost", "no-dial-tone", "seize-failed"}

// String names the cause.
func (c Cause) String() string {
	if int(c) < len(causeNames) && c != 0 {
		return causeNames[c]
	}
	return "cause?"
}

// FXOHandler is what an FXO channel tells the switch. Its methods are
// called from Tick (the channel's owner goroutine); they may call back into
// the channel, which is already in its new state.
type FXOHandler interface {
	// Inbound: a call has rung AnswerAfterRings times; from holds the
	// caller ID received (empty if none). The switch answers it with
	// Answer, or lets it ring (Hangup ignores the rest of its rings).
	Inbound(ch *FXO, from Caller)
	// Answered: an outbound call was answered (a polarity reversal with
	// AnswerSupervision, else the end of dialling).
	Answered(ch *FXO)
	// HungUp: the call ended from the line's side (never after the
	// switch's own Hangup); the channel is idle again.
	HungUp(ch *FXO, cause Cause)
}

// FXOConfig configures an FXO channel.
type FXOConfig struct {
	Name    string // "fxo1", for errors
	Country string // the exchange's tone plan and caller ID modem; "" is CN
	// AnswerAfterRings is the ring on which the call is offered to the
	// switch (default 2: Bellcore caller ID comes between rings 1 and 2).
	AnswerAfterRings int
	// MinRing is how long a ring must last to count (default 350 ms), so
	// that a ring pulse alert (ETSI RP-AS, 200-300 ms) is not a ring.
	// The UK's double ring counts as two rings.
	MinRing time.Duration
	// CallerIDModem is the FSK caller ID receiver's modem; the zero value
	// takes Bell 202 (CN, US, JP) or V.23 (EU, UK). DTMF caller ID is
	// always listened for too.
	CallerIDModem fsk.Modem
	// DialToneTimeout bounds the wait for dial tone after seizing (default
	// 5 s; a steady tone is recognised after about 1.4 s). With BlindDial
	// the number is dialled anyway when it expires.
	DialToneTimeout time.Duration
	BlindDial       bool
	// Digits is the DTMF the channel dials: level and timing (default
	// -8 dBm0 low tone, 2 dB twist, 80 ms on, 80 ms off).
	Digits dtmf.GeneratorConfig
	// AnswerSupervision: the exchange reverses the polarity when the
	// called party answers, so Answered waits for it and a later reversal
	// is the disconnect. Without it an outbound call counts as answered
	// once dialled.
	AnswerSupervision bool
	// Disconnect supervision methods, all on by default.
	// NoLoopDropDisconnect also ignores battery loss during a call.
	NoBusyDisconnect, NoReversalDisconnect, NoLoopDropDisconnect bool
	// EchoTaps is the echo canceller's tail (default 256, 32 ms);
	// NoEcho turns echo cancelling off.
	EchoTaps int
	NoEcho   bool
	// MinBattery is the line voltage under which Dial refuses to seize
	// (default 3 V).
	MinBattery float64
}

// FXOState is where an FXO channel is in its call.
type FXOState uint8

// FXO channel states.
const (
	FXOIdle         FXOState = iota + 1 // on hook, monitoring for ringing and caller ID
	FXORinging                          // an incoming call rings
	FXOWaitDialTone                     // seized for an outbound call, waiting for dial tone
	FXODialling                         // sending the number as DTMF
	FXOProceeding                       // dialled, waiting for the answer reversal
	FXOConnected                        // audio through to the switch's Voice
)

var fxoStateNames = [...]string{"", "idle", "ringing", "wait-dial-tone", "dialling", "proceeding", "connected"}

// String names the state.
func (s FXOState) String() string {
	if int(s) < len(fxoStateNames) && s != 0 {
		return fxoStateNames[s]
	}
	return "fxo-state?"
}

// cidFresh is how long caller ID received on an idle line stays attached
// to the ringing that follows (ETSI and DTMF caller ID come before ring 1).
const cidFresh = 8 * time.Second

// FXO is the channel logic of one FXO port: a state machine driven by line
// events and frame ticks. It is owned by one goroutine: Tick and every
// other method must be called from it. Steady-state ticks allocate nothing.
type FXO struct {
	cfg  FXOConfig
	port FXOPort
	clk  Clock
	h    FXOHandler

	state  FXOState
	rings  int
	ringOn bool      // a ring is sounding
	ringAt time.Time // when it began
	// ringCounted: the ring in progress has lasted MinRing and counts
	ringCounted bool
	offered     bool // Inbound was called for this ringing
	ignored     bool // the switch let this ringing go
	deadline    time.Time
	voice       Voice

	caller   Caller
	callerAt time.Time
	hasCID   bool
	fskRx    *callerid.Receiver
	dtmfRx   *callerid.DTMFReceiver
	// An idle line's caller ID receivers run only from a frame with
	// signal in it until cidHold after the last such frame (listenUntil),
	// so a quiet idle line costs a peak search a frame; cidFrames counts
	// the frames they analysed.
	listenUntil time.Time
	listening   bool
	cidFrames   uint64

	det  *tone.Detector
	ec   *echo.Canceller
	gen  *dtmf.Generator
	num  string // number being dialled
	rx   Frame
	tx   Frame
	prev Frame // what was sent during the frame rx covers: the echo reference

	lastError error
}

// NewFXO returns an idle channel on port.
func NewFXO(cfg FXOConfig, port FXOPort, clk Clock, h FXOHandler) (*FXO, error) {
	if port == nil || clk == nil || h == nil {
		return nil, fmt.Errorf("line: %s: port, clock and handler are required", cfg.Name)
	}
	_, plan, preset, err := countryOf(cfg.Name, cfg.Country)
	if err != nil {
		return nil, err
	}
	if cfg.AnswerAfterRings <= 0 {
		cfg.AnswerAfterRings = 2
	}
	if cfg.MinRing <= 0 {
		cfg.MinRing = 350 * time.Millisecond
	}
	if cfg.CallerIDModem.Baud == 0 {
		cfg.CallerIDModem = fsk.Bell202
		if preset.Scheme == callerid.SchemeV23 {
			cfg.CallerIDModem = fsk.V23
		}
	}
	if cfg.DialToneTimeout <= 0 {
		cfg.DialToneTimeout = 5 * time.Second
	}
	if cfg.Digits == (dtmf.GeneratorConfig{}) {
		cfg.Digits = dtmf.GeneratorConfig{Level: -8, Twist: 2, On: 80 * time.Millisecond, Off: 80 * time.Millisecond}
	}
	if cfg.EchoTaps == 0 {
		cfg.EchoTaps = 256
	}
	if cfg.MinBattery == 0 {
		cfg.MinBattery = 3
	}
	c := &FXO{cfg: cfg, port: port, clk: clk, h: h, state: FXOIdle,
		dtmfRx: callerid.NewDTMFReceiver(), det: tone.NewDetector(plan, tone.DetectorConfig{})}
	if c.fskRx, err = callerid.NewReceiver(cfg.CallerIDModem); err != nil {
		return nil, fmt.Errorf("line: %s: caller id: %w", cfg.Name, err)
	}
	if c.gen, err = dtmf.NewGenerator(cfg.Digits); err != nil {
		return nil, fmt.Errorf("line: %s: dtmf: %w", cfg.Name, err)
	}
	if !cfg.NoEcho {
		if c.ec, err = echo.New(cfg.EchoTaps); err != nil {
			return nil, fmt.Errorf("line: %s: %w", cfg.Name, err)
		}
	}
	return c, nil
}

// Name returns the channel's name.
func (c *FXO) Name() string { return c.cfg.Name }

// State returns the channel's state.
func (c *FXO) State() FXOState { return c.state }

// countRing counts the ring in progress once it has lasted MinRing, and
// offers the call on the configured ring.
func (c *FXO) countRing(now time.Time) {
	if !c.ringOn || c.ringCounted || now.Sub(c.ringAt) < c.cfg.MinRing {
		return
	}
	c.ringCounted = true
	c.rings++
	if c.rings >= c.cfg.AnswerAfterRings && !c.offered && !c.ignored {
		c.offered = true
		c.h.Inbound(c, c.caller)
	}
}

// Rings returns the number of rings of the current (or last) incoming call.
func (c *FXO) Rings() int { return c.rings }

// Err returns the last error the port returned during a tick.
func (c *FXO) Err() error { return c.lastError }

func (c *FXO) fail(err error) {
	if err != nil {
		c.lastError = fmt.Errorf("line: %s: %w", c.cfg.Name, err)
	}
}

// Tick runs one frame: line events, timers, caller ID reception or call
// audio (echo cancelled, watched for disconnect tones), and dialling.
func (c *FXO) Tick() {
	for {
		e, ok := c.port.NextEvent()
		if !ok {
			break
		}
		c.event(e)
	}
	now := c.clk.Now()
	if c.state == FXOWaitDialTone && !now.Before(c.deadline) {
		if c.cfg.BlindDial {
			c.dial()
		} else {
			c.disconnect(CauseNoDialTone)
		}
	}
	c.port.ReadFrame(&c.rx)
	switch c.state {
	case FXOIdle, FXORinging:
		if c.state == FXORinging {
			c.countRing(now)
		}
		if c.state == FXORinging || c.heard(now) {
			c.listenCallerID(now)
		}
		clear(c.tx[:])
	case FXOWaitDialTone:
		c.det.Process(c.rx[:])
		for {
			e, ok := c.det.Poll()
			if !ok {
				break
			}
			if e.Kind == tone.ToneStart && e.Tone == tone.Dial && c.state == FXOWaitDialTone {
				c.dial()
			}
		}
		clear(c.tx[:])
	case FXODialling:
		c.gen.Generate(c.tx[:])
		if c.gen.Pending() == 0 {
			c.det.Reset()
			if c.cfg.AnswerSupervision {
				c.state = FXOProceeding
			} else {
				c.state = FXOConnected
				c.h.Answered(c)
			}
		}
	case FXOProceeding, FXOConnected:
		c.call()
	default:
		clear(c.tx[:])
	}
	c.port.WriteFrame(&c.tx)
	c.prev = c.tx
}

// call handles a frame of a call in progress.
func (c *FXO) call() {
	if c.ec != nil {
		c.ec.Process(c.rx[:], c.rx[:], c.prev[:])
	}
	if !c.cfg.NoBusyDisconnect {
		c.det.Process(c.rx[:])
		for {
			e, ok := c.det.Poll()
			if !ok {
				break
			}
			if e.Kind != tone.ToneStart {
				continue
			}
			switch e.Tone {
			case tone.Busy:
				c.disconnect(CauseBusyTone)
			case tone.Congestion:
				c.disconnect(CauseCongestionTone)
			}
			if c.state == FXOIdle {
				clear(c.tx[:])
				return
			}
		}
	}
	if c.voice != nil {
		c.voice.Exchange(&c.rx, &c.tx)
	} else {
		clear(c.tx[:])
	}
	if c.gen.Pending() > 0 { // SendDigits: the digits replace the voice
		c.gen.Generate(c.tx[:])
	}
}

// cidGate is the peak sample below which an idle line's frame is silence
// (about -50 dBm0, under the weakest caller ID signal receivers take), and
// cidHold how long the receivers go on after the last frame above it: more
// than any pause within a caller ID message (a DTMF one ends after 1 s).
const (
	cidGate = 64
	cidHold = 2 * time.Second
)

// heard says whether the caller ID receivers must take this frame of an
// idle line. When they stop, they are reset, so that a message begun before
// the silence is not joined to the next one.
func (c *FXO) heard(now time.Time) bool {
	if peak(c.rx[:]) >= cidGate {
		c.listenUntil, c.listening = now.Add(cidHold), true
		return true
	}
	if !c.listening {
		return false
	}
	if now.Before(c.listenUntil) {
		return true
	}
	c.listening = false
	c.fskRx.Reset()
	c.dtmfRx.Reset()
	return false
}

// peak returns the largest magnitude in x.
func peak(x []int16) int32 {
	var m int32
	for _, v := range x {
		m = max(m, int32(v), -int32(v))
	}
	return m
}

func (c *FXO) listenCallerID(now time.Time) {
	c.cidFrames++
	for x := c.rx[:]; len(x) > 0; {
		n, ok := c.fskRx.Process(x)
		x = x[n:]
		if !ok {
			continue
		}
		if m, err := c.fskRx.Message(); err == nil {
			c.gotCallerID(m, now)
		}
	}
	c.dtmfRx.Process(c.rx[:])
	for {
		s, _, ok := c.dtmfRx.Poll()
		if !ok {
			break
		}
		if m, _, _, err := callerid.ParseDTMF(s); err == nil {
			c.gotCallerID(m, now)
		}
	}
}

func (c *FXO) gotCallerID(m callerid.Message, now time.Time) {
	c.caller = Caller{Number: m.Number, Name: m.Name, NumberReason: m.NumberReason, NameReason: m.NameReason, Time: m.Time}
	c.callerAt, c.hasCID = now, true
}

func (c *FXO) event(e FXOEvent) {
	now := c.clk.Now()
	switch e.Kind {
	case RingStart:
		if c.state == FXOIdle {
			c.state, c.rings, c.offered, c.ignored = FXORinging, 0, false, false
			if c.hasCID && now.Sub(c.callerAt) > cidFresh {
				c.hasCID, c.caller = false, Caller{}
			}
		}
		if c.state == FXORinging {
			c.ringOn, c.ringCounted, c.ringAt = true, false, now
			c.countRing(now)
		}
	case RingEnd:
		if c.state == FXORinging && c.ringOn {
			// A ring is counted once it has lasted MinRing; a shorter
			// burst is a ring pulse alert (ETSI RP-AS), not a ring.
			if !c.ringCounted && e.On >= c.cfg.MinRing {
				c.ringAt = now.Add(-c.cfg.MinRing)
				c.countRing(now)
			}
			c.ringOn = false
		}
	case RingingStopped:
		if c.state == FXORinging {
			offered := c.offered && !c.ignored
			c.toIdle()
			if offered {
				c.h.HungUp(c, CauseRingingStopped)
			}
		}
	case PolarityReversal:
		switch c.state {
		case FXOProceeding:
			c.state = FXOConnected
			c.h.Answered(c)
		case FXOConnected:
			if !c.cfg.NoReversalDisconnect {
				c.disconnect(CauseReversal)
			}
		}
	case LoopDrop:
		if c.seized() && !c.cfg.NoLoopDropDisconnect {
			c.disconnect(CauseLoopDrop)
		}
	case BatteryLost:
		switch {
		case c.seized():
			// An open loop long enough to lose the battery is the same
			// signal as a loop drop, so the same setting governs it.
			if !c.cfg.NoLoopDropDisconnect {
				c.disconnect(CauseBatteryLost)
			}
		case c.state == FXORinging:
			offered := c.offered && !c.ignored
			c.toIdle()
			if offered {
				c.h.HungUp(c, CauseBatteryLost)
			}
		}
	}
}

func (c *FXO) seized() bool {
	return c.state == FXOWaitDialTone || c.state == FXODialling || c.state == FXOProceeding || c.state == FXOConnected
}

// disconnect releases the line and tells the switch.
func (c *FXO) disconnect(cause Cause) {
	c.fail(c.port.Release())
	c.toIdle()
	c.h.HungUp(c, cause)
}

func (c *FXO) toIdle() {
	c.state, c.voice, c.offered, c.ignored = FXOIdle, nil, false, false
	c.ringOn, c.ringCounted = false, false
	c.hasCID, c.caller = false, Caller{}
	c.fskRx.Reset()
	c.dtmfRx.Reset()
	c.det.Reset()
	for c.gen.Pending() > 0 { // drop digits still queued
		c.gen.Generate(c.tx[:])
	}
	clear(c.tx[:])
	c.num = ""
	c.prev = Frame{}
}

func (c *FXO) dial() {
	c.state = FXODialling
	c.fail(c.gen.Send(c.num))
}

// startCall readies the per-call DSP state for an answered or seized line.
func (c *FXO) startCall() {
	c.det.Reset()
	if c.ec != nil {
		c.ec.Reset()
		c.ec.SetBypass(false) // a fax call before this one bypassed it
	}
	c.prev = Frame{}
}

// Answer seizes the ringing line: the call is connected (then Connect
// the switch's Voice). If the line cannot be seized the channel goes idle
// and the error is returned.
func (c *FXO) Answer() error {
	if c.state != FXORinging {
		return fmt.Errorf("line: %s: answer: %w (%s)", c.cfg.Name, ErrState, c.state)
	}
	if err := c.port.Seize(); err != nil {
		c.toIdle()
		return fmt.Errorf("line: %s: answer: %w", c.cfg.Name, err)
	}
	c.state = FXOConnected
	c.startCall()
	return nil
}

// Dial seizes the idle line for an outbound call, waits for dial tone and
// dials number as DTMF (0-9, *, #, A-D; ',' is not supported). Answered
// follows; HungUp(CauseNoDialTone) if the exchange gives no dial tone.
func (c *FXO) Dial(number string) error {
	if c.state != FXOIdle {
		return fmt.Errorf("line: %s: dial: %w (%s)", c.cfg.Name, ErrBusy, c.state)
	}
	if number == "" || strings.Trim(number, "0123456789*#ABCDabcd") != "" {
		return fmt.Errorf("line: %s: dial: %q is not a DTMF number", c.cfg.Name, number)
	}
	if v, err := c.port.LineVoltage(); err == nil && math.Abs(v) < c.cfg.MinBattery {
		return fmt.Errorf("line: %s: dial: %w (%.0f V)", c.cfg.Name, ErrNoLine, v)
	}
	if err := c.port.Seize(); err != nil {
		return fmt.Errorf("line: %s: dial: %w", c.cfg.Name, err)
	}
	c.startCall()
	c.num = number
	c.state = FXOWaitDialTone
	c.deadline = c.clk.Now().Add(c.cfg.DialToneTimeout)
	return nil
}

// Connect passes the call's audio between the line and v. The call must
// be dialled or answered.
func (c *FXO) Connect(v Voice) error {
	if c.state != FXOConnected && c.state != FXOProceeding {
		return fmt.Errorf("line: %s: connect: %w (%s)", c.cfg.Name, ErrState, c.state)
	}
	c.voice = v
	return nil
}

// SendDigits dials DTMF into a connected call (an IVR far away), in place
// of the voice while they sound.
func (c *FXO) SendDigits(digits string) error {
	if c.state != FXOConnected {
		return fmt.Errorf("line: %s: send digits: %w (%s)", c.cfg.Name, ErrState, c.state)
	}
	if err := c.gen.Send(digits); err != nil {
		return fmt.Errorf("line: %s: send digits: %w", c.cfg.Name, err)
	}
	return nil
}

// Flash sends a hook flash on the seized line (the exchange's recall:
// its own transfer or call waiting).
func (c *FXO) Flash() error {
	if c.state != FXOConnected {
		return fmt.Errorf("line: %s: flash: %w (%s)", c.cfg.Name, ErrState, c.state)
	}
	if err := c.port.Flash(); err != nil {
		return fmt.Errorf("line: %s: flash: %w", c.cfg.Name, err)
	}
	return nil
}

// Hangup ends the call from the switch's side: a seized line is released;
// a ringing call the switch does not take is left to ring out unanswered.
func (c *FXO) Hangup() error {
	switch {
	case c.seized():
		err := c.port.Release()
		c.toIdle()
		if err != nil {
			return fmt.Errorf("line: %s: hang up: %w", c.cfg.Name, err)
		}
	case c.state == FXORinging:
		c.ignored = true
	}
	return nil
}

// EchoCanceller returns the channel's echo canceller (nil with NoEcho),
// for the media engine to bypass it on fax and data calls.
func (c *FXO) EchoCanceller() *echo.Canceller { return c.ec }
