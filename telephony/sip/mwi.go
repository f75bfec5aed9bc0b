package sip

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"callbox/telephony/sip/registrar"
)

// Message waiting for SIP phones (RFC 3842): a phone SUBSCRIBEs to the
// message-summary event of its own extension (it authenticates as that
// extension) and is sent a NOTIFY with the counts at once, whenever they
// change, and when the subscription ends; an extension marked unsolicited
// gets the same NOTIFY, out of any dialog, at every registered contact on
// each change and when a phone registers (phones that never subscribe).
// The NOTIFYs go out on one goroutine, never blocking the caller of
// SetMessageWaiting.

// MessageSummary is what a phone's message-waiting lamp shows.
type MessageSummary struct {
	// New and Old count the voice messages not heard and heard.
	New, Old int
	// Account is the mailbox's URI for the Message-Account line; empty
	// leaves the line out.
	Account string
}

// Waiting reports whether messages wait.
func (m MessageSummary) Waiting() bool { return m.New > 0 }

// body renders the application/simple-message-summary body.
func (m MessageSummary) body() []byte {
	var b strings.Builder
	w := "no"
	if m.Waiting() {
		w = "yes"
	}
	b.WriteString("Messages-Waiting: " + w + "\r\n")
	if m.Account != "" {
		b.WriteString("Message-Account: " + m.Account + "\r\n")
	}
	fmt.Fprintf(&b, "Voice-Message: %d/%d (0/0)\r\n", m.New, m.Old)
	return []byte(b.String())
}

// ParseMessageSummary reads an application/simple-message-summary body
// (the voice counts; other message classes are ignored).
func ParseMessageSummary(body []byte) (MessageSummary, bool, error) {
	var m MessageSummary
	waiting, seen := false, false
	for line := range strings.SplitSeq(string(body), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "messages-waiting":
			switch strings.ToLower(v) {
			case "yes":
				waiting, seen = true, true
			case "no":
				seen = true
			default:
				return m, false, fmt.Errorf("sip: message summary: Messages-Waiting %q", v)
			}
		case "message-account":
			m.Account = v
		case "voice-message":
			counts, _, _ := strings.Cut(v, "(")
			n, o, ok := strings.Cut(strings.TrimSpace(counts), "/")
			nv, err1 := strconv.Atoi(strings.TrimSpace(n))
			ov, err2 := strconv.Atoi(strings.TrimSpace(o))
			if !ok || err1 != nil || err2 != nil || nv < 0 || ov < 0 {
				return m, false, fmt.Errorf("sip: message summary: Voice-Message %q", v)
			}
			m.New, m.Old = nv, ov
		}
	}
	if !seen {
		return m, false, fmt.Errorf("sip: message summary without Messages-Waiting")
	}
	return m, waiting, nil
}

// Subscription limits.
const (
	mwiMinExpires     = 60 * time.Second
	mwiMaxExpires     = time.Hour
	mwiPerExtension   = 4
	mwiMaxSubscribers = 512
	mwiQueue          = 256
)

// mwiState is an extension's message waiting.
type mwiState struct {
	summary     MessageSummary
	unsolicited bool
}

// subscription is one phone's message-summary subscription: a dialog in
// which the box sends NOTIFYs.
type subscription struct {
	ext       string
	callID    string
	localTag  string
	remote    sip.FromHeader // the subscriber (From of its SUBSCRIBE)
	resource  sip.Uri        // what it subscribed to (To of its SUBSCRIBE)
	target    sip.Uri        // its Contact
	dest      string         // where to send (its source, for NAT)
	transport string
	eventID   string
	cseq      uint32
	expires   time.Time
}

func subKey(callID, remoteTag string) string { return callID + "\x00" + remoteTag }

// notifyJob is one NOTIFY to send.
type notifyJob struct {
	sub   *subscription // in a dialog; nil for an unsolicited one
	bind  registrar.Binding
	ext   string
	state string // Subscription-State
	sum   MessageSummary
}

// SetMessageWaiting sets an extension's message summary and NOTIFYs its
// subscribed phones; with unsolicited, also every registered contact of
// the extension (now and whenever one registers).
func (e *Endpoint) SetMessageWaiting(ext string, s MessageSummary, unsolicited bool) {
	e.mwiMu.Lock()
	if e.mwi == nil {
		e.mwi = map[string]mwiState{}
	}
	e.mwi[ext] = mwiState{summary: s, unsolicited: unsolicited}
	var jobs []notifyJob
	now := e.now()
	for _, sub := range e.subs {
		if sub.ext == ext && now.Before(sub.expires) {
			jobs = append(jobs, e.dialogJob(sub, s, now))
		}
	}
	e.mwiMu.Unlock()
	if unsolicited {
		for _, b := range e.reg.Lookup(ext, now) {
			jobs = append(jobs, notifyJob{bind: b, ext: ext, state: "active", sum: s})
		}
	}
	for _, j := range jobs {
		e.queueNotify(j)
	}
}

