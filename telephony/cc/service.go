package cc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/ccconf"
	"callbox/telephony/fax"
	"callbox/telephony/ivr"
	callswitch "callbox/telephony/switch"
	"callbox/telephony/voicemail"
)

// Clock is the service's time: acd's (Now and AfterFunc), shared with the
// ACD and IVR engines.
type Clock = acd.Clock

// Options are the service's collaborators. Switch, Bus, Clock, Prompts and
// Flows are required.
type Options struct {
	Switch *callswitch.Switch
	Bus    *ccevent.Bus
	Clock  Clock
	// Prompts plays prompts, text and phrases.
	Prompts Prompts
	// Flows gives the IVR flows (an ivr.Repository).
	Flows ivr.FlowSource
	// HTTP performs the IVR's HTTP lookups; nil fails them.
	HTTP ivr.Fetcher
	// Status, Callbacks persist the ACD's status log and callbacks; nil
	// keeps them in memory.
	Status    acd.StatusLog
	Callbacks acd.CallbackStore
	// Devices keeps agents' device bindings across restarts; nil keeps
	// them in memory.
	Devices DeviceStore
	// Facts keeps the fact rows of queue calls; nil drops them.
	Facts FactStore
	// Recorder records services, agents' outbound calls and IVR record
	// nodes; nil refuses them. An InfoRecorder gets the calls' details.
	Recorder Recorder
	// Voicemail takes messages (flows, routes, overflows, *96) and runs
	// retrieval (*97, *98); nil keeps the stand-in that says voicemail is
	// not available.
	Voicemail *voicemail.Service
	// Consent names the prompt played to a caller before they wait for a
	// group that records its services ("this call may be recorded"); nil
	// or "" plays none.
	Consent func() string
	// Rooms are the conference rooms whose numbers the dial plan gives
	// the service (an extension's dialling, a route's or a forward's
	// handoff); nil: no rooms.
	Rooms Rooms
	// VerifyPIN checks a PIN an agent typed against their stored hash;
	// nil refuses every PIN.
	VerifyPIN func(hash, pin string) bool
	// PINLockout is how long a phone that sent too many wrong PINs in a
	// row (the configuration's pin_tries) is refused logins
	// (DefaultPINLockout when 0).
	PINLockout time.Duration
	// LineTrunk names the PBX trunk of an FXO port ("fxo1" -> "pstn1"),
	// which line routes name; nil takes the port's name.
	LineTrunk func(port string) string
	// DialOut turns an outside number into what the switch dials for it,
	// through route when one is named (an agent's outside device) or any
	// route: the route's access code in front, as an extension would
	// dial it. nil dials the number as it is.
	DialOut func(number, route string) string
	// Fax runs faxes on the service's calls (fax nodes, the fax route
	// target, a fax machine heard calling, agents' faxes); nil refuses
	// them and listens for no fax machine.
	Fax    FaxService
	Logger *slog.Logger
}

// DeviceStore keeps which device each agent is bound to.
type DeviceStore interface {
	PutDevice(agent acd.AgentID, device Device) error
	DeleteDevice(agent acd.AgentID) error
	Devices() (map[acd.AgentID]Device, error)
}

// Device is a phone an agent is bound to: an extension of the box (an
// FXS phone or a SIP extension with all its contacts) or an outside
// number dialled through a route.
type Device struct {
	Extension string `json:"extension,omitempty"`
	Outside   string `json:"outside,omitempty"`
	// Route is the outbound route an outside number is dialled through
	// ("" : any that takes it).
	Route string `json:"route,omitempty"`
}

// String names the device as events show it ("201", "out:13800138000").
func (d Device) String() string {
	if d.Outside != "" {
		return "out:" + d.Outside
	}
	return d.Extension
}

// IsZero reports whether no device is set.
func (d Device) IsZero() bool { return d.Extension == "" && d.Outside == "" }

// Errors a caller of the Go API may branch on (the REST layer maps them to
// status codes).
var (
	ErrUnknownAgent = errors.New("cc: unknown agent")
	ErrNoCall       = errors.New("cc: no such call")
	ErrNotInCall    = errors.New("cc: agent is not in a call")
	ErrRefused      = errors.New("cc: not allowed now")
	ErrClosed       = errors.New("cc: service stopped")
)

