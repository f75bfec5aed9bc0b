package cc

import (
	"context"
	"fmt"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/ccconf"
	"callbox/telephony/ivr"
	callswitch "callbox/telephony/switch"
)

// actions is the ACD engine's acd.Actions: every action is posted to the
// loop, so that the engine (which calls them on whatever goroutine ran
// its operation or timer) never waits for the service.
type actions struct{ s *Service }

func (a actions) Ring(r acd.RingRequest) { a.s.post(func() { a.s.ring(r) }) }
func (a actions) StopRing(agent acd.AgentID, call acd.CallID) {
	a.s.post(func() { a.s.stopRing(agent, call) })
}
func (a actions) Connect(call acd.CallID, agent acd.AgentID) {
	a.s.post(func() { a.s.connect(call, agent) })
}
func (a actions) Play(call acd.CallID, prompt string) {
	a.s.post(func() { a.s.queuePrompt(call, prompt) })
}
func (a actions) Announce(call acd.CallID, pos int, est time.Duration) {
	a.s.post(func() { a.s.announce(call, pos, est) })
}
func (a actions) Route(call acd.CallID, t acd.Target) { a.s.post(func() { a.s.route(call, t) }) }
func (a actions) CallBack(call acd.CallID, number string, agent acd.AgentID) {
	a.s.post(func() { a.s.callBack(call, number, agent) })
}
func (a actions) Notify(n acd.Notice) { a.s.post(func() { a.s.notify(n) }) }

// device is the phone an agent's calls ring: the one they logged in on,
// else their configured one.
func (s *Service) device(id acd.AgentID) Device {
	if rt := s.agents[id]; rt != nil && !rt.device.IsZero() {
		return rt.device
	}
	a, ok := agentConf(s.cfg.Load(), id)
	if !ok || a.Device == "" {
		return Device{}
	}
	if a.Mode == ccconf.ModeOutside {
		return Device{Outside: a.Device, Route: a.Route}
	}
	return Device{Extension: a.Device}
}

// originate rings a device in a session: an outside number through its
// route.
func (s *Service) originate(ses *session, dev Device, callerID callswitch.Party, timeout time.Duration, m callswitch.Mode) callswitch.LegID {
	o := callswitch.Originate{Extension: dev.Extension, CallerID: callerID, RingTimeout: timeout, Mode: m}
	if dev.Outside != "" {
		o.Number = s.dialOut(dev.Outside, dev.Route)
	}
	return ses.ac.Originate(o)
}

// ring rings an agent for a waiting call.
func (s *Service) ring(r acd.RingRequest) {
	ses := s.byID[string(r.Call)]
	if ses == nil || ses.ended || ses.phase != phaseQueued {
		_ = s.acd.Reject(r.Agent, r.Call)
		return
	}
	rt := s.agentRT(r.Agent)
	dev := s.device(r.Agent)
	if dev.IsZero() || rt.down {
		s.log.Warn("agent has no device to ring: put on break", "agent", r.Agent)
		_ = s.acd.Reject(r.Agent, r.Call)
		s.deviceTrouble(r.Agent, "no device")
		return
	}
	g, _ := groupConf(s.cfg.Load(), r.Group)
	o := callswitch.Originate{Extension: dev.Extension, CallerID: callswitch.Party{Number: ses.number},
		RingTimeout: ringTimeout(g), AutoAnswer: r.AutoAnswer}
	if dev.Outside != "" {
		o.Number = s.dialOut(dev.Outside, dev.Route)
	}
	leg := ses.ac.Originate(o)
	ses.legs[leg] = &legInfo{id: leg, role: roleAgent, agent: r.Agent}
	ses.rings[r.Agent] = leg
	rt.ses = ses
	s.publish(ccevent.Event{Type: ccevent.CallRinging, Call: ses.id, Agent: string(r.Agent), Group: r.Group,
		Number: ses.number, Device: dev.String()})
}

