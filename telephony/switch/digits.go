package callswitch

import (
	"net/netip"
	"sync/atomic"
	"time"

	"callbox/dsp/dtmf"
	"callbox/telephony/media"
	"callbox/telephony/sip/sdpneg"
)

// Digit relay: a digit one party of a two-party call sends reaches the
// other. A SIP leg's RFC 4733 events (its stream's DigitReader)
// and an analog leg's in-band DTMF, detected and muted while it is bridged
// to a SIP leg (analogDigits), come to the switch as media engine events;
// the switch sends each digit on when it ends: as RFC 4733 to a SIP leg
// that negotiated telephone-event, else in band. Between two analog legs
// DTMF stays in the audio, untouched.

// Bounds of a relayed digit's duration: long enough for any detector,
// short enough that a stuck event does not hold the far party's line.
const (
	minRelayDigit = 60 * time.Millisecond
	maxRelayDigit = time.Second
)

// MediaUpdater is a leg's RTP stream that follows the peer's re-INVITEs
// (*rtpstream.Stream is one): a new address and a hold direction.
type MediaUpdater interface {
	SetRemote(rtp, rtcp netip.AddrPort)
	SetDirection(send, recv bool)
}

// update applies renegotiated media to the stream, if it is open and can
// follow; it reports whether it did.
func (e *swapEndpoint) update(m sdpneg.Media, newRemote bool) bool {
	mu, ok := media.As[MediaUpdater](e)
	if !ok {
		return false
	}
	send, recv := directionOf(m.Direction)
	if !m.Remote.IsValid() || m.Remote.Addr().IsUnspecified() {
		send = false // old-style hold: c=0.0.0.0
	} else if newRemote {
		mu.SetRemote(m.Remote, netip.AddrPort{})
	}
	mu.SetDirection(send, recv)
	return true
}

// directionOf says whether we send and receive under our SDP direction d.
func directionOf(d sdpneg.Direction) (send, recv bool) {
	switch d {
	case sdpneg.SendOnly:
		return true, false
	case sdpneg.RecvOnly:
		return false, true
	case sdpneg.Inactive:
		return false, false
	}
	return true, true
}

// analogDigits is an analog leg's endpoint in the engine: its port's audio,
// with DTMF detected and muted while relaying is on (the leg is bridged
// to a SIP leg), the digits handed to the engine as DigitEvents.
type analogDigits struct {
	ep     media.Endpoint
	relay  atomic.Bool
	active bool // relay as the clock last saw it
	det    *dtmf.Detector
	evs    []dtmf.Event
	digits []media.DigitEvent
}

func newAnalogDigits(ep media.Endpoint) *analogDigits {
	return &analogDigits{ep: ep, det: dtmf.NewDetector(dtmf.DetectorConfig{Mute: true}),
		evs: make([]dtmf.Event, 0, 8), digits: make([]media.DigitEvent, 0, 8)}
}

// ReadFrame implements media.Endpoint.
func (a *analogDigits) ReadFrame(f []int16) {
	a.ep.ReadFrame(f)
	on := a.relay.Load()
	if on != a.active {
		a.active = on
		a.det.Reset() // no half digit, no stale delay line, from before
	}
	if !on {
		return
	}
	a.evs = a.det.Process(f, a.evs[:0])
	for _, ev := range a.evs {
		d := media.DigitEvent{Kind: media.DigitStart, Digit: ev.Digit}
		if ev.Kind == dtmf.DigitEnd {
			d.Kind = media.DigitEnd
			d.Duration = time.Duration(ev.Duration()) * time.Second / media.SampleRate
		}
		a.digits = append(a.digits, d)
	}
}

// Idle implements media.Idler: with relaying off and no digit waiting,
// the engine may leave an idle port's audio alone (the line channel keeps
// its own clock and detects the digits it dials itself).
func (a *analogDigits) Idle() bool { return !a.relay.Load() && !a.active && len(a.digits) == 0 }

// WriteFrame implements media.Endpoint.
func (a *analogDigits) WriteFrame(f []int16) { a.ep.WriteFrame(f) }

// Unwrap implements media.Wrapper: the port's own audio.
func (a *analogDigits) Unwrap() media.Endpoint { return a.ep }

// ReadAhead withholds the port's media.AheadReader, if it had one: a frame
// read ahead would bypass the detector and reach the far party with its
// DTMF unmuted.
func (a *analogDigits) ReadAhead([]int16) bool { return false }

// ReadDigits implements media.DigitReader.
func (a *analogDigits) ReadDigits(dst []media.DigitEvent) []media.DigitEvent {
	dst = append(dst, a.digits...)
	a.digits = a.digits[:0]
	return dst
}

// relayer is a channel whose in-band digits the switch can take over.
type relayer interface{ setRelay(on bool) }

// setRelays turns digit relaying on for the analog legs of a bridge
// between x and y that have a SIP leg on the other side, off otherwise
// (y nil: x is in no two-party bridge).
func setRelays(x, y *chanState) {
	for _, p := range [2][2]*chanState{{x, y}, {y, x}} {
		if p[0] == nil {
			continue
		}
		if r, ok := p[0].ch.(relayer); ok {
			r.setRelay(p[1] != nil && p[1].ch.Tech() == SIP)
		}
	}
}

// digits takes the engine's digit events and relays each finished digit
// to the far party.
func (s *Switch) digits() {
	for {
		select {
		case ev := <-s.engine.Events():
			s.digit(ev)
		default:
			return
		}
	}
}

func (s *Switch) digit(ev media.Event) {
	if ev.Kind != media.DigitEnd {
		return
	}
	cs := s.chans[ev.Channel.Name()]
	if cs == nil || cs.mch != ev.Channel || cs.cur == nil {
		return
	}
	if cs.cur.app != nil {
		s.appDigit(cs.cur, ev.Digit, ev.Duration)
		return
	}
	far := other(cs.cur)
	if far == nil || far.ended || far.call.answer.IsZero() || far.cs.cur != far {
		return
	}
	s.sendDigit(far.cs, ev.Digit, ev.Duration)
}

// sendDigit sends a relayed digit to a party: out of band to a SIP leg
// that can take it, in band otherwise (an analog port: generated on the
// line).
func (s *Switch) sendDigit(to *chanState, digit byte, dur time.Duration) {
	dur = min(max(dur, minRelayDigit), maxRelayDigit)
	_ = s.engine.SendDigits(to.mch, string(digit), dur)
}
