package line

import (
	"errors"
	"fmt"
	"time"

	"callbox/dsp/callerid"
	"callbox/dsp/dtmf"
	"callbox/dsp/tone"
)

// Errors a caller may branch on.
var (
	// ErrBusy: the channel is not idle, so it cannot take a new call.
	ErrBusy = errors.New("line: channel busy")
	// ErrState: the request does not fit the channel's state (connecting
	// an on-hook phone, answering a line that does not ring, ...).
	ErrState = errors.New("line: not possible in this state")
)

// Match is a dial plan's verdict on the digits collected so far.
type Match uint8

// Dial plan verdicts.
const (
	// MatchMore: the digits may become a number; keep collecting.
	MatchMore Match = iota + 1
	// MatchComplete: the digits are a number; route it now.
	MatchComplete
	// MatchInvalid: no number starts with these digits.
	MatchInvalid
)

// DialPlan judges the digits an FXS phone has dialled. The switch supplies
// it; Match is called once per digit.
type DialPlan interface {
	Match(digits string) Match
}

// Feature is a call-handling request an FXS phone makes with its hook
// switch, signalled to the switch by FXSHandler.Feature.
type Feature uint8

// Hook flash features, in the order a call usually meets them.
const (
	// FeatureHold: flash in a call. The switch holds the far party; the
	// line gives a second dial tone and collects a consultation number.
	FeatureHold Feature = iota + 1
	// FeatureResume: the second dial was abandoned (flash, timeout, or
	// flash while the consultation call rings or is busy). The switch
	// drops the consultation leg and reconnects the held party (Connect).
	FeatureResume
	// FeatureConference: flash in the consultation call: the switch joins
	// the held party, the phone and the consulted party in a conference.
	FeatureConference
	// FeatureDropThird: flash in the three-way conference: the switch
	// drops the consulted party and the call goes on with the first.
	FeatureDropThird
	// FeatureTransfer: on-hook with a party held and a consultation call
	// dialled (ringing or answered): the switch connects the two.
	FeatureTransfer
	// FeatureAnswerWaiting: flash while a call waits (CallWaiting): the
	// switch holds the current call and connects the waiting one.
	FeatureAnswerWaiting
)

var featureNames = [...]string{"", "hold", "resume", "conference", "drop-third", "transfer", "answer-waiting"}

// String names the feature.
func (f Feature) String() string {
	if int(f) < len(featureNames) && f != 0 {
		return featureNames[f]
	}
	return "feature?"
}

// FXSHandler is what an FXS channel tells the switch. Its methods are
// called from Tick (the channel's owner goroutine); they may call back into
// the channel (Connect, Progress, ...), which is already in its new state.
type FXSHandler interface {
	// Dialled: the phone dialled a number (the dial plan said complete, or
	// the inter-digit timeout ended the dialling). After FeatureHold it is
	// the consultation number.
	Dialled(ch *FXS, number string)
	// Answered: the phone answered the call Ring presented.
	Answered(ch *FXS)
	// HungUp: the phone hung up (or the line failed, or the port refused
	// to ring a call being presented; Err says why) and the channel is
	// idle again. Not called when the hang-up was a FeatureTransfer.
	HungUp(ch *FXS)
	// Feature: a hook flash or hang-up asked for a call feature.
	Feature(ch *FXS, f Feature)
}

// Caller is who an incoming call is from, for caller ID.
type Caller struct {
	Number       string
	Name         string
	NumberReason callerid.Reason // Private or Unavailable instead of Number
	NameReason   callerid.Reason
	// Time is "MMDDHHMM"; empty takes the channel clock's time.
	Time string
}

// FXSConfig configures an FXS channel.
type FXSConfig struct {
	Name    string // "fxs1", for errors
	Country string // tone plan, ring cadence and caller ID default; "" is CN
	// Cadence overrides the country's ringing cadence (distinctive ring).
	Cadence []time.Duration
	// CallerID is the presentation scheme; nil takes the country's.
	CallerID *callerid.Preset
	// NoCallerID turns caller ID presentation off.
	NoCallerID bool
	// Format is the FSK message format; 0 means MDMF.
	Format callerid.Format
	// FirstDigitTimeout ends a dial tone nobody dials on (default 10 s);
	// InterDigitTimeout ends the dialling (default 4 s).
	FirstDigitTimeout, InterDigitTimeout time.Duration
	// TimeoutTone is played when the dial tone times out or the dial plan
	// rejects the number (default tone.Congestion).
	TimeoutTone string
	// ReverseOnConnect reverses the polarity while connected (answer
	// supervision for payphones and call meters).
	ReverseOnConnect bool
	// VMWIFormat is the message waiting message: callerid.MDMFMWI (the
	// default) or callerid.SDMFMWI (older GR-30 phones). NoVMWI sends none
	// (the stutter dial tone stays).
	VMWIFormat callerid.Format
	NoVMWI     bool
}

