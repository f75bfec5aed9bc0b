package sip

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"callbox/telephony/sip/limiter"
)

// The guard screens every message before sipgo's transaction layer sees
// it: UDP datagrams through the transport's read filter, TCP messages as
// the connection guard (tcpguard.go) frames them. It keeps no state per
// message, so a flood costs what the guard's per-source accounting
// allows and no more:
//
//   - a banned source's messages are dropped, and a source over its rate
//     (a stranger's is low, a known source's high) too, before parsing;
//   - unparsable requests get a stateless 400, logged briefly and at most
//     once per source per Limits.LogEvery;
//   - OPTIONS is answered statelessly, and so is any REGISTER or INVITE
//     that must authenticate and carries no usable credentials: the 401
//     or 407 challenge holds a nonce that needs no server state (an HMAC
//     over its time and the client's address, package digest), and the
//     ACK to a stateless 407 is recognised by its To tag and ignored
//     (RFC 3261 8.2.7);
//   - what remains creates a server transaction only while the budget of
//     live transactions (Limits.MaxTransactions) allows.

// verdict is what becomes of a screened message.
type verdict int

const (
	pass     verdict = iota // on to the transaction layer
	answered                // answered (or ignored) statelessly
	dropped                 // dropped unanswered: over a limit or banned
)

// logKind names a kind of trouble logged at most once per source per
// Limits.LogEvery.
type logKind uint8

const (
	logBanned logKind = iota
	logRate
	logSize
	logParse
	logBudget
	logAccept
	logTCPCap
	logTCPSource
	logTCPIdle
)

// logKey throttles log lines per source and kind of trouble.
type logKey struct {
	ip   netip.Addr
	kind logKind
}

// guard is the endpoint's accounting of sources, extensions and server
// transactions.
type guard struct {
	sources *limiter.Table[netip.Addr] // rate, failures and bans, TCP connections, trust
	exts    *limiter.Table[string]     // failed authentications per extension
	logs    *limiter.Table[logKey]     // log lines per source and kind
	tagKey  []byte                     // signs the To tags of stateless responses
	decoy   string                     // checked against for unknown users
}

func newGuard(l Limits) *guard {
	fails, banMin := l.AuthFailures, l.BanMin
	if fails < 0 || banMin < 0 {
		fails, banMin = 0, 0
	}
	return &guard{
		sources: limiter.New[netip.Addr](limiter.Policy{
			Rate: pos(l.Rate), Burst: l.Burst, TrustedRate: pos(l.KnownRate), TrustedBurst: l.KnownBurst,
			Failures: fails, FailureWindow: l.AuthFailureWindow, BanMin: banMin, BanMax: l.BanMax,
			Hold: max(l.MaxTCPPerSource, 0),
		}, l.Sources),
		exts: limiter.New[string](limiter.Policy{
			Failures: max(l.ExtensionFailures, 0), FailureWindow: l.AuthFailureWindow, BanMin: banMin, BanMax: l.BanMax,
		}, l.Sources),
		logs:   limiter.New[logKey](limiter.Policy{Rate: 1 / max(l.LogEvery, time.Millisecond).Seconds(), Burst: 1}, l.Sources),
		tagKey: []byte(randHex(16)),
		decoy:  randHex(16),
	}
}

func pos(v float64) float64 { return max(v, 0) }

