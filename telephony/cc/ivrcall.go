package cc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/ccconf"
	"callbox/telephony/ivr"
	callswitch "callbox/telephony/switch"
)

// ivrCall is ivr.Call over a dialogue on the caller's leg. The engine
// passes the dialogue's own context (the run's), so ctx adds nothing.
type ivrCall struct{ d *dialog }

var _ ivr.Call = ivrCall{}

// Play implements ivr.Call.
func (c ivrCall) Play(_ context.Context, p ivr.Prompt) error { return c.d.say(p, false) }

// Collect implements ivr.Call.
func (c ivrCall) Collect(_ context.Context, req ivr.CollectRequest) (string, error) {
	return c.d.collect(req)
}

// Record implements ivr.Call.
func (c ivrCall) Record(_ context.Context, req ivr.RecordRequest) (ivr.Recording, error) {
	return c.d.record(req)
}

// Transfer implements ivr.Call: the number rings in the call (an extension
// or an outside number as from outside); once it answers, the two talk
// and the flow is over.
func (c ivrCall) Transfer(_ context.Context, req ivr.TransferRequest) error {
	return c.d.transfer(req)
}

// Queue implements ivr.Call.
func (c ivrCall) Queue(_ context.Context, req ivr.QueueRequest) (ivr.QueueOutcome, error) {
	return c.d.queue(req)
}

// Voicemail implements ivr.Call with the honest stand-in: the caller hears
// that voicemail is not available yet and the call ends.
func (c ivrCall) Voicemail(_ context.Context, req ivr.VoicemailRequest) error {
	if err := c.d.voicemail(req.Box); err != nil {
		return err
	}
	c.d.hangup()
	return fmt.Errorf("%w: the call ended in voicemail %s", ivr.ErrHangup, req.Box)
}

// Hangup implements ivr.Call.
func (c ivrCall) Hangup(context.Context) error {
	c.d.hangup()
	return nil
}

// ReturnToAgent implements ivr.Call: the caller talks with the agent who
// sent them into the flow again (通话返回). The engine also calls it once
// the agent resumed, when the dialogue is cancelled: so it does not wait.
func (c ivrCall) ReturnToAgent(_ context.Context, agent string) error {
	d := c.d
	d.s.post(func() {
		if err := d.s.backToAgent(d.ses); err != nil {
			d.s.log.Info("caller not taken back", "call", d.id, "agent", agent, "err", err)
			d.ses.ac.End(callswitch.CauseNormal) // the agent is gone: do not leave the caller alone
		}
	})
	return nil
}

// runFlow runs a flow on the session's caller (agent: the agent who sent
// them, to whom they return).
func (s *Service) runFlow(ses *session, flow, agent string) {
	ses.phase = phaseIVR
	req := ivr.Request{Flow: flow, Caller: ses.number, Called: ses.in.To, Agent: agent}
	if t, blocked := s.acd.Classify(ses.number, ""); !blocked {
		req.CustomerType = t.Name
	}
	s.startDialog(ses, func(d *dialog) {
		res, err := s.ivr.Run(d.ctx, ivrCall{d}, req)
		s.post(func() { s.flowDone(ses, res, err) })
	})
}

// flowDone records how a flow ended.
func (s *Service) flowDone(ses *session, res ivr.Result, err error) {
	if err != nil {
		s.log.Warn("ivr flow could not start", "call", ses.id, "flow", res.Flow, "err", err)
		s.notice(ses.id, "", err.Error())
	}
	for _, f := range res.Failures {
		s.log.Info("ivr flow failure", "call", ses.id, "flow", f.Flow, "node", f.Node, "err", f.Err)
	}
	for _, a := range res.Surveys {
		if a.Rated {
			s.surveyAnswered(ses, a.Rating)
		}
	}
	if ses.phase == phaseIVR && !ses.ended && (res.End == ivr.EndFailed || res.End == ivr.EndReturned) && ses.agent == "" {
		// The engine hung up; nothing more to do here.
		return
	}
}

