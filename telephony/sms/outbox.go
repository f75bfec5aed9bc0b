package sms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// State is an outgoing message's state.
type State string

// States of an outgoing message.
const (
	Queued    State = "queued"    // waiting for its time or the modem
	Sent      State = "sent"      // every part accepted by the modem (+CMGS)
	Delivered State = "delivered" // every part reported delivered
	Failed    State = "failed"    // refused by the network, or reported undeliverable
)

// Outgoing is a message in the outbox.
type Outgoing struct {
	ID       uint64    `json:"id"`
	To       string    `json:"to"`
	Text     string    `json:"text"`
	Customer string    `json:"customer,omitempty"`
	Batch    string    `json:"batch,omitempty"` // one send to a group or a list
	By       string    `json:"by,omitempty"`    // who queued it
	Created  time.Time `json:"created"`
	// Scheduled is when it was asked to go; At is its next attempt (the
	// outbox moves it on after a refused attempt).
	Scheduled time.Time `json:"scheduled"`
	At        time.Time `json:"at"`
	State     State     `json:"state"`
	Coding    string    `json:"coding"`
	Parts     []Part    `json:"parts"`
	Attempts  int       `json:"attempts,omitempty"`
	Error     string    `json:"error,omitempty"`
	Sent      time.Time `json:"sent,omitzero"`
	Delivered time.Time `json:"delivered,omitzero"`
}

// Part is one PDU of an outgoing message.
type Part struct {
	// Ref is the modem's message reference, from +CMGS; Sent is zero
	// until the modem answered.
	Ref  int       `json:"ref"`
	Sent time.Time `json:"sent,omitzero"`
	// Status is "" (no report yet), "delivered" or "failed".
	Status string `json:"status,omitempty"`
}

// Incoming is a received message, joined from its parts.
type Incoming struct {
	ID       uint64    `json:"id"`
	From     string    `json:"from"`
	Text     string    `json:"text"`
	Customer string    `json:"customer,omitempty"`
	Time     time.Time `json:"time"`     // the service centre's time stamp
	Received time.Time `json:"received"` // when the box stored it
}

// Store keeps the outbox and the inbox; each method is one transaction.
// firmware/app implements it over the box's store.
type Store interface {
	// Queue stores new messages, setting each one's ID (increasing).
	Queue(msgs []*Outgoing) error
	// Due returns up to limit queued messages whose At is not after now,
	// by At then ID.
	Due(now time.Time, limit int) ([]Outgoing, error)
	// Update replaces a stored message, keeping the queue and the index of
	// sent references (by MatchKey of To) in step with it.
	Update(m Outgoing) error
	// FindSent returns the latest message with a part sent to a number of
	// that match key under reference ref.
	FindSent(key string, ref int) (Outgoing, bool, error)
	// Receive stores a received message, setting its ID.
	Receive(m *Incoming) error
	// Queued counts the messages waiting.
	Queued() (int, error)
}

// MatchKey is what a status report's number is matched by: its last 11
// digits, so "+8613800138000" and "13800138000" match.
func MatchKey(number string) string {
	var d []byte
	for i := 0; i < len(number); i++ {
		if number[i] >= '0' && number[i] <= '9' {
			d = append(d, number[i])
		}
	}
	if len(d) > 11 {
		d = d[len(d)-11:]
	}
	return string(d)
}

// Modem states, as Status reports them.
const (
	ModemDisabled     = "disabled"      // no port set
	ModemStarting     = "starting"      // opening or initialising
	ModemReady        = "ready"         // registered, sending
	ModemAbsent       = "absent"        // the port does not open
	ModemNotAnswering = "not answering" // the port opens, the modem is silent
	ModemPINNeeded    = "sim pin"       // the SIM wants a PIN (or refused it)
	ModemNoNetwork    = "no network"    // not registered
	ModemError        = "error"         // another failure; Error says
)

