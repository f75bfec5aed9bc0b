// Package callswitch (directory telephony/switch; "switch" is a Go
// keyword) connects calls: it owns the channels of the box's FXS and FXO
// ports and of SIP legs behind one Channel model, places calls with two or
// more legs through the dial plan (package dialplan), carries out the
// features (hold with music on hold, blind and attended transfer,
// three-way conference, pickup, call waiting, do not disturb, call
// forwarding), joins the legs' audio in the media engine, and leaves one
// CDR per call (package cdr).
//
// # Concurrency
//
// The switch's state has one owner at a time, the holder of its run lock:
// Tick, the frame clock's handler, holds it while it ticks every analog
// channel (whose events call into the switch from inside their Tick) and
// runs the switch's timers, lets it go while the media engine ticks (under
// the engine's own lock), and takes it again for the digits the engine
// heard. Anything from another
// goroutine (SIP signalling, the web API) goes through Do, a queue that
// Tick drains and, once Start has run, a goroutine of the switch's drains as
// soon as work arrives, between ticks, so that signalling does not wait up to
// a frame for the next tick. Nothing the clock does waits for another
// goroutine's I/O (it waits at most for one queued function to finish), and
// SIP requests that touch the network run on goroutines of their own and
// report back through Do.
//
// # Digits
//
// A digit one party of a two-party call sends reaches the other: RFC 4733
// events from a SIP leg's stream and in-band DTMF from an analog leg
// bridged to a SIP leg (detected and muted there) come as the media
// engine's Events, which Tick drains; SIP INFO digits come through
// SIPEvents. Each goes on when it ends, as RFC 4733 to a SIP leg that
// negotiated telephone-event and in band otherwise. Between analog legs
// and in conferences DTMF simply stays in the audio.
//
// # Wiring
//
//	sw, _ := callswitch.New(callswitch.Config{Plan: plan, Extensions: exts, CDR: sink, Clock: clk}, engine)
//	sw.AddFXS(line.FXSConfig{Name: "fxs1"}, fxsPort)   // for each port, before the clock runs
//	sw.AddFXO(line.FXOConfig{Name: "fxo1"}, fxoPort)
//	board.SetHandler(func(pcm.Tick) { sw.Tick() })      // or sw.Run(ctx, clock) without a board
//
// SIP: the endpoint takes the switch's handler, and the switch the
// endpoint's dialer (with a function opening each leg's RTP stream):
//
//	ep, _ := sip.New(cfg, sip.Deps{Handler: sw.SIPHandler(), ...})
//	sw.SetSIP(callswitch.NewSIPDialer(ep, openRTP))
//
// Configuration comes as plain values (dialplan.Config, Extension,
// Config.Inbound) that firmware/app makes from telephony/pbxconf's;
// Reconfigure applies a new one, and Config.ExtensionChanged reports what
// users change with feature codes. Finished calls go to Config.CDR.
package callswitch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"callbox/telephony/line"
	"callbox/telephony/media"
	"callbox/telephony/sip"
	"callbox/telephony/switch/cdr"
	"callbox/telephony/switch/dialplan"
)

// Extension is one extension's settings as the switch needs them
// (firmware/app adapts telephony/pbxconf's extensions to it).
type Extension struct {
	Number string
	Name   string // caller ID name
	// CallerIDNumber is the number presented on calls it makes to the
	// outside (its direct line), unless the route overrides it with its
	// own (dialplan.Route.CallerIDOverride); "" takes the route's number,
	// else the extension's own.
	CallerIDNumber string
	// Port is the FXS port of an analog extension; empty for a SIP one.
	Port string
	// CallWaiting offers a second call to a busy extension.
	CallWaiting bool
	// Initial feature states; the feature codes change them at run time.
	DND                                      bool
	ForwardAll, ForwardBusy, ForwardNoAnswer string
	// RingTimeout is how long it rings before the call counts as not
	// answered (or goes to ForwardNoAnswer); 0 takes Config.RingTimeout.
	RingTimeout time.Duration
}

