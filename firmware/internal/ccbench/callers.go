package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"callbox/telephony/cc"
	"callbox/telephony/cc/ccevent"
)

// ring is a call.ringing event: the agent and when.
type ring struct {
	agent string
	at    time.Time
}

// recorder keeps what the latencies and the callers need from the event
// bus: when each caller (by number) was queued and answered, and when each
// agent turned idle.
type recorder struct {
	bus  *ccevent.Bus
	sub  *ccevent.Sub
	done chan struct{}

	mu       sync.Mutex
	queued   map[string]time.Time   // number -> queued
	idle     map[string][]time.Time // agent -> times it turned idle
	answered map[string]chan struct{}
	rung     map[string]ring // number -> its first ring, as the engine published it
	waiting  map[string]bool // call ids queued and not yet answered or gone
	maxWait  int
	dropped  bool
}

func record(bus *ccevent.Bus) (*recorder, error) {
	sub, err := bus.Subscribe(bus.Last(), 1<<16)
	if err != nil {
		return nil, err
	}
	r := &recorder{bus: bus, sub: sub, done: make(chan struct{}), queued: map[string]time.Time{},
		idle: map[string][]time.Time{}, answered: map[string]chan struct{}{}, rung: map[string]ring{}, waiting: map[string]bool{}}
	go r.loop()
	return r, nil
}

func (r *recorder) loop() {
	defer close(r.done)
	for e := range r.sub.C() {
		r.mu.Lock()
		switch e.Type {
		case ccevent.CallQueued:
			if _, ok := r.queued[e.Number]; !ok {
				r.queued[e.Number] = e.Time
			}
			r.waiting[e.Call] = true
			r.maxWait = max(r.maxWait, len(r.waiting))
		case ccevent.CallRinging:
			if _, ok := r.rung[e.Number]; !ok {
				r.rung[e.Number] = ring{e.Agent, e.Time}
			}
		case ccevent.CallAnswered:
			delete(r.waiting, e.Call)
			r.answer(e.Number)
		case ccevent.CallAbandoned, ccevent.CallOverflowed, ccevent.CallEnded:
			delete(r.waiting, e.Call)
		case ccevent.AgentState:
			if e.State == "idle" {
				r.idle[e.Agent] = append(r.idle[e.Agent], e.Time)
			}
		}
		r.mu.Unlock()
	}
	r.mu.Lock()
	r.dropped = r.sub.Dropped()
	r.mu.Unlock()
}

// answer closes number's channel (under r.mu).
func (r *recorder) answer(number string) {
	c, ok := r.answered[number]
	if !ok {
		c = make(chan struct{})
		r.answered[number] = c
	}
	select {
	case <-c:
	default:
		close(c)
	}
}

// watch returns a channel closed when an agent answers number.
func (r *recorder) watch(number string) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.answered[number]
	if !ok {
		c = make(chan struct{})
		r.answered[number] = c
	}
	return c
}

// routable is when number's call could first have gone to agent: the later
// of its queueing and the agent's last turn to idle before at.
func (r *recorder) routable(number, agent string, at time.Time) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q, ok := r.queued[number]
	if !ok || q.After(at) {
		return time.Time{}, false
	}
	t := q
	for _, i := range r.idle[agent] {
		if i.After(at) {
			break
		}
		if i.After(t) {
			t = i
		}
	}
	return t, true
}

// engineDelays are, for each call's first ring, the delay from the call
// becoming routable to the service publishing the ring (the box's part
// before its SIP stack sends the INVITE); the surge's calls apart.
func (r *recorder) engineDelays() (stream, surge []time.Duration) {
	r.mu.Lock()
	rung := maps.Clone(r.rung)
	r.mu.Unlock()
	for number, g := range rung {
		d, ok := r.routable(number, g.agent, g.at)
		switch {
		case !ok:
		case strings.HasPrefix(number, surgePrefix):
			surge = append(surge, g.at.Sub(d))
		default:
			stream = append(stream, g.at.Sub(d))
		}
	}
	return stream, surge
}

func (r *recorder) maxWaiting() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxWait
}

func (r *recorder) stop() {
	r.bus.Unsubscribe(r.sub)
	<-r.done
}

