package cc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/ccconf"
	"callbox/telephony/ivr"
	callswitch "callbox/telephony/switch"
)

// The agent's operations in a call. Each runs on the loop; the phone's *
// menu and the Go methods (for the REST API) call the same functions.
//
// The * menu (seed 000's 座席按键功能菜单): *1 hold / resume, *2<number>#
// blind transfer, *3<number># consultative transfer (then *3 completes and
// *0 returns to the caller), *4<number># invite a third party, *5 drop the
// third party, *6 start / stop recording, *7 send the caller to the IVR
// and release the agent, *0 hang up the caller. A number is an agent's
// work number, an extension or an outside number as the agent's phone
// dials it. Menu digits never reach the caller; other digits the agent
// sends do (to drive a far IVR).

// menu is the state of an agent's * menu.
type menu struct {
	on    bool // * pressed
	key   byte // a function waiting for its number
	num   []byte
	gen   int // bumps on every change, so that stale timeouts do nothing
	timer acd.Timer
}

// menuTimeout is how long the menu waits for the next key.
const menuTimeout = 5 * time.Second

// TargetKind says what a transfer or invitation reaches.
type TargetKind uint8

// Transfer targets.
const (
	ToAgent     TargetKind = iota + 1 // an agent by work number (rung on their device)
	ToGroup                           // a skill group (the caller waits in it)
	ToExtension                       // an extension of the box
	ToNumber                          // an outside number through a route
)

// Target is where a transfer or an invitation goes.
type Target struct {
	Kind   TargetKind
	Agent  acd.AgentID
	Group  int
	Number string // extension or outside number
}

// parseTarget reads what an agent keyed after *2, *3 or *4: a work number,
// else a number to dial.
func (s *Service) parseTarget(num string) Target {
	if _, ok := agentConf(s.cfg.Load(), acd.AgentID(num)); ok {
		return Target{Kind: ToAgent, Agent: acd.AgentID(num)}
	}
	return Target{Kind: ToNumber, Number: num}
}

// digit handles a digit from a leg of a session (loop).
func (s *Service) digit(ses *session, li *legInfo, d byte) {
	if ses.dlg != nil && ses.dlg.leg == li.id {
		ses.dlg.push(msg{kind: msgDigit, digit: d})
		return
	}
	switch li.role {
	case roleAgent:
		if li.id == ses.agentLeg && ses.phase == phaseService {
			s.menuDigit(ses, li, d)
		}
	case roleSupervisor:
		s.monitorDigit(ses, li, d)
	case roleCaller:
		if ses.phase == phaseService && ses.agentLeg != 0 && !ses.held {
			ses.ac.SendDigits(ses.agentLeg, string(d)) // the caller keys something for the agent
		}
	}
}

// menuDigit runs the agent's * menu.
func (s *Service) menuDigit(ses *session, li *legInfo, d byte) {
	m := &ses.menu
	if m.timer != nil {
		m.timer.Stop()
	}
	m.gen++
	switch {
	case !m.on && d == '*':
		m.on, m.key, m.num = true, 0, m.num[:0]
	case !m.on:
		if ses.caller != 0 {
			ses.ac.SendDigits(ses.caller, string(d))
		}
		return
	case m.key == 0:
		m.on = false
		switch d {
		case '2', '3', '4':
			if d == '3' && ses.thirdFor == "consult" {
				s.menuDone(ses, s.completeTransfer(ses))
				return
			}
			m.on, m.key = true, d
		case '1':
			s.menuDone(ses, s.toggleHold(ses))
		case '5':
			s.menuDone(ses, s.dropThird(ses))
		case '6':
			s.menuDone(ses, s.toggleRecording(ses))
		case '7':
			s.menuDone(ses, s.releaseToIVR(ses, ""))
		case '0':
			if ses.thirdFor == "consult" {
				s.menuDone(ses, s.dropThird(ses))
				return
			}
			s.menuDone(ses, s.hangupCaller(ses))
		default:
			s.menuDone(ses, fmt.Errorf("%w: no menu key %c", ErrRefused, d))
		}
	default:
		if d == '#' || d == '*' {
			key, num := m.key, string(m.num)
			m.on, m.key, m.num = false, 0, m.num[:0]
			if d == '*' || num == "" {
				s.menuDone(ses, fmt.Errorf("%w: menu abandoned", ErrRefused))
				return
			}
			t := s.parseTarget(num)
			var err error
			switch key {
			case '2':
				err = s.transfer(ses, t, false)
			case '3':
				err = s.transfer(ses, t, true)
			case '4':
				err = s.invite(ses, t)
			}
			s.menuDone(ses, err)
			return
		}
		if len(m.num) < 32 {
			m.num = append(m.num, d)
		}
	}
	if m.on {
		gen := m.gen
		m.timer = s.clock.AfterFunc(menuTimeout, func() {
			s.post(func() {
				if ses.menu.gen == gen && ses.menu.on {
					ses.menu.on, ses.menu.key, ses.menu.num = false, 0, ses.menu.num[:0]
					s.menuDone(ses, fmt.Errorf("%w: menu timed out", ErrRefused))
				}
			})
		})
	}
}

