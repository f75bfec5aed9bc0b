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

// Reasons the service gives the engine's state changes, as the status log
// and the events show them.
const (
	ReasonDeviceDown = "device unavailable"
	ReasonDeviceBack = "device back"
	ReasonRestored   = "restored after restart"
	// ReasonOutbound is an agent's busy state while dialling out or
	// talking on an outbound call.
	ReasonOutbound = "outbound"
	// ReasonOutboundAnswered and ReasonOutboundEnded mark, in the status
	// log, where the customer of an outbound call answered and where the
	// call ended (busy to busy entries the service writes itself): a
	// restart counts the day's outbound calls and talk from them.
	ReasonOutboundAnswered = "outbound answered"
	ReasonOutboundEnded    = "outbound ended"
)

// statusLog is the ACD engine's StatusLog: it keeps the entries where
// the box's store does and publishes each change as an AgentState event.
type statusLog struct {
	s    *Service
	next acd.StatusLog
}

// AppendStatus implements acd.StatusLog. The engine calls it under its
// lock: the event is posted, in order, ahead of the operation's actions.
func (l statusLog) AppendStatus(e acd.StatusEntry) error {
	l.s.post(func() { l.s.agentStateEvent(e) })
	if l.next == nil {
		return nil
	}
	return l.next.AppendStatus(e)
}

// StatusEntries implements acd.StatusLog.
func (l statusLog) StatusEntries(agent acd.AgentID, from, to time.Time) ([]acd.StatusEntry, error) {
	if l.next == nil {
		return nil, nil
	}
	return l.next.StatusEntries(agent, from, to)
}

func (s *Service) agentStateEvent(e acd.StatusEntry) {
	ev := ccevent.Event{Type: ccevent.AgentState, Time: e.At, Agent: string(e.Agent), State: e.To.String(), Reason: e.Reason, Call: string(e.Call)}
	rt := s.agents[e.Agent]
	if rt != nil {
		ev.Device = rt.device.String()
		ev.Detail = map[string]string{"registered": fmt.Sprint(!rt.down)}
	}
	s.publish(ev)
}

// restore rebinds agents to their devices and puts each back in the state
// of their last status entry (a call they were in is over: idle).
func (s *Service) restore() error {
	if s.opts.Devices != nil {
		devs, err := s.opts.Devices.Devices()
		if err != nil {
			return fmt.Errorf("cc: restoring device bindings: %w", err)
		}
		for id, d := range devs {
			s.agentRT(id).device = d
		}
	}
	now := s.clock.Now()
	today := acd.DayCounts{Day: now, Groups: s.recountGroups(now), Agents: map[acd.AgentID]acd.AgentCounts{}}
	if s.opts.Status == nil {
		s.seedToday(today)
		return nil
	}
	logs := map[acd.AgentID][]acd.StatusEntry{}
	for _, a := range s.cfg.Load().ACD().Agents {
		es, err := s.opts.Status.StatusEntries(a.ID, now.Add(-31*24*time.Hour), now.Add(365*24*time.Hour))
		if err != nil {
			return fmt.Errorf("cc: restoring agent %s: %w", a.ID, err)
		}
		if len(es) == 0 {
			continue
		}
		s.agentRT(a.ID).restoreOutbound(es, now)
		today.Agents[a.ID] = inboundToday(es, now)
		logs[a.ID] = es
	}
	// The counts go in before any agent is ready again: a restored
	// callback may be dialled as soon as one is.
	s.seedToday(today)
	for _, a := range s.cfg.Load().ACD().Agents {
		es, ok := logs[a.ID]
		if !ok {
			continue
		}
		last, since := es[len(es)-1], stateSince(es)
		to, reason := last.To, last.Reason
		switch {
		case to == acd.Offline:
			continue
		case to == acd.Ringing || to == acd.Talking || to == acd.WrapUp,
			to == acd.Busy && (reason == ReasonOutbound || reason == ReasonOutboundAnswered || reason == ReasonOutboundEnded):
			// The call is gone with the restart.
			to, reason, since = acd.Idle, ReasonRestored, time.Time{}
		}
		if err := s.acd.RestoreState(a.ID, to, reason, since); err != nil {
			s.log.Warn("agent state not restored", "agent", a.ID, "state", to, "err", err)
		}
	}
	return nil
}

