package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"callbox/telephony/sip/sdpneg"
)

// DialRequest says whom an outbound leg calls: a registered extension, or a
// number through a trunk.
type DialRequest struct {
	Extension string
	// Contact picks one of the extension's registered contacts (as listed
	// by Contacts); empty rings the most recently refreshed one. The switch
	// forks a call by dialling each contact and keeping the first answer.
	Contact string
	Trunk   string
	Number  string
	// From is the caller ID presented (per route for trunks).
	From Party
	// RingTimeout gives up with CauseNoAnswer (default Config.NoAnswerTimeout).
	RingTimeout time.Duration
	// AutoAnswer asks an extension's phone to answer by itself (an agent
	// set to auto-answer): Call-Info answer-after=0 and Alert-Info
	// info=alert-autoanswer, which the usual desk phones and softphones
	// understand one way or the other.
	AutoAnswer bool
}

// Dial places an outbound call and returns its leg at once; progress,
// answer and failure arrive through the CallHandler. Hangup before answer,
// or ctx ending before answer, cancels the call.
func (e *Endpoint) Dial(ctx context.Context, d DialRequest) (*Leg, error) {
	var target sip.Uri
	var dest, transport string
	var tr *trunk
	to := sip.Uri{Scheme: "sip"}
	switch {
	case d.Extension != "":
		bs := e.reg.Lookup(d.Extension, e.now())
		if d.Contact != "" {
			bs = slices.DeleteFunc(bs, func(b Registration) bool { return b.Contact != d.Contact })
		}
		if len(bs) == 0 {
			return nil, fmt.Errorf("%w: %s", ErrUnavailable, d.Extension)
		}
		if err := sip.ParseUri(bs[0].Contact, &target); err != nil {
			return nil, fmt.Errorf("sip: contact %q: %w", bs[0].Contact, err)
		}
		dest, transport = reachAt(target, bs[0].Source, bs[0].Transport), bs[0].Transport
		to.User, to.Host = d.Extension, e.contactAddr(transport).Addr().String()
	case d.Trunk != "":
		tr = e.trunkByName(d.Trunk)
		if tr == nil {
			return nil, fmt.Errorf("sip: no trunk %q", d.Trunk)
		}
		target = sip.Uri{Scheme: "sip", User: d.Number, Host: tr.cfg.Domain}
		dest, transport = net.JoinHostPort(tr.host, strconv.Itoa(tr.port)), tr.cfg.Transport
		to.User, to.Host = d.Number, tr.cfg.Domain
	default:
		return nil, errors.New("sip: dial needs an extension or a trunk")
	}
	if e.ctx == nil {
		return nil, errors.New("sip: dial before start")
	}
	if d.From.User == "" {
		d.From.User = "callbox"
	}
	rtp, err := e.deps.RTP.AllocRTP()
	if err != nil {
		return nil, fmt.Errorf("sip: rtp: %w", err)
	}
	fromHost := e.contactAddr(transport).Addr().String()
	if tr != nil {
		fromHost = tr.cfg.Domain
	}
	transport = strings.ToUpper(transport)
	localTag := sip.GenerateTagN(16)
	l := newLeg(e, Outbound, transport, randHex(16), localTag, rtp)
	l.ext = d.Extension
	l.remoteTarget, l.dest = target, dest
	local := sip.Uri{Scheme: "sip", User: d.From.User, Host: fromHost}
	l.from = Party{User: d.From.User, Display: d.From.Display, URI: local.String()}
	l.to = Party{User: to.User, URI: target.String()}
	if tr != nil {
		l.trunk = tr.cfg.Name
	}
	// The first INVITE is built whole here; sipgo's client dialog takes
	// the dialog's identity from it.
	req := sip.NewRequest(sip.INVITE, target)
	from := &sip.FromHeader{DisplayName: d.From.Display, Address: local, Params: sip.NewParams()}
	from.Params.Add("tag", localTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: to, Params: sip.NewParams()})
	cid := sip.CallIDHeader(l.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: uint32(time.Now().UnixNano()&0xffff) + 1, MethodName: sip.INVITE})
	req.AppendHeader(l.contactHeader())
	req.AppendHeader(sip.NewHeader("User-Agent", e.cfg.UserAgent))
	if d.AutoAnswer && d.Extension != "" {
		req.AppendHeader(sip.NewHeader("Call-Info", "<sip:"+to.Host+">;answer-after=0"))
		req.AppendHeader(sip.NewHeader("Alert-Info", "<http://localhost/>;info=alert-autoanswer"))
	}
	req.AppendHeader(sip.NewHeader("Allow", allowed))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(sdpneg.Offer(l.local))
	req.SetTransport(transport)
	req.SetDestination(dest)
	l.inviteReq = req
	timeout := d.RingTimeout
	if timeout <= 0 {
		timeout = e.cfg.NoAnswerTimeout
	}
	l.ringT = time.NewTimer(timeout)
	// The caller's context cancels the attempt until it is answered.
	l.dialDone = ctx.Done()
	// waitCtx is not a child of l.ctx: a parent's cancel would reach
	// sipgo with the cause context.Canceled, and sipgo then waits for a
	// provisional response (up to Timer B, 32 s) before it may CANCEL.
	// The loop ends the wait with WaitAnswerForceCancelErr instead, on
	// shutdown and when the leg is released.
	waitCtx, stop := context.WithCancelCause(context.WithoutCancel(l.ctx))
	l.stopInvite = stop
	l.spawn(func() *legEvent { return l.runInvite(waitCtx, req, tr) })
	l.start()
	return l, nil
}