// menuDone tells the agent how a menu operation went: a short high beep,
// or a low one when refused.
func (s *Service) menuDone(ses *session, err error) {
	if ses.agentLeg == 0 {
		return
	}
	if err != nil {
		s.log.Info("agent's menu operation refused", "call", ses.id, "agent", ses.agent, "err", err)
		ses.ac.Play(ses.agentLeg, callswitch.Beep(400, 400*time.Millisecond), nil)
		return
	}
	ses.ac.Play(ses.agentLeg, callswitch.Beep(1400, 120*time.Millisecond), nil)
}

// inService checks that a session is a service with its agent there.
func inService(ses *session) error {
	if ses == nil || ses.ended || ses.phase != phaseService || ses.agentLeg == 0 {
		return ErrNotInCall
	}
	return nil
}

// toggleHold holds the caller (music; the agent hears silence) or takes
// them back.
func (s *Service) toggleHold(ses *session) error {
	if err := inService(ses); err != nil {
		return err
	}
	if ses.thirdFor == "consult" {
		return fmt.Errorf("%w: in a consultation", ErrRefused)
	}
	ses.held = !ses.held
	if ses.held {
		ses.setMode(ses.caller, callswitch.ModeHold, 0)
		ses.setMode(ses.agentLeg, callswitch.ModeAlone, 0)
		if ses.third != 0 {
			ses.setMode(ses.third, callswitch.ModeAlone, 0)
		}
		s.publish(ccevent.Event{Type: ccevent.CallHeld, Call: ses.id, Agent: string(ses.agent)})
		return nil
	}
	s.talk(ses)
	s.publish(ccevent.Event{Type: ccevent.CallResumed, Call: ses.id, Agent: string(ses.agent)})
	return nil
}

// talk puts the caller, the agent and a conference's third party in talk
// mode, and the monitors back in theirs.
func (s *Service) talk(ses *session) {
	ses.ac.StopPlay(ses.caller)
	ses.setMode(ses.caller, callswitch.ModeTalk, 0)
	if ses.agentLeg != 0 {
		ses.setMode(ses.agentLeg, callswitch.ModeTalk, 0)
	}
	if ses.third != 0 && ses.thirdFor == "conference" {
		ses.setMode(ses.third, callswitch.ModeTalk, 0)
	}
	// A whisper follows the service's agent (after a transfer to another
	// agent the old leg is gone).
	for leg, m := range ses.monitors {
		if m.mode == callswitch.ModeWhisper && ses.agentLeg != 0 {
			ses.setMode(leg, callswitch.ModeWhisper, ses.agentLeg)
		}
	}
}

// hangupCaller ends the caller's leg; the agent goes to wrap-up.
func (s *Service) hangupCaller(ses *session) error {
	if err := inService(ses); err != nil {
		return err
	}
	ses.ac.Hangup(ses.caller, callswitch.CauseNormal)
	return nil
}

