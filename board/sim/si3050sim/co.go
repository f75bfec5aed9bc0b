package si3050sim

import (
	"fmt"
	"time"

	"callbox/board/sim/listen"
	"callbox/dsp/callerid"
	"callbox/dsp/country"
	"callbox/dsp/dtmf"
	"callbox/dsp/tone"
)

// RingCadence is a country's ringing: frequency and on/off pattern.
type RingCadence struct {
	Hz      float64
	Pattern []time.Duration // on, off, on, off, ...
}

// Period is the length of one cycle of the pattern.
func (r RingCadence) Period() time.Duration {
	var p time.Duration
	for _, d := range r.Pattern {
		p += d
	}
	return p
}

// on reports whether the pattern rings at offset d into a cycle.
func (r RingCadence) on(d time.Duration) bool {
	d %= r.Period()
	for i, seg := range r.Pattern {
		if d < seg {
			return i%2 == 0
		}
		d -= seg
	}
	return false
}

// Call is an incoming call the central office presents on the line.
type Call struct {
	// CallerID is sent with the call when not nil.
	CallerID *callerid.Message
	// Preset says how it is sent (FSK Bell 202 or V.23 after or before
	// the first ring, or DTMF); nil takes the country's usual one.
	Preset *callerid.Preset
	// Rings is how many rings the caller waits before giving up; 0 rings
	// until the box answers or StopRinging.
	Rings int
}

// HangupAfter is how long the box must stay on-hook for the office to
// take it as a hang-up; a shorter break is a hook flash (answered with
// recall dial tone).
const HangupAfter = time.Second

// Disconnect is how the far end's hang-up shows on the line.
type Disconnect int

// Disconnect signals.
const (
	// BusyTone: the exchange plays busy tone (the caller hung up).
	BusyTone Disconnect = iota + 1
	// Reversal: the line polarity reverses.
	Reversal
	// LoopDrop: the exchange opens the loop (no battery) for a while.
	LoopDrop
)

type interval struct{ from, to time.Time }

type clip struct {
	at      time.Time
	samples []int16
}

type polEvent struct {
	at       time.Time
	reversed bool
}

// CO is the virtual central office on an emulated FXO line: it rings the
// line (with caller ID), sees the box answer, gives dial tone, hears the
// digits the box dials, sends tones and audio, and disconnects with busy
// tone, a polarity reversal or a loop current drop. Its methods are safe
// for concurrent use (they share the chip's lock).
type CO struct {
	c       *Chip
	country string
	cadence RingCadence
	plan    tone.Plan
	preset  *callerid.Preset

	battery  float64
	loopOhms float64
	plugged  bool
	reversed bool
	openFrom time.Time
	openTo   time.Time // zero with openFrom set: open until the box hangs up
	polQueue []polEvent

	// ringing
	ringing  bool
	ringT0   time.Time
	ringHz   float64
	scripted []interval
	cadStart time.Time // zero: no cadence yet
	ringEnd  time.Time // zero: ring until answered or stopped
	answered bool

	// audio towards the box
	clips   []clip
	cur     clip
	pos     int
	gens    map[string]*tone.Generator
	gen     *tone.Generator
	genName string

	// the box's side
	boxOff   bool
	inCall   bool      // the box seized and has not hung up for HangupAfter
	onHookAt time.Time // when the box last went on-hook
	flashes  int
	heard    []int16
	hearCap  int

	// ear names the tones and digits in what the box sends, and logs
	// what happens on the office's side, for FarEnd.
	ear *listen.Ear
}

