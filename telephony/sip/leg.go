package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"callbox/telephony/sip/sdpneg"
)

// Errors Leg methods return; callers branch on ErrEnded (the peer hung up
// or cancelled first) and ErrState (the call is not at a stage that allows
// the operation).
var (
	ErrEnded       = errors.New("sip: leg has ended")
	ErrState       = errors.New("sip: operation not allowed in this state")
	ErrUnavailable = errors.New("sip: destination not registered")
)

// Direction says who started a leg.
type Direction int

// Leg directions.
const (
	Inbound  Direction = iota // the peer sent the INVITE (UAS)
	Outbound                  // the box sent the INVITE (UAC)
)

// State is where a leg is in its life.
type State int

// Leg states.
const (
	StateOffered   State = iota // INVITE received or sent, no provisional yet
	StateEarly                  // 180/183 sent or received
	StateAnswered               // 200 sent, waiting for ACK (inbound)
	StateConfirmed              // 200 and ACK: the call is up
	StateEnded
)

var stateNames = [...]string{"offered", "early", "answered", "confirmed", "ended"}

// String names the state.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Party is one end of a call as SIP names it.
type Party struct {
	User    string // the number
	Display string // display name (caller ID name)
	URI     string
}

func partyOf(display string, u sip.Uri) Party {
	return Party{User: u.User, Display: display, URI: u.String()}
}

// Leg is one SIP dialog of a call: the switch answers, rejects, holds and
// hangs it up, and reads the negotiated media for the media engine.
type Leg struct {
	e         *Endpoint
	id        string
	dir       Direction
	from, to  Party
	trunk     string
	ext       string
	transport string
	callID    string
	localRTP  netip.AddrPort
	done      chan struct{}

	mu           sync.Mutex
	state        State
	cause        Cause
	local        sdpneg.Local
	media        sdpneg.Media
	hasMedia     bool
	localTag     string
	remoteTag    string
	localURI     sip.Uri
	remoteURI    sip.Uri
	remoteTarget sip.Uri
	dest         string
	routes       []string
	cseq         uint32
	acks         map[uint32]chan struct{}

	// inbound
	invite    *sip.Request
	tx        sip.ServerTransaction
	offerless bool
	answerSDP []byte
	// final is closed once the INVITE has its final response (or the leg
	// ended): sipgo ends a server transaction when its handler returns.
	final     chan struct{}
	finalOnce sync.Once
	// offered is closed when Handler.Offered returns: HungUp waits for it
	// so the switch never hears of a leg's end before its offer.
	offered chan struct{}
	// confirmed is closed once the ACK of our 200 is handled and the switch
	// told (or the leg ended): later requests of the dialog wait for it.
	confirmed   chan struct{}
	confirmOnce sync.Once

	// outbound
	inviteReq  *sip.Request
	cancel     func()
	cancelReq  chan struct{}
	cancelOnce sync.Once
}

// ID identifies the leg within the box (Call-ID and local tag).
func (l *Leg) ID() string { return l.id }

// Direction says whether the peer or the box placed the call.
func (l *Leg) Direction() Direction { return l.dir }

// From and To are the calling and called parties as signalled.
func (l *Leg) From() Party { return l.from }

// To is the called party.
func (l *Leg) To() Party { return l.to }

// Trunk names the trunk the leg runs over, empty for extensions.
func (l *Leg) Trunk() string { return l.trunk }

// Extension is the authenticated (inbound) or called (outbound) extension,
// empty for trunk legs.
func (l *Leg) Extension() string { return l.ext }

// CallID returns the SIP Call-ID.
func (l *Leg) CallID() string { return l.callID }

// LocalRTP is the box's RTP address for this leg.
func (l *Leg) LocalRTP() netip.AddrPort { return l.localRTP }

// Done is closed when the leg ends.
func (l *Leg) Done() <-chan struct{} { return l.done }

// State returns the leg's state.
func (l *Leg) State() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// Cause is why the leg ended; valid once Done is closed.
func (l *Leg) Cause() Cause {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cause
}

// Media returns the negotiated codec, ptime, telephone-event payload type,
// direction and remote RTP address; ok is false before negotiation.
func (l *Leg) Media() (m sdpneg.Media, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.media, l.hasMedia
}

// String describes the leg for logs.
func (l *Leg) String() string { return fmt.Sprintf("leg %s %s->%s", l.id, l.from.User, l.to.User) }

func legKey(callID, localTag string) string { return callID + "|" + localTag }

