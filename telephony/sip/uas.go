package sip

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"callbox/telephony/sip/sdpneg"
)

// The inbound side of a leg (UAS): the INVITE, the states before the
// call is confirmed, the 200 retransmitted until its ACK, and the
// requests the peer sends within the dialog.

// stateIncoming handles an inbound leg before its final response (offered
// and early).
func (l *Leg) stateIncoming(ev *legEvent) {
	switch ev.kind {
	case opRinging:
		var res *sip.Response
		if ev.early && l.hasMedia {
			res = sip.NewResponseFromRequest(l.invite, 183, "Session Progress", l.answerSDP)
			res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		} else {
			res = sip.NewResponseFromRequest(l.invite, 180, "Ringing", nil)
		}
		res.AppendHeader(sip.NewHeader("Server", l.e.cfg.UserAgent))
		if err := l.srv.WriteResponse(res); err != nil {
			l.e.log.Debug("sip: provisional response not sent", "leg", l.id, "error", err)
		}
		l.enter(StateEarly)
		ev.replyWith(nil)
	case opAnswer:
		body := l.answerSDP
		if l.offerless {
			body = sdpneg.Offer(l.local)
		}
		res := sip.NewResponseFromRequest(l.invite, 200, "OK", body)
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(l.contactHeader())
		res.AppendHeader(sip.NewHeader("Allow", allowed))
		// sipgo's dialog builds the requests we send in it from the
		// response that made it.
		l.srv.InviteResponse = res
		stopTimer(&l.ringT)
		l.send2xx(l.tx, res, l.invite.CSeq().SeqNo)
		l.finalSent()
		l.enter(StateAnswered)
		ev.replyWith(nil)
	case opReject:
		l.refuse(ev.cause)
		ev.replyWith(nil)
	case opHangup:
		l.refuse(CauseUnavailable)
		ev.replyWith(nil)
	case evRingTimeout:
		l.refuse(CauseNoAnswer)
	case evInviteEnded:
		// The transaction layer has answered the CANCEL 200 and the
		// INVITE 487; an error other than the cancel is a dead transport.
		c := CauseFailed
		if errors.Is(ev.err, sip.ErrTransactionCanceled) {
			c = CauseCancelled
		}
		l.terminate(c)
	case evBye:
		// A caller giving up on an early dialog with BYE instead of CANCEL.
		l.e.respond(l.tx, l.invite, 487, "Request Terminated")
		l.answer(ev, 200, "OK")
		l.terminate(CauseCancelled)
	default:
		l.common(ev)
	}
}

// refuse sends an inbound leg's final failure response for c and ends it.
func (l *Leg) refuse(c Cause) {
	code, reason := c.Status()
	if code < 300 {
		code, reason = CauseFailed.Status()
	}
	l.e.respond(l.tx, l.invite, code, reason)
	l.terminate(c)
}

// stateAnswered handles an inbound leg whose 200 waits for its ACK.
func (l *Leg) stateAnswered(ev *legEvent) {
	switch ev.kind {
	case evAck:
		if l.acked(ev.req) {
			l.confirmed(ev.req)
		}
	case evNoAck:
		l.noAck()
	case opHangup:
		// RFC 3261 15: the callee sends no BYE before the ACK of its 200
		// (or the end of its retransmissions); terminating waits for it.
		l.end(CauseNormal)
		l.enter(StateTerminating)
		ev.replyWith(nil)
	case evBye:
		l.answer(ev, 200, "OK")
		l.terminate(CauseNormal)
	case evInviteEnded:
		// A CANCEL that won over our 200: the caller got 487 instead.
		if errors.Is(ev.err, sip.ErrTransactionCanceled) {
			l.terminate(CauseCancelled)
		}
	case evReinvite, evInfo, evRefer:
		// sipgo handles each message on its own goroutine: a request sent
		// after the ACK can overtake it. It waits a little for the ACK.
		l.deferred = append(l.deferred, ev)
		if l.deferT == nil {
			l.deferT = time.NewTimer(time.Second)
		}
	case evDeferTimeout:
		held := l.deferred
		l.deferred = nil
		for _, d := range held {
			if d.kind == evInfo {
				l.common(d)
				continue
			}
			l.answer(d, 491, "Request Pending")
		}
	default:
		l.common(ev)
	}
}

// confirmed takes the ACK of an inbound leg's 200: the call is up.
func (l *Leg) confirmed(ack *sip.Request) {
	if l.offerless {
		m, err := sdpneg.Accept(ack.Body(), l.local)
		if err != nil {
			l.end(CauseNoCodec)
			l.bye()
			return
		}
		l.setMedia(m)
	}
	l.enter(StateConfirmed)
	l.note(func(h CallHandler) { h.Answered(l) })
	stopTimer(&l.deferT)
	held := l.deferred
	l.deferred = nil
	for _, d := range held {
		l.handle(d)
	}
}