func newCO(c *Chip, code, cid string) (*CO, error) {
	cty, err := country.Lookup(code)
	if err != nil {
		return nil, fmt.Errorf("si3050sim: %s: %w", c.cfg.Name, err)
	}
	cad := RingCadence{Hz: cty.Ring.Hz, Pattern: cty.Ring.Cadence}
	plan, err := tone.PlanFor(cty.Tones)
	if err != nil {
		return nil, fmt.Errorf("si3050sim: %s: %w", c.cfg.Name, err)
	}
	if cid == "" {
		cid = cty.CallerID
	}
	preset := callerid.Presets[cid]
	if preset == nil {
		return nil, fmt.Errorf("si3050sim: %s: caller id preset %q: no such preset", c.cfg.Name, cid)
	}
	co := &CO{
		c: c, country: cty.Code, cadence: cad, plan: plan, preset: preset,
		battery: c.cfg.Battery, loopOhms: c.cfg.LoopOhms, plugged: true,
		gens: map[string]*tone.Generator{},
		ear:  listen.New(plan),
	}
	for _, name := range []string{tone.Dial, tone.Busy, tone.Congestion, tone.Ringback} {
		t, err := plan.Tone(name)
		if err != nil {
			return nil, fmt.Errorf("si3050sim: %s: %w", c.cfg.Name, err)
		}
		co.gens[name] = tone.NewGenerator(t)
	}
	return co, nil
}

// Cadence returns the central office's ring cadence.
func (co *CO) Cadence() RingCadence { return co.cadence }

func (co *CO) lock() func() {
	co.c.mu.Lock()
	co.c.update()
	return co.c.mu.Unlock
}

// fed reports whether the line carries battery now.
func (co *CO) fed(now time.Time) bool {
	if !co.plugged {
		return false
	}
	if !co.openFrom.IsZero() && !now.Before(co.openFrom) && (co.openTo.IsZero() || now.Before(co.openTo)) {
		return false
	}
	return true
}

func (co *CO) polarity() int {
	if co.reversed {
		return -1
	}
	return 1
}

// ringingAt reports whether ringing voltage is on the line at t.
func (co *CO) ringingAt(t time.Time) bool {
	if !co.ringing || t.Before(co.ringT0) {
		return false
	}
	if !co.ringEnd.IsZero() && !t.Before(co.ringEnd) {
		return false
	}
	for _, iv := range co.scripted {
		if !t.Before(iv.from) && t.Before(iv.to) {
			return true
		}
	}
	return !co.cadStart.IsZero() && !t.Before(co.cadStart) && co.cadence.on(t.Sub(co.cadStart))
}

// advance applies the schedule up to now and reacts to the box's hook.
func (co *CO) advance(now time.Time, boxOff bool) {
	for len(co.polQueue) > 0 && !now.Before(co.polQueue[0].at) {
		co.reversed = co.polQueue[0].reversed
		co.polQueue = co.polQueue[1:]
	}
	if !co.openTo.IsZero() && !now.Before(co.openTo) {
		co.openFrom, co.openTo = time.Time{}, time.Time{}
	}
	if co.ringing && !co.ringEnd.IsZero() && !now.Before(co.ringEnd) {
		co.stopRinging()
	}
	if boxOff == co.boxOff {
		if !boxOff && co.inCall && now.Sub(co.onHookAt) >= HangupAfter {
			co.endCall()
		}
		return
	}
	co.boxOff = boxOff
	if !boxOff {
		// On-hook: a hang-up once it lasts HangupAfter, else a flash.
		co.onHookAt = now
		return
	}
	// The digits the box dials count from here: a new call, or the
	// recall dial tone of a flash.
	co.ear.Reset(now)
	switch {
	case co.inCall: // back within HangupAfter: a hook flash, recall dial tone
		co.flashes++
		co.ear.Note(now, listen.BoxFlashes, "")
		co.setTone(tone.Dial)
	case co.ringing:
		co.inCall = true
		co.ringing, co.answered = false, true
		co.polQueue = co.polQueue[:0]
		co.clips, co.cur, co.pos = co.clips[:0], clip{}, 0 // no caller ID once answered
		co.setTone("")
		co.ear.Note(now, listen.BoxAnswers, "")
	case co.fed(now):
		co.inCall = true
		co.answered = false
		co.setTone(tone.Dial)
		co.ear.Note(now, listen.BoxSeizes, "")
	}
}