// FXSState is where an FXS channel is in its call.
type FXSState uint8

// FXS channel states.
const (
	FXSIdle       FXSState = iota + 1 // on hook, nothing happening
	FXSAlerting                       // presenting a call: caller ID and ringing
	FXSDialTone                       // off hook, dial tone, no digit yet
	FXSCollecting                     // digits being collected
	FXSRouting                        // number handed to the switch; its progress tone plays
	FXSConnected                      // audio through to the switch's Voice
	FXSTone                           // busy or congestion until the phone hangs up
)

var fxsStateNames = [...]string{"", "idle", "alerting", "dial-tone", "collecting", "routing", "connected", "tone"}

// String names the state.
func (s FXSState) String() string {
	if int(s) < len(fxsStateNames) && s != 0 {
		return fxsStateNames[s]
	}
	return "fxs-state?"
}

const maxDigits = 32

// FXS is the channel logic of one FXS port: a state machine driven by hook
// events and frame ticks. It is owned by one goroutine: Tick and every
// other method must be called from it (the frame clock's, in the switch).
// Steady-state ticks allocate nothing.
type FXS struct {
	cfg     FXSConfig
	port    FXSPort
	clk     Clock
	plan    DialPlan
	h       FXSHandler
	cadence []time.Duration
	preset  *callerid.Preset

	state    FXSState
	deadline time.Time // digit timeouts
	tones    *tonePlayer
	cw       *tonePlayer // call waiting tone, mixed into the call audio
	waiting  bool
	voice    Voice
	held     bool // a party is on hold (after FeatureHold)
	consult  bool // a consultation number was dialled while holding
	conf     bool // three-way conference
	reversed bool // line polarity while alerting

	digits [maxDigits]byte
	nd     int
	det    *dtmf.Detector
	dev    []dtmf.Event

	// Alerting: the caller ID presentation walk.
	presetSteps []callerid.Step
	step        int
	stepEnd     time.Time
	ringing     bool // the normal cadence rings
	pulse       bool // a ring pulse alert rings
	pulseCad    [2]time.Duration
	cidAudio    []int16
	alert       []int16
	play        []int16 // what the current step still has to send
	rx, tx      Frame
	tmp         Frame
	lastError   error

	mwi vmwi // message waiting (mwi.go)
}