// featureCode runs an agent's feature code dialled from an extension.
func (s *Service) featureCode(ses *session, in callswitch.Incoming) {
	k := s.cfg.Load().Features()
	code, arg, _ := parseCode(k, in.To)
	ext := in.Extension
	ses.ac.Answer(ses.caller)
	s.startDialog(ses, func(d *dialog) {
		defer d.hangup()
		if d.mediaCode(k, code, arg, ext) {
			return
		}
		var p ivr.Prompt
		var err error
		switch code {
		case k.Login:
			p = d.login(ext)
		case k.Logout:
			p, err = d.agentOp(ext, func(a acd.AgentID) error { return s.logout(a, "logout") }, promptLogoutOK)
		case k.Ready:
			p, err = d.agentOp(ext, func(a acd.AgentID) error { return s.acd.SetState(a, acd.Idle, "ready") }, promptStateOK)
		case k.Busy:
			p, err = d.agentOp(ext, func(a acd.AgentID) error { return s.acd.SetState(a, acd.Busy, "busy") }, promptStateOK)
		case k.WrapUpDone:
			p, err = d.agentOp(ext, func(a acd.AgentID) error { return s.wrapUpDone(a) }, promptStateOK)
		case k.Break:
			reason := "break"
			if arg != "" {
				reason = "break " + arg
			}
			p, err = d.agentOp(ext, func(a acd.AgentID) error { return s.acd.SetState(a, acd.Break, reason) }, promptStateOK)
		case k.Monitor:
			if d.monitorByCode(ext, acd.AgentID(arg)) {
				return // the leg went to the service it monitors
			}
			return
		case k.RecordPrompt:
			p, err = d.recordPrompt(ext, arg)
		}
		if err != nil {
			s.log.Info("feature code refused", "code", code, "extension", ext, "err", err)
		}
		_ = d.sayQuiet(p)
	})
}

// agentOn returns the agent bound to an extension.
func (s *Service) agentOn(ext string) (acd.AgentID, bool) {
	for id, rt := range s.agents {
		if rt.device.Extension == ext {
			if st, err := s.acd.Agent(id); err == nil && st.State != acd.Offline {
				return id, true
			}
		}
	}
	return "", false
}

// agentOp runs op for the agent logged in on ext and says how it went.
func (d *dialog) agentOp(ext string, op func(acd.AgentID) error, ok ivr.Prompt) (ivr.Prompt, error) {
	var agent acd.AgentID
	found := false
	if err := d.ask(func() error { agent, found = d.s.agentOn(ext); return nil }); err != nil {
		return promptRefused, err
	}
	if !found {
		return promptNotAgent, fmt.Errorf("cc: no agent on extension %s", ext)
	}
	if err := d.ask(func() error { return op(agent) }); err != nil {
		return promptRefused, err
	}
	return ok, nil
}

// pinFail is a phone's run of wrong PINs: after the configuration's
// pin_tries in a row, logins from it are refused for Options.PINLockout.
type pinFail struct {
	n     int
	until time.Time
}

// DefaultPINLockout is how long a phone that sent too many wrong PINs
// waits before it may try again.
const DefaultPINLockout = 5 * time.Minute

// pinLocked reports whether logins from ext are refused for now (loop).
func (s *Service) pinLocked(ext string) bool {
	f := s.pinFails[ext]
	return f != nil && s.clock.Now().Before(f.until)
}

// pinResult counts a PIN from ext (loop): a right one clears the run, a
// wrong one adds to it and, at the limit, locks the phone out.
func (s *Service) pinResult(ext string, ok bool) (locked bool) {
	if ok {
		delete(s.pinFails, ext)
		return false
	}
	f := s.pinFails[ext]
	if f == nil || (!f.until.IsZero() && !s.clock.Now().Before(f.until)) {
		f = &pinFail{}
		s.pinFails[ext] = f
	}
	f.n++
	tries := s.cfg.Load().Config().Settings.PINTries
	if tries <= 0 {
		tries = 3
	}
	if f.n >= tries {
		f.n, f.until = 0, s.clock.Now().Add(s.opts.PINLockout)
		return true
	}
	return false
}

