package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"callbox/board"
	"callbox/board/pcm"
	"callbox/board/ports"
	"callbox/firmware/cli/configcli"
	"callbox/firmware/store"
	"callbox/telephony/line"
	"callbox/telephony/media"
	"callbox/telephony/pbxconf"
	"callbox/telephony/sip"
	"callbox/telephony/sip/digest"
	callswitch "callbox/telephony/switch"
	"callbox/telephony/switch/dialplan"
)

// telephonyRun is the running telephony: the media engine and the switch
// ticked by the board's PCM highway (one clock), the line adapters of
// every working analog port, the SIP endpoint and the CDR writer.
type telephonyRun struct {
	log     *slog.Logger
	eng     *media.Engine
	sw      *callswitch.Switch
	ep      *sip.Endpoint // nil without --sip
	rtp     *rtpPorts
	cdrs    *cdrWriter
	dir     *sipDirectory
	country string
	// trunkMu orders trunk changes: trunks is what the endpoint runs.
	trunkMu sync.Mutex
	trunks  []sip.TrunkConfig

	fxs map[string]*fxsPort
	fxo map[string]*fxoPort

	// devices hears of SIP phones registering and going away (the call
	// centre's agents' devices), once the call centre runs.
	devices atomic.Pointer[deviceSink]
	// outside is how the call centre reaches lines and outside numbers
	// (outside.go), replaced whole with the PBX configuration.
	outside atomic.Pointer[outsideDialling]

	// extQ carries extensions whose DND or forwarding a feature code
	// changed, from the switch's goroutine to the store (saveExtensions).
	extQ chan callswitch.Extension
	db   *store.DB

	cancel context.CancelFunc
	wg     sync.WaitGroup // the switch's own ticker (no highway), the FXO workers' owner
	pb     *ports.Board

	// tickMu is held by every highway tick, so that once stop has set
	// stopped no tick is still inside the switch when it closes.
	tickMu  sync.Mutex
	stopped bool
	// clock counts the frames the clock skipped when it fell behind.
	clock clockWatch
}

// tick is the PCM highway's frame handler.
func (t *telephonyRun) tick(pt pcm.Tick) {
	t.tickMu.Lock()
	if !t.stopped {
		t.clock.seq(pt.Seq, pt.Time)
		t.sw.Tick()
	}
	t.tickMu.Unlock()
}

// sipDirectory is the registrar's view of the SIP extensions' secrets,
// replaced whole when the configuration changes.
type sipDirectory struct {
	m atomic.Pointer[map[string]sip.Extension]
}

// Extension implements sip.Directory.
func (d *sipDirectory) Extension(user string) (sip.Extension, bool) {
	m := d.m.Load()
	if m == nil {
		return sip.Extension{}, false
	}
	e, ok := (*m)[user]
	return e, ok
}

func (d *sipDirectory) set(m map[string]sip.Extension) { d.m.Store(&m) }

// loadPBX reads the stored PBX configuration.
func (a *App) loadPBX() (c pbxconf.Config, err error) {
	err = a.withDB(func(db *store.DB) error {
		return db.View(func(tx *store.Tx) error {
			c, err = configcli.Load(tx)
			return err
		})
	})
	return c, err
}