// NewFXS returns an idle channel on port. The dial plan and handler come
// from the switch; clk is the frame clock's time.
func NewFXS(cfg FXSConfig, port FXSPort, clk Clock, plan DialPlan, h FXSHandler) (*FXS, error) {
	if port == nil || clk == nil || plan == nil || h == nil {
		return nil, fmt.Errorf("line: %s: port, clock, dial plan and handler are required", cfg.Name)
	}
	country, tp, preset, err := countryOf(cfg.Name, cfg.Country)
	if err != nil {
		return nil, err
	}
	if cfg.FirstDigitTimeout <= 0 {
		cfg.FirstDigitTimeout = 10 * time.Second
	}
	if cfg.InterDigitTimeout <= 0 {
		cfg.InterDigitTimeout = 4 * time.Second
	}
	if cfg.TimeoutTone == "" {
		cfg.TimeoutTone = tone.Congestion
	}
	if _, err := tp.Tone(cfg.TimeoutTone); err != nil {
		return nil, fmt.Errorf("line: %s: timeout tone: %w", cfg.Name, err)
	}
	if cfg.Format == 0 {
		cfg.Format = callerid.MDMF
	}
	c := &FXS{
		cfg: cfg, port: port, clk: clk, plan: plan, h: h,
		cadence: country.Ring.Cadence, preset: preset,
		state: FXSIdle, tones: newTonePlayer(tp), cw: newTonePlayer(tp),
		det: dtmf.NewDetector(dtmf.DetectorConfig{}), dev: make([]dtmf.Event, 0, 8),
	}
	if cfg.Cadence != nil {
		if len(cfg.Cadence) < 2 || len(cfg.Cadence)%2 != 0 {
			return nil, fmt.Errorf("line: %s: ring cadence needs on/off pairs, got %d times", cfg.Name, len(cfg.Cadence))
		}
		c.cadence = cfg.Cadence
	}
	if cfg.CallerID != nil {
		c.preset = cfg.CallerID
	}
	switch {
	case c.preset.Scheme == callerid.SchemeDTMF && c.preset.DTMF.On <= 0,
		c.preset.Scheme != callerid.SchemeDTMF && c.preset.FSK.Modem.Baud <= 0:
		return nil, fmt.Errorf("line: %s: caller id preset %q has no %s framing", cfg.Name, c.preset.Name, c.preset.Scheme)
	}
	// Room for the longest message, so presenting caller ID never allocates.
	room := FrameSamples
	if c.preset.Scheme == callerid.SchemeDTMF {
		room += int(int64(callerid.MaxNumber+2) * int64(c.preset.DTMF.On+c.preset.DTMF.Off) * 8000 / int64(time.Second))
	} else if c.preset.FSK.Modem.Baud > 0 {
		room += c.preset.FSK.Samples(callerid.MaxEncoded)
	}
	c.cidAudio = make([]int16, 0, room)
	c.alert = make([]int16, 0, 8000/5)
	c.mwi.step = -1
	switch cfg.VMWIFormat {
	case 0, callerid.MDMFMWI, callerid.SDMFMWI:
	default:
		return nil, fmt.Errorf("line: %s: message waiting format %v: want mdmf-mwi or sdmf-mwi", cfg.Name, cfg.VMWIFormat)
	}
	if !cfg.NoVMWI {
		if c.mwi.steps = vmwiSteps(c.preset); c.mwi.steps != nil {
			c.mwi.audio = make([]int16, 0, c.preset.FSK.Samples(callerid.MaxEncoded)+FrameSamples)
			c.mwi.alert = make([]int16, 0, 8000/5)
		}
	}
	return c, nil
}

// Name returns the channel's name.
func (c *FXS) Name() string { return c.cfg.Name }

// State returns the channel's state.
func (c *FXS) State() FXSState { return c.state }

// Quiet reports whether the line has nothing to time: idle, with no
// message waiting indicator to send. A simulated clock may then slow down.
func (c *FXS) Quiet() bool { return c.state == FXSIdle && !c.mwi.pending && !c.sendingVMWI() }

// Held reports whether a party is on hold (after FeatureHold).
func (c *FXS) Held() bool { return c.held }

// Conference reports whether the phone is in a three-way conference.
func (c *FXS) Conference() bool { return c.conf }

// Err returns the last error the port returned during a tick (port errors
// in Tick cannot be returned; they are kept here and the call goes on).
func (c *FXS) Err() error { return c.lastError }

// Tick runs one frame: it takes the port's hook events, runs the timers,
// reads the line's audio, and writes the audio the line is to hear.
func (c *FXS) Tick() {
	for {
		e, ok := c.port.NextEvent()
		if !ok {
			break
		}
		c.event(e)
	}
	now := c.clk.Now()
	c.timers(now)
	if c.state == FXSIdle && c.mwi.pending && !c.sendingVMWI() {
		c.startVMWI(now)
	}
	c.port.ReadFrame(&c.rx)
	switch c.state {
	case FXSDialTone, FXSCollecting:
		c.dev = c.det.Process(c.rx[:], c.dev[:0])
		for _, e := range c.dev {
			if e.Kind == dtmf.DigitStart && (c.state == FXSDialTone || c.state == FXSCollecting) {
				c.digit(e.Digit, now)
			}
		}
		c.tones.read(&c.tx)
	case FXSAlerting:
		n := copy(c.tx[:], c.play)
		clear(c.tx[n:])
		c.play = c.play[n:]
	case FXSConnected:
		if c.voice != nil {
			c.voice.Exchange(&c.rx, &c.tx)
		} else {
			clear(c.tx[:])
		}
		if c.waiting {
			c.cw.mix(&c.tx, &c.tmp)
		}
	case FXSRouting, FXSTone:
		c.tones.read(&c.tx)
	default:
		if c.sendingVMWI() {
			c.walkVMWI(now)
		} else {
			clear(c.tx[:])
		}
	}
	c.port.WriteFrame(&c.tx)
}

