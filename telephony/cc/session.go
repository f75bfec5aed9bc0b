package cc

import (
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/ccconf"
	"callbox/telephony/fax"
	callswitch "callbox/telephony/switch"
)

// sessKind is what a session is for.
type sessKind uint8

const (
	kindInbound  sessKind = iota + 1 // a customer's call from a trunk, a line or an internal number
	kindCode                         // an extension dialled a feature code
	kindCallback                     // the box calls an agent, then a customer back
	kindOutbound                     // an agent's call out (click to dial)
	kindNotify                       // the box calls a voicemail box's owner (media.go)
)

// role is a leg's part in a session.
type role uint8

const (
	roleCaller     role = iota + 1 // the customer (or the phone that dialled a code)
	roleAgent                      // an agent rung for the call, then serving it
	roleThird                      // a third party: consultation, conference, transfer target
	roleSupervisor                 // a supervisor monitoring
)

// legInfo is a leg as the service knows it.
type legInfo struct {
	id      callswitch.LegID
	role    role
	agent   acd.AgentID // roleAgent (and a supervisor who is an agent)
	channel string
	tech    callswitch.Tech
	party   string
	up      bool
	mode    callswitch.Mode
	rung    time.Time
}

// phase is where a customer's call is.
type phase uint8

const (
	phaseNew      phase = iota // offered, not answered yet
	phaseIVR                   // a flow runs on the caller
	phaseQueued                // waiting in the ACD
	phaseService               // talking with an agent
	phaseAfter                 // the agent left: survey or goodbye
	phaseCallback              // a callback session dialling
	phaseOutbound              // an agent's outbound call dialling
)

// session is one app call of the service, owned by the loop.
type session struct {
	id     string
	kind   sessKind
	ac     *callswitch.AppCall
	in     callswitch.Incoming
	legs   map[callswitch.LegID]*legInfo
	caller callswitch.LegID
	number string // the customer's number
	phase  phase
	ended  bool
	flow   string // the flow the call came in through
	start  time.Time

	// The queue: the group it waits in (for its options), and the agents
	// rung for it with their legs.
	group int
	inACD bool
	rings map[acd.AgentID]callswitch.LegID
	// stopped: a supervisor stopped the request; capped: the flow's own
	// maximum wait ran out.
	stopped, capped bool
	// served is the agent who served the call, once the service is over.
	served acd.AgentID

	// The service: the agent and their leg, the third party, the
	// supervisors monitoring.
	agent    acd.AgentID
	agentLeg callswitch.LegID
	third    callswitch.LegID
	thirdFor string // "consult", "conference" or "transfer"
	held     bool
	menu     menu
	monitors map[callswitch.LegID]*monitor
	// rec records the service when the group asks for it.
	rec Recording
	// pendingJoin is a supervisor's leg being moved here from their
	// feature code call.
	pendingJoin *monitor

	// dlg is the dialogue running on the caller (a flow, a feature code),
	// if any.
	dlg *dialog
	// cb is a callback's or an outbound call's state.
	cb *callbackState
	// notify is a voicemail notification call's state.
	notify *notifyState
	// cng listens for a fax machine calling on the caller; faxing: a
	// fax runs on the caller (fax.go).
	cng    *fax.Detector
	faxing bool
}

func (s *Service) newSession(ac *callswitch.AppCall, kind sessKind) *session {
	ses := &session{id: s.newID(), kind: kind, ac: ac, legs: map[callswitch.LegID]*legInfo{},
		rings: map[acd.AgentID]callswitch.LegID{}, monitors: map[callswitch.LegID]*monitor{}, start: s.clock.Now()}
	s.sessions[ac] = ses
	s.byID[ses.id] = ses
	return ses
}

