package fax

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"callbox/dsp/fax/t30"
	"callbox/dsp/fax/t4"
	"callbox/telephony/media"
)

// Depth of a terminal's rings, in 10 ms frames.
const (
	// TxDelay is how far the audio a terminal sends runs behind what it
	// hears: the slack its goroutine has before the clock finds nothing to
	// send (a page being coded or decoded). T.30's timers leave room for
	// far more.
	TxDelay = 25
	// txRing holds the delay and the frames a stalled goroutine makes in
	// a burst when it catches up.
	txRing = 128
	// rxRing is the tap: what the leg heard while the goroutine was
	// stalled, up to a second of it.
	rxRing = 100
)

// ErrAborted ends a terminal's session that was stopped before it was over
// (the call ended, the box stopped).
var ErrAborted = errors.New("fax: session aborted")

// Terminal is a T.30 fax terminal on one leg of a call: the sender of a
// document or the receiver of one. Play it into the leg (it is the Source
// the leg hears, and a media.Endpoint) and set its Tap on the leg; Start
// runs the session. See the package doc.
type Terminal struct {
	sess *t30.Session
	w    *tapWorker

	// The frames to send: a single-producer (the goroutine),
	// single-consumer (the clock) ring.
	tx         [txRing][media.FrameSamples]int16
	head, tail atomic.Uint64
	scratch    [media.FrameSamples]int16 // what is sent while nobody plays us

	underruns atomic.Uint64 // clock ticks with nothing to send
	trimmed   atomic.Uint64 // silent frames dropped to get back to TxDelay

	over     atomic.Bool // the session is over (its result is final)
	finished chan struct{}
	once     sync.Once
	mu       sync.Mutex // result, pages
	result   t30.Result
	pages    []*t4.Page
}

// NewTerminal returns a terminal for a T.30 session (t30.Config: calling
// and sending, or answering and receiving).
func NewTerminal(cfg t30.Config) (*Terminal, error) {
	s, err := t30.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("fax: %w", err)
	}
	t := &Terminal{sess: s, w: newTapWorker(rxRing), finished: make(chan struct{})}
	t.head.Store(TxDelay) // the delay, as frames of silence
	return t, nil
}

// Tap is where the leg's audio reaches the terminal (set it on the leg).
func (t *Terminal) Tap() *media.Tap { return t.w.tap }

// Start runs the session on the terminal's goroutine from the first frame
// the tap gives, until it is over, ctx ends or Close.
func (t *Terminal) Start(ctx context.Context) {
	t.w.start(ctx, t.frame)
}

// frame runs the session over one frame heard, on the goroutine.
func (t *Terminal) frame(f *media.TapFrame) {
	if t.over.Load() {
		return // the rest is silence: let the clock drain what is queued
	}
	h := t.head.Load()
	full := h-t.tail.Load() >= txRing
	out := &t.tx[h%txRing]
	if full {
		out = &t.scratch // nobody plays us: keep time only
	}
	t.sess.Process(f.Rx[:], out[:])
	if !t.over.Load() && t.sess.Done() {
		t.finish(t.sess.Result(), t.sess.Received())
	}
	if full {
		return
	}
	if h-t.tail.Load() >= TxDelay && silent(out) {
		t.trimmed.Add(1) // behind by a stall: catch up in a silence
		return
	}
	t.head.Store(h + 1)
}

// silent reports whether a frame is digital silence (what a T.30 session
// sends between its modems' bursts).
func silent(f *[media.FrameSamples]int16) bool {
	for _, v := range f {
		if v != 0 {
			return false
		}
	}
	return true
}

// finish makes the result final, once.
func (t *Terminal) finish(r t30.Result, pages []*t4.Page) {
	t.once.Do(func() {
		t.mu.Lock()
		t.result, t.pages = r, pages
		t.mu.Unlock()
		t.over.Store(true)
		close(t.finished)
	})
}

// ReadFrame gives the clock the next frame to send; it never waits and
// allocates nothing.
func (t *Terminal) ReadFrame(frame []int16) {
	tl := t.tail.Load()
	if tl == t.head.Load() {
		clear(frame)
		if !t.over.Load() {
			t.underruns.Add(1)
		}
		return
	}
	copy(frame, t.tx[tl%txRing][:])
	t.tail.Store(tl + 1)
}

// WriteFrame does nothing: the leg's audio comes through the tap. It makes
// a Terminal a media.Endpoint.
func (t *Terminal) WriteFrame([]int16) {}

// Done reports whether the session is over and everything it sent has
// been played: the leg may go back to voice, or be hung up.
func (t *Terminal) Done() bool {
	return t.over.Load() && t.tail.Load() == t.head.Load()
}

// Finished is closed when the session is over.
func (t *Terminal) Finished() <-chan struct{} { return t.finished }

// Result is how the session ended, or how far it has got.
func (t *Terminal) Result() t30.Result {
	if !t.over.Load() {
		return t30.Result{Err: errors.New("fax: session under way")}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.result
}

// Received returns the pages received, once the session is over.
func (t *Terminal) Received() []*t4.Page {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pages
}

// Events returns what the session did and saw (for logs), once it is
// over or the terminal is closed; nil before.
func (t *Terminal) Events() []t30.Event {
	if !t.over.Load() {
		return nil
	}
	return t.sess.Events()
}

// Idle reports whether the terminal has handled every frame the clock gave
// it (for tests that step a virtual clock).
func (t *Terminal) Idle() bool { return t.w.idle() }

// Stats are a terminal's counters.
type Stats struct {
	// Underruns are ticks that found no frame to send while the session
	// ran (its goroutine was late); Trimmed are silent frames it dropped
	// to catch up.
	Underruns, Trimmed uint64
	// Dropped are frames heard that the tap had no room for.
	Dropped uint64
}

// Stats returns the terminal's counters.
func (t *Terminal) Stats() Stats {
	return Stats{Underruns: t.underruns.Load(), Trimmed: t.trimmed.Load(), Dropped: t.w.tap.Dropped()}
}

// hangupGrace is how long a session whose call ended hears silence so
// that its timers can end it: a receiver that confirmed the last page
// and misses only the sender's DCN (cut off by the hang-up) has the
// whole document (T.30 counts it received after T2, 6 s).
const hangupGrace = 10 * media.SampleRate / media.FrameSamples

// Close stops the session and waits for its goroutine. A session not over
// yet hears silence (the call is gone) until its timers end it, off the
// clock: a document fully received counts as received though the DCN was
// lost; a session still not over ends with ErrAborted (and the pages
// received so far).
func (t *Terminal) Close() error {
	t.w.stop()
	var quiet [media.FrameSamples]int16
	for i := 0; i < hangupGrace && t.w.started && !t.sess.Done(); i++ {
		t.sess.Process(quiet[:], t.scratch[:])
	}
	r := t.sess.Result()
	if !t.sess.Done() {
		r.Err = ErrAborted
	}
	t.finish(r, t.sess.Received())
	return nil
}