func (c *FXS) fail(err error) {
	if err != nil {
		c.lastError = fmt.Errorf("line: %s: %w", c.cfg.Name, err)
	}
}

func (c *FXS) offHook() bool {
	return c.state != FXSIdle && c.state != FXSAlerting
}

func (c *FXS) event(e FXSEvent) {
	now := c.clk.Now()
	switch e.Kind {
	case OffHook:
		switch c.state {
		case FXSIdle:
			c.abortVMWI()
			c.fail(c.port.SetFeed(FeedActive))
			c.dialTone(now)
		case FXSAlerting:
			c.fail(c.port.SetFeed(c.connectFeed()))
			c.resetAlerting()
			c.state, c.voice = FXSConnected, nil
			c.h.Answered(c)
		}
	case OnHook, LineFault:
		if c.state == FXSAlerting && e.Kind == LineFault {
			c.toIdle()
			c.h.HungUp(c)
			return
		}
		if !c.offHook() {
			return
		}
		transfer := c.held && c.consult
		c.toIdle()
		if transfer {
			c.h.Feature(c, FeatureTransfer)
		} else {
			c.h.HungUp(c)
		}
	case Flash:
		c.flash(now)
	case PulseDigit:
		if c.state == FXSDialTone || c.state == FXSCollecting {
			c.digit(e.Digit, now)
		}
	}
}

func (c *FXS) flash(now time.Time) {
	switch c.state {
	case FXSConnected:
		switch {
		case c.waiting:
			c.waiting, c.voice = false, nil
			c.cw.stop()
			c.h.Feature(c, FeatureAnswerWaiting)
		case c.conf:
			c.conf, c.held, c.consult = false, false, false
			c.h.Feature(c, FeatureDropThird)
		case c.held && c.consult:
			c.conf, c.held, c.consult = true, false, false
			c.h.Feature(c, FeatureConference)
		default:
			c.held, c.consult, c.voice = true, false, nil
			c.dialTone(now)
			c.h.Feature(c, FeatureHold)
		}
	case FXSDialTone, FXSCollecting, FXSRouting, FXSTone:
		if c.held {
			c.resume()
		}
	}
}

// resume returns to the held party.
func (c *FXS) resume() {
	c.held, c.consult = false, false
	c.tones.stop()
	c.state, c.voice = FXSConnected, nil
	c.h.Feature(c, FeatureResume)
}

func (c *FXS) dialTone(now time.Time) {
	c.state, c.nd = FXSDialTone, 0
	c.det.Reset()
	c.fail(c.tones.play(c.dialToneName()))
	c.deadline = now.Add(c.cfg.FirstDigitTimeout)
}

func (c *FXS) digit(d byte, now time.Time) {
	c.state = FXSCollecting
	c.tones.stop()
	if c.nd == maxDigits {
		c.reject()
		return
	}
	c.digits[c.nd] = d
	c.nd++
	switch c.plan.Match(string(c.digits[:c.nd])) {
	case MatchComplete:
		c.dialled()
	case MatchInvalid:
		c.reject()
	default:
		c.deadline = now.Add(c.cfg.InterDigitTimeout)
	}
}

func (c *FXS) dialled() {
	c.state = FXSRouting
	c.tones.stop()
	if c.held {
		c.consult = true
	}
	c.h.Dialled(c, string(c.digits[:c.nd]))
}

func (c *FXS) reject() {
	c.state = FXSTone
	c.fail(c.tones.play(c.cfg.TimeoutTone))
}

func (c *FXS) timers(now time.Time) {
	switch c.state {
	case FXSDialTone:
		if !now.Before(c.deadline) {
			if c.held {
				c.resume()
			} else {
				c.reject()
			}
		}
	case FXSCollecting:
		if !now.Before(c.deadline) {
			c.dialled()
		}
	case FXSAlerting:
		c.walk(now)
	}
}

func (c *FXS) connectFeed() Feed {
	if c.cfg.ReverseOnConnect {
		return FeedActiveReverse
	}
	return FeedActive
}

func (c *FXS) toIdle() {
	if c.ringing || c.pulse {
		c.fail(c.port.StopRing())
	}
	c.resetAlerting()
	c.fail(c.port.SetFeed(FeedActive))
	c.state, c.voice = FXSIdle, nil
	c.held, c.consult, c.conf, c.waiting = false, false, false, false
	c.tones.stop()
	c.cw.stop()
}