// startTelephony runs after the board, the store and the PBX configuration:
// it builds the switch from the stored configuration, gives it every
// working FXS and FXO port, ticks it on the board's PCM highway, and opens
// the SIP endpoint on --sip.
func (a *App) startTelephony(ctx context.Context) error {
	conf, err := a.loadPBX()
	if err != nil {
		return fmt.Errorf("pbx configuration: %w", err)
	}
	a.mu.Lock()
	pb, db, desc := a.ports, a.db, a.board
	a.mu.Unlock()
	country := desc.Country
	if country == "" {
		country = "CN"
	}
	log := a.log.With("component", "telephony")
	sc := adaptPBX(conf, country)
	sc.plan.Apps = a.ccDialPlan(sc.plan.Extensions)
	plan, err := dialplan.New(sc.plan)
	if err != nil {
		return err
	}
	t := &telephonyRun{log: log, country: country, pb: pb, dir: &sipDirectory{}, db: db,
		fxs: map[string]*fxsPort{}, fxo: map[string]*fxoPort{}, extQ: make(chan callswitch.Extension, 64)}
	t.clock.log = log
	t.dir.set(sc.secrets)
	t.outside.Store(newOutsideDialling(conf))
	t.cdrs = newCDRWriter(db, log)
	t.cdrs.area = a.localArea
	t.eng = media.NewEngine(media.Config{})
	var clk line.Clock = realClock{}
	if pb != nil {
		clk = pb.Clock()
	}
	t.sw, err = callswitch.New(callswitch.Config{
		Plan: plan, Extensions: sc.exts, Inbound: sc.inbound, DIDs: sc.dids, Country: country,
		CDR: t.cdrs, Clock: clk, ExtensionChanged: t.extensionChanged, Logger: log,
	}, t.eng)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	t.cdrs.start(runCtx)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		t.saveExtensions(runCtx)
	}()
	if pb != nil {
		for _, p := range pb.Ports() {
			if p.Err() != nil {
				log.Warn("port out of service, left out of the switch", "port", p.Name(), "err", p.Err())
				continue
			}
			switch p.Kind() {
			case board.FXS:
				if p.FXS() == nil {
					continue
				}
				fp := newFXSPort(p)
				if err := t.sw.AddFXS(fxsLineConfig(p.Description()), fp); err != nil {
					t.stop(context.Background())
					return err
				}
				t.fxs[p.Name()] = fp
			case board.FXO:
				if p.FXO() == nil {
					continue
				}
				fp := newFXOPort(p)
				if err := t.sw.AddFXO(fxoLineConfig(p.Description(), sc.fxo[p.Name()]), fp); err != nil {
					t.stop(context.Background())
					return err
				}
				fp.start(runCtx)
				t.fxo[p.Name()] = fp
			}
		}
	}
	// Work from SIP and the API runs as it arrives, not at the next tick.
	t.sw.Start(runCtx)
	// Driver events reach the adapters from now on.
	a.lineEvents.Store(&lineRouter{fxs: t.fxs, fxo: t.fxo})
	if pb != nil && highwayRunning(pb) {
		if n := len(pb.HighwayStats()); n > 1 {
			// board/ports calls the handler on every highway's tick: the
			// switch would run once per highway per frame (tickMu keeps
			// that safe, not right). One PCM device per board for now.
			log.Warn("several PCM highways: the switch is ticked by each", "highways", n)
		}
		pb.SetHandler(t.tick)
	} else {
		// No highway (a box of SIP phones only): a ticker paces the switch.
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			tk := &media.Ticker{}
			var seen uint64
			_ = tk.Run(runCtx, func() {
				if n := tk.Skipped(); n != seen {
					t.clock.skipped(n-seen, time.Now())
					seen = n
				}
				t.sw.Tick()
			})
		}()
	}
	if a.cfg.SIPAddr != "" {
		if err := t.startSIP(runCtx, a.cfg, sc); err != nil {
			a.lineEvents.Store(nil)
			t.stop(context.Background())
			return fmt.Errorf("sip: %w", err)
		}
	}
	a.mu.Lock()
	a.tel = t
	a.mu.Unlock()
	log.Info("telephony running", "config", sc.String(), "fxs", len(t.fxs), "fxo", len(t.fxo),
		"sip_udp", t.sipAddr(true), "sip_tcp", t.sipAddr(false))
	return nil
}

// extensionChanged is the switch's Config.ExtensionChanged: it runs on
// the switch's goroutine, so it only queues.
func (t *telephonyRun) extensionChanged(e callswitch.Extension) {
	select {
	case t.extQ <- e:
	default:
		t.log.Warn("extension feature change not stored: queue full", "extension", e.Number)
	}
}

// saveExtensions keeps in the stored configuration the DND and forwarding
// users set with feature codes, so that they survive a restart.
func (t *telephonyRun) saveExtensions(ctx context.Context) {
	for {
		var e callswitch.Extension
		select {
		case <-ctx.Done():
			return
		case e = <-t.extQ:
		}
		err := t.db.Update(func(tx *store.Tx) error {
			c, err := configcli.Load(tx)
			if err != nil {
				return err
			}
			for i := range c.Extensions {
				x := &c.Extensions[i]
				if x.Number != e.Number {
					continue
				}
				x.DND = e.DND
				x.Forward.Always, x.Forward.Busy, x.Forward.NoAnswer = e.ForwardAll, e.ForwardBusy, e.ForwardNoAnswer
				return configcli.Save(tx, c)
			}
			return nil // deleted meanwhile
		})
		if err != nil {
			t.log.Warn("extension feature change not stored", "extension", e.Number, "err", err)
		}
	}
}