// Config sets up a Switch.
type Config struct {
	Plan       *dialplan.Plan
	Extensions []Extension
	// Inbound maps an FXO port or SIP trunk to the extension its calls
	// ring; a line not listed rings the first extension.
	Inbound map[string]string
	// DIDs maps a SIP trunk to its dialled numbers (DIDs) and the
	// extension each rings; a trunk call for a DID not listed rings the
	// extension of that number, else the trunk's Inbound destination.
	DIDs map[string]map[string]string
	// RingTimeout is the default for extensions (30 s).
	RingTimeout time.Duration
	// Country is the tone plan for tones the switch plays itself into
	// legs (ringback during a transfer); "" is CN.
	Country string
	CDR     cdr.Sink
	// Clock is the frame clock's time (the same the line channels use).
	Clock line.Clock
	// SIP places SIP calls; nil leaves the switch analog only.
	SIP SIPDialer
	// MaxForwards bounds chains of forwarding (default 5).
	MaxForwards int
	// ExtensionChanged, if set, hears of every change a feature code or
	// the API makes to an extension's DND or forwarding, so that the
	// store keeps them. It is called on the switch's goroutine and must
	// not block.
	ExtensionChanged func(Extension)
	// Logger gets what an administrator must see, such as an emergency
	// call that could not be placed; nil discards.
	Logger *slog.Logger
}

// ErrUnknown is returned for a port or extension the switch does not have.
var ErrUnknown = errors.New("callswitch: unknown port or extension")

// Switch places and connects calls. See the package doc for its threading.
type Switch struct {
	cfg    Config
	engine *media.Engine
	clk    line.Clock
	log    *slog.Logger
	sink   cdr.Sink
	plan   *dialplan.Plan

	exts  map[string]*extState
	chans map[string]*chanState // by channel name
	fxs   []*fxsChan
	fxo   []*fxoChan
	calls map[*call]bool
	seq   uint64
	boot  string

	// run is the state's owner lock (see the package doc): held by Tick
	// and by the drainer, and always taken before mu.
	run   sync.Mutex
	mu    sync.Mutex
	known map[string]bool // extension numbers, for the API's checks
	inbox []func()
	spare []func()
	// wake tells the drainer (Start) that Do queued work.
	wake      chan struct{}
	drainStop context.CancelFunc
	drainDone chan struct{}
	// quiet: the last tick left nothing to time (Idle); wakeFn hears of
	// work the drainer ran (SetWake).
	quiet  atomic.Bool
	wakeFn atomic.Pointer[func()]

	// The application calls are offered to (SetApplication, after
	// SetFrontApplication's), its calls, and the leg ids it is given.
	front  Application
	app    Application
	apps   map[*AppCall]bool
	legSeq atomic.Uint64

	wg         sync.WaitGroup // SIP goroutines
	sipPending map[string][]func(*chanState)
	sipEnded   map[string]sip.Cause // outbound legs that ended before their Dial returned
	dialling   int                  // Dials not yet back
}

// extState is an extension's run-time state.
type extState struct {
	Extension
	port string // channel name of its phone
}

// chanState is the switch's view of one channel.
type chanState struct {
	ch   Channel
	ext  string // extension number of a phone, "" for lines and trunks
	mch  *media.Channel
	cur  *leg // the leg the party is in now
	held *leg // this party's call on hold (its far party hears music)
	wait *leg // a call waiting for this party
	conf bool // cur and held are in a three-way conference
	// swap: held was put on hold to answer a waiting call; a flash
	// switches between the two, and the end of either returns to the other.
	swap bool
	// recall is when an unanswered recall gives up: the phone hung up
	// with a party on hold, and rings back with it.
	recall time.Time
}

// New returns a switch over engine. Channels are added with AddFXS and
// AddFXO before the clock runs.
func New(cfg Config, engine *media.Engine) (*Switch, error) {
	if cfg.Plan == nil {
		return nil, errors.New("callswitch: no dial plan")
	}
	if engine == nil {
		return nil, errors.New("callswitch: no media engine")
	}
	if cfg.Clock == nil {
		return nil, errors.New("callswitch: no clock")
	}
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = 30 * time.Second
	}
	if cfg.MaxForwards <= 0 {
		cfg.MaxForwards = 5
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Switch{cfg: cfg, engine: engine, clk: cfg.Clock, sink: cfg.CDR, plan: cfg.Plan, log: cfg.Logger,
		exts: make(map[string]*extState), chans: make(map[string]*chanState), calls: make(map[*call]bool),
		apps: make(map[*AppCall]bool),
		wake: make(chan struct{}, 1),
		boot: strconv.FormatUint(rand.Uint64()&0xffffff, 36)}
	if s.sink == nil {
		s.sink = discard{}
	}
	for _, e := range cfg.Extensions {
		if !cfg.Plan.IsExtension(e.Number) {
			return nil, fmt.Errorf("callswitch: extension %s is not in the dial plan", e.Number)
		}
		if _, dup := s.exts[e.Number]; dup {
			return nil, fmt.Errorf("callswitch: extension %s twice", e.Number)
		}
		s.exts[e.Number] = &extState{Extension: e}
	}
	s.known = make(map[string]bool)
	for n := range s.exts {
		s.known[n] = true
	}
	return s, nil
}