// runQueue queues the session's caller in a group without a flow (a route
// straight to a group); unserved, they hear an apology.
func (s *Service) runQueue(ses *session, group int) {
	s.startDialog(ses, func(d *dialog) {
		out, err := d.queue(ivr.QueueRequest{Group: group})
		if err != nil || out.Served {
			return
		}
		_ = d.sayQuiet(promptUnavailable)
		d.hangup()
	})
}

// qKind is how a wait in the queue ended (or that it began).
type qKind uint8

const (
	qQueued   qKind = iota + 1 // waiting
	qServed                    // an agent answered
	qRouted                    // the group's overflow target takes the caller
	qUnserved                  // no agent: the flow decides (its overflow branch)
	qStopped                   // a supervisor stopped the request
)

// queueResult is what the loop tells a dialogue waiting in a queue.
type queueResult struct {
	kind   qKind
	target acd.Target
	reason string
	cbKey  string // the callback key of the group
}

// queue waits in the ACD for an agent: it returns Served once an agent
// answered, or carries out the group's overflow target, or returns
// unserved for the flow's own overflow branch.
func (d *dialog) queue(req ivr.QueueRequest) (ivr.QueueOutcome, error) {
	return d.queueWith(req, nil)
}

// queueWith is queue with a function run once the caller waits (a
// transfer to a named agent assigns them then).
func (d *dialog) queueWith(req ivr.QueueRequest, queued func()) (ivr.QueueOutcome, error) {
	if err := d.consent(req.Group); err != nil {
		return ivr.QueueOutcome{}, err
	}
	var res queueResult
	if err := d.ask(func() (err error) { res, err = d.s.enqueue(d.ses, d, req); return err }); err != nil {
		return ivr.QueueOutcome{}, err
	}
	if res.kind == qQueued && queued != nil {
		queued()
	}
	for res.kind == qQueued {
		m, err := d.next()
		if err != nil {
			return ivr.QueueOutcome{}, err
		}
		switch m.kind {
		case msgQueue:
			res.kind, res.target, res.reason = m.queue.kind, m.queue.target, m.queue.reason
		case msgGone:
			d.gone = true
			return ivr.QueueOutcome{}, ivr.ErrHangup
		case msgDigit:
			if res.cbKey == "" || string(m.digit) != res.cbKey {
				continue // keys while waiting go nowhere
			}
			if err := d.ask(func() error { return d.s.requestCallback(d.ses) }); err != nil {
				d.s.log.Info("callback refused", "call", d.id, "err", err)
				continue
			}
			if err := d.sayQuiet(promptCallback); err != nil {
				return ivr.QueueOutcome{}, err
			}
			d.hangup()
			return ivr.QueueOutcome{}, fmt.Errorf("%w: the caller asked for a callback", ivr.ErrHangup)
		}
	}
	switch res.kind {
	case qServed:
		return ivr.QueueOutcome{Served: true}, nil
	case qUnserved:
		return ivr.QueueOutcome{Reason: res.reason}, nil
	case qStopped:
		_ = d.sayQuiet(promptGoodbye)
		d.hangup()
		return ivr.QueueOutcome{}, fmt.Errorf("%w: a supervisor stopped the request", ivr.ErrHangup)
	}
	// The group's overflow target.
	t := res.target
	switch t.Kind {
	case acd.TargetIVR:
		sub, err := d.s.ivr.Run(d.ctx, ivrCall{d}, ivr.Request{Flow: t.Flow, Caller: d.number, Called: d.called})
		d.s.post(func() { d.s.flowDone(d.ses, sub, err) })
		return ivr.QueueOutcome{}, fmt.Errorf("%w: overflowed to flow %s", ivr.ErrHangup, t.Flow)
	case acd.TargetVoicemail:
		if err := d.voicemail(t.Mailbox); err != nil {
			return ivr.QueueOutcome{}, err
		}
	default:
		if t.Message != "" {
			if err := d.sayQuiet(ivr.Prompt{File: t.Message}); err != nil {
				return ivr.QueueOutcome{}, err
			}
		} else if err := d.sayQuiet(promptUnavailable); err != nil {
			return ivr.QueueOutcome{}, err
		}
	}
	d.hangup()
	return ivr.QueueOutcome{}, fmt.Errorf("%w: overflowed (%s)", ivr.ErrHangup, res.reason)
}