// driver is the carrier's side of the trunk: it places the callers' calls
// into the DID from 127.0.0.3.
type driver struct {
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	dc   *sipgo.DialogClientCache
	conn net.PacketConn
	box  sip.Uri
	rec  *recorder
	wg   sync.WaitGroup
	stop context.CancelFunc
	errs chan error

	mu      sync.Mutex
	callers map[string]caller // by number
}

// caller is what one caller did, for the audit of the box's facts.
type caller struct {
	patience time.Duration
	outcome  outcome
}

// outcome is how a caller's call ended from the caller's side.
type outcome uint8

const (
	outFailed   outcome = iota // no call (an error)
	outGaveUp                  // hung up at its patience, unanswered
	outTalked                  // an agent answered; it hung up after its handle time
	outBoxEnded                // the box ended the call first
)

func (d *driver) note(number string, patience time.Duration, o outcome) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.callers[number] = caller{patience, o}
}

func newDriver(conn *net.UDPConn, box string, rec *recorder) (*driver, error) {
	host, port, err := net.SplitHostPort(box)
	if err != nil {
		conn.Close()
		return nil, err
	}
	p, _ := strconv.Atoi(port)
	local := conn.LocalAddr().(*net.UDPAddr)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("ccbench"), sipgo.WithUserAgentHostname("127.0.0.3"))
	if err != nil {
		conn.Close()
		return nil, err
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		ua.Close()
		conn.Close()
		return nil, err
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.3"), sipgo.WithClientPort(local.Port),
		sipgo.WithClientConnectionAddr(local.String()))
	if err != nil {
		ua.Close()
		conn.Close()
		return nil, err
	}
	d := &driver{ua: ua, srv: srv, conn: conn, rec: rec, errs: make(chan error, 1), callers: map[string]caller{},
		box: sip.Uri{User: did, Host: host, Port: p}}
	d.dc = sipgo.NewDialogClientCache(cli, sip.ContactHeader{Address: sip.Uri{User: "carrier", Host: "127.0.0.3", Port: local.Port}})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := d.dc.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		}
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	go func() { d.errs <- srv.ServeUDP(conn) }()
	return d, nil
}

// traffic places callers as a Poisson stream of rate per second for
// o.duration, then waits for the calls to end. It returns the callers
// placed and those that did not get in (no answer from the box).
func (d *driver) traffic(ctx context.Context, o options, rate float64) (placed, failed int) {
	rng := rand.New(rand.NewPCG(o.seed, o.seed+7))
	var nfail atomic.Int64
	ctx, d.stop = context.WithCancel(ctx)
	start := time.Now()
	next := start
	for i := 0; ; i++ {
		next = next.Add(time.Duration(rng.ExpFloat64() / rate * float64(time.Second)))
		if next.Sub(start) >= o.duration {
			break
		}
		time.Sleep(time.Until(next))
		patience := time.Duration(1 << 62)
		if o.patience > 0 {
			patience = time.Duration(rng.ExpFloat64() * float64(o.patience))
		}
		hold := time.Duration(rng.ExpFloat64() * float64(o.aht))
		number := fmt.Sprintf("139%08d", i)
		placed++
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			if err := d.call(ctx, number, i, patience, hold); err != nil {
				if nfail.Add(1) == 1 {
					fmt.Printf("ccbench: caller %s: %v\n", number, err)
				}
			}
		}()
	}
	// The surge: callers enough to fill every agent and leave o.surge
	// waiting, all at once and patient, for the routing delay under a
	// long queue. Their numbers start 138; the comparison leaves them out.
	for i := range o.surgeCalls() {
		hold := time.Duration(rng.ExpFloat64() * float64(o.aht))
		number := fmt.Sprintf("%s%08d", surgePrefix, i)
		placed++
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			if err := d.call(ctx, number, 3000+i, time.Duration(1<<62), hold); err != nil {
				nfail.Add(1)
			}
		}()
	}
	d.wg.Wait()
	return placed, int(nfail.Load())
}

// surgePrefix starts the surge's callers' numbers (the stream's are 139).
const surgePrefix = "138"

// call is one caller: in through the DID, then a hang-up after the
// patience if no agent answered by then, else after hold from the answer.
// It notes what the caller did.
func (d *driver) call(ctx context.Context, number string, i int, patience, hold time.Duration) error {
	o, err := d.dial(ctx, number, i, patience, hold)
	d.note(number, patience, o)
	return err
}