// stopRing stops an agent's ring (the engine gave up on it, or the call
// went elsewhere), or gives up a callback being dialled.
func (s *Service) stopRing(agent acd.AgentID, call acd.CallID) {
	ses := s.byID[string(call)]
	if ses == nil {
		return
	}
	if ses.kind == kindCallback {
		s.publish(ccevent.Event{Type: ccevent.CallbackFailed, Call: ses.id, Number: ses.number, Reason: "timeout"})
		ses.ac.End(callswitch.CauseNoAnswer)
		return
	}
	leg, ok := ses.rings[agent]
	if !ok {
		return
	}
	delete(ses.rings, agent)
	reason := "no answer"
	switch {
	case ses.ended || ses.phase != phaseQueued && ses.agent == "":
		reason = "caller gone"
	case ses.agent != "" && ses.agent != agent:
		reason = "answered elsewhere"
	}
	if li := ses.legs[leg]; li != nil {
		li.role = 0 // no longer the call's business
	}
	ses.ac.Hangup(leg, callswitch.CauseCancelled)
	if rt := s.agents[agent]; rt != nil && rt.ses == ses {
		rt.ses = nil
	}
	s.publish(ccevent.Event{Type: ccevent.CallRingEnded, Call: ses.id, Agent: string(agent), Reason: reason})
}

// agentAnswered: an agent's phone answered the ring (or a callback's).
func (s *Service) agentAnswered(ses *session, li *legInfo) {
	switch ses.kind {
	case kindCallback:
		s.callbackAgentAnswered(ses, li)
		return
	case kindOutbound:
		s.outboundAgentAnswered(ses, li)
		return
	}
	if ses.rings[li.agent] != li.id {
		ses.ac.Hangup(li.id, callswitch.CauseNormal)
		return
	}
	delete(ses.rings, li.agent)
	if err := s.acd.Answer(li.agent, acd.CallID(ses.id)); err != nil {
		s.log.Info("answer too late", "call", ses.id, "agent", li.agent, "err", err)
		ses.ac.Hangup(li.id, callswitch.CauseNormal)
		return
	}
	ses.agent, ses.agentLeg = li.agent, li.id // Connect follows
}

// connect: the engine connected a call with an agent.
func (s *Service) connect(call acd.CallID, agent acd.AgentID) {
	ses := s.byID[string(call)]
	if ses == nil {
		return
	}
	if ses.kind == kindCallback {
		s.callbackConnected(ses)
		return
	}
	li := ses.legs[ses.agentLeg]
	if li == nil || li.agent != agent {
		return
	}
	cfg := s.cfg.Load()
	g, _ := groupConf(cfg, ses.group)
	ses.phase = phaseService // the fax detector listens on: a fax machine may be put through
	s.agentRT(agent).ses = ses
	ses.ac.StopPlay(ses.caller)
	ses.ac.Play(li.id, callswitch.Beep(1000, 200*time.Millisecond), nil)
	if g.AnnounceAgent {
		ses.setMode(ses.caller, callswitch.ModeAlone, 0)
		ses.setMode(li.id, callswitch.ModeAlone, 0)
		s.playAsync(ses, ses.caller, func(ctx context.Context) (callswitch.Source, error) {
			return s.opts.Prompts.Say(ctx, Phrase{Kind: PhraseAgent, Digits: string(agent)}, language(cfg))
		}, func(bool) {
			if ses.phase == phaseService && ses.agentLeg == li.id && !ses.held {
				ses.setMode(ses.caller, callswitch.ModeTalk, 0)
				ses.setMode(li.id, callswitch.ModeTalk, 0)
			}
		})
	} else {
		ses.setMode(ses.caller, callswitch.ModeTalk, 0)
		ses.setMode(li.id, callswitch.ModeTalk, 0)
	}
	s.publish(ccevent.Event{Type: ccevent.CallAnswered, Call: ses.id, Agent: string(agent), Group: ses.group, Number: ses.number})
	if g.Records() {
		s.startRecording(ses)
	}
	if ses.dlg != nil {
		ses.dlg.push(msg{kind: msgQueue, queue: queueResult{kind: qServed}})
	}
}

