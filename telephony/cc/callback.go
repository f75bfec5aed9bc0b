package cc

import (
	"context"
	"fmt"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/cc/ccevent"
	callswitch "callbox/telephony/switch"
)

// Callbacks and outbound calls are app calls the service makes itself: the
// agent's phone rings first, and once the agent answers the customer is
// dialled (the agent hears ringback), so no customer waits for an agent.

// callbackState is a callback's or an outbound call's progress.
type callbackState struct {
	agent    acd.AgentID
	agentLeg callswitch.LegID
	callerID string
	// prev is the state the agent had before an outbound call set them
	// busy, to go back to.
	prev acd.State
	// answered is when the customer of an outbound call answered (zero
	// before): the agent's outbound talk time runs from it.
	answered time.Time
}

// callBack starts a callback the engine asked for: agent is reserved.
func (s *Service) callBack(call acd.CallID, number string, agent acd.AgentID) {
	cfg := s.cfg.Load()
	ac := s.sw.NewAppCall(&handler{s: s}, callswitch.Party{Number: hotline(cfg)}, number)
	ses := s.newSession(ac, kindCallback)
	delete(s.byID, ses.id)
	ses.id = string(call) // the engine's call: its place and its fact row
	if old := s.byID[ses.id]; old != nil {
		s.log.Warn("callback of a call still up", "call", call)
	}
	s.byID[ses.id] = ses
	ses.number = number
	ses.phase = phaseCallback
	ses.cb = &callbackState{agent: agent, callerID: hotline(cfg)}
	s.agentRT(agent).ses = ses
	s.publish(ccevent.Event{Type: ccevent.CallbackDialled, Call: ses.id, Agent: string(agent), Number: number})
}

// callbackStarted: ring the reserved agent.
func (s *Service) callbackStarted(ses *session) {
	dev := s.device(ses.cb.agent)
	if dev.IsZero() {
		_ = s.acd.CallbackFailed(acd.CallID(ses.id))
		ses.ac.End(callswitch.CauseUnavailable)
		return
	}
	leg := s.originate(ses, dev, callswitch.Party{Number: ses.number, Name: "callback"}, 30*time.Second, callswitch.ModeTalk)
	ses.legs[leg] = &legInfo{id: leg, role: roleAgent, agent: ses.cb.agent}
	ses.cb.agentLeg = leg
}

// callbackAgentAnswered: the agent is there; dial the customer.
func (s *Service) callbackAgentAnswered(ses *session, li *legInfo) {
	if s.cfg.Load().BlockedOut(ses.number) {
		s.publish(ccevent.Event{Type: ccevent.CallbackFailed, Call: ses.id, Number: ses.number, Reason: "blacklisted"})
		_ = s.acd.CallbackFailed(acd.CallID(ses.id))
		ses.ac.End(callswitch.CauseBlocked)
		return
	}
	s.dialCustomer(ses, li)
}

// dialCustomer dials the customer of a callback or an outbound call once
// the agent answered; the agent hears ringback meanwhile.
func (s *Service) dialCustomer(ses *session, agent *legInfo) {
	leg := ses.ac.Originate(callswitch.Originate{Number: s.dialOut(ses.number, ""), Via: s.device(agent.agent).Extension,
		CallerID: callswitch.Party{Number: ses.cb.callerID}, Mode: callswitch.ModeTalk})
	ses.caller = leg
	ses.legs[leg] = &legInfo{id: leg, role: roleCaller, party: ses.number}
	ringback(s, ses, agent.id)
}

// callbackCustomerAnswered: both are there; the engine connects them.
func (s *Service) callbackCustomerAnswered(ses *session, li *legInfo) {
	if err := s.acd.CallbackConnected(acd.CallID(ses.id)); err != nil {
		s.log.Warn("callback connected too late", "call", ses.id, "err", err)
		ses.ac.End(callswitch.CauseNormal)
	}
}

// callbackConnected: the engine's Connect of a callback.
func (s *Service) callbackConnected(ses *session) {
	ses.phase = phaseService
	ses.agent, ses.agentLeg = ses.cb.agent, ses.cb.agentLeg
	ses.ac.StopPlay(ses.agentLeg)
	ses.setMode(ses.agentLeg, callswitch.ModeTalk, 0)
	ses.setMode(ses.caller, callswitch.ModeTalk, 0)
	s.publish(ccevent.Event{Type: ccevent.CallbackConnected, Call: ses.id, Agent: string(ses.agent), Number: ses.number})
	s.publish(ccevent.Event{Type: ccevent.CallAnswered, Call: ses.id, Agent: string(ses.agent), Number: ses.number,
		Detail: map[string]string{"callback": "true"}})
}

// callbackLegGone: the agent's leg of a callback ended.
func (s *Service) callbackLegGone(ses *session, li *legInfo, cause callswitch.Cause) {
	if ses.phase == phaseService && li.id == ses.agentLeg {
		s.agentLeft(ses)
		return
	}
	if ses.phase == phaseCallback {
		s.publish(ccevent.Event{Type: ccevent.CallbackFailed, Call: ses.id, Agent: string(li.agent), Number: ses.number,
			Reason: "agent " + cause.String()})
		_ = s.acd.CallbackFailed(acd.CallID(ses.id))
		ses.phase = phaseAfter
		ses.ac.End(callswitch.CauseNormal)
	}
}

