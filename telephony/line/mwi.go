package line

import (
	"fmt"
	"time"

	"callbox/dsp/callerid"
	"callbox/dsp/tone"
)

// Message waiting on an FXS port: a phone whose box has new messages hears
// the stutter dial tone when it goes off hook, and its lamp (or display
// icon) is set by a visual message waiting indicator (VMWI) message sent
// by FSK in on-hook transmission, without ringing: GR-30's form in the
// Bellcore presets (the MDMF message, or SDMF with VMWIFormat), EN 300
// 659's with the ETSI ones, after their alerting signal (polarity reversal,
// dual-tone alert or ring pulse) as for data not associated with ringing,
// with the date and time and the number of messages. A DTMF caller ID
// preset has no VMWI: such phones get the stutter dial tone only.
//
// The indicator is sent when it changes and the line is idle, or as soon
// as the line is idle again; a call (the phone lifted, a ring) interrupts
// it and it is sent again afterwards.

// vmwiSettle is the quiet after the message before the line returns to
// its idle feed, and before the first step when the preset has no alert.
const vmwiSettle = 200 * time.Millisecond

// vmwi is the state of an FXS channel's message waiting.
type vmwi struct {
	on      bool
	count   int
	pending bool // the phone has not been told the current state yet

	steps    []callerid.Step // the preset's alerting and data, no ringing
	step     int             // -1: not sending
	stepEnd  time.Time
	reversed bool
	pulse    bool
	pulseCad [2]time.Duration
	audio    []int16 // the message, modulated
	alert    []int16
	play     []int16
}

// vmwiSteps derives the steps of a VMWI from a caller ID preset: its
// alerting and data without the ringing, then a settling wait. Nil for
// the DTMF scheme.
func vmwiSteps(p *callerid.Preset) []callerid.Step {
	if p.Scheme == callerid.SchemeDTMF {
		return nil
	}
	var out []callerid.Step
	for _, st := range p.Steps {
		if st.Kind == callerid.Ring && st.Nominal == 0 {
			continue // the cadence's first ring: not for a VMWI
		}
		if len(out) == 0 && st.Kind == callerid.Wait {
			continue // the pause after that ring
		}
		out = append(out, st)
		if st.Kind == callerid.Data {
			break
		}
	}
	if len(out) == 1 { // data alone (Bellcore): a quiet moment first
		out = append([]callerid.Step{{Kind: callerid.Wait, Nominal: vmwiSettle}}, out...)
	}
	return append(out, callerid.Step{Kind: callerid.Wait, Nominal: vmwiSettle})
}

// MessageWaiting sets the phone's message waiting: on with count new
// messages (0 if unknown), or off. The stutter dial tone follows at once;
// the indicator goes out now if the line is idle, otherwise once it is.
// Like every method, it is called from the channel's goroutine.
func (c *FXS) MessageWaiting(on bool, count int) {
	count = max(0, min(count, 255))
	if c.mwi.on == on && c.mwi.count == count {
		return
	}
	c.mwi.on, c.mwi.count = on, count
	c.mwi.pending = c.mwi.steps != nil
}

// MessageWaitingOn reports whether message waiting is set.
func (c *FXS) MessageWaitingOn() bool { return c.mwi.on }

// dialToneName is the dial tone to give: the stutter dial tone while
// messages wait (and the plan has one), except for a held party's second
// dial tone.
func (c *FXS) dialToneName() string {
	if c.mwi.on && !c.held {
		if _, err := c.tones.plan.Tone(tone.Stutter); err == nil {
			return tone.Stutter
		}
	}
	return tone.Dial
}

// sendingVMWI reports whether a VMWI is on the line.
func (c *FXS) sendingVMWI() bool { return c.mwi.step >= 0 }