// transfer sends the caller to a target: blind (the agent is released at
// once) or consultative (the caller holds while the agent talks with the
// target; completeTransfer or dropThird follow).
func (s *Service) transfer(ses *session, t Target, consult bool) error {
	if err := inService(ses); err != nil {
		return err
	}
	if ses.third != 0 {
		return fmt.Errorf("%w: a third party is already in the call", ErrRefused)
	}
	cfg := s.cfg.Load()
	if t.Kind == ToNumber || t.Kind == ToExtension {
		if cfg.BlockedOut(t.Number) {
			return fmt.Errorf("%w: %s is on the outbound blacklist", ErrRefused, t.Number)
		}
	}
	from := ses.agent
	if consult {
		if t.Kind == ToGroup {
			return fmt.Errorf("%w: a consultation needs a person", ErrRefused)
		}
		if err := s.dialThird(ses, t, "consult"); err != nil {
			return err
		}
		ses.setMode(ses.caller, callswitch.ModeHold, 0)
		ses.held = true
		s.publish(ccevent.Event{Type: ccevent.CallHeld, Call: ses.id, Agent: string(from), Detail: map[string]string{"for": "consultation"}})
		return nil
	}
	switch t.Kind {
	case ToAgent, ToGroup:
		grp := t.Group
		if t.Kind == ToAgent {
			a, ok := agentConf(cfg, t.Agent)
			if !ok || len(a.Groups) == 0 {
				return fmt.Errorf("%w %q in no group", ErrUnknownAgent, t.Agent)
			}
			if st, err := s.acd.Agent(t.Agent); err != nil || st.State == acd.Offline || st.State == acd.Ringing || st.State == acd.Talking {
				return fmt.Errorf("%w: agent %s cannot take a call now", ErrRefused, t.Agent)
			}
			grp = ses.group
			if _, ok := groupConf(cfg, grp); !ok || !memberOf(a, grp) {
				grp = a.Groups[0].Group
			}
		}
		if _, ok := groupConf(cfg, grp); !ok {
			return fmt.Errorf("%w: unknown group %d", ErrRefused, grp)
		}
		s.serviceOver(ses, "transferred")
		s.publish(ccevent.Event{Type: ccevent.CallTransferred, Call: ses.id, Agent: string(from), Target: targetOf(t)})
		ses.phase = phaseIVR
		s.requeue(ses, grp, t.Agent)
	default:
		s.publish(ccevent.Event{Type: ccevent.CallTransferred, Call: ses.id, Agent: string(from), Target: targetOf(t)})
		dev := s.device(from)
		if ses.rec != nil {
			s.transferRecorded(ses, t, dev)
			return nil
		}
		s.serviceOver(ses, "transferred")
		ses.ac.Handoff(ses.caller, t.Number, dev.Extension)
	}
	return nil
}

// transferRecorded is a blind transfer to a number or an extension of a
// service being recorded: instead of handing the caller to the switch,
// the call keeps the caller and rings the new party as its third leg (the
// caller hears ringback), so the recording on the caller's leg goes on
// with the rest of the conversation and the service keeps one record
// (recordings lost around transfers are a known failing of peers). The
// agent is released at once, as in any blind transfer; an unanswered
// party ends the call, as the handed-off call would have ended.
func (s *Service) transferRecorded(ses *session, t Target, agent Device) {
	leg := ses.ac.Originate(callswitch.Originate{Number: t.Number, Via: agent.Extension,
		CallerID: callswitch.Party{Number: ses.number}, Mode: callswitch.ModeAlone})
	ses.legs[leg] = &legInfo{id: leg, role: roleThird, party: targetOf(t)}
	ses.third, ses.thirdFor = leg, "transferred"
	s.serviceOver(ses, "transferred") // hangs up the agent, not the new party
	ses.held = false
	ses.setMode(ses.caller, callswitch.ModeAlone, 0)
	ringback(s, ses, ses.caller)
}

func memberOf(a ccconf.Agent, group int) bool {
	for _, m := range a.Groups {
		if m.Group == group {
			return true
		}
	}
	return false
}

func targetOf(t Target) string {
	switch t.Kind {
	case ToAgent:
		return "agent:" + string(t.Agent)
	case ToGroup:
		return fmt.Sprintf("group:%d", t.Group)
	}
	return "number:" + t.Number
}

// requeue puts a caller back in a group (a transfer to a group or an
// agent): they wait as any caller does; a named agent is assigned at once.
func (s *Service) requeue(ses *session, group int, agent acd.AgentID) {
	s.startDialog(ses, func(d *dialog) {
		var assigned bool
		out, err := d.queueWith(ivr.QueueRequest{Group: group}, func() {
			if agent != "" && !assigned {
				assigned = true
				if err := s.acd.Assign(acd.CallID(ses.id), agent); err != nil {
					s.log.Info("transfer to an agent: left in the group", "call", ses.id, "agent", agent, "err", err)
				}
			}
		})
		if err != nil || out.Served {
			return
		}
		_ = d.sayQuiet(promptUnavailable)
		d.hangup()
	})
}

