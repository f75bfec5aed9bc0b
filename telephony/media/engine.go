package media

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"callbox/dsp/dtmf"
	"callbox/dsp/echo"
	"callbox/dsp/mix"
)

// Endpoint is one leg's audio: an analog port or an RTP stream. The engine
// calls ReadFrame and then WriteFrame once per tick, on the clock goroutine,
// with slices of FrameSamples; neither may block or keep the slice. The
// optional interfaces below (Independent, AheadReader, PacketWriter,
// DigitReader, DigitWriter) are found on the endpoint or, through a
// Wrapper's Unwrap, on what it wraps (As).
type Endpoint interface {
	// ReadFrame fills frame with the audio the leg delivered this tick
	// (silence when there is none).
	ReadFrame(frame []int16)
	// WriteFrame takes the audio to send to the leg this tick.
	WriteFrame(frame []int16)
}

// Independent is an Endpoint whose ReadFrame and WriteFrame touch only its
// own state (an RTP stream): the engine may call them on a worker goroutine,
// at the same time as other endpoints', to spread a tick over the cores.
// Endpoints that share state (the analog ports of one PCM highway, a source
// played to several channels) do not implement it and stay on the clock's
// goroutine.
type Independent interface {
	Endpoint
	IndependentEndpoint()
}

// Idler is an Endpoint that may go untouched while its channel is idle:
// when the channel is in no conference, hears no player or digits, feeds no
// tap and has no echo canceller or DTMF detector, and Idle reports true, the
// engine writes it one frame of silence and then calls neither ReadFrame
// nor WriteFrame until that changes (an idle analog port, whose line keeps
// its own clock). Endpoints without it are ticked on every frame.
type Idler interface {
	Endpoint
	Idle() bool
}

// AheadReader is an Endpoint that can take the frame its next ReadFrame
// will return a tick early when it already holds it (an RTP stream whose
// packet carried it); that ReadFrame then returns the same frame.
type AheadReader interface {
	ReadAhead(frame []int16) bool
}

// PacketWriter is an Endpoint that sends frames in packets of several
// (RTP at ptime 20 or 30): PacketRoom is how many more frames the packet
// being filled takes before it goes, 0 when frames go out one by one (which
// a read-ahead would only make bursty).
type PacketWriter interface {
	PacketRoom() int
}

// DigitReader is an Endpoint that receives digits out of band (RFC 4733);
// the engine collects them after each ReadFrame.
type DigitReader interface {
	ReadDigits(dst []DigitEvent) []DigitEvent
}

// DigitWriter is an Endpoint that sends digits out of band (RFC 4733);
// without it, or when SendDigit returns ErrInBand (the peer did not
// negotiate telephone-events), the engine plays digits in band.
type DigitWriter interface {
	SendDigit(digit byte, dur time.Duration) error
}

// ErrInBand is returned by a DigitWriter that cannot send digits out of band.
var ErrInBand = errors.New("media: digits must go in band")

// DigitKind says whether a DigitEvent is a start or an end.
type DigitKind uint8

// Digit kinds.
const (
	DigitStart DigitKind = iota + 1
	DigitEnd
)

// DigitEvent is a DTMF digit's start or end on a leg.
type DigitEvent struct {
	Kind     DigitKind
	Digit    byte
	Duration time.Duration // in DigitEnd
	// OutOfBand is set for RFC 4733 events, clear for in-band detection.
	OutOfBand bool
}

// Event is a DigitEvent on a channel, delivered on Engine.Events.
type Event struct {
	Channel *Channel
	DigitEvent
}

// ChannelOptions sets up a channel's processing.
type ChannelOptions struct {
	// EchoTaps enables echo cancelling with that tail (echo.MinTaps to
	// echo.MaxTaps; 256 = 32 ms is usual). Analog legs want it.
	EchoTaps int
	// DetectDTMF runs the in-band DTMF detector on what the leg sends;
	// MuteDTMF also removes the detected digits from the audio (delaying it
	// by dtmf.MuteDelay samples).
	DetectDTMF, MuteDTMF bool
	// Tap receives the channel's frames for recording.
	Tap *Tap
}