// dialogJob is the next NOTIFY of a subscription (e.mwiMu held).
func (e *Endpoint) dialogJob(sub *subscription, s MessageSummary, now time.Time) notifyJob {
	left := max(sub.expires.Sub(now).Round(time.Second), 0)
	return notifyJob{sub: sub, ext: sub.ext, sum: s, state: fmt.Sprintf("active;expires=%d", int(left/time.Second))}
}

// queueNotify hands a NOTIFY to the sender; a full queue drops it (the
// next change or refresh sends the state again).
func (e *Endpoint) queueNotify(j notifyJob) {
	select {
	case e.mwiQ <- j:
	default:
		e.log.Warn("sip: message waiting NOTIFY dropped: too many at once", "extension", j.ext)
	}
}

// mwiSender sends the queued NOTIFYs, one at a time so a phone sees its
// dialog's NOTIFYs in order, and ends expired subscriptions.
func (e *Endpoint) mwiSender() {
	sweep := time.NewTicker(30 * time.Second)
	defer sweep.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case j := <-e.mwiQ:
			e.sendNotify(j)
		case <-sweep.C:
			e.expireSubscriptions()
		}
	}
}

// expireSubscriptions ends the subscriptions past their time with a final
// NOTIFY (RFC 6665: terminated, reason timeout).
func (e *Endpoint) expireSubscriptions() {
	now := e.now()
	var ended []*subscription
	e.mwiMu.Lock()
	for k, sub := range e.subs {
		if !now.Before(sub.expires) {
			delete(e.subs, k)
			ended = append(ended, sub)
		}
	}
	e.mwiMu.Unlock()
	for _, sub := range ended {
		e.sendNotify(notifyJob{sub: sub, ext: sub.ext, state: "terminated;reason=timeout", sum: e.summary(sub.ext)})
	}
}

// summary returns an extension's current summary.
func (e *Endpoint) summary(ext string) MessageSummary {
	e.mwiMu.Lock()
	defer e.mwiMu.Unlock()
	return e.mwi[ext].summary
}

// sendNotify builds and sends one NOTIFY and waits for its answer.
func (e *Endpoint) sendNotify(j notifyJob) {
	var req *sip.Request
	transport := j.bind.Transport
	if j.sub != nil {
		transport = j.sub.transport
		req = e.dialogNotify(j)
	} else {
		req = e.unsolicitedNotify(j)
	}
	if req == nil {
		return
	}
	req.AppendHeader(sip.NewHeader("Event", eventValue(j)))
	req.AppendHeader(sip.NewHeader("Subscription-State", j.state))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/simple-message-summary"))
	req.AppendHeader(sip.NewHeader("User-Agent", e.cfg.UserAgent))
	c := e.contact(transport)
	req.AppendHeader(&c)
	req.SetBody(j.sum.body())
	cl := e.client(transport)
	if cl == nil {
		return
	}
	ctx, cancel := context.WithTimeout(e.ctx, 8*time.Second)
	defer cancel()
	res, err := cl.Do(ctx, req)
	switch {
	case err != nil:
		e.log.Debug("sip: message waiting NOTIFY unanswered", "extension", j.ext, "err", err)
	case res.StatusCode == 481 && j.sub != nil:
		// The phone forgot the subscription: so do we.
		e.mwiMu.Lock()
		delete(e.subs, subKey(j.sub.callID, tagOf(j.sub.remote.Params)))
		e.mwiMu.Unlock()
	case res.StatusCode >= 300:
		e.log.Debug("sip: message waiting NOTIFY refused", "extension", j.ext, "status", res.StatusCode)
	}
}

func eventValue(j notifyJob) string {
	if j.sub != nil && j.sub.eventID != "" {
		return "message-summary;id=" + j.sub.eventID
	}
	return "message-summary"
}

func tagOf(p sip.HeaderParams) string {
	t, _ := p.Get("tag")
	return t
}

// dialogNotify is a NOTIFY in a subscription's dialog.
func (e *Endpoint) dialogNotify(j notifyJob) *sip.Request {
	s := j.sub
	e.mwiMu.Lock()
	s.cseq++
	seq := s.cseq
	e.mwiMu.Unlock()
	req := sip.NewRequest(sip.NOTIFY, s.target)
	req.SetTransport(s.transport)
	req.SetDestination(reachAt(s.target, s.dest, s.transport))
	from := &sip.FromHeader{Address: s.resource, Params: sip.NewParams()}
	from.Params.Add("tag", s.localTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: s.remote.Address, Params: s.remote.Params.Clone()}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(s.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: sip.NOTIFY})
	req.AppendHeader(sip.NewHeader("Max-Forwards", "70"))
	return req
}