func (e *Endpoint) localSDP(rtp netip.AddrPort) sdpneg.Local {
	return sdpneg.Local{
		Addr: rtp, Codecs: e.cfg.Codecs, DTMFPT: e.cfg.DTMFPT, Ptime: e.cfg.Ptime,
		Direction: sdpneg.SendRecv, SessionID: uint64(time.Now().UnixNano() & 0x7fffffffffff), Version: 1,
	}
}

// end marks the leg ended once, releases its RTP address and tells the
// handler. It reports whether this call did the ending.
func (l *Leg) end(c Cause) bool {
	l.mu.Lock()
	if l.state == StateEnded {
		l.mu.Unlock()
		return false
	}
	l.state, l.cause = StateEnded, c
	for _, ch := range l.acks {
		close(ch)
	}
	l.acks = nil
	cancel := l.cancel
	l.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	close(l.done)
	l.finalSent()
	l.confirm()
	l.e.mu.Lock()
	delete(l.e.legs, l.id)
	l.e.mu.Unlock()
	l.e.deps.RTP.ReleaseRTP(l.localRTP)
	if l.offered == nil {
		l.e.deps.Handler.HungUp(l, c)
		return true
	}
	select {
	case <-l.offered:
		l.e.deps.Handler.HungUp(l, c)
	default:
		// Offered is still running (it may be what ended the leg).
		go func() {
			<-l.offered
			l.e.deps.Handler.HungUp(l, c)
		}()
	}
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

// newRequest builds an in-dialog request from the box.
func (l *Leg) newRequest(method sip.RequestMethod, body []byte, ctype string) *sip.Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.newRequestLocked(method, body, ctype)
}

func (l *Leg) newRequestLocked(method sip.RequestMethod, body []byte, ctype string) *sip.Request {
	req := sip.NewRequest(method, l.remoteTarget)
	from := &sip.FromHeader{Address: l.localURI, Params: sip.NewParams()}
	from.Params.Add("tag", l.localTag)
	to := &sip.ToHeader{Address: l.remoteURI, Params: sip.NewParams()}
	if l.remoteTag != "" {
		to.Params.Add("tag", l.remoteTag)
	}
	req.AppendHeader(from)
	req.AppendHeader(to)
	cid := sip.CallIDHeader(l.callID)
	req.AppendHeader(&cid)
	if method != sip.ACK {
		l.cseq++
	}
	req.AppendHeader(&sip.CSeqHeader{SeqNo: l.cseq, MethodName: method})
	for _, r := range l.routes {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	c := l.e.contact(l.transport)
	req.AppendHeader(&c)
	req.AppendHeader(sip.NewHeader("User-Agent", l.e.cfg.UserAgent))
	if ctype != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", ctype))
	}
	req.SetBody(body)
	req.SetTransport(l.transport)
	req.SetDestination(l.dest)
	return req
}

// do sends an in-dialog request and waits for its final response.
func (l *Leg) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	cl := l.e.client(l.transport)
	ctx, cancel := context.WithTimeout(ctx, 32*time.Second)
	defer cancel()
	return cl.Do(ctx, req)
}

