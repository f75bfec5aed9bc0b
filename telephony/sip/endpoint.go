package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"callbox/telephony/sip/digest"
	"callbox/telephony/sip/registrar"
)

// Deps are what an Endpoint consumes from the rest of the box.
type Deps struct {
	Directory Directory
	Handler   CallHandler
	RTP       RTPAllocator
	// Clock defaults to the wall clock; Logger to a discarding one.
	Clock    Clock
	Logger   *slog.Logger
	Observer RegistrationObserver
}

// Endpoint is the box's SIP presence: listeners, registrar, trunks and legs.
type Endpoint struct {
	cfg   Config
	deps  Deps
	clock Clock
	log   *slog.Logger

	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	udpc *sipgo.Client // sends from the UDP listener's socket
	tcpc *sipgo.Client

	verifier *digest.Verifier
	reg      *registrar.Table
	parser   *sip.Parser
	g        *guard
	liveTx   atomic.Int64 // server transactions alive
	tcpOpen  atomic.Int64 // accepted TCP connections open

	udpConn net.PacketConn
	tcpLn   net.Listener
	udpAddr netip.AddrPort
	tcpAddr netip.AddrPort
	// advertised is the IP other parties reach us at (Contact, Via).
	advertised netip.Addr

	mu     sync.Mutex
	legs   map[string]*Leg // by Call-ID and local tag
	probes map[string]int  // keepalive failures by extension and contact
	trunks []*trunk

	// Message waiting (mwi.go): summaries by extension, subscriptions by
	// Call-ID and the subscriber's tag, the NOTIFYs to send.
	mwiMu sync.Mutex
	mwi   map[string]mwiState
	subs  map[string]*subscription
	mwiQ  chan notifyJob

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	legWG     sync.WaitGroup // every goroutine of every leg
	trunkWG   sync.WaitGroup // trunks unregister before the sockets close
	closeOnce sync.Once
}

// New prepares an endpoint; Start opens its sockets.
func New(cfg Config, deps Deps) (*Endpoint, error) {
	cfg.setDefaults()
	if deps.Directory == nil || deps.Handler == nil || deps.RTP == nil {
		return nil, errors.New("sip: Directory, Handler and RTP are required")
	}
	if cfg.UDP == "" && cfg.TCP == "" {
		return nil, errors.New("sip: no listen address")
	}
	if deps.Clock == nil {
		deps.Clock = wallClock{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Endpoint{
		cfg: cfg, deps: deps, clock: deps.Clock, log: deps.Logger,
		verifier: digest.NewVerifier(nil, cfg.NonceTTL),
		reg:      registrar.New(cfg.MaxContacts),
		parser:   sip.NewParser(),
		g:        newGuard(cfg.Limits),
		legs:     make(map[string]*Leg),
		probes:   make(map[string]int),
		mwi:      make(map[string]mwiState),
		subs:     make(map[string]*subscription),
		mwiQ:     make(chan notifyJob, mwiQueue),
	}
	for _, tc := range cfg.Trunks {
		t, err := newTrunk(e, tc)
		if err != nil {
			return nil, err
		}
		e.trunks = append(e.trunks, t)
	}
	return e, nil
}

// Start listens on the configured transports and starts the keepalive and
// trunk registration loops. Close stops everything.
func (e *Endpoint) Start(ctx context.Context) error {
	e.ctx, e.cancel = context.WithCancel(ctx)
	var err error
	if e.cfg.UDP != "" {
		if e.udpConn, err = net.ListenPacket("udp", e.cfg.UDP); err != nil {
			return fmt.Errorf("sip: listen udp: %w", err)
		}
		if uc, ok := e.udpConn.(*net.UDPConn); ok {
			// Room for a phone's datagrams among a flood's while the
			// guard drops the flood (the kernel caps it at rmem_max).
			_ = uc.SetReadBuffer(4 << 20)
		}
		e.udpAddr = netip.MustParseAddrPort(e.udpConn.LocalAddr().String())
	}
	if e.cfg.TCP != "" {
		if e.tcpLn, err = net.Listen("tcp", e.cfg.TCP); err != nil {
			e.closeSockets()
			return fmt.Errorf("sip: listen tcp: %w", err)
		}
		e.tcpAddr = netip.MustParseAddrPort(e.tcpLn.Addr().String())
	}
	if e.advertised, err = e.advertise(); err != nil {
		e.closeSockets()
		return err
	}
	host := e.contactAddr("udp").Addr().String()
	e.ua, err = sipgo.NewUA(
		sipgo.WithUserAgent(e.cfg.UserAgent),
		sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerLogger(e.log),
			sip.WithTransportLayerReadFilter(e.screenUDP),
		),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(e.log),
			// Stray responses are a peer's business, and a flood of them
			// must not reach the log.
			sip.WithTransactionLayerUnhandledResponseHandler(func(*sip.Response) {}),
		),
	)
	if err != nil {
		e.closeSockets()
		return fmt.Errorf("sip: %w", err)
	}
	if e.srv, err = sipgo.NewServer(e.ua, sipgo.WithServerLogger(e.log)); err != nil {
		e.closeSockets()
		return fmt.Errorf("sip: %w", err)
	}
	if e.udpConn != nil {
		if e.udpc, err = sipgo.NewClient(e.ua, sipgo.WithClientLogger(e.log),
			sipgo.WithClientHostname(host),
			sipgo.WithClientConnectionAddr(e.udpAddr.String())); err != nil {
			e.closeSockets()
			return fmt.Errorf("sip: %w", err)
		}
	}
	if e.tcpLn != nil {
		if e.tcpc, err = sipgo.NewClient(e.ua, sipgo.WithClientLogger(e.log),
			sipgo.WithClientHostname(e.contactAddr("tcp").Addr().String())); err != nil {
			e.closeSockets()
			return fmt.Errorf("sip: %w", err)
		}
	}
	e.route()
	if e.udpConn != nil {
		e.goFn(func() { _ = e.srv.ServeUDP(e.udpConn) })
		waitPooled(e.ua.TransportLayer())
	}
	if e.tcpLn != nil {
		e.goFn(func() { _ = e.srv.ServeTCP(&tcpListener{Listener: e.tcpLn, e: e}) })
	}
	if e.cfg.KeepaliveInterval > 0 {
		e.goFn(e.keepaliveLoop)
	}
	e.goFn(e.mwiSender)
	e.mu.Lock()
	for _, t := range e.trunks {
		e.startTrunk(t)
	}
	e.mu.Unlock()
	return nil
}

