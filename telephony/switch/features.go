package callswitch

import (
	"time"

	"callbox/dsp/tone"
	"callbox/telephony/line"
	"callbox/telephony/switch/dialplan"
	"callbox/telephony/switch/moh"
)

// other returns the far leg of l's call.
func other(l *leg) *leg {
	if l == nil {
		return nil
	}
	c := l.call
	switch l {
	case c.a:
		return c.b
	case c.b:
		return c.a
	}
	return nil
}

// featureCode carries out a feature code dialled in call c and confirms it
// to the caller (stutter tone on a phone), or refuses it (congestion).
func (s *Switch) featureCode(c *call, d dialplan.Decision) {
	e := s.exts[c.fromEx]
	if e == nil {
		s.fail(c, CauseNotFound)
		return
	}
	if d.Feature.TakesNumber() {
		t := s.plan.Resolve(e.Number, d.Number)
		ok := t.Kind == dialplan.Outbound || t.Kind == dialplan.Emergency ||
			(t.Kind == dialplan.Extension && t.Number != e.Number)
		if !ok {
			s.fail(c, CauseNotFound)
			return
		}
	}
	switch d.Feature {
	case dialplan.DNDOn:
		e.DND = true
	case dialplan.DNDOff:
		e.DND = false
	case dialplan.ForwardAll:
		e.ForwardAll = d.Number
	case dialplan.ForwardAllOff:
		e.ForwardAll = ""
	case dialplan.ForwardBusy:
		e.ForwardBusy = d.Number
	case dialplan.ForwardBusyOff:
		e.ForwardBusy = ""
	case dialplan.ForwardNoAnswer:
		e.ForwardNoAnswer = d.Number
	case dialplan.ForwardNoAnswerOff:
		e.ForwardNoAnswer = ""
	}
	s.changed(e)
	now := s.clk.Now()
	c.answer, c.a.answer = now, now
	if c.a.cs.ch.Tech() == SIP {
		s.confirmFeature(c)
		return
	}
	s.end(c, CauseFeature) // an analog phone hears the confirmation as it is released
}

// featureConfirm is how long a SIP phone hears the confirmation of its
// feature code before the box hangs up.
const featureConfirm = 2 * time.Second

// confirmFeature answers a SIP phone's accepted feature code with 200 OK,
// plays it the confirmation tone (the stutter tone analog phones hear)
// for featureConfirm, then hangs up with BYE. Phones show an answered call
// that ended as a normal call, the way PBXes answer *76 and play "feature
// activated"; a 183 with the tone and then a final response would end
// every successful feature code on most phones' error screen ("call
// failed", or the response's reason), and a 200 after 183 is a call
// anyway.
func (s *Switch) confirmFeature(c *call) {
	c.cause = CauseFeature
	cs := c.a.cs
	if err := cs.ch.Answer(); err != nil {
		s.end(c, CauseFeature)
		return
	}
	if src, err := newToneSource(s.cfg.Country, tone.Stutter); err == nil {
		s.engine.Play(cs.mch, src)
	}
	_ = cs.ch.Connect()
	c.hangupAt = c.answer.Add(featureConfirm)
}

// pickup answers, from cs, the oldest call ringing another extension.
func (s *Switch) pickup(cs *chanState) {
	var found *call
	for c := range s.calls {
		b := c.b
		if b == nil || b.ended || b.cs == cs || !c.answer.IsZero() || b.cs.ext == "" || b.cs.cur != b {
			continue
		}
		if found == nil || c.start.Before(found.start) {
			found = c
		}
	}
	if found == nil {
		c := s.newCall(cs, Party{Number: cs.ext}, s.plan.Features().Pickup)
		s.fail(c, CauseNotFound)
		return
	}
	s.endLeg(found.b, CausePickedUp, true)
	l := found.addLeg(cs, cs.ext, "", s.clk.Now())
	found.b, cs.cur = l, l
	s.answered(cs)
}

// hold puts the far party of cs's current leg on hold with music.
func (s *Switch) hold(cs *chanState) {
	l := cs.cur
	cs.held, cs.cur = l, nil
	if far := other(l); far != nil && !far.ended {
		s.engine.Play(far.cs.mch, &moh.Player{})
		_ = far.cs.ch.Indicate(Hold)
	}
}

// unhold returns cs to its held call.
func (s *Switch) unhold(cs *chanState) {
	h := cs.held
	cs.held, cs.conf, cs.swap = nil, false, false
	far := other(h)
	if h == nil || h.ended || far == nil || far.ended {
		_ = cs.ch.Hangup(CauseNormal)
		return
	}
	cs.cur = h
	_ = far.cs.ch.Indicate(Unhold)
	s.bridge(h, far)
}

// dropCurrent ends cs's current call (the consultation) without telling
// cs, which goes on with another call.
func (s *Switch) dropCurrent(cs *chanState, cause Cause) {
	l := cs.cur
	if l == nil {
		return
	}
	cs.cur = nil
	s.endLeg(l, cause, false)
	c := l.call
	if c.answer.IsZero() {
		cause = CauseCancelled
	}
	s.end(c, cause)
}