// enqueue offers the session's caller to the ACD (on the loop).
func (s *Service) enqueue(ses *session, d *dialog, req ivr.QueueRequest) (queueResult, error) {
	cfg := s.cfg.Load()
	if ses.ended {
		return queueResult{}, ivr.ErrHangup
	}
	ci := acd.CallInfo{ID: acd.CallID(ses.id), Number: ses.number, Group: req.Group}
	if req.CustomerType != "" {
		id, ok := customerType(cfg, req.CustomerType)
		if !ok {
			return queueResult{}, fmt.Errorf("cc: queue: unknown customer type %q", req.CustomerType)
		}
		ci.Type = id
	}
	out, t, err := s.acd.Offer(ci)
	if err != nil {
		return queueResult{}, err
	}
	switch out {
	case acd.Blocked:
		return queueResult{kind: qRouted, target: acd.Target{Kind: acd.TargetHangup}, reason: "blacklisted"}, nil
	case acd.Routed:
		s.publish(ccevent.Event{Type: ccevent.CallOverflowed, Call: ses.id, Number: ses.number, Group: req.Group,
			Target: targetName(t), Reason: "refused"})
		return s.routed(ses, req.Group, t, "refused"), nil
	}
	ses.inACD, ses.phase = true, phaseQueued
	ses.group = req.Group
	if ses.group == 0 {
		for _, w := range s.acd.Waiting() {
			if w.Call == ci.ID {
				ses.group = w.Group
			}
		}
	}
	g, _ := groupConf(cfg, ses.group)
	s.holdMusic(ses)
	detail := map[string]string{}
	if ct, _ := s.acd.Classify(ses.number, ""); ci.Type == 0 {
		detail["customer_type"] = ct.Name
	} else {
		detail["customer_type"] = strconv.Itoa(ci.Type)
	}
	s.publish(ccevent.Event{Type: ccevent.CallQueued, Call: ses.id, Group: ses.group, Number: ses.number, Detail: detail})
	if req.MaxWait > 0 {
		s.clock.AfterFunc(req.MaxWait, func() {
			s.post(func() {
				if ses.phase == phaseQueued && ses.inACD && !ses.ended {
					ses.capped = true
					_ = s.acd.Stop(acd.CallID(ses.id))
				}
			})
		})
	}
	return queueResult{kind: qQueued, cbKey: callbackKey(g)}, nil
}

// routed is what a caller the ACD sends out of a group gets: the group's
// overflow target, or, when the group has none, the flow's own branch.
func (s *Service) routed(ses *session, grp int, t acd.Target, reason string) queueResult {
	if g, ok := groupConf(s.cfg.Load(), grp); !ok || g.Overflow.Kind == "" || g.Overflow.Kind == ccconf.TargetGroup {
		return queueResult{kind: qUnserved, reason: reason}
	}
	return queueResult{kind: qRouted, target: t, reason: reason}
}

func targetName(t acd.Target) string {
	switch t.Kind {
	case acd.TargetIVR:
		return "flow:" + t.Flow
	case acd.TargetVoicemail:
		return "voicemail:" + t.Mailbox
	case acd.TargetGroup:
		return "group:" + strconv.Itoa(t.Group)
	}
	return "hangup"
}