// endCall clears the call after the box hung up.
func (co *CO) endCall() {
	now := co.c.cfg.Clock.Now()
	co.ear.Silence(now)
	co.ear.Note(now, listen.BoxHangsUp, "")
	co.inCall = false
	co.setTone("")
	co.clips, co.cur, co.pos = co.clips[:0], clip{}, 0
	if !co.openFrom.IsZero() && co.openTo.IsZero() {
		co.openFrom = time.Time{}
	}
	co.reversed = false
}

func (co *CO) setTone(name string) {
	co.genName = name
	co.gen = nil
	if name != "" {
		co.gen = co.gens[name]
		co.gen.Reset()
	}
}

// produce writes the next frame of the office's audio.
func (co *CO) produce(frame []int16) {
	now := co.c.cfg.Clock.Now()
	n := 0
	for n < len(frame) {
		if co.pos < len(co.cur.samples) {
			k := copy(frame[n:], co.cur.samples[co.pos:])
			co.pos += k
			n += k
			continue
		}
		if len(co.clips) > 0 && !now.Before(co.clips[0].at) {
			co.cur, co.pos = co.clips[0], 0
			co.clips = co.clips[1:]
			continue
		}
		break
	}
	if n < len(frame) {
		if co.gen != nil {
			co.gen.Read(frame[n:])
		} else {
			clear(frame[n:])
		}
	}
}

// hear takes a frame the box sent.
func (co *CO) hear(frame []int16) {
	if co.hearCap > len(co.heard) {
		k := min(len(frame), co.hearCap-len(co.heard))
		co.heard = append(co.heard, frame[:k]...)
	}
	n := co.ear.DigitCount()
	co.ear.Hear(co.c.cfg.Clock.Now(), frame)
	if co.ear.DigitCount() > n && co.genName == tone.Dial {
		co.setTone("") // the first digit breaks dial tone
	}
}

// Ring presents an incoming call: ringing in the country's cadence, with
// caller ID placed as its preset says (FSK after the first ring, or a
// polarity reversal, alert tone or ring pulse and FSK or DTMF before it).
// The caller ID audio reaches the box only through the on-hook line
// monitor.
func (co *CO) Ring(call Call) error {
	defer co.lock()()
	if !co.plugged {
		return fmt.Errorf("si3050sim: %s: ring: line unplugged", co.c.cfg.Name)
	}
	if co.boxOff {
		return fmt.Errorf("si3050sim: %s: ring: the box has the line off-hook", co.c.cfg.Name)
	}
	now := co.c.cfg.Clock.Now()
	co.ringing, co.answered = true, false
	co.ringT0, co.ringHz = now, co.cadence.Hz
	co.scripted = co.scripted[:0]
	co.cadStart, co.ringEnd = time.Time{}, time.Time{}
	co.polQueue = co.polQueue[:0]
	co.clips, co.cur, co.pos = co.clips[:0], clip{}, 0
	full := 0 // scripted rings as long as the cadence's first
	if call.CallerID == nil {
		co.cadStart = now
	} else {
		p := call.Preset
		if p == nil {
			p = co.preset
		}
		t := now
		var first time.Time
		rev := false
		for _, st := range p.Steps {
			switch st.Kind {
			case callerid.Ring:
				d := st.Nominal
				if d == 0 {
					d = co.cadence.Pattern[0]
					full++
				}
				if first.IsZero() {
					first = t
				}
				co.scripted = append(co.scripted, interval{t, t.Add(d)})
				t = t.Add(d)
			case callerid.Wait:
				t = t.Add(st.Nominal)
			case callerid.Reverse:
				rev = !rev
				co.polQueue = append(co.polQueue, polEvent{t, rev})
			case callerid.AlertTone:
				a := callerid.AppendAlertTone(nil, st.Nominal, -13)
				co.clips = append(co.clips, clip{t, a})
				t = t.Add(st.Nominal)
			case callerid.Data:
				var a []int16
				var err error
				if p.Scheme == callerid.SchemeDTMF {
					a, err = callerid.AppendDTMF(nil, *call.CallerID, p.DTMF)
				} else {
					a, err = callerid.AppendFSK(nil, *call.CallerID, p.FSK)
				}
				if err != nil {
					return fmt.Errorf("si3050sim: %s: ring: caller id: %w", co.c.cfg.Name, err)
				}
				co.clips = append(co.clips, clip{t, a})
				t = t.Add(time.Duration(len(a)) * time.Second / 8000)
			case callerid.Cadence:
				if rev { // back to normal polarity for the ringing
					rev = false
					co.polQueue = append(co.polQueue, polEvent{t, false})
				}
				co.cadStart = t
				if full > 0 && first.Add(co.cadence.Period()).After(t) {
					co.cadStart = first.Add(co.cadence.Period())
				}
			}
		}
		if co.cadStart.IsZero() {
			co.cadStart = t
		}
	}
	if call.Rings > 0 {
		co.ringEnd = co.cadStart.Add(time.Duration(max(0, call.Rings-full)) * co.cadence.Period())
		if call.Rings <= full {
			co.ringEnd = co.scripted[len(co.scripted)-1].to
		}
	}
	arg := "no caller ID"
	if call.CallerID != nil {
		arg = "caller ID " + call.CallerID.Number
	}
	co.ear.Note(now, listen.Calling, arg)
	co.c.update()
	return nil
}