// Status is the modem's and the outbox's state, for the console and web.
type Status struct {
	State    string    `json:"state"`
	Port     string    `json:"port,omitempty"`
	Error    string    `json:"error,omitempty"`
	Since    time.Time `json:"since"`
	Operator string    `json:"operator,omitempty"`
	Signal   int       `json:"signal"`
	Queued   int       `json:"queued"`
	Sent     uint64    `json:"sent"`
	Received uint64    `json:"received"`
	Failed   uint64    `json:"failed"`
}

// Config configures an Outbox.
type Config struct {
	Store Store
	// Lookup names the customer of a number for the inbox ("" none); nil
	// stores only the number.
	Lookup func(number string) string
	Log    *slog.Logger
	Now    func() time.Time
	// CommandTimeout bounds a plain AT command (5 s), SendTimeout the
	// network's answer to AT+CMGS (60 s).
	CommandTimeout, SendTimeout time.Duration
	// Retry is the wait before opening the port again (5 s); Poll how
	// often the outbox checks the network, the SIM's messages and what
	// became due (10 s).
	Retry, Poll time.Duration
	// MaxAttempts refused by the network before a message fails (10).
	MaxAttempts int
}

// Port says which modem to use: Open opens it (nil: SMS disabled), Name
// is shown in the status, PIN unlocks the SIM.
type Port struct {
	Name string
	Open func() (io.ReadWriteCloser, error)
	PIN  string
}

// Outbox owns the modem: one goroutine, started by Start and waited for by
// Close, opens the port, sends what is due, stores what arrives and
// applies delivery reports. Messages wait in the store across restarts and
// modem failures.
type Outbox struct {
	cfg  Config
	kick chan struct{}

	mu         sync.Mutex
	port       Port
	reconf     chan struct{} // closed to end the current session
	status     Status
	refusedPIN string // a PIN the SIM refused: never tried twice

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewOutbox returns an outbox over cfg.Store; Start runs it.
func NewOutbox(cfg Config) *Outbox {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = 5 * time.Second
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 60 * time.Second
	}
	if cfg.Retry <= 0 {
		cfg.Retry = 5 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 10 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	return &Outbox{
		cfg: cfg, kick: make(chan struct{}, 1), reconf: make(chan struct{}),
		status: Status{State: ModemDisabled, Since: cfg.Now()},
	}
}

// Start runs the outbox until ctx ends or Close.
func (o *Outbox) Start(ctx context.Context) {
	ctx, o.cancel = context.WithCancel(ctx)
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		o.run(ctx)
	}()
}

// Close stops the outbox and waits for it; queued messages stay queued.
func (o *Outbox) Close() {
	if o.cancel != nil {
		o.cancel()
	}
	o.wg.Wait()
}

// SetPort changes the modem (a settings edit): the current session ends
// and the new port is opened.
func (o *Outbox) SetPort(p Port) {
	o.mu.Lock()
	o.port = p
	close(o.reconf)
	o.reconf = make(chan struct{})
	o.mu.Unlock()
}

// Status returns the modem's state and the outbox's counts.
func (o *Outbox) Status() Status {
	o.mu.Lock()
	st := o.status
	st.Port = o.port.Name
	o.mu.Unlock()
	if n, err := o.cfg.Store.Queued(); err == nil {
		st.Queued = n
	}
	return st
}

// Request is one message to queue.
type Request struct {
	To       string
	Text     string
	Customer string
	Batch    string
	By       string
	// At is when to send it; zero or past is now.
	At time.Time
}

// ErrBadMessage wraps Queue's refusals of a request (number, text), as
// against the store failing.
var ErrBadMessage = errors.New("sms: message refused")