// highwayRunning reports whether a PCM highway will tick the handler.
func highwayRunning(pb *ports.Board) bool {
	for _, h := range pb.HighwayStats() {
		if h.Err == nil {
			return true
		}
	}
	return false
}

func (t *telephonyRun) sipAddr(udp bool) string {
	if t.ep == nil {
		return ""
	}
	if udp {
		return t.ep.UDPAddr().String()
	}
	return t.ep.TCPAddr().String()
}

// startSIP opens the endpoint on cfg.SIPAddr (UDP and TCP) with the
// switch as its handler and RTP from cfg's port range.
func (t *telephonyRun) startSIP(ctx context.Context, cfg Config, sc switchConfig) error {
	host, _, err := net.SplitHostPort(cfg.SIPAddr)
	if err != nil {
		return err
	}
	bind := netip.IPv4Unspecified()
	if host != "" {
		if bind, err = netip.ParseAddr(host); err != nil {
			return fmt.Errorf("listen address %q: must be an IP address: %w", cfg.SIPAddr, err)
		}
	}
	adv := bind
	if adv.IsUnspecified() {
		adv = lanAddr()
	}
	min, max := cfg.RTPMin, cfg.RTPMax
	if min == 0 && max == 0 {
		min, max = DefaultRTPMin, DefaultRTPMax
	}
	if t.rtp, err = newRTPPorts(bind, adv, min, max); err != nil {
		return err
	}
	t.rtp.setNAT(sc.nat)
	ep, err := sip.New(sip.Config{
		UDP: cfg.SIPAddr, TCP: cfg.SIPAddr, UserAgent: "callbox",
		AuthenticateCalls: true, Trunks: sc.trunks,
		// MD5 only: Debian's baresip (1.0) takes the last of several
		// challenges, SHA-256, which it cannot do, and gives up (ENOSYS).
		DigestAlgorithms: []digest.Algorithm{digest.MD5},
	}, sip.Deps{Directory: t.dir, Handler: t.sw.SIPHandler(), RTP: t.rtp, Logger: t.log.With("component", "sip"), Observer: t})
	if err != nil {
		return err
	}
	if err := ep.Start(ctx); err != nil {
		ep.Close()
		return err
	}
	t.ep, t.trunks = ep, sc.trunks // before anyone else sees t
	t.sw.SetSIP(callswitch.NewSIPDialer(ep, t.rtp.open))
	return nil
}

// lanAddr is the first non-loopback IPv4 address of the box, for SDP when
// listening on every interface.
func lanAddr() netip.Addr {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP.To4()); ok && !ip.IsLoopback() && n.IP.To4() != nil {
				return ip
			}
		}
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// stop ends the telephony in order: SIP (its legs hang up), the clock's
// handler, the switch's goroutines, the FXO workers, then the CDRs
// still queued are stored.
func (t *telephonyRun) stop(ctx context.Context) error {
	var errs []error
	done := make(chan struct{})
	// All of it on the goroutine, bounded by ctx: a part that blocks (a
	// SIP close waiting for a transaction) is reported by name in time
	// instead of holding up the rest of the box's stop.
	go func() {
		if t.ep != nil {
			t.sw.SetSIP(nil)
			errs = append(errs, t.ep.Close())
		}
		if t.pb != nil {
			t.pb.SetHandler(nil)
		}
		t.tickMu.Lock()
		t.stopped = true // a tick that had already begun has ended
		t.tickMu.Unlock()
		t.cancel()
		t.wg.Wait()
		for _, f := range t.fxo {
			f.wait()
		}
		errs = append(errs, t.sw.Close(), t.eng.Close())
		if t.rtp != nil {
			t.rtp.closeAll()
		}
		t.cdrs.wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("telephony did not stop: %w", ctx.Err())
	}
	if n := t.cdrs.dropped.Load(); n > 0 {
		t.log.Warn("cdrs dropped: the store fell behind", "records", n)
	}
	return errors.Join(errs...)
}

func (a *App) stopTelephony(ctx context.Context) error {
	a.lineEvents.Store(nil)
	a.mu.Lock()
	t := a.tel
	a.tel = nil
	a.mu.Unlock()
	if t == nil {
		return nil
	}
	return t.stop(ctx)
}

// telephony returns the running telephony, or nil.
func (a *App) telephony() *telephonyRun {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tel
}

