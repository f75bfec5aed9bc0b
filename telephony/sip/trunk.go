package sip

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"callbox/telephony/sip/digest"
)

// TrunkConfig describes a SIP trunk to a provider.
type TrunkConfig struct {
	Name string
	// Proxy is the provider's host:port; requests to the trunk go there.
	Proxy string
	// Transport is "UDP" (default) or "TCP".
	Transport string
	// Domain is the SIP domain in URIs (default: the Proxy host).
	Domain string
	// Username is the account; AuthUser the digest user if different.
	Username, AuthUser, Password string
	// Register makes the box register Username at the provider.
	Register bool
	// Expires is the registration interval asked for (default 600 s).
	Expires time.Duration
	// InboundAddrs are extra sources whose requests come from this trunk:
	// "ip:port", or "ip" for any port of that address (only for an
	// address no phone shares). The Proxy's own address and port always
	// count; other ports of its address do not, since phones may share it.
	InboundAddrs []string
	// RetryMin and RetryMax bound the registration retry back-off
	// (defaults 5 s and 5 minutes).
	RetryMin, RetryMax time.Duration
}

// TrunkState is a trunk's registration state.
type TrunkState string

// Trunk states.
const (
	TrunkUnregistered TrunkState = "unregistered" // registration not configured
	TrunkRegistering  TrunkState = "registering"
	TrunkRegistered   TrunkState = "registered"
	TrunkFailed       TrunkState = "failed"
)

// TrunkStatus is one row of the trunks view.
type TrunkStatus struct {
	Name  string
	State TrunkState
	// Reason says why the last attempt failed.
	Reason string
	// Failures counts attempts failed in a row.
	Failures int
	// RetryAt is the next attempt after a failure; RefreshAt the next
	// re-registration; ExpiresAt when the provider's binding lapses.
	RetryAt, RefreshAt, ExpiresAt time.Time
}

type trunk struct {
	e    *Endpoint
	cfg  TrunkConfig
	host string
	port int
	// addrs are the sources requests from the trunk come from; port 0
	// stands for any port.
	addrs []netip.AddrPort
	// contactUser is registered at the provider; a request to it proves it
	// came through the registration (it is random, so hard to forge).
	contactUser string
	callID      string

	mu     sync.Mutex
	status TrunkStatus
	cseq   uint32

	// Set when the trunk starts (Start, SetTrunks): stop ends its
	// registration loop, which unregisters, and waits for it.
	cancel context.CancelFunc
	done   chan struct{}
}