// Dial starts an agent's outbound call (click to dial): the agent's phone
// rings, then number with callerID, which the agent must be allowed to
// present ("" : the route's). The agent is busy until the call ends. It
// returns the call's id.
func (s *Service) Dial(ctx context.Context, agent acd.AgentID, number, callerID string) (string, error) {
	var id string
	err := s.call(ctx, func() error {
		cfg := s.cfg.Load()
		number = national(number) // +86 13800138000 is dialled as 13800138000
		if number == "" || len(number) > 32 {
			return fmt.Errorf("%w: bad number %q", ErrRefused, number)
		}
		for i := range len(number) {
			if !isKey(number[i]) {
				return fmt.Errorf("%w: bad number %q", ErrRefused, number)
			}
		}
		if cfg.BlockedOut(number) {
			return fmt.Errorf("%w: %s is on the outbound blacklist", ErrRefused, number)
		}
		if callerID != "" && !cfg.MayPresent(string(agent), callerID) {
			return fmt.Errorf("%w: agent %s may not present %s", ErrRefused, agent, callerID)
		}
		st, err := s.acd.Agent(agent)
		if err != nil {
			return fmt.Errorf("%w %q", ErrUnknownAgent, agent)
		}
		switch st.State {
		case acd.Offline, acd.Ringing, acd.Talking:
			return fmt.Errorf("%w: agent %s is %s", ErrRefused, agent, st.State)
		}
		if s.device(agent).IsZero() {
			return errNoDevice
		}
		if err := s.acd.SetState(agent, acd.Busy, ReasonOutbound); err != nil {
			return err
		}
		ac := s.sw.NewAppCall(&handler{s: s}, callswitch.Party{Number: string(agent)}, number)
		ses := s.newSession(ac, kindOutbound)
		ses.number = number
		ses.phase = phaseOutbound
		ses.cb = &callbackState{agent: agent, callerID: callerID, prev: st.State}
		if st.State == acd.WrapUp {
			ses.cb.prev = acd.Idle
		}
		s.agentRT(agent).ses = ses
		id = ses.id
		s.publish(ccevent.Event{Type: ccevent.CallOffered, Call: ses.id, Agent: string(agent), Number: number,
			Detail: map[string]string{"direction": "outbound", "caller_id": callerID}})
		return nil
	})
	return id, err
}

// outboundStarted: ring the agent.
func (s *Service) outboundStarted(ses *session) {
	dev := s.device(ses.cb.agent)
	leg := s.originate(ses, dev, callswitch.Party{Number: ses.number}, 30*time.Second, callswitch.ModeTalk)
	ses.legs[leg] = &legInfo{id: leg, role: roleAgent, agent: ses.cb.agent}
	ses.cb.agentLeg = leg
}

// outboundAgentAnswered: dial the customer.
func (s *Service) outboundAgentAnswered(ses *session, li *legInfo) { s.dialCustomer(ses, li) }

// outboundCustomerAnswered: the service begins.
func (s *Service) outboundCustomerAnswered(ses *session, li *legInfo) {
	ses.phase = phaseService
	ses.agent, ses.agentLeg = ses.cb.agent, ses.cb.agentLeg
	ses.ac.StopPlay(ses.agentLeg)
	now := s.clock.Now()
	ses.cb.answered = now
	rt := s.agentRT(ses.agent)
	rt.outToday(now)
	rt.outCalls++
	s.logOutbound(ses.agent, now, ReasonOutboundAnswered, ses.id)
	if s.opts.Recorder != nil {
		s.startRecording(ses) // agents' outbound calls are recorded
	}
	s.publish(ccevent.Event{Type: ccevent.CallAnswered, Call: ses.id, Agent: string(ses.agent), Number: ses.number,
		Detail: map[string]string{"direction": "outbound"}})
}

// outboundLegGone: the agent's leg of an outbound call ended.
func (s *Service) outboundLegGone(ses *session, li *legInfo, cause callswitch.Cause) {
	if ses.phase == phaseService && li.id == ses.agentLeg {
		s.serviceOver(ses, "agent hung up")
	}
	ses.ac.End(callswitch.CauseNormal)
}

// outboundOver puts an agent back in the state they had before the call.
func (s *Service) outboundOver(ses *session) {
	if ses.cb == nil {
		return
	}
	agent := ses.cb.agent
	if !ses.cb.answered.IsZero() {
		rt := s.agentRT(agent)
		now := s.clock.Now()
		rt.outToday(now)
		rt.outTalk += now.Sub(later(ses.cb.answered, rt.day)) // the part of a call over midnight counts today
		ses.cb.answered = time.Time{}
		s.logOutbound(agent, now, ReasonOutboundEnded, ses.id)
	}
	if st, err := s.acd.Agent(agent); err == nil && st.State == acd.Busy && st.Reason == ReasonOutbound {
		_ = s.acd.SetState(agent, ses.cb.prev, "outbound call over")
	}
	if rt := s.agents[agent]; rt != nil && rt.ses == ses {
		rt.ses = nil
	}
}
