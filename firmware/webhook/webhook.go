// Package webhook gives the call centre's events to the company's other
// systems: outgoing webhooks (an HTTP POST of JSON per event, signed with
// HMAC-SHA256, retried with back-off, logged) and a TCP event stream
// (JSON lines after a token) for systems that want a socket.
//
// Both read a journal, not the bus directly: one writer appends every
// event of the ccevent bus to the journal in the store, and each webhook
// subscriber and stream client has a position in it. So a receiver that is
// down for an hour, or a box that restarts, loses nothing: delivery
// resumes at the position after the last event the receiver took, in
// order, each event once per subscriber (a receiver that answered 2xx and
// died before the box stored that may see the event again: its id says so).
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"callbox/telephony/cc/ccevent"
)

// Entry is an event in the journal at position Pos (1, 2, ...: it survives
// restarts, unlike the bus's ids).
type Entry struct {
	Pos   uint64        `json:"pos"`
	Event ccevent.Event `json:"event"`
}

// Subscriber is a system that receives events by HTTP POST.
type Subscriber struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Secret keys the HMAC-SHA256 signature; never shown after creation.
	Secret string `json:"secret,omitempty"`
	// Types are the event types sent; empty sends every type.
	Types   []ccevent.Type `json:"types,omitempty"`
	Enabled bool           `json:"enabled"`
	Created time.Time      `json:"created"`
	// Cursor is the position of the last event delivered or skipped.
	Cursor uint64 `json:"cursor"`
}

// Wants reports whether the subscriber takes events of type t.
func (s *Subscriber) Wants(t ccevent.Type) bool {
	return len(s.Types) == 0 || slices.Contains(s.Types, t)
}

// Delivery is one attempt to deliver one event, for the delivery log.
type Delivery struct {
	Subscriber string        `json:"subscriber"`
	Pos        uint64        `json:"pos"`
	EventID    string        `json:"event_id"`
	Type       ccevent.Type  `json:"type"`
	Attempt    int           `json:"attempt"`
	Time       time.Time     `json:"time"`
	Status     int           `json:"status,omitempty"` // HTTP status; 0 when none came
	Error      string        `json:"error,omitempty"`
	Took       time.Duration `json:"took_ns"`
}

// Store keeps the journal, the subscribers with their cursors, and the
// delivery log; firmware/app implements it over the box's store.
type Store interface {
	// Append adds events to the journal, numbering them from Head()+1.
	Append(evs []ccevent.Event) error
	// After returns up to limit entries after pos, in order.
	After(pos uint64, limit int) ([]Entry, error)
	// Head returns the last position (0 for an empty journal).
	Head() (uint64, error)
	// Subscribers lists the subscribers.
	Subscribers() ([]Subscriber, error)
	// PutSubscriber stores a subscriber (new or changed).
	PutSubscriber(s Subscriber) error
	// DeleteSubscriber removes one and its log.
	DeleteSubscriber(id string) error
	// SetCursor moves a subscriber's cursor.
	SetCursor(id string, pos uint64) error
	// Log records an attempt; the store keeps a bounded log per subscriber.
	Log(d Delivery) error
	// Deliveries returns a subscriber's most recent attempts, newest first.
	Deliveries(id string, limit int) ([]Delivery, error)
}

// Signature headers. The signature is hex HMAC-SHA256 over the timestamp,
// a dot and the body, so a captured request cannot be replayed later with
// another time.
const (
	HeaderSignature = "X-Callbox-Signature" // "sha256=<hex>"
	HeaderTimestamp = "X-Callbox-Timestamp" // Unix seconds
	HeaderEvent     = "X-Callbox-Event"     // the event type
	HeaderDelivery  = "X-Callbox-Delivery"  // the journal position: the same on every retry
)

// Sign returns the signature header's value for body sent at ts.
func Sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a request's signature as a receiver would, in constant
// time, and that its timestamp is within skew of now.
func Verify(secret string, h http.Header, body []byte, now time.Time, skew time.Duration) error {
	ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return errors.New("webhook: no timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > skew || d < -skew {
		return errors.New("webhook: timestamp out of range")
	}
	if !hmac.Equal([]byte(h.Get(HeaderSignature)), []byte(Sign(secret, ts, body))) {
		return errors.New("webhook: bad signature")
	}
	return nil
}