func newTrunk(e *Endpoint, c TrunkConfig) (*trunk, error) {
	if c.Name == "" || c.Proxy == "" {
		return nil, errors.New("sip: trunk needs a name and a proxy")
	}
	host, port, err := net.SplitHostPort(c.Proxy)
	if err != nil {
		return nil, fmt.Errorf("sip: trunk %s proxy: %w", c.Name, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("sip: trunk %s proxy port: %w", c.Name, err)
	}
	if c.Transport == "" {
		c.Transport = "UDP"
	}
	c.Transport = strings.ToUpper(c.Transport)
	if c.Domain == "" {
		c.Domain = host
	}
	if c.AuthUser == "" {
		c.AuthUser = c.Username
	}
	if c.Expires == 0 {
		c.Expires = 600 * time.Second
	}
	if c.RetryMin == 0 {
		c.RetryMin = 5 * time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = 5 * time.Minute
	}
	t := &trunk{e: e, cfg: c, host: host, port: p, callID: randHex(12)}
	t.contactUser = c.Username + "-" + randHex(4)
	if ip, err := netip.ParseAddr(host); err == nil {
		t.addrs = append(t.addrs, netip.AddrPortFrom(ip.Unmap(), uint16(p)))
	}
	t.addrs = append(t.addrs, inboundAddrs(c.InboundAddrs)...)
	t.status = TrunkStatus{Name: c.Name, State: TrunkUnregistered}
	return t, nil
}

// inboundAddrs parses TrunkConfig.InboundAddrs, skipping what does not parse.
func inboundAddrs(list []string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, a := range list {
		if ap, err := netip.ParseAddrPort(a); err == nil {
			out = append(out, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
		} else if ip, err := netip.ParseAddr(a); err == nil {
			out = append(out, netip.AddrPortFrom(ip.Unmap(), 0))
		}
	}
	return out
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Trunks reports the registration status of every trunk.
func (e *Endpoint) Trunks() []TrunkStatus {
	ts := e.trunkList()
	out := make([]TrunkStatus, 0, len(ts))
	for _, t := range ts {
		t.mu.Lock()
		out = append(out, t.status)
		t.mu.Unlock()
	}
	return out
}

// trunkList is the trunks as they are now; SetTrunks replaces the list,
// never changes it in place.
func (e *Endpoint) trunkList() []*trunk {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.trunks
}

func (e *Endpoint) trunkByName(name string) *trunk {
	for _, t := range e.trunkList() {
		if t.cfg.Name == name {
			return t
		}
	}
	return nil
}

// SetTrunks applies a new trunk configuration to a running endpoint (or,
// before Start, to the one it will start with): trunks that are new start
// registering, trunks that are gone unregister and stop, and a trunk whose
// configuration changed does both, so that the provider sees the old
// binding removed and the new credentials register at once. A trunk that
// did not change goes on untouched. Calls in progress keep their dialogs
// whatever happens to their trunk. Nothing changes if any configuration
// is invalid.
func (e *Endpoint) SetTrunks(cfgs []TrunkConfig) error {
	next := make([]*trunk, 0, len(cfgs))
	seen := make(map[string]bool, len(cfgs))
	for _, c := range cfgs {
		if seen[c.Name] {
			return fmt.Errorf("sip: trunk %s twice", c.Name)
		}
		seen[c.Name] = true
		t, err := newTrunk(e, c)
		if err != nil {
			return err
		}
		next = append(next, t)
	}
	e.mu.Lock()
	old := make(map[string]*trunk, len(e.trunks))
	for _, t := range e.trunks {
		old[t.cfg.Name] = t
	}
	var stop []*trunk
	for i, t := range next {
		o := old[t.cfg.Name]
		delete(old, t.cfg.Name)
		if o != nil && reflect.DeepEqual(o.cfg, t.cfg) {
			next[i] = o // unchanged: keep its registration
			continue
		}
		if o != nil {
			stop = append(stop, o)
		}
	}
	for _, o := range old {
		stop = append(stop, o)
	}
	e.trunks = next
	running := e.ctx != nil && e.ctx.Err() == nil
	e.mu.Unlock()
	// The old registrations go before the new ones are made: a provider
	// may allow the account one binding only.
	for _, o := range stop {
		o.stop()
	}
	if running {
		e.mu.Lock()
		if e.ctx.Err() == nil { // not closed meanwhile
			for _, t := range next {
				if t.done == nil {
					e.startTrunk(t)
				}
			}
		}
		e.mu.Unlock()
	}
	return nil
}

// startTrunk runs t's registration loop under the endpoint's context; the
// caller holds e.mu.
func (e *Endpoint) startTrunk(t *trunk) {
	ctx, cancel := context.WithCancel(e.ctx)
	t.cancel, t.done = cancel, make(chan struct{})
	e.trunkWG.Add(1)
	go func() {
		defer e.trunkWG.Done()
		defer close(t.done)
		t.run(ctx)
	}()
}

// stop ends t's registration loop (which unregisters) and waits for it.
func (t *trunk) stop() {
	t.e.mu.Lock()
	cancel, done := t.cancel, t.done
	t.e.mu.Unlock()
	if cancel == nil {
		return // never started
	}
	cancel()
	<-done
}

// trunkFor identifies a request from a trunk: by its source address and
// port (see TrunkConfig.InboundAddrs), or by the Request-URI naming the
// contact a registered trunk registered, from one of the trunk's IP
// addresses. Callers give credentials precedence: a request that carries
// an extension's is never a trunk's.
func (e *Endpoint) trunkFor(req *sip.Request) *trunk {
	src := sourceOf(req)
	for _, t := range e.trunkList() {
		t.mu.Lock()
		registered := t.status.State == TrunkRegistered
		addrs := t.addrs
		t.mu.Unlock()
		if sourceIn(src, addrs, false) {
			return t
		}
		if registered && req.Recipient.User == t.contactUser && sourceIn(src, addrs, true) {
			return t
		}
	}
	return nil
}

// trunkAt reports whether src is a trunk's address and port (for the
// guard: a trunk is exempt from the strangers' rate).
func (e *Endpoint) trunkAt(src netip.AddrPort) bool {
	for _, t := range e.trunkList() {
		t.mu.Lock()
		addrs := t.addrs
		t.mu.Unlock()
		if sourceIn(src, addrs, false) {
			return true
		}
	}
	return false
}

// sourceIn reports whether src is one of addrs (port 0 there matching any
// port), or with anyPort one of their IP addresses.
func sourceIn(src netip.AddrPort, addrs []netip.AddrPort, anyPort bool) bool {
	for _, a := range addrs {
		if a.Addr() == src.Addr() && (anyPort || a.Port() == 0 || a.Port() == src.Port()) {
			return true
		}
	}
	return false
}

// backoff is the delay before retry n (1-based): RetryMin doubling per
// failure up to RetryMax, then scaled by a jitter in [0.5, 1) so that boxes
// restarted together do not hit the provider in step.
func backoff(n int, lo, hi time.Duration, jitter float64) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return time.Duration(float64(d) * (0.5 + jitter/2))
}

func (t *trunk) setStatus(f func(s *TrunkStatus)) {
	t.mu.Lock()
	f(&t.status)
	t.mu.Unlock()
}

// run keeps the trunk registered until ctx ends (the endpoint closes or
// the trunk is reconfigured), then unregisters it.
func (t *trunk) run(ctx context.Context) {
	if !t.cfg.Register {
		t.resolve(ctx)
		return
	}
	for {
		t.resolve(ctx)
		t.setStatus(func(s *TrunkStatus) { s.State = TrunkRegistering })
		granted, err := t.register(ctx, t.cfg.Expires)
		var wait time.Duration
		now := t.e.now()
		if err == nil {
			// Refresh at four fifths of the grant (the floor only guards
			// against a provider granting nothing).
			wait = max(granted*4/5, 100*time.Millisecond)
			t.setStatus(func(s *TrunkStatus) {
				*s = TrunkStatus{Name: s.Name, State: TrunkRegistered, RefreshAt: now.Add(wait), ExpiresAt: now.Add(granted)}
			})
		} else {
			if ctx.Err() != nil {
				return
			}
			t.mu.Lock()
			t.status.Failures++
			wait = backoff(t.status.Failures, t.cfg.RetryMin, t.cfg.RetryMax, mrand.Float64())
			t.status.State, t.status.Reason, t.status.RetryAt = TrunkFailed, err.Error(), now.Add(wait)
			t.mu.Unlock()
			t.e.log.Info("sip: trunk registration failed", "trunk", t.cfg.Name, "error", err, "retry", wait)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			if err == nil {
				// The unregistration outlives ctx, for a moment.
				uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				_, _ = t.register(uctx, 0)
				cancel()
			}
			return
		case <-timer.C:
		}
	}
}

// resolve refreshes the proxy's addresses for identifying inbound requests.
func (t *trunk) resolve(ctx context.Context) {
	if _, err := netip.ParseAddr(t.host); err == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", t.host)
	if err != nil {
		return
	}
	addrs := make([]netip.AddrPort, 0, len(ips)+len(t.cfg.InboundAddrs))
	for _, ip := range ips {
		addrs = append(addrs, netip.AddrPortFrom(ip.Unmap(), uint16(t.port)))
	}
	addrs = append(addrs, inboundAddrs(t.cfg.InboundAddrs)...)
	t.mu.Lock()
	t.addrs = addrs
	t.mu.Unlock()
}

func (t *trunk) nextCSeq() uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cseq++
	return t.cseq
}

// register sends one REGISTER (answering challenges, following 423) and
// returns the expiry the provider granted.
func (t *trunk) register(ctx context.Context, expires time.Duration) (time.Duration, error) {
	var chal *sip.Response // the challenge being answered
	var nc uint32          // nonce count used with it
	for attempt := 0; attempt < 4; attempt++ {
		var auth sip.Header
		req := t.registerRequest(expires)
		if chal != nil {
			nc++
			h, _, err := t.authorize(chal, req, nc)
			if err != nil {
				return 0, err
			}
			auth = h
			req.AppendHeader(auth)
		}
		cl := t.e.client(t.cfg.Transport)
		if cl == nil {
			return 0, fmt.Errorf("sip: no %s transport for trunk", t.cfg.Transport)
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		res, err := cl.Do(rctx, req)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("sip: register: %w", err)
		}
		switch {
		case res.StatusCode == 200:
			return grantedExpiry(res, req, expires), nil
		case res.StatusCode == 401 || res.StatusCode == 407:
			stale := false
			if _, s, err := t.authorize(res, req, 1); err == nil {
				stale = s
			}
			if auth != nil && !stale {
				return 0, fmt.Errorf("sip: register: credentials rejected (%d)", res.StatusCode)
			}
			chal, nc = res, 0
		case res.StatusCode == 423:
			h := res.GetHeader("Min-Expires")
			if h == nil {
				return 0, errors.New("sip: register: 423 without Min-Expires")
			}
			n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
			if err != nil || n <= 0 || time.Duration(n)*time.Second <= expires {
				return 0, errors.New("sip: register: bad Min-Expires")
			}
			expires = time.Duration(n) * time.Second
		default:
			return 0, fmt.Errorf("sip: register: %d %s", res.StatusCode, res.Reason)
		}
	}
	return 0, errors.New("sip: register: too many rounds")
}

func (t *trunk) aor() sip.Uri {
	return sip.Uri{Scheme: "sip", User: t.cfg.Username, Host: t.cfg.Domain}
}

func (t *trunk) registerRequest(expires time.Duration) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: t.cfg.Domain})
	req.SetTransport(t.cfg.Transport)
	req.SetDestination(net.JoinHostPort(t.host, strconv.Itoa(t.port)))
	from := &sip.FromHeader{Address: t.aor(), Params: sip.NewParams()}
	from.Params.Add("tag", randHex(6))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: t.aor()})
	cid := sip.CallIDHeader(t.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: t.nextCSeq(), MethodName: sip.REGISTER})
	c := t.e.contact(t.cfg.Transport)
	c.Address.User = t.contactUser
	req.AppendHeader(&c)
	secs := uint32((expires + time.Second - 1) / time.Second) // 0 only when unregistering
	exp := sip.ExpiresHeader(secs)
	req.AppendHeader(&exp)
	req.AppendHeader(sip.NewHeader("User-Agent", t.e.cfg.UserAgent))
	return req
}