// runInvite runs the outbound INVITE transaction on sipgo's client dialog:
// provisional responses go to the loop as they come, a 401/407 from a
// trunk is answered once with credentials, the 2xx is acknowledged (sipgo
// then acknowledges its retransmissions). The leg's CANCEL goes on
// another worker; waitCtx only ends the wait at once on shutdown.
func (l *Leg) runInvite(waitCtx context.Context, req *sip.Request, tr *trunk) *legEvent {
	ua := l.e.dialogUA(l.transport)
	if ua.Client == nil {
		return &legEvent{kind: evRefused, err: fmt.Errorf("sip: no %s transport", l.transport)}
	}
	authTried := false
	for {
		sess, err := ua.WriteInvite(l.ctx, req)
		if err != nil {
			return &legEvent{kind: evRefused, err: fmt.Errorf("sip: invite: %w", err)}
		}
		l.post(&legEvent{kind: evInviting, req: req})
		err = sess.WaitAnswer(waitCtx, sipgo.AnswerOptions{OnResponse: func(res *sip.Response) error {
			if res.IsProvisional() && res.StatusCode != 100 {
				l.post(&legEvent{kind: evProgress, res: res})
			}
			return nil
		}})
		var refused *sipgo.ErrDialogResponse
		switch {
		case err == nil:
			ack := sip.NewRequest(sip.ACK, req.Recipient)
			if c := sess.InviteResponse.Contact(); c != nil {
				ack.Recipient = c.Address
			}
			ack.SetDestination(l.dest)
			if err := sess.WriteAck(l.ctx, ack); err != nil {
				l.e.log.Debug("sip: ACK not sent", "leg", l.id, "error", err)
			}
			return &legEvent{kind: evAnswered, res: sess.InviteResponse, sess: sess}
		case errors.As(err, &refused):
			res := refused.Res
			if (res.StatusCode == 401 || res.StatusCode == 407) && tr != nil && !authTried {
				authTried = true
				if auth, _, aerr := tr.authorize(res, req, 1); aerr == nil {
					req = withAuth(req, auth)
					continue
				}
			}
			return &legEvent{kind: evRefused, res: res}
		default:
			return &legEvent{kind: evRefused, err: err}
		}
	}
}

// withAuth copies the INVITE with the next CSeq and credentials.
func withAuth(req *sip.Request, auth sip.Header) *sip.Request {
	n := req.Clone()
	n.RemoveHeader("Via")
	n.RemoveHeader("Authorization")
	n.RemoveHeader("Proxy-Authorization")
	n.CSeq().SeqNo++
	n.AppendHeader(auth)
	return n
}

