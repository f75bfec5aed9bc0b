package cc

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/ivr"
	callswitch "callbox/telephony/switch"
)

// monitor is a supervisor watching a service.
type monitor struct {
	agent acd.AgentID // the supervisor's work number, "" for a bare phone
	mode  callswitch.Mode
	// busy: the monitoring made the supervisor (a logged-in agent) busy
	// in the ACD, so that no call rings them meanwhile; prev and
	// prevReason are what they go back to when it ends.
	busy       bool
	prev       acd.State
	prevReason string
}

// monitorReason is the reason of a supervisor's busy state while they
// monitor.
const monitorReason = "monitoring"

// monitorBusy shows a supervisor who is a logged-in agent busy in the ACD
// while they monitor (they are on the phone); monitorDone puts back the
// state they had, unless it changed meanwhile.
func (s *Service) monitorBusy(m *monitor) {
	if m.agent == "" || m.busy {
		return
	}
	st, err := s.acd.Agent(m.agent)
	if err != nil || st.State == acd.Offline || st.State == acd.Busy {
		return
	}
	if err := s.acd.SetState(m.agent, acd.Busy, monitorReason); err != nil {
		s.log.Info("monitoring supervisor not shown busy", "agent", m.agent, "err", err)
		return
	}
	m.busy, m.prev, m.prevReason = true, st.State, st.Reason
}

func (s *Service) monitorDone(m *monitor) {
	if m == nil || !m.busy {
		return
	}
	m.busy = false
	st, err := s.acd.Agent(m.agent)
	if err != nil || st.State != acd.Busy || st.Reason != monitorReason {
		return // changed by hand meanwhile: theirs to keep
	}
	to := m.prev
	if to == acd.WrapUp {
		to = acd.Idle // the wrap-up's clock is gone
	}
	if err := s.acd.SetState(m.agent, to, m.prevReason); err != nil {
		s.log.Info("monitoring supervisor's state not restored", "agent", m.agent, "err", err)
	}
}

// monitorAnswered: the supervisor's phone is in the service: they listen
// first, after a short prompt naming the keys.
func (s *Service) monitorAnswered(ses *session, li *legInfo) {
	m := ses.monitors[li.id]
	if m == nil {
		m = &monitor{agent: li.agent}
		ses.monitors[li.id] = m
	}
	m.mode = callswitch.ModeListen
	ses.setMode(li.id, callswitch.ModeListen, 0)
	s.monitorBusy(m)
	lang := language(s.cfg.Load())
	s.playAsync(ses, li.id, func(ctx context.Context) (callswitch.Source, error) {
		return s.opts.Prompts.Source(ctx, promptMonitor, lang)
	}, nil)
	s.publish(ccevent.Event{Type: ccevent.SupervisorAction, Call: ses.id, Agent: string(ses.agent), Actor: string(li.agent),
		Detail: map[string]string{"action": "listen"}})
}

// monitorDigit switches a supervisor between listen (4), whisper (5, only
// the agent hears) and barge (6, everyone), as ChanSpy does.
func (s *Service) monitorDigit(ses *session, li *legInfo, d byte) {
	m := ses.monitors[li.id]
	if m == nil {
		return
	}
	var mode callswitch.Mode
	var action string
	switch d {
	case '4':
		mode, action = callswitch.ModeListen, "listen"
	case '5':
		mode, action = callswitch.ModeWhisper, "whisper"
	case '6':
		mode, action = callswitch.ModeTalk, "barge"
	default:
		return
	}
	s.setMonitor(ses, li.id, mode)
	s.publish(ccevent.Event{Type: ccevent.SupervisorAction, Call: ses.id, Agent: string(ses.agent), Actor: string(li.agent),
		Detail: map[string]string{"action": action}})
}

func (s *Service) setMonitor(ses *session, leg callswitch.LegID, mode callswitch.Mode) {
	m := ses.monitors[leg]
	if m == nil {
		return
	}
	m.mode = mode
	ses.ac.StopPlay(leg)
	ses.setMode(leg, mode, ses.agentLeg)
}

// monitorByCode moves the leg of a supervisor who dialled the monitor
// code and an agent's work number into that agent's service.
func (d *dialog) monitorByCode(ext string, agent acd.AgentID) bool {
	s := d.s
	var refuse ivr.Prompt
	err := d.ask(func() error {
		sup, ok := s.agentOn(ext)
		if a, known := agentConf(s.cfg.Load(), sup); !ok || !known || !a.Supervisor {
			refuse = promptNotAllowed
			return fmt.Errorf("%w: extension %s is no supervisor's", ErrRefused, ext)
		}
		target, err := s.sessionOf(agent)
		if err != nil {
			refuse = promptNoService
			return err
		}
		target.pendingJoin = &monitor{agent: sup}
		d.ac.Move(d.leg, target.ac)
		return nil
	})
	if err != nil {
		s.log.Info("monitor by phone refused", "extension", ext, "agent", agent, "err", err)
		_ = d.sayQuiet(refuse)
		return false
	}
	return true
}

