package callswitch

import (
	"time"

	"callbox/telephony/media"
	"callbox/telephony/switch/cdr"
	"callbox/telephony/switch/dialplan"
)

// call is one call: the calling leg, the leg being called or talked to,
// and every leg it ever had for the CDR.
type call struct {
	id     string
	origin string // the channel the call came from, for the CDR
	from   Party
	fromEx string // the calling extension, "" from outside
	to     string // the number dialled (or the line's destination)
	a, b   *leg
	legs   []*leg
	start  time.Time
	answer time.Time
	cause  Cause
	trunk  string
	// Ringing: when it counts as not answered, and where it then goes.
	deadline time.Time
	noAnswer string
	fwdBy    string // the extension whose forwarding applies
	hops     int
	// Outbound: the number and the trunks not yet tried.
	number   string
	trunks   []string
	callerID Party
	// An emergency call may take a line from another call once.
	emergency, preempted bool
	allTrunks            []string
	// hangupAt ends an answered call the switch answered itself: a SIP
	// caller's feature code, once it has heard the confirmation.
	hangupAt time.Time
	// app is set for a call an application controls (app.go).
	app *AppCall
}

// leg is one channel's part in a call.
type leg struct {
	cs     *chanState
	call   *call
	party  string
	trunk  string
	start  time.Time
	answer time.Time
	end    time.Time
	cause  Cause
	ended  bool
	app    *appLeg // the leg's place in an app call, if it is in one
}

func (s *Switch) newCall(a *chanState, from Party, to string) *call {
	now := s.clk.Now()
	c := &call{id: s.nextID(), origin: a.ch.Name(), from: from, fromEx: a.ext, to: to, start: now}
	c.a = c.addLeg(a, from.Number, "", now)
	a.cur = c.a
	s.calls[c] = true
	return c
}

func (c *call) addLeg(cs *chanState, party, trunk string, now time.Time) *leg {
	l := &leg{cs: cs, call: c, party: party, trunk: trunk, start: now}
	c.legs = append(c.legs, l)
	return l
}

// originate handles a number an extension dialled.
func (s *Switch) originate(cs *chanState, number string) {
	from := Party{Number: cs.ext}
	if e := s.exts[cs.ext]; e != nil {
		from.Name = e.Name
	}
	d := s.plan.Resolve(cs.ext, number)
	if d.Kind == dialplan.FeatureCode && d.Feature == dialplan.Pickup {
		s.pickup(cs)
		return
	}
	if d.Kind == dialplan.Application &&
		s.offerApp(cs, Incoming{Kind: Dialled, From: from, To: d.Number, Extension: cs.ext, App: d.App}) {
		return
	}
	c := s.newCall(cs, from, number)
	switch d.Kind {
	case dialplan.Extension:
		s.ringExt(c, d.Number, 0)
	case dialplan.FeatureCode:
		s.featureCode(c, d)
	case dialplan.Outbound, dialplan.Emergency:
		s.dialOut(c, d)
	case dialplan.Blocked:
		s.fail(c, CauseBlocked)
	case dialplan.NoRoute:
		s.fail(c, CauseBlocked)
	default:
		s.fail(c, CauseNotFound)
	}
}

// ringExt presents call c to extension ext, applying its DND, forwarding
// and call waiting.
func (s *Switch) ringExt(c *call, ext string, hops int) {
	e := s.exts[ext]
	if e == nil {
		s.fail(c, CauseNotFound)
		return
	}
	if e.ForwardAll != "" {
		s.forward(c, ext, e.ForwardAll, hops)
		return
	}
	cs := s.chans[e.port]
	busy := e.DND || (cs != nil && cs.cur != nil) || (c.a != nil && c.a.cs == cs)
	if busy && !e.DND && cs != nil && cs.cur != nil && e.CallWaiting && cs.wait == nil &&
		cs.held == nil && cs.cur.call.b != nil && !cs.cur.call.answer.IsZero() && c.a.cs != cs {
		// Call waiting: the tone in the busy party's call, ringback here.
		l := c.addLeg(cs, ext, "", s.clk.Now())
		c.b = l
		cs.wait = l
		if err := cs.ch.Indicate(WaitingOn); err != nil {
			cs.wait = nil
			s.endLeg(l, CauseFailed, false)
			s.fail(c, CauseBusy)
			return
		}
		s.armNoAnswer(c, e, hops)
		s.indicate(c.a, Ringback)
		return
	}
	if busy {
		if e.ForwardBusy != "" {
			s.forward(c, ext, e.ForwardBusy, hops)
			return
		}
		s.fail(c, CauseBusy)
		return
	}
	if cs == nil {
		if s.cfg.SIP != nil {
			c.b = nil
			s.armNoAnswer(c, e, hops)
			s.sipDial(c, ext, "", ext)
			s.indicate(c.a, Ringback)
			return
		}
		s.fail(c, CauseUnavailable)
		return
	}
	l := c.addLeg(cs, ext, "", s.clk.Now())
	c.b = l
	cs.cur = l
	if err := cs.ch.Call(ext, c.from); err != nil {
		cs.cur = nil
		s.endLeg(l, CauseFailed, false)
		if e.ForwardBusy != "" {
			s.forward(c, ext, e.ForwardBusy, hops)
			return
		}
		s.fail(c, CauseBusy)
		return
	}
	s.armNoAnswer(c, e, hops)
	s.indicate(c.a, Ringback)
}

