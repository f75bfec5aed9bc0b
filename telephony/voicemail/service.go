package voicemail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"callbox/dsp/wav"
	"callbox/telephony/pin"
	"callbox/telephony/prompt"
	"callbox/telephony/recording"
)

// MessageWaiting receives a box's counts whenever they change (and for
// every box at Start), to light its phones' indicators: firmware/app
// passes them to the FXS lines and to SIP. It must not block.
type MessageWaiting interface {
	MessageWaiting(b Box, newMsgs, saved int)
}

// Config sets up a Service.
type Config struct {
	// Dir holds one directory per box: its messages and its greeting.
	Dir   string
	Store Store
	Log   *slog.Logger
	// Now is the wall clock; nil is time.Now.
	Now func() time.Time
	// MWI, Dialer and Mailer may be nil: no indicators, no notification
	// calls, no mail.
	MWI    MessageWaiting
	Dialer Dialer
	// Mailer is the box's mail service, which mails new messages to the
	// boxes that have an address.
	Mailer Mailer
	// Silence ends a message after this much silence (default 5 s).
	Silence time.Duration
	// PINTries is how many wrong PINs a call may try (default 3);
	// LockAfter wrong PINs in a row lock a box for LockFor (default 10
	// and 10 minutes), whatever the calls.
	PINTries  int
	LockAfter int
	LockFor   time.Duration
	// NotifyRetries and NotifyEvery: a notification call not answered (or
	// answered without listening) is tried again this many times, this
	// far apart (default 3 and 5 minutes).
	NotifyRetries int
	NotifyEvery   time.Duration
}

// Service keeps the boxes and their messages, runs the deposit and
// retrieval dialogues over calls, lights the message-waiting indicators
// and notifies the owners. Start it before use; Close stops the
// notification goroutine.
type Service struct {
	cfg Config
	log *slog.Logger
	idx index

	mu       sync.Mutex // box and message changes, PIN failures
	failures map[string]int
	locked   map[string]time.Time

	jobs   chan job
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ctx    context.Context
}