// appEvent handles a switch event of one of the service's app calls, on
// the loop.
func (s *Service) appEvent(c *callswitch.AppCall, ev callswitch.AppEvent, in callswitch.Incoming) {
	ses := s.sessions[c]
	if ev.Kind == callswitch.AppStarted && ses == nil && ev.Leg != 0 {
		s.offered(c, ev, in)
		return
	}
	if ses == nil {
		if ev.Kind != callswitch.AppEnded && ev.Kind != callswitch.AppStarted {
			c.End(callswitch.CauseFailed) // an app call the service no longer knows
		}
		return
	}
	li := ses.legs[ev.Leg]
	switch ev.Kind {
	case callswitch.AppStarted:
		s.started(ses)
	case callswitch.AppRinging:
		if li != nil && li.rung.IsZero() {
			li.rung = s.clock.Now()
		}
	case callswitch.AppAnswered, callswitch.AppJoined:
		if li == nil {
			if ev.Kind == callswitch.AppJoined {
				s.joined(ses, ev)
			}
			return
		}
		li.up, li.channel, li.tech, li.party = true, ev.Channel, ev.Tech, ev.Party
		s.legAnswered(ses, li)
	case callswitch.AppDigit:
		if li != nil {
			s.digit(ses, li, ev.Digit)
		}
	case callswitch.AppFlash:
		if li != nil && li.role == roleAgent && ses.phase == phaseService {
			s.toggleHold(ses)
		}
	case callswitch.AppLegEnded:
		if li != nil {
			delete(ses.legs, ev.Leg)
			s.legEnded(ses, li, ev.Cause)
		}
	case callswitch.AppEnded:
		s.ended(ses, ev.Cause)
	}
}

// offered: a call the router took has started in the switch.
func (s *Service) offered(c *callswitch.AppCall, ev callswitch.AppEvent, in callswitch.Incoming) {
	cfg := s.cfg.Load()
	ses := s.newSession(c, kindInbound)
	ses.caller = ev.Leg
	ses.number = ev.Party
	if in.Kind != callswitch.Dialled {
		ses.number = national(ev.Party)
	}
	ses.legs[ev.Leg] = &legInfo{id: ev.Leg, role: roleCaller, channel: ev.Channel, tech: ev.Tech, party: ev.Party}
	ses.in = in
	if in.Kind == callswitch.Dialled && isCode(cfg, in.To) {
		ses.kind = kindCode
		s.featureCode(ses, in)
		return
	}
	if in.Kind == callswitch.Dialled && s.isRoom(in.To) {
		ses.kind = kindCode
		s.joinRoom(ses, in.To)
		return
	}
	s.publish(ccevent.Event{Type: ccevent.CallOffered, Call: ses.id, Number: ses.number,
		Detail: map[string]string{"called": in.To, "trunk": in.Trunk, "channel": in.Channel}})
	if in.Kind != callswitch.Dialled && cfg.BlockedIn(ses.number) {
		s.log.Info("blacklisted caller refused", "number", ses.number, "trunk", in.Trunk)
		s.publish(ccevent.Event{Type: ccevent.CallEnded, Call: ses.id, Number: ses.number, Reason: "blacklisted"})
		c.Reject(ev.Leg, callswitch.CauseBlocked)
		return
	}
	t, ok := target(cfg, in, s.opts.LineTrunk)
	if !ok {
		c.Reject(ev.Leg, callswitch.CauseNotFound)
		return
	}
	s.routeCall(ses, t)
}

// routeCall sends a new customer's call to its route's target.
func (s *Service) routeCall(ses *session, t ccconf.Target) {
	if t.Kind != ccconf.TargetExtension && t.Kind != ccconf.TargetFax && t.Kind != ccconf.TargetRoom {
		s.listenForFax(ses) // the box answers: a fax machine may be calling
	}
	switch t.Kind {
	case ccconf.TargetExtension:
		ses.ac.Handoff(ses.caller, t.Extension, "")
	case ccconf.TargetRoom:
		if s.isRoom(t.Room) {
			s.joinRoom(ses, t.Room)
			return
		}
		s.log.Warn("inbound route to a conference room that is not there", "room", t.Room, "call", ses.id)
		ses.ac.Answer(ses.caller)
		s.startDialog(ses, func(d *dialog) {
			_ = d.sayQuiet(promptUnavailable)
			d.hangup()
		})
	case ccconf.TargetFlow:
		ses.ac.Answer(ses.caller)
		ses.flow = t.Flow
		s.runFlow(ses, t.Flow, "")
	case ccconf.TargetGroup:
		ses.ac.Answer(ses.caller)
		s.runQueue(ses, t.Group)
	case ccconf.TargetVoicemail:
		ses.ac.Answer(ses.caller)
		s.startDialog(ses, func(d *dialog) {
			_ = d.voicemail(t.Mailbox)
			// A dialogue stopped for another (the fax receiver, when a
			// fax machine is heard) leaves the caller to it.
			if d.ctx.Err() == nil {
				d.hangup()
			}
		})
	case ccconf.TargetFax:
		ses.ac.Answer(ses.caller)
		s.receiveFax(ses)
		return
	default:
		ses.ac.Answer(ses.caller)
		s.startDialog(ses, func(d *dialog) {
			_ = d.sayQuiet(promptUnavailable)
			d.hangup()
		})
	}
}