// Service is the call-centre service. See the package doc.
type Service struct {
	opts  Options
	sw    *callswitch.Switch
	acd   *acd.Engine
	ivr   *ivr.Engine
	bus   *ccevent.Bus
	clock Clock
	log   *slog.Logger
	cfg   atomic.Pointer[ccconf.Snapshot]

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the loop and the dialogue goroutines

	mu    sync.Mutex
	inbox []func()
	spare []func()
	wake  chan struct{}
	// busy counts work not yet done: posted functions, mailbox messages
	// not yet taken, dialogue goroutines running. Tests on a virtual clock
	// wait for it to drop to zero between frames.
	busy atomic.Int64
	seq  atomic.Uint64
	boot string

	// Owned by the loop:
	sessions map[*callswitch.AppCall]*session
	byID     map[string]*session
	agents   map[acd.AgentID]*agentRT
	facts    map[string]*Fact
	// pinFails counts each phone's wrong PINs in a row.
	pinFails map[string]*pinFail
	// wrapOf is the call each agent wraps up, wrapSince since when.
	wrapOf    map[string]string
	wrapSince map[string]time.Time

	factQ        chan Fact
	factsDropped atomic.Uint64

	// faxMu guards detectors, the fax detectors listening (for Idle).
	faxMu     sync.Mutex
	detectors map[*fax.Detector]bool
}

// agentRT is what the service knows of an agent beyond the engine's state.
type agentRT struct {
	id     acd.AgentID
	device Device
	// down: the bound device is unavailable (unregistered, port failed).
	down bool
	ses  *session // the service the agent is in (or rung for)
	// Today's outbound calls the customer answered and their talk time
	// (inbound ones are the ACD engine's); day is the date they count.
	outCalls int
	outTalk  time.Duration
	day      time.Time
}

// outToday rolls rt's outbound counters over at midnight of now's day.
func (rt *agentRT) outToday(now time.Time) {
	if day := dayStart(now); !day.Equal(rt.day) {
		rt.day, rt.outCalls, rt.outTalk = day, 0, 0
	}
}

// New builds the service and its ACD and IVR engines from the call
// centre's compiled configuration, restoring callbacks, device bindings
// and agents' states (each agent's last status entry). Start runs it.
func New(cfg *ccconf.Snapshot, o Options) (*Service, error) {
	if cfg == nil || o.Switch == nil || o.Bus == nil || o.Clock == nil || o.Prompts == nil || o.Flows == nil {
		return nil, errors.New("cc: configuration, switch, bus, clock, prompts and flows are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PINLockout <= 0 {
		o.PINLockout = DefaultPINLockout
	}
	if o.LineTrunk == nil {
		o.LineTrunk = func(port string) string { return port }
	}
	if o.DialOut == nil {
		o.DialOut = func(n, _ string) string { return n }
	}
	s := &Service{opts: o, sw: o.Switch, bus: o.Bus, clock: o.Clock, log: o.Logger,
		wake:     make(chan struct{}, 1),
		sessions: map[*callswitch.AppCall]*session{}, byID: map[string]*session{},
		agents: map[acd.AgentID]*agentRT{}, facts: map[string]*Fact{}, pinFails: map[string]*pinFail{},
		wrapOf: map[string]string{}, wrapSince: map[string]time.Time{}, factQ: make(chan Fact, 1024),
		detectors: map[*fax.Detector]bool{},
		boot:      strconv.FormatInt(o.Clock.Now().UnixNano()/int64(time.Millisecond)%(36*36*36*36*36), 36)}
	s.cfg.Store(cfg)
	e, err := acd.New(cfg.ACD(), acd.Options{Clock: o.Clock, Actions: actions{s}, Status: statusLog{s, o.Status}, Callbacks: o.Callbacks,
		Seed: uint64(o.Clock.Now().UnixNano())})
	if err != nil {
		return nil, fmt.Errorf("cc: %w", err)
	}
	s.acd = e
	s.ivr = &ivr.Engine{Flows: o.Flows, HTTP: o.HTTP, Clock: o.Clock, Calendars: calendars{s}, Apology: promptUnavailable}
	if err := s.restore(); err != nil {
		return nil, err
	}
	return s, nil
}

// ACD returns the ACD engine, for the live figures (Queues, Agents,
// Waiting) and the staffing views.
func (s *Service) ACD() *acd.Engine { return s.acd }

// IVR returns the IVR engine (its flows, calendars and clock are the
// service's).
func (s *Service) IVR() *ivr.Engine { return s.ivr }

// Config returns the configuration in force.
func (s *Service) Config() *ccconf.Snapshot { return s.cfg.Load() }

// Reconfigure puts a new configuration in force without dropping calls:
// the ACD engine's (acd.Engine.Reconfigure, which refuses to remove an
// agent in a call) and the service's own (routes, blacklist, feature
// codes, calendars...). A call in an IVR flow keeps the flow's version it
// started with. firmware/app also rebuilds the switch's dial plan with
// DialPlan.
func (s *Service) Reconfigure(cfg *ccconf.Snapshot) error {
	if err := s.acd.Reconfigure(cfg.ACD()); err != nil {
		return fmt.Errorf("cc: %w", err)
	}
	s.cfg.Store(cfg)
	s.post(func() {
		s.publish(ccevent.Event{Type: ccevent.ConfigChanged, Detail: map[string]string{"what": "call centre"}})
	})
	return nil
}

// Start runs the service's loop and offers the switch's calls to it. Close
// stops it.
func (s *Service) Start(ctx context.Context) {
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.wg.Add(1)
	go s.loop()
	if s.opts.Facts != nil {
		s.wg.Add(1)
		go s.writeFacts()
	}
	s.sw.SetApplication(router{s})
}

// Close stops offering calls, ends the dialogues and the loop and waits for
// them. Calls in progress are left to the switch, which ends them when it
// stops.
func (s *Service) Close() error {
	if s.cancel == nil {
		return nil
	}
	s.sw.SetApplication(nil)
	s.cancel()
	s.wg.Wait()
	return nil
}

// post runs f on the loop. It never blocks.
func (s *Service) post(f func()) {
	s.busy.Add(1)
	s.mu.Lock()
	s.inbox = append(s.inbox, f)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// call runs f on the loop and waits for it (for the Go API; never from
// the loop or the switch's goroutine).
func (s *Service) call(ctx context.Context, f func() error) error {
	if s.ctx == nil {
		return ErrClosed
	}
	res := make(chan error, 1)
	s.post(func() { res <- f() })
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ctx.Done():
		return ErrClosed
	}
}

func (s *Service) loop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
		}
		for {
			s.mu.Lock()
			work := s.inbox
			if len(work) == 0 {
				s.mu.Unlock()
				break
			}
			s.inbox = s.spare[:0]
			s.mu.Unlock()
			for i, f := range work {
				f()
				work[i] = nil
				s.busy.Add(-1)
			}
			s.spare = work[:0]
		}
	}
}