type discard struct{}

func (discard) Write(cdr.Record) {}

// extByPort returns the extension on an FXS port.
func (s *Switch) extByPort(port string) string {
	for n, e := range s.exts {
		if e.Port == port {
			return n
		}
	}
	return ""
}

// addChannel puts a channel in the engine and the switch's tables.
func (s *Switch) addChannel(ch Channel, ext string, opt media.ChannelOptions) (*chanState, error) {
	if _, dup := s.chans[ch.Name()]; dup {
		return nil, fmt.Errorf("callswitch: channel %s twice", ch.Name())
	}
	mch, err := s.engine.NewChannel(ch.Name(), ch.Endpoint(), opt)
	if err != nil {
		return nil, fmt.Errorf("callswitch: %s: %w", ch.Name(), err)
	}
	cs := &chanState{ch: ch, ext: ext, mch: mch}
	s.chans[ch.Name()] = cs
	if ext != "" {
		s.exts[ext].port = ch.Name()
	}
	return cs, nil
}

// removeChannel takes a dynamic channel (a SIP leg) out again.
func (s *Switch) removeChannel(cs *chanState) {
	s.engine.Remove(cs.mch)
	delete(s.chans, cs.ch.Name())
	if cs.ext != "" && s.exts[cs.ext] != nil && s.exts[cs.ext].port == cs.ch.Name() {
		s.exts[cs.ext].port = ""
	}
}

// Do runs f as the switch's owner: at once by the drainer if Start has run,
// else at the start of the next tick. Functions run one at a time in the
// order queued. It never blocks: SIP handlers and the web API use it.
func (s *Switch) Do(f func()) {
	s.mu.Lock()
	s.inbox = append(s.inbox, f)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// drain runs the work queued so far; the caller holds s.run, so that work
// taken here cannot overtake work another owner took earlier. Work that
// queues more runs on the next pass, not in this one.
func (s *Switch) drain() {
	s.mu.Lock()
	work := s.inbox
	s.inbox = s.spare[:0]
	s.mu.Unlock()
	for i, f := range work {
		f()
		work[i] = nil
	}
	s.spare = work[:0]
}

// Start runs the drainer: from now on work queued with Do runs as soon as
// it arrives instead of waiting for the next tick. Close stops it. Tests that
// step the clock by hand may leave it off, and Do work then runs in Tick.
func (s *Switch) Start(ctx context.Context) {
	if s.drainDone != nil {
		return
	}
	ctx, s.drainStop = context.WithCancel(ctx)
	s.drainDone = make(chan struct{})
	go func() {
		defer close(s.drainDone)
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			}
			s.run.Lock()
			s.drain()
			s.quiet.Store(false) // the work may have started something
			s.run.Unlock()
			if f := s.wakeFn.Load(); f != nil {
				(*f)()
			}
		}
	}()
}

// Idle reports whether the last tick left the switch nothing to time: no
// call, no application call, every analog line idle and quiet, and the
// media engine asleep (media.Engine.Asleep). Work the drainer runs clears
// it until the next tick. A simulated clock may then tick in batches
// (pcm.Sim.SetIdle); any goroutine may ask.
func (s *Switch) Idle() bool { return s.quiet.Load() }

// SetWake sets a function called (on the drainer's goroutine, outside the
// switch's lock) after the drainer has run queued work, which may have
// started something that needs the clock on time: the board's Wake. nil
// removes it.
func (s *Switch) SetWake(f func()) {
	if f == nil {
		s.wakeFn.Store(nil)
		return
	}
	s.wakeFn.Store(&f)
}