// StopRinging ends the ringing: the caller gave up.
func (co *CO) StopRinging() {
	defer co.lock()()
	if co.ringing {
		co.stopRinging()
		co.c.update()
	}
}

// stopRinging ends an unanswered call: its pending caller ID and polarity
// steps are dropped.
func (co *CO) stopRinging() {
	co.ear.Note(co.c.cfg.Clock.Now(), listen.CallGone, "")
	co.ringing = false
	co.polQueue, co.reversed = co.polQueue[:0], false
	co.clips, co.cur, co.pos = co.clips[:0], clip{}, 0
}

// Ringing reports whether the office is presenting a call.
func (co *CO) Ringing() bool {
	defer co.lock()()
	return co.ringing
}

// Answered reports whether the box seized the line while it rang.
func (co *CO) Answered() bool {
	defer co.lock()()
	return co.answered
}

// BoxOffHook reports whether the box holds the loop closed.
func (co *CO) BoxOffHook() bool {
	defer co.lock()()
	return co.boxOff
}

// Flashes returns the number of hook flashes the office has seen.
func (co *CO) Flashes() int {
	defer co.lock()()
	return co.flashes
}

// Digits returns the DTMF digits the box dialled since it last seized the
// line.
func (co *CO) Digits() string {
	defer co.lock()()
	return co.ear.Digits()
}

// Tone returns the name of the tone the office is playing, "" for none.
func (co *CO) Tone() string {
	defer co.lock()()
	return co.genName
}

// PlayTone plays a call-progress tone of the country's plan (tone.Dial,
// tone.Busy, tone.Congestion, tone.Ringback) until another tone, StopTone
// or the box hangs up.
func (co *CO) PlayTone(name string) error {
	defer co.lock()()
	if _, ok := co.gens[name]; !ok {
		return fmt.Errorf("si3050sim: %s: tone %q: not one of dial, busy, congestion, ringback", co.c.cfg.Name, name)
	}
	co.setTone(name)
	return nil
}

// StopTone silences the office's tone.
func (co *CO) StopTone() {
	defer co.lock()()
	co.setTone("")
}

// Play queues audio (8 kHz) to start now, after what is queued.
func (co *CO) Play(samples []int16) {
	defer co.lock()()
	co.clips = append(co.clips, clip{co.c.cfg.Clock.Now(), samples})
}

// SendDTMF queues DTMF digits towards the box (a far end dialling into an
// IVR, say).
func (co *CO) SendDTMF(digits string) error {
	a, err := dtmf.Synthesize(digits, dtmf.DefaultGeneratorConfig())
	if err != nil {
		return fmt.Errorf("si3050sim: %s: send dtmf: %w", co.c.cfg.Name, err)
	}
	defer co.lock()()
	now := co.c.cfg.Clock.Now()
	co.clips = append(co.clips, clip{now, a})
	co.ear.Note(now, listen.Dialled, digits)
	return nil
}

