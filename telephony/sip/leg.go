package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
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

// State is where a leg's dialog is in its life.
type State int

// Leg states. An inbound leg goes offered, early, answered, confirmed; an
// outbound one offered, early, confirmed. Either may end from any of them:
// terminating while a BYE or CANCEL is under way, then terminated. The
// switch sees the leg end (Done, HungUp) on entering the first of the two.
const (
	StateOffered     State = iota // INVITE received or sent, no provisional response yet
	StateEarly                    // 180/183 sent or received: an early dialog
	StateAnswered                 // inbound: 200 sent, its ACK not yet received
	StateConfirmed                // 200 and ACK: the call is up
	StateTerminating              // ended; the BYE or CANCEL is under way
	StateTerminated               // the dialog is over
)

var stateNames = [...]string{"offered", "early", "answered", "confirmed", "terminating", "terminated"}

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
//
// Each leg is a state machine with one owner, its loop goroutine (run):
// the switch's calls (Ringing, Answer, Hangup, ...), the requests and
// responses of the dialog, the leg's timers and the results of the
// transactions it started all enter the loop as events, and the method of
// the current state handles each. Work that waits for the network (BYE,
// re-INVITE, NOTIFY, CANCEL, the outbound INVITE) runs on worker
// goroutines the loop starts and counts; their results come back as
// events. The loop returns only once the dialog is terminated and every
// worker has reported, and the endpoint's Close waits for all of it. The
// CallHandler is told of events on a notification goroutine of the leg,
// in order, so that a handler calling back into the leg never waits for
// itself.
type Leg struct {
	e *Endpoint
	// Fixed when the leg is made.
	id        string
	dir       Direction
	from, to  Party
	trunk     string
	ext       string
	transport string
	callID    string
	localRTP  netip.AddrPort

	ctx    context.Context // from the endpoint's; cancelled when the endpoint closes
	cancel context.CancelFunc
	events chan *legEvent // unbuffered: a sent event has been taken, and the loop handles all it takes
	// inviteEnded hears that sipgo's server INVITE transaction ended
	// before the answer (a CANCEL); it is written from inside the
	// transaction layer, which must not wait for the loop.
	inviteEnded chan error
	done        chan struct{} // closed when the leg ends
	gone        chan struct{} // closed when the dialog is terminated
	final       chan struct{} // inbound: closed once the INVITE has its final response
	exited      chan struct{} // closed when the loop has returned

	// What other goroutines read, published by the loop.
	mu        sync.Mutex
	pubState  State
	pubCause  Cause
	pubMedia  sdpneg.Media
	pubHas    bool
	notes     []func() // handler notifications not yet delivered
	notifying bool
	// sendMu: sipgo numbers a request of the dialog as it sends it, so
	// the workers send one at a time.
	sendMu sync.Mutex

	// Owned by the loop goroutine.
	state        State
	cause        Cause
	ended        bool
	dlg          dialog
	local        sdpneg.Local
	media        sdpneg.Media
	hasMedia     bool
	remoteTarget sip.Uri
	dest         string
	remoteCSeq   uint32
	workers      int
	ringT        *time.Timer // inbound ring limit, outbound no-answer timeout
	deferT       *time.Timer
	deferred     []*legEvent // requests that overtook the ACK of our 200
	waiting      []*legEvent // requests waiting for the handler (REFER)
	ok           *pending2xx
	reinviting   bool
	byeSent      bool
	// inbound
	srv       *sipgo.DialogServerSession
	invite    *sip.Request // as sipgo's dialog keeps it, with our tag
	tx        sip.ServerTransaction
	offerless bool
	answerSDP []byte
	finalDone bool
	// outbound
	inviteReq    *sip.Request // the INVITE as last sent (for CANCEL)
	stopInvite   context.CancelCauseFunc
	dialDone     <-chan struct{}
	progressed   bool
	cancelWanted bool
	cancelSent   bool
}

// dialog is what the leg uses of sipgo's dialog sessions (server and
// client): requests within the dialog get their From, To, Call-ID, CSeq
// (counted by sipgo), Route and Contact from it.
type dialog interface {
	TransactionRequest(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error)
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
	return l.pubState
}

// Cause is why the leg ended; valid once Done is closed.
func (l *Leg) Cause() Cause {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pubCause
}