// idle computes Idle's answer at the end of a tick; s.run held.
func (s *Switch) idle() bool {
	if len(s.calls) != 0 || len(s.apps) != 0 || s.dialling != 0 || len(s.sipPending) != 0 {
		return false
	}
	for _, c := range s.fxs {
		if !c.fxs.Quiet() {
			return false
		}
	}
	for _, c := range s.fxo {
		if c.fxo.State() != line.FXOIdle {
			return false
		}
	}
	s.mu.Lock()
	queued := len(s.inbox)
	s.mu.Unlock()
	return queued == 0 && s.engine.Asleep()
}

// Tick runs one frame: queued work, every analog channel, the switch's
// timers and the media engine. It is the frame clock's handler.
//
// The media engine ticks without the run lock (the engine has its own), so
// that the drainer goes on with signalling while the frame's media work
// runs: only work that changes the engine's channels waits for the tick to
// end. The endpoints the engine calls are the legs' audio (ports' pipes,
// streams, players), which the switch's own state does not share.
func (s *Switch) Tick() {
	s.run.Lock()
	s.drain()
	for _, c := range s.fxs {
		c.fxs.Tick()
	}
	for _, c := range s.fxo {
		c.fxo.Tick()
	}
	s.timers()
	s.run.Unlock()
	s.engine.Tick()
	s.run.Lock()
	s.digits()
	s.quiet.Store(s.idle())
	s.run.Unlock()
}

// SetSIP sets (or with nil removes) the SIP dialer from the next tick on:
// the endpoint is made after the switch, since it needs SIPHandler.
func (s *Switch) SetSIP(d SIPDialer) {
	s.Do(func() { s.cfg.SIP = d })
}

// Run ticks the switch on clk until ctx ends: for a box without analog
// ports, or tests on media.Virtual. With a board, its PCM highway's
// handler calls Tick instead.
func (s *Switch) Run(ctx context.Context, clk media.Clock) error {
	return clk.Run(ctx, s.Tick)
}

// Close stops the drainer and waits for it and for the SIP goroutines the
// switch started.
func (s *Switch) Close() error {
	if s.drainStop != nil {
		s.drainStop()
		<-s.drainDone
	}
	s.wg.Wait()
	return nil
}

// SetDND turns an extension's do-not-disturb on or off (from the web API:
// it takes effect on the next tick).
func (s *Switch) SetDND(ext string, on bool) error {
	if !s.isKnown(ext) {
		return fmt.Errorf("%w: extension %s", ErrUnknown, ext)
	}
	s.Do(func() {
		if e := s.exts[ext]; e != nil {
			e.DND = on
			s.changed(e)
		}
	})
	return nil
}

func (s *Switch) isKnown(ext string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.known[ext]
}

func (s *Switch) changed(e *extState) {
	if s.cfg.ExtensionChanged != nil {
		s.cfg.ExtensionChanged(e.Extension)
	}
}

// Reconfigure replaces the dial plan, the extensions and the inbound
// destinations on the next tick. Calls in progress go on. An extension
// that stays keeps the DND and forwarding its user set with feature codes
// unless the new settings change them.
func (s *Switch) Reconfigure(plan *dialplan.Plan, exts []Extension, inbound map[string]string) error {
	if plan == nil {
		return errors.New("callswitch: no dial plan")
	}
	seen := make(map[string]bool)
	for _, e := range exts {
		if !plan.IsExtension(e.Number) {
			return fmt.Errorf("callswitch: extension %s is not in the dial plan", e.Number)
		}
		if seen[e.Number] {
			return fmt.Errorf("callswitch: extension %s twice", e.Number)
		}
		seen[e.Number] = true
	}
	s.mu.Lock()
	s.known = seen
	s.mu.Unlock()
	s.Do(func() {
		old := s.exts
		s.exts = make(map[string]*extState, len(exts))
		for _, e := range exts {
			if o := old[e.Number]; o != nil {
				prev := s.configured(e.Number)
				if e.DND == prev.DND {
					e.DND = o.DND
				}
				if e.ForwardAll == prev.ForwardAll {
					e.ForwardAll = o.ForwardAll
				}
				if e.ForwardBusy == prev.ForwardBusy {
					e.ForwardBusy = o.ForwardBusy
				}
				if e.ForwardNoAnswer == prev.ForwardNoAnswer {
					e.ForwardNoAnswer = o.ForwardNoAnswer
				}
			}
			s.exts[e.Number] = &extState{Extension: e}
		}
		s.plan = plan
		s.cfg.Plan = plan
		s.cfg.Extensions = exts
		s.cfg.Inbound = inbound
		for name, cs := range s.chans {
			if cs.ch.Tech() == FXS {
				cs.ext = s.extByPort(name)
				if cs.ext != "" {
					s.exts[cs.ext].port = name
				}
			}
		}
	})
	return nil
}

