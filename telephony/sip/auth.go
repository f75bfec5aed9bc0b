package sip

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"callbox/telephony/sip/digest"
)

// Authentication of extensions (RFC 3261 22, RFC 8760 with qop=auth).
//
// Answers do not tell extensions that exist from numbers that do not: a
// made-up or old nonce is challenged before the user is looked up, and an
// unknown user's response is checked against a decoy password, so it fails
// the way a wrong password does, after the same work, with the same 403.
//
// Every failure is logged at WARN in one line fail2ban can read, the
// message being
//
//	sip: auth failed from 192.0.2.7:5060 user=201 method=REGISTER
//
// (an IPv6 source in brackets; a user name's odd bytes percent-encoded)
// followed by reason=password|qop|uri|user|locked as a separate attribute.
// A fail2ban filter (0.10 or later) matches it with
//
//	failregex = sip: auth failed from \[?<ADDR>\]?:\d+ user=\S+ method=[A-Z]+
//
// Failures also count against the source address (Limits.AuthFailures, a
// ban) and against the extension (Limits.ExtensionFailures, a lock that
// the addresses the extension is registered from do not feel).

// challengeResponse builds a 401 (WWW-Authenticate) or 407
// (Proxy-Authenticate) with one challenge per algorithm and a nonce bound
// to the request's source address.
func (e *Endpoint) challengeResponse(req *sip.Request, proxy, stale bool, build func(*sip.Request, int, string) *sip.Response) *sip.Response {
	code, reason, name := 401, "Unauthorized", "WWW-Authenticate"
	if proxy {
		code, reason, name = 407, "Proxy Authentication Required", "Proxy-Authenticate"
	}
	res := build(req, code, reason)
	nonce := e.verifier.Nonce(e.now(), sourceOf(req).Addr().String())
	for _, alg := range e.cfg.DigestAlgorithms {
		c := digest.Challenge{Realm: e.cfg.Realm, Nonce: nonce, Algorithm: alg, QOP: "auth", Stale: stale}
		res.AppendHeader(sip.NewHeader(name, c.String()))
	}
	return res
}

func newResponse(req *sip.Request, code int, reason string) *sip.Response {
	return sip.NewResponseFromRequest(req, code, reason, nil)
}

// challenge answers a request with a challenge in its transaction.
func (e *Endpoint) challenge(tx sip.ServerTransaction, req *sip.Request, proxy, stale bool) {
	e.send(tx, e.challengeResponse(req, proxy, stale, newResponse))
}

// credentials finds the request's digest credentials for our realm.
func (e *Endpoint) credentials(req *sip.Request, proxy bool) (cred digest.Credentials, found bool, err error) {
	hname := "Authorization"
	if proxy {
		hname = "Proxy-Authorization"
	}
	for _, h := range req.GetHeaders(hname) {
		c, err := digest.ParseCredentials(h.Value())
		if err != nil {
			return digest.Credentials{}, false, err
		}
		if c.Realm == e.cfg.Realm {
			return c, true, nil
		}
	}
	return digest.Credentials{}, false, nil
}

// hasCredentials reports whether req carries credentials for our realm.
func (e *Endpoint) hasCredentials(req *sip.Request, proxy bool) bool {
	_, found, err := e.credentials(req, proxy)
	return found || err != nil
}

// screenCredentials is the guard's stateless part of authentication: it
// returns the answer to a request whose credentials are missing, garbled,
// or made with a nonce we did not issue to this address or that is too
// old, and nil for one worth checking (which needs the password, a
// transaction, and counts failures).
func (e *Endpoint) screenCredentials(req *sip.Request, proxy bool) *sip.Response {
	cred, found, err := e.credentials(req, proxy)
	switch {
	case err != nil:
		return e.newStatelessResponse(req, 400, "Bad Request")
	case !found:
		return e.challengeResponse(req, proxy, false, e.newStatelessResponse)
	}
	switch e.verifier.Fresh(cred.Nonce, sourceOf(req).Addr().String(), e.now()) {
	case digest.BadNonce:
		return e.challengeResponse(req, proxy, false, e.newStatelessResponse)
	case digest.Stale:
		// Stale even when the response would be wrong: telling the two
		// apart needs the user's password, and a client with a wrong
		// password meets a 403 on its next, fresh nonce.
		return e.challengeResponse(req, proxy, true, e.newStatelessResponse)
	}
	return nil
}