func (c *FXS) resetAlerting() {
	c.ringing, c.pulse, c.reversed = false, false, false
	c.play = nil
}

// Ring presents an incoming call: caller ID as the port's scheme places it
// (before or after the first ring, in on-hook transmission) and ringing in
// the country's cadence, until the phone answers (Answered), or
// StopRinging or Disconnect. A caller without a number is presented as
// unavailable ("O"); one whose caller ID cannot be encoded rings without
// caller ID (Err says why). It fails with ErrBusy unless the channel is
// idle; the switch then offers call waiting (CallWaiting) or busy.
func (c *FXS) Ring(from Caller) error {
	if c.state != FXSIdle {
		return fmt.Errorf("line: %s: ring: %w (%s)", c.cfg.Name, ErrBusy, c.state)
	}
	c.abortVMWI()
	c.cidAudio, c.alert = c.cidAudio[:0], c.alert[:0]
	steps := plainRing
	if !c.cfg.NoCallerID {
		// A caller ID that cannot be sent must not stop the call ringing:
		// it rings without one, and Err says why.
		if err := c.prepareCallerID(from); err != nil {
			c.lastError = err
		} else {
			steps = c.preset.Steps
		}
	}
	c.state = FXSAlerting
	c.resetAlerting()
	c.step = -1
	c.presetSteps = steps
	c.next(c.clk.Now())
	if c.state != FXSAlerting {
		return c.lastError
	}
	return nil
}

func (c *FXS) prepareCallerID(from Caller) error {
	m := callerid.Message{Format: c.cfg.Format, Time: from.Time, Number: from.Number, NumberReason: from.NumberReason,
		Name: from.Name, NameReason: from.NameReason}
	if m.Number == "" && m.NumberReason == callerid.NoReason {
		m.NumberReason = callerid.Unavailable
	}
	if m.Time == "" {
		m.Time = c.clk.Now().Format("01021504")
	}
	if m.Format == callerid.SDMF {
		m.Name, m.NameReason = "", 0
	}
	var err error
	if c.preset.Scheme == callerid.SchemeDTMF {
		m = callerid.Message{Number: m.Number, NumberReason: m.NumberReason} // DTMF carries the number alone
		c.cidAudio, err = callerid.AppendDTMF(c.cidAudio, m, c.preset.DTMF)
	} else {
		c.cidAudio, err = callerid.AppendFSK(c.cidAudio, m, c.preset.FSK)
	}
	if err != nil {
		return fmt.Errorf("line: %s: caller id: %w", c.cfg.Name, err)
	}
	for _, st := range c.preset.Steps {
		if st.Kind == callerid.AlertTone {
			c.alert = callerid.AppendAlertTone(c.alert, st.Nominal, -13)
		}
	}
	return nil
}

// plainRing presents a call without caller ID.
var plainRing = []callerid.Step{{Kind: callerid.Cadence}}

// next enters the steps from step+1 on, as far as steps take no time.
func (c *FXS) next(now time.Time) {
	for c.state == FXSAlerting {
		c.step++
		if c.step >= len(c.presetSteps) {
			return
		}
		st := c.presetSteps[c.step]
		switch st.Kind {
		case callerid.Reverse:
			c.reversed = !c.reversed
			c.fail(c.port.SetFeed(c.ohtFeed()))
			continue
		case callerid.Ring:
			if st.Nominal == 0 { // the cadence's first ring: its on times up to the last pause
				c.startCadence()
				var d time.Duration
				for _, t := range c.cadence[:len(c.cadence)-1] {
					d += t
				}
				c.stepEnd = now.Add(d)
			} else {
				c.pulseCad = [2]time.Duration{st.Nominal, 30 * time.Second} // stopped by the next step
				if err := c.port.Ring(c.pulseCad[:]); err != nil {
					c.abandon(err)
					return
				}
				c.pulse = true
				c.stepEnd = now.Add(st.Nominal)
			}
		case callerid.Wait:
			c.quiet()
			c.stepEnd = now.Add(st.Nominal)
		case callerid.AlertTone:
			c.quiet()
			c.play = c.alert
			c.stepEnd = time.Time{}
		case callerid.Data:
			c.quiet()
			c.play = c.cidAudio
			c.stepEnd = time.Time{}
		case callerid.Cadence:
			if !c.ringing {
				if c.reversed {
					c.reversed = false
					c.fail(c.port.SetFeed(FeedOHT))
				}
				c.startCadence()
			}
			return
		}
		return
	}
}