// SetDIDs replaces the SIP trunks' DID maps (see Config.DIDs) from the
// next tick on; firmware/app calls it with Reconfigure.
func (s *Switch) SetDIDs(dids map[string]map[string]string) {
	s.Do(func() { s.cfg.DIDs = dids })
}

// configured returns an extension as the current configuration gives it.
func (s *Switch) configured(n string) Extension {
	for _, e := range s.cfg.Extensions {
		if e.Number == n {
			return e
		}
	}
	return Extension{}
}

// ForwardKind is one of the three call forwardings.
type ForwardKind uint8

// Forwarding kinds.
const (
	ForwardAll ForwardKind = iota + 1
	ForwardBusy
	ForwardNoAnswer
)

// SetForward sets (or with "" clears) an extension's forwarding target:
// an extension or an outside number as the extension would dial it.
func (s *Switch) SetForward(ext string, k ForwardKind, target string) error {
	if !s.isKnown(ext) {
		return fmt.Errorf("%w: extension %s", ErrUnknown, ext)
	}
	s.Do(func() { s.setForward(ext, k, target) })
	return nil
}

func (s *Switch) setForward(ext string, k ForwardKind, target string) {
	e := s.exts[ext]
	if e == nil {
		return
	}
	defer s.changed(e)
	switch k {
	case ForwardAll:
		e.ForwardAll = target
	case ForwardBusy:
		e.ForwardBusy = target
	case ForwardNoAnswer:
		e.ForwardNoAnswer = target
	}
}

// ExtensionState returns an extension's current settings (DND and
// forwarding as the feature codes left them). Call it from the switch's
// goroutine or through Do.
func (s *Switch) ExtensionState(ext string) (Extension, bool) {
	e := s.exts[ext]
	if e == nil {
		return Extension{}, false
	}
	return e.Extension, true
}

// ActiveCalls returns how many calls are in progress. Call it from the
// switch's goroutine or through Do.
func (s *Switch) ActiveCalls() int { return len(s.calls) }

// nextID names a call: the start time, a tag drawn when the switch was
// made (so that a restart within the same second does not repeat IDs) and
// a sequence number.
func (s *Switch) nextID() string {
	s.seq++
	return s.clk.Now().UTC().Format("20060102T150405") + "-" + s.boot + "-" + strconv.FormatUint(s.seq, 10)
}

// CallInfo is a call in progress as status pages and the console show it.
type CallInfo struct {
	ID, From, To string
	Start        time.Time
	Answer       time.Time // zero while unanswered
	Trunk        string
	Legs         []LegInfo
}

// LegInfo is one live leg of a call.
type LegInfo struct {
	Channel string
	Tech    Tech
	Party   string
	Held    bool // its party hears music on hold
}

// Calls returns the calls in progress, oldest first. It is safe from any
// goroutine: the snapshot is taken on the switch's next tick, so the clock
// must be running; ctx bounds the wait.
func (s *Switch) Calls(ctx context.Context) ([]CallInfo, error) {
	res := make(chan []CallInfo, 1)
	s.Do(func() { res <- s.snapshot() })
	select {
	case c := <-res:
		return c, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("callswitch: calls: %w", ctx.Err())
	}
}

func (s *Switch) snapshot() []CallInfo {
	held := make(map[*leg]bool)
	for _, cs := range s.chans {
		if cs.held != nil {
			if far := other(cs.held); far != nil {
				held[far] = true
			}
		}
	}
	out := make([]CallInfo, 0, len(s.calls))
	for c := range s.calls {
		ci := CallInfo{ID: c.id, From: c.from.Number, To: c.to, Start: c.start, Answer: c.answer, Trunk: c.trunk}
		for _, l := range c.legs {
			if !l.ended {
				ci.Legs = append(ci.Legs, LegInfo{Channel: l.cs.ch.Name(), Tech: l.cs.ch.Tech(), Party: l.party, Held: held[l]})
			}
		}
		out = append(out, ci)
	}
	slices.SortFunc(out, func(a, b CallInfo) int { return a.Start.Compare(b.Start) })
	return out
}