// Idle reports whether the service has nothing to do until the next event
// (no posted work, no message waiting for a dialogue, no dialogue
// running): tests on a virtual clock step the next frame only then.
func (s *Service) Idle() bool { return s.busy.Load() == 0 && s.detectorsIdle() }

// newID names a call of the service: the time, the boot tag and a
// sequence number.
func (s *Service) newID() string {
	return s.clock.Now().UTC().Format("20060102T150405") + "-c" + s.boot + "-" + strconv.FormatUint(s.seq.Add(1), 10)
}

// publish puts an event on the bus.
func (s *Service) publish(e ccevent.Event) ccevent.Event {
	if e.Time.IsZero() {
		e.Time = s.clock.Now()
	}
	e = s.bus.Publish(e)
	s.fact(e)
	return e
}

// router is the switch's Application: it takes the calls the routes
// send to the call centre.
type router struct{ s *Service }

// Offer implements callswitch.Application on the switch's goroutine: it
// reads the configuration (an atomic snapshot) and decides at once.
func (r router) Offer(in callswitch.Incoming) callswitch.AppHandler {
	s := r.s
	cfg := s.cfg.Load()
	if in.Kind == callswitch.Dialled {
		if in.App != AppName {
			return nil
		}
		if isCode(cfg, in.To) || s.isRoom(in.To) {
			return &handler{s: s, in: in}
		}
	} else if cfg.BlockedIn(in.From.Number) {
		return &handler{s: s, in: in} // refused at once, with an event
	}
	if _, ok := target(cfg, in, s.opts.LineTrunk); ok {
		return &handler{s: s, in: in}
	}
	return nil
}

// handler receives an app call's events on the switch's goroutine and
// posts them to the loop, with the offer that made the call.
type handler struct {
	s  *Service
	in callswitch.Incoming
}

// AppEvent implements callswitch.AppHandler.
func (h *handler) AppEvent(c *callswitch.AppCall, ev callswitch.AppEvent) {
	h.s.post(func() { h.s.appEvent(c, ev, h.in) })
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