// dialThird rings a third party in the call for a consultation or a
// conference; the agent hears ringback until it answers.
func (s *Service) dialThird(ses *session, t Target, why string) error {
	var dev Device
	switch t.Kind {
	case ToAgent:
		st, err := s.acd.Agent(t.Agent)
		if err != nil {
			return fmt.Errorf("%w %q", ErrUnknownAgent, t.Agent)
		}
		if st.State == acd.Offline || st.State == acd.Ringing || st.State == acd.Talking {
			return fmt.Errorf("%w: agent %s is %s", ErrRefused, t.Agent, st.State)
		}
		dev = s.device(t.Agent)
		if dev.IsZero() {
			return errNoDevice
		}
		// Reserved while consulted: the engine rings them for nothing else.
		if st.State == acd.Idle || st.State == acd.WrapUp {
			_ = s.acd.SetState(t.Agent, acd.Busy, "consultation")
		}
	case ToExtension, ToNumber:
		dev = Device{Extension: "", Outside: t.Number}
	default:
		return fmt.Errorf("%w: cannot call a group into a call", ErrRefused)
	}
	var leg callswitch.LegID
	if dev.Outside != "" {
		via := s.device(ses.agent).Extension
		leg = ses.ac.Originate(callswitch.Originate{Number: dev.Outside, Via: via, CallerID: callswitch.Party{Number: s.device(ses.agent).Extension},
			Mode: callswitch.ModeAlone})
	} else {
		leg = s.originate(ses, dev, callswitch.Party{Number: string(ses.agent)}, 0, callswitch.ModeAlone)
	}
	ses.legs[leg] = &legInfo{id: leg, role: roleThird, agent: t.Agent, party: targetOf(t)}
	ses.third, ses.thirdFor = leg, why
	ringback(s, ses, ses.agentLeg)
	return nil
}

// thirdAnswered: the third party answered.
func (s *Service) thirdAnswered(ses *session, li *legInfo) {
	switch ses.thirdFor {
	case "ivr":
		ses.ac.StopPlay(ses.caller)
		ses.setMode(ses.caller, callswitch.ModeTalk, 0)
		ses.phase = phaseAfter
		if ses.dlg != nil {
			ses.dlg.push(msg{kind: msgLeg, token: uint64(li.id)})
		}
	case "consult":
		ses.ac.StopPlay(ses.agentLeg)
		ses.setMode(ses.agentLeg, callswitch.ModeTalk, 0)
		ses.setMode(li.id, callswitch.ModeTalk, 0)
	case "conference":
		ses.ac.StopPlay(ses.agentLeg)
		s.talk(ses)
	case "transferred": // a recorded blind transfer's party
		ses.ac.StopPlay(ses.caller)
		ses.setMode(ses.caller, callswitch.ModeTalk, 0)
		ses.setMode(li.id, callswitch.ModeTalk, 0)
	}
	s.publish(ccevent.Event{Type: ccevent.SupervisorAction, Call: ses.id, Agent: string(ses.agent),
		Target: li.party, Detail: map[string]string{"action": ses.thirdFor + " answered"}})
}

// thirdGone: the third party left (or never answered).
func (s *Service) thirdGone(ses *session, li *legInfo, cause callswitch.Cause) {
	if ses.third != li.id {
		return
	}
	why := ses.thirdFor
	ses.third, ses.thirdFor = 0, ""
	if li.agent != "" {
		if st, err := s.acd.Agent(li.agent); err == nil && st.State == acd.Busy && st.Reason == "consultation" {
			_ = s.acd.SetState(li.agent, acd.Idle, "consultation over")
		}
	}
	switch why {
	case "ivr":
		if !li.up {
			if ses.dlg != nil {
				ses.dlg.push(msg{kind: msgLeg, token: uint64(li.id), err: fmt.Errorf("cc: transfer to %s: %s", li.party, cause)})
			}
			return
		}
		ses.ac.End(callswitch.CauseNormal) // the two were talking: the other hears it
	case "transferred":
		ses.ac.End(callswitch.CauseNormal)
	case "consult", "conference":
		if ses.phase == phaseService {
			ses.ac.StopPlay(ses.agentLeg)
			ses.held = false
			s.talk(ses)
			if !li.up {
				s.menuDone(ses, fmt.Errorf("%w: %s did not answer (%s)", ErrRefused, li.party, cause))
			}
		}
	}
}