func (s *Switch) armNoAnswer(c *call, e *extState, hops int) {
	d := e.RingTimeout
	if d <= 0 {
		d = s.cfg.RingTimeout
	}
	c.deadline = s.clk.Now().Add(d)
	c.noAnswer = e.ForwardNoAnswer
	c.fwdBy = e.Number
	c.hops = hops
}

// forward sends call c on to target, as extension by would dial it.
func (s *Switch) forward(c *call, by, target string, hops int) {
	if hops >= s.cfg.MaxForwards {
		s.fail(c, CauseCongestion)
		return
	}
	d := s.plan.Resolve(by, target)
	switch d.Kind {
	case dialplan.Extension:
		s.ringExt(c, d.Number, hops+1)
	case dialplan.Outbound, dialplan.Emergency:
		s.dialOut(c, d)
	case dialplan.Blocked, dialplan.NoRoute:
		s.fail(c, CauseBlocked)
	case dialplan.Application:
		// A forward to voicemail, a handoff to a conference room.
		if !s.forwardApp(c, by, d) {
			s.fail(c, CauseNotFound)
		}
	default:
		s.fail(c, CauseNotFound)
	}
}

// dialOut places c on the first trunk of decision d that takes it.
func (s *Switch) dialOut(c *call, d dialplan.Decision) {
	c.number = d.Number
	c.trunks = append(c.trunks[:0], d.Trunks...)
	c.allTrunks = d.Trunks
	c.emergency = d.Kind == dialplan.Emergency
	c.callerID = s.outboundCallerID(c, d)
	s.tryTrunk(c)
}

// outboundCallerID is what an outside call presents: the route's number
// if the route overrides; otherwise the calling extension's own outside
// number (with its caller ID name) if it has one, else the route's number,
// else the caller as it came.
func (s *Switch) outboundCallerID(c *call, d dialplan.Decision) Party {
	if d.CallerID != "" && d.CallerIDOverride {
		return Party{Number: d.CallerID}
	}
	if e := s.exts[c.fromEx]; e != nil && e.CallerIDNumber != "" && c.from.Number == e.Number {
		return Party{Number: e.CallerIDNumber, Name: e.Name}
	}
	if d.CallerID != "" {
		return Party{Number: d.CallerID}
	}
	return c.from
}

// tryTrunk tries the next trunk of an outbound call (failover).
func (s *Switch) tryTrunk(c *call) {
	for len(c.trunks) > 0 {
		t := c.trunks[0]
		c.trunks = c.trunks[1:]
		if cs := s.chans[t]; cs != nil {
			if cs.ch.Tech() != FXO || cs.cur != nil || !cs.ch.(*fxoChan).idle() {
				continue
			}
			l := c.addLeg(cs, c.number, t, s.clk.Now())
			c.b, cs.cur, c.trunk = l, l, t
			if err := cs.ch.Call(c.number, c.callerID); err != nil {
				cs.cur = nil
				s.endLeg(l, CauseFailed, false)
				continue
			}
			c.deadline = time.Time{}
			s.indicate(c.a, Ringback)
			return
		}
		if s.cfg.SIP != nil {
			c.trunk = t
			s.sipDial(c, "", t, c.number)
			s.indicate(c.a, Ringback)
			return
		}
	}
	if c.emergency && !c.preempted {
		// Every line is busy: an emergency call takes one from an
		// ordinary call rather than fail.
		c.preempted = true
		for _, t := range c.allTrunks {
			cs := s.chans[t]
			if cs == nil || cs.ch.Tech() != FXO || cs.cur == nil || cs.cur.call == c || cs.cur.call.emergency {
				continue
			}
			s.end(cs.cur.call, CausePreempted)
			if cs.cur == nil && cs.ch.(*fxoChan).idle() {
				c.trunks = []string{t}
				s.tryTrunk(c)
				return
			}
		}
	}
	s.fail(c, CauseCongestion)
}

