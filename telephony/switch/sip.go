package callswitch

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"callbox/telephony/media"
	"callbox/telephony/sip"
	"callbox/telephony/sip/sdpneg"
	"callbox/telephony/switch/dialplan"
	"callbox/telephony/switch/moh"
)

// SIPLeg is what the switch uses of a telephony/sip Leg (*sip.Leg
// satisfies it).
type SIPLeg interface {
	ID() string
	CallID() string
	Direction() sip.Direction
	Extension() string
	Trunk() string
	From() sip.Party
	To() sip.Party
	Ringing(early bool) error
	Answer() error
	Reject(c sip.Cause) error
	Hangup() error
	Hold(ctx context.Context) error
	Resume(ctx context.Context) error
	NotifyTransfer(status int, reason string) error
}

// SIPDialer places outbound SIP legs and gives every leg its audio.
// firmware/app implements it over *sip.Endpoint (Dial) and
// telephony/media/rtpstream (OpenMedia: a stream to the leg's negotiated
// remote address and codec, through the RTPAllocator the endpoint was
// given).
type SIPDialer interface {
	// Dial starts an outbound leg and returns at once; progress, answer
	// and failure come to the switch's SIPHandler.
	Dial(ctx context.Context, d sip.DialRequest) (SIPLeg, error)
	// OpenMedia returns the leg's RTP stream once its media are
	// negotiated; the switch closes it when the leg ends. It is called on
	// the switch's goroutine, so it must not wait (binding sockets is fine).
	// The stream's ReadFrame and WriteFrame must touch only its own state:
	// the engine may call them on a worker goroutine (media.Independent).
	// Its optional interfaces (media.Independent, DigitReader,
	// DigitWriter, AheadReader, PacketWriter, and MediaUpdater for
	// re-INVITEs) are reached through the switch's wrapper's Unwrap.
	OpenMedia(l SIPLeg) (media.Endpoint, func(), error)
}

// errNoMedia is what Connect says before a leg's media are known.
var errNoMedia = errors.New("callswitch: sip leg has no media yet")

// swapEndpoint is a media endpoint whose stream arrives after the leg
// joined the engine (SDP answers come late): silence until then. It is a
// media.Wrapper: the stream's optional interfaces (digits, look-ahead,
// packets, Independent, MediaUpdater) are found through Unwrap, so none is
// declared here; Connect has the engine look them up again once the
// stream is set.
type swapEndpoint struct {
	ep atomic.Pointer[streamRef]
}

// streamRef holds the stream, so that Unwrap returns a nil interface
// rather than a typed nil before there is one.
type streamRef struct{ media.Endpoint }

func (e *swapEndpoint) set(ep media.Endpoint) { e.ep.Store(&streamRef{ep}) }

// Unwrap implements media.Wrapper: the leg's stream, nil before it opens.
func (e *swapEndpoint) Unwrap() media.Endpoint {
	if p := e.ep.Load(); p != nil {
		return p.Endpoint
	}
	return nil
}

func (e *swapEndpoint) ReadFrame(f []int16) {
	if p := e.ep.Load(); p != nil {
		p.ReadFrame(f)
		return
	}
	clear(f)
}

func (e *swapEndpoint) WriteFrame(f []int16) {
	if p := e.ep.Load(); p != nil {
		p.WriteFrame(f)
	}
}

// sipChan is the Channel of one SIP leg. Signalling runs on goroutines of
// its own so the frame clock never waits for the network.
type sipChan struct {
	s       *Switch
	leg     SIPLeg
	ep      swapEndpoint
	closeEP func()
	// remote is where the stream sends as the switch last set it (the
	// SDP's address when the stream opened), so that a re-INVITE that
	// keeps it does not undo symmetric RTP's latch.
	remote netip.AddrPort
	cs     *chanState
	up     bool // answered (either way)
	ended  atomic.Bool
	// referred: the leg asked for a transfer (REFER); the final NOTIFY
	// goes before the BYE.
	referred bool
	// Signalling requests run one after another, in the order made, on
	// one goroutine at a time (a hold and its resume must not cross).
	qmu     sync.Mutex
	q       []func()
	running bool
}