// Media returns the negotiated codec, ptime, telephone-event payload type,
// direction and remote RTP address; ok is false before negotiation.
func (l *Leg) Media() (m sdpneg.Media, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pubMedia, l.pubHas
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

// dialogUA is sipgo's dialog user agent for one transport.
func (e *Endpoint) dialogUA(transport string) *sipgo.DialogUA {
	return &sipgo.DialogUA{Client: e.client(transport), ContactHDR: e.contact(transport)}
}

// --- events ---

// evKind names what reaches a leg's loop.
type evKind int

const (
	// The switch, through Leg's methods (each waits for its reply).
	opRinging evKind = iota
	opAnswer
	opReject
	opHangup
	opReinvite
	opNotify
	// Requests of the dialog (sipgo's handler waits until it is answered).
	evAck
	evBye
	evReinvite
	evInfo
	evRefer
	// The outbound INVITE's worker.
	evInviting // the INVITE went out (again, with credentials)
	evProgress // 180/183
	evAnswered // 2xx, already acknowledged
	evRefused  // a final failure, or no final response at all
	// The leg's own workers, handler and timers.
	evReferDecided
	evByeDone
	evReinviteDone
	evNotifyDone
	evCancelDone
	evInviteEnded
	evRingTimeout
	evResend
	evNoAck
	evDeferTimeout
	evDialCancelled
	evShutdown
)

// legEvent is one input of a leg's state machine.
type legEvent struct {
	kind evKind
	// Operations from the switch.
	early  bool
	cause  Cause
	dir    sdpneg.Direction
	ctx    context.Context
	status int
	reason string
	reply  chan error
	// Requests: done is closed once the request has its final response.
	req      *sip.Request
	tx       sip.ServerTransaction
	done     chan struct{}
	answered bool
	// Responses and results.
	res    *sip.Response
	err    error
	sess   *sipgo.DialogClientSession
	local  sdpneg.Local
	origin *legEvent // the REFER a decision is about
	worker bool      // the last word of a worker
}

// ask hands an operation of the switch to the loop and waits for its
// answer.
func (l *Leg) ask(ev *legEvent) error {
	reply := make(chan error, 1)
	ev.reply = reply
	select {
	case l.events <- ev:
	case <-l.exited:
		return ErrEnded
	}
	// The loop answers every operation it took, also when the leg ends.
	return <-reply
}

// deliver hands a request of the dialog to the loop and waits until it is
// answered: sipgo ends a server transaction when its handler returns.
func (l *Leg) deliver(ev *legEvent) {
	if ev.kind != evAck { // an ACK gets no response
		ev.done = make(chan struct{})
	}
	select {
	case l.events <- ev:
	case <-l.exited:
		if ev.done != nil {
			l.e.respond(ev.tx, ev.req, 481, "Call/Transaction Does Not Exist")
		}
		return
	}
	if ev.done != nil {
		<-ev.done // the loop answers every request it took, also when the leg ends
	}
}

// post hands an event to the loop unless it has returned.
func (l *Leg) post(ev *legEvent) {
	select {
	case l.events <- ev:
	case <-l.exited:
	}
}

// answer sends the final response to a request of the dialog once.
func (l *Leg) answer(ev *legEvent, code int, reason string, hdrs ...sip.Header) {
	if ev.answered || ev.done == nil {
		return
	}
	ev.answered = true
	l.e.respond(ev.tx, ev.req, code, reason, hdrs...)
	close(ev.done)
}

func (ev *legEvent) replyWith(err error) {
	if ev.reply != nil {
		ev.reply <- err
		ev.reply = nil
	}
}

// spawn runs f on a worker goroutine the leg owns; the event f returns
// comes back to the loop, which does not return before it has.
func (l *Leg) spawn(f func() *legEvent) {
	l.workers++
	l.e.legWG.Add(1)
	go func() {
		defer l.e.legWG.Done()
		ev := f()
		ev.worker = true
		l.events <- ev // the loop reads until its last worker has reported
	}()
}

// note queues a call of the CallHandler; they are made in order on the
// leg's notification goroutine, started when there is something to say.
func (l *Leg) note(f func(h CallHandler)) {
	l.mu.Lock()
	l.notes = append(l.notes, func() { f(l.e.deps.Handler) })
	start := !l.notifying
	l.notifying = true
	l.mu.Unlock()
	if start {
		l.e.legWG.Add(1)
		go l.notify()
	}
}

func (l *Leg) notify() {
	defer l.e.legWG.Done()
	for {
		l.mu.Lock()
		if len(l.notes) == 0 {
			l.notifying = false
			l.mu.Unlock()
			return
		}
		f := l.notes[0]
		l.notes[0] = nil
		l.notes = l.notes[1:]
		l.mu.Unlock()
		f()
	}
}

// start registers the leg with the endpoint and runs its loop.
func (l *Leg) start() {
	l.e.mu.Lock()
	l.e.legs[l.id] = l
	l.e.mu.Unlock()
	l.e.legWG.Add(1)
	go l.run()
}

func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

func stopTimer(t **time.Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

// run is the leg's loop: it reads events until the dialog is terminated
// and its last worker has reported.
func (l *Leg) run() {
	defer l.e.legWG.Done()
	defer close(l.exited)
	shutdown := l.ctx.Done()
	for l.state != StateTerminated || l.workers > 0 {
		var ev *legEvent
		var resend <-chan time.Time
		var noAck <-chan time.Time
		if l.ok != nil {
			resend, noAck = timerC(l.ok.resend), l.ok.deadline.C
		}
		select {
		case ev = <-l.events:
		case err := <-l.inviteEnded:
			ev = &legEvent{kind: evInviteEnded, err: err}
		case <-timerC(l.ringT):
			l.ringT = nil
			ev = &legEvent{kind: evRingTimeout}
		case <-resend:
			ev = &legEvent{kind: evResend}
		case <-noAck:
			ev = &legEvent{kind: evNoAck}
		case <-timerC(l.deferT):
			l.deferT = nil
			ev = &legEvent{kind: evDeferTimeout}
		case <-l.dialDone:
			l.dialDone = nil
			ev = &legEvent{kind: evDialCancelled}
		case <-shutdown:
			shutdown = nil
			ev = &legEvent{kind: evShutdown}
		}
		if ev.worker {
			l.workers--
		}
		l.dispatch(ev)
	}
	l.release()
}

// dispatch takes one event: what every state does alike, then the
// current state's method.
func (l *Leg) dispatch(ev *legEvent) {
	switch ev.kind {
	case evShutdown:
		l.shutdown()
		return
	case evResend:
		l.ok.retransmit()
		return
	case evBye, evReinvite, evInfo, evRefer:
		if !l.inOrder(ev) {
			return
		}
	}
	l.handle(ev)
}

// handle gives an event to the method of the current state.
func (l *Leg) handle(ev *legEvent) {
	switch {
	case l.state == StateTerminated:
		l.stateTerminated(ev)
	case l.state == StateTerminating:
		l.stateTerminating(ev)
	case l.state == StateConfirmed:
		l.stateConfirmed(ev)
	case l.state == StateAnswered:
		l.stateAnswered(ev)
	case l.dir == Inbound:
		l.stateIncoming(ev)
	default:
		l.stateCalling(ev)
	}
}

// enter moves the leg to state s.
func (l *Leg) enter(s State) {
	l.state = s
	l.mu.Lock()
	l.pubState = s
	l.mu.Unlock()
}

func (l *Leg) setMedia(m sdpneg.Media) {
	l.media, l.hasMedia = m, true
	l.mu.Lock()
	l.pubMedia, l.pubHas = m, true
	l.mu.Unlock()
}

// end marks the leg ended once: its RTP address goes back and the switch
// hears HungUp with c.
func (l *Leg) end(c Cause) {
	if l.ended {
		return
	}
	l.ended, l.cause = true, c
	l.mu.Lock()
	l.pubCause = c
	l.mu.Unlock()
	close(l.done)
	stopTimer(&l.ringT)
	l.dialDone = nil
	l.e.deps.RTP.ReleaseRTP(l.localRTP)
	l.note(func(h CallHandler) { h.HungUp(l, c) })
}

// terminate ends the dialog: requests of it from now on are answered 481.
func (l *Leg) terminate(c Cause) {
	if l.state == StateTerminated {
		return
	}
	l.end(c)
	l.enter(StateTerminated)
	close(l.gone)
	l.finalSent()
	l.stop2xx()
	stopTimer(&l.deferT)
	for _, ev := range append(l.deferred, l.waiting...) {
		l.answer(ev, 481, "Call/Transaction Does Not Exist")
	}
	l.deferred, l.waiting = nil, nil
	l.e.mu.Lock()
	if l.e.legs[l.id] == l {
		delete(l.e.legs, l.id)
	}
	l.e.mu.Unlock()
}

// release runs as the loop returns.
func (l *Leg) release() {
	l.finalSent()
	l.cancel()
	if l.stopInvite != nil {
		l.stopInvite(sipgo.WaitAnswerForceCancelErr)
	}
}

// shutdown: the endpoint is closing and the leg has not ended by itself.
// Workers see the context end; the outbound INVITE stops waiting at once.
func (l *Leg) shutdown() {
	if l.stopInvite != nil {
		l.stopInvite(sipgo.WaitAnswerForceCancelErr)
	}
	if l.state != StateTerminated {
		l.terminate(CauseFailed)
	}
}

// finalSent lets the INVITE's handler return.
func (l *Leg) finalSent() {
	if l.final != nil && !l.finalDone {
		l.finalDone = true
		close(l.final)
	}
}

// inOrder checks the CSeq of a request within the dialog (RFC 3261
// 12.2.2: lower than the last one is answered 500). sipgo's dialog starts
// the remote sequence at the INVITE's CSeq, which is right for the UAS
// only, so the leg keeps its own.
func (l *Leg) inOrder(ev *legEvent) bool {
	n := ev.req.CSeq().SeqNo
	if l.remoteCSeq != 0 && n < l.remoteCSeq {
		l.answer(ev, 500, "Server Internal Error")
		return false
	}
	l.remoteCSeq = n
	return true
}

// --- states ---

// stateConfirmed handles a call that is up.
func (l *Leg) stateConfirmed(ev *legEvent) {
	switch ev.kind {
	case evBye:
		l.answer(ev, 200, "OK")
		l.terminate(CauseNormal)
	case evReinvite:
		l.answerReinvite(ev)
	case evAck:
		l.acked(ev.req)
	case evNoAck:
		l.noAck()
	case opReinvite:
		l.sendReinvite(ev)
	case opNotify:
		l.sendNotify(ev.status, ev.reason, ev.reply)
		ev.reply = nil // answered when the NOTIFY is
	case opHangup:
		l.end(CauseNormal)
		l.bye()
		ev.replyWith(nil)
	default:
		l.common(ev)
	}
}

// stateTerminating handles a leg that has ended while its BYE or CANCEL
// is under way.
func (l *Leg) stateTerminating(ev *legEvent) {
	switch ev.kind {
	case evByeDone:
		l.terminate(l.cause)
	case evAck:
		// An answered leg hung up before its ACK: the BYE may go now.
		if l.acked(ev.req) {
			l.bye()
		}
	case evNoAck:
		l.stop2xx()
		l.bye()
	case evBye:
		l.answer(ev, 200, "OK")
		l.terminate(l.cause)
	case evProgress:
		l.progressed = true
		if l.cancelWanted {
			l.sendCancel()
		}
	case evAnswered:
		// The 200 crossed our CANCEL (or came after the switch gave up):
		// the worker has acknowledged it; the call ends with a BYE.
		l.dlg = ev.sess
		l.followContact(ev.res)
		l.bye()
	case evRefused:
		l.terminate(l.cause)
	default:
		l.common(ev)
	}
}

// stateTerminated answers whatever still arrives for a finished dialog.
func (l *Leg) stateTerminated(ev *legEvent) {
	if ev.kind == evAnswered {
		// Only a shutdown gets here with an INVITE outstanding.
		l.e.log.Debug("sip: answer after the leg ended", "leg", l.id)
	}
	l.common(ev)
}

// common is what every state does with an event it does not handle
// itself.
func (l *Leg) common(ev *legEvent) {
	if ev.done != nil && l.ended {
		l.answer(ev, 481, "Call/Transaction Does Not Exist")
		return
	}
	switch ev.kind {
	case evInfo:
		l.onInfoEvent(ev)
	case evRefer:
		if l.state != StateConfirmed {
			l.answer(ev, 491, "Request Pending")
			return
		}
		l.onReferEvent(ev)
	case evReinvite:
		l.answer(ev, 491, "Request Pending")
	case evBye:
		l.answer(ev, 481, "Call/Transaction Does Not Exist")
	case evReferDecided:
		l.referDecided(ev)
	case evInviting:
		l.inviteReq = ev.req
	case evReinviteDone:
		l.reinviteDone(ev)
	case evNotifyDone:
		ev.replyWith(ev.err)
	case opRinging, opAnswer, opReject, opHangup, opReinvite, opNotify:
		if l.ended {
			ev.replyWith(ErrEnded)
			return
		}
		ev.replyWith(ErrState)
	}
	// ACKs that acknowledge nothing, timers and results that no longer
	// matter are dropped.
}

// --- the switch's operations ---

// newLeg makes a leg with what both directions share.
func newLeg(e *Endpoint, dir Direction, transport, callID, localTag string, rtp netip.AddrPort) *Leg {
	l := &Leg{
		e: e, dir: dir, transport: transport, callID: callID, localRTP: rtp,
		id: legKey(callID, localTag), local: e.localSDP(rtp),
		events: make(chan *legEvent), done: make(chan struct{}), gone: make(chan struct{}), exited: make(chan struct{}),
	}
	l.ctx, l.cancel = context.WithCancel(e.ctx)
	return l
}

func (l *Leg) contactHeader() *sip.ContactHeader {
	c := l.e.contact(l.transport)
	return &c
}

// Ringing sends 180 Ringing, or 183 Session Progress with the SDP answer
// when early is true so the caller hears the box's ringback or announcement.
func (l *Leg) Ringing(early bool) error {
	if l.dir != Inbound {
		return ErrState
	}
	return l.ask(&legEvent{kind: opRinging, early: early})
}

// Answer sends 200 OK with the SDP answer (or an offer, when the INVITE
// had none), retransmitted until the ACK arrives (RFC 3261 13.3.1.4).
func (l *Leg) Answer() error {
	if l.dir != Inbound {
		return ErrState
	}
	return l.ask(&legEvent{kind: opAnswer})
}

// Reject refuses an inbound leg with the final response of c.
func (l *Leg) Reject(c Cause) error {
	if l.dir != Inbound {
		return ErrState
	}
	return l.ask(&legEvent{kind: opReject, cause: c})
}

// Hangup ends the leg whatever its state: BYE once answered, CANCEL for an
// outbound call not yet answered, 480 for an inbound one not yet answered.
// The switch hears HungUp at once; Hangup returns when the dialog is over
// (the BYE or CANCEL answered, or given up after 8 s; a callee's BYE first
// waits for the ACK of its 200, RFC 3261 15).
func (l *Leg) Hangup() error {
	if err := l.hangup(); err != nil {
		return err
	}
	select {
	case <-l.gone:
	case <-l.exited:
	}
	return nil
}

// hangup asks the loop to end the leg and does not wait for the dialog.
func (l *Leg) hangup() error { return l.ask(&legEvent{kind: opHangup}) }

// Hold puts the peer on hold with a sendonly re-INVITE; Resume takes it off.
func (l *Leg) Hold(ctx context.Context) error {
	return l.ask(&legEvent{kind: opReinvite, dir: sdpneg.SendOnly, ctx: ctx})
}

// Resume sends a sendrecv re-INVITE after Hold.
func (l *Leg) Resume(ctx context.Context) error {
	return l.ask(&legEvent{kind: opReinvite, dir: sdpneg.SendRecv, ctx: ctx})
}

// --- requests the leg sends ---

// request builds a request within the dialog; sipgo's dialog adds From,
// To, Call-ID, CSeq, Route and Contact when it is sent.
func (l *Leg) request(method sip.RequestMethod, body []byte, ctype string) *sip.Request {
	req := sip.NewRequest(method, l.remoteTarget)
	req.AppendHeader(sip.NewHeader("User-Agent", l.e.cfg.UserAgent))
	if ctype != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", ctype))
	}
	req.SetBody(body)
	req.SetTransport(l.transport)
	req.SetDestination(l.dest)
	return req
}

// transact sends req in the dialog on a worker and reports its final
// response as an event of kind k.
func (l *Leg) transact(k evKind, req *sip.Request, opCtx context.Context, reply chan error, local sdpneg.Local) {
	dlg := l.dlg
	limit := 8 * time.Second // BYE, NOTIFY: not worth the transaction's 32 s
	if req.Method == sip.INVITE {
		limit = 32 * time.Second
	}
	l.spawn(func() *legEvent {
		ctx, cancel := context.WithTimeout(l.ctx, limit)
		defer cancel()
		if opCtx != nil {
			defer context.AfterFunc(opCtx, cancel)()
		}
		res, err := l.do(ctx, dlg, req)
		if err == nil && req.Method == sip.INVITE && res.IsSuccess() {
			l.ackReinvite(req, res)
		}
		return &legEvent{kind: k, req: req, res: res, err: err, reply: reply, local: local}
	})
}

// do sends a request in the dialog and waits for its final response.
func (l *Leg) do(ctx context.Context, dlg dialog, req *sip.Request) (*sip.Response, error) {
	l.sendMu.Lock()
	tx, err := dlg.TransactionRequest(ctx, req)
	l.sendMu.Unlock()
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			return nil, tx.Err()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// noAck tears down a call whose 200 (to the INVITE or a re-INVITE) was
// never acknowledged (RFC 3261 13.3.1.4).
func (l *Leg) noAck() {
	l.e.log.Info("sip: no ACK for 200, hanging up", "leg", l.id)
	l.end(CauseFailed)
	l.bye()
}

// bye ends the dialog with a BYE; the leg is terminated when it is
// answered (or given up).
func (l *Leg) bye() {
	l.enter(StateTerminating)
	if l.byeSent {
		return
	}
	l.byeSent = true
	l.stop2xx()
	if l.dlg == nil {
		l.terminate(l.cause)
		return
	}
	l.transact(evByeDone, l.request(sip.BYE, nil, ""), nil, nil, sdpneg.Local{})
}

// sendReinvite offers the peer our media with a new direction (hold,
// resume).
func (l *Leg) sendReinvite(ev *legEvent) {
	if l.reinviting || l.ok != nil {
		// Ours or the peer's re-INVITE is still in progress (RFC 3261 14.1).
		ev.replyWith(ErrState)
		return
	}
	l.reinviting = true
	local := l.local
	local.Direction = ev.dir
	local.Version++
	req := l.request(sip.INVITE, sdpneg.Offer(local), "application/sdp")
	req.AppendHeader(l.contactHeader())
	l.transact(evReinviteDone, req, ev.ctx, ev.reply, local)
	ev.reply = nil // answered when the re-INVITE is
}

// reinviteDone takes the outcome of our re-INVITE.
func (l *Leg) reinviteDone(ev *legEvent) {
	l.reinviting = false
	switch {
	case ev.err != nil:
		ev.replyWith(fmt.Errorf("sip: re-INVITE: %w", ev.err))
	case ev.res.StatusCode != 200:
		ev.replyWith(fmt.Errorf("sip: re-INVITE answered %d %s", ev.res.StatusCode, ev.res.Reason))
	default:
		m, err := sdpneg.Accept(ev.res.Body(), ev.local)
		if err != nil {
			ev.replyWith(fmt.Errorf("sip: re-INVITE answer: %w", err))
			return
		}
		l.local = ev.local
		l.setMedia(m)
		ev.replyWith(nil)
	}
}

// ackReinvite acknowledges a 2xx to our re-INVITE. sipgo's dialog would
// number the ACK after whatever the leg sent last, so it is built here
// from the re-INVITE itself.
func (l *Leg) ackReinvite(inv *sip.Request, res *sip.Response) {
	ack := sip.NewRequest(sip.ACK, inv.Recipient)
	ack.AppendHeader(sip.HeaderClone(inv.From()))
	ack.AppendHeader(sip.HeaderClone(res.To()))
	ack.AppendHeader(sip.HeaderClone(inv.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.ACK})
	sip.CopyHeaders("Route", inv, ack)
	mf := sip.MaxForwardsHeader(70)
	ack.AppendHeader(&mf)
	ack.SetTransport(inv.Transport())
	ack.SetDestination(inv.Destination())
	if err := l.e.client(l.transport).WriteRequest(ack); err != nil {
		l.e.log.Debug("sip: ACK not sent", "leg", l.id, "error", err)
	}
}

// closeLegs hangs up every leg and gives their BYEs and CANCELs a moment
// to be answered; the endpoint's context ending then stops what is left.
func (e *Endpoint) closeLegs() {
	e.mu.Lock()
	legs := make([]*Leg, 0, len(e.legs))
	for _, l := range e.legs {
		legs = append(legs, l)
	}
	e.mu.Unlock()
	for _, l := range legs {
		_ = l.hangup()
	}
	grace := time.NewTimer(closeGrace)
	defer grace.Stop()
	for _, l := range legs {
		select {
		case <-l.exited:
		case <-grace.C:
			return
		}
	}
}

// closeGrace is how long Close waits for legs to finish their BYEs.
const closeGrace = time.Second