// login asks for a work number and PIN and binds the agent to ext. A
// phone that keeps sending wrong PINs (the configuration's pin_tries in a
// row, across calls) is refused for a while, and supervisors are told.
func (d *dialog) login(ext string) ivr.Prompt {
	s := d.s
	for {
		var locked bool
		_ = d.ask(func() error { locked = s.pinLocked(ext); return nil })
		if locked {
			s.log.Warn("login by phone refused: too many wrong PINs", "extension", ext)
			return promptLoginFailed
		}
		num, err := d.collect(ivr.CollectRequest{Prompt: promptLoginNumber, Max: 12, Terminator: "#",
			FirstTimeout: 10 * time.Second, InterDigit: 5 * time.Second})
		if err != nil || num == "" {
			return promptLoginFailed
		}
		agent := acd.AgentID(num)
		var conf ccconf.Agent
		known := false
		_ = d.ask(func() error { conf, known = agentConf(s.cfg.Load(), agent); return nil })
		if !known {
			s.log.Info("login by phone: unknown work number", "extension", ext, "number", num)
			if err := d.sayQuiet(promptUnknownAgent); err != nil {
				return ivr.Prompt{}
			}
			// An unknown number counts as a wrong PIN would: the phone
			// cannot probe for work numbers without limit.
			_ = d.ask(func() error { locked = s.pinResult(ext, false); return nil })
			continue
		}
		pin, err := d.collect(ivr.CollectRequest{Prompt: promptLoginPIN, Max: 12, Terminator: "#",
			FirstTimeout: 10 * time.Second, InterDigit: 5 * time.Second})
		if err != nil {
			return ivr.Prompt{}
		}
		ok := s.opts.VerifyPIN != nil && conf.PINHash != "" && s.opts.VerifyPIN(conf.PINHash, pin)
		_ = d.ask(func() error { locked = s.pinResult(ext, ok); return nil })
		if !ok {
			s.log.Warn("login by phone: wrong PIN", "extension", ext, "agent", agent, "locked", locked)
			s.notice("", string(agent), fmt.Sprintf("wrong PIN from extension %s", ext))
			if err := d.sayQuiet(promptWrongPIN); err != nil {
				return ivr.Prompt{}
			}
			continue
		}
		if err := d.ask(func() error { return s.login(agent, Device{Extension: ext}, "login by phone") }); err != nil {
			s.log.Info("login by phone refused", "agent", agent, "err", err)
			return promptRefused
		}
		return promptLoginOK
	}
}

// login binds an agent to a device and signs them in (loop). Another
// agent bound to the same phone is signed out: one phone, one agent.
func (s *Service) login(agent acd.AgentID, dev Device, reason string) error {
	if _, ok := agentConf(s.cfg.Load(), agent); !ok {
		return fmt.Errorf("%w %q", ErrUnknownAgent, agent)
	}
	for id, rt := range s.agents {
		if id != agent && !dev.IsZero() && rt.device == dev {
			if err := s.logout(id, "another agent logged in on the phone"); err != nil {
				return fmt.Errorf("cc: the phone's agent %s: %w", id, err)
			}
		}
	}
	rt := s.agentRT(agent)
	if !dev.IsZero() {
		rt.device, rt.down = dev, false
		if s.opts.Devices != nil {
			if err := s.opts.Devices.PutDevice(agent, dev); err != nil {
				s.log.Warn("device binding not stored", "agent", agent, "err", err)
			}
		}
	}
	st, err := s.acd.Agent(agent)
	if err != nil {
		return err
	}
	if st.State != acd.Offline {
		return nil // already in: the new device takes their calls
	}
	return s.acd.SetState(agent, acd.Idle, reason)
}

// logout signs an agent out and unbinds their device (loop).
func (s *Service) logout(agent acd.AgentID, reason string) error {
	if err := s.acd.SetState(agent, acd.Offline, reason); err != nil {
		return err
	}
	if rt := s.agents[agent]; rt != nil {
		rt.device, rt.down = Device{}, false
	}
	if s.opts.Devices != nil {
		if err := s.opts.Devices.DeleteDevice(agent); err != nil {
			s.log.Warn("device binding not removed", "agent", agent, "err", err)
		}
	}
	return nil
}

// wrapUpDone ends an agent's wrap-up (loop).
func (s *Service) wrapUpDone(agent acd.AgentID) error {
	st, err := s.acd.Agent(agent)
	if err != nil {
		return err
	}
	if st.State != acd.WrapUp {
		return fmt.Errorf("%w: %s is %s, not in wrap-up", ErrRefused, agent, st.State)
	}
	return s.acd.SetState(agent, acd.Idle, "wrap-up done")
}

