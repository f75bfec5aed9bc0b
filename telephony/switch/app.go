package callswitch

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"callbox/dsp/tone"
	"callbox/telephony/line"
	"callbox/telephony/media"
	"callbox/telephony/sip"
	"callbox/telephony/switch/dialplan"
	"callbox/telephony/switch/moh"
)

// The application API: a call the switch hands to an application (the call
// centre) instead of ringing a phone. The switch keeps the caller's leg up
// in an app call and the application decides the call's topology: it
// answers, plays sources into legs, originates more legs (an agent's phone,
// a supervisor's, an outside number), sets each leg's mode in the call's
// mix, moves legs between app calls, hands a leg back to the ordinary dial
// plan, and hangs legs up. The switch still does all the channel work on
// its own goroutine: every AppCall method only queues work (Do), and the
// application hears back through its AppHandler, called on the switch's
// goroutine, which must not block.
//
// Digits a leg of an app call sends are the application's: finished DTMF
// (RFC 4733, SIP INFO, or in band on an analog line, detected and muted
// there) comes as an AppDigit event and is never relayed to the other legs.

// LegID names a leg of an app call. It is unique in the switch and stays
// with the leg when it moves to another app call.
type LegID uint64

// Mode is how a leg of an app call takes part in the call's audio.
type Mode uint8

// Leg modes.
const (
	// ModeAlone: out of the mix; the leg hears its player, or silence.
	// A leg starts alone.
	ModeAlone Mode = iota
	// ModeTalk: hears the other talkers, is heard by them (and by
	// listeners).
	ModeTalk
	// ModeListen: hears the talkers, heard by nobody (supervisor listen).
	ModeListen
	// ModeWhisper: hears the talkers, heard only by the leg SetMode names
	// (supervisor whisper).
	ModeWhisper
	// ModeHold: out of the mix; hears music on hold, or its player while
	// one plays.
	ModeHold
)

var modeNames = [...]string{"alone", "talk", "listen", "whisper", "hold"}

// String names the mode.
func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("mode(%d)", m)
}

// IncomingKind says where a call offered to the application comes from.
type IncomingKind uint8

// Kinds of incoming calls.
const (
	FromTrunk IncomingKind = iota + 1 // a SIP trunk (To is the DID)
	FromLine                          // an FXO line from the PSTN
	Dialled                           // an extension dialled a number of the application
)

// Incoming is a call offered to the application.
type Incoming struct {
	Kind    IncomingKind
	Channel string // the caller's channel: "fxo1", "fxs2", "sip/<leg id>"
	Tech    Tech
	// Trunk is the SIP trunk or FXO port the call came in on.
	Trunk string
	From  Party
	// To is the DID a trunk call is for, or the number an extension
	// dialled (without a trailing #).
	To string
	// Extension is the calling extension (Dialled).
	Extension string
	// App is the application the dial plan named for the number (Dialled).
	App string
}

// Application is asked about the calls the switch could hand it.
type Application interface {
	// Offer is asked, on the switch's goroutine, about every call from a
	// trunk or a line before the switch rings the line's destination,
	// and about every number the dial plan names as an application's. It
	// returns the handler of the new app call, or nil to leave the call
	// to the switch (a Dialled number left is not found). It must not
	// block.
	Offer(in Incoming) AppHandler
}

// AppHandler receives the events of an app call on the switch's
// goroutine. It must not block; it may call the AppCall's methods, which
// take effect after it returns.
type AppHandler interface {
	AppEvent(c *AppCall, ev AppEvent)
}

// AppEventKind says what happened on an app call.
type AppEventKind uint8

// App call events.
const (
	// AppStarted: the call exists; Leg is the caller's leg (unanswered),
	// zero for a call the application made itself (NewAppCall).
	AppStarted AppEventKind = iota + 1
	// AppRinging: an originated leg is alerting its party.
	AppRinging
	// AppAnswered: an originated leg answered; it is in the mode its
	// Originate asked for.
	AppAnswered
	// AppLegEnded: a leg left the call (hung up, failed, not answered,
	// hung up by the application, moved or handed off), with Cause.
	AppLegEnded
	// AppDigit: a leg sent a DTMF digit (Digit, Duration).
	AppDigit
	// AppFlash: an analog phone on a leg flashed its hook.
	AppFlash
	// AppJoined: a leg another app call moved here (Move) joined, alone.
	AppJoined
	// AppEnded: the call is over (Cause); no event follows.
	AppEnded
)

var appEventNames = [...]string{"", "started", "ringing", "answered", "leg-ended", "digit", "flash", "joined", "ended"}

// String names the event kind.
func (k AppEventKind) String() string {
	if k != 0 && int(k) < len(appEventNames) {
		return appEventNames[k]
	}
	return fmt.Sprintf("app-event(%d)", k)
}