// stateCalling handles an outbound leg before its answer (offered and
// early).
func (l *Leg) stateCalling(ev *legEvent) {
	switch ev.kind {
	case evProgress:
		l.progressed = true
		early := false
		if len(ev.res.Body()) > 0 {
			if m, err := sdpneg.Accept(ev.res.Body(), l.local); err == nil {
				l.setMedia(m)
				early = true
			}
		}
		l.enter(StateEarly)
		code := ev.res.StatusCode
		l.note(func(h CallHandler) { h.Progress(l, code, early) })
	case evAnswered:
		l.dlg = ev.sess
		l.followContact(ev.res)
		m, err := sdpneg.Accept(ev.res.Body(), l.local)
		if err != nil {
			l.end(CauseNoCodec)
			l.bye()
			return
		}
		stopTimer(&l.ringT)
		l.dialDone = nil
		l.setMedia(m)
		l.enter(StateConfirmed)
		l.note(func(h CallHandler) { h.Answered(l) })
	case evRefused:
		l.terminate(refusal(ev))
	case evRingTimeout:
		l.give(CauseNoAnswer)
	case evDialCancelled:
		l.give(CauseCancelled)
	case opHangup:
		l.give(CauseCancelled)
		ev.replyWith(nil)
	default:
		l.common(ev)
	}
}

// refusal is the cause of an outbound INVITE's failure.
func refusal(ev *legEvent) Cause {
	switch {
	case ev.res != nil && (ev.res.StatusCode == 401 || ev.res.StatusCode == 407):
		return CauseRejected
	case ev.res != nil:
		return CauseOf(ev.res.StatusCode)
	case errors.Is(ev.err, sip.ErrTransactionTimeout):
		return CauseNoAnswer
	}
	return CauseFailed
}

// followContact takes the remote target from the 2xx that made the dialog.
func (l *Leg) followContact(res *sip.Response) {
	if c := res.Contact(); c != nil {
		l.remoteTarget = c.Address
	}
}

// give gives up an unanswered outbound call with c: CANCEL, which RFC
// 3261 9.1 allows only once a provisional response has come.
func (l *Leg) give(c Cause) {
	l.end(c)
	l.enter(StateTerminating)
	if l.progressed {
		l.sendCancel()
		return
	}
	l.cancelWanted = true
}

// sendCancel cancels the pending INVITE on a worker (RFC 3261 9.1).
func (l *Leg) sendCancel() {
	if l.cancelSent {
		return
	}
	l.cancelSent = true
	inv := l.inviteReq
	if inv == nil || inv.Via() == nil {
		return
	}
	c := sip.NewRequest(sip.CANCEL, inv.Recipient)
	c.AppendHeader(sip.HeaderClone(inv.Via()))
	c.AppendHeader(sip.HeaderClone(inv.From()))
	c.AppendHeader(sip.HeaderClone(inv.To()))
	c.AppendHeader(sip.HeaderClone(inv.CallID()))
	c.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	sip.CopyHeaders("Route", inv, c)
	c.SetTransport(inv.Transport())
	c.SetDestination(inv.Destination())
	c.Laddr = inv.Laddr
	cl := l.e.client(l.transport)
	l.spawn(func() *legEvent {
		ctx, cancel := context.WithTimeout(l.ctx, 8*time.Second)
		defer cancel()
		if _, err := cl.Do(ctx, c); err != nil && ctx.Err() == nil {
			l.e.log.Debug("sip: CANCEL failed", "leg", l.id, "error", err)
		}
		return &legEvent{kind: evCancelDone}
	})
}

// reachAt picks where to send requests for a registered contact: over TCP
// the connection it registered on (phones rarely listen where they
// connect from); over UDP the contact's own host and port when it
// registered from that address, or the source of its REGISTER when they
// differ, which means a NAT rewrote it (the contact's private address is
// unreachable; the NAT binding is not).
func reachAt(contact sip.Uri, source, transport string) string {
	if !strings.EqualFold(transport, "udp") {
		return source
	}
	src, err := netip.ParseAddrPort(source)
	if err != nil {
		return source
	}
	ip, err := netip.ParseAddr(contact.Host)
	if err != nil || ip.Unmap() != src.Addr().Unmap() {
		return source
	}
	port := contact.Port
	if port == 0 {
		port = 5060
	}
	return netip.AddrPortFrom(ip, uint16(port)).String()
}
