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
	l := &Leg{
		e: e, dir: Outbound, ext: d.Extension, transport: transport, callID: randHex(16),
		localRTP: rtp, done: make(chan struct{}), local: e.localSDP(rtp),
		localTag: sip.GenerateTagN(16), localURI: sip.Uri{Scheme: "sip", User: d.From.User, Host: fromHost},
		remoteURI: to, remoteTarget: target, dest: dest, acks: map[uint32]chan struct{}{},
		cancelReq: make(chan struct{}),
		from:      Party{User: d.From.User, Display: d.From.Display}, to: Party{User: to.User, URI: target.String()},
	}
	l.from.URI = l.localURI.String()
	if tr != nil {
		l.trunk = tr.cfg.Name
	}
	l.id = legKey(l.callID, l.localTag)
	req := l.newRequest(sip.INVITE, sdpneg.Offer(l.local), "application/sdp")
	if d.From.Display != "" {
		req.From().DisplayName = d.From.Display
	}
	req.AppendHeader(sip.NewHeader("Allow", allowed))
	timeout := d.RingTimeout
	if timeout <= 0 {
		timeout = e.cfg.NoAnswerTimeout
	}
	ictx, cancel := context.WithCancel(e.ctx)
	// The caller's context cancels the attempt until it is answered.
	stop := context.AfterFunc(ctx, func() {
		if l.State() < StateConfirmed {
			l.cancelInvite()
		}
	})
	l.cancel = func() { stop(); cancel() }
	l.inviteReq = req
	e.mu.Lock()
	e.legs[l.id] = l
	e.mu.Unlock()
	go l.runInvite(ictx, req, tr, timeout)
	return l, nil
}

// runInvite drives an outbound INVITE transaction to its end.
func (l *Leg) runInvite(ctx context.Context, req *sip.Request, tr *trunk, timeout time.Duration) {
	cl := l.e.client(l.transport)
	if cl == nil {
		l.end(CauseFailed)
		return
	}
	ring := time.NewTimer(timeout)
	defer ring.Stop()
	authTried := false
	for {
		tx, err := cl.TransactionRequest(ctx, req)
		if err != nil {
			l.end(CauseFailed)
			return
		}
		res, cause, retry := l.awaitFinal(tx, req, ring)
		if retry && !authTried && tr != nil && res != nil {
			authTried = true
			auth, _, err := tr.authorize(res, req, 1)
			if err == nil {
				req = l.withAuth(req, auth)
				continue
			}
		}
		if res == nil || res.StatusCode >= 300 {
			tx.Terminate()
			l.end(cause)
			return
		}
		// Answered: keep re-acknowledging retransmitted 2xx until the
		// transaction ends.
		for {
			select {
			case r := <-tx.Responses():
				if r.IsSuccess() {
					l.sendAck(req, r)
				}
			case <-tx.Done():
				return
			case <-l.done:
				tx.Terminate()
				return
			}
		}
	}
}

// withAuth copies the INVITE with a new CSeq and credentials.
func (l *Leg) withAuth(req *sip.Request, auth sip.Header) *sip.Request {
	n := req.Clone()
	n.RemoveHeader("Via")
	n.RemoveHeader("Authorization")
	n.RemoveHeader("Proxy-Authorization")
	l.mu.Lock()
	l.cseq++
	n.CSeq().SeqNo = l.cseq
	l.inviteReq = n
	l.mu.Unlock()
	n.AppendHeader(auth)
	return n
}

// awaitFinal reads responses until a final one. retry is true for 401/407.
func (l *Leg) awaitFinal(tx sip.ClientTransaction, req *sip.Request, ring *time.Timer) (*sip.Response, Cause, bool) {
	cancelCause := CauseCancelled
	cancelled := l.cancelReq
	for {
		select {
		case res := <-tx.Responses():
			switch {
			case res.StatusCode < 200:
				if res.StatusCode == 100 {
					continue
				}
				l.progress(res)
			case res.StatusCode < 300:
				if l.answered(req, res) {
					return res, CauseNormal, false
				}
				return &sip.Response{StatusCode: 488}, CauseNoCodec, false
			case res.StatusCode == 401 || res.StatusCode == 407:
				return res, CauseRejected, true
			case res.StatusCode == 487:
				return res, cancelCause, false
			default:
				return res, CauseOf(res.StatusCode), false
			}
		case <-ring.C:
			cancelCause = CauseNoAnswer
			go l.sendCancel()
		case <-cancelled:
			cancelled = nil
			go l.sendCancel()
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, CauseNoAnswer, false
			}
			return nil, CauseFailed, false
		}
	}
}

func (l *Leg) progress(res *sip.Response) {
	l.mu.Lock()
	if l.state == StateEnded {
		l.mu.Unlock()
		return
	}
	l.state = StateEarly
	if tag, ok := res.To().Params.Get("tag"); ok {
		l.remoteTag = tag
	}
	early := false
	if len(res.Body()) > 0 {
		if m, err := sdpneg.Accept(res.Body(), l.local); err == nil {
			l.media, l.hasMedia, early = m, true, true
		}
	}
	l.mu.Unlock()
	l.e.deps.Handler.Progress(l, res.StatusCode, early)
}

// answered takes a 2xx: records the dialog, ACKs it, and reports the call
// answered, or hangs up when the answer has no usable codec.
func (l *Leg) answered(req *sip.Request, res *sip.Response) bool {
	l.mu.Lock()
	if tag, ok := res.To().Params.Get("tag"); ok {
		l.remoteTag = tag
	}
	if c := res.Contact(); c != nil {
		l.remoteTarget = c.Address
	}
	l.routes = l.routes[:0]
	for _, h := range res.GetHeaders("Record-Route") {
		l.routes = append(l.routes, h.Value())
	}
	slices.Reverse(l.routes)
	m, err := sdpneg.Accept(res.Body(), l.local)
	ended := l.state == StateEnded
	select {
	case <-l.cancelReq:
		ended = true // the switch hung up; the 200 crossed our CANCEL
	default:
	}
	if err == nil && !ended {
		l.media, l.hasMedia, l.state = m, true, StateConfirmed
	}
	l.mu.Unlock()
	l.sendAck(req, res)
	if ended {
		// Answered after we gave up: the CANCEL crossed the 200.
		l.sendBye()
		l.end(CauseCancelled)
		return true
	}
	if err != nil {
		l.sendBye()
		return false
	}
	l.e.deps.Handler.Answered(l)
	return true
}

// cancelInvite asks runInvite to send a CANCEL.
func (l *Leg) cancelInvite() {
	l.cancelOnce.Do(func() { close(l.cancelReq) })
}

// sendCancel cancels the pending INVITE (RFC 3261 9.1).
func (l *Leg) sendCancel() {
	l.mu.Lock()
	inv := l.inviteReq
	l.mu.Unlock()
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
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	if _, err := l.e.client(l.transport).Do(ctx, c); err != nil && !strings.Contains(err.Error(), "context") {
		l.e.log.Debug("sip: CANCEL failed", "leg", l.id, "error", err)
	}
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