// --- inbound (UAS) ---

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
	e.respond(tx, req, 100, "Trying")
	rtp, err := e.deps.RTP.AllocRTP()
	if err != nil {
		e.respond(tx, req, 503, "Service Unavailable")
		return
	}
	l := &Leg{
		e: e, dir: Inbound, ext: ext, transport: strings.ToUpper(req.Transport()),
		callID: req.CallID().Value(), localRTP: rtp, done: make(chan struct{}),
		from:     partyOf(req.From().DisplayName, req.From().Address),
		to:       partyOf(req.To().DisplayName, req.To().Address),
		localTag: sip.GenerateTagN(16), localURI: req.To().Address, remoteURI: req.From().Address,
		remoteTarget: req.Recipient, dest: req.Source(), cseq: uint32(time.Now().UnixNano() & 0xffff),
		invite: req, tx: tx, local: e.localSDP(rtp), acks: map[uint32]chan struct{}{},
		final: make(chan struct{}), offered: make(chan struct{}), confirmed: make(chan struct{}),
	}
	if trunk != nil {
		l.trunk = trunk.cfg.Name
	}
	l.remoteTag, _ = req.From().Params.Get("tag")
	if c := req.Contact(); c != nil {
		l.remoteTarget = c.Address
	}
	l.dest = reachAt(l.remoteTarget, req.Source(), l.transport)
	for _, h := range req.GetHeaders("Record-Route") {
		l.routes = append(l.routes, h.Value())
	}
	l.id = legKey(l.callID, l.localTag)
	req.To().Params.Add("tag", l.localTag)
	if len(req.Body()) == 0 {
		l.offerless = true
	} else {
		ans, m, err := sdpneg.Answer(req.Body(), l.local)
		if err != nil {
			e.deps.RTP.ReleaseRTP(rtp)
			if errors.Is(err, sdpneg.ErrNoCodec) {
				code, reason := CauseNoCodec.Status()
				e.respond(tx, req, code, reason, sip.NewHeader("Warning", `304 callbox "Media type not available"`))
			} else {
				e.respond(tx, req, 400, "Bad Request")
			}
			return
		}
		l.answerSDP, l.media, l.hasMedia = ans, m, true
	}
	e.mu.Lock()
	e.legs[l.id] = l
	e.mu.Unlock()
	if !tx.OnCancel(func(*sip.Request) {
		// The transaction layer has already answered 200 to the CANCEL and
		// sends 487 to the INVITE.
		go l.end(CauseCancelled)
	}) {
		// Cancelled before we could listen: the switch never hears of it.
		e.mu.Lock()
		delete(e.legs, l.id)
		e.mu.Unlock()
		e.deps.RTP.ReleaseRTP(rtp)
		return
	}
	go func() {
		defer close(l.offered)
		e.deps.Handler.Offered(l)
	}()
	limit := time.NewTimer(e.cfg.InboundRingLimit)
	defer limit.Stop()
	select {
	case <-l.final:
	case <-limit.C:
		l.Reject(CauseNoAnswer)
	}
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

func (l *Leg) finalSent() {
	if l.final != nil {
		l.finalOnce.Do(func() { close(l.final) })
	}
}

func (l *Leg) contactHeader() *sip.ContactHeader {
	c := l.e.contact(l.transport)
	return &c
}

// Ringing sends 180 Ringing, or 183 Session Progress with the SDP answer
// when early is true so the caller hears the box's ringback or announcement.
func (l *Leg) Ringing(early bool) error {
	l.mu.Lock()
	if l.dir != Inbound {
		l.mu.Unlock()
		return ErrState
	}
	if l.state == StateEnded {
		l.mu.Unlock()
		return ErrEnded
	}
	if l.state > StateEarly {
		l.mu.Unlock()
		return ErrState
	}
	l.state = StateEarly
	var res *sip.Response
	if early && l.hasMedia {
		res = sip.NewResponseFromRequest(l.invite, 183, "Session Progress", l.answerSDP)
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	} else {
		res = sip.NewResponseFromRequest(l.invite, 180, "Ringing", nil)
	}
	res.AppendHeader(l.contactHeader())
	l.mu.Unlock()
	l.e.send(l.tx, res)
	return nil
}

// Answer sends 200 OK with the SDP answer (or an offer, when the INVITE
// had none) and retransmits it until the ACK arrives (RFC 3261 13.3.1.4).
func (l *Leg) Answer() error {
	l.mu.Lock()
	if l.dir != Inbound {
		l.mu.Unlock()
		return ErrState
	}
	if l.state == StateEnded {
		l.mu.Unlock()
		return ErrEnded
	}
	if l.state >= StateAnswered {
		l.mu.Unlock()
		return ErrState
	}
	l.state = StateAnswered
	body := l.answerSDP
	if l.offerless {
		body = sdpneg.Offer(l.local)
	}
	res := sip.NewResponseFromRequest(l.invite, 200, "OK", body)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(l.contactHeader())
	res.AppendHeader(sip.NewHeader("Allow", allowed))
	ack := make(chan struct{})
	l.acks[l.invite.CSeq().SeqNo] = ack
	l.mu.Unlock()
	l.e.send(l.tx, res)
	l.finalSent()
	go l.retransmit(l.tx, res, ack)
	return nil
}

// retransmit resends a 2xx to an INVITE at T1, 2T1, ... capped at T2 until
// ack closes; with no ACK after 64*T1 the dialog is torn down.
func (l *Leg) retransmit(tx sip.ServerTransaction, res *sip.Response, ack chan struct{}) {
	if l.transport != "UDP" {
		select {
		case <-ack:
		case <-time.After(64 * sip.T1):
			l.noAck()
		}
		return
	}
	interval := sip.T1
	deadline := time.After(64 * sip.T1)
	for {
		t := time.NewTimer(interval)
		select {
		case <-ack:
			t.Stop()
			return
		case <-deadline:
			t.Stop()
			l.noAck()
			return
		case <-t.C:
			_ = tx.Respond(res)
			interval = min(2*interval, sip.T2)
		}
	}
}

