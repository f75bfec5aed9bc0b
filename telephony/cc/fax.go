package cc

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"callbox/telephony/acd"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/fax"
	"callbox/telephony/ivr"
	"callbox/telephony/media"
	callswitch "callbox/telephony/switch"
)

// fax.go puts faxes in the call centre's calls: a fax machine heard
// calling (CNG) on a caller in a flow, or on a call a route answered,
// hands the call to the fax receiver; an IVR fax node sends a document on
// the call or receives one; the route target "fax" receives; an agent
// sends a document to the caller or receives one (Fax). The faxes
// themselves are the fax service's (Options.Fax), which keeps each in the
// fax inbox or outbox with the call centre's call id (the service
// record's).

// FaxService is the box's fax service as the call centre uses it: faxes
// on the legs of its calls, and the named documents of fax on demand.
type FaxService interface {
	// OnLeg runs a fax on a leg (telephony/fax's Service.OnLeg): doc
	// sent, or with doc nil one received; the record links call (the
	// call centre's call id); done hears the record once kept.
	OnLeg(c *callswitch.AppCall, leg callswitch.LegID, call, number string, doc []byte, done func(fax.Record)) (fax.Record, error)
	// Document reads a named fax document.
	Document(name string) ([]byte, error)
}

// errNoFax refuses faxes on a box without the fax service.
var errNoFax = errors.New("cc: fax is not available on this box")

// listenForFax starts listening for a fax machine calling on the
// session's caller (a flow or a route's answer runs on them), on the loop.
// The listening ends with the session, or when a fax starts. It goes on
// while the caller waits in a queue, talks with an agent, or leaves a
// message or a recording: what else listens to the caller (a recording,
// a message) is chained behind the detector (callerTap, dialog.setTap).
func (s *Service) listenForFax(ses *session) {
	if s.opts.Fax == nil || ses.cng != nil || ses.faxing {
		return
	}
	det := fax.NewDetector(func() { s.post(func() { s.faxHeard(ses) }) })
	ses.cng = det
	s.faxMu.Lock()
	s.detectors[det] = true
	s.faxMu.Unlock()
	ses.ac.SetTap(ses.caller, det.Tap())
	det.Start(s.ctx)
}

// stopListening stops the session's fax detector (loop).
func (s *Service) stopListening(ses *session) {
	det := ses.cng
	if det == nil {
		return
	}
	ses.cng = nil
	// What listened behind the detector (a recording) has the leg again.
	if next := det.Detach(); !ses.ended {
		ses.ac.SetTap(ses.caller, next)
	}
	s.faxMu.Lock()
	delete(s.detectors, det)
	s.faxMu.Unlock()
}

// callerTap sets what listens to the session's caller besides the fax
// detector (a service recording; nil: nothing), behind the detector while
// it listens (loop).
func (s *Service) callerTap(ses *session, t *media.Tap) {
	if ses.cng != nil && ses.cng.Chain(t) {
		return
	}
	ses.ac.SetTap(ses.caller, t)
}

// setTap is callerTap for a dialogue (a record or voicemail node) on its
// leg: the detector it started with, if still listening, passes the
// leg's frames on to t.
func (d *dialog) setTap(t *media.Tap) {
	if d.cng != nil && d.cng.Chain(t) {
		return
	}
	d.ac.SetTap(d.leg, t)
}

// detectorsIdle reports whether every fax detector heard every frame.
func (s *Service) detectorsIdle() bool {
	s.faxMu.Lock()
	defer s.faxMu.Unlock()
	for d := range s.detectors {
		if !d.Idle() {
			return false
		}
	}
	return true
}

// faxHeard: a fax machine calls on the session's caller (loop). A caller
// in a flow (leaving a message or a recording included), or on a call a
// route answered, is received; one waiting in a queue leaves it (and the
// agents it rang) for the receiver; one talking with an agent is received
// on the agent's call, as the agent's fax-receive does, when nobody else
// is on it (no prompt, hold or third party).
func (s *Service) faxHeard(ses *session) {
	if ses.cng == nil { // the listening was stopped meanwhile
		return
	}
	s.stopListening(ses)
	switch {
	case ses.ended || ses.faxing:
		return
	case ses.phase == phaseService && ses.agent != "":
		if inService(ses) != nil || ses.dlg != nil || ses.held || ses.third != 0 {
			return
		}
		if err := s.faxStarts(ses); err != nil {
			return
		}
		s.log.Info("fax machine heard on an agent's call: receiving a fax", "call", ses.id, "agent", ses.agent)
		if _, err := s.agentFaxOn(ses, ses.ac, ses.caller, ses.number, ses.agent, nil); err != nil {
			s.log.Warn("fax not received", "call", ses.id, "err", err)
		}
		return
	case ses.inACD && ses.phase == phaseQueued:
		ses.inACD = false
		for a, leg := range ses.rings {
			ses.ac.Hangup(leg, callswitch.CauseCancelled)
			delete(ses.rings, a)
		}
		_ = s.acd.Hangup(acd.CallID(ses.id))
		ses.phase = phaseIVR
	case ses.agent != "" || (ses.phase != phaseIVR && ses.phase != phaseNew && ses.phase != phaseQueued):
		return
	}
	s.log.Info("fax machine heard: the call goes to the fax receiver", "call", ses.id, "number", ses.number)
	s.notice(ses.id, "", "fax machine heard: receiving a fax")
	s.receiveFax(ses)
}

// receiveFax replaces the dialogue on the session's caller with the fax
// receiver, then hangs up (loop).
func (s *Service) receiveFax(ses *session) {
	old := ses.dlg
	s.startDialog(ses, func(d *dialog) {
		if old != nil {
			<-old.done // the flow no longer plays to the caller
			// What it last asked of the switch (a message's tap taken off
			// the leg) is done before the fax's tap goes on.
			d.switchTurn()
		}
		if _, err := d.fax(""); err != nil && !errors.Is(err, ivr.ErrHangup) {
			d.s.log.Info("fax not received", "call", d.id, "err", err)
		}
		d.hangup()
	})
}