// pbxChanged applies the stored PBX configuration to the running switch,
// registrar and SIP trunks after the web API or an import changed it.
// Calls in progress go on, also over a trunk that changed.
func (a *App) pbxChanged() {
	t := a.telephony()
	if t == nil {
		return
	}
	conf, err := a.loadPBX()
	if err != nil {
		t.log.Error("pbx configuration not applied", "err", err)
		return
	}
	sc := adaptPBX(conf, t.country)
	sc.plan.Apps = a.ccDialPlan(sc.plan.Extensions)
	plan, err := dialplan.New(sc.plan)
	if err != nil {
		t.log.Error("pbx configuration not applied", "err", err)
		return
	}
	if err := t.sw.Reconfigure(plan, sc.exts, sc.inbound); err != nil {
		t.log.Error("pbx configuration not applied", "err", err)
		return
	}
	t.sw.SetDIDs(sc.dids)
	t.dir.set(sc.secrets)
	t.outside.Store(newOutsideDialling(conf))
	if t.rtp != nil {
		t.rtp.setNAT(sc.nat)
	}
	t.log.Info("pbx configuration applied", "config", sc.String())
	if t.ep != nil {
		t.applyTrunks(sc.trunks)
	}
}

// applyTrunks hands changed SIP trunks to the endpoint: a new or changed
// trunk (re)registers at once, a removed one unregisters. It returns once
// old registrations are removed.
func (t *telephonyRun) applyTrunks(trunks []sip.TrunkConfig) {
	t.trunkMu.Lock()
	defer t.trunkMu.Unlock()
	if reflect.DeepEqual(trunks, t.trunks) {
		return
	}
	if err := t.ep.SetTrunks(trunks); err != nil {
		t.log.Error("sip trunks not applied", "err", err)
		return
	}
	t.trunks = trunks
	t.log.Info("sip trunks applied", "trunks", len(trunks))
}

// lineRouter hands the board's driver events to the line adapters.
type lineRouter struct {
	fxs map[string]*fxsPort
	fxo map[string]*fxoPort
}

// boardEvent is the board's event callback (ports.Options.Events): it runs
// on a port's service goroutine and only queues.
func (a *App) boardEvent(e ports.Event) {
	r := a.lineEvents.Load()
	if r == nil {
		return
	}
	switch e.Kind {
	case board.FXS:
		if p := r.fxs[e.Port]; p != nil {
			p.event(e.FXS)
		}
	case board.FXO:
		if p := r.fxo[e.Port]; p != nil {
			p.event(e.FXO)
		}
	}
}

// realClock is the wall clock, for a box without a board.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// TelephonyStatus is what the console and the web admin show of calls.
type TelephonyStatus struct {
	Running       bool
	SIPUDP        string
	SIPTCP        string
	Registrations int
	ActiveCalls   int
	RTPInUse      int
	CDRsWritten   uint64
	// RTP sums the figures of the RTP streams closed since the start.
	RTP RTPTotals
	// Media is the media engine's frame clock: ticks and the time each
	// took to process.
	Media media.Stats
	// ClockLost counts the frames the clock skipped because it fell
	// behind (an overloaded box): every call loses the same frames.
	ClockLost uint64
	// Calls are the calls in progress.
	Calls []callswitch.CallInfo
}

// TelephonyStatus reports the running telephony's figures. The calls are
// a snapshot the switch takes on its next tick, waited for at most 100 ms
// (ActiveCalls is -1 when it did not come).
func (a *App) TelephonyStatus() TelephonyStatus {
	t := a.telephony()
	if t == nil {
		return TelephonyStatus{}
	}
	s := TelephonyStatus{Running: true, SIPUDP: t.sipAddr(true), SIPTCP: t.sipAddr(false),
		CDRsWritten: t.cdrs.written.Load(), ActiveCalls: -1}
	if t.ep != nil {
		s.Registrations = len(t.ep.Registrations())
		s.RTPInUse = t.rtp.InUse()
		s.RTP = t.rtp.totals()
	}
	s.Media = t.eng.Stats()
	s.ClockLost = t.clock.lost()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if calls, err := t.sw.Calls(ctx); err == nil {
		s.Calls, s.ActiveCalls = calls, len(calls)
	}
	return s
}

// CDRs returns up to limit stored call records that started in [from, to)
// (zero to: no end), oldest first, and where the next page starts (zero
// when none).
func (a *App) CDRs(from, to time.Time, limit int) (list []CDR, next time.Time, err error) {
	err = a.withDB(func(db *store.DB) error {
		list, next, err = listCDRs(db, from, to, limit)
		return err
	})
	return list, next, err
}