// authorize answers a 401/407 with the first challenge whose algorithm we
// support (the server lists them most preferred first).
func (t *trunk) authorize(res *sip.Response, req *sip.Request, nc uint32) (sip.Header, bool, error) {
	chName, authName := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		chName, authName = "Proxy-Authenticate", "Proxy-Authorization"
	}
	for _, h := range res.GetHeaders(chName) {
		ch, err := digest.ParseChallenge(h.Value())
		if err != nil {
			continue
		}
		cred, err := digest.Answer(ch, t.cfg.AuthUser, t.cfg.Password, string(req.Method), req.Recipient.String(), randHex(8), nc)
		if err != nil {
			continue // algorithm we do not do; try the next challenge
		}
		return sip.NewHeader(authName, cred.String()), ch.Stale, nil
	}
	return nil, false, fmt.Errorf("sip: %d without a usable digest challenge", res.StatusCode)
}

// grantedExpiry reads what the registrar granted for our contact.
func grantedExpiry(res *sip.Response, req *sip.Request, asked time.Duration) time.Duration {
	ours := req.Contact()
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok || ours == nil || c.Address.User != ours.Address.User || !strings.EqualFold(c.Address.Host, ours.Address.Host) || c.Address.Port != ours.Address.Port {
			continue
		}
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}