// fax runs a fax on the dialogue's leg: doc names the document sent, ""
// receives. It returns once the fax is over; a fax that failed is an
// error.
func (d *dialog) fax(doc string) (fax.Record, error) {
	fs := d.s.opts.Fax
	if fs == nil {
		return fax.Record{}, errNoFax
	}
	var b []byte
	if doc != "" {
		var err error
		if b, err = fs.Document(doc); err != nil {
			return fax.Record{}, fmt.Errorf("cc: fax document %q: %w", doc, err)
		}
	}
	if err := d.ask(func() error { return d.s.faxStarts(d.ses) }); err != nil {
		return fax.Record{}, err
	}
	defer d.s.post(func() { d.ses.faxing = false })
	t := d.token()
	var res fax.Record
	if _, err := fs.OnLeg(d.ac, d.leg, d.id, d.number, b, func(r fax.Record) {
		res = r
		d.push(msg{kind: msgFax, token: t})
	}); err != nil {
		return fax.Record{}, fmt.Errorf("cc: fax: %w", err)
	}
	for {
		m, err := d.next()
		if err != nil {
			// The leg ended or the dialogue stopped: the fax ends with
			// the leg (or is stopped) and keeps its own record.
			d.ac.StopPlay(d.leg)
			return fax.Record{}, err
		}
		if m.kind == msgFax && m.token == t {
			break
		}
		if err := d.handle(m); err != nil {
			d.ac.StopPlay(d.leg)
			return fax.Record{}, err
		}
	}
	if res.Status != fax.StatusDone {
		return res, fmt.Errorf("cc: fax %s: %s", res.ID, res.Error)
	}
	return res, nil
}

// faxStarts marks a fax under way on the session (loop): its caller is no
// longer listened to for a fax machine.
func (s *Service) faxStarts(ses *session) error {
	if ses.ended {
		return ivr.ErrHangup
	}
	if ses.faxing {
		return fmt.Errorf("%w: a fax is under way", ErrRefused)
	}
	s.stopListening(ses)
	ses.faxing = true
	return nil
}

// Fax implements ivr.FaxCall: the fax node.
func (c ivrCall) Fax(_ context.Context, req ivr.FaxRequest) (ivr.FaxResult, error) {
	r, err := c.d.fax(req.Document)
	if err != nil {
		return ivr.FaxResult{}, err
	}
	return ivr.FaxResult{ID: r.ID, Pages: r.Pages}, nil
}

// AgentFax runs a fax with the agent's caller (the caller's fax machine):
// doc (TIFF, PNG or JPEG) is sent, or with doc nil a fax is received. It
// returns once the fax has started, with its record; the caller hears
// only the fax while it lasts, and the call stays the agent's. A second
// fax at once, or one while a prompt or flow runs on the caller, is
// refused.
func (s *Service) AgentFax(ctx context.Context, agent acd.AgentID, doc []byte) (fax.Record, error) {
	fs := s.opts.Fax
	if fs == nil {
		return fax.Record{}, errNoFax
	}
	var (
		ses *session
		ac  *callswitch.AppCall
		leg callswitch.LegID
		num string
	)
	err := s.withAgent(ctx, agent, func(x *session) error {
		if err := inService(x); err != nil {
			return err
		}
		if x.dlg != nil || x.held || x.third != 0 {
			return fmt.Errorf("%w: the caller is not only with the agent", ErrRefused)
		}
		if err := s.faxStarts(x); err != nil {
			return err
		}
		ses, ac, leg, num = x, x.ac, x.caller, x.number
		return nil
	})
	if err != nil {
		return fax.Record{}, err
	}
	return s.agentFaxOn(ses, ac, leg, num, agent, doc)
}

// agentFaxOn runs a fax on the caller's leg (ac, leg; the caller's
// number num) of an agent's call that faxStarts marked, on the loop or
// off it: of the session, only its identity is read here.
func (s *Service) agentFaxOn(ses *session, ac *callswitch.AppCall, leg callswitch.LegID, num string, agent acd.AgentID, doc []byte) (fax.Record, error) {
	id := ses.id
	rec, err := s.opts.Fax.OnLeg(ac, leg, id, num, doc, func(r fax.Record) {
		s.post(func() {
			ses.faxing = false
			if ses.rec != nil && !ses.ended { // the fax took the recording's tap
				ses.ac.SetTap(ses.caller, ses.rec.Tap())
			}
			s.publishFax(id, string(agent), r)
		})
	})
	if err != nil {
		s.post(func() { ses.faxing = false })
		if errors.Is(err, fax.ErrInvalid) {
			return fax.Record{}, fmt.Errorf("%w: %w", ErrRefused, err)
		}
		return fax.Record{}, fmt.Errorf("cc: fax: %w", err)
	}
	s.post(func() { s.publishFax(id, string(agent), rec) })
	return rec, nil
}

// publishFax tells the agent's desk how its fax goes (loop): a
// fax.progress event when it starts and when it ends.
func (s *Service) publishFax(call, agent string, r fax.Record) {
	d := map[string]string{"id": r.ID, "direction": r.Direction, "pages": strconv.Itoa(r.Pages)}
	if r.Document > 0 {
		d["document"] = strconv.Itoa(r.Document)
	}
	if r.Error != "" {
		d["error"] = r.Error
	}
	s.publish(ccevent.Event{Type: ccevent.FaxProgress, Call: call, Agent: agent, State: r.Status, Detail: d})
}