// completeTransfer ends a consultation by leaving the caller with the
// consulted party (*3 again).
func (s *Service) completeTransfer(ses *session) error {
	if err := inService(ses); err != nil {
		return err
	}
	li := ses.legs[ses.third]
	if ses.thirdFor != "consult" || li == nil || !li.up {
		return fmt.Errorf("%w: no answered consultation to complete", ErrRefused)
	}
	from := ses.agent
	if li.agent != "" {
		// Agent to agent: the engine moves the call (one state per agent),
		// straight from the consultation's busy, so that no other call can
		// take the consulted agent in between.
		if err := s.acd.Transfer(acd.CallID(ses.id), li.agent); err != nil {
			return err
		}
		old := ses.agentLeg
		ses.agent, ses.agentLeg = li.agent, li.id
		li.role = roleAgent
		ses.third, ses.thirdFor = 0, ""
		ses.held = false
		s.agentRT(li.agent).ses = ses
		if rt := s.agents[from]; rt != nil && rt.ses == ses {
			rt.ses = nil
		}
		delete(ses.legs, old)
		ses.ac.Hangup(old, callswitch.CauseTransferred)
		s.talk(ses)
		s.publish(ccevent.Event{Type: ccevent.CallTransferred, Call: ses.id, Agent: string(from), Target: "agent:" + string(li.agent)})
		return nil
	}
	// To a number: the agent leaves, the caller and the party talk on.
	s.publish(ccevent.Event{Type: ccevent.CallTransferred, Call: ses.id, Agent: string(from), Target: li.party})
	third := ses.third
	ses.thirdFor = "transferred"
	s.serviceOver(ses, "transferred") // hangs up the agent, not the transferred-to party
	ses.held = false
	ses.ac.StopPlay(ses.caller)
	ses.setMode(ses.caller, callswitch.ModeTalk, 0)
	ses.setMode(third, callswitch.ModeTalk, 0)
	return nil
}

// swap alternates the agent between the consulted party and the caller
// during an answered consultation: the one the agent leaves holds (with
// music), as a phone's "swap" key does. completeTransfer and dropThird
// work from either side.
func (s *Service) swap(ses *session) error {
	if err := inService(ses); err != nil {
		return err
	}
	li := ses.legs[ses.third]
	if ses.thirdFor != "consult" || li == nil || !li.up {
		return fmt.Errorf("%w: no answered consultation to swap", ErrRefused)
	}
	if ses.held {
		ses.setMode(ses.third, callswitch.ModeHold, 0)
		ses.ac.StopPlay(ses.caller)
		ses.setMode(ses.caller, callswitch.ModeTalk, 0)
		ses.held = false
		s.publish(ccevent.Event{Type: ccevent.CallResumed, Call: ses.id, Agent: string(ses.agent), Detail: map[string]string{"for": "consultation"}})
		return nil
	}
	ses.setMode(ses.caller, callswitch.ModeHold, 0)
	ses.ac.StopPlay(ses.third)
	ses.setMode(ses.third, callswitch.ModeTalk, 0)
	ses.held = true
	s.publish(ccevent.Event{Type: ccevent.CallHeld, Call: ses.id, Agent: string(ses.agent), Detail: map[string]string{"for": "consultation"}})
	return nil
}

// invite brings a third party into a three-way call (*4).
func (s *Service) invite(ses *session, t Target) error {
	if err := inService(ses); err != nil {
		return err
	}
	if ses.third != 0 {
		return fmt.Errorf("%w: a third party is already in the call", ErrRefused)
	}
	if (t.Kind == ToNumber || t.Kind == ToExtension) && s.cfg.Load().BlockedOut(t.Number) {
		return fmt.Errorf("%w: %s is on the outbound blacklist", ErrRefused, t.Number)
	}
	return s.dialThird(ses, t, "conference")
}

// dropThird hangs up the third party (*5; *0 in a consultation).
func (s *Service) dropThird(ses *session) error {
	if err := inService(ses); err != nil {
		return err
	}
	if ses.third == 0 {
		return fmt.Errorf("%w: no third party", ErrRefused)
	}
	ses.ac.Hangup(ses.third, callswitch.CauseNormal)
	return nil
}