func (l *Leg) noAck() {
	if l.State() == StateEnded {
		return
	}
	l.e.log.Info("sip: no ACK for 200, hanging up", "leg", l.id)
	go l.sendBye()
	l.end(CauseFailed)
}

// Reject refuses an inbound leg with the final response of c.
func (l *Leg) Reject(c Cause) error {
	l.mu.Lock()
	if l.dir != Inbound {
		l.mu.Unlock()
		return ErrState
	}
	if l.state == StateEnded {
		l.mu.Unlock()
		return ErrEnded
	}
	if l.state >= StateAnswered {
		l.mu.Unlock()
		return ErrState
	}
	code, reason := c.Status()
	if code < 300 {
		code, reason = CauseFailed.Status()
	}
	res := sip.NewResponseFromRequest(l.invite, code, reason, nil)
	l.mu.Unlock()
	l.e.send(l.tx, res)
	l.finalSent()
	l.end(c)
	return nil
}

// Hangup ends the leg whatever its state: BYE once answered, CANCEL for an
// outbound call not yet answered, 480 for an inbound one not yet answered.
func (l *Leg) Hangup() error {
	l.mu.Lock()
	st, dir := l.state, l.dir
	l.mu.Unlock()
	switch {
	case st == StateEnded:
		return ErrEnded
	case dir == Inbound && st < StateAnswered:
		return l.Reject(CauseUnavailable)
	case dir == Outbound && st < StateConfirmed:
		l.cancelInvite()
		return nil
	}
	if l.end(CauseNormal) {
		l.sendBye()
	}
	return nil
}

func (l *Leg) sendBye() {
	req := l.newRequest(sip.BYE, nil, "")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	if _, err := l.do(ctx, req); err != nil {
		l.e.log.Debug("sip: BYE unanswered", "leg", l.id, "error", err)
	}
}

func (e *Endpoint) onAck(req *sip.Request, tx sip.ServerTransaction) {
	l := e.findLeg(req)
	if l == nil || req.CSeq() == nil {
		return
	}
	l.mu.Lock()
	ch, ok := l.acks[req.CSeq().SeqNo]
	if ok {
		delete(l.acks, req.CSeq().SeqNo)
		close(ch)
	}
	confirm := l.state == StateAnswered
	if confirm {
		l.state = StateConfirmed
	}
	offerless := l.offerless && confirm
	l.mu.Unlock()
	if offerless {
		m, err := sdpneg.Accept(req.Body(), l.local)
		if err != nil {
			if l.end(CauseNoCodec) {
				go l.sendBye()
			}
			return
		}
		l.mu.Lock()
		l.media, l.hasMedia = m, true
		l.mu.Unlock()
	}
	if confirm {
		e.deps.Handler.Answered(l)
		l.confirm()
	}
}

func (e *Endpoint) onBye(req *sip.Request, tx sip.ServerTransaction) {
	l := e.findLeg(req)
	if l == nil {
		e.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	e.respond(tx, req, 200, "OK")
	l.end(CauseNormal)
}

// --- re-INVITE: hold and resume ---

func (e *Endpoint) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	l := e.findLeg(req)
	if l == nil {
		e.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	l.awaitConfirmed(time.Second)
	l.mu.Lock()
	if l.state != StateConfirmed {
		l.mu.Unlock()
		e.respond(tx, req, 491, "Request Pending")
		return
	}
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
		l.mu.Unlock()
		if errors.Is(err, sdpneg.ErrNoCodec) {
			e.respond(tx, req, 488, "Not Acceptable Here")
		} else {
			e.respond(tx, req, 400, "Bad Request")
		}
		return
	}
	l.local = local
	changed := m != l.media
	l.media = m
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(l.contactHeader())
	ack := make(chan struct{})
	l.acks[req.CSeq().SeqNo] = ack
	l.mu.Unlock()
	if changed {
		// Before the 200, so that changes reach the switch in order.
		e.deps.Handler.MediaChanged(l, m)
	}
	e.send(tx, res)
	go l.retransmit(tx, res, ack)
}

// awaitConfirmed waits a little for the ACK of our 200 when a request of
// the dialog overtakes it: sipgo handles each message on its own goroutine,
// so a re-INVITE sent after the ACK can be seen first. It reports whether
// the leg is confirmed.
func (l *Leg) awaitConfirmed(d time.Duration) bool {
	if st := l.State(); l.confirmed != nil && (st == StateAnswered || st == StateConfirmed) {
		t := time.NewTimer(d)
		select {
		case <-l.confirmed:
		case <-t.C:
		}
		t.Stop()
	}
	return l.State() == StateConfirmed
}