// addrPortOf converts a socket address to a netip one (IPv4 unmapped).
func addrPortOf(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.UDPAddr:
		ap = a.AddrPort()
	case *net.TCPAddr:
		ap = a.AddrPort()
	default:
		ap, _ = netip.ParseAddrPort(a.String())
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// sourceOf returns a received request's source address.
func sourceOf(req *sip.Request) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(req.Source())
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// screenUDP is the UDP transport's read filter.
func (e *Endpoint) screenUDP(info sip.TransportReadProps, data []byte) ([]byte, error) {
	if !strings.EqualFold(info.Transport, "UDP") {
		return data, nil // TCP is screened by its connection guard
	}
	v, reply := e.screen(addrPortOf(info.RemoteAddr), "UDP", data)
	if reply != nil && e.udpConn != nil {
		_, _ = e.udpConn.WriteTo(reply, info.RemoteAddr)
	}
	if v != pass {
		return nil, nil
	}
	return data, nil
}

// screen decides what becomes of one message from src; reply, when not
// nil, is a stateless response to send back.
func (e *Endpoint) screen(src netip.AddrPort, transport string, data []byte) (verdict, []byte) {
	ip, now := src.Addr(), e.now()
	trunk := e.trunkAt(src)
	if !trunk {
		if banned, _ := e.g.sources.Banned(ip, now); banned && !e.reg.HasSource(src.String()) {
			if e.logDue(ip, logBanned, now) {
				e.log.Warn("sip: dropping messages from a banned source", "source", ip)
			}
			return dropped, nil
		}
		if !e.g.sources.Allow(ip, now) {
			if e.logDue(ip, logRate, now) {
				e.log.Warn("sip: source over its message rate, dropping", "source", ip)
			}
			return dropped, nil
		}
	}
	if len(bytes.Trim(data, "\r\n")) == 0 {
		return answered, nil // a keepalive: nothing to do (sipgo would try to parse a long one)
	}
	if len(data) > e.cfg.Limits.MaxMessage && e.cfg.Limits.MaxMessage > 0 ||
		transport == "UDP" && len(data) >= int(sip.TransportBufferReadSize) {
		if e.logDue(ip, logSize, now) {
			e.log.Warn("sip: oversized message dropped", "source", src, "transport", transport, "bytes", len(data))
		}
		return dropped, nil
	}
	msg, err := e.parser.ParseSIP(data)
	req, isReq := msg.(*sip.Request)
	if err != nil || isReq && !wellFormed(req) {
		if e.logDue(ip, logParse, now) {
			why := "malformed request"
			if err != nil {
				why = brief(err.Error())
			}
			e.log.Warn("sip: unparsable message", "source", src, "transport", transport, "bytes", len(data), "error", why)
		}
		if bytes.HasPrefix(data, []byte("SIP/")) {
			return dropped, nil // a broken response: nothing to answer
		}
		return answered, badRequest(data)
	}
	if !isReq {
		return pass, nil // responses find their client transaction
	}
	req.SetSource(src.String())
	req.SetTransport(transport)
	switch {
	case req.Method == sip.OPTIONS:
		return answered, e.stateless(withAllow(e.newStatelessResponse(req, 200, "OK")), data)
	case req.Method == sip.ACK:
		if tag, ok := req.To().Params.Get("tag"); ok && tag == e.statelessTag(req) {
			return answered, nil // ACK of a stateless answer (RFC 3261 8.2.7)
		}
	case req.Method == sip.REGISTER, req.Method == sip.SUBSCRIBE && !req.To().Params.Has("tag"):
		if res := e.screenCredentials(req, false); res != nil {
			return answered, e.stateless(res, data)
		}
	case req.Method == sip.INVITE && !req.To().Params.Has("tag"):
		if e.hasCredentials(req, true) || e.cfg.AuthenticateCalls && e.trunkFor(req) == nil {
			if res := e.screenCredentials(req, true); res != nil {
				return answered, e.stateless(res, data)
			}
		}
	case !isAllowed(req.Method):
		res := e.newStatelessResponse(req, 405, "Method Not Allowed")
		res.AppendHeader(sip.NewHeader("Allow", allowed))
		return answered, e.stateless(res, data)
	}
	if !e.admit(trunk || e.g.sources.Trusted(ip, now)) {
		if e.logDue(netip.Addr{}, logBudget, now) {
			e.log.Warn("sip: server transactions at their limit, dropping requests",
				"limit", e.cfg.Limits.MaxTransactions, "source", src)
		}
		return dropped, nil
	}
	return pass, nil
}

// brief shortens an error text for a log line, leaving out what it
// quotes: a parser's errors quote the sender's bytes.
func brief(s string) string {
	var b strings.Builder
	quote := byte(0)
	for i := 0; i < len(s) && b.Len() < 80; i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
				b.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote = c
			b.WriteString(string(c) + "...")
		case c < ' ' || c > '~':
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// logDue reports whether a line about this source and kind of trouble may
// be logged now (at most once per Limits.LogEvery). Callers build the
// line only then: the flood's path allocates nothing.
func (e *Endpoint) logDue(ip netip.Addr, kind logKind, now time.Time) bool {
	return e.g.logs.Allow(logKey{ip, kind}, now)
}

// stateless renders a response sent without a transaction. sipgo's parser
// takes some header values it cannot render back in a form it parses (a
// From of ":00:A"): a reply echoing them would be unparsable, so such a
// request gets badRequest's 400 built from its raw lines instead.
func (e *Endpoint) stateless(res *sip.Response, data []byte) []byte {
	res.AppendHeader(sip.NewHeader("Server", e.cfg.UserAgent))
	out := []byte(res.String())
	if _, err := e.parser.ParseSIP(out); err != nil {
		return badRequest(data)
	}
	return out
}

// statelessTag is the To tag of stateless answers to req: an HMAC of the
// request's transaction identity, so that the ACK to a stateless 407 is
// known without state, and never mistaken for a dialog's ACK.
func (e *Endpoint) statelessTag(req *sip.Request) string {
	m := hmac.New(sha256.New, e.g.tagKey)
	if h := req.CallID(); h != nil {
		m.Write([]byte(h.Value()))
	}
	if f := req.From(); f != nil {
		tag, _ := f.Params.Get("tag")
		m.Write([]byte("\x00" + tag))
	}
	if v := req.Via(); v != nil {
		b, _ := v.Params.Get("branch")
		m.Write([]byte("\x00" + b))
	}
	return "sl" + hex.EncodeToString(m.Sum(nil)[:8])
}

// newStatelessResponse builds a response to req for the guard, tagging the
// To header with statelessTag.
func (e *Endpoint) newStatelessResponse(req *sip.Request, code int, reason string) *sip.Response {
	if to := req.To(); to != nil && !to.Params.Has("tag") {
		to.Params.Add("tag", e.statelessTag(req))
	}
	return sip.NewResponseFromRequest(req, code, reason, nil)
}

// withAllow completes a 200 to OPTIONS.
func withAllow(res *sip.Response) *sip.Response {
	res.AppendHeader(sip.NewHeader("Allow", allowed))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	return res
}

// isAllowed reports whether the box has a handler for method.
func isAllowed(method sip.RequestMethod) bool {
	for _, m := range strings.Split(allowed, ", ") {
		if string(method) == m {
			return true
		}
	}
	return false
}

// txLimit is the budget of live server transactions for a known source or
// a stranger (three quarters of it); 0 means no limit.
func (e *Endpoint) txLimit(known bool) int64 {
	limit := int64(max(e.cfg.Limits.MaxTransactions, 0))
	if !known {
		limit = limit * 3 / 4
	}
	return limit
}

// admit is the guard's cheap look at the budget before sipgo parses a
// request and makes a transaction of it; tracked holds the exact line.
func (e *Endpoint) admit(known bool) bool {
	limit := e.txLimit(known)
	return limit == 0 || e.liveTx.Load() < limit
}

// tracked wraps a request handler: its transaction takes a place in the
// budget until it terminates, or, when there is none (requests admitted
// together can outrun the guard's look), is ended at once unanswered, so
// it holds nothing for the 32 s of a UDP transaction.
func (e *Endpoint) tracked(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if tx == nil || req.IsAck() {
			h(req, tx) // an ACK's transaction ends with its handler
			return
		}
		src := sourceOf(req)
		limit := e.txLimit(e.trunkAt(src) || e.g.sources.Trusted(src.Addr(), e.now()))
		for {
			n := e.liveTx.Load()
			if limit > 0 && n >= limit {
				tx.Terminate()
				return
			}
			if e.liveTx.CompareAndSwap(n, n+1) {
				break
			}
		}
		if !tx.OnTerminate(func(string, error) { e.liveTx.Add(-1) }) {
			e.liveTx.Add(-1)
		}
		h(req, tx)
	}
}

// LiveTransactions returns the server transactions alive now (for the
// status views and tests).
func (e *Endpoint) LiveTransactions() int { return int(e.liveTx.Load()) }

// logSafe renders a peer-chosen name for a log line: ordinary characters
// as they are, any other byte percent-encoded (so the name is one word
// with no quotes or line breaks), at most 64 bytes of it.
func logSafe(s string) string {
	if s == "" {
		return "-"
	}
	if len(s) > 64 {
		s = s[:64]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._+-@*#", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