// AppEvent is one event of an app call.
type AppEvent struct {
	Kind  AppEventKind
	Leg   LegID
	Cause Cause
	Digit byte
	// Duration of a digit.
	Duration time.Duration
	// Channel and Tech name the leg's channel (AppStarted, AppAnswered,
	// AppJoined).
	Channel string
	Tech    Tech
	// Party is the leg's party as the switch knows it (its number).
	Party string
}

// Source is audio an application plays into a leg: a prompt, a tone,
// music. ReadFrame is called on the frame clock's goroutine once a tick
// while it plays (it must not block or allocate in steady state); Done
// reports that it has nothing more to play (never, for music).
type Source interface {
	ReadFrame(frame []int16)
	Done() bool
}

// Originate asks for a new leg in an app call.
type Originate struct {
	// Extension rings an extension's phone: its FXS port, or every
	// registered contact of a SIP extension (the first to answer wins).
	Extension string
	// Number, when Extension is empty, is dialled as the extension Via
	// would dial it ("" : as from outside, any route): an extension, or
	// an outside number through a route's trunks.
	Number string
	Via    string
	// CallerID is what the called party's display shows (for an agent, the
	// customer's number); zero takes the route's or the switch's.
	CallerID Party
	// RingTimeout gives up with CauseNoAnswer; 0 takes the extension's or
	// the switch's ring timeout.
	RingTimeout time.Duration
	// Mode (and To for ModeWhisper) is the leg's mode once it answers.
	Mode Mode
	To   LegID
	// AutoAnswer asks a SIP extension's phones to answer by themselves (an
	// agent set to auto-answer); an analog phone must be lifted.
	AutoAnswer bool
}

// ErrAppEnded is what AppCall methods that can fail at once return for a
// call already over.
var ErrAppEnded = errors.New("callswitch: app call has ended")

// AppCall is a call an application controls. Its methods are safe from any
// goroutine and return at once: the work runs on the switch's goroutine,
// in the order asked, and results come as events.
type AppCall struct {
	s  *Switch
	h  AppHandler
	id atomic.Pointer[string]
	// gone is set once the call has ended.
	gone atomic.Bool

	// Owned by the switch's goroutine:
	c     *call
	legs  []*appLeg
	conf  *media.Conference
	ended bool
}

// appLeg is the switch's state of one leg of an app call.
type appLeg struct {
	id LegID
	ac *AppCall
	// l is the leg once it is known for good: the caller's, or the fork
	// of an originated leg that answered; forks are the ringing legs of an
	// originate (several for a SIP extension with several contacts).
	l        *leg
	forks    []*leg
	pending  int // SIP dials not back yet
	answered bool
	ended    bool
	cause    Cause // the last failure of a fork, for the event

	rung     bool      // AppRinging was reported
	upAt     time.Time // when its audio was connected
	mode     Mode
	to       LegID // whisper target
	onAnswer Mode
	onTo     LegID
	player   *appPlayer
	hold     *moh.Player
	deadline time.Time
	tap      *media.Tap

	// An outbound originate through trunks: the number, the trunks not
	// yet tried, the caller ID.
	number   string
	trunks   []string
	callerID Party
	timeout  time.Duration
}

// appPlayer is a Source playing into a leg, with its done callback.
type appPlayer struct {
	src  Source
	done func(finished bool)
}

func (p *appPlayer) ReadFrame(f []int16) { p.src.ReadFrame(f) }
func (p *appPlayer) WriteFrame([]int16)  {}

func (p *appPlayer) finish(ok bool) {
	if p.done != nil {
		p.done(ok)
	}
}

// ID returns the switch's call id (what its CDR says), once the call has
// started; "" before.
func (a *AppCall) ID() string {
	if p := a.id.Load(); p != nil {
		return *p
	}
	return ""
}

// Ended reports whether the call is over.
func (a *AppCall) Ended() bool { return a.gone.Load() }

// SetApplication sets (or with nil removes) the application the switch
// offers calls to, from the next tick on.
func (s *Switch) SetApplication(app Application) {
	s.Do(func() { s.app = app })
}

// SetFrontApplication sets (or with nil removes) an application asked
// about every call before SetApplication's, from the next tick on: a
// service that owns its numbers outright (the fax service's DIDs and
// lines) takes them ahead of the call centre, which routes the rest.
func (s *Switch) SetFrontApplication(app Application) {
	s.Do(func() { s.front = app })
}