// Answer is the far end answering a call the box placed: the office's
// tone (dial tone, or ringback it was told to play) stops. It fails when
// the box does not hold the line.
func (co *CO) Answer() error {
	defer co.lock()()
	if !co.inCall || !co.boxOff {
		return fmt.Errorf("si3050sim: %s: answer: the box has not seized the line", co.c.cfg.Name)
	}
	co.setTone("")
	co.ear.Note(co.c.cfg.Clock.Now(), listen.Answered, "")
	return nil
}

// Hangup signals the far end's disconnect the way the exchange does: busy
// tone, a polarity reversal, or a loop drop of length d (0: until the box
// hangs up).
func (co *CO) Hangup(how Disconnect, d time.Duration) error {
	defer co.lock()()
	now := co.c.cfg.Clock.Now()
	switch how {
	case BusyTone:
		co.setTone(tone.Busy)
	case Reversal:
		co.reversed = !co.reversed
	case LoopDrop:
		co.openFrom, co.openTo = now, time.Time{}
		if d > 0 {
			co.openTo = now.Add(d)
		}
	default:
		return fmt.Errorf("si3050sim: %s: hangup: unknown signal %d", co.c.cfg.Name, how)
	}
	co.ear.Note(now, listen.HungUp, "("+how.String()+")")
	co.c.update()
	return nil
}

// String names the signal as the sim commands spell it.
func (d Disconnect) String() string {
	switch d {
	case BusyTone:
		return "busy"
	case Reversal:
		return "reversal"
	case LoopDrop:
		return "loop-drop"
	}
	return fmt.Sprintf("Disconnect(%d)", int(d))
}

// FarEnd is the far end's view of the line: whether it rings the box,
// whether the box holds the line, the tone the office plays, what the box
// sends (named by the office's ear: dsp/tone and dsp/dtmf), the digits the
// box dialled, and a log of what happened.
type FarEnd struct {
	Port     string
	Country  string
	Plugged  bool
	Ringing  bool   // the office is presenting a call to the box
	BoxOff   bool   // the box holds the loop closed
	InCall   bool   // the box seized or answered and has not hung up
	Answered bool   // the box answered the office's last call
	Playing  string // the office's own tone towards the box, "" for none
	// Hears is what the box sends, as the ear names it: a tone of the
	// plan, "silence" or "unknown sound"; "" while the box is on hook.
	Hears string
	// Digits are the DTMF digits the box dialled since it seized the line.
	Digits string
	Events []listen.Event
	Now    time.Time
}

// FarEnd reports the office's view of the line; events from since on.
func (co *CO) FarEnd(since time.Time) FarEnd {
	defer co.lock()()
	s := FarEnd{
		Port: co.c.cfg.Name, Country: co.country, Plugged: co.plugged,
		Ringing: co.ringing, BoxOff: co.boxOff, InCall: co.inCall, Answered: co.answered,
		Playing: co.genName, Digits: co.ear.Digits(),
		Events: co.ear.Events(since), Now: co.c.cfg.Clock.Now(),
	}
	if co.inCall {
		s.Hears = co.ear.Sound()
	}
	return s
}

// Reverse reverses the line polarity (answer supervision or an alert).
func (co *CO) Reverse() {
	defer co.lock()()
	co.reversed = !co.reversed
	co.c.update()
}

// Unplug disconnects (true) or reconnects (false) the line: no battery,
// no ringing, no loop current. The emulated "line disconnected" fault.
func (co *CO) Unplug(off bool) {
	defer co.lock()()
	co.plugged = !off
	if off {
		co.ringing = false
	}
	co.c.update()
}

// Record makes the office keep the first n samples the box sends from now
// on; Heard returns them.
func (co *CO) Record(n int) {
	defer co.lock()()
	co.heard = make([]int16, 0, n)
	co.hearCap = n
}

// Heard returns a copy of the audio recorded since Record.
func (co *CO) Heard() []int16 {
	defer co.lock()()
	return append([]int16(nil), co.heard...)
}