// authenticate checks the request's credentials for user. It answers the
// request itself (challenge, 403 or 400) and returns false unless the
// credentials are good.
func (e *Endpoint) authenticate(tx sip.ServerTransaction, req *sip.Request, user string, proxy bool) (Extension, bool) {
	cred, found, err := e.credentials(req, proxy)
	if err != nil {
		e.respond(tx, req, 400, "Bad Request")
		return Extension{}, false
	}
	if !found {
		e.challenge(tx, req, proxy, false)
		return Extension{}, false
	}
	src, now := sourceOf(req), e.now()
	ext, exists := e.deps.Directory.Extension(cred.Username)
	password := ext.Password
	if !exists {
		password = e.g.decoy
	}
	reason := ""
	switch e.verifier.Check(cred, string(req.Method), password, src.Addr().String(), now) {
	case digest.OK:
	case digest.Stale:
		e.challenge(tx, req, proxy, true)
		return Extension{}, false
	case digest.BadNonce, digest.Replay:
		// Not a guess: a nonce that is not this address's, or a count
		// already used (a replayed request). Challenge afresh.
		e.challenge(tx, req, proxy, false)
		return Extension{}, false
	default:
		reason = "password"
		if cred.QOP != "auth" {
			reason = "qop"
		}
	}
	switch {
	case reason != "":
	case !exists:
		reason = "password" // so that unknown users look like wrong passwords
	case !sameURI(cred.URI, req.Recipient):
		reason = "uri"
	case cred.Username != user:
		reason = "user"
	case e.locked(cred.Username, src, now):
		reason = "locked"
	}
	if reason != "" {
		e.authFailed(req, src, cred.Username, exists, reason)
		e.respond(tx, req, 403, "Forbidden")
		return Extension{}, false
	}
	e.g.sources.Trust(src.Addr(), now, now.Add(e.cfg.Limits.KnownFor))
	return ext, true
}

// sameURI reports whether the digest uri names the request's URI (RFC
// 3261 19.1.4, without its parameters): a response computed for one
// request must not serve another.
func sameURI(digestURI string, target sip.Uri) bool {
	var u sip.Uri
	if err := sip.ParseUri(digestURI, &u); err != nil {
		return false
	}
	return strings.EqualFold(u.Scheme, target.Scheme) && u.User == target.User &&
		strings.EqualFold(u.Host, target.Host) && u.Port == target.Port
}

// locked reports whether authentication as ext is refused to src: the
// extension is locked after too many failures and src is not an address
// it is registered from (the real phone keeps working).
func (e *Endpoint) locked(ext string, src netip.AddrPort, now time.Time) bool {
	if l, _ := e.g.exts.Banned(ext, now); !l {
		return false
	}
	for _, b := range e.reg.Lookup(ext, now) {
		if b.Source == src.String() {
			return false
		}
		// TCP phones reconnect from new ports.
		if bs, err := netip.ParseAddrPort(b.Source); err == nil && b.Transport != "UDP" && bs.Addr().Unmap() == src.Addr() {
			return false
		}
	}
	return true
}

// authFailed logs a failed authentication and counts it against the source
// and, for an existing extension, against the extension.
func (e *Endpoint) authFailed(req *sip.Request, src netip.AddrPort, user string, exists bool, reason string) {
	now := e.now()
	e.log.Warn(fmt.Sprintf("sip: auth failed from %s user=%s method=%s", src, logSafe(user), req.Method), "reason", reason)
	if _, started, until := e.g.sources.Fail(src.Addr(), now); started {
		e.log.Warn("sip: source banned after failed authentications", "source", src.Addr(),
			"for", until.Sub(now).Round(time.Second))
	}
	if !exists {
		return
	}
	if _, started, until := e.g.exts.Fail(user, now); started {
		e.log.Warn("sip: extension locked after failed authentications; its registered phones keep working",
			"extension", user, "for", until.Sub(now).Round(time.Second))
	}
}

// caller decides who places an inbound call: an extension that carries
// credentials is authenticated (and never taken for a trunk); otherwise a
// trunk recognised by address and port, or by the contact it registered;
// otherwise, when calls must authenticate, the caller is challenged. It
// answers the request itself when it returns false.
func (e *Endpoint) caller(tx sip.ServerTransaction, req *sip.Request) (t *trunk, ext string, ok bool) {
	if !e.hasCredentials(req, true) {
		if t = e.trunkFor(req); t != nil || !e.cfg.AuthenticateCalls {
			return t, "", true
		}
	}
	x, ok := e.authenticate(tx, req, req.From().Address.User, true)
	return nil, x.Number, ok
}