// releaseToIVR sends the caller into a flow (the one they came through
// when flow is "") and releases the agent to wrap-up (*7).
func (s *Service) releaseToIVR(ses *session, flow string) error {
	if err := inService(ses); err != nil {
		return err
	}
	if flow == "" {
		flow = ses.flow
	}
	if flow == "" {
		return fmt.Errorf("%w: the call came in through no flow", ErrRefused)
	}
	s.serviceOver(ses, "released to the IVR")
	ses.setMode(ses.caller, callswitch.ModeAlone, 0)
	s.runFlow(ses, flow, "")
	return nil
}

// runFlowOnCaller runs a flow on the caller and takes them back to the
// agent when it ends (执行流程 / 通话返回).
func (s *Service) runFlowOnCaller(ses *session, flow string) error {
	if err := inService(ses); err != nil {
		return err
	}
	if ses.dlg != nil {
		return fmt.Errorf("%w: a flow already runs", ErrRefused)
	}
	ses.setMode(ses.caller, callswitch.ModeAlone, 0)
	ses.setMode(ses.agentLeg, callswitch.ModeAlone, 0)
	ses.held = true
	req := ivr.Request{Flow: flow, Caller: ses.number, Called: ses.in.To, Agent: string(ses.agent)}
	s.startDialog(ses, func(d *dialog) {
		res, err := s.ivr.Run(d.ctx, ivrCall{d}, req)
		s.post(func() { s.flowDone(ses, res, err) })
	})
	return nil
}

// backToAgent returns a caller to the agent after a flow or prompts.
func (s *Service) backToAgent(ses *session) error {
	if ses.phase != phaseService || ses.agentLeg == 0 {
		return ErrNotInCall
	}
	ses.held = false
	s.talk(ses)
	return nil
}

// playToCaller plays sources (up to three prompts, resolved already) to
// the caller; then the caller returns to the agent, or with release the
// agent is released at once and the caller hung up after them.
func (s *Service) playToCaller(ses *session, srcs []callswitch.Source, release bool) error {
	if err := inService(ses); err != nil {
		return err
	}
	ses.setMode(ses.caller, callswitch.ModeAlone, 0)
	ses.setMode(ses.agentLeg, callswitch.ModeAlone, 0)
	ses.held = true
	if release {
		s.serviceOver(ses, "released after prompts")
	}
	ses.ac.Play(ses.caller, Sequence(srcs...), func(bool) {
		s.post(func() {
			if release {
				ses.ac.End(callswitch.CauseNormal)
				return
			}
			if ses.phase == phaseService && ses.dlg == nil {
				_ = s.backToAgent(ses)
			}
		})
	})
	return nil
}

// sources resolves prompts for the Go API, on the caller's goroutine (not
// the loop: speech may take a while), so that a missing prompt or text
// the box cannot speak is the caller's error.
func (s *Service) sources(ctx context.Context, prompts []ivr.Prompt) ([]callswitch.Source, error) {
	if len(prompts) == 0 || len(prompts) > 3 {
		return nil, fmt.Errorf("%w: play 1 to 3 prompts, not %d", ErrRefused, len(prompts))
	}
	lang := language(s.cfg.Load())
	srcs := make([]callswitch.Source, 0, len(prompts))
	for _, p := range prompts {
		src, err := s.opts.Prompts.Source(ctx, p, lang)
		if errors.Is(err, ivr.ErrPromptMissing) && p.File != "" && p.Text != "" {
			src, err = s.opts.Prompts.Source(ctx, ivr.Prompt{Text: p.Text}, lang)
		}
		if err != nil {
			return nil, fmt.Errorf("cc: prompt %q: %w", p.File+p.Text, err)
		}
		srcs = append(srcs, src)
	}
	return srcs, nil
}

// sessionOf returns the service an agent is in.
func (s *Service) sessionOf(agent acd.AgentID) (*session, error) {
	rt := s.agents[agent]
	if rt == nil || rt.ses == nil || rt.ses.agent != agent {
		if _, ok := agentConf(s.cfg.Load(), agent); !ok {
			return nil, fmt.Errorf("%w %q", ErrUnknownAgent, agent)
		}
		return nil, ErrNotInCall
	}
	return rt.ses, nil
}

// withAgent runs op on the service agent is in, on the loop.
func (s *Service) withAgent(ctx context.Context, agent acd.AgentID, op func(*session) error) error {
	return s.call(ctx, func() error {
		ses, err := s.sessionOf(agent)
		if err != nil {
			return err
		}
		return op(ses)
	})
}

