package fax

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"callbox/dsp/fax/t30"
	"callbox/dsp/fax/t4"
	"callbox/dsp/fax/tiff"
	callswitch "callbox/telephony/switch"
)

// Directions and statuses of a Record.
const (
	In  = "in"  // received
	Out = "out" // sent

	StatusActive = "active" // the call is under way
	StatusDone   = "done"   // every page went through
	StatusFailed = "failed" // see Record.Error; Pages were confirmed
)

// Record is one fax, sent or received, as the box keeps it.
type Record struct {
	ID        string `json:"id"`
	Direction string `json:"direction"`
	// Number is the other party's number (the caller's, or the number
	// dialled); Ident the station identity its fax machine gave.
	Number string `json:"number"`
	Ident  string `json:"ident,omitempty"`
	// Trunk is the SIP trunk or line a received fax came in on; To the
	// number it was sent to, as the trunk delivered it.
	Trunk  string `json:"trunk,omitempty"`
	To     string `json:"to,omitempty"`
	CallID string `json:"call_id,omitempty"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Pages were confirmed (received, or sent and acknowledged), of
	// Document pages (a sent fax).
	Pages    int       `json:"pages"`
	Document int       `json:"document,omitempty"`
	Rate     int       `json:"rate,omitempty"`
	ECM      bool      `json:"ecm,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end,omitzero"`
}

// Store keeps the faxes. Save is called when a fax starts (with the
// document, for one sent) and again when it ends (with the pages
// received, for one received; nil keeps what is stored).
type Store interface {
	Save(ctx context.Context, r Record, pages []*t4.Page) error
}

// Settings say which calls are faxes and how the box presents itself.
type Settings struct {
	// Ident is the box's station identity (TSI, CSI): up to 20 digits,
	// '+' and spaces.
	Ident string `json:"ident"`
	// Numbers are DIDs (as a trunk delivers them) whose calls are faxes.
	Numbers []string `json:"numbers"`
	// Trunks are SIP trunks or FXO lines (by name) every call of which is
	// a fax.
	Trunks []string `json:"trunks"`
	// NoECM turns error correction off (it is used when both ends have it).
	NoECM bool `json:"no_ecm,omitempty"`
	// Mail maps a number of Numbers (or a trunk of Trunks) to the address
	// its received faxes are mailed to, the TIFF attached; the key "*"
	// takes every other received fax. Empty: faxes are only kept.
	Mail map[string]string `json:"mail,omitempty"`
}

// MailTo is the address a received fax r is mailed to, "" for none: by
// the number it was sent to, then its trunk, then "*".
func (st Settings) MailTo(r Record) string {
	for _, k := range []string{r.To, r.Trunk, "*"} {
		if a := st.Mail[k]; k != "" && a != "" {
			return a
		}
	}
	return ""
}

// Errors a caller branches on.
var (
	// ErrInvalid wraps refused settings and requests.
	ErrInvalid = errors.New("fax: invalid")
	// ErrBusy: MaxActive faxes are under way.
	ErrBusy = errors.New("fax: too many faxes under way")
)

// Validate checks the settings.
func (st Settings) Validate() error {
	if len(st.Ident) > 20 || strings.Trim(st.Ident, "0123456789+ ") != "" {
		return fmt.Errorf("%w: ident %q: up to 20 digits, '+' and spaces", ErrInvalid, st.Ident)
	}
	for _, n := range st.Numbers {
		if n == "" || len(n) > 32 || strings.Trim(n, "0123456789+*#") != "" {
			return fmt.Errorf("%w: number %q", ErrInvalid, n)
		}
	}
	for _, t := range st.Trunks {
		if t == "" || len(t) > 64 {
			return fmt.Errorf("%w: trunk %q", ErrInvalid, t)
		}
	}
	for k, addr := range st.Mail {
		if k != "*" && !slices.Contains(st.Numbers, k) && !slices.Contains(st.Trunks, k) {
			return fmt.Errorf("%w: mail for %q, which is neither a fax number nor a fax trunk (or \"*\")", ErrInvalid, k)
		}
		if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr || len(addr) > 254 {
			return fmt.Errorf("%w: mail for %q: %q is not a mail address", ErrInvalid, k, addr)
		}
	}
	return nil
}

// Switch is what the service needs of the switch.
type Switch interface {
	SetFrontApplication(app callswitch.Application)
	NewAppCall(h callswitch.AppHandler, from callswitch.Party, to string) *callswitch.AppCall
}

// Options configure a Service.
type Options struct {
	Switch Switch
	Store  Store
	// Now is the clock of the records; nil is time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// OnReceived, if set, is called on the fax's goroutine once a fax
	// received is kept (with its pages): the hook for delivering it by
	// email when the box has SMTP. It may block for a while; Close waits
	// for it.
	OnReceived func(r Record, pages []*t4.Page)
	// Jobs keeps the scheduled jobs (AddJob); nil: no jobs. JobPoll is
	// how often the scheduler looks for attempts due (0: a second).
	Jobs    JobStore
	JobPoll time.Duration
}

// Service makes faxes calls of the switch: it answers the calls its
// Settings name as faxes and receives them, and sends documents (Send),
// keeping each fax in the Store. It is the switch's front application.
type Service struct {
	opts     Options
	settings atomic.Pointer[Settings]
	seq      atomic.Uint64
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	mu       sync.Mutex
	calls    map[*faxCall]bool // the faxes under way

	jobMu sync.Mutex
	jobs  map[string]*Job
}

// MaxActive bounds the faxes under way at once (each is a T.30 session
// and its goroutine); an inbound fax beyond it is left to the call centre.
const MaxActive = 16

// New returns a service with settings st.
func New(st Settings, o Options) (*Service, error) {
	if o.Switch == nil || o.Store == nil {
		return nil, errors.New("fax: a switch and a store are required")
	}
	if err := st.Validate(); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.JobPoll <= 0 {
		o.JobPoll = time.Second
	}
	s := &Service{opts: o, calls: map[*faxCall]bool{}, jobs: map[string]*Job{}}
	s.settings.Store(&st)
	return s, nil
}

// SetSettings puts new settings in force for the next calls.
func (s *Service) SetSettings(st Settings) error {
	if err := st.Validate(); err != nil {
		return err
	}
	s.settings.Store(&st)
	return nil
}

// Settings returns the settings in force.
func (s *Service) Settings() Settings { return *s.settings.Load() }

// Start offers the switch's calls to the service and runs the stored
// jobs until Close.
func (s *Service) Start(ctx context.Context) {
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.opts.Switch.SetFrontApplication(s)
	if s.opts.Jobs == nil {
		return
	}
	if err := s.loadJobs(s.ctx); err != nil {
		s.opts.Logger.Error("fax: the scheduled jobs were not loaded", "err", err)
	}
	s.wg.Add(1)
	go s.scheduler()
}

// Close stops taking calls, ends the faxes under way (each is kept as
// failed with the pages so far) and waits for them.
func (s *Service) Close() error {
	if s.cancel == nil {
		return nil
	}
	s.opts.Switch.SetFrontApplication(nil)
	s.cancel()
	s.wg.Wait()
	return nil
}

// Offer implements callswitch.Application: a call from a trunk or line
// the settings name as a fax's is answered by a receiver.
func (s *Service) Offer(in callswitch.Incoming) callswitch.AppHandler {
	if in.Kind == callswitch.Dialled || s.ctx == nil || s.ctx.Err() != nil {
		return nil
	}
	st := s.settings.Load()
	if !slices.Contains(st.Numbers, in.To) && !slices.Contains(st.Trunks, in.Trunk) {
		return nil
	}
	term, err := NewTerminal(t30.Config{Ident: st.Ident, NoECM: st.NoECM})
	if err != nil {
		s.opts.Logger.Error("fax: receiver", "err", err)
		return nil
	}
	f, ok := s.newFax(Record{Direction: In, Number: in.From.Number, Trunk: in.Trunk, To: in.To}, term)
	if !ok {
		term.Close()
		return nil
	}
	s.wg.Add(1)
	go f.run()
	return f
}

// Send sends the document doc (TIFF, PNG or JPEG) to number, dialled as
// from outside through the routes; the fax goes on in the background and
// its record (returned at once, StatusActive) is updated in the Store.
func (s *Service) Send(ctx context.Context, number string, doc []byte) (Record, error) {
	return s.send(ctx, number, doc, nil)
}

// checkNumber checks a number to dial.
func checkNumber(number string) error {
	if number == "" || len(number) > 32 || strings.Trim(number, "0123456789+*#") != "" {
		return fmt.Errorf("%w: number %q", ErrInvalid, number)
	}
	return nil
}

// encodeDocument codes pages as a TIFF Class F file (MMR).
func encodeDocument(pages []*t4.Page) ([]byte, error) {
	b, err := tiff.Encode(pages, tiff.WriteOptions{Coding: t4.MMR, Software: "callbox"})
	if err != nil {
		return nil, fmt.Errorf("fax: %w", err)
	}
	return b, nil
}

// send is Send; onDone, if set, hears the fax's final record once kept.
func (s *Service) send(ctx context.Context, number string, doc []byte, onDone func(Record)) (Record, error) {
	if err := checkNumber(number); err != nil {
		return Record{}, err
	}
	pages, err := Pages(doc, t4.YResFine)
	if err != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if s.ctx == nil || s.ctx.Err() != nil {
		return Record{}, errors.New("fax: the service is not running")
	}
	st := s.settings.Load()
	term, err := NewTerminal(t30.Config{Calling: true, Pages: pages, Ident: st.Ident, NoECM: st.NoECM})
	if err != nil {
		return Record{}, err
	}
	f, ok := s.newFax(Record{Direction: Out, Number: number, Document: len(pages)}, term)
	if !ok {
		term.Close()
		return Record{}, ErrBusy
	}
	f.onDone = onDone
	if err := s.opts.Store.Save(ctx, f.rec, pages); err != nil {
		term.Close()
		s.release(f)
		return Record{}, err
	}
	s.wg.Add(1)
	go f.run()
	s.opts.Switch.NewAppCall(f, callswitch.Party{}, number)
	return f.rec, nil
}

// release frees a fax's place among MaxActive.
func (s *Service) release(f *faxCall) {
	s.mu.Lock()
	delete(s.calls, f)
	s.mu.Unlock()
}

// Idle reports whether every fax under way has handled every frame the
// clock gave it (for tests that step a virtual clock: they step the next
// frame only then).
func (s *Service) Idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for f := range s.calls {
		if !f.term.Idle() {
			return false
		}
	}
	return true
}

// OnLeg runs a fax on a leg of an app call another application controls
// (an agent's call with a customer, an IVR's fax node): the leg goes into
// fax mode with a terminal playing into and tapping it, which sends doc
// (TIFF, PNG or JPEG) or, with doc nil, receives. number is the other
// party's, for the record; call is the id the record links (the call
// centre's call id, so that the service's record finds its faxes; "" is
// the switch's call id). Once the session is over (or the leg ended, or
// its play was replaced) the leg is back in voice mode and its call left
// to its owner, and done (may be nil) hears the fax's record, as kept, on
// the fax's goroutine. It may be called from the owner's AppEvent handler.
func (s *Service) OnLeg(c *callswitch.AppCall, leg callswitch.LegID, call, number string, doc []byte, done func(Record)) (Record, error) {
	if s.ctx == nil || s.ctx.Err() != nil {
		return Record{}, errors.New("fax: the service is not running")
	}
	st := s.settings.Load()
	cfg := t30.Config{Ident: st.Ident, NoECM: st.NoECM}
	if call == "" {
		call = c.ID()
	}
	rec := Record{Direction: In, Number: number, CallID: call}
	var pages []*t4.Page
	if doc != nil {
		var err error
		if pages, err = Pages(doc, t4.YResFine); err != nil {
			return Record{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		// Whoever starts the fax exchange is the calling terminal.
		cfg.Calling, cfg.Pages = true, pages
		rec.Direction, rec.Document = Out, len(pages)
	}
	term, err := NewTerminal(cfg)
	if err != nil {
		return Record{}, err
	}
	f, ok := s.newFax(rec, term)
	if !ok {
		term.Close()
		return Record{}, ErrBusy
	}
	if err := s.opts.Store.Save(context.WithoutCancel(s.ctx), f.rec, pages); err != nil {
		term.Close()
		s.release(f)
		return Record{}, err
	}
	f.onDone, f.onLeg = done, true
	f.mu.Lock()
	f.ac, f.callID, f.leg = c, call, leg
	f.attach(c)
	f.mu.Unlock()
	s.wg.Add(1)
	go f.run()
	return f.rec, nil
}

// newFax makes a fax's state, taking a place among MaxActive; its
// goroutine (run) waits for the call to end and keeps the result.
func (s *Service) newFax(r Record, term *Terminal) (*faxCall, bool) {
	r.Start = s.opts.Now()
	r.ID = r.Start.UTC().Format("20060102T150405") + "-" + r.Direction + strconv.FormatUint(s.seq.Add(1), 10)
	r.Status = StatusActive
	f := &faxCall{s: s, rec: r, term: term, ended: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) >= MaxActive {
		return nil, false
	}
	s.calls[f] = true
	return f, true
}

// faxCall is one fax: the handler of its app call (on the switch's
// goroutine) and its goroutine.
type faxCall struct {
	s      *Service
	term   *Terminal
	rec    Record        // as it started; run makes the result
	ended  chan struct{} // closed at AppEnded
	onDone func(Record)  // hears the result once kept (a job's attempt)

	mu      sync.Mutex
	ac      *callswitch.AppCall
	leg     callswitch.LegID
	started bool // the terminal runs on the leg
	closing bool // run is closing the terminal: do not start it
	cause   callswitch.Cause
	callID  string
	onLeg   bool // on a leg of another application's call (OnLeg)
	endOnce sync.Once
}

// over marks the call (or, OnLeg, the fax on the leg) over.
func (f *faxCall) over() { f.endOnce.Do(func() { close(f.ended) }) }

// AppEvent implements callswitch.AppHandler, on the switch's goroutine.
func (f *faxCall) AppEvent(c *callswitch.AppCall, ev callswitch.AppEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ac == nil {
		f.ac, f.callID = c, c.ID()
	}
	switch ev.Kind {
	case callswitch.AppStarted:
		if f.rec.Direction == In {
			f.leg = ev.Leg
			c.Answer(ev.Leg)
			f.attach(c)
			return
		}
		f.leg = c.Originate(callswitch.Originate{Number: f.rec.Number, RingTimeout: 60 * time.Second})
	case callswitch.AppAnswered:
		if ev.Leg == f.leg {
			f.attach(c)
		}
	case callswitch.AppLegEnded:
		if ev.Leg == f.leg {
			f.cause = ev.Cause
			c.End(callswitch.CauseNormal)
		}
	case callswitch.AppEnded:
		if f.cause == 0 {
			f.cause = ev.Cause
		}
		f.over()
	}
}

// attach puts the leg in fax mode with the terminal on it (under mu).
func (f *faxCall) attach(c *callswitch.AppCall) {
	if f.closing {
		return
	}
	c.SetFax(f.leg, true)
	c.SetTap(f.leg, f.term.Tap())
	c.Play(f.leg, f.term, func(finished bool) {
		if f.onLeg { // the leg goes back to voice, to its call's owner
			c.SetTap(f.leg, nil)
			c.SetFax(f.leg, false)
			f.over()
			return
		}
		if !finished {
			return
		}
		// The session is over and its last frame played: hang up once
		// it has crossed the line (a jitter buffer, the far end's own
		// delay), so the far end hears all of it, DCN included.
		c.Play(f.leg, &silence{n: hangupDelay}, func(bool) { c.End(callswitch.CauseNormal) })
	})
	f.started = true
	f.term.Start(f.s.ctx)
}

// hangupDelay is the silence, in frames, between a session's end and the
// hang-up.
const hangupDelay = 100

// silence is a Source of n frames of silence.
type silence struct{ n int }

func (s *silence) ReadFrame(f []int16) {
	clear(f)
	s.n--
}

func (s *silence) Done() bool { return s.n <= 0 }

// run waits for the call to end (or the service to stop) and keeps the
// result.
func (f *faxCall) run() {
	s := f.s
	defer s.wg.Done()
	defer s.release(f)
	if f.rec.Direction == In && !f.onLeg { // OnLeg kept it already
		if err := s.opts.Store.Save(s.ctx, f.rec, nil); err != nil {
			s.opts.Logger.Error("fax: keeping a fax received", "err", err)
		}
	}
	select {
	case <-f.ended:
	case <-s.ctx.Done():
	}
	f.mu.Lock()
	f.closing = true
	switch {
	case f.onLeg:
		f.ac.StopPlay(f.leg) // the leg back to voice, the call to its owner
	case f.ac != nil:
		f.ac.End(callswitch.CauseNormal) // at once when the call is over already
	}
	f.mu.Unlock()
	f.term.Close()
	res := f.term.Result()
	f.mu.Lock()
	r := f.rec
	r.CallID, r.End = f.callID, s.opts.Now()
	started, cause := f.started, f.cause
	f.mu.Unlock()
	r.Pages, r.Rate, r.ECM, r.Ident = res.Pages, res.Rate, res.ECM, res.RemoteIdent
	switch {
	case res.Err == nil && (r.Direction == In || r.Pages == r.Document):
		r.Status = StatusDone
	case !started && cause != 0:
		r.Status, r.Error = StatusFailed, "not answered: "+cause.String()
	case res.Err != nil:
		r.Status, r.Error = StatusFailed, res.Err.Error()
	default:
		r.Status, r.Error = StatusFailed, fmt.Sprintf("%d of %d pages", r.Pages, r.Document)
	}
	var pages []*t4.Page
	if r.Direction == In {
		pages = f.term.Received()
		if len(pages) > MaxPages {
			pages = pages[:MaxPages]
		}
	}
	// The service may be stopping: the result is kept all the same.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 2*time.Second)
	defer cancel()
	err := s.opts.Store.Save(ctx, r, pages)
	if f.onDone != nil {
		f.onDone(r)
	}
	if err != nil {
		s.opts.Logger.Error("fax: keeping a fax", "id", r.ID, "err", err)
		return
	}
	for _, ev := range f.term.Events() {
		s.opts.Logger.Debug("fax event", "id", r.ID, "at_ms", ev.At*1000/8000, "text", ev.Text)
	}
	if r.Direction == In && s.opts.OnReceived != nil {
		s.opts.OnReceived(r, pages)
	}
	st := f.term.Stats()
	s.opts.Logger.Info("fax", "id", r.ID, "direction", r.Direction, "number", r.Number, "status", r.Status,
		"pages", r.Pages, "rate", r.Rate, "ecm", r.ECM, "error", r.Error,
		"underruns", st.Underruns, "trimmed", st.Trimmed, "dropped", st.Dropped)
}