func (e *Endpoint) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if req.To() == nil || req.From() == nil || req.CallID() == nil || req.CSeq() == nil {
		e.respond(tx, req, 400, "Bad Request")
		return
	}
	if req.To().Params.Has("tag") {
		e.onReinvite(req, tx)
		return
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		e.respond(tx, req, 483, "Too Many Hops")
		return
	}
	if tags := required(req); tags != "" {
		// RFC 3261 8.2.2.3: the box supports no extension a caller can
		// require (100rel, timer, replaces on INVITE, ...).
		e.respond(tx, req, 420, "Bad Extension", sip.NewHeader("Unsupported", tags))
		return
	}
	trunk, ext, ok := e.caller(tx, req)
	if !ok {
		return
	}
	if req.Contact() == nil {
		// RFC 3261 8.1.1.8: an INVITE must say where the dialog's
		// requests go.
		e.respond(tx, req, 400, "Missing Contact")
		return
	}
	e.respond(tx, req, 100, "Trying")
	rtp, err := e.deps.RTP.AllocRTP()
	if err != nil {
		e.respond(tx, req, 503, "Service Unavailable")
		return
	}
	transport := strings.ToUpper(req.Transport())
	sess, err := e.dialogUA(transport).ReadInvite(req, tx)
	if err != nil {
		e.deps.RTP.ReleaseRTP(rtp)
		if tx.Err() == nil {
			e.respond(tx, req, 400, "Bad Request")
		}
		// Otherwise cancelled before we could listen: the switch never
		// hears of it.
		return
	}
	localTag, _ := sess.InviteRequest.To().Params.Get("tag")
	l := newLeg(e, Inbound, transport, req.CallID().Value(), localTag, rtp)
	l.ext = ext
	l.from = partyOf(req.From().DisplayName, req.From().Address)
	l.to = partyOf(req.To().DisplayName, req.To().Address)
	if trunk != nil {
		l.trunk = trunk.cfg.Name
	}
	l.srv, l.dlg, l.invite, l.tx = sess, sess, sess.InviteRequest, tx
	l.remoteCSeq = req.CSeq().SeqNo
	l.remoteTarget = req.Contact().Address
	l.dest = reachAt(l.remoteTarget, req.Source(), transport)
	l.final = make(chan struct{})
	l.inviteEnded = make(chan error, 1)
	if len(req.Body()) == 0 {
		l.offerless = true
	} else {
		ans, m, err := sdpneg.Answer(req.Body(), l.local)
		if err != nil {
			e.deps.RTP.ReleaseRTP(rtp)
			if errors.Is(err, sdpneg.ErrNoCodec) {
				code, reason := CauseNoCodec.Status()
				e.respond(tx, l.invite, code, reason, sip.NewHeader("Warning", `304 callbox "Media type not available"`))
			} else {
				e.respond(tx, l.invite, 400, "Bad Request")
			}
			l.cancel()
			return
		}
		l.answerSDP = ans
		l.setMedia(m)
	}
	sess.OnState(func(s sip.DialogState) {
		if s != sip.DialogStateEnded {
			return
		}
		select { // inside the transaction layer: never wait
		case l.inviteEnded <- context.Cause(sess.Context()):
		default:
		}
	})
	l.ringT = time.NewTimer(e.cfg.InboundRingLimit)
	// Offered is the first thing the handler hears of the leg, before
	// anything the loop may say.
	l.note(func(h CallHandler) { h.Offered(l) })
	l.start()
	// sipgo ends the INVITE transaction when this handler returns.
	<-l.final
}

