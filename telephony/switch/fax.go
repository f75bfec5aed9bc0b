package callswitch

import (
	"time"

	"callbox/telephony/media"
)

// FaxDelay is the fixed jitter-buffer delay of a leg in fax mode (or its
// adaptive delay at that moment, if longer): room for the usual jitter of
// a LAN or a trunk, and well inside what T.30's timers allow.
const FaxDelay = 60 * time.Millisecond

// fixedDelayer is a leg's RTP stream whose jitter buffer can hold a fixed
// delay (*rtpstream.Stream).
type fixedDelayer interface {
	SetFixedDelay(d time.Duration)
}

// echoBypasser is a channel whose line has an echo canceller of its own
// (an FXO line's hybrid).
type echoBypasser interface {
	setEchoBypass(on bool)
}

// SetFax puts a leg in fax mode (on) or back to voice: a fax or modem
// signal must pass untouched. The leg's echo cancellers are bypassed (the
// engine's, and an FXO line's: a fax's CED carries no phase reversals, so
// the /ANS disabler does not fire for it), in-band DTMF is neither
// detected nor muted on an analog line (a V.29 signal could pass for a
// digit and be cut out), and an RTP stream's jitter buffer holds a fixed
// delay (FaxDelay) with lost audio played as silence instead of concealed.
// Call it once the leg is up; the line's canceller cancels again from its
// next call, whatever ended this one.
func (a *AppCall) SetFax(leg LegID, on bool) {
	a.do(func() {
		al := a.leg(leg)
		if al == nil || !al.live() {
			return
		}
		cs := al.l.cs
		a.s.engine.SetEchoBypass(cs.mch, on)
		if eb, ok := cs.ch.(echoBypasser); ok {
			eb.setEchoBypass(on)
		}
		if r, ok := cs.ch.(relayer); ok {
			r.setRelay(!on) // off: no detection, no muting
		}
		if fd, ok := media.As[fixedDelayer](cs.ch.Endpoint()); ok {
			d := time.Duration(0)
			if on {
				d = FaxDelay
			}
			fd.SetFixedDelay(d)
		}
	})
}

// setEchoBypass implements echoBypasser: the line's own canceller.
func (c *fxoChan) setEchoBypass(on bool) {
	if ec := c.fxo.EchoCanceller(); ec != nil {
		ec.SetBypass(on)
	}
}
