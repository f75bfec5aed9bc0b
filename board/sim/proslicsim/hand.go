package proslicsim

import (
	"fmt"
	"strings"
	"time"

	"callbox/board/sim/listen"
	"callbox/dsp/callerid"
	"callbox/dsp/country"
	"callbox/dsp/tone"
)

// Pulse dialling (decadic): 10 pulses a second, each a 60 ms break of the
// loop and a 40 ms make, and a pause between digits (ITU-T Q.23's
// companion for rotary dials; the figures are the common 10 pps, 60/40).
const (
	PulseBreak = 60 * time.Millisecond
	PulseMake  = 40 * time.Millisecond
	PulsePause = 800 * time.Millisecond
)

// pulseTrain is a scheduled series of loop breaks, on the chip's clock.
type pulseTrain struct {
	start  time.Time
	breaks [][2]time.Duration // from start
	end    time.Time
}

// active reports whether the train still has breaks to make.
func (t *pulseTrain) active() bool { return !t.end.IsZero() }

// breaking reports whether the loop is open at now.
func (t *pulseTrain) breaking(now time.Time) bool {
	if !t.active() {
		return false
	}
	if !now.Before(t.end) {
		*t = pulseTrain{}
		return false
	}
	d := now.Sub(t.start)
	for _, b := range t.breaks {
		if d >= b[0] && d < b[1] {
			return true
		}
	}
	return false
}

// loopClosed reports whether the phone closes the loop at now: off hook
// and not in a pulse break.
func (p *Phone) loopClosed(now time.Time) bool {
	return p.offHook && !p.pulses.breaking(now)
}

// DialPulse dials digits (0-9) by breaking the loop, 10 pulses a second,
// starting now; it returns when the last break will be over. The phone
// must be off hook and not already dialling pulses. The loop state follows
// the chip's clock, so the driver sees the breaks on a virtual clock too.
func (p *Phone) DialPulse(digits string) (time.Duration, error) {
	if digits == "" {
		return 0, fmt.Errorf("proslicsim: %s: pulse dial: no digits", p.c.cfg.Name)
	}
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, fmt.Errorf("proslicsim: %s: pulse dial: %q is not a digit 0-9", p.c.cfg.Name, d)
		}
	}
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	now := p.c.now()
	if !p.offHook {
		return 0, fmt.Errorf("proslicsim: %s: pulse dial: the phone is on hook", p.c.cfg.Name)
	}
	if p.pulses.active() && now.Before(p.pulses.end) {
		return 0, fmt.Errorf("proslicsim: %s: pulse dial: still dialling", p.c.cfg.Name)
	}
	t := pulseTrain{start: now}
	var at time.Duration
	for i, d := range digits {
		if i > 0 {
			at += PulsePause
		}
		n := int(d - '0')
		if n == 0 {
			n = 10
		}
		for k := 0; k < n; k++ {
			t.breaks = append(t.breaks, [2]time.Duration{at, at + PulseBreak})
			at += PulseBreak + PulseMake
		}
	}
	t.end = now.Add(at)
	p.pulses = t
	p.ear.Note(now, listen.Dialled, digits+" (pulse)")
	p.c.update()
	return at, nil
}

// SetCountry sets the country (a dsp/country code) whose tone plan the
// phone's ear knows; CN by default.
func (p *Phone) SetCountry(code string) error {
	c, err := country.Lookup(code)
	if err != nil {
		return fmt.Errorf("proslicsim: %s: %w", p.c.cfg.Name, err)
	}
	plan, err := tone.PlanFor(c.Tones)
	if err != nil {
		return fmt.Errorf("proslicsim: %s: %w", p.c.cfg.Name, err)
	}
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	p.ear = listen.New(plan)
	p.country = c.Code
	return nil
}