// NewAppCall makes an app call with no leg yet (a callback, a click to
// dial): the handler hears AppStarted, then the application originates
// legs. from is what the CDR names as its caller, to its number.
func (s *Switch) NewAppCall(h AppHandler, from Party, to string) *AppCall {
	ac := &AppCall{s: s, h: h}
	s.Do(func() {
		now := s.clk.Now()
		c := &call{id: s.nextID(), origin: "app", from: from, to: to, start: now, app: ac}
		ac.c = c
		ac.id.Store(&c.id)
		s.calls[c] = true
		s.apps[ac] = true
		s.appEmit(ac, AppEvent{Kind: AppStarted})
	})
	return ac
}

// offerApp asks the application about a new call from cs; when it takes
// it, the call is an app call with cs's leg as its caller.
func (s *Switch) offerApp(cs *chanState, in Incoming) bool {
	h := s.askApp(cs, &in)
	if h == nil {
		return false
	}
	c := s.newCall(cs, in.From, in.To)
	c.trunk = in.Trunk
	c.a.trunk = in.Trunk
	s.adoptApp(c, h, in)
	return true
}

// askApp asks the applications about a call from cs (front first) and
// returns the handler of the one that takes it, or nil.
func (s *Switch) askApp(cs *chanState, in *Incoming) AppHandler {
	if s.app == nil && s.front == nil {
		return nil
	}
	in.Channel, in.Tech = cs.ch.Name(), cs.ch.Tech()
	var h AppHandler
	if s.front != nil {
		h = s.front.Offer(*in)
	}
	if h == nil && s.app != nil {
		h = s.app.Offer(*in)
	}
	return h
}

// adoptApp makes c an app call of h with c's caller leg as its caller.
// A caller already answered (a call handed off or forwarded after it was
// answered) is up in the app call at once.
func (s *Switch) adoptApp(c *call, h AppHandler, in Incoming) {
	ac := &AppCall{s: s, h: h}
	c.app = ac
	ac.c = c
	ac.id.Store(&c.id)
	al := &appLeg{id: s.newLegID(), ac: ac, l: c.a}
	c.a.app = al
	ac.legs = append(ac.legs, al)
	s.apps[ac] = true
	s.appEmit(ac, AppEvent{Kind: AppStarted, Leg: al.id, Channel: in.Channel, Tech: in.Tech, Party: in.From.Number})
	if !c.a.answer.IsZero() {
		s.appUp(al, c.a)
	}
}

// forwardApp hands call c, sent on by extension by (forwarding, or an
// application's handoff) to a number of an application, to that
// application; false when it does not take it.
func (s *Switch) forwardApp(c *call, by string, d dialplan.Decision) bool {
	if c.app != nil || c.a == nil || c.a.ended {
		return false
	}
	in := Incoming{Kind: Dialled, From: c.from, To: d.Number, Extension: by, App: d.App, Trunk: c.trunk}
	h := s.askApp(c.a.cs, &in)
	if h == nil {
		return false
	}
	if c.b != nil && !c.b.ended {
		s.endLeg(c.b, CauseNoAnswer, true)
	}
	c.b, c.deadline, c.noAnswer = nil, time.Time{}, ""
	s.adoptApp(c, h, in)
	return true
}

// MediaChannel calls f on the switch's goroutine with the media channel of
// a leg that is up, or nil: for an application that mixes legs of several
// calls itself (a conference room). The leg should stay alone in its own
// call meanwhile, so that the call's mix leaves the channel to the
// application; what is played into the leg still replaces what it hears.
func (a *AppCall) MediaChannel(leg LegID, f func(*media.Channel)) {
	a.s.Do(func() {
		if al := a.leg(leg); al != nil && al.live() && !a.ended {
			f(al.l.cs.mch)
			return
		}
		f(nil)
	})
}

func (s *Switch) newLegID() LegID { return LegID(s.legSeq.Add(1)) }

// appEmit gives the application an event of its call.
func (s *Switch) appEmit(ac *AppCall, ev AppEvent) {
	if ac.ended && ev.Kind != AppEnded {
		return
	}
	ac.h.AppEvent(ac, ev)
}

// do runs f on the switch's goroutine if the call is still up.
func (a *AppCall) do(f func()) {
	a.s.Do(func() {
		if !a.ended && a.c != nil {
			f()
		}
	})
}

func (a *AppCall) leg(id LegID) *appLeg {
	for _, al := range a.legs {
		if al.id == id {
			return al
		}
	}
	return nil
}

// live reports whether the leg is up: answered and not ended.
func (al *appLeg) live() bool { return al.answered && !al.ended && al.l != nil && !al.l.ended }

// Answer answers the caller's leg (an FXO line is seized, a SIP call gets
// its 200 OK, an FXS phone that dialled hears the call) and connects its
// audio; it is then alone until SetMode.
func (a *AppCall) Answer(leg LegID) {
	a.do(func() {
		al := a.leg(leg)
		if al == nil || al.ended || al.answered || al.l == nil {
			return
		}
		s, l := a.s, al.l
		cs := l.cs
		if err := cs.ch.Answer(); err != nil {
			s.appDropLeg(al, CauseFailed, true)
			return
		}
		s.appUp(al, l)
	})
}