// answered: the party on cs answered the call presented to it.
func (s *Switch) answered(cs *chanState) {
	l := cs.cur
	if l == nil || l.ended {
		return
	}
	if l.app != nil {
		s.appAnswered(l)
		return
	}
	if !cs.recall.IsZero() {
		// The recall is answered: back to the held party.
		cs.recall = time.Time{}
		if far := other(l); far != nil && !far.ended {
			_ = far.cs.ch.Indicate(Unhold)
			s.bridge(l, far)
		}
		return
	}
	c := l.call
	if c.b != l || !c.answer.IsZero() {
		return
	}
	now := s.clk.Now()
	if c.a.cs.ch.Tech() != FXS && c.a.answer.IsZero() {
		// An FXO line or SIP caller is answered only now that the called
		// party has: until then the caller heard the network's ringback.
		if err := c.a.cs.ch.Answer(); err != nil {
			s.end(c, CauseFailed)
			return
		}
	}
	c.answer, l.answer, c.deadline = now, now, time.Time{}
	if c.a.answer.IsZero() {
		c.a.answer = now
	}
	s.bridge(c.a, l)
}

// bridge joins two legs' audio.
func (s *Switch) bridge(x, y *leg) {
	s.engine.Play(x.cs.mch, nil)
	s.engine.Play(y.cs.mch, nil)
	if _, err := s.engine.Bridge(x.cs.mch, y.cs.mch); err != nil {
		s.end(x.call, CauseFailed)
		return
	}
	setRelays(x.cs, y.cs)
	_ = x.cs.ch.Connect()
	_ = y.cs.ch.Connect()
}

func (s *Switch) indicate(l *leg, ind Indication) {
	if l != nil && !l.ended {
		_ = l.cs.ch.Indicate(ind)
	}
}

// fail ends an unanswered call: the caller hears why.
func (s *Switch) fail(c *call, cause Cause) { s.end(c, cause) }

// partyGone: the party on cs hung up (or its channel failed).
func (s *Switch) partyGone(cs *chanState, cause Cause) {
	if l := cs.cur; l != nil && l.app != nil {
		s.appPartyGone(l, cause)
		return
	}
	if cs.conf && cs.held != nil && cs.cur != nil {
		// The host of a three-way conference left: the other two talk on.
		s.transfer(cs)
		return
	}
	if l := cs.wait; l != nil {
		// The phone is on hook again: the waiting call rings it.
		cs.wait = nil
		if l.call.b == l && cs.cur != nil && cs.cur != l {
			defer s.rering(cs, l)
		}
	}
	if l := cs.held; l != nil {
		cs.held, cs.swap = nil, false
		if far := other(l); cs.ch.Tech() == FXS && !l.ended && far != nil && !far.ended {
			// A phone hung up on a held party: end the other call and
			// ring back, rather than cut the held party off.
			if cur := cs.cur; cur != nil {
				s.legGone(cur, cause)
			}
			s.recallHeld(cs, l, far)
			return
		}
		s.legGone(l, cause)
	}
	if l := cs.cur; l != nil {
		s.legGone(l, cause)
	}
}

// recallHeld rings phone cs back with its held leg l (far on hold).
func (s *Switch) recallHeld(cs *chanState, l, far *leg) {
	cs.cur = l
	d := s.cfg.RingTimeout
	if e := s.exts[cs.ext]; e != nil && e.RingTimeout > 0 {
		d = e.RingTimeout
	}
	cs.recall = s.clk.Now().Add(d)
	if err := cs.ch.Call(cs.ext, Party{Number: far.party}); err != nil {
		cs.recall = time.Time{}
		s.end(l.call, CauseFailed)
	}
}

func (s *Switch) rering(cs *chanState, l *leg) {
	if l.ended || cs.cur != nil {
		return
	}
	cs.cur = l
	if err := cs.ch.Call(l.party, l.call.from); err != nil {
		cs.cur = nil
		s.end(l.call, CauseBusy)
	}
}

// legGone: leg l's party left the call.
func (s *Switch) legGone(l *leg, cause Cause) {
	if l.ended {
		return
	}
	c := l.call
	switch {
	case !c.answer.IsZero():
		s.end(c, cause)
	case l == c.a:
		s.end(c, CauseCancelled)
	case l == c.b:
		s.endLeg(l, cause, false)
		if l.cs.ch.Tech() == FXO && c.b == l && len(c.trunks) > 0 && cause != CauseBusy {
			s.tryTrunk(c)
			return
		}
		s.end(c, cause)
	default:
		s.endLeg(l, cause, false)
	}
}