// unsolicitedNotify is a NOTIFY outside any dialog to a registered
// contact.
func (e *Endpoint) unsolicitedNotify(j notifyJob) *sip.Request {
	var u sip.Uri
	if err := sip.ParseUri(j.bind.Contact, &u); err != nil {
		return nil
	}
	host := e.contactAddr(j.bind.Transport).Addr().String()
	req := sip.NewRequest(sip.NOTIFY, u)
	req.SetTransport(j.bind.Transport)
	req.SetDestination(reachAt(u, j.bind.Source, j.bind.Transport))
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: j.ext, Host: host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: j.ext, Host: host}})
	cid := sip.CallIDHeader(sip.GenerateTagN(16) + "@" + host)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.NOTIFY})
	req.AppendHeader(sip.NewHeader("Max-Forwards", "70"))
	return req
}

// onSubscribe takes a phone's SUBSCRIBE to its extension's
// message-summary: a new subscription, a refresh, or (Expires: 0) its end.
func (e *Endpoint) onSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	from, to := req.From(), req.To()
	ev := req.GetHeader("Event")
	if ev == nil {
		e.respond(tx, req, 400, "Missing Event")
		return
	}
	pkg, params, _ := strings.Cut(strings.TrimSpace(ev.Value()), ";")
	if !strings.EqualFold(strings.TrimSpace(pkg), "message-summary") {
		e.respond(tx, req, 489, "Bad Event", sip.NewHeader("Allow-Events", "message-summary"))
		return
	}
	ext, ok := e.authenticate(tx, req, from.Address.User, false)
	if !ok {
		return
	}
	expires := mwiMaxExpires
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
		if err != nil {
			e.respond(tx, req, 400, "Bad Request")
			return
		}
		expires = min(time.Duration(n)*time.Second, mwiMaxExpires)
	}
	if expires > 0 && expires < mwiMinExpires {
		e.respond(tx, req, 423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(int(mwiMinExpires/time.Second))))
		return
	}
	contact := req.Contact()
	remoteTag := tagOf(from.Params)
	if contact == nil || remoteTag == "" {
		e.respond(tx, req, 400, "Bad Request")
		return
	}
	key := subKey(req.CallID().Value(), remoteTag)
	now := e.now()
	e.mwiMu.Lock()
	sub := e.subs[key]
	switch {
	case sub == nil && to.Params.Has("tag"):
		e.mwiMu.Unlock()
		e.respond(tx, req, 481, "Subscription Does Not Exist")
		return
	case sub != nil && sub.ext != ext.Number:
		e.mwiMu.Unlock()
		e.respond(tx, req, 403, "Forbidden")
		return
	case sub == nil:
		if e.countSubs(ext.Number) >= mwiPerExtension || len(e.subs) >= mwiMaxSubscribers {
			e.mwiMu.Unlock()
			e.respond(tx, req, 503, "Service Unavailable", sip.NewHeader("Retry-After", "300"))
			return
		}
		sub = &subscription{ext: ext.Number, callID: req.CallID().Value(), localTag: sip.GenerateTagN(10),
			resource: to.Address, eventID: eventID(params)}
		sub.remote = sip.FromHeader{Address: from.Address, Params: from.Params.Clone()}
		if expires > 0 {
			e.subs[key] = sub
		}
	}
	sub.target = contact.Address
	sub.dest, sub.transport = req.Source(), strings.ToUpper(req.Transport())
	sub.expires = now.Add(expires)
	if expires == 0 {
		delete(e.subs, key)
	}
	job := e.dialogJob(sub, e.mwi[ext.Number].summary, now)
	e.mwiMu.Unlock()
	if expires == 0 {
		job.state = "terminated;reason=timeout"
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	if !to.Params.Has("tag") {
		res.To().Params.Add("tag", sub.localTag)
	}
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	c := e.contact(req.Transport())
	res.AppendHeader(&c)
	e.send(tx, res)
	e.queueNotify(job)
}

// countSubs counts an extension's subscriptions (e.mwiMu held).
func (e *Endpoint) countSubs(ext string) int {
	n := 0
	for _, s := range e.subs {
		if s.ext == ext {
			n++
		}
	}
	return n
}

func eventID(params string) string {
	for p := range strings.SplitSeq(params, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "id") {
			return v
		}
	}
	return ""
}

// registeredMWI sends an unsolicited extension's summary to a phone that
// has just registered.
func (e *Endpoint) registeredMWI(b registrar.Binding) {
	e.mwiMu.Lock()
	st, ok := e.mwi[b.Extension]
	e.mwiMu.Unlock()
	if ok && st.unsolicited {
		e.queueNotify(notifyJob{bind: b, ext: b.Extension, state: "active", sum: st.summary})
	}
}