// started: an app call the service made itself (a callback, an outbound
// call) exists.
func (s *Service) started(ses *session) {
	switch ses.kind {
	case kindCallback:
		s.callbackStarted(ses)
	case kindOutbound:
		s.outboundStarted(ses)
	case kindNotify:
		s.notifyStarted(ses)
	}
}

// legAnswered: an originated leg answered.
func (s *Service) legAnswered(ses *session, li *legInfo) {
	if ses.kind == kindNotify {
		s.notifyAnswered(ses)
		return
	}
	switch li.role {
	case roleAgent:
		s.agentAnswered(ses, li)
	case roleThird:
		s.thirdAnswered(ses, li)
	case roleSupervisor:
		s.monitorAnswered(ses, li)
	case roleCaller:
		switch ses.kind {
		case kindCallback:
			s.callbackCustomerAnswered(ses, li)
		case kindOutbound:
			s.outboundCustomerAnswered(ses, li)
		}
	}
}

// legEnded: a leg left the call.
func (s *Service) legEnded(ses *session, li *legInfo, cause callswitch.Cause) {
	if ses.kind == kindNotify {
		s.notifyGone(ses, cause)
		return
	}
	switch li.role {
	case roleCaller:
		s.callerGone(ses, cause)
	case roleAgent:
		s.agentLegGone(ses, li, cause)
	case roleThird:
		s.thirdGone(ses, li, cause)
	case roleSupervisor:
		s.monitorDone(ses.monitors[li.id])
		delete(ses.monitors, li.id)
		s.publish(ccevent.Event{Type: ccevent.SupervisorAction, Call: ses.id, Agent: string(ses.agent), Actor: string(li.agent),
			Detail: map[string]string{"action": "monitor ended"}})
	}
}

// ended: the switch's call is over.
func (s *Service) ended(ses *session, cause callswitch.Cause) {
	if ses.ended {
		return
	}
	ses.ended = true
	if ses.dlg != nil {
		ses.dlg.stop(nil)
	}
	ses.notifyEnded()
	s.stopListening(ses)
	s.stopRecording(ses)
	if ses.inACD {
		ses.inACD = false
		_ = s.acd.Hangup(acd.CallID(ses.id))
	}
	for a := range ses.rings {
		if rt := s.agents[a]; rt != nil && rt.ses == ses {
			rt.ses = nil
		}
	}
	if ses.agent != "" {
		if rt := s.agents[ses.agent]; rt != nil && rt.ses == ses {
			rt.ses = nil
		}
	}
	if ses.kind == kindOutbound || ses.kind == kindCallback {
		if ses.kind == kindOutbound {
			s.outboundOver(ses)
		}
		if rt := s.agents[ses.cb.agent]; rt != nil && rt.ses == ses {
			rt.ses = nil
		}
	}
	delete(s.sessions, ses.ac)
	delete(s.byID, ses.id)
	s.closeFact(ses)
}

// joined: a leg another app call moved here (a supervisor from a feature
// code call joining the service they monitor).
func (s *Service) joined(ses *session, ev callswitch.AppEvent) {
	if m := ses.pendingJoin; m != nil {
		ses.pendingJoin = nil
		li := &legInfo{id: ev.Leg, role: roleSupervisor, agent: m.agent, channel: ev.Channel, tech: ev.Tech, party: ev.Party, up: true}
		ses.legs[ev.Leg] = li
		s.monitorAnswered(ses, li)
		return
	}
	ses.ac.Hangup(ev.Leg, callswitch.CauseFailed)
}

// setMode sets a leg's mode in the call's mix and remembers it.
func (ses *session) setMode(id callswitch.LegID, m callswitch.Mode, to callswitch.LegID) {
	if li := ses.legs[id]; li != nil {
		li.mode = m
	}
	ses.ac.SetMode(id, m, to)
}

// agentRT returns the service's record of an agent, making it.
func (s *Service) agentRT(id acd.AgentID) *agentRT {
	rt := s.agents[id]
	if rt == nil {
		rt = &agentRT{id: id}
		s.agents[id] = rt
	}
	return rt
}