// Channel is one leg in the engine.
type Channel struct {
	name   string
	ep     Endpoint
	dr     DigitReader // ep's capabilities, found through Wrapper chains
	dw     DigitWriter
	ec     *echo.Canceller
	det    *dtmf.Detector
	gen    *dtmf.Generator // in-band digits, made on first use
	tap    *Tap
	conf   *Conference
	player Endpoint // replaces the mix towards the leg while set
	indep  bool     // ep is Independent
	idler  Idler
	// asleep: this tick passes the channel by (see Idler); quiet: it has
	// been sent silence since it went idle.
	asleep, quiet bool

	// A bridge from an AheadReader to this PacketWriter completes the
	// outgoing packet with the partner's next frame when the packet lacks
	// one frame and the partner already holds it, instead of waiting a tick
	// for it: that saves 10 ms of a 20 ms packet (ahead, set each tick);
	// the next tick's write is then skipped (skip).
	pw    PacketWriter
	ar    AheadReader
	ahead AheadReader // the partner's, this tick
	skip  bool
	next  [FrameSamples]int16

	in, out, prevOut [FrameSamples]int16
	dtmfEvs          []dtmf.Event
	digits           []DigitEvent
}

// Name returns the name given to NewChannel.
func (c *Channel) Name() string { return c.name }

// String implements fmt.Stringer.
func (c *Channel) String() string { return c.name }

// Conference is a set of channels that hear each other: two channels make a
// bridge (plain copies), more a mixed conference (dsp/mix, nobody hears
// themselves). A channel is in at most one conference. Each member has a
// Role: talkers hear each other, a listener hears the talkers and is heard
// by nobody, a whisperer hears the talkers and is heard by one member only.
type Conference struct {
	members []*Channel
	roles   []Member // Role and To of each member, by index
	whisper []int    // whisper[i]: the member index i is heard by, or -1
	mixer   *mix.Mixer
	ins     [][]int16
	outs    [][]int16
	e       *Engine
}

// Role is how a member takes part in a conference.
type Role uint8

// Conference roles.
const (
	// Talk: hears the other talkers (and whisperers to it), heard by the
	// talkers and listeners.
	Talk Role = iota
	// Listen: hears the talkers, heard by nobody (supervisor monitoring).
	Listen
	// Whisper: hears the talkers, heard only by the member Member.To
	// (a supervisor coaching an agent); with no such member, by nobody.
	Whisper
)

var roleNames = [...]string{"talk", "listen", "whisper"}

// String names the role.
func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return fmt.Sprintf("role(%d)", r)
}

// Member is a channel with its role, for Engine.ConferenceOf.
type Member struct {
	Channel *Channel
	Role    Role
	// To is the member a Whisper is heard by.
	To *Channel
}

// Stats are the engine's counters.
type Stats struct {
	Ticks         uint64
	Channels      int
	Conferences   int
	EventsDropped uint64
	// Slept counts the channel ticks passed by because the channel was
	// idle (Idler): what an idle box does not do.
	Slept uint64
	// LastTick and MaxTick are how long processing a tick took, TickTime
	// the total over all ticks (TickTime/Ticks is the mean).
	LastTick, MaxTick, TickTime time.Duration
}

// Config sets up an Engine.
type Config struct {
	// EventBuffer is the capacity of the Events channel (default 256).
	EventBuffer int
	// Workers is how many goroutines (the clock's included) share the
	// Independent endpoints' reads and writes once there are at least
	// ParallelMin of them; 0 means GOMAXPROCS, at most 4; 1 keeps every
	// endpoint on the clock's goroutine.
	Workers int
}

// ParallelMin is the number of Independent channels from which a tick is
// shared among the workers: below it the hand-offs cost more than they save.
const ParallelMin = 32