// Hold puts the agent's caller on hold (music) or, held, takes them back.
func (s *Service) Hold(ctx context.Context, agent acd.AgentID) error {
	return s.withAgent(ctx, agent, s.toggleHold)
}

// HangupCaller ends the agent's call with the caller (挂机); the agent
// goes to wrap-up.
func (s *Service) HangupCaller(ctx context.Context, agent acd.AgentID) error {
	return s.withAgent(ctx, agent, s.hangupCaller)
}

// Transfer transfers the agent's caller to a target, blind or
// consultative (then CompleteTransfer or DropThird).
func (s *Service) Transfer(ctx context.Context, agent acd.AgentID, t Target, consult bool) error {
	return s.withAgent(ctx, agent, func(ses *session) error { return s.transfer(ses, t, consult) })
}

// CompleteTransfer completes a consultative transfer.
func (s *Service) CompleteTransfer(ctx context.Context, agent acd.AgentID) error {
	return s.withAgent(ctx, agent, s.completeTransfer)
}

// Invite brings a third party into the agent's call (邀请他人).
func (s *Service) Invite(ctx context.Context, agent acd.AgentID, t Target) error {
	return s.withAgent(ctx, agent, func(ses *session) error { return s.invite(ses, t) })
}

// Swap alternates the agent between the caller and the consulted party
// in an answered consultation; the other one holds.
func (s *Service) Swap(ctx context.Context, agent acd.AgentID) error {
	return s.withAgent(ctx, agent, s.swap)
}

// DropThird hangs up the third party (挂掉第三方), or ends a consultation.
func (s *Service) DropThird(ctx context.Context, agent acd.AgentID) error {
	return s.withAgent(ctx, agent, s.dropThird)
}

// PlayPrompts plays up to three prompts (files or text) to the agent's
// caller; then the caller returns to the agent, or with release the agent
// is free at once and the caller is hung up after them (在线播音).
func (s *Service) PlayPrompts(ctx context.Context, agent acd.AgentID, prompts []ivr.Prompt, release bool) error {
	srcs, err := s.sources(ctx, prompts)
	if err != nil {
		return err
	}
	return s.withAgent(ctx, agent, func(ses *session) error { return s.playToCaller(ses, srcs, release) })
}

// RunFlow runs a flow on the agent's caller and brings them back to the
// agent when it ends (执行流程); Resume brings them back earlier.
func (s *Service) RunFlow(ctx context.Context, agent acd.AgentID, flow string) error {
	return s.withAgent(ctx, agent, func(ses *session) error { return s.runFlowOnCaller(ses, flow) })
}

// Resume takes the caller back from a flow or from hold (恢复 / 通话返回).
func (s *Service) Resume(ctx context.Context, agent acd.AgentID) error {
	return s.withAgent(ctx, agent, func(ses *session) error {
		if d := ses.dlg; d != nil {
			d.stop(ivr.ErrResume)
			return nil
		}
		if ses.held {
			return s.toggleHold(ses)
		}
		return fmt.Errorf("%w: nothing to resume", ErrRefused)
	})
}

// ReleaseToIVR sends the agent's caller into a flow ("" : the one they
// came through) and frees the agent.
func (s *Service) ReleaseToIVR(ctx context.Context, agent acd.AgentID, flow string) error {
	return s.withAgent(ctx, agent, func(ses *session) error { return s.releaseToIVR(ses, flow) })
}

// SendDTMF sends digits to the agent's caller (发送按键).
func (s *Service) SendDTMF(ctx context.Context, agent acd.AgentID, digits string) error {
	for i := range len(digits) {
		if !isKey(digits[i]) {
			return fmt.Errorf("%w: %q is not a DTMF key", ErrRefused, digits[i])
		}
	}
	return s.withAgent(ctx, agent, func(ses *session) error {
		ses.ac.SendDigits(ses.caller, digits)
		return nil
	})
}

// Record starts or stops recording the agent's call.
func (s *Service) Record(ctx context.Context, agent acd.AgentID, on bool) error {
	return s.withAgent(ctx, agent, func(ses *session) error {
		if on == (ses.rec != nil) {
			return nil
		}
		return s.toggleRecording(ses)
	})
}

func isKey(c byte) bool {
	return c >= '0' && c <= '9' || c == '*' || c == '#' || c >= 'A' && c <= 'D'
}

var errNoRecorder = errors.New("cc: recording is not available on this box")