// New checks cfg; nothing happens until Start.
func New(cfg Config) (*Service, error) {
	if cfg.Dir == "" || cfg.Store == nil {
		return nil, errors.New("voicemail: a directory and a store are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Silence <= 0 {
		cfg.Silence = 5 * time.Second
	}
	if cfg.PINTries <= 0 {
		cfg.PINTries = 3
	}
	if cfg.LockAfter <= 0 {
		cfg.LockAfter = 10
	}
	if cfg.LockFor <= 0 {
		cfg.LockFor = 10 * time.Minute
	}
	if cfg.NotifyRetries <= 0 {
		cfg.NotifyRetries = 3
	}
	if cfg.NotifyEvery <= 0 {
		cfg.NotifyEvery = 5 * time.Minute
	}
	return &Service{cfg: cfg, log: cfg.Log, idx: index{cfg.Store}, failures: map[string]int{},
		locked: map[string]time.Time{}, jobs: make(chan job, 256)}, nil
}

// Start creates the directory, starts the
// notification goroutine and tells MWI every box's counts.
func (s *Service) Start(ctx context.Context) error {
	if err := os.MkdirAll(s.cfg.Dir, 0o750); err != nil {
		return fmt.Errorf("voicemail: %w", err)
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.wg.Add(1)
	go s.notifier()
	return s.Refresh()
}

// Refresh tells MWI every box's counts again (the lines and SIP came up
// after the service).
func (s *Service) Refresh() error {
	boxes, err := s.idx.boxes()
	if err != nil {
		return fmt.Errorf("voicemail: %w", err)
	}
	for _, b := range boxes {
		s.lamp(b)
	}
	return nil
}

// Close stops the notifications in progress and waits for them.
func (s *Service) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	return nil
}

func (s *Service) boxDir(n string) string { return filepath.Join(s.cfg.Dir, n) }

func (s *Service) messagePath(box, id string) string {
	return filepath.Join(s.boxDir(box), id+".wav")
}

// GreetingPath returns where a box's own greeting is kept.
func (s *Service) GreetingPath(box string) string {
	return filepath.Join(s.boxDir(box), "greeting.wav")
}

// BoxInput is a box as an administrator sets it: PIN, when set, replaces
// the box's PIN (it is hashed at once).
type BoxInput struct {
	Box
	PIN string `json:"pin,omitempty"`
}

// Boxes returns every box, by number.
func (s *Service) Boxes() ([]Box, error) { return s.idx.boxes() }

// Box returns one box.
func (s *Service) Box(n string) (Box, error) {
	if !validNumber(n) {
		return Box{}, fmt.Errorf("%w: box %q", ErrNotFound, n)
	}
	return s.idx.box(n)
}

// PutBox creates or changes a box. A new box needs a PIN; a changed one
// keeps its PIN and greeting unless given.
func (s *Service) PutBox(in BoxInput) (Box, error) {
	b := in.Box
	if err := b.check(); err != nil {
		return Box{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.idx.box(b.Number)
	switch {
	case errors.Is(err, ErrNotFound):
		if in.PIN == "" {
			return Box{}, invalid("pin", "a new box needs a PIN")
		}
		b.Greeting = false
	case err != nil:
		return Box{}, err
	default:
		b.PINHash, b.Greeting = old.PINHash, old.Greeting
	}
	if in.PIN != "" {
		h, err := hashPIN(in.PIN)
		if err != nil {
			return Box{}, err
		}
		b.PINHash = h
	}
	if err := os.MkdirAll(s.boxDir(b.Number), 0o750); err != nil {
		return Box{}, fmt.Errorf("voicemail: %w", err)
	}
	if err := s.idx.putBox(b.Number, b); err != nil {
		return Box{}, err
	}
	s.log.Info("voicemail box saved", "box", b.Number, "kind", b.Kind)
	s.lamp(b)
	return b, nil
}

// DeleteBox removes a box with its messages and greeting.
func (s *Service) DeleteBox(n string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.Box(n)
	if err != nil {
		return err
	}
	msgs, err := s.idx.messages(n)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if err := s.idx.delMessage(n, m.ID); err != nil {
			return err
		}
	}
	if err := s.idx.delBox(n); err != nil {
		return err
	}
	if err := os.RemoveAll(s.boxDir(n)); err != nil {
		s.log.Warn("voicemail box files not removed", "box", n, "err", err)
	}
	s.log.Info("voicemail box deleted", "box", n, "messages", len(msgs))
	if s.cfg.MWI != nil {
		s.cfg.MWI.MessageWaiting(b, 0, 0)
	}
	return nil
}

// Messages returns a box's messages, newest first.
func (s *Service) Messages(box string) ([]Message, error) {
	if _, err := s.Box(box); err != nil {
		return nil, err
	}
	msgs, err := s.idx.messages(box)
	slices.Reverse(msgs)
	return msgs, err
}

// Message returns one message.
func (s *Service) Message(box, id string) (Message, error) {
	if !validNumber(box) || !validID(id) {
		return Message{}, fmt.Errorf("%w: message %s/%s", ErrNotFound, box, id)
	}
	return s.idx.message(box, id)
}

// OpenMessage opens a message's audio for listening (see
// recording.OpenPlayback).
func (s *Service) OpenMessage(box, id string) (*recording.Playback, Message, error) {
	m, err := s.Message(box, id)
	if err != nil {
		return nil, m, err
	}
	p, err := recording.OpenPlayback(s.messagePath(box, id), true)
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("%w: the file of message %s/%s", ErrNotFound, box, id)
	}
	return p, m, err
}

// SetState marks a message new or saved (heard).
func (s *Service) SetState(box, id string, st State) error {
	if st != StateNew && st != StateSaved {
		return invalid("state", "%q: new or saved", st)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.Message(box, id)
	if err != nil {
		return err
	}
	if m.State == st {
		return nil
	}
	m.State = st
	if err := s.idx.putMessage(box, id, m); err != nil {
		return err
	}
	s.lampNumber(box)
	return nil
}

// DeleteMessage removes a message and its file.
func (s *Service) DeleteMessage(box, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.Message(box, id); err != nil {
		return err
	}
	if err := s.idx.delMessage(box, id); err != nil {
		return err
	}
	if err := os.Remove(s.messagePath(box, id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("voicemail message file not removed", "box", box, "id", id, "err", err)
	}
	s.log.Info("voicemail message deleted", "box", box, "id", id)
	s.lampNumber(box)
	return nil
}

// Counts returns a box's new and saved messages.
func (s *Service) Counts(box string) (newMsgs, saved int, err error) {
	msgs, err := s.idx.messages(box)
	for _, m := range msgs {
		if m.State == StateNew {
			newMsgs++
		} else {
			saved++
		}
	}
	return newMsgs, saved, err
}

// lamp tells MWI a box's counts.
func (s *Service) lamp(b Box) {
	if s.cfg.MWI == nil {
		return
	}
	n, sv, err := s.Counts(b.Number)
	if err != nil {
		s.log.Warn("voicemail counts unreadable", "box", b.Number, "err", err)
		return
	}
	s.cfg.MWI.MessageWaiting(b, n, sv)
}

func (s *Service) lampNumber(box string) {
	if b, err := s.idx.box(box); err == nil {
		s.lamp(b)
	}
}

// newID returns a message id: its time, so a box's messages sort by
// arrival, and a random tail.
func newID(t time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format(idTime) + "-" + hex.EncodeToString(b[:])
}

const idTime = "20060102T150405.000000Z"

func validID(id string) bool {
	if len(id) != len(idTime)+7 || id[len(idTime)] != '-' {
		return false
	}
	if _, err := time.Parse(idTime, id[:len(idTime)]); err != nil {
		return false
	}
	_, err := hex.DecodeString(id[len(idTime)+1:])
	return err == nil
}

// addMessage files a recorded message: the index entry, the lamps, the
// notifications. The box's lock is held by the caller.
func (s *Service) addMessage(b Box, id string, from Caller, d time.Duration, at time.Time) (Message, error) {
	m := Message{ID: id, Box: b.Number, Caller: from.Number, CallerName: from.Name, Received: at, Duration: d, State: StateNew}
	if err := s.idx.putMessage(b.Number, id, m); err != nil {
		return Message{}, err
	}
	s.log.Info("voicemail message left", "box", b.Number, "id", id, "caller", from.Number, "duration", d)
	s.lamp(b)
	s.notify(b, m)
	return m, nil
}

// full reports whether box b is at its quota.
func (s *Service) full(b Box) (bool, error) {
	msgs, err := s.idx.messages(b.Number)
	return len(msgs) >= b.MaxMessages, err
}

// UploadGreeting sets a box's greeting from a WAV file in any common
// encoding, rate and channel count (converted by telephony/prompt to 8 kHz
// mono), half a second to MaxGreeting long; anything else is refused with
// the reason, and the box keeps the greeting it had.
func (s *Service) UploadGreeting(box string, file []byte) error {
	up, err := prompt.Convert(file)
	if err != nil {
		return invalid("greeting", "%v", err)
	}
	d := time.Duration(len(up.Samples)) * time.Second / prompt.SampleRate
	switch {
	case d > MaxGreeting:
		return invalid("greeting", "%v long, at most %v", d.Round(time.Second), MaxGreeting)
	case d < 500*time.Millisecond:
		return invalid("greeting", "shorter than half a second")
	}
	out, err := wav.Encode(up.Samples)
	if err != nil {
		return invalid("greeting", "%v", err)
	}
	return s.setGreeting(box, func(tmp string) error { return os.WriteFile(tmp, out, 0o640) })
}

// setGreeting writes a box's greeting through a temporary file (write
// fills it, which may take a caller's minute: no lock is held meanwhile)
// renamed into place, so a failed write keeps the old one.
func (s *Service) setGreeting(box string, write func(tmp string) error) error {
	if _, err := s.Box(box); err != nil {
		return err
	}
	if err := os.MkdirAll(s.boxDir(box), 0o750); err != nil {
		return fmt.Errorf("voicemail: %w", err)
	}
	tmp := s.GreetingPath(box) + "." + newID(s.cfg.Now())
	defer os.Remove(tmp)
	if err := write(tmp); err != nil {
		return fmt.Errorf("voicemail: greeting of %s: %w", box, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.Box(box)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, s.GreetingPath(box)); err != nil {
		return fmt.Errorf("voicemail: greeting of %s: %w", box, err)
	}
	b.Greeting = true
	if err := s.idx.putBox(box, b); err != nil {
		return err
	}
	s.log.Info("voicemail greeting set", "box", box)
	return nil
}

// DeleteGreeting returns a box to the default greeting.
func (s *Service) DeleteGreeting(box string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.Box(box)
	if err != nil {
		return err
	}
	if err := os.Remove(s.GreetingPath(box)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("voicemail: %w", err)
	}
	b.Greeting = false
	return s.idx.putBox(box, b)
}

// hashPIN hashes a box's PIN, refusing one that is not 4 to 8 digits.
func hashPIN(code string) (string, error) {
	h, err := pin.Hash(code)
	if errors.Is(err, pin.ErrInvalid) {
		return "", invalid("pin", "4 to 8 digits")
	}
	return h, err
}

// setPIN stores a new PIN for a box.
func (s *Service) setPIN(box, code string) error {
	h, err := hashPIN(code)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.Box(box)
	if err != nil {
		return err
	}
	b.PINHash = h
	return s.idx.putBox(box, b)
}

// login checks a box number and PIN, counting failures per box: after
// LockAfter in a row the box refuses every PIN for LockFor (ErrLocked).
// An unknown box fails like a wrong PIN, so callers cannot find boxes.
func (s *Service) login(box, code string) (Box, error) {
	s.mu.Lock()
	until, locked := s.locked[box]
	if locked && s.cfg.Now().Before(until) {
		s.mu.Unlock()
		return Box{}, ErrLocked
	}
	s.mu.Unlock()
	b, err := s.Box(box)
	ok := err == nil && pin.Check(b.PINHash, code)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Box{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		delete(s.failures, box)
		delete(s.locked, box)
		return b, nil
	}
	if len(s.failures) < 10000 || s.failures[box] > 0 {
		s.failures[box]++
	}
	if s.failures[box] >= s.cfg.LockAfter {
		s.locked[box] = s.cfg.Now().Add(s.cfg.LockFor)
		delete(s.failures, box)
		s.log.Warn("voicemail box locked after wrong PINs", "box", box, "for", s.cfg.LockFor)
	}
	return Box{}, fmt.Errorf("%w: wrong box or PIN", ErrNotFound)
}

// OwnBox returns the box whose Extensions list ext (the feature code's
// "my box").
func (s *Service) OwnBox(ext string) (Box, error) {
	boxes, err := s.idx.boxes()
	if err != nil {
		return Box{}, err
	}
	for _, b := range boxes {
		if slices.Contains(b.Extensions, ext) {
			return b, nil
		}
	}
	return Box{}, fmt.Errorf("%w: no box for extension %s", ErrNotFound, ext)
}