func (e *Endpoint) goFn(f func()) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		f()
	}()
}

func (e *Endpoint) closeSockets() {
	if e.udpConn != nil {
		e.udpConn.Close()
	}
	if e.tcpLn != nil {
		e.tcpLn.Close()
	}
}

// Close hangs up every leg, stops the loops and closes the sockets.
func (e *Endpoint) Close() error {
	if e.cancel == nil {
		return nil
	}
	e.closeOnce.Do(e.close)
	return nil
}

func (e *Endpoint) close() {
	e.closeLegs()
	e.mu.Lock()
	e.cancel() // under mu: SetTrunks starts no trunk after this
	e.mu.Unlock()
	e.legWG.Wait()
	e.trunkWG.Wait()
	e.closeSockets()
	e.wg.Wait()
	if e.ua != nil {
		e.ua.Close()
	}
}

// UDPAddr and TCPAddr return the bound listen addresses (useful with port 0).
func (e *Endpoint) UDPAddr() netip.AddrPort { return e.udpAddr }

// TCPAddr returns the bound TCP listen address.
func (e *Endpoint) TCPAddr() netip.AddrPort { return e.tcpAddr }

func (e *Endpoint) contactAddr(transport string) netip.AddrPort {
	a := e.udpAddr
	if strings.EqualFold(transport, "tcp") && e.tcpLn != nil || e.udpConn == nil {
		a = e.tcpAddr
	}
	if e.advertised.IsValid() {
		a = netip.AddrPortFrom(e.advertised, a.Port())
	}
	return a
}

// advertise picks the address for Contact and Via headers.
func (e *Endpoint) advertise() (netip.Addr, error) {
	if e.cfg.Advertise != "" {
		a, err := netip.ParseAddr(e.cfg.Advertise)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("sip: advertise address: %w", err)
		}
		return a, nil
	}
	listen := e.udpAddr
	if !listen.IsValid() {
		listen = e.tcpAddr
	}
	if !listen.Addr().IsUnspecified() {
		return listen.Addr().Unmap(), nil
	}
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				ip, _ := netip.AddrFromSlice(n.IP.To4())
				return ip, nil
			}
		}
	}
	return netip.MustParseAddr("127.0.0.1"), nil
}

// contact is the box's Contact for messages on a transport.
func (e *Endpoint) contact(transport string) sip.ContactHeader {
	a := e.contactAddr(transport)
	h := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "callbox", Host: a.Addr().String(), Port: int(a.Port())}}
	if strings.EqualFold(transport, "tcp") {
		h.Address.UriParams = sip.NewParams()
		h.Address.UriParams.Add("transport", "tcp")
	}
	return h
}

func (e *Endpoint) client(transport string) *sipgo.Client {
	if strings.EqualFold(transport, "tcp") && e.tcpc != nil || e.udpc == nil {
		return e.tcpc
	}
	return e.udpc
}