// appUp makes l the answered leg of al: its audio connected, digits
// detected on analog lines, its mode applied.
func (s *Switch) appUp(al *appLeg, l *leg) {
	now := s.clk.Now()
	al.answered, al.l, al.deadline, al.upAt = true, l, time.Time{}, now
	if l.answer.IsZero() {
		l.answer = now
	}
	if c := al.ac.c; c.answer.IsZero() {
		c.answer = now
	}
	s.engine.Play(l.cs.mch, nil)
	_ = l.cs.ch.Connect()
	if r, ok := l.cs.ch.(relayer); ok {
		r.setRelay(true) // the application's digits, muted on the line
	}
	s.appMix(al.ac)
}

// Reject refuses the caller's unanswered leg with cause (a SIP caller gets
// the matching answer; an FXO line is left to ring out).
func (a *AppCall) Reject(leg LegID, cause Cause) { a.Hangup(leg, cause) }

// Play plays src into a leg, replacing what it hears until src is done or
// stopped; done (may be nil) is called on the switch's goroutine with
// finished true when src ran out, false when it was stopped, replaced or
// the leg ended. A leg that is not up yet hears it once it is.
func (a *AppCall) Play(leg LegID, src Source, done func(finished bool)) {
	a.s.Do(func() {
		al := a.leg(leg)
		if a.ended || al == nil || al.ended || src == nil {
			if done != nil {
				done(false)
			}
			return
		}
		if p := al.player; p != nil {
			defer p.finish(false)
		}
		al.player = &appPlayer{src: src, done: done}
		a.s.appMix(a)
	})
}

// StopPlay stops what is playing into a leg.
func (a *AppCall) StopPlay(leg LegID) {
	a.do(func() {
		al := a.leg(leg)
		if al == nil || al.player == nil {
			return
		}
		p := al.player
		al.player = nil
		a.s.appMix(a)
		p.finish(false)
	})
}

// SetMode sets a leg's mode; to names the leg a ModeWhisper is heard by.
func (a *AppCall) SetMode(leg LegID, m Mode, to LegID) {
	a.do(func() {
		al := a.leg(leg)
		if al == nil || al.ended {
			return
		}
		if !al.answered {
			al.onAnswer, al.onTo = m, to
			return
		}
		al.mode, al.to = m, to
		a.s.appMix(a)
	})
}

// SendDigits sends DTMF to a leg's party (RFC 4733 where negotiated, in
// band otherwise).
func (a *AppCall) SendDigits(leg LegID, digits string) {
	a.do(func() {
		if al := a.leg(leg); al != nil && al.live() {
			_ = al.l.cs.ch.SendDigits(digits)
		}
	})
}

// SetTap starts (or with nil stops) a recording tap on a leg: its frames
// are what the leg's party says (Rx) and hears (Tx).
func (a *AppCall) SetTap(leg LegID, t *media.Tap) {
	a.do(func() {
		al := a.leg(leg)
		if al == nil || al.ended {
			return
		}
		al.tap = t
		if al.l != nil {
			a.s.engine.SetTap(al.l.cs.mch, t)
		}
	})
}

// Hangup ends a leg (ringing or up) with cause; its party hears why.
func (a *AppCall) Hangup(leg LegID, cause Cause) {
	a.do(func() {
		if al := a.leg(leg); al != nil && !al.ended {
			a.s.appDropLeg(al, cause, true)
		}
	})
}

// End ends the call: every leg is hung up with cause.
func (a *AppCall) End(cause Cause) {
	a.do(func() { a.s.appEnd(a, cause) })
}

// Originate adds a leg to the call: it rings an extension's phone(s) or
// dials a number, with a caller ID and a ring timeout. It returns the
// leg's id at once; AppRinging, AppAnswered or AppLegEnded follow.
func (a *AppCall) Originate(o Originate) LegID {
	id := a.s.newLegID()
	a.s.Do(func() {
		al := &appLeg{id: id, ac: a, onAnswer: o.Mode, onTo: o.To, callerID: o.CallerID, timeout: o.RingTimeout}
		if a.ended || a.c == nil {
			return
		}
		a.legs = append(a.legs, al)
		a.s.appOriginate(al, o)
	})
	return id
}