// playAsync resolves a source off the loop (speech may take a while) and
// plays it into leg; done runs on the loop (false when the source could
// not be made, was stopped, or the session moved on).
func (s *Service) playAsync(ses *session, leg callswitch.LegID, resolve func(ctx context.Context) (callswitch.Source, error), done func(ok bool)) {
	s.busy.Add(1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		src, err := resolve(ctx)
		cancel()
		s.post(func() {
			defer s.busy.Add(-1)
			if err != nil {
				s.log.Warn("prompt not played", "call", ses.id, "err", err)
			}
			if err != nil || ses.ended {
				if done != nil {
					done(false)
				}
				return
			}
			ses.ac.Play(leg, src, func(ok bool) {
				if done != nil {
					s.post(func() { done(ok) })
				}
			})
		})
	}()
}

// holdMusic is what a waiting caller hears: the group's music prompt in a
// loop over the switch's music on hold.
func (s *Service) holdMusic(ses *session) {
	ses.setMode(ses.caller, callswitch.ModeHold, 0)
	g, _ := groupConf(s.cfg.Load(), ses.group)
	if g.MOH == "" {
		return
	}
	lang := language(s.cfg.Load())
	var again func(ok bool)
	again = func(ok bool) {
		if !ok || ses.phase != phaseQueued || ses.ended {
			return
		}
		s.playAsync(ses, ses.caller, func(ctx context.Context) (callswitch.Source, error) {
			return s.opts.Prompts.Source(ctx, ivr.Prompt{File: g.MOH}, lang)
		}, again)
	}
	again(true)
}

// queuePrompt plays a group's periodic prompt to a waiting caller.
func (s *Service) queuePrompt(call acd.CallID, prompt string) {
	ses := s.byID[string(call)]
	if ses == nil || ses.phase != phaseQueued {
		return
	}
	lang := language(s.cfg.Load())
	s.playAsync(ses, ses.caller, func(ctx context.Context) (callswitch.Source, error) {
		return s.opts.Prompts.Source(ctx, ivr.Prompt{File: prompt}, lang)
	}, func(bool) { s.resumeMusic(ses) })
}

// announce tells a waiting caller their position and estimated wait.
func (s *Service) announce(call acd.CallID, pos int, est time.Duration) {
	ses := s.byID[string(call)]
	if ses == nil || ses.phase != phaseQueued {
		return
	}
	lang := language(s.cfg.Load())
	s.playAsync(ses, ses.caller, func(ctx context.Context) (callswitch.Source, error) {
		a, err := s.opts.Prompts.Say(ctx, Phrase{Kind: PhrasePosition, N: pos}, lang)
		if err != nil {
			return nil, err
		}
		b, err := s.opts.Prompts.Say(ctx, Phrase{Kind: PhraseWait, D: est}, lang)
		if err != nil {
			return a, nil // the position alone is still worth saying
		}
		return Sequence(a, b), nil
	}, func(bool) { s.resumeMusic(ses) })
}

// resumeMusic restarts the group's music prompt after an announcement.
func (s *Service) resumeMusic(ses *session) {
	if ses.phase == phaseQueued && !ses.ended {
		if g, _ := groupConf(s.cfg.Load(), ses.group); g.MOH != "" {
			s.holdMusic(ses)
		}
	}
}