// SetCallerID makes the phone's caller ID receiver expect a dsp/callerid
// preset (by name): Bell 202 or V.23 FSK, or DTMF.
func (p *Phone) SetCallerID(preset string) error {
	pr := callerid.Presets[preset]
	if pr == nil {
		return fmt.Errorf("proslicsim: %s: caller id preset %q: no such preset", p.c.cfg.Name, preset)
	}
	if pr.Scheme == callerid.SchemeDTMF {
		p.c.mu.Lock()
		defer p.c.mu.Unlock()
		p.cidDTMF = callerid.NewDTMFReceiver()
		return nil
	}
	if err := p.SetCallerIDModem(pr.FSK.Modem); err != nil {
		return fmt.Errorf("proslicsim: %s: %w", p.c.cfg.Name, err)
	}
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	p.cidDTMF = nil
	return nil
}

// Alerting reports whether a call is being presented: the line rings, or
// is in on-hook transmission (between rings, or caller ID before the first
// ring), with the phone on hook. Answering (OffHook) then takes the call.
func (p *Phone) Alerting() bool {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	return p.alerting
}

// linefeedChanged notes the start and end of a call's presentation; the
// chip calls it under its lock.
func (p *Phone) linefeedChanged(now time.Time) {
	a := false
	switch p.c.lf() {
	case lfRinging, lfFwdOHT, lfRevOHT:
		a = !p.offHook
	}
	if a == p.alerting {
		return
	}
	p.alerting = a
	switch {
	case a:
		p.ear.Note(now, listen.Ringing, "")
	case !p.offHook:
		p.ear.Note(now, listen.RingingStopped, "")
	}
}

// Status is what the phone's user perceives: the handset, the bell, what
// the earpiece plays, the caller ID display, and a log of what happened.
type Status struct {
	Port     string
	Country  string
	OffHook  bool
	Ringing  bool // the bell rings now
	Alerting bool // a call is presented (ringing, or between rings)
	Dialling bool // digits are still being sent
	// Hears is what the earpiece plays, named by the ear (dsp/tone):
	// a tone of the country's plan, "silence" or "unknown sound"; "" on
	// hook.
	Hears string
	// Digits are the DTMF digits heard since the phone went off hook.
	Digits string
	// CallerID is the last caller ID received (nil: none), at CallerIDAt.
	CallerID   *callerid.Message
	CallerIDAt time.Time
	// Events are the phone's recent events, oldest first.
	Events []listen.Event
	Now    time.Time
}

// Status reports the phone's state; events from since on.
func (p *Phone) Status(since time.Time) Status {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	now := p.c.now()
	_, vpk := p.c.ringSignal()
	s := Status{
		Port: p.c.cfg.Name, Country: p.country, OffHook: p.offHook,
		Ringing:  p.c.lf() == lfRinging && vpk >= 40,
		Alerting: p.alerting,
		Dialling: p.gen.Pending() > 0 || p.pulses.active() && now.Before(p.pulses.end),
		Events:   p.ear.Events(since),
		Now:      now,
	}
	if p.offHook {
		s.Hears = p.ear.Sound()
		s.Digits = p.ear.Digits()
	}
	if n := len(p.cidMsgs); n > 0 {
		m := p.cidMsgs[n-1]
		s.CallerID, s.CallerIDAt = &m, p.cidAt
	}
	return s
}

// FormatCallerID is a caller ID message as a display shows it: the
// number (or why it is absent), the name in quotes, and the time; a message
// waiting message as the lamp's state and the count.
func FormatCallerID(m callerid.Message) string {
	var parts []string
	if m.Waiting != 0 {
		parts = append(parts, "message waiting "+m.Waiting.String())
		if m.Messages > 0 {
			parts = append(parts, fmt.Sprintf("(%d)", m.Messages))
		}
	}
	switch {
	case m.Number != "":
		parts = append(parts, m.Number)
	case m.NumberReason != callerid.NoReason:
		parts = append(parts, "("+m.NumberReason.String()+")")
	}
	switch {
	case m.Name != "":
		parts = append(parts, fmt.Sprintf("%q", m.Name))
	case m.NameReason != callerid.NoReason:
		parts = append(parts, "(name "+m.NameReason.String()+")")
	}
	if len(m.Time) == 8 {
		parts = append(parts, m.Time[0:2]+"-"+m.Time[2:4]+" "+m.Time[4:6]+":"+m.Time[6:8])
	}
	if len(parts) == 0 {
		return "(empty)"
	}
	return strings.Join(parts, " ")
}