func (l *Leg) confirm() {
	if l.confirmed != nil {
		l.confirmOnce.Do(func() { close(l.confirmed) })
	}
}

// Hold puts the peer on hold with a sendonly re-INVITE; Resume takes it off.
func (l *Leg) Hold(ctx context.Context) error { return l.reinvite(ctx, sdpneg.SendOnly) }

// Resume sends a sendrecv re-INVITE after Hold.
func (l *Leg) Resume(ctx context.Context) error { return l.reinvite(ctx, sdpneg.SendRecv) }

func (l *Leg) reinvite(ctx context.Context, dir sdpneg.Direction) error {
	l.mu.Lock()
	if l.state == StateEnded {
		l.mu.Unlock()
		return ErrEnded
	}
	if l.state != StateConfirmed {
		l.mu.Unlock()
		return ErrState
	}
	local := l.local
	local.Direction = dir
	local.Version++
	req := l.newRequestLocked(sip.INVITE, sdpneg.Offer(local), "application/sdp")
	l.mu.Unlock()
	res, err := l.do(ctx, req)
	if err != nil {
		return fmt.Errorf("sip: re-INVITE: %w", err)
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("sip: re-INVITE answered %d %s", res.StatusCode, res.Reason)
	}
	l.sendAck(req, res)
	m, err := sdpneg.Accept(res.Body(), local)
	if err != nil {
		return fmt.Errorf("sip: re-INVITE answer: %w", err)
	}
	l.mu.Lock()
	l.local, l.media = local, m
	l.mu.Unlock()
	return nil
}

// sendAck acknowledges a 2xx to one of our INVITEs.
func (l *Leg) sendAck(invite *sip.Request, res *sip.Response) {
	l.mu.Lock()
	ack := l.newRequestLocked(sip.ACK, nil, "")
	l.mu.Unlock()
	ack.CSeq().SeqNo = invite.CSeq().SeqNo
	ack.CSeq().MethodName = sip.ACK
	if err := l.e.client(l.transport).WriteRequest(ack); err != nil {
		l.e.log.Debug("sip: ACK not sent", "leg", l.id, "error", err)
	}
}

// --- INFO digits and REFER ---

func (e *Endpoint) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	l := e.findLeg(req)
	if l == nil {
		e.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	ctype := ""
	if h := req.ContentType(); h != nil {
		ctype, _, _ = strings.Cut(h.Value(), ";")
		ctype = strings.ToLower(strings.TrimSpace(ctype))
	}
	l.awaitConfirmed(time.Second) // keep digits after Answered
	digit, dur, ok := parseInfoDTMF(ctype, req.Body())
	if !ok {
		e.respond(tx, req, 415, "Unsupported Media Type", sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		return
	}
	e.respond(tx, req, 200, "OK")
	e.deps.Handler.DTMF(l, digit, dur)
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

func (e *Endpoint) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	l := e.findLeg(req)
	if l == nil {
		e.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	h := req.GetHeader("Refer-To")
	if h == nil || len(req.GetHeaders("Refer-To")) != 1 {
		e.respond(tx, req, 400, "Bad Request")
		return
	}
	t, err := ParseReferTo(h.Value())
	if err != nil {
		e.respond(tx, req, 400, "Bad Request")
		return
	}
	if rb := req.GetHeader("Referred-By"); rb != nil {
		t.ReferredBy = rb.Value()
	}
	if !l.awaitConfirmed(time.Second) {
		e.respond(tx, req, 491, "Request Pending")
		return
	}
	if err := e.deps.Handler.Transfer(l, t); err != nil {
		e.respond(tx, req, 603, "Decline")
		return
	}
	e.respond(tx, req, 202, "Accepted")
	go l.NotifyTransfer(100, "Trying")
}

// NotifyTransfer tells the transferor how the transfer it asked for is going
// (RFC 3515 NOTIFY with a message/sipfrag body). A final status (>= 200)
// ends the implicit subscription.
func (l *Leg) NotifyTransfer(status int, reason string) error {
	state := "active;expires=60"
	if status >= 200 {
		state = "terminated;reason=noresource"
	}
	body := []byte(fmt.Sprintf("SIP/2.0 %d %s\r\n", status, reason))
	req := l.newRequest(sip.NOTIFY, body, "message/sipfrag;version=2.0")
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	_, err := l.do(ctx, req)
	return err
}