// WaitingCall is a line of the supervisor's waiting list.
type WaitingCall struct {
	acd.WaitingCall
	// Since is when the call entered the queue.
	Since time.Time
}

// Waiting returns the calls waiting for an agent (座席等待队列), in order
// of service: the engine's list.
func (s *Service) Waiting() []acd.WaitingCall { return s.acd.Waiting() }

// ServiceInfo is a line of the supervisor's list of services in progress
// (座席服务队列).
type ServiceInfo struct {
	Call     string        `json:"call"`
	Agent    acd.AgentID   `json:"agent"`
	Number   string        `json:"number"`
	Group    int           `json:"group,omitempty"`
	Since    time.Time     `json:"since"`
	Held     bool          `json:"held,omitempty"`
	Third    string        `json:"third,omitempty"` // "consult", "conference"
	Recorded bool          `json:"recorded,omitempty"`
	Monitors []acd.AgentID `json:"monitors,omitempty"`
	Outbound bool          `json:"outbound,omitempty"`
}

// Services returns the services in progress, oldest first.
func (s *Service) Services(ctx context.Context) ([]ServiceInfo, error) {
	var out []ServiceInfo
	err := s.call(ctx, func() error {
		for _, ses := range s.byID {
			if ses.phase != phaseService || ses.ended {
				continue
			}
			si := ServiceInfo{Call: ses.id, Agent: ses.agent, Number: ses.number, Group: ses.group, Since: ses.start,
				Held: ses.held, Third: ses.thirdFor, Recorded: ses.rec != nil, Outbound: ses.kind == kindOutbound}
			for _, m := range ses.monitors {
				si.Monitors = append(si.Monitors, m.agent)
			}
			out = append(out, si)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b ServiceInfo) int { return a.Since.Compare(b.Since) })
	return out, err
}

// session returns a call of the service by id (loop).
func (s *Service) session(call string) (*session, error) {
	ses := s.byID[call]
	if ses == nil || ses.ended {
		return nil, fmt.Errorf("%w %q", ErrNoCall, call)
	}
	return ses, nil
}

// supervise runs a supervisor's operation on a call and publishes it.
func (s *Service) supervise(ctx context.Context, actor, call, action string, op func(*session) error) error {
	return s.call(ctx, func() error {
		ses, err := s.session(call)
		if err != nil {
			return err
		}
		if err := op(ses); err != nil {
			return err
		}
		s.publish(ccevent.Event{Type: ccevent.SupervisorAction, Actor: actor, Call: call, Agent: string(ses.lastAgent()),
			Detail: map[string]string{"action": action}})
		return nil
	})
}

// StopRequest stops a waiting request (停止请求): the caller hears goodbye
// and is hung up; a pending callback is cancelled.
func (s *Service) StopRequest(ctx context.Context, actor, call string) error {
	return s.call(ctx, func() error {
		if ses := s.byID[call]; ses != nil && ses.inACD {
			ses.stopped = true
		}
		if err := s.acd.Stop(acd.CallID(call)); err != nil {
			return err
		}
		s.publish(ccevent.Event{Type: ccevent.SupervisorAction, Actor: actor, Call: call, Detail: map[string]string{"action": "stop request"}})
		return nil
	})
}

// Assign rings a named agent for a waiting call now (指定座席).
func (s *Service) Assign(ctx context.Context, actor, call string, agent acd.AgentID) error {
	return s.call(ctx, func() error {
		if err := s.acd.Assign(acd.CallID(call), agent); err != nil {
			return err
		}
		s.publish(ccevent.Event{Type: ccevent.SupervisorAction, Actor: actor, Call: call, Agent: string(agent),
			Detail: map[string]string{"action": "assign"}})
		return nil
	})
}

// TearDown ends a service (拆除服务): the caller is hung up, the agent
// goes to wrap-up.
func (s *Service) TearDown(ctx context.Context, actor, call string) error {
	return s.supervise(ctx, actor, call, "tear down", func(ses *session) error {
		if ses.phase == phaseService {
			s.serviceOver(ses, "torn down by a supervisor")
		}
		ses.ac.End(callswitch.CauseNormal)
		return nil
	})
}

// TransferService transfers a service to another agent (转移服务).
func (s *Service) TransferService(ctx context.Context, actor, call string, agent acd.AgentID) error {
	return s.supervise(ctx, actor, call, "transfer", func(ses *session) error {
		return s.transfer(ses, Target{Kind: ToAgent, Agent: agent}, false)
	})
}

// Monitor calls a supervisor's phone into a service (监察服务): phone is
// the number to call ("" : the phone the supervisor is logged in on); the
// supervisor listens, and switches with 4 (listen), 5 (whisper to the
// agent) and 6 (barge).
func (s *Service) Monitor(ctx context.Context, supervisor acd.AgentID, call, phone string) error {
	return s.supervise(ctx, string(supervisor), call, "monitor", func(ses *session) error {
		if ses.phase != phaseService {
			return ErrNotInCall
		}
		dev := Device{Extension: phone}
		if phone == "" {
			dev = s.device(supervisor)
		} else if !s.sw.IsExtension(phone) {
			dev = Device{Outside: phone}
		}
		if dev.IsZero() {
			return fmt.Errorf("%w: %s has no phone to call (%w): name one", ErrRefused, supervisor, errNoDevice)
		}
		leg := s.originate(ses, dev, callswitch.Party{Number: ses.number}, 30*time.Second, callswitch.ModeListen)
		ses.legs[leg] = &legInfo{id: leg, role: roleSupervisor, agent: supervisor}
		ses.monitors[leg] = &monitor{agent: supervisor}
		return nil
	})
}

// SetMonitorMode switches a supervisor's monitoring: callswitch.ModeListen,
// ModeWhisper or ModeTalk (barge), as the 4, 5 and 6 keys do.
func (s *Service) SetMonitorMode(ctx context.Context, supervisor acd.AgentID, call string, mode callswitch.Mode) error {
	if mode != callswitch.ModeListen && mode != callswitch.ModeWhisper && mode != callswitch.ModeTalk {
		return fmt.Errorf("%w: mode %s is not listen, whisper or barge", ErrRefused, mode)
	}
	return s.supervise(ctx, string(supervisor), call, strings.ToLower(mode.String()), func(ses *session) error {
		for leg, m := range ses.monitors {
			if m.agent == supervisor {
				s.setMonitor(ses, leg, mode)
				return nil
			}
		}
		return fmt.Errorf("%w: %s is not monitoring %s", ErrRefused, supervisor, call)
	})
}

// PlayToCaller plays a prompt or text to a service's caller (播放语音文件,
// 播放一段文本), then the caller returns to the agent; or to a waiting
// caller, who then hears the group's music again (the prompt stops if an
// agent answers first).
func (s *Service) PlayToCaller(ctx context.Context, actor, call string, p ivr.Prompt) error {
	srcs, err := s.sources(ctx, []ivr.Prompt{p})
	if err != nil {
		return err
	}
	return s.supervise(ctx, actor, call, "play", func(ses *session) error {
		if ses.phase == phaseQueued && !ses.ended {
			s.playAsync(ses, ses.caller, func(context.Context) (callswitch.Source, error) { return srcs[0], nil },
				func(bool) { s.resumeMusic(ses) })
			return nil
		}
		return s.playToCaller(ses, srcs, false)
	})
}

// AgentFigure is an agent's live line: the engine's figures and the device.
type AgentFigure struct {
	acd.AgentStatus
	Device Device `json:"device"`
	// DeviceDown: the bound device is unavailable (unregistered, port
	// failed).
	DeviceDown bool `json:"device_down,omitempty"`
	// OutboundToday and OutboundTalk count today's outbound calls the
	// customer answered and their talk time, the one in progress included
	// (the embedded status's Answered and TalkTime are the calls in).
	OutboundToday int           `json:"outbound_today"`
	OutboundTalk  time.Duration `json:"outbound_talk"`
}

// Figures are the live figures of the call centre: per group (waiting,
// longest wait, offered, answered, abandoned, timed out, the engine's
// service level), per agent (state, reason, time in state, calls and talk
// time today, device), and the waiting list.
type Figures struct {
	Queues  []acd.QueueStats  `json:"queues"`
	Agents  []AgentFigure     `json:"agents"`
	Waiting []acd.WaitingCall `json:"waiting"`
	// SLFormula says how the reports' service level is counted.
	SLFormula string `json:"sl_formula"`
}

// Figures returns the live figures.
func (s *Service) Figures(ctx context.Context) (Figures, error) {
	f := Figures{Queues: s.acd.Queues(), Waiting: s.acd.Waiting(), SLFormula: SLFormula}
	agents := s.acd.Agents()
	err := s.call(ctx, func() error {
		now := s.clock.Now()
		for _, a := range agents {
			af := AgentFigure{AgentStatus: a, Device: s.device(a.Agent)}
			if rt := s.agents[a.Agent]; rt != nil {
				af.DeviceDown = rt.down
				rt.outToday(now)
				af.OutboundToday, af.OutboundTalk = rt.outCalls, rt.outTalk
				if ses := rt.ses; ses != nil && ses.kind == kindOutbound && ses.cb != nil && !ses.cb.answered.IsZero() {
					af.OutboundTalk += now.Sub(later(ses.cb.answered, rt.day))
				}
			}
			f.Agents = append(f.Agents, af)
		}
		return nil
	})
	return f, err
}