func (e *Endpoint) route() {
	t := e.tracked
	e.srv.OnRegister(t(e.onRegister))
	e.srv.OnOptions(t(e.onOptions))
	e.srv.OnInvite(t(e.onInvite))
	e.srv.OnAck(t(e.onAck))
	e.srv.OnBye(t(e.onBye))
	e.srv.OnCancel(t(func(req *sip.Request, tx sip.ServerTransaction) {
		// A CANCEL matching a pending INVITE is consumed by the transaction
		// layer; one that reaches us matches nothing.
		e.respond(tx, req, 481, "Call/Transaction Does Not Exist")
	}))
	e.srv.OnInfo(t(e.onInfo))
	e.srv.OnRefer(t(e.onRefer))
	e.srv.OnSubscribe(t(e.onSubscribe))
	e.srv.OnNotify(t(func(req *sip.Request, tx sip.ServerTransaction) {
		if e.findLeg(req) == nil {
			e.respond(tx, req, 481, "Call/Transaction Does Not Exist")
			return
		}
		e.respond(tx, req, 200, "OK")
	}))
	e.srv.OnNoRoute(t(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
		res.AppendHeader(sip.NewHeader("Allow", allowed))
		e.send(tx, res)
	}))
}

const allowed = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO, REFER, NOTIFY, SUBSCRIBE"

func (e *Endpoint) respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	e.send(tx, res)
}

func (e *Endpoint) send(tx sip.ServerTransaction, res *sip.Response) {
	res.AppendHeader(sip.NewHeader("Server", e.cfg.UserAgent))
	if err := tx.Respond(res); err != nil {
		e.log.Debug("sip: respond failed", "status", res.StatusCode, "error", err)
	}
}

// onOptions answers an OPTIONS the guard let through (it answers them
// statelessly itself).
func (e *Endpoint) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	e.send(tx, withAllow(sip.NewResponseFromRequest(req, 200, "OK", nil)))
}

// wellFormed checks what sipgo's parser lets through but the box must not
// act on or echo: the mandatory headers of RFC 3261 8.1.1, a usable top
// Via, a CSeq method matching the request's, and (RFC 3261 18.3) a body no
// shorter than its Content-Length.
func wellFormed(req *sip.Request) bool {
	via := req.Via()
	if req.SipVersion != "SIP/2.0" || via == nil || req.From() == nil || req.To() == nil ||
		req.CallID() == nil || req.CSeq() == nil {
		return false
	}
	if via.ProtocolName != "SIP" || via.ProtocolVersion != "2.0" || via.Host == "" {
		return false
	}
	switch strings.ToUpper(via.Transport) {
	case "UDP", "TCP", "TLS", "SCTP", "WS", "WSS":
	default:
		return false
	}
	if req.CSeq().MethodName != req.Method {
		return false
	}
	if cl := req.ContentLength(); cl != nil && int(*cl) > len(req.Body()) {
		return false
	}
	return true
}

// badRequest builds a stateless 400 for a raw request that does not parse
// (sipgo would drop it silently and the sender retransmit for 32 s), copying
// its Via, From, To, Call-ID and CSeq lines (RFC 3261 8.2.6) that parse on
// their own; broken ones are left out. It returns nil when no Via survives,
// since the sender could not match the answer.
func badRequest(data []byte) []byte {
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	var b bytes.Buffer
	const status = "SIP/2.0 400 Bad Request\r\n"
	b.WriteString(status)
	vias := 0
	for i, line := range bytes.Split(head, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if i == 0 || len(line) == 0 || line[0] == ' ' || line[0] == '\t' || len(line) > 1024 {
			continue
		}
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		isVia := false
		switch strings.ToLower(string(bytes.TrimSpace(name))) {
		case "via", "v":
			isVia = true
		case "from", "f", "to", "t", "call-id", "i", "cseq":
		default:
			continue
		}
		probe := make([]byte, 0, len(status)+len(line)+24)
		probe = append(probe, status...)
		probe = append(probe, line...)
		probe = append(probe, "\r\nContent-Length: 0\r\n\r\n"...)
		if _, err := sip.ParseMessage(probe); err != nil {
			continue
		}
		if isVia {
			vias++
		}
		b.Write(line)
		b.WriteString("\r\n")
	}
	if vias == 0 {
		return nil
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	if _, err := sip.ParseMessage(b.Bytes()); err != nil {
		return nil
	}
	return b.Bytes()
}

// now reads the injected clock.
func (e *Endpoint) now() time.Time { return e.clock.Now() }

// waitPooled waits until the UDP listener is in sipgo's connection pool:
// until then a request sent from it would try to bind the port again.
func waitPooled(tl *sip.TransportLayer) {
	for i := 0; i < 2000 && tl.Pool("udp").Size() == 0; i++ {
		time.Sleep(time.Millisecond)
	}
}