func (d *driver) dial(ctx context.Context, number string, i int, patience, hold time.Duration) (outcome, error) {
	answered := d.rec.watch(number)
	req := sip.NewRequest(sip.INVITE, d.box)
	from := sip.FromHeader{Address: sip.Uri{User: number, Host: "127.0.0.3"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(&from)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(sdp(50000 + 2*(i%4000)))
	began := time.Now()
	sess, err := d.dc.WriteInvite(ctx, req)
	if err != nil {
		return outFailed, err
	}
	defer sess.Close()
	// The box may answer at once (music on hold) or only when an agent
	// does: either way the caller gives up at the patience.
	giveUp := began.Add(patience)
	wctx, cancel := context.WithDeadline(ctx, giveUp)
	err = sess.WaitAnswer(wctx, sipgo.AnswerOptions{})
	cancel()
	if err != nil {
		if time.Now().After(giveUp) {
			return outGaveUp, nil // abandoned while ringing (CANCEL sent)
		}
		return outFailed, err
	}
	if err := sess.Ack(ctx); err != nil {
		return outFailed, err
	}
	gone := sess.Context().Done()
	talk := func() (outcome, bool) {
		select {
		case <-time.After(hold):
		case <-gone:
			return outBoxEnded, false
		case <-ctx.Done():
		}
		return outTalked, true
	}
	o, bye := outGaveUp, true
	select {
	case <-answered:
		o, bye = talk()
	case <-time.After(time.Until(giveUp)):
		select {
		case <-answered: // answered just now: talk after all
			o, bye = talk()
		default:
		}
	case <-gone:
		return outBoxEnded, nil
	case <-ctx.Done():
	}
	if !bye {
		return o, nil
	}
	bctx, bcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer bcancel()
	var refused *sipgo.ErrDialogResponse
	if err := sess.Bye(bctx); err != nil && !errors.As(err, &refused) {
		return o, err // a refusal means the box ended the call meanwhile
	}
	return o, nil
}

func sdp(port int) []byte {
	return []byte("v=0\r\no=carrier 1 1 IN IP4 127.0.0.3\r\ns=-\r\nc=IN IP4 127.0.0.3\r\nt=0 0\r\n" +
		"m=audio " + strconv.Itoa(port) + " RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n")
}

func (d *driver) close() {
	if d.stop != nil {
		d.stop()
	}
	d.wg.Wait()
	d.ua.Close()
	d.conn.Close()
	<-d.errs
}

// audit is the caller-by-caller check of the box's fact rows against what
// each caller did: a caller that gave up must be an abandoned row, one that
// talked an answered row, each with the wait its caller saw.
type audit struct {
	agree, rows int
	// mismatch counts rows whose disposition is not what their caller
	// did, by "caller did -> row says".
	mismatch map[string]int
	// ringingGone counts abandoned rows whose caller hung up while an
	// agent's phone rang for it (the simulator has these too).
	ringingGone int
	// patienceGap is, per abandoned row, the caller's patience less the
	// row's wait: the time before the box queued the call, plus the BYE's
	// way back.
	patienceGap []time.Duration
}

var outcomeNames = [...]string{outFailed: "failed", outGaveUp: "gave up", outTalked: "talked", outBoxEnded: "box ended"}

func auditFacts(facts []cc.Fact, callers map[string]caller) audit {
	a := audit{mismatch: map[string]int{}}
	for _, f := range facts {
		c, ok := callers[f.Number]
		if !ok {
			continue
		}
		a.rows++
		switch {
		case c.outcome == outGaveUp && f.Disposition == "abandoned":
			a.agree++
			a.patienceGap = append(a.patienceGap, c.patience-time.Duration(f.WaitSeconds*float64(time.Second)))
			for _, r := range f.Rings {
				if r.Result == "caller gone" {
					a.ringingGone++
					break
				}
			}
		case c.outcome == outTalked && f.Disposition == "answered":
			a.agree++
		default:
			a.mismatch[outcomeNames[c.outcome]+" -> "+f.Disposition]++
		}
	}
	return a
}

// callerLog returns what the callers did, by number.
func (d *driver) callerLog() map[string]caller {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.callers)
}