// startVMWI begins sending the current indicator on the idle line.
func (c *FXS) startVMWI(now time.Time) {
	m := callerid.Message{Format: c.cfg.VMWIFormat, Waiting: callerid.IndicatorOff}
	if c.mwi.on {
		m.Waiting = callerid.IndicatorOn
	}
	if m.Format == 0 {
		m.Format = callerid.MDMFMWI
	}
	if m.Format == callerid.MDMFMWI {
		m.Time = now.Format("01021504")
		if c.mwi.on {
			m.Messages = c.mwi.count
		}
	}
	var err error
	c.mwi.audio, err = callerid.AppendFSK(c.mwi.audio[:0], m, c.preset.FSK)
	if err != nil {
		c.fail(fmt.Errorf("message waiting: %w", err))
		c.mwi.pending = false
		return
	}
	c.mwi.alert = c.mwi.alert[:0]
	for _, st := range c.mwi.steps {
		if st.Kind == callerid.AlertTone {
			c.mwi.alert = callerid.AppendAlertTone(c.mwi.alert, st.Nominal, -13)
		}
	}
	c.mwi.pending = false
	c.mwi.step = -1
	c.mwi.reversed, c.mwi.pulse = false, false
	c.fail(c.port.SetFeed(FeedOHT))
	c.nextVMWI(now)
}

// nextVMWI enters the steps after the current one, as far as they take no
// time.
func (c *FXS) nextVMWI(now time.Time) {
	for {
		c.mwi.step++
		if c.mwi.step >= len(c.mwi.steps) {
			c.endVMWI()
			return
		}
		st := c.mwi.steps[c.mwi.step]
		if st.Kind != callerid.Ring && c.mwi.pulse {
			c.mwi.pulse = false
			c.fail(c.port.StopRing())
			c.fail(c.port.SetFeed(c.vmwiFeed()))
		}
		switch st.Kind {
		case callerid.Reverse:
			c.mwi.reversed = !c.mwi.reversed
			c.fail(c.port.SetFeed(c.vmwiFeed()))
			continue
		case callerid.Ring:
			c.mwi.pulseCad = [2]time.Duration{st.Nominal, 30 * time.Second} // stopped by the next step
			if err := c.port.Ring(c.mwi.pulseCad[:]); err != nil {
				c.fail(err)
				c.endVMWI()
				return
			}
			c.mwi.pulse = true
			c.mwi.stepEnd = now.Add(st.Nominal)
		case callerid.Wait:
			c.mwi.stepEnd = now.Add(st.Nominal)
		case callerid.AlertTone:
			c.mwi.play = c.mwi.alert
		case callerid.Data:
			c.mwi.play = c.mwi.audio
		default:
			continue
		}
		return
	}
}

func (c *FXS) vmwiFeed() Feed {
	if c.mwi.reversed {
		return FeedOHTReverse
	}
	return FeedOHT
}

// walkVMWI advances the sending by one frame and writes its audio.
func (c *FXS) walkVMWI(now time.Time) {
	st := c.mwi.steps[c.mwi.step]
	switch st.Kind {
	case callerid.AlertTone, callerid.Data:
		n := copy(c.tx[:], c.mwi.play)
		clear(c.tx[n:])
		c.mwi.play = c.mwi.play[n:]
		if len(c.mwi.play) == 0 {
			c.nextVMWI(now)
		}
		return
	default:
		clear(c.tx[:])
		if !now.Before(c.mwi.stepEnd) {
			c.nextVMWI(now)
		}
	}
}

// endVMWI returns the line to its idle feed.
func (c *FXS) endVMWI() {
	if c.mwi.pulse {
		c.mwi.pulse = false
		c.fail(c.port.StopRing())
	}
	c.mwi.step = -1
	c.mwi.play = nil
	c.fail(c.port.SetFeed(FeedActive))
}

// abortVMWI stops a VMWI for a call; it is sent again once the line is
// idle.
func (c *FXS) abortVMWI() {
	if !c.sendingVMWI() {
		return
	}
	c.endVMWI()
	c.mwi.pending = true
}