// required lists the option tags of a request's Require headers.
func required(req *sip.Request) string {
	var tags []string
	for _, h := range req.GetHeaders("Require") {
		for _, t := range strings.Split(h.Value(), ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return strings.Join(tags, ", ")
}

// pending2xx is a 200 to an INVITE (the first or a re-INVITE) waiting for
// its ACK: over UDP it is sent again at T1, 2T1, ... capped at T2 (RFC
// 3261 13.3.1.4); with no ACK after 64*T1 the call is torn down. sipgo's
// dialog does this for the first INVITE only, blocking its caller until
// the ACK, with a schedule that stops doubling after T1 and a give-up
// that never fires; the leg's loop keeps it as two timers instead.
type pending2xx struct {
	tx       sip.ServerTransaction
	res      *sip.Response
	cseq     uint32
	interval time.Duration
	resend   *time.Timer // nil over reliable transports
	deadline *time.Timer
}

func (l *Leg) send2xx(tx sip.ServerTransaction, res *sip.Response, cseq uint32) {
	l.stop2xx() // a newer INVITE's 200 stands for the ACK of an older one
	l.e.send(tx, res)
	p := &pending2xx{tx: tx, res: res, cseq: cseq, interval: sip.T1, deadline: time.NewTimer(64 * sip.T1)}
	if l.transport == "UDP" {
		p.resend = time.NewTimer(p.interval)
	}
	l.ok = p
}

func (p *pending2xx) retransmit() {
	_ = p.tx.Respond(p.res)
	p.interval = min(2*p.interval, sip.T2)
	p.resend.Reset(p.interval)
}

func (l *Leg) stop2xx() {
	if l.ok == nil {
		return
	}
	stopTimer(&l.ok.resend)
	l.ok.deadline.Stop()
	l.ok = nil
}

// acked takes an ACK: it reports whether it acknowledges the 200 that
// waits for one.
func (l *Leg) acked(ack *sip.Request) bool {
	if l.ok == nil || ack.CSeq().SeqNo != l.ok.cseq {
		return false
	}
	l.stop2xx()
	return true
}

// findLeg matches an in-dialog request to its leg by Call-ID and our tag.
func (e *Endpoint) findLeg(req *sip.Request) *Leg {
	if req.CallID() == nil || req.To() == nil {
		return nil
	}
	tag, _ := req.To().Params.Get("tag")
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.legs[legKey(req.CallID().Value(), tag)]
}

// inDialog hands a request to its leg, or answers 481.
func (e *Endpoint) inDialog(kind evKind, req *sip.Request, tx sip.ServerTransaction) {
	if req.CSeq() == nil {
		e.respond(tx, req, 400, "Bad Request")
		return
	}
	l := e.findLeg(req)
	if l == nil {
		if kind != evAck {
			e.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		}
		return
	}
	l.deliver(&legEvent{kind: kind, req: req, tx: tx})
}

func (e *Endpoint) onAck(req *sip.Request, tx sip.ServerTransaction) { e.inDialog(evAck, req, tx) }

func (e *Endpoint) onBye(req *sip.Request, tx sip.ServerTransaction) { e.inDialog(evBye, req, tx) }

func (e *Endpoint) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	e.inDialog(evInfo, req, tx)
}

func (e *Endpoint) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	e.inDialog(evReinvite, req, tx)
}

// answerReinvite answers the peer's re-INVITE: hold, resume, a new
// address or codec.
func (l *Leg) answerReinvite(ev *legEvent) {
	if l.reinviting {
		l.answer(ev, 491, "Request Pending") // glare (RFC 3261 14.2)
		return
	}
	req := ev.req
	if c := req.Contact(); c != nil {
		l.remoteTarget = c.Address
	}
	local := l.local
	local.Version++
	var body []byte
	var m sdpneg.Media
	var err error
	if len(req.Body()) > 0 {
		body, m, err = sdpneg.Answer(req.Body(), local)
	} else {
		// An offer-less re-INVITE asks for our current offer; its answer
		// comes in the ACK, which we accept without renegotiating.
		body, m = sdpneg.Offer(local), l.media
	}
	if err != nil {
		if errors.Is(err, sdpneg.ErrNoCodec) {
			l.answer(ev, 488, "Not Acceptable Here")
		} else {
			l.answer(ev, 400, "Bad Request")
		}
		return
	}
	l.local = local
	if m != l.media {
		// Queued before the 200 goes, so that changes reach the switch in
		// order.
		l.note(func(h CallHandler) { h.MediaChanged(l, m) })
	}
	l.setMedia(m)
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(l.contactHeader())
	l.send2xx(ev.tx, res, req.CSeq().SeqNo)
	ev.answered = true
	close(ev.done)
}

// onInfoEvent takes an INFO: a digit for the switch.
func (l *Leg) onInfoEvent(ev *legEvent) {
	ctype := ""
	if h := ev.req.ContentType(); h != nil {
		ctype, _, _ = strings.Cut(h.Value(), ";")
		ctype = strings.ToLower(strings.TrimSpace(ctype))
	}
	digit, dur, ok := parseInfoDTMF(ctype, ev.req.Body())
	if !ok {
		l.answer(ev, 415, "Unsupported Media Type", sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		return
	}
	l.answer(ev, 200, "OK")
	l.note(func(h CallHandler) { h.DTMF(l, digit, dur) })
}

// parseInfoDTMF reads application/dtmf-relay ("Signal=5\r\nDuration=160")
// or application/dtmf ("5") bodies.
func parseInfoDTMF(ctype string, body []byte) (byte, time.Duration, bool) {
	validDigit := func(s string) (byte, bool) {
		s = strings.ToUpper(strings.TrimSpace(s))
		if len(s) != 1 || !strings.Contains("0123456789*#ABCD", s) {
			return 0, false
		}
		return s[0], true
	}
	switch ctype {
	case "application/dtmf-relay":
		var digit byte
		var ok bool
		dur := 250 * time.Millisecond
		for _, line := range strings.Split(string(body), "\n") {
			k, v, found := strings.Cut(strings.TrimSpace(line), "=")
			if !found {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "signal":
				digit, ok = validDigit(v)
			case "duration":
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 && n < 10000 {
					dur = time.Duration(n) * time.Millisecond
				}
			}
		}
		return digit, dur, ok
	case "application/dtmf":
		d, ok := validDigit(string(body))
		return d, 250 * time.Millisecond, ok
	}
	return 0, 0, false
}