// appOriginate places an originated leg: an extension's phones, or a
// number through the dial plan.
func (s *Switch) appOriginate(al *appLeg, o Originate) {
	ext := o.Extension
	if ext == "" {
		d := s.plan.Resolve(o.Via, o.Number)
		switch d.Kind {
		case dialplan.Extension:
			ext = d.Number
		case dialplan.Outbound, dialplan.Emergency:
			al.number, al.trunks = d.Number, append([]string(nil), d.Trunks...)
			if al.callerID.Number == "" && d.CallerID != "" {
				al.callerID = Party{Number: d.CallerID}
			}
			s.appArm(al, s.cfg.RingTimeout)
			s.appTryTrunk(al)
			return
		case dialplan.Blocked, dialplan.NoRoute:
			s.appFail(al, CauseBlocked)
			return
		default:
			s.appFail(al, CauseNotFound)
			return
		}
	}
	e := s.exts[ext]
	if e == nil {
		s.appFail(al, CauseNotFound)
		return
	}
	d := e.RingTimeout
	if d <= 0 {
		d = s.cfg.RingTimeout
	}
	s.appArm(al, d)
	if cs := s.chans[e.port]; cs != nil && cs.ch.Tech() != SIP {
		if cs.cur != nil || cs.held != nil {
			s.appFail(al, CauseBusy)
			return
		}
		l := al.ac.c.addLeg(cs, ext, "", s.clk.Now())
		l.app = al
		al.forks = append(al.forks, l)
		cs.cur = l
		if err := cs.ch.Call(ext, al.callerID); err != nil {
			cs.cur = nil
			s.endLeg(l, CauseFailed, false)
			al.forks = al.forks[:0]
			s.appFail(al, CauseBusy)
			return
		}
		s.appRinging(al)
		return
	}
	if s.cfg.SIP == nil {
		s.appFail(al, CauseUnavailable)
		return
	}
	from := sip.Party{User: al.callerID.Number, Display: al.callerID.Name}
	contacts := []string{""}
	if cl, ok := s.cfg.SIP.(contactLister); ok {
		if cs := cl.Contacts(ext); len(cs) > 0 {
			contacts = cs
		}
	}
	for _, ct := range contacts {
		s.appSIPDial(al, sip.DialRequest{Extension: ext, Contact: ct, From: from, RingTimeout: al.timeoutOr(d),
			AutoAnswer: o.AutoAnswer}, ext, "")
	}
}

// contactLister is a SIPDialer that lists an extension's registered
// contacts, so that an agent's softphone and desk phone both ring.
type contactLister interface {
	Contacts(ext string) []string
}

func (al *appLeg) timeoutOr(d time.Duration) time.Duration {
	if al.timeout > 0 {
		return al.timeout
	}
	return d
}

// appArm starts the originated leg's ring timer.
func (s *Switch) appArm(al *appLeg, d time.Duration) {
	al.deadline = s.clk.Now().Add(al.timeoutOr(d))
}

// appTryTrunk tries the next trunk of an outbound originate.
func (s *Switch) appTryTrunk(al *appLeg) {
	for len(al.trunks) > 0 {
		t := al.trunks[0]
		al.trunks = al.trunks[1:]
		if cs := s.chans[t]; cs != nil {
			if cs.ch.Tech() != FXO || cs.cur != nil || !cs.ch.(*fxoChan).idle() {
				continue
			}
			l := al.ac.c.addLeg(cs, al.number, t, s.clk.Now())
			l.app = al
			al.forks = append(al.forks[:0], l)
			cs.cur = l
			if err := cs.ch.Call(al.number, al.callerID); err != nil {
				cs.cur = nil
				s.endLeg(l, CauseFailed, false)
				al.forks = al.forks[:0]
				continue
			}
			if al.ac.c.trunk == "" {
				al.ac.c.trunk = t
			}
			s.appRinging(al)
			return
		}
		if s.cfg.SIP != nil {
			from := sip.Party{User: al.callerID.Number, Display: al.callerID.Name}
			s.appSIPDial(al, sip.DialRequest{Trunk: t, Number: al.number, From: from}, al.number, t)
			return
		}
	}
	cause := al.cause
	if cause == 0 {
		cause = CauseCongestion
	}
	s.appFail(al, cause)
}

// appSIPDial places one SIP fork of an originated leg.
func (s *Switch) appSIPDial(al *appLeg, req sip.DialRequest, party, trunk string) {
	dialer := s.cfg.SIP
	s.dialling++
	al.pending++
	s.goSIP(func() {
		l, err := dialer.Dial(context.Background(), req)
		s.Do(func() {
			defer s.dialled()
			al.pending--
			if err != nil {
				cause := CauseUnavailable
				if trunk != "" {
					cause = CauseCongestion
				}
				s.appForkGone(al, nil, cause)
				return
			}
			cs := s.sipChannel(l)
			if cs == nil || al.ended || al.answered {
				s.goSIP(func() { _ = l.Hangup() })
				if cs != nil {
					s.removeChannel(cs)
				}
				if cs == nil {
					s.appForkGone(al, nil, CauseFailed)
				}
				return
			}
			lg := al.ac.c.addLeg(cs, party, trunk, s.clk.Now())
			lg.app = al
			al.forks = append(al.forks, lg)
			cs.cur = lg
			if trunk != "" && al.ac.c.trunk == "" {
				al.ac.c.trunk = trunk
			}
			s.catchUp(l.ID(), cs)
		})
	})
}