// Queue checks and stores messages and wakes the outbox. Every request is
// checked before any is stored, so a bad number in a list stores none.
func (o *Outbox) Queue(reqs []Request) ([]Outgoing, error) {
	now := o.cfg.Now()
	msgs := make([]*Outgoing, 0, len(reqs))
	for i, r := range reqs {
		if strings.TrimSpace(r.Text) == "" {
			return nil, fmt.Errorf("%w: message %d: empty text", ErrBadMessage, i+1)
		}
		pdus, err := Encode(r.To, r.Text, Options{})
		if err != nil {
			return nil, fmt.Errorf("%w: message %d: %w", ErrBadMessage, i+1, err)
		}
		coding, _, _ := Split(r.Text)
		at := r.At
		if at.Before(now) {
			at = now
		}
		parts := make([]Part, len(pdus))
		for k := range parts {
			parts[k].Ref = -1
		}
		msgs = append(msgs, &Outgoing{
			To: r.To, Text: r.Text, Customer: r.Customer, Batch: r.Batch, By: r.By,
			Created: now, Scheduled: at, At: at, State: Queued, Coding: coding.String(), Parts: parts,
		})
	}
	if err := o.cfg.Store.Queue(msgs); err != nil {
		return nil, fmt.Errorf("sms: queue: %w", err)
	}
	o.Kick()
	out := make([]Outgoing, len(msgs))
	for i, m := range msgs {
		out[i] = *m
	}
	return out, nil
}

// Kick makes the outbox look for due messages now.
func (o *Outbox) Kick() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

func (o *Outbox) setState(state string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if o.status.State != state || o.status.Error != msg {
		o.status.State, o.status.Error, o.status.Since = state, msg, o.cfg.Now()
		if state != ModemReady && state != ModemStarting && state != ModemDisabled {
			o.cfg.Log.Warn("sms: modem "+state, "port", o.port.Name, "err", msg)
		} else {
			o.cfg.Log.Info("sms: modem "+state, "port", o.port.Name)
		}
	}
}

func (o *Outbox) count(f func(*Status)) {
	o.mu.Lock()
	f(&o.status)
	o.mu.Unlock()
}

