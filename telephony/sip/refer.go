package sip

import (
	"slices"

	"callbox/telephony/sip/sdpneg"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// ErrRefer reports a Refer-To header the box cannot act on.
var ErrRefer = errors.New("sip: malformed Refer-To")

// Transfer is a REFER as the switch sees it: a blind transfer names a
// target; an attended transfer also names, in Replaces, the dialog (the
// consultation call) that the new call replaces (RFC 3891).
type Transfer struct {
	// Target is the Refer-To URI without its headers.
	Target string
	// User is the target's user part, normally the number to call.
	User       string
	Replaces   *Replaces
	ReferredBy string
}

// Replaces identifies a dialog by Call-ID and tags (RFC 3891).
type Replaces struct {
	CallID    string
	ToTag     string
	FromTag   string
	EarlyOnly bool
}

// Attended reports whether the transfer replaces an existing dialog.
func (t Transfer) Attended() bool { return t.Replaces != nil }

// ReferTo renders the transfer back as a Refer-To header value.
func (t Transfer) ReferTo() string {
	if t.Replaces == nil {
		return "<" + t.Target + ">"
	}
	r := t.Replaces.CallID + ";to-tag=" + t.Replaces.ToTag + ";from-tag=" + t.Replaces.FromTag
	if t.Replaces.EarlyOnly {
		r += ";early-only"
	}
	return "<" + t.Target + "?Replaces=" + escapeHeader(r) + ">"
}

// escapeHeader percent-encodes a URI header value (RFC 3261 25.1 hvalue).
func escapeHeader(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("-_.!~*'()[]/?:+$", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// ParseReferTo parses a Refer-To header value.
func ParseReferTo(v string) (Transfer, error) {
	v = strings.TrimSpace(v)
	var raw string
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return Transfer{}, fmt.Errorf("%w: unclosed <", ErrRefer)
		}
		raw = v[i+1 : i+j]
	} else {
		// Without brackets the URI cannot carry headers or parameters that
		// would be ambiguous with header parameters (RFC 3261 20.10).
		raw, _, _ = strings.Cut(v, ";")
	}
	uri, headers, _ := strings.Cut(raw, "?")
	if strings.ContainsAny(uri, "<>\" \t\r\n,") {
		return Transfer{}, fmt.Errorf("%w: bad characters in URI", ErrRefer)
	}
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil {
		return Transfer{}, fmt.Errorf("%w: %w", ErrRefer, err)
	}
	if (u.Scheme != "sip" && u.Scheme != "sips" && u.Scheme != "tel") || u.Wildcard {
		return Transfer{}, fmt.Errorf("%w: scheme %q", ErrRefer, u.Scheme)
	}
	if u.Scheme != "tel" && u.Host == "" {
		return Transfer{}, fmt.Errorf("%w: no host", ErrRefer)
	}
	t := Transfer{Target: uri, User: u.User}
	if u.Scheme == "tel" {
		t.User = u.Raw()
	}
	if headers == "" {
		return t, nil
	}
	for _, kv := range strings.Split(headers, "&") {
		k, val, _ := strings.Cut(kv, "=")
		if !strings.EqualFold(k, "Replaces") {
			continue
		}
		if t.Replaces != nil {
			return Transfer{}, fmt.Errorf("%w: two Replaces", ErrRefer)
		}
		dec, err := url.PathUnescape(val)
		if err != nil {
			return Transfer{}, fmt.Errorf("%w: %w", ErrRefer, err)
		}
		r, err := parseReplaces(dec)
		if err != nil {
			return Transfer{}, err
		}
		t.Replaces = &r
	}
	return t, nil
}

func parseReplaces(s string) (Replaces, error) {
	parts := strings.Split(s, ";")
	r := Replaces{CallID: strings.TrimSpace(parts[0])}
	if r.CallID == "" || strings.ContainsAny(r.CallID, " \t\r\n<>\"") {
		return Replaces{}, fmt.Errorf("%w: bad Replaces call-id", ErrRefer)
	}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			r.ToTag = v
		case "from-tag":
			r.FromTag = v
		case "early-only":
			r.EarlyOnly = true
		}
	}
	if r.ToTag == "" || r.FromTag == "" || !isTagToken(r.ToTag) || !isTagToken(r.FromTag) {
		return Replaces{}, fmt.Errorf("%w: Replaces without tags", ErrRefer)
	}
	return r, nil
}

func isTagToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// --- REFER and NOTIFY in a leg's dialog ---

func (e *Endpoint) onRefer(req *sip.Request, tx sip.ServerTransaction) { e.inDialog(evRefer, req, tx) }

// onReferEvent takes a REFER of a confirmed call: the handler decides,
// on the notification goroutine, whether the switch carries it out.
func (l *Leg) onReferEvent(ev *legEvent) {
	h := ev.req.GetHeader("Refer-To")
	if h == nil || len(ev.req.GetHeaders("Refer-To")) != 1 {
		l.answer(ev, 400, "Bad Request")
		return
	}
	t, err := ParseReferTo(h.Value())
	if err != nil {
		l.answer(ev, 400, "Bad Request")
		return
	}
	if rb := ev.req.GetHeader("Referred-By"); rb != nil {
		t.ReferredBy = rb.Value()
	}
	l.waiting = append(l.waiting, ev)
	l.note(func(h CallHandler) {
		err := h.Transfer(l, t)
		l.post(&legEvent{kind: evReferDecided, err: err, origin: ev})
	})
}

// referDecided answers a REFER as the handler decided: 202 and a first
// NOTIFY, or 603.
func (l *Leg) referDecided(ev *legEvent) {
	ref := ev.origin
	l.waiting = slices.DeleteFunc(l.waiting, func(w *legEvent) bool { return w == ref })
	if ref.answered {
		return // the dialog ended meanwhile
	}
	if l.ended {
		l.answer(ref, 481, "Call/Transaction Does Not Exist")
		return
	}
	if ev.err != nil {
		l.answer(ref, 603, "Decline")
		return
	}
	l.answer(ref, 202, "Accepted")
	l.sendNotify(100, "Trying", nil)
}

// NotifyTransfer tells the transferor how the transfer it asked for is going
// (RFC 3515 NOTIFY with a message/sipfrag body). A final status (>= 200)
// ends the implicit subscription. It returns once the NOTIFY is answered.
func (l *Leg) NotifyTransfer(status int, reason string) error {
	return l.ask(&legEvent{kind: opNotify, status: status, reason: reason})
}

// sendNotify sends a NOTIFY of the refer subscription on a worker; reply,
// if not nil, gets the outcome.
func (l *Leg) sendNotify(status int, reason string, reply chan error) {
	state := "active;expires=60"
	if status >= 200 {
		state = "terminated;reason=noresource"
	}
	body := []byte(fmt.Sprintf("SIP/2.0 %d %s\r\n", status, reason))
	req := l.request(sip.NOTIFY, body, "message/sipfrag;version=2.0")
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	l.transact(evNotifyDone, req, nil, reply, sdpneg.Local{})
}