// appRinging reports, once, that an originated leg alerts its party.
func (s *Switch) appRinging(al *appLeg) {
	if al.rung || al.ended || al.answered {
		return
	}
	al.rung = true
	s.appEmit(al.ac, AppEvent{Kind: AppRinging, Leg: al.id})
}

// appFail ends an originated leg that could not be placed.
func (s *Switch) appFail(al *appLeg, cause Cause) {
	if al.ended {
		return
	}
	for _, f := range al.forks {
		s.endLeg(f, cause, true)
	}
	al.forks = nil
	al.ended, al.deadline = true, time.Time{}
	s.appLegDone(al, cause)
}

// appForkGone: one ringing fork of an originated leg ended (nil: a dial
// that failed before it had a leg). The last one to go fails the leg,
// unless an outbound originate has another trunk to try.
func (s *Switch) appForkGone(al *appLeg, l *leg, cause Cause) {
	if l != nil {
		s.endLeg(l, cause, false)
		for i, f := range al.forks {
			if f == l {
				al.forks = append(al.forks[:i], al.forks[i+1:]...)
				break
			}
		}
	}
	if al.ended || al.answered {
		return
	}
	if al.cause == 0 || cause == CauseBusy {
		al.cause = cause
	}
	if len(al.forks) > 0 || al.pending > 0 {
		return
	}
	if len(al.trunks) > 0 && cause != CauseBusy {
		s.appTryTrunk(al)
		return
	}
	s.appFail(al, al.cause)
}

// appAnswered: the party of l, a fork of an originated leg, answered. The
// other forks stop ringing.
func (s *Switch) appAnswered(l *leg) {
	al := l.app
	if al.ended || al.answered || al.ac.ended {
		return
	}
	for _, f := range al.forks {
		if f != l {
			s.endLeg(f, CausePickedUp, true)
		}
	}
	al.forks = nil
	al.mode, al.to = al.onAnswer, al.onTo
	s.appUp(al, l)
	s.appEmit(al.ac, AppEvent{Kind: AppAnswered, Leg: al.id, Channel: l.cs.ch.Name(), Tech: l.cs.ch.Tech(), Party: l.party})
}

// appPartyGone: the party of l (a leg of an app call) hung up or failed.
func (s *Switch) appPartyGone(l *leg, cause Cause) {
	al := l.app
	switch {
	case al.ended || (al.answered && al.l != l):
		s.endLeg(l, cause, false) // a fork the answer already cut
	case al.l == l:
		if !al.answered {
			cause = CauseCancelled // the caller gave up before the answer
		}
		s.appDropLeg(al, cause, false)
	default:
		s.appForkGone(al, l, cause)
	}
}

// appDropLeg ends a leg of an app call; notify tells its channel (the
// application or the switch hung it up, rather than its party).
func (s *Switch) appDropLeg(al *appLeg, cause Cause, notify bool) {
	if al.ended {
		return
	}
	s.appTearDown(al, cause, notify)
	s.appLegDone(al, cause)
}

// appTearDown ends a leg's channel work: its ringing forks, or the leg
// itself (notify: its party is told).
func (s *Switch) appTearDown(al *appLeg, cause Cause, notify bool) {
	al.ended, al.deadline = true, time.Time{}
	for _, f := range al.forks {
		s.endLeg(f, cause, true)
	}
	al.forks = nil
	if l := al.l; l != nil && !l.ended {
		if r, ok := l.cs.ch.(relayer); ok {
			r.setRelay(false)
		}
		s.endLeg(l, cause, notify)
	}
}

// appLegDone reports an ended leg, re-mixes the rest, and ends the call
// once no leg is left.
func (s *Switch) appLegDone(al *appLeg, cause Cause) {
	ac := al.ac
	if p := al.player; p != nil {
		al.player = nil
		defer p.finish(false)
	}
	s.appMix(ac)
	s.appEmit(ac, AppEvent{Kind: AppLegEnded, Leg: al.id, Cause: cause})
	for _, x := range ac.legs {
		if !x.ended {
			return
		}
	}
	s.appEnd(ac, cause)
}