// deviceTrouble puts an agent whose device failed on break (loop).
func (s *Service) deviceTrouble(agent acd.AgentID, why string) {
	rt := s.agentRT(agent)
	rt.down = true
	if st, err := s.acd.Agent(agent); err == nil && (st.State == acd.Idle || st.State == acd.WrapUp) {
		if err := s.acd.SetState(agent, acd.Break, ReasonDeviceDown); err == nil {
			s.log.Warn("agent's device unavailable: on break until it is back", "agent", agent, "device", rt.device, "why", why)
		}
	}
}

// DeviceState reports a device going away or coming back: a SIP extension
// that registered, unregistered or stopped answering OPTIONS, an FXS port
// that failed or recovered. Agents bound to it (or configured with it) go
// on break while it is down and back to idle when it returns.
func (s *Service) DeviceState(ext string, up bool) {
	s.post(func() {
		for _, a := range s.cfg.Load().ACD().Agents {
			dev := s.device(a.ID)
			if dev.Extension != ext {
				continue
			}
			rt := s.agentRT(a.ID)
			if !up {
				s.deviceTrouble(a.ID, "device state")
				continue
			}
			rt.down = false
			if st, err := s.acd.Agent(a.ID); err == nil && st.State == acd.Break && st.Reason == ReasonDeviceDown {
				_ = s.acd.SetState(a.ID, acd.Idle, ReasonDeviceBack)
			}
		}
	})
}

// Login signs an agent in on a device (the REST API, a desk on a bound PC
// naming its extension); a zero device keeps the agent's current or
// configured one.
func (s *Service) Login(ctx context.Context, agent acd.AgentID, dev Device) error {
	return s.call(ctx, func() error { return s.login(agent, dev, "login") })
}

// Logout signs an agent out and unbinds their device; refused while they
// ring or talk (acd.ErrEngaged).
func (s *Service) Logout(ctx context.Context, agent acd.AgentID) error {
	return s.call(ctx, func() error { return s.logout(agent, "logout") })
}

// SetState sets an agent's state: acd.Idle (ready, also ending wrap-up),
// acd.Break with a reason, acd.Busy, acd.Offline (forced logout by a
// supervisor: actor names who). Ringing and talking agents are refused
// (acd.ErrEngaged), as the seeds say.
func (s *Service) SetState(ctx context.Context, agent acd.AgentID, to acd.State, reason, actor string) error {
	return s.call(ctx, func() error {
		var err error
		if to == acd.Offline {
			err = s.logout(agent, orReason(reason, "forced logout"))
		} else {
			err = s.acd.SetState(agent, to, reason)
		}
		if err == nil && actor != "" && actor != string(agent) {
			s.publish(ccevent.Event{Type: ccevent.SupervisorAction, Actor: actor, Agent: string(agent),
				State: to.String(), Detail: map[string]string{"action": "set state"}})
		}
		return err
	})
}

// WrapUpDone ends an agent's wrap-up.
func (s *Service) WrapUpDone(ctx context.Context, agent acd.AgentID) error {
	return s.call(ctx, func() error { return s.wrapUpDone(agent) })
}

// Devices returns each agent's bound device.
func (s *Service) Devices(ctx context.Context) (map[acd.AgentID]Device, error) {
	out := map[acd.AgentID]Device{}
	err := s.call(ctx, func() error {
		for id, rt := range s.agents {
			if !rt.device.IsZero() {
				out[id] = rt.device
			}
		}
		return nil
	})
	return out, err
}

func orReason(r, def string) string {
	if r == "" {
		return def
	}
	return r
}

// errNoDevice is returned when an agent has no phone to ring.
var errNoDevice = errors.New("cc: agent has no device")

// restoreOutbound counts today's outbound calls and their talk again from
// the agent's status log (es, in time order), as the service counted them
// before a restart: a call counts on the day its customer answered, its
// talk from then (or midnight) to its end; a call the restart cut ends at
// the next entry, or now.
func (rt *agentRT) restoreOutbound(es []acd.StatusEntry, now time.Time) {
	rt.outToday(now)
	for i, e := range es {
		if e.Reason != ReasonOutboundAnswered {
			continue
		}
		end := now
		if i+1 < len(es) {
			end = es[i+1].At
		}
		if !e.At.Before(rt.day) {
			rt.outCalls++
		}
		if end.After(rt.day) {
			rt.outTalk += end.Sub(later(e.At, rt.day))
		}
	}
}