// Engine runs the channels on one clock.
type Engine struct {
	mu     sync.Mutex
	chans  []*Channel // in order of arrival
	par    []*Channel // the Independent ones among chans
	confs  []*Conference
	events chan Event
	ticks  uint64
	slept  uint64 // channel ticks passed by (Idler)
	awake  int    // channels the last tick did not pass by

	dropped  atomic.Uint64
	lastTick atomic.Int64
	maxTick  atomic.Int64
	sumTick  atomic.Int64

	cancel context.CancelFunc
	done   chan struct{}
	runErr error

	nworkers int
	workers  []*worker // started on the first tick that shares its work
	wg       sync.WaitGroup
}

// Phases of a tick that workers run.
const (
	phaseRead = iota
	phaseWrite
)

// worker runs its share of the Independent channels for a phase.
type worker struct {
	e     *Engine
	start chan int
	quit  chan struct{}
	done  chan struct{}
	lo    int // its share of e.par, set before each phase
	hi    int
}

func (w *worker) run() {
	defer close(w.done)
	for {
		select {
		case ph := <-w.start:
			w.e.phase(ph, w.e.par[w.lo:w.hi])
			w.e.wg.Done()
		case <-w.quit:
			return
		}
	}
}

// NewEngine returns an engine with no channels; drive it with Start or by
// calling Tick from the board's frame handler.
func NewEngine(cfg Config) *Engine {
	if cfg.EventBuffer <= 0 {
		cfg.EventBuffer = 256
	}
	if cfg.Workers <= 0 {
		cfg.Workers = min(runtime.GOMAXPROCS(0), 4)
	}
	return &Engine{events: make(chan Event, cfg.EventBuffer), nworkers: cfg.Workers}
}

// Events delivers digit events. The engine never waits for the reader: when
// the channel is full, events are dropped and counted in Stats.
func (e *Engine) Events() <-chan Event { return e.events }

// ErrStarted is returned by Start on an engine already running.
var ErrStarted = errors.New("media: engine already started")

// Start runs the engine on clk in a goroutine until ctx is done or Close.
func (e *Engine) Start(ctx context.Context, clk Clock) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done != nil {
		return ErrStarted
	}
	ctx, e.cancel = context.WithCancel(ctx)
	e.done = make(chan struct{})
	go func() {
		defer close(e.done)
		err := clk.Run(ctx, e.Tick)
		if !errors.Is(err, context.Canceled) {
			e.runErr = err
		}
	}()
	return nil
}

// Close stops a started engine and waits for its goroutine, and stops the
// workers that shared the ticks; it returns the clock's error other than
// cancellation. An engine ticked from outside (the PCM highway) must be
// closed too once its ticks have stopped.
func (e *Engine) Close() error {
	e.mu.Lock()
	cancel, done := e.cancel, e.done
	e.mu.Unlock()
	var err error
	if cancel != nil {
		cancel()
		<-done
		err = e.runErr
	}
	e.mu.Lock()
	e.stopWorkers()
	e.mu.Unlock()
	return err
}

// stopWorkers ends the worker goroutines and waits for them; e.mu held. A
// later tick starts them again.
func (e *Engine) stopWorkers() {
	for _, w := range e.workers {
		close(w.quit)
		<-w.done
	}
	e.workers = nil
}

// NewChannel adds a leg.
func (e *Engine) NewChannel(name string, ep Endpoint, opt ChannelOptions) (*Channel, error) {
	if ep == nil {
		return nil, errors.New("media: nil endpoint")
	}
	c := &Channel{name: name, ep: ep, tap: opt.Tap, dtmfEvs: make([]dtmf.Event, 0, 8), digits: make([]DigitEvent, 0, 8)}
	c.lookup()
	if opt.EchoTaps != 0 {
		ec, err := echo.New(opt.EchoTaps)
		if err != nil {
			return nil, fmt.Errorf("media: channel %s: %w", name, err)
		}
		c.ec = ec
	}
	if opt.DetectDTMF || opt.MuteDTMF {
		c.det = dtmf.NewDetector(dtmf.DetectorConfig{Mute: opt.MuteDTMF})
	}
	e.mu.Lock()
	e.chans = append(e.chans, c)
	e.awake++ // not asleep before a tick has passed it by
	if c.indep {
		e.par = append(e.par, c)
	}
	e.mu.Unlock()
	return c, nil
}