// quiet ends a ring pulse: the line goes to on-hook transmission for what
// follows. The pauses of the normal cadence are in OHT already.
func (c *FXS) quiet() {
	if c.pulse {
		c.pulse = false
		c.fail(c.port.StopRing())
		c.fail(c.port.SetFeed(c.ohtFeed()))
	}
}

func (c *FXS) ohtFeed() Feed {
	if c.reversed {
		return FeedOHTReverse
	}
	return FeedOHT
}

func (c *FXS) startCadence() {
	if err := c.port.Ring(c.cadence); err != nil {
		c.abandon(err)
		return
	}
	c.ringing = true
}

// abandon gives up presenting a call the port cannot ring.
func (c *FXS) abandon(err error) {
	c.fail(err)
	c.resetAlerting()
	c.state = FXSIdle
	c.fail(c.port.SetFeed(FeedActive))
}

// walk advances the caller ID presentation.
func (c *FXS) walk(now time.Time) {
	if c.step < 0 || c.step >= len(c.presetSteps) {
		return
	}
	switch c.presetSteps[c.step].Kind {
	case callerid.AlertTone, callerid.Data:
		if len(c.play) == 0 {
			c.next(now)
		}
	case callerid.Cadence:
	default:
		if !now.Before(c.stepEnd) {
			c.next(now)
		}
	}
	if c.state == FXSIdle { // the port refused to ring: the call cannot be presented
		c.h.HungUp(c)
	}
}

// StopRinging ends the presentation of a call (the caller gave up, or it
// was answered elsewhere). Nothing happens unless the channel is alerting.
func (c *FXS) StopRinging() {
	if c.state == FXSAlerting {
		c.toIdle()
	}
}

// Progress plays a call-progress tone of the country's plan to the
// off-hook phone (tone.Ringback, tone.Busy, tone.Congestion; "" for
// silence) while the switch works on the dialled call. The audio path to
// any Voice is cut until Connect.
func (c *FXS) Progress(name string) error {
	switch c.state {
	case FXSRouting, FXSConnected, FXSTone:
	default:
		return fmt.Errorf("line: %s: progress %q: %w (%s)", c.cfg.Name, name, ErrState, c.state)
	}
	if err := c.tones.play(name); err != nil {
		return err
	}
	c.state, c.voice = FXSRouting, nil
	return nil
}

// Connect passes the call's audio between the phone and v: the far party
// answered (or sends early media), or the switch reconnected a party after
// a feature. The phone must be off hook.
func (c *FXS) Connect(v Voice) error {
	if !c.offHook() {
		return fmt.Errorf("line: %s: connect: %w (%s)", c.cfg.Name, ErrState, c.state)
	}
	if c.state != FXSConnected && c.cfg.ReverseOnConnect {
		c.fail(c.port.SetFeed(c.connectFeed()))
	}
	c.tones.stop()
	c.state, c.voice = FXSConnected, v
	return nil
}

// Disconnect ends the call from the far side: an off-hook phone hears
// the named tone (busy when ""), until it hangs up; a ringing phone stops
// ringing. Held and conference parties are forgotten: the switch has
// ended their legs.
func (c *FXS) Disconnect(toneName string) error {
	switch {
	case c.state == FXSAlerting:
		c.toIdle()
		return nil
	case !c.offHook():
		return nil
	}
	if toneName == "" {
		toneName = tone.Busy
	}
	if err := c.tones.play(toneName); err != nil {
		return err
	}
	if c.cfg.ReverseOnConnect {
		c.fail(c.port.SetFeed(FeedActive))
	}
	c.state, c.voice = FXSTone, nil
	c.held, c.consult, c.conf, c.waiting = false, false, false, false
	c.cw.stop()
	return nil
}

// CallWaiting starts (on) or stops the call waiting tone, mixed into a
// connected call's audio; a hook flash then answers the waiting call
// (FeatureAnswerWaiting).
func (c *FXS) CallWaiting(on bool) error {
	if on && c.state != FXSConnected {
		return fmt.Errorf("line: %s: call waiting: %w (%s)", c.cfg.Name, ErrState, c.state)
	}
	c.waiting = on
	if on {
		return c.cw.play(tone.CallWaiting)
	}
	c.cw.stop()
	return nil
}