// appEnd ends an app call: the legs still up hang up, the CDR is written
// and the application hears AppEnded.
func (s *Switch) appEnd(ac *AppCall, cause Cause) {
	if ac.ended {
		return
	}
	for _, al := range ac.legs {
		if !al.ended {
			s.appTearDown(al, cause, true)
			if p := al.player; p != nil {
				al.player = nil
				defer p.finish(false)
			}
		}
	}
	ac.ended = true
	ac.gone.Store(true)
	delete(s.apps, ac)
	s.end(ac.c, cause)
	s.appEmit(ac, AppEvent{Kind: AppEnded, Cause: cause})
}

// appMix sets the call's audio from its legs' modes and players: the legs
// up in talk, listen or whisper mode make one conference (when there are
// two of them), every leg hears its player or, on hold, music.
func (s *Switch) appMix(ac *AppCall) {
	var ms []media.Member
	in := make(map[*media.Channel]bool)
	for _, al := range ac.legs {
		if !al.live() {
			continue
		}
		m := media.Member{Channel: al.l.cs.mch}
		switch al.mode {
		case ModeTalk:
		case ModeListen:
			m.Role = media.Listen
		case ModeWhisper:
			m.Role = media.Whisper
			if t := ac.leg(al.to); t != nil && t.live() {
				m.To = t.l.cs.mch
			}
		default:
			continue
		}
		ms = append(ms, m)
		in[m.Channel] = true
	}
	if k := ac.conf; k != nil {
		// Whoever is no longer in the mix leaves it (all of them when one
		// talker is left: alone, it hears silence).
		for _, c := range k.Members() {
			if len(ms) < 2 || !in[c] {
				k.Leave(c)
			}
		}
		ac.conf = nil
	}
	if len(ms) >= 2 {
		if k, err := s.engine.ConferenceOf(ms...); err == nil {
			ac.conf = k
		}
	}
	for _, al := range ac.legs {
		if !al.live() {
			continue
		}
		mch := al.l.cs.mch
		switch {
		case al.player != nil:
			s.engine.Play(mch, al.player)
		case al.mode == ModeHold:
			if al.hold == nil {
				al.hold = &moh.Player{}
			}
			s.engine.Play(mch, al.hold)
		default:
			s.engine.Play(mch, nil)
		}
	}
}

// appTimers runs the app calls' clocks on each tick: players that ran out
// and originated legs that rang too long.
func (s *Switch) appTimers(now time.Time) {
	if len(s.apps) == 0 {
		return
	}
	var done []*appPlayer
	var late []*appLeg
	for ac := range s.apps {
		changed := false
		for _, al := range ac.legs {
			if p := al.player; p != nil && p.src.Done() {
				al.player = nil
				done = append(done, p)
				changed = true
			}
			if !al.ended && !al.answered && !al.deadline.IsZero() && !now.Before(al.deadline) {
				late = append(late, al)
			}
		}
		if changed {
			s.appMix(ac)
		}
	}
	for _, p := range done {
		p.finish(true)
	}
	for _, al := range late {
		if !al.ended && !al.answered && !al.ac.ended {
			al.trunks = nil
			s.appFail(al, CauseNoAnswer)
		}
	}
}

// appDigit gives the application a digit a leg sent.
func (s *Switch) appDigit(l *leg, digit byte, dur time.Duration) {
	al := l.app
	if al.ended || al.l != l || al.ac.ended {
		return
	}
	if l.cs.ch.Tech() == FXS && s.clk.Now().Add(-dur).Before(al.upAt.Add(digitGuard)) {
		// The tail of the last digit dialled before the leg came up (an
		// FXS phone's feature code): the line heard it already.
		return
	}
	s.appEmit(al.ac, AppEvent{Kind: AppDigit, Leg: al.id, Digit: digit, Duration: dur})
}

// digitGuard is how soon after an analog leg comes up a digit may start
// and still count: a digit dialled to reach the application sounds on
// for up to 100 ms after the line took it.
const digitGuard = 150 * time.Millisecond

// appFlash: an analog phone in an app call flashed. The line offered dial
// tone for a second call; the call goes on as it was and the application
// hears of the flash.
func (s *Switch) appFlash(cs *chanState, f line.Feature) {
	l := cs.cur
	al := l.app
	if f == line.FeatureHold {
		_ = cs.ch.Connect()
	}
	if al.ended || al.ac.ended {
		return
	}
	s.appEmit(al.ac, AppEvent{Kind: AppFlash, Leg: al.id})
}