// route: the engine sends a waiting caller out of the queue.
func (s *Service) route(call acd.CallID, t acd.Target) {
	ses := s.byID[string(call)]
	if ses == nil || !ses.inACD {
		return
	}
	ses.inACD = false
	for a, leg := range ses.rings {
		ses.ac.Hangup(leg, callswitch.CauseCancelled)
		delete(ses.rings, a)
	}
	var res queueResult
	switch {
	case ses.stopped:
		res = queueResult{kind: qStopped, reason: "stopped"}
	case ses.capped:
		res = queueResult{kind: qUnserved, reason: "timeout"}
	default:
		res = s.routed(ses, ses.group, t, "timeout")
	}
	ses.phase = phaseIVR
	ses.ac.StopPlay(ses.caller)
	ses.setMode(ses.caller, callswitch.ModeAlone, 0)
	s.publish(ccevent.Event{Type: ccevent.CallOverflowed, Call: ses.id, Group: ses.group, Number: ses.number,
		Target: targetName(t), Reason: res.reason})
	if ses.dlg != nil {
		ses.dlg.push(msg{kind: msgQueue, queue: res})
	}
}

// requestCallback turns a waiting caller into a callback (loop).
func (s *Service) requestCallback(ses *session) error {
	if !ses.inACD || ses.phase != phaseQueued {
		return fmt.Errorf("cc: callback: %w", ErrRefused)
	}
	if err := s.acd.RequestCallback(acd.CallID(ses.id), ""); err != nil {
		return err
	}
	ses.inACD = false // the engine keeps the place; the caller's leg may go
	ses.phase = phaseAfter
	ses.setMode(ses.caller, callswitch.ModeAlone, 0)
	s.publish(ccevent.Event{Type: ccevent.CallbackRequested, Call: ses.id, Group: ses.group, Number: ses.number})
	return nil
}

// notify publishes the engine's notices for supervisors.
func (s *Service) notify(n acd.Notice) {
	e := ccevent.Event{Type: ccevent.Notice, Agent: string(n.Agent), Call: string(n.Call), Number: n.Number}
	switch n.Kind {
	case acd.NoticeNoAnswer:
		e.Reason = "no-answer limit"
		e.State = n.State.String()
	case acd.NoticeCallbackFailed:
		e.Reason = "callback failed"
		s.publish(ccevent.Event{Type: ccevent.CallbackFailed, Call: string(n.Call), Number: n.Number, Reason: "gave up"})
	case acd.NoticeStoreError:
		e.Reason = "store error"
		if n.Err != nil {
			e.Detail = map[string]string{"error": n.Err.Error()}
		}
	}
	s.publish(e)
}

// notice publishes a notice of the service itself.
func (s *Service) notice(call, agent, text string) {
	s.post(func() {
		s.publish(ccevent.Event{Type: ccevent.Notice, Call: call, Agent: agent, Reason: text})
	})
}

// callerGone: the customer's leg ended.
func (s *Service) callerGone(ses *session, cause callswitch.Cause) {
	if ses.dlg != nil {
		ses.dlg.push(msg{kind: msgGone})
	}
	switch {
	case ses.inACD && ses.phase == phaseQueued:
		ses.inACD = false
		for a, leg := range ses.rings {
			ses.ac.Hangup(leg, callswitch.CauseCancelled)
			delete(ses.rings, a)
		}
		_ = s.acd.Hangup(acd.CallID(ses.id))
		s.publish(ccevent.Event{Type: ccevent.CallAbandoned, Call: ses.id, Group: ses.group, Number: ses.number,
			Detail: map[string]string{"wait": s.clock.Now().Sub(ses.start).Round(time.Second).String()}})
	case ses.phase == phaseService:
		s.serviceOver(ses, "caller hung up")
	case ses.kind == kindCallback && ses.phase == phaseCallback:
		s.publish(ccevent.Event{Type: ccevent.CallbackFailed, Call: ses.id, Number: ses.number, Reason: "customer " + cause.String()})
		_ = s.acd.CallbackFailed(acd.CallID(ses.id))
		ses.phase = phaseAfter
	}
	ses.ac.End(callswitch.CauseNormal)
}