// lookup finds the optional interfaces of the channel's endpoint, once,
// so that no frame walks a Wrapper chain.
func (c *Channel) lookup() {
	c.dr, _ = As[DigitReader](c.ep)
	c.dw, _ = As[DigitWriter](c.ep)
	_, c.indep = As[Independent](c.ep)
	c.pw, _ = As[PacketWriter](c.ep)
	c.ar, _ = As[AheadReader](c.ep)
	c.idler, _ = As[Idler](c.ep)
}

// sleep decides whether this tick passes the channel by; e.mu held.
func (c *Channel) sleep() bool {
	idle := c.idler != nil && !c.indep && c.conf == nil && c.player == nil && c.tap == nil &&
		c.ec == nil && c.det == nil && !c.skip && (c.gen == nil || c.gen.Pending() == 0) && c.idler.Idle()
	c.asleep = idle && c.quiet
	c.quiet = idle // this tick writes the silence the sleeping ones keep
	return c.asleep
}

// Refresh looks the optional interfaces of a channel's endpoint up again,
// after what a Wrapper wraps changed (a SIP leg's RTP stream arriving once
// its SDP answer did): until then the channel goes on with those found
// before. It waits for a tick in progress.
func (e *Engine) Refresh(c *Channel) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.awake++
	was := c.indep
	c.lookup()
	if c.indep == was || !slices.Contains(e.chans, c) {
		return
	}
	if c.indep {
		e.par = append(e.par, c)
	} else {
		e.par = without(e.par, c)
	}
}

// Remove takes a channel out of the engine (and out of its conference).
func (e *Engine) Remove(c *Channel) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.leave(c)
	e.chans = without(e.chans, c)
	if c.indep {
		e.par = without(e.par, c)
	}
}