// Move takes a leg out of this call into another app call (a transfer
// between services): it ends here with CauseTransferred and joins to,
// alone, with AppJoined. A call left with no leg ends.
func (a *AppCall) Move(leg LegID, to *AppCall) {
	a.s.Do(func() {
		s := a.s
		al := a.leg(leg)
		if a.ended || to == nil || to == a || to.ended || to.c == nil || al == nil || !al.live() {
			return
		}
		l := al.l
		cs := l.cs
		now := s.clk.Now()
		l.ended, l.end, l.cause = true, now, CauseTransferred
		nl := to.c.addLeg(cs, l.party, l.trunk, now)
		nl.answer = now
		cs.cur = nl
		nal := &appLeg{id: al.id, ac: to, l: nl, answered: true, tap: al.tap}
		nl.app = nal
		to.legs = append(to.legs, nal)
		if to.c.answer.IsZero() {
			to.c.answer = now
		}
		al.ended = true
		s.appLegDone(al, CauseTransferred)
		s.appMix(to)
		s.appEmit(to, AppEvent{Kind: AppJoined, Leg: nal.id, Channel: cs.ch.Name(), Tech: cs.ch.Tech(), Party: nl.party})
	})
}

// Handoff takes a leg out of the app call and dials number for its party
// as extension as would dial it ("" : as from outside): a blind transfer
// into the ordinary dial plan. The leg ends here with CauseTransferred. A
// caller not answered yet stays so until the number answers (a route to
// an extension).
func (a *AppCall) Handoff(leg LegID, number, as string) {
	a.do(func() {
		s := a.s
		al := a.leg(leg)
		if al == nil || al.ended || al.l == nil || al.l.ended {
			return
		}
		up := al.answered
		l := al.l
		cs := l.cs
		now := s.clk.Now()
		l.ended, l.end, l.cause = true, now, CauseTransferred
		cs.cur = nil
		al.ended = true
		s.engine.Play(cs.mch, nil)
		if r, ok := cs.ch.(relayer); ok {
			r.setRelay(false)
		}
		nc := &call{id: s.nextID(), origin: cs.ch.Name(), from: Party{Number: l.party}, to: number, start: now, fromEx: as}
		nc.a = nc.addLeg(cs, l.party, l.trunk, now)
		nc.trunk = l.call.trunk
		cs.cur = nc.a
		s.calls[nc] = true
		s.appLegDone(al, CauseTransferred)
		if up {
			nc.a.answer = now
			if src, err := newToneSource(s.cfg.Country, tone.Ringback); err == nil {
				s.engine.Play(cs.mch, src)
			}
		}
		s.forward(nc, as, number, 0)
	})
}

// ToneSource returns a Source playing a tone of the switch's country plan
// (tone.Ringback, tone.Busy, ...); cadenced tones never end.
func (s *Switch) ToneSource(name string) (Source, error) {
	src, err := newToneSource(s.cfg.Country, name)
	if err != nil {
		return nil, fmt.Errorf("callswitch: %w", err)
	}
	return src, nil
}

// Done implements Source: a tone ends only if it has a finite cadence.
func (t *toneSource) Done() bool { return t.g.Done() }

// Beep returns a Source of one beep (hz for d), the short tone an agent
// hears when a call is connected.
func Beep(hz float64, d time.Duration) Source {
	t := tone.Tone{Name: "beep", Segments: []tone.Segment{{Freqs: []tone.Component{{Hz: hz, Level: -13}}, MS: int(d / time.Millisecond)}}, Repeat: 1}
	return &toneSource{g: tone.NewGenerator(t)}
}

// MusicOnHold returns a Source of the switch's music on hold.
func MusicOnHold() Source { return mohSource{&moh.Player{}} }

type mohSource struct{ *moh.Player }

func (mohSource) Done() bool { return false }

// Progress: an outbound SIP leg alerts (180) or sends early media (183).
// A fork of an app call's originate reports AppRinging; ordinary calls
// play their own ringback and need nothing.
func (h SIPEvents) Progress(l SIPLeg, _ int, _ bool) {
	h.onLeg(l, func(cs *chanState) {
		if al := cs.cur.app; al != nil {
			h.s.appRinging(al)
		}
	})
}

// appRefer declines a REFER from a leg of an app call: its transfers are
// the application's to make (the agent's * menu or desk).
func (s *Switch) appRefer(cs *chanState) bool {
	if cs.cur == nil || cs.cur.app == nil {
		return false
	}
	leg := cs.ch.(*sipChan).leg
	s.goSIP(func() { _ = leg.NotifyTransfer(603, "Declined") })
	return true
}

// Contacts implements contactLister for an endpoint that lists an
// extension's registered contacts (*sip.Endpoint does).
func (d sipDialer) Contacts(ext string) []string {
	cl, ok := d.ep.(interface {
		Contacts(ext string) []sip.Registration
	})
	if !ok {
		return nil
	}
	var out []string
	for _, r := range cl.Contacts(ext) {
		out = append(out, r.Contact)
	}
	return out
}

// IsExtension reports whether n is one of the switch's extensions. It is
// safe from any goroutine.
func (s *Switch) IsExtension(n string) bool { return s.isKnown(n) }