func (c *sipChan) Name() string             { return "sip/" + c.leg.ID() }
func (c *sipChan) Tech() Tech               { return SIP }
func (c *sipChan) Endpoint() media.Endpoint { return &c.ep }

// Call is not used: outbound SIP legs are placed by SIPDialer.Dial.
func (c *sipChan) Call(string, Party) error {
	return errors.New("callswitch: sip legs are dialled by the dialer")
}

func (c *sipChan) Answer() error {
	c.up = true
	c.async(true, func() error { return c.leg.Answer() })
	return nil
}

func (c *sipChan) Hangup(cause Cause) error {
	if c.ended.Swap(true) {
		return nil
	}
	if c.closeEP != nil {
		c.closeEP()
		c.closeEP = nil
	}
	leg, up, referred := c.leg, c.up, c.referred
	c.enqueue(func() {
		if referred {
			_ = leg.NotifyTransfer(200, "OK")
		}
		if !up && leg.Direction() == sip.Inbound {
			_ = leg.Reject(sipCause(cause))
			return
		}
		_ = leg.Hangup()
	})
	return nil
}

func (c *sipChan) Indicate(ind Indication) error {
	switch ind {
	case Ringback:
		if !c.up && c.leg.Direction() == sip.Inbound {
			c.async(false, func() error { return c.leg.Ringing(false) })
		}
	case Hold:
		// The music flows whatever the peer says to the re-INVITE, so
		// a refused hold does not end the call.
		c.async(false, func() error { return c.leg.Hold(context.Background()) })
	case Unhold:
		c.async(false, func() error { return c.leg.Resume(context.Background()) })
	}
	return nil
}

func (c *sipChan) SendDigits(digits string) error {
	return c.s.engine.SendDigits(c.cs.mch, digits, 0)
}

// Connect opens the leg's RTP stream if it is not open yet.
func (c *sipChan) Connect() error {
	if c.ep.ep.Load() != nil {
		return nil
	}
	if c.s.cfg.SIP == nil {
		return errNoMedia
	}
	ep, closeFn, err := c.s.cfg.SIP.OpenMedia(c.leg)
	if err != nil {
		return errors.Join(errNoMedia, err)
	}
	c.ep.set(ep)
	c.s.engine.Refresh(c.cs.mch)
	c.closeEP = closeFn
	if lm, ok := c.leg.(interface{ Media() (sdpneg.Media, bool) }); ok {
		if m, ok := lm.Media(); ok {
			c.remote = m.Remote
		}
	}
	return nil
}

// enqueue runs f after the leg's earlier requests, off the clock.
func (c *sipChan) enqueue(f func()) {
	c.qmu.Lock()
	c.q = append(c.q, f)
	if c.running {
		c.qmu.Unlock()
		return
	}
	c.running = true
	c.qmu.Unlock()
	c.s.goSIP(func() {
		for {
			c.qmu.Lock()
			if len(c.q) == 0 {
				c.running = false
				c.qmu.Unlock()
				return
			}
			f := c.q[0]
			c.q = c.q[1:]
			c.qmu.Unlock()
			f()
		}
	})
}

// async runs a signalling request off the clock; if fatal, a failure
// ends the leg.
func (c *sipChan) async(fatal bool, f func() error) {
	c.enqueue(func() {
		if err := f(); err != nil && fatal && !errors.Is(err, sip.ErrEnded) {
			c.s.Do(func() {
				if c.cs != nil {
					c.s.partyGone(c.cs, CauseFailed)
				}
			})
		}
	})
}