// CheckURL accepts http and https URLs with a host.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return fmt.Errorf("webhook: url %q: must be http:// or https:// with a host and no credentials", raw)
	}
	return nil
}

// Config configures a Dispatcher.
type Config struct {
	Store Store
	Bus   *ccevent.Bus
	// Client posts the events (nil: a client with a 10 s timeout).
	Client *http.Client
	Log    *slog.Logger
	Now    func() time.Time
	// Backoff is the first retry's wait, doubled up to MaxBackoff (1 s, 5 min).
	Backoff, MaxBackoff time.Duration
}

// Dispatcher owns the journal writer and one sender per enabled
// subscriber; Start starts them, Close stops and waits for them.
type Dispatcher struct {
	cfg Config

	reload   sync.Mutex // one Reload at a time
	mu       sync.Mutex
	appended chan struct{} // closed and replaced on every append
	senders  map[string]*sender
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	lastBus  string // the last bus id journaled, to resume after a drop
}

type sender struct {
	cancel context.CancelFunc
	done   chan struct{}
	status SenderStatus
}

// SenderStatus is a subscriber's delivery state for the web admin.
type SenderStatus struct {
	LastOK    time.Time `json:"last_ok,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	Failures  int       `json:"failures"` // in a row
	Pending   uint64    `json:"pending"`
}

// New returns a dispatcher; Start runs it.
func New(cfg Config) *Dispatcher {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	return &Dispatcher{cfg: cfg, appended: make(chan struct{}), senders: map[string]*sender{}}
}

// Start runs the journal writer (when there is a bus) and the senders.
func (d *Dispatcher) Start(ctx context.Context) error {
	d.ctx, d.cancel = context.WithCancel(ctx)
	if d.cfg.Bus != nil {
		d.wg.Add(1)
		go d.journal(d.ctx)
	}
	return d.Reload()
}

// Close stops everything and waits.
func (d *Dispatcher) Close() {
	if d.cancel != nil {
		d.cancel()
	}
	d.wg.Wait()
}

// Appended returns a channel closed at the next append to the journal.
func (d *Dispatcher) Appended() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.appended
}

// Publish journals events directly (the journal writer's path, and tests).
func (d *Dispatcher) Publish(evs ...ccevent.Event) error {
	if err := d.cfg.Store.Append(evs); err != nil {
		return fmt.Errorf("webhook: journal: %w", err)
	}
	d.mu.Lock()
	close(d.appended)
	d.appended = make(chan struct{})
	d.mu.Unlock()
	return nil
}

// journal copies the bus into the journal in batches. Dropped for falling
// behind, it resumes after the last event it wrote; a Reset (events lost
// to the ring) is journaled too, so receivers know to reload.
func (d *Dispatcher) journal(ctx context.Context) {
	defer d.wg.Done()
	// Resume after the last event journaled, so a restart of this service
	// loses nothing still in the bus's ring; a bus of another boot answers
	// with a Reset, which is journaled for the receivers.
	if head, err := d.cfg.Store.Head(); err == nil && head > 0 {
		if last, err := d.cfg.Store.After(head-1, 1); err == nil && len(last) == 1 {
			d.lastBus = last[0].Event.ID
		}
	}
	for ctx.Err() == nil {
		sub, err := d.cfg.Bus.Subscribe(d.lastBus, ccevent.DefaultBuffer*4)
		if err != nil {
			sub, err = d.cfg.Bus.Subscribe("", ccevent.DefaultBuffer*4)
			if err != nil {
				d.cfg.Log.Error("webhook: cannot subscribe to the event bus", "err", err)
				return
			}
		}
		d.copyFrom(ctx, sub)
		d.cfg.Bus.Unsubscribe(sub)
		if sub.Dropped() {
			d.cfg.Log.Warn("webhook: the journal writer fell behind the bus; resuming")
		}
	}
}

func (d *Dispatcher) copyFrom(ctx context.Context, sub *ccevent.Sub) {
	batch := make([]ccevent.Event, 0, 128)
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.C():
			if !ok {
				return
			}
			batch = append(batch[:0], e)
		more:
			for len(batch) < cap(batch) {
				select {
				case e, ok := <-sub.C():
					if !ok {
						break more
					}
					batch = append(batch, e)
				default:
					break more
				}
			}
			for {
				err := d.Publish(batch...)
				if err == nil {
					break
				}
				// The store failing (disk full) must not lose the batch:
				// the bus drops us meanwhile and we resume from its ring.
				d.cfg.Log.Error("webhook: events not journaled", "events", len(batch), "err", err)
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
			}
			d.lastBus = batch[len(batch)-1].ID
		}
	}
}

// Reload starts, restarts or stops senders to match the stored
// subscribers.
func (d *Dispatcher) Reload() error {
	subs, err := d.cfg.Store.Subscribers()
	if err != nil {
		return fmt.Errorf("webhook: subscribers: %w", err)
	}
	if d.ctx == nil {
		return nil // not started
	}
	d.reload.Lock()
	defer d.reload.Unlock()
	// Stopped outside d.mu: a sender takes d.mu for its status.
	d.mu.Lock()
	old := d.senders
	d.senders = map[string]*sender{}
	d.mu.Unlock()
	for _, s := range old {
		s.cancel()
		<-s.done
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range subs {
		if !s.Enabled {
			continue
		}
		ctx, cancel := context.WithCancel(d.ctx)
		snd := &sender{cancel: cancel, done: make(chan struct{})}
		d.senders[s.ID] = snd
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer close(snd.done)
			d.send(ctx, s, snd)
		}()
	}
	return nil
}

// ErrNoSubscriber is returned for an unknown subscriber id.
var ErrNoSubscriber = errors.New("webhook: no such subscriber")

// Subscribers lists the subscribers, by id.
func (d *Dispatcher) Subscribers() ([]Subscriber, error) {
	subs, err := d.cfg.Store.Subscribers()
	slices.SortFunc(subs, func(a, b Subscriber) int { return strings.Compare(a.ID, b.ID) })
	return subs, err
}

// Put creates a subscriber (id "") or changes one, and puts it in force. A
// new one starts with the next event, with a generated secret unless one
// is given, enabled unless enabled says otherwise; an edit keeps what it
// leaves out (secret "", types nil, enabled nil) and the cursor. created
// reports a creation, whose answer is the one that shows the secret.
func (d *Dispatcher) Put(id, rawURL, secret string, types []ccevent.Type, enabled *bool) (s Subscriber, created bool, err error) {
	if err := CheckURL(rawURL); err != nil {
		return s, false, err
	}
	for _, t := range types {
		if t == "" || len(t) > 64 {
			return s, false, fmt.Errorf("webhook: event type %q", t)
		}
	}
	if secret != "" && len(secret) < 16 {
		return s, false, errors.New("webhook: a secret has at least 16 characters")
	}
	if id == "" {
		head, err := d.cfg.Store.Head()
		if err != nil {
			return s, false, err
		}
		s = Subscriber{ID: randomHex(8), Secret: secret, Enabled: true, Created: d.cfg.Now(), Cursor: head}
		if s.Secret == "" {
			s.Secret = randomHex(32)
		}
		created = true
	} else {
		subs, err := d.cfg.Store.Subscribers()
		if err != nil {
			return s, false, err
		}
		i := slices.IndexFunc(subs, func(x Subscriber) bool { return x.ID == id })
		if i < 0 {
			return s, false, fmt.Errorf("%w: %s", ErrNoSubscriber, id)
		}
		s = subs[i]
		if secret != "" {
			s.Secret = secret
		}
	}
	s.URL = rawURL
	if types != nil || created {
		s.Types = types
	}
	if enabled != nil {
		s.Enabled = *enabled
	}
	if err := d.cfg.Store.PutSubscriber(s); err != nil {
		return s, false, err
	}
	return s, created, d.Reload()
}

// Delete removes a subscriber and its log.
func (d *Dispatcher) Delete(id string) error {
	subs, err := d.cfg.Store.Subscribers()
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(subs, func(x Subscriber) bool { return x.ID == id }) {
		return fmt.Errorf("%w: %s", ErrNoSubscriber, id)
	}
	if err := d.cfg.Store.DeleteSubscriber(id); err != nil {
		return err
	}
	return d.Reload()
}

// Deliveries returns a subscriber's most recent attempts, newest first.
func (d *Dispatcher) Deliveries(id string, limit int) ([]Delivery, error) {
	return d.cfg.Store.Deliveries(id, limit)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Status returns each running sender's state.
func (d *Dispatcher) Status() map[string]SenderStatus {
	head, _ := d.cfg.Store.Head()
	subs, _ := d.cfg.Store.Subscribers()
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]SenderStatus{}
	for _, s := range subs {
		st := SenderStatus{}
		if snd := d.senders[s.ID]; snd != nil {
			st = snd.status
		}
		if head > s.Cursor {
			st.Pending = head - s.Cursor
		}
		out[s.ID] = st
	}
	return out
}

func (d *Dispatcher) setStatus(snd *sender, f func(*SenderStatus)) {
	d.mu.Lock()
	f(&snd.status)
	d.mu.Unlock()
}

// send delivers the journal to one subscriber, in order, from its cursor.
func (d *Dispatcher) send(ctx context.Context, s Subscriber, snd *sender) {
	pos := s.Cursor
	for ctx.Err() == nil {
		wake := d.Appended()
		entries, err := d.cfg.Store.After(pos, 64)
		if err != nil {
			d.cfg.Log.Error("webhook: journal unreadable", "subscriber", s.ID, "err", err)
			entries = nil
		}
		for _, e := range entries {
			if s.Wants(e.Event.Type) {
				if !d.deliver(ctx, s, snd, e) {
					return // stopped while retrying
				}
			}
			pos = e.Pos
			if err := d.cfg.Store.SetCursor(s.ID, pos); err != nil {
				d.cfg.Log.Error("webhook: cursor not stored", "subscriber", s.ID, "err", err)
			}
		}
		if len(entries) == 0 {
			select {
			case <-ctx.Done():
			case <-wake:
			}
		}
	}
}

// stopGrace is how long a request under way may finish after a stop, so
// that an event the receiver took is not sent again after a restart.
const stopGrace = time.Second

// graceful returns a context that ends grace after ctx does, and the
// function that releases it.
func graceful(ctx context.Context, grace time.Duration) (context.Context, func()) {
	g, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return g, func() { stop(); cancel() }
}

// deliver posts one event until the subscriber takes it (2xx) or ctx ends.
func (d *Dispatcher) deliver(ctx context.Context, s Subscriber, snd *sender, e Entry) bool {
	body, err := json.Marshal(e.Event)
	if err != nil {
		d.cfg.Log.Error("webhook: event not encodable; skipped", "pos", e.Pos, "err", err)
		return true
	}
	wait := d.cfg.Backoff
	for attempt := 1; ; attempt++ {
		start := d.cfg.Now()
		pctx, release := graceful(ctx, stopGrace)
		status, err := d.post(pctx, s, e, body)
		release()
		if err != nil && ctx.Err() != nil {
			return false
		}
		rec := Delivery{Subscriber: s.ID, Pos: e.Pos, EventID: e.Event.ID, Type: e.Event.Type, Attempt: attempt,
			Time: start, Status: status, Took: d.cfg.Now().Sub(start)}
		if err != nil {
			rec.Error = err.Error()
		}
		if lerr := d.cfg.Store.Log(rec); lerr != nil {
			d.cfg.Log.Warn("webhook: delivery not logged", "err", lerr)
		}
		if err == nil {
			d.setStatus(snd, func(st *SenderStatus) { st.LastOK, st.Failures, st.LastError = start, 0, "" })
			return true
		}
		d.setStatus(snd, func(st *SenderStatus) { st.Failures++; st.LastError = err.Error() })
		if attempt == 1 || attempt%10 == 0 {
			d.cfg.Log.Warn("webhook: delivery failed; retrying", "subscriber", s.ID, "url", s.URL, "attempt", attempt, "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(wait*2, d.cfg.MaxBackoff)
	}
}

func (d *Dispatcher) post(ctx context.Context, s Subscriber, e Entry, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("webhook: %w", err)
	}
	ts := d.cfg.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "callbox-webhook/1")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(s.Secret, ts, body))
	req.Header.Set(HeaderEvent, string(e.Event.Type))
	req.Header.Set(HeaderDelivery, strconv.FormatUint(e.Pos, 10))
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("webhook: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("webhook: %s answered %s", s.URL, resp.Status)
	}
	return resp.StatusCode, nil
}