// flashFeature carries out what an FXS phone asked for with its hook.
func (s *Switch) flashFeature(cs *chanState, f line.Feature) {
	if cs.cur != nil && cs.cur.app != nil {
		s.appFlash(cs, f)
		return
	}
	switch f {
	case line.FeatureHold:
		if cs.cur == nil {
			return
		}
		if cs.swap && cs.held != nil {
			// Two calls after call waiting: the flash switches them.
			cur, held := cs.cur, cs.held
			cs.held, cs.cur = nil, nil
			if far := other(cur); far != nil && !far.ended {
				s.engine.Play(far.cs.mch, &moh.Player{})
				_ = far.cs.ch.Indicate(Hold)
			}
			cs.held = held
			s.unhold(cs)
			cs.held, cs.swap = cur, true
			return
		}
		s.hold(cs)
	case line.FeatureResume:
		s.dropCurrent(cs, CauseNormal)
		s.unhold(cs)
	case line.FeatureConference:
		h, l := cs.held, cs.cur
		fh, fl := other(h), other(l)
		if fh == nil || fl == nil || fh.ended || fl.ended {
			return
		}
		s.engine.Play(fh.cs.mch, nil)
		_ = fh.cs.ch.Indicate(Unhold)
		if _, err := s.engine.Conference(cs.mch, fh.cs.mch, fl.cs.mch); err != nil {
			return
		}
		cs.conf = true
		// In a conference DTMF stays in the mixed audio.
		for _, x := range []*chanState{cs, fh.cs, fl.cs} {
			setRelays(x, nil)
		}
		_ = cs.ch.Connect()
		_ = fh.cs.ch.Connect()
		_ = fl.cs.ch.Connect()
	case line.FeatureDropThird:
		cs.conf = false
		s.dropCurrent(cs, CauseNormal)
		s.unhold(cs)
	case line.FeatureTransfer:
		s.transfer(cs)
	case line.FeatureAnswerWaiting:
		w := cs.wait
		cs.wait = nil
		if w == nil || w.ended {
			if cs.cur != nil {
				s.bridge(cs.cur, other(cs.cur))
			}
			return
		}
		if cs.cur != nil {
			s.hold(cs)
			cs.swap = true
		}
		cs.cur = w
		s.answered(cs)
	}
}

// transfer joins cs's held party with its consulted party and takes cs
// out of both calls: attended when the consulted party has answered,
// blind (the held party hears ringback) while it still rings.
func (s *Switch) transfer(cs *chanState) {
	h, l := cs.held, cs.cur
	cs.held, cs.cur, cs.conf = nil, nil, false
	s.engine.Remove(cs.mch)
	s.readd(cs)
	if h == nil || l == nil {
		for _, x := range []*leg{h, l} {
			if x != nil {
				s.legGone(x, CauseNormal)
			}
		}
		return
	}
	s.join(h, l)
}

// join ends the transferor's legs h (whose far party moves) and l (in
// the call the far party moves into) and puts h's far party in l's place.
func (s *Switch) join(h, l *leg) {
	b, c2 := other(h), l.call
	s.endLeg(h, CauseTransferred, false)
	s.endLeg(l, CauseTransferred, false)
	if b == nil || b.ended {
		s.end(h.call, CauseNormal)
		s.end(c2, CauseNormal)
		return
	}
	// The held party leaves the first call and takes cs's place in the
	// second.
	bcs := b.cs
	bcs.cur = nil
	b.ended, b.end, b.cause = true, s.clk.Now(), CauseTransferred
	s.end(h.call, CauseTransferred)
	now := s.clk.Now()
	nb := c2.addLeg(bcs, b.party, b.trunk, now)
	nb.answer = now
	bcs.cur = nb
	if c2.a == l {
		c2.a = nb
	} else {
		c2.b = nb
	}
	far := other(nb)
	_ = bcs.ch.Indicate(Unhold)
	if far != nil && !far.ended && !c2.answer.IsZero() {
		s.bridge(nb, far)
		return
	}
	// Still ringing: the transferred party hears ringback until the
	// answer bridges them.
	s.engine.Play(bcs.mch, nil)
	if bcs.ch.Tech() == FXS {
		_ = bcs.ch.Indicate(Ringback)
	} else if src, err := newToneSource(s.cfg.Country, tone.Ringback); err == nil {
		s.engine.Play(bcs.mch, src)
	}
}

// toneSource plays a tone of the country's plan into a leg.
type toneSource struct{ g *tone.Generator }

func newToneSource(country, name string) (*toneSource, error) {
	p, err := tone.PlanFor(country)
	if err != nil {
		return nil, err
	}
	t, err := p.Tone(name)
	if err != nil {
		return nil, err
	}
	return &toneSource{g: tone.NewGenerator(t)}, nil
}

// ReadFrame gives the next frame of the tone.
func (t *toneSource) ReadFrame(f []int16) {
	n := t.g.Read(f)
	clear(f[n:])
}

// WriteFrame discards the leg's audio.
func (t *toneSource) WriteFrame([]int16) {}