// endLeg ends one leg; notify tells its channel.
func (s *Switch) endLeg(l *leg, cause Cause, notify bool) {
	if l.ended {
		return
	}
	l.ended, l.end, l.cause = true, s.clk.Now(), cause
	cs := l.cs
	switch l {
	case cs.cur:
		cs.cur, cs.conf, cs.recall = nil, false, time.Time{}
		s.engine.Play(cs.mch, nil)
		s.engine.Remove(cs.mch)
		s.readd(cs)
		if notify && cs.swap && cs.held != nil && cs.held.call != l.call {
			// The other call of a call-waiting pair comes back.
			s.unhold(cs)
		} else if notify {
			_ = cs.ch.Hangup(cause)
		}
	case cs.held:
		cs.held, cs.conf, cs.swap = nil, false, false
	case cs.wait:
		cs.wait = nil
		if notify {
			_ = cs.ch.Indicate(WaitingOff)
		}
	}
	if cs.ch.Tech() == SIP && cs.cur == nil && cs.held == nil && cs.wait == nil {
		s.removeChannel(cs)
		if notify {
			_ = cs.ch.Hangup(cause)
		}
	}
}

// readd gives a persistent channel a fresh place in the engine, out of
// any bridge or conference.
func (s *Switch) readd(cs *chanState) {
	if cs.ch.Tech() == SIP {
		return
	}
	mch, err := s.engine.NewChannel(cs.ch.Name(), cs.ch.Endpoint(), media.ChannelOptions{})
	if err == nil {
		cs.mch = mch
	}
}

// end finishes call c: every leg still up is told, and the CDR written.
func (s *Switch) end(c *call, cause Cause) {
	if !s.calls[c] {
		return
	}
	if c.app != nil && !c.app.ended {
		s.appEnd(c.app, cause) // it ends the legs the application's way, then comes back
		return
	}
	if c.cause == 0 {
		c.cause = cause
	}
	if c.emergency && c.answer.IsZero() && cause != CauseCancelled {
		// Said loudly: somebody needed help and did not get through.
		reason := "no trunk took the call"
		if len(c.allTrunks) == 0 {
			reason = "no trunk is configured for emergency numbers"
		}
		s.log.Error("callswitch: EMERGENCY CALL NOT CONNECTED", "caller", c.from.Number, "number", c.number,
			"cause", cause.String(), "reason", reason, "trunks", c.allTrunks)
	}
	for _, l := range c.legs {
		if l.ended {
			continue
		}
		lc := cause
		if l == c.a && c.answer.IsZero() && cause == CauseCancelled {
			lc = CauseNormal
		}
		s.endLeg(l, lc, true)
	}
	delete(s.calls, c)
	s.writeCDR(c)
}

func (s *Switch) writeCDR(c *call) {
	r := cdr.Record{ID: c.id, From: c.from.Number, To: c.to, Start: c.start, Answer: c.answer,
		End: s.clk.Now(), Trunk: c.trunk, Cause: c.cause.String()}
	if r.Trunk == "" {
		r.Trunk = c.origin
	}
	switch {
	case !c.answer.IsZero():
		r.Disposition = cdr.Answered
	case c.cause == CauseBusy:
		r.Disposition = cdr.Busy
	case c.cause == CauseNoAnswer:
		r.Disposition = cdr.NoAnswer
	case c.cause == CauseCancelled:
		r.Disposition = cdr.Cancelled
	default:
		r.Disposition = cdr.Failed
	}
	for _, l := range c.legs {
		r.Legs = append(r.Legs, cdr.Leg{Channel: l.cs.ch.Name(), Kind: l.cs.ch.Tech().String(), Party: l.party,
			Trunk: l.trunk, Start: l.start, Answer: l.answer, End: l.end, Cause: l.cause.String()})
	}
	r.Finish()
	s.sink.Write(r)
}

// timers ends or forwards calls that rang too long.
func (s *Switch) timers() {
	if len(s.calls) == 0 {
		return
	}
	now := s.clk.Now()
	s.appTimers(now)
	for _, c := range s.fxs {
		if cs := c.cs; !cs.recall.IsZero() && !now.Before(cs.recall) && cs.cur != nil {
			cs.recall = time.Time{}
			s.end(cs.cur.call, CauseNoAnswer)
		}
	}
	for c := range s.calls {
		if !c.hangupAt.IsZero() {
			if !now.Before(c.hangupAt) {
				s.end(c, CauseFeature)
			}
			continue
		}
		if c.deadline.IsZero() || now.Before(c.deadline) || !c.answer.IsZero() {
			continue
		}
		c.deadline = time.Time{}
		if c.noAnswer != "" {
			if c.b != nil {
				s.endLeg(c.b, CauseNoAnswer, true)
				c.b = nil
			}
			s.forward(c, c.fwdBy, c.noAnswer, c.hops)
			continue
		}
		s.end(c, CauseNoAnswer)
	}
}