func (o *Outbox) run(ctx context.Context) {
	for ctx.Err() == nil {
		o.mu.Lock()
		port, reconf := o.port, o.reconf
		o.mu.Unlock()
		wait := o.cfg.Retry
		if port.Open == nil {
			o.setState(ModemDisabled, nil)
			wait = 0
		} else {
			if o.Status().State == ModemDisabled {
				o.setState(ModemStarting, nil)
			}
			f, err := port.Open()
			if err != nil {
				o.setState(ModemAbsent, err)
			} else {
				m := NewModem(f, o.cfg.CommandTimeout)
				err := o.session(ctx, m, port, reconf)
				m.Close()
				if ctx.Err() != nil {
					return
				}
				o.setState(stateOf(err), err)
			}
		}
		var timer <-chan time.Time
		var t *time.Timer
		if wait > 0 {
			t = time.NewTimer(wait)
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-reconf:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
	}
}

func stateOf(err error) string {
	switch {
	case errors.Is(err, ErrPINNeeded):
		return ModemPINNeeded
	case errors.Is(err, ErrNoNetwork):
		return ModemNoNetwork
	case errors.Is(err, ErrNotAnswering):
		return ModemNotAnswering
	case err == nil:
		return ModemReady
	}
	return ModemError
}

// errReconfigured ends a session for a settings change.
var errReconfigured = errors.New("sms: port settings changed")

// session runs one open port until it fails, the settings change or ctx
// ends.
func (o *Outbox) session(ctx context.Context, m *Modem, port Port, reconf <-chan struct{}) error {
	pin := port.PIN
	o.mu.Lock()
	if pin != "" && pin == o.refusedPIN {
		pin = "" // the SIM refused it once: ask for a new one instead
	}
	o.mu.Unlock()
	info, err := m.Init(ctx, pin)
	if errors.Is(err, ErrPINRefused) {
		o.mu.Lock()
		o.refusedPIN = pin
		o.mu.Unlock()
	}
	registered := err == nil
	if err != nil && !errors.Is(err, ErrNoNetwork) {
		return err
	}
	o.count(func(s *Status) { s.Operator, s.Signal = info.Operator, info.Signal })
	o.setState(stateOf(err), err)
	var j Joiner
	// Reports the reader took before the port failed are applied still.
	defer func() {
		for {
			select {
			case u := <-m.Unsolicited():
				if u.Kind != "+CMTI" {
					_ = o.unsolicited(ctx, m, &j, u)
				}
			default:
				return
			}
		}
	}()
	if err := o.readStorage(ctx, m, &j); err != nil {
		return err
	}
	tick := time.NewTicker(o.cfg.Poll)
	defer tick.Stop()
	for {
		if registered {
			if err := o.sendDue(ctx, m, &j); errors.Is(err, ErrNoNetwork) {
				registered = false
				o.setState(ModemNoNetwork, err)
			} else if err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-reconf:
			return errReconfigured
		case <-m.Dead():
			return fmt.Errorf("%w: port closed", ErrNotAnswering)
		case <-o.kick:
		case u := <-m.Unsolicited():
			if err := o.unsolicited(ctx, m, &j, u); err != nil {
				return err
			}
		case <-tick.C:
			// The heartbeat: a modem that stopped answering is found here
			// even with nothing to send.
			err := m.Registered(ctx)
			if err != nil && !errors.Is(err, ErrNoNetwork) {
				return err
			}
			registered = err == nil
			o.setState(stateOf(err), err)
			if err := o.readStorage(ctx, m, &j); err != nil {
				return err
			}
		}
	}
}

func (o *Outbox) unsolicited(ctx context.Context, m *Modem, j *Joiner, u Unsolicited) error {
	switch u.Kind {
	case "+CMTI":
		return o.readStorage(ctx, m, j)
	case "+CDS":
		msg, err := Decode(u.PDU)
		if err != nil {
			o.cfg.Log.Warn("sms: status report unreadable", "err", err)
			return nil
		}
		return o.report(msg)
	case "+CMT":
		msg, err := Decode(u.PDU)
		if err != nil {
			o.cfg.Log.Warn("sms: message unreadable", "err", err)
			return nil
		}
		if whole, ok := j.Add(msg, -1); ok {
			return o.receive(whole)
		}
	}
	return nil
}

// readStorage lists the modem's stored messages, stores whole ones and
// applies reports, deleting each from the SIM only once it is stored.
func (o *Outbox) readStorage(ctx context.Context, m *Modem, j *Joiner) error {
	list, err := m.List(ctx)
	if err != nil {
		var at *ATError
		if errors.As(err, &at) {
			o.cfg.Log.Warn("sms: listing the SIM's messages failed", "err", err)
			return nil
		}
		return err
	}
	for _, s := range list {
		msg, err := Decode(s.PDU)
		if err != nil {
			o.cfg.Log.Warn("sms: stored message unreadable; left on the SIM", "index", s.Index, "err", err)
			continue
		}
		var slots []int
		switch msg.Kind {
		case StatusReport:
			if err := o.report(msg); err != nil {
				return err
			}
			slots = []int{s.Index}
		case Deliver:
			whole, ok := j.Add(msg, s.Index)
			if !ok {
				continue
			}
			if err := o.receive(whole); err != nil {
				return err
			}
			slots = whole.Slots
		default:
			continue // a copy of something sent: not ours to delete
		}
		for _, idx := range slots {
			if idx < 0 {
				continue
			}
			if err := m.Delete(ctx, idx); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *Outbox) receive(whole Joined) error {
	in := &Incoming{From: whole.From, Text: whole.Text, Time: whole.Time, Received: o.cfg.Now()}
	if o.cfg.Lookup != nil {
		in.Customer = o.cfg.Lookup(whole.From)
	}
	if err := o.cfg.Store.Receive(in); err != nil {
		return fmt.Errorf("sms: store received message: %w", err)
	}
	o.count(func(s *Status) { s.Received++ })
	return nil
}

// report applies a status report to the part it names.
func (o *Outbox) report(r *Message) error {
	msg, ok, err := o.cfg.Store.FindSent(MatchKey(r.Number), r.Ref)
	if err != nil {
		return fmt.Errorf("sms: status report: %w", err)
	}
	if !ok || !(r.Delivered() || r.Failed()) {
		return nil // not ours, or the centre is still trying
	}
	status := "delivered"
	if r.Failed() {
		status = "failed"
	}
	changed := false
	for i := range msg.Parts {
		if !msg.Parts[i].Sent.IsZero() && msg.Parts[i].Ref == r.Ref && msg.Parts[i].Status == "" {
			msg.Parts[i].Status = status
			changed = true
			break
		}
	}
	if !changed {
		return nil
	}
	switch {
	case status == "failed":
		msg.State, msg.Error = Failed, fmt.Sprintf("sms: not delivered (status %#02x)", r.Status)
		o.count(func(s *Status) { s.Failed++ })
	case !slices.ContainsFunc(msg.Parts, func(p Part) bool { return p.Status != "delivered" }):
		msg.State, msg.Delivered = Delivered, r.Discharged
	}
	return o.cfg.Store.Update(msg)
}

// sendDue sends what is due, oldest first. It returns ErrNoNetwork when the
// modem lost the network and ErrNotAnswering (or ctx's error) when the
// session must end.
func (o *Outbox) sendDue(ctx context.Context, m *Modem, j *Joiner) error {
	for {
		due, err := o.cfg.Store.Due(o.cfg.Now(), 16)
		if err != nil {
			return fmt.Errorf("sms: outbox: %w", err)
		}
		if len(due) == 0 {
			return nil
		}
		for i := range due {
			if err := o.sendOne(ctx, m, &due[i]); err != nil {
				return err
			}
			// Reports and new messages arrive while a queue drains: take
			// them now, before the modem's channel fills.
			for drained := false; !drained; {
				select {
				case u := <-m.Unsolicited():
					if err := o.unsolicited(ctx, m, j, u); err != nil {
						return err
					}
				default:
					drained = true
				}
			}
		}
	}
}

// Network causes (TS 24.011 and 27.005) after which a message is not tried
// again: the number does not exist, is barred, or refused it.
var permanent = map[int]bool{1: true, 8: true, 10: true, 21: true, 28: true, 29: true, 30: true, 96: true, 304: true}

// Causes that mean the network is gone, not that the message is bad.
var noNetwork = map[int]bool{331: true, 332: true}

func (o *Outbox) sendOne(ctx context.Context, m *Modem, msg *Outgoing) error {
	pdus, err := Encode(msg.To, msg.Text, Options{Ref: uint8(msg.ID), StatusReport: true})
	if err == nil && len(pdus) != len(msg.Parts) {
		err = fmt.Errorf("sms: %d parts stored, %d encoded", len(msg.Parts), len(pdus))
	}
	if err != nil {
		msg.State, msg.Error = Failed, err.Error()
		o.count(func(s *Status) { s.Failed++ })
		return o.cfg.Store.Update(*msg)
	}
	for i, p := range pdus {
		if !msg.Parts[i].Sent.IsZero() {
			continue // sent before a restart or a failure: never twice
		}
		ref, err := m.Send(ctx, p, o.cfg.SendTimeout)
		var at *ATError
		switch {
		case err == nil:
		case errors.As(err, &at) && at.Kind == "CMS" && noNetwork[at.Code]:
			return fmt.Errorf("%w: %v", ErrNoNetwork, err)
		case errors.As(err, &at):
			msg.Attempts++
			msg.Error = err.Error()
			if permanent[at.Code] || msg.Attempts >= o.cfg.MaxAttempts {
				msg.State = Failed
				o.count(func(s *Status) { s.Failed++ })
			} else {
				// Back off: 30 s, 1, 2, 4 ... minutes, at most an hour.
				msg.At = o.cfg.Now().Add(min(30*time.Second<<(msg.Attempts-1), time.Hour))
			}
			if err := o.cfg.Store.Update(*msg); err != nil {
				return fmt.Errorf("sms: outbox: %w", err)
			}
			o.cfg.Log.Warn("sms: message refused", "id", msg.ID, "to", msg.To, "attempt", msg.Attempts, "err", err)
			return nil
		default:
			return err
		}
		msg.Parts[i].Ref, msg.Parts[i].Sent = ref, o.cfg.Now()
		if i == len(pdus)-1 {
			msg.State, msg.Sent, msg.Error = Sent, msg.Parts[i].Sent, ""
		}
		// Stored part by part: a failure after this part resends only the rest.
		if err := o.cfg.Store.Update(*msg); err != nil {
			return fmt.Errorf("sms: outbox: %w", err)
		}
	}
	o.count(func(s *Status) { s.Sent++ })
	return nil
}