func (s *Switch) goSIP(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// causeMap is the one mapping between the switch's causes and SIP's,
// read both ways: the final response an unanswered SIP caller gets when
// its call ends with a switch cause (the first row with that cause), and
// the switch cause of a SIP leg that ended (the first row with that SIP
// cause). What no row names is a failure: 500 one way, CauseFailed the
// other. A feature code is not refused at all: the caller is answered and
// hears the confirmation (confirmFeature).
var causeMap = [...]struct {
	sw  Cause
	sip sip.Cause
}{
	{CauseNormal, sip.CauseNormal},
	{CauseBusy, sip.CauseBusy},               // 486 Busy Here
	{CauseNoAnswer, sip.CauseNoAnswer},       // 480 Temporarily Unavailable
	{CauseUnavailable, sip.CauseUnavailable}, // 480: an extension with no registered phone, DND
	{CauseNotFound, sip.CauseNotFound},       // 404 Not Found
	{CauseBlocked, sip.CauseBlocked},         // 403 Forbidden: a blocked number, a route the caller may not use
	{CauseCongestion, sip.CauseCongestion},   // 503 Service Unavailable: no trunk or line for the number
	{CausePreempted, sip.CauseCongestion},    // 503: an emergency call took the line
	{CauseCancelled, sip.CauseCancelled},     // 487 Request Terminated
	{CauseFailed, sip.CauseFailed},           // 500 Server Internal Error
}

// sipCause is the SIP cause (final response) of switch cause c.
func sipCause(c Cause) sip.Cause {
	for _, m := range causeMap {
		if m.sw == c {
			return m.sip
		}
	}
	return sip.CauseFailed
}

// fromSIPCause is the switch cause of SIP cause c.
func fromSIPCause(c sip.Cause) Cause {
	for _, m := range causeMap {
		if m.sip == c {
			return m.sw
		}
	}
	return CauseFailed
}

// sipChannel returns the switch's channel of a leg, adding it on first
// sight.
func (s *Switch) sipChannel(l SIPLeg) *chanState {
	if cs := s.chans["sip/"+l.ID()]; cs != nil {
		return cs
	}
	sc := &sipChan{s: s, leg: l}
	ext := l.Extension()
	if l.Direction() == sip.Outbound || s.exts[ext] == nil {
		ext = ""
	}
	cs, err := s.addChannel(sc, "", media.ChannelOptions{})
	if err != nil {
		return nil
	}
	cs.ext = ext
	sc.cs = cs
	return cs
}

// sipDial places the outbound leg of call c: to extension ext's phones or
// to number through trunk.
func (s *Switch) sipDial(c *call, ext, trunk, number string) {
	from := sip.Party{User: c.callerID.Number, Display: c.callerID.Name}
	if ext != "" {
		from = sip.Party{User: c.from.Number, Display: c.from.Name}
	}
	req := sip.DialRequest{Extension: ext, Trunk: trunk, Number: number, From: from}
	if ext != "" {
		if e := s.exts[ext]; e != nil && e.RingTimeout > 0 {
			req.RingTimeout = e.RingTimeout
		} else {
			req.RingTimeout = s.cfg.RingTimeout
		}
	}
	party := number
	if ext != "" {
		party = ext
	}
	dialer := s.cfg.SIP // read here: SetSIP changes it on this goroutine
	s.dialling++
	s.goSIP(func() {
		l, err := dialer.Dial(context.Background(), req)
		s.Do(func() {
			defer s.dialled()
			if err != nil {
				if s.calls[c] && c.b == nil && c.answer.IsZero() {
					switch {
					case trunk != "":
						s.tryTrunk(c) // the next trunk, or congestion
					case errors.Is(err, sip.ErrUnavailable):
						s.fail(c, CauseUnavailable) // no phone registered
					default:
						s.fail(c, CauseCongestion)
					}
				}
				return
			}
			cs := s.sipChannel(l)
			if cs == nil || !s.calls[c] || !c.answer.IsZero() || c.b != nil {
				s.goSIP(func() { _ = l.Hangup() })
				if cs != nil {
					s.removeChannel(cs)
				}
				return
			}
			lg := c.addLeg(cs, party, trunk, s.clk.Now())
			c.b, cs.cur = lg, lg
			s.catchUp(l.ID(), cs)
		})
	})
}

// catchUp gives a leg whose Dial just came back the events that arrived
// for it meanwhile, its end included.
func (s *Switch) catchUp(id string, cs *chanState) {
	s.flushSIP(id)
	if cause, gone := s.sipEnded[id]; gone {
		// It ended before its Dial was seen here.
		delete(s.sipEnded, id)
		cs.ch.(*sipChan).ended.Store(true)
		s.partyGone(cs, fromSIPCause(cause))
		if s.chans[cs.ch.Name()] != nil {
			s.removeChannel(cs)
		}
	}
}

// SIPHandler returns the sip.CallHandler through which the switch takes
// part in SIP calls; firmware/app passes it in sip.Deps.
func (s *Switch) SIPHandler() sip.CallHandler { return sipHandler{SIPEvents{s}} }

// SIPEvents are the switch's entry points for SIP leg events, in terms of
// SIPLeg so that any leg implementation can drive them (SIPHandler adapts
// telephony/sip's CallHandler to them). Every method only queues work for
// the switch's goroutine and returns at once.
type SIPEvents struct{ s *Switch }

// SIPEvents returns the switch's SIP entry points.
func (s *Switch) SIPEvents() SIPEvents { return SIPEvents{s} }

type sipHandler struct{ ev SIPEvents }

func (h sipHandler) Offered(l *sip.Leg)                         { h.ev.Offered(l) }
func (h sipHandler) Progress(l *sip.Leg, code int, early bool)  { h.ev.Progress(l, code, early) }
func (h sipHandler) Answered(l *sip.Leg)                        { h.ev.Answered(l) }
func (h sipHandler) MediaChanged(l *sip.Leg, m sdpneg.Media)    { h.ev.MediaChanged(l, m) }
func (h sipHandler) DTMF(l *sip.Leg, d byte, dur time.Duration) { h.ev.DTMF(l, d, dur) }
func (h sipHandler) Transfer(l *sip.Leg, t sip.Transfer) error  { return h.ev.Transfer(l, t) }
func (h sipHandler) HungUp(l *sip.Leg, c sip.Cause)             { h.ev.HungUp(l, c) }

// onLeg runs f for leg l on the switch's goroutine once the leg is known;
// events for an outbound leg whose Dial has not yet been registered wait.
func (h SIPEvents) onLeg(l SIPLeg, f func(cs *chanState)) {
	s := h.s
	s.Do(func() {
		cs := s.chans["sip/"+l.ID()]
		if cs == nil || cs.cur == nil {
			if l.Direction() == sip.Outbound && cs == nil && s.dialling > 0 {
				if s.sipPending == nil {
					s.sipPending = make(map[string][]func(*chanState))
				}
				s.sipPending[l.ID()] = append(s.sipPending[l.ID()], f)
			}
			return
		}
		f(cs)
	})
}

// dialled ends one outstanding Dial; with none left, events held for
// legs not yet known can only be for legs already gone, and are dropped.
func (s *Switch) dialled() {
	s.dialling--
	if s.dialling == 0 {
		s.sipPending, s.sipEnded = nil, nil
	}
}

func (s *Switch) flushSIP(id string) {
	fs := s.sipPending[id]
	delete(s.sipPending, id)
	for _, f := range fs {
		if cs := s.chans["sip/"+id]; cs != nil {
			f(cs)
		}
	}
}

// Offered: an extension's phone dialled a number (To), or a trunk brings
// a call for a DID (To, else the trunk's Inbound destination).
func (h SIPEvents) Offered(l SIPLeg) {
	s := h.s
	s.Do(func() {
		cs := s.sipChannel(l)
		if cs == nil {
			s.goSIP(func() { _ = l.Reject(sip.CauseFailed) })
			return
		}
		if cs.ext != "" {
			s.originate(cs, l.To().User)
			return
		}
		from := Party{Number: l.From().User, Name: l.From().Display}
		if s.offerApp(cs, Incoming{Kind: FromTrunk, Trunk: l.Trunk(), From: from, To: l.To().User}) {
			return
		}
		dest := s.inboundDest(l.Trunk(), l.To().User)
		if dest == "" && len(s.cfg.Extensions) > 0 {
			dest = s.cfg.Extensions[0].Number
		}
		c := s.newCall(cs, from, dest)
		c.trunk = l.Trunk()
		c.a.trunk = c.trunk
		s.ringExt(c, dest, 0)
	})
}

// inboundDest is the extension a trunk's call for number rings: the
// trunk's DID map (the number as sent, or without a leading +), the
// extension of that number, else the trunk's default destination.
func (s *Switch) inboundDest(trunk, number string) string {
	if dids := s.cfg.DIDs[trunk]; dids != nil {
		if d, ok := dids[number]; ok {
			return d
		}
		if d, ok := dids[strings.TrimPrefix(number, "+")]; ok && number != "" && number[0] == '+' {
			return d
		}
	}
	if s.plan.IsExtension(number) {
		return number
	}
	return s.cfg.Inbound[trunk]
}

// Answered: an outbound leg was answered (or an inbound one confirmed).
func (h SIPEvents) Answered(l SIPLeg) {
	h.onLeg(l, func(cs *chanState) {
		cs.ch.(*sipChan).up = true
		if l.Direction() == sip.Outbound {
			h.s.answered(cs)
		}
	})
}

// Held: the SIP party put the call on hold (its far party hears music) or
// took it off.
func (h SIPEvents) Held(l SIPLeg, hold bool) {
	h.onLeg(l, func(cs *chanState) {
		far := other(cs.cur)
		if far == nil || far.ended {
			return
		}
		if hold {
			h.s.engine.Play(far.cs.mch, &moh.Player{})
			return
		}
		h.s.engine.Play(far.cs.mch, nil)
	})
}

// MediaChanged: a re-INVITE renegotiated the leg's media. The stream
// follows a new address and the direction (hold is sendonly or inactive),
// and the far party hears music while the SIP party holds.
func (h SIPEvents) MediaChanged(l SIPLeg, m sdpneg.Media) {
	h.onLeg(l, func(cs *chanState) {
		if sc, ok := cs.ch.(*sipChan); ok {
			moved := m.Remote != sc.remote
			if sc.ep.update(m, moved) && moved {
				sc.remote = m.Remote
			}
		}
	})
	h.Held(l, m.OnHold())
}

// DTMF: a digit the SIP party sent by INFO goes on to the far party.
func (h SIPEvents) DTMF(l SIPLeg, digit byte, dur time.Duration) {
	h.onLeg(l, func(cs *chanState) {
		if cs.cur.app != nil {
			h.s.appDigit(cs.cur, digit, dur)
			return
		}
		if far := other(cs.cur); far != nil && !far.ended {
			h.s.sendDigit(far.cs, digit, dur)
		}
	})
}

// Transfer: a blind REFER sends the far party to the target; an attended
// one (Replaces naming the transferor's other dialog, the consultation)
// joins the two far parties. The transferor gets the final NOTIFY and a
// BYE on both dialogs.
func (h SIPEvents) Transfer(l SIPLeg, t sip.Transfer) error {
	if t.Attended() {
		callID := t.Replaces.CallID
		h.onLeg(l, func(cs *chanState) {
			if !h.s.appRefer(cs) {
				h.s.attendedTransfer(cs, callID)
			}
		})
		return nil
	}
	h.onLeg(l, func(cs *chanState) {
		if h.s.appRefer(cs) {
			return
		}
		cs.ch.(*sipChan).referred = true
		h.s.blindTransfer(cs, t.User)
	})
	return nil
}

// attendedTransfer joins the far parties of a SIP phone's two dialogs:
// the one it sent REFER on (cs) and the consultation with Call-ID callID.
func (s *Switch) attendedTransfer(cs *chanState, callID string) {
	var cs2 *chanState
	for _, x := range s.chans {
		if sc, ok := x.ch.(*sipChan); ok && x != cs && sc.leg.CallID() == callID {
			cs2 = x
		}
	}
	if cs2 == nil || cs.cur == nil || cs2.cur == nil || cs2.cur.app != nil {
		leg := cs.ch.(*sipChan).leg
		s.goSIP(func() { _ = leg.NotifyTransfer(481, "Call/Transaction Does Not Exist") })
		return
	}
	s.join(cs.cur, cs2.cur)
	for _, x := range []*chanState{cs, cs2} {
		sc := x.ch.(*sipChan)
		sc.referred = x == cs
		_ = sc.Hangup(CauseTransferred)
		if s.chans[sc.Name()] != nil {
			s.removeChannel(x)
		}
	}
}

// HungUp: the leg ended, with why.
func (h SIPEvents) HungUp(l SIPLeg, c sip.Cause) {
	s := h.s
	s.Do(func() {
		cs := s.chans["sip/"+l.ID()]
		if cs == nil {
			if l.Direction() == sip.Outbound && s.dialling > 0 {
				// An outbound leg whose Dial has not come back yet.
				if s.sipEnded == nil {
					s.sipEnded = make(map[string]sip.Cause)
				}
				s.sipEnded[l.ID()] = c
			}
			return
		}
		sc := cs.ch.(*sipChan)
		sc.ended.Store(true)
		s.partyGone(cs, fromSIPCause(c))
		if s.chans["sip/"+l.ID()] != nil {
			s.removeChannel(cs)
		}
		// Out of the engine now: the stream can go.
		if sc.closeEP != nil {
			sc.closeEP()
			sc.closeEP = nil
		}
	})
}

// blindTransfer sends the far party of cs's call to number (dialled as
// cs's extension would) and takes cs out of the call.
func (s *Switch) blindTransfer(cs *chanState, number string) {
	l := cs.cur
	far := other(l)
	if l == nil || far == nil || far.ended {
		return
	}
	c := l.call
	fcs := far.cs
	cs.cur = nil
	s.endLeg(l, CauseTransferred, true)
	fcs.cur = nil
	far.ended, far.end, far.cause = true, s.clk.Now(), CauseTransferred
	s.end(c, CauseTransferred)
	nc := &call{id: s.nextID(), origin: fcs.ch.Name(), from: Party{Number: far.party}, to: number, start: s.clk.Now()}
	nc.a = nc.addLeg(fcs, far.party, far.trunk, nc.start)
	nc.a.answer = nc.start
	fcs.cur = nc.a
	s.calls[nc] = true
	if src, err := newToneSource(s.cfg.Country, "ringback"); err == nil {
		s.engine.Play(fcs.mch, src)
	}
	d := s.plan.Resolve(cs.ext, number)
	by := cs.ext
	nc.fromEx = by
	if d.Kind == dialplan.Extension {
		s.ringExt(nc, d.Number, 0)
		return
	}
	s.forward(nc, by, number, 0)
}

// BlindTransfer sends the party talking with channel name (a port or
// "sip/<leg id>") to number, as that channel's extension would dial it.
// It is for the web desk and the console; it runs on the next tick.
func (s *Switch) BlindTransfer(name, number string) {
	s.Do(func() {
		if cs := s.chans[name]; cs != nil {
			s.blindTransfer(cs, number)
		}
	})
}

// *sip.Leg is what SIPLeg describes.
var _ SIPLeg = (*sip.Leg)(nil)

// LegDialer is the Dial of telephony/sip's Endpoint.
type LegDialer interface {
	Dial(ctx context.Context, d sip.DialRequest) (*sip.Leg, error)
}

// NewSIPDialer makes a SIPDialer of a telephony/sip Endpoint and a
// function that opens a leg's RTP stream (firmware/app's, over
// telephony/media/rtpstream).
func NewSIPDialer(ep LegDialer, open func(SIPLeg) (media.Endpoint, func(), error)) SIPDialer {
	return sipDialer{ep, open}
}

type sipDialer struct {
	ep   LegDialer
	open func(SIPLeg) (media.Endpoint, func(), error)
}

func (d sipDialer) Dial(ctx context.Context, r sip.DialRequest) (SIPLeg, error) {
	l, err := d.ep.Dial(ctx, r)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, errors.New("callswitch: sip dial returned no leg")
	}
	return l, nil
}

func (d sipDialer) OpenMedia(l SIPLeg) (media.Endpoint, func(), error) { return d.open(l) }