// logOutbound writes an outbound call's own entry to the status log: the
// engine's state does not change (busy, outbound), so the engine writes
// none.
func (s *Service) logOutbound(agent acd.AgentID, at time.Time, reason, call string) {
	if s.opts.Status == nil {
		return
	}
	e := acd.StatusEntry{Agent: agent, At: at, From: acd.Busy, To: acd.Busy, Reason: reason, Call: acd.CallID(call)}
	if err := s.opts.Status.AppendStatus(e); err != nil {
		s.log.Warn("outbound call not in the status log", "agent", agent, "call", call, "err", err)
	}
}

// inboundToday counts an agent's calls in of today (of now's day) and
// their talk again from the agent's status log (es, in time order), as the
// engine counted them before a restart: every turn to talking is a call
// answered (a transfer to the agent too), counted on the day it began;
// its talk runs from then (or midnight) to the next entry, or now for a
// call the restart cut.
func inboundToday(es []acd.StatusEntry, now time.Time) acd.AgentCounts {
	day := dayStart(now)
	var n acd.AgentCounts
	for i, e := range es {
		if e.To != acd.Talking || e.From == acd.Talking {
			continue
		}
		end := now
		if i+1 < len(es) {
			end = es[i+1].At
		}
		if !e.At.Before(day) {
			n.Answered++
		}
		if end.After(day) {
			n.Talk += end.Sub(later(e.At, day))
		}
	}
	return n
}

// groupsToday counts the groups' figures of today (of now's day) again
// from the fact rows, as the engine counted them before a restart: a
// call queued today is offered to its group, and answered (within the
// group's service-level threshold sl, or not), abandoned or timed out
// (overflowed) by its row. Calls the engine turned away at the door or
// moved to an overflow group have no row of their own and are not
// counted again.
func groupsToday(fs []Fact, sl map[int]time.Duration, now time.Time) map[int]acd.GroupCounts {
	day := dayStart(now)
	out := map[int]acd.GroupCounts{}
	for _, f := range fs {
		if f.Group == 0 || f.Queued.Before(day) || f.Queued.After(now) {
			continue
		}
		n := out[f.Group]
		n.Offered++
		switch {
		case !f.Answered.IsZero():
			n.Answered++
			if f.Answered.Sub(f.Queued) <= sl[f.Group] {
				n.AnsweredSL++
			}
		case f.Disposition == "abandoned":
			n.Abandoned++
		case f.Disposition == "overflowed":
			n.TimedOut++
		}
		out[f.Group] = n
	}
	return out
}

// recountGroups reads today's fact rows back when the fact store can; a
// store that cannot be read costs the figures, not the service.
func (s *Service) recountGroups(now time.Time) map[int]acd.GroupCounts {
	r, ok := s.opts.Facts.(FactReader)
	if !ok {
		return nil
	}
	// A call's row may be written a while after it began (its id's time):
	// a day's margin keeps calls that waited in the IVR over midnight.
	fs, err := r.FactsSince(dayStart(now).Add(-24 * time.Hour))
	if err != nil {
		s.log.Warn("today's group figures not restored", "err", err)
		return nil
	}
	sl := map[int]time.Duration{}
	for _, q := range s.acd.Queues() {
		sl[q.Group] = q.SLThreshold
	}
	return groupsToday(fs, sl, now)
}

// seedToday gives the engine the day's counts back (at start only).
func (s *Service) seedToday(d acd.DayCounts) {
	if err := s.acd.SeedToday(d); err != nil {
		s.log.Warn("today's figures not restored", "err", err)
	}
}

// dayStart is the midnight that began t's day, in t's zone.
func dayStart(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// stateSince is when the agent entered the state their status log (es, in
// time order) ends in: the last entry, or the first of the entries before
// it that restarts only repeated (a restored state is logged again, from
// offline, at each start).
func stateSince(es []acd.StatusEntry) time.Time {
	i := len(es) - 1
	for i > 0 && es[i].From == acd.Offline && es[i].To == es[i-1].To && es[i].Reason == es[i-1].Reason {
		i--
	}
	return es[i].At
}