// transfer rings number in the call; once it answers, the caller and it
// talk and the flow is over.
func (d *dialog) transfer(req ivr.TransferRequest) error {
	var leg callswitch.LegID
	if err := d.ask(func() error {
		var err error
		leg, err = d.s.ivrTransfer(d.ses, req)
		return err
	}); err != nil {
		return err
	}
	for {
		m, err := d.next()
		if err != nil {
			return err
		}
		if m.kind == msgLeg && m.token == uint64(leg) {
			if m.err != nil {
				return m.err
			}
			return nil
		}
		if err := d.handle(m); err != nil {
			return err
		}
	}
}

// ivrTransfer originates an IVR transfer's target in the session (loop).
func (s *Service) ivrTransfer(ses *session, req ivr.TransferRequest) (callswitch.LegID, error) {
	if s.cfg.Load().BlockedOut(req.To) {
		return 0, fmt.Errorf("cc: transfer: %s is blacklisted", req.To)
	}
	if ses.third != 0 {
		return 0, fmt.Errorf("cc: transfer: %w", ErrRefused)
	}
	leg := ses.ac.Originate(callswitch.Originate{Number: s.dialOut(req.To, ""), CallerID: callswitch.Party{Number: ses.number},
		RingTimeout: req.Timeout, Mode: callswitch.ModeTalk})
	ses.legs[leg] = &legInfo{id: leg, role: roleThird, party: req.To}
	ses.third, ses.thirdFor = leg, "ivr"
	ringback(s, ses, ses.caller)
	return leg, nil
}

// ringback plays the country's ringback to a leg while the far end rings.
func ringback(s *Service, ses *session, leg callswitch.LegID) {
	if src, err := s.sw.ToneSource("ringback"); err == nil {
		ses.ac.Play(leg, src, nil)
	}
}

// record records the caller for an IVR record node.
func (d *dialog) record(req ivr.RecordRequest) (ivr.Recording, error) {
	rec := d.s.opts.Recorder
	if rec == nil {
		return ivr.Recording{}, errors.New("cc: record: recording is not available on this box")
	}
	if !req.Prompt.IsZero() {
		if err := d.say(req.Prompt, false); err != nil {
			return ivr.Recording{}, err
		}
	}
	if req.Beep {
		if err := d.play(callswitch.Beep(1000, 300*time.Millisecond), false); err != nil {
			return ivr.Recording{}, err
		}
	}
	r, err := rec.Start(d.id, "ivr")
	if err != nil {
		return ivr.Recording{}, fmt.Errorf("cc: record: %w", err)
	}
	d.setTap(r.Tap())
	start := d.s.clock.Now()
	max := req.Max
	if max <= 0 {
		max = 2 * time.Minute
	}
	t, tm := d.timer(max)
	var werr error
	for {
		m, err := d.next()
		if err != nil {
			werr = err
			break
		}
		if m.kind == msgTimer && m.token == t {
			break
		}
		if m.kind == msgDigit && req.Terminator != "" && string(m.digit) == req.Terminator {
			break
		}
		if err := d.handle(m); err != nil && m.kind == msgGone {
			break // a hang-up ends the recording; it is kept
		}
	}
	tm.Stop()
	d.setTap(nil)
	id, err := r.Stop()
	if err != nil {
		return ivr.Recording{}, fmt.Errorf("cc: record: %w", err)
	}
	if werr != nil && !errors.Is(werr, ivr.ErrHangup) {
		return ivr.Recording{}, werr
	}
	return ivr.Recording{ID: id, Duration: d.s.clock.Now().Sub(start)}, nil
}

// consent plays the recording consent prompt ("this call may be
// recorded") once per dialogue before the caller waits for a group that
// records its services, when the box has one set.
func (d *dialog) consent(group int) error {
	if d.consented || d.s.opts.Consent == nil {
		return nil
	}
	if g, ok := groupConf(d.s.cfg.Load(), group); !ok || !g.Records() {
		return nil
	}
	name := d.s.opts.Consent()
	if name == "" {
		return nil
	}
	d.consented = true
	return d.sayQuiet(ivr.Prompt{File: name})
}