// serviceOver ends a service: the engine hears of it (the agent goes to
// wrap-up), the agent's and third party's legs and monitors go.
func (s *Service) serviceOver(ses *session, reason string) {
	if ses.phase != phaseService {
		return
	}
	ses.phase = phaseAfter
	if ses.kind == kindOutbound {
		s.outboundOver(ses)
	} else if ses.inACD || ses.agent != "" {
		ses.inACD = false
		_ = s.acd.Hangup(acd.CallID(ses.id))
	}
	s.stopRecording(ses)
	s.publish(ccevent.Event{Type: ccevent.CallEnded, Call: ses.id, Agent: string(ses.agent), Group: ses.group, Number: ses.number, Reason: reason})
	if rt := s.agents[ses.agent]; rt != nil && rt.ses == ses {
		rt.ses = nil
	}
	ses.served, ses.agent = ses.agent, ""
	for id, li := range ses.legs {
		keep := li.role == roleThird && ses.thirdFor == "transferred" // the caller talks on with it
		if (li.role == roleAgent || li.role == roleThird || li.role == roleSupervisor) && !keep {
			ses.ac.Hangup(id, callswitch.CauseNormal)
		}
	}
	ses.agentLeg = 0
}

// agentLegGone: an agent's leg ended: a ring that failed, or the agent
// hung up the service.
func (s *Service) agentLegGone(ses *session, li *legInfo, cause callswitch.Cause) {
	switch ses.kind {
	case kindCallback:
		s.callbackLegGone(ses, li, cause)
		return
	case kindOutbound:
		s.outboundLegGone(ses, li, cause)
		return
	}
	if leg, ok := ses.rings[li.agent]; ok && leg == li.id {
		delete(ses.rings, li.agent)
		if rt := s.agents[li.agent]; rt != nil && rt.ses == ses {
			rt.ses = nil
		}
		reason := cause.String()
		switch cause {
		case callswitch.CauseNoAnswer:
			// The engine times rings itself; its StopRing is on the way.
		case callswitch.CauseUnavailable, callswitch.CauseNotFound, callswitch.CauseFailed, callswitch.CauseCongestion, callswitch.CauseBlocked:
			_ = s.acd.Reject(li.agent, acd.CallID(ses.id))
			s.deviceTrouble(li.agent, "device "+cause.String())
		default:
			reason = "rejected"
			_ = s.acd.Reject(li.agent, acd.CallID(ses.id))
		}
		s.publish(ccevent.Event{Type: ccevent.CallRingEnded, Call: ses.id, Agent: string(li.agent), Reason: reason})
		return
	}
	if li.id != ses.agentLeg {
		return
	}
	s.agentLeft(ses)
}

// agentLeft: the serving agent hung up. A third party left talking with
// the caller keeps the call; else the caller takes the group's survey or
// is hung up.
func (s *Service) agentLeft(ses *session) {
	if ses.phase != phaseService {
		return
	}
	third := ses.legs[ses.third]
	s.serviceOver(ses, "agent hung up")
	if third != nil && third.up && ses.thirdFor == "conference" {
		return // serviceOver hung the third party up too
	}
	g, _ := groupConf(s.cfg.Load(), ses.group)
	if survey := surveyFlow(g); survey != "" && !ses.ended {
		ses.setMode(ses.caller, callswitch.ModeAlone, 0)
		s.runFlow(ses, survey, "")
		ses.phase = phaseAfter
		return
	}
	ses.ac.End(callswitch.CauseNormal)
}

// surveyAnswered stores a survey answer with the call.
func (s *Service) surveyAnswered(ses *session, score int) {
	s.publish(ccevent.Event{Type: ccevent.SurveyAnswered, Call: ses.id, Agent: string(ses.lastAgent()),
		Group: ses.group, Detail: map[string]string{"score": fmt.Sprint(score)}})
}

// lastAgent is the agent who served the call last.
func (ses *session) lastAgent() acd.AgentID {
	if ses.agent != "" {
		return ses.agent
	}
	return ses.served
}