func without(list []*Channel, c *Channel) []*Channel {
	for i, x := range list {
		if x == c {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// SetTap sets or (with nil) clears a channel's recording tap.
func (e *Engine) SetTap(c *Channel, t *Tap) {
	e.mu.Lock()
	c.tap = t
	e.awake++
	e.mu.Unlock()
}

// Play replaces what the channel hears with what src produces (its
// ReadFrame is called each tick; WriteFrame is not), for tones, prompts and
// music on hold; nil returns the channel to its conference.
func (e *Engine) Play(c *Channel, src Endpoint) {
	e.mu.Lock()
	c.player = src
	e.awake++
	e.mu.Unlock()
}

// SetEchoBypass switches a channel's echo canceller to a transparent path
// (fax, modem, clear-channel data) or back.
func (e *Engine) SetEchoBypass(c *Channel, on bool) {
	e.mu.Lock()
	if c.ec != nil {
		c.ec.SetBypass(on)
	}
	e.mu.Unlock()
}

// SendDigits sends digits to the leg, out of band if its endpoint is (or
// wraps) a DigitWriter, else in band, each lasting dur (0 means 100 ms).
func (e *Engine) SendDigits(c *Channel, digits string, dur time.Duration) error {
	if dur <= 0 {
		dur = 100 * time.Millisecond
	}
	e.mu.Lock()
	dw := c.dw
	e.mu.Unlock()
	if dw != nil {
		var err error
		for i := range len(digits) {
			if err = dw.SendDigit(digits[i], dur); err != nil {
				break
			}
		}
		if !errors.Is(err, ErrInBand) {
			return err
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c.gen == nil {
		cfg := dtmf.DefaultGeneratorConfig()
		cfg.On = dur
		g, err := dtmf.NewGenerator(cfg)
		if err != nil {
			return fmt.Errorf("media: %w", err)
		}
		c.gen = g
	}
	if err := c.gen.Send(digits); err != nil {
		return fmt.Errorf("media: %w", err)
	}
	e.awake++
	return nil
}

// Bridge connects two channels in a new two-party conference, taking them
// out of any conference they were in.
func (e *Engine) Bridge(a, b *Channel) (*Conference, error) {
	return e.Conference(a, b)
}

// Conference puts channels into a new conference (two or more), taking them
// out of any they were in.
func (e *Engine) Conference(chans ...*Channel) (*Conference, error) {
	ms := make([]Member, len(chans))
	for i, c := range chans {
		ms[i] = Member{Channel: c}
	}
	return e.ConferenceOf(ms...)
}

// ConferenceOf puts channels into a new conference (two or more) with the
// roles given, taking them out of any they were in.
func (e *Engine) ConferenceOf(ms ...Member) (*Conference, error) {
	if len(ms) < 2 || len(ms) > mix.MaxParties {
		return nil, fmt.Errorf("media: a conference of %d channels (2 to %d)", len(ms), mix.MaxParties)
	}
	for i, a := range ms {
		if a.Channel == nil {
			return nil, errors.New("media: conference of a nil channel")
		}
		if a.Role > Whisper {
			return nil, fmt.Errorf("media: channel %s: unknown role %d", a.Channel.name, a.Role)
		}
		for _, b := range ms[i+1:] {
			if a.Channel == b.Channel {
				return nil, fmt.Errorf("media: channel %s given twice", a.Channel.name)
			}
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	k := &Conference{e: e}
	for _, m := range ms {
		c := m.Channel
		e.leave(c)
		k.members = append(k.members, c)
		k.roles = append(k.roles, Member{Role: m.Role, To: m.To})
		c.conf = k
	}
	if err := k.rebuild(); err != nil {
		return nil, err
	}
	e.confs = append(e.confs, k)
	return k, nil
}

// Join adds a channel to the conference; listenOnly members hear everyone
// and are heard by nobody (supervisor monitoring).
func (k *Conference) Join(c *Channel, listenOnly bool) error {
	e := k.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if c.conf == k {
		return nil
	}
	if len(k.members) >= mix.MaxParties {
		return fmt.Errorf("media: conference full (%d parties)", mix.MaxParties)
	}
	e.leave(c)
	k.members = append(k.members, c)
	r := Talk
	if listenOnly {
		r = Listen
	}
	k.roles = append(k.roles, Member{Role: r})
	c.conf = k
	return k.rebuild()
}

// SetRole changes a member's role (to names the member a Whisper is heard
// by). It fails for a channel that is not a member.
func (k *Conference) SetRole(c *Channel, r Role, to *Channel) error {
	e := k.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if r > Whisper {
		return fmt.Errorf("media: channel %s: unknown role %d", c.name, r)
	}
	for i, m := range k.members {
		if m == c {
			k.roles[i] = Member{Role: r, To: to}
			return k.rebuild()
		}
	}
	return fmt.Errorf("media: channel %s is not in the conference", c.name)
}

// Leave takes a channel out of the conference; a conference left with fewer
// than two members ends (its last member hears silence).
func (k *Conference) Leave(c *Channel) {
	k.e.mu.Lock()
	defer k.e.mu.Unlock()
	if c.conf == k {
		k.e.leave(c)
	}
}

// Members returns the channels in the conference.
func (k *Conference) Members() []*Channel {
	k.e.mu.Lock()
	defer k.e.mu.Unlock()
	return append([]*Channel(nil), k.members...)
}

// leave removes c from its conference; e.mu held.
func (e *Engine) leave(c *Channel) {
	k := c.conf
	if k == nil {
		return
	}
	c.conf = nil
	for i, m := range k.members {
		if m == c {
			k.members = append(k.members[:i], k.members[i+1:]...)
			k.roles = append(k.roles[:i], k.roles[i+1:]...)
			break
		}
	}
	if len(k.members) >= 2 {
		_ = k.rebuild() // fewer parties than before always fit
		return
	}
	for _, m := range k.members {
		m.conf = nil
	}
	k.members = nil
	for i, x := range e.confs {
		if x == k {
			e.confs = append(e.confs[:i], e.confs[i+1:]...)
			break
		}
	}
}

// rebuild prepares the mixing of the current members (allocates: topology
// changes only).
func (k *Conference) rebuild() error {
	n := len(k.members)
	k.mixer, k.ins, k.outs, k.whisper = nil, nil, nil, nil
	if n == 2 && k.roles[0].Role == Talk && k.roles[1].Role == Talk {
		return nil // a bridge: copies
	}
	m, err := mix.NewMixer(max(n, 2), FrameSamples)
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	k.ins = make([][]int16, n)
	k.outs = make([][]int16, n)
	k.whisper = make([]int, n)
	for i, c := range k.members {
		k.ins[i] = c.in[:]
		k.outs[i] = c.out[:]
		k.whisper[i] = -1
		r := k.roles[i]
		if r.Role == Talk {
			continue
		}
		m.SetInputGain(i, 0) // out of the talkers' mix
		if r.Role == Whisper && r.To != nil && r.To != c {
			for j, t := range k.members {
				if t == r.To {
					k.whisper[i] = j
				}
			}
		}
	}
	k.mixer = m
	return nil
}

// mixDown mixes one tick: the talkers' mix for everyone, then each
// whisperer added to the one member who hears it. It allocates nothing.
func (k *Conference) mixDown() {
	k.mixer.Mix(k.outs, k.ins)
	for w, to := range k.whisper {
		if to < 0 {
			continue
		}
		dst, src := k.outs[to], k.ins[w]
		for i, v := range src {
			dst[i] = sat16(int32(dst[i]) + int32(v))
		}
	}
}

func sat16(v int32) int16 { return int16(max(-32768, min(32767, v))) }

// Tick processes one frame for every channel. The Clock calls it; on the
// board the PCM highway's handler does. Calls must not overlap.
//
// With enough Independent channels, their reads and writes are shared
// among the workers (the clock's goroutine takes a share too) and Tick
// returns when all are done; everything else (mixing, players, in-band
// digits, the other endpoints) runs on the clock's goroutine.
func (e *Engine) Tick() {
	start := time.Now()
	e.mu.Lock()
	tick := e.ticks
	e.ticks++
	shared := e.nworkers > 1 && len(e.par) >= ParallelMin
	if shared {
		e.share(phaseRead)
	}
	e.awake = len(e.chans)
	for _, c := range e.chans {
		if c.sleep() {
			e.slept++
			e.awake--
			continue
		}
		if !shared || !c.indep {
			e.read(c)
		}
	}
	if shared {
		e.phase(phaseRead, e.par[:e.workers[0].lo])
		e.wg.Wait()
	}
	for _, k := range e.confs {
		if k.mixer == nil {
			a, b := k.members[0], k.members[1]
			a.out, b.out = b.in, a.in
			continue
		}
		k.mixDown()
	}
	for _, c := range e.chans {
		c.ahead = nil
		if c.asleep {
			continue
		}
		if c.conf == nil {
			c.out = [FrameSamples]int16{}
		}
		if c.player != nil {
			c.player.ReadFrame(c.out[:])
		}
		if c.gen != nil && c.gen.Pending() > 0 {
			c.gen.Generate(c.out[:])
		} else if k := c.conf; c.pw != nil && c.player == nil && k != nil && k.mixer == nil {
			// A plain bridge: what the partner says next, the leg hears next.
			p := k.members[0]
			if p == c {
				p = k.members[1]
			}
			if p.ar != nil && p.ec == nil && p.det == nil {
				c.ahead = p.ar
			}
		}
	}
	if shared {
		e.share(phaseWrite)
	}
	for _, c := range e.chans {
		if !c.asleep && (!shared || !c.indep) {
			e.write(c, tick)
		}
	}
	if shared {
		e.phase(phaseWrite, e.par[:e.workers[0].lo])
		e.wg.Wait()
	}
	e.mu.Unlock()
	d := time.Since(start)
	e.lastTick.Store(int64(d))
	e.sumTick.Add(int64(d))
	if int64(d) > e.maxTick.Load() {
		e.maxTick.Store(int64(d))
	}
}

// share hands each worker its slice of e.par for phase ph, starting the
// workers on first use; the clock's goroutine keeps e.par[:workers[0].lo].
// e.mu held.
func (e *Engine) share(ph int) {
	if e.workers == nil {
		for range e.nworkers - 1 {
			w := &worker{e: e, start: make(chan int, 1), quit: make(chan struct{}), done: make(chan struct{})}
			e.workers = append(e.workers, w)
			go w.run()
		}
	}
	n := len(e.par)
	parts := len(e.workers) + 1
	for i, w := range e.workers {
		w.lo, w.hi = n*(i+1)/parts, n*(i+2)/parts
	}
	e.wg.Add(len(e.workers))
	for _, w := range e.workers {
		w.start <- ph
	}
}

// phase runs one phase for chans (on a worker or the clock's goroutine).
func (e *Engine) phase(ph int, chans []*Channel) {
	for _, c := range chans {
		if ph == phaseRead {
			e.read(c)
		} else {
			e.write(c, e.ticks-1)
		}
	}
}

// read takes a frame from the channel's leg and cleans it.
func (e *Engine) read(c *Channel) {
	c.ep.ReadFrame(c.in[:])
	if c.ec != nil {
		c.ec.Process(c.in[:], c.in[:], c.prevOut[:])
	}
	if c.det != nil {
		c.dtmfEvs = c.det.Process(c.in[:], c.dtmfEvs[:0])
		for _, ev := range c.dtmfEvs {
			d := DigitEvent{Kind: DigitStart, Digit: ev.Digit}
			if ev.Kind == dtmf.DigitEnd {
				d.Kind = DigitEnd
				d.Duration = time.Duration(ev.Duration()) * time.Second / SampleRate
			}
			e.emit(c, d)
		}
	}
	if c.dr != nil {
		c.digits = c.dr.ReadDigits(c.digits[:0])
		for _, d := range c.digits {
			e.emit(c, d)
		}
	}
}

// write gives the channel's leg its frame and feeds the tap.
func (e *Engine) write(c *Channel, tick uint64) {
	switch {
	case c.skip:
		c.skip = false // sent a tick early
	default:
		c.ep.WriteFrame(c.out[:])
		if c.ahead != nil && c.pw.PacketRoom() == 1 && c.ahead.ReadAhead(c.next[:]) {
			c.ep.WriteFrame(c.next[:])
			c.skip = true
		}
	}
	if c.tap != nil {
		c.tap.put(tick, c.in[:], c.out[:])
	}
	c.prevOut = c.out
}

func (e *Engine) emit(c *Channel, d DigitEvent) {
	select {
	case e.events <- Event{Channel: c, DigitEvent: d}:
	default:
		e.dropped.Add(1)
	}
}

// Asleep reports whether the last tick passed every channel by (Idler)
// and no conference is up: the engine has nothing to time until a
// channel, bridge, player or digit arrives.
func (e *Engine) Asleep() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.awake == 0 && len(e.confs) == 0
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Stats{
		Ticks:         e.ticks,
		Channels:      len(e.chans),
		Conferences:   len(e.confs),
		EventsDropped: e.dropped.Load(),
		Slept:         e.slept,
		LastTick:      time.Duration(e.lastTick.Load()),
		MaxTick:       time.Duration(e.maxTick.Load()),
		TickTime:      time.Duration(e.sumTick.Load()),
	}
}
