// Package listen is the ear of the simulated board's virtual phones and
// central offices: it names the call-progress tones (dsp/tone) and the DTMF
// digits (dsp/dtmf) in the audio the box sends them, and keeps a short log
// of what happened on their side of the line, with times, for the sim
// commands that let a person use the simulated box by hand.
//
// What it reports comes from the audio alone, never from the box's state:
// a dial tone is reported because 450 Hz (in CN) has sounded long enough,
// not because the switch says it plays one.
package listen

import (
	"fmt"
	"time"

	"callbox/dsp/dtmf"
	"callbox/dsp/tone"
)

// Kind is what an event says.
type Kind uint8

// Event kinds. The first three are the ear's own; Note records the others
// for the phone or central office that owns the ear.
const (
	ToneStart      Kind = iota + 1 // a tone of the plan was recognised (Arg: its name)
	ToneEnd                        // it stopped (Arg: its name)
	Digit                          // a DTMF digit was heard (Arg: the digit)
	OffHook                        // the phone was lifted
	OnHook                         // the phone hung up
	Ringing                        // a call is presented to the phone: ringing (and caller ID)
	RingingStopped                 // the presentation ended without an answer
	CallerID                       // caller ID was received (Arg: the message)
	Dialled                        // the phone or office sent digits (Arg: the digits)
	Flash                          // the phone sent a hook flash
	Answered                       // the far end answered the box's call
	HungUp                         // the far end hung up (Arg: how)

	// What a central office sees of the box.
	Calling    // the office rings the box (Arg: the caller ID)
	CallGone   // the caller gave up before the box answered
	BoxSeizes  // the box seized the line to call out
	BoxAnswers // the box answered the office's call
	BoxHangsUp // the box released the line
	BoxFlashes // the box sent a hook flash
)

var kindText = [...]string{"", "hears", "stops hearing", "hears digit", "off hook", "on hook",
	"ringing", "stopped ringing", "caller ID", "dialled", "flash", "far end answers", "far end hangs up",
	"rings the box,", "the caller gave up", "the box seizes the line", "the box answers",
	"the box hangs up", "the box flashes"}

// Event is one line of the log.
type Event struct {
	At   time.Time
	Kind Kind
	Arg  string
}

// String is the event as the sim commands print it, without its time:
// "hears dial", "hears digit 5", "caller ID 201".
func (e Event) String() string {
	k := "event?"
	if int(e.Kind) < len(kindText) && e.Kind != 0 {
		k = kindText[e.Kind]
	}
	if e.Arg == "" {
		return k
	}
	return k + " " + e.Arg
}

// LogSize is how many events an Ear keeps.
const LogSize = 64

// maxDigits bounds the digits remembered since Reset.
const maxDigits = 64

// digitNames are the digits as strings, so logging one allocates nothing.
var digitNames = func() map[byte]string {
	m := map[byte]string{}
	for _, d := range "0123456789*#ABCD" {
		m[byte(d)] = string(d)
	}
	return m
}()

// Ear listens to one line. It is not safe for concurrent use: its owner
// (the emulated chip) calls it under its own lock. Hear allocates nothing.
type Ear struct {
	plan   tone.Plan
	tones  *tone.Detector
	dtmf   *dtmf.Detector
	dev    []dtmf.Event
	tone   string // tone sounding now, "" for none
	digits [maxDigits]byte
	nd     int

	log  [LogSize]Event
	head int // index of the oldest event
	n    int
}

// New returns an ear for the tones of plan.
func New(plan tone.Plan) *Ear {
	return &Ear{
		plan:  plan,
		tones: tone.NewDetector(plan, tone.DetectorConfig{}),
		dtmf:  dtmf.NewDetector(dtmf.DetectorConfig{}),
		dev:   make([]dtmf.Event, 0, 8),
	}
}

// Plan returns the tone plan the ear knows.
func (e *Ear) Plan() tone.Plan { return e.plan }

// Reset starts a new call: the tone and digit detectors start afresh and
// the digits heard are forgotten; the log stays.
func (e *Ear) Reset(now time.Time) {
	e.stopTone(now)
	e.tones.Reset()
	e.dtmf.Reset()
	e.nd = 0
}

// Hear takes audio the line delivers at now (the end of x).
func (e *Ear) Hear(now time.Time, x []int16) {
	e.tones.Process(x)
	for {
		ev, ok := e.tones.Poll()
		if !ok {
			break
		}
		switch ev.Kind {
		case tone.ToneStart:
			e.tone = ev.Tone
			e.Note(now, ToneStart, ev.Tone)
		case tone.ToneEnd:
			if e.tone == ev.Tone {
				e.tone = ""
			}
			e.Note(now, ToneEnd, ev.Tone)
		}
	}
	e.dev = e.dtmf.Process(x, e.dev[:0])
	for _, ev := range e.dev {
		if ev.Kind != dtmf.DigitStart {
			continue
		}
		if e.nd < len(e.digits) {
			e.digits[e.nd] = ev.Digit
			e.nd++
		}
		e.Note(now, Digit, digitNames[ev.Digit])
	}
}

// stopTone ends a tone still sounding (the line went quiet for a reason
// the detector cannot see: on hook).
func (e *Ear) stopTone(now time.Time) {
	if e.tone != "" {
		e.Note(now, ToneEnd, e.tone)
		e.tone = ""
	}
}

// Silence says the line delivers nothing from now on (on hook); a tone
// still sounding ends.
func (e *Ear) Silence(now time.Time) { e.stopTone(now) }

// Note adds an event to the log, dropping the oldest when it is full.
func (e *Ear) Note(at time.Time, k Kind, arg string) {
	if e.n == len(e.log) {
		e.head = (e.head + 1) % len(e.log)
		e.n--
	}
	e.log[(e.head+e.n)%len(e.log)] = Event{At: at, Kind: k, Arg: arg}
	e.n++
}

// Tone returns the tone of the plan sounding now, or "".
func (e *Ear) Tone() string { return e.tone }

// Sound describes what is heard now: a tone's name, "silence", or
// "unknown sound" (speech, or a tone not yet or not at all recognised).
func (e *Ear) Sound() string {
	if e.tone != "" {
		return e.tone
	}
	switch e.tones.Current() {
	case tone.StateSilence:
		return "silence"
	case tone.StateUnknown:
		return "unknown sound"
	}
	// A tone the detector names before the ear has polled it.
	return e.tones.Current()
}

// Digits returns the DTMF digits heard since Reset (up to 64).
func (e *Ear) Digits() string { return string(e.digits[:e.nd]) }

// DigitCount is how many digits Digits holds; it allocates nothing.
func (e *Ear) DigitCount() int { return e.nd }

// Events returns the logged events at or after since, oldest first.
func (e *Ear) Events(since time.Time) []Event {
	var out []Event
	for i := 0; i < e.n; i++ {
		ev := e.log[(e.head+i)%len(e.log)]
		if !ev.At.Before(since) {
			out = append(out, ev)
		}
	}
	return out
}

// Format writes events one a line as "+1.20s hears dial", times from t0.
func Format(events []Event, t0 time.Time) []string {
	out := make([]string, 0, len(events))
	for _, e := range events {
		out = append(out, fmt.Sprintf("%+.2fs %s", e.At.Sub(t0).Seconds(), e))
	}
	return out
}
