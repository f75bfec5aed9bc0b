// Package ccevent is the call centre's event bus: every change (an agent's
// state, a call offered, queued, rung, answered, abandoned, transferred, a
// callback, a survey answer, a supervisor's action) is published once as an
// Event with a sequence number, and many readers (the SSE endpoint, the fact
// writer, the supervisor board, webhooks) read the same stream.
//
// Publishing never waits for a reader: each subscriber has a bounded
// channel, and one that falls behind is dropped (its channel closed). It
// resumes by the id of the last event it saw; the bus keeps the most recent
// events in a ring for that. An id older than the ring, or from before a
// restart (ids carry the bus's boot epoch), resumes with a Reset event, which
// tells the reader to reload its lists rather than trust the stream.
package ccevent

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Type names an event. The names are the JSON values of Event.Type.
type Type string

// Event types. A new kind of change gets a new type rather than a flag on an
// old one, so that readers can ignore what they do not know.
const (
	// Reset tells a reader that it missed events (resume id too old or from
	// before a restart): reload the lists. Only Subscribe produces it.
	Reset Type = "reset"

	AgentState Type = "agent.state" // Agent, State, Reason, Device; Detail "registered"

	CallOffered     Type = "call.offered"     // Call, Number, Detail "called", "route"
	CallQueued      Type = "call.queued"      // Call, Group, Number, Detail "customer_type"
	CallRinging     Type = "call.ringing"     // Call, Agent, Group, Number, Device
	CallRingEnded   Type = "call.ring_ended"  // Call, Agent, Reason ("no answer", "rejected", "answered elsewhere", "caller gone")
	CallAnswered    Type = "call.answered"    // Call, Agent, Group, Number
	CallAbandoned   Type = "call.abandoned"   // Call, Group, Number; Detail "wait"
	CallOverflowed  Type = "call.overflowed"  // Call, Group, Target
	CallTransferred Type = "call.transferred" // Call, Agent (from), Target
	CallHeld        Type = "call.held"        // Call, Agent
	CallResumed     Type = "call.resumed"     // Call, Agent
	CallEnded       Type = "call.ended"       // Call, Agent, Group, Reason

	CallbackRequested Type = "callback.requested" // Call, Group, Number
	CallbackDialled   Type = "callback.dialled"   // Call, Agent, Number
	CallbackConnected Type = "callback.connected" // Call, Agent, Number
	CallbackFailed    Type = "callback.failed"    // Call, Number, Reason

	SurveyAnswered Type = "survey.answered" // Call, Agent, Detail "score"

	// FaxProgress: an agent's fax with the caller started or ended. Call,
	// Agent, State (the fax's status: active, done, failed); Detail "id",
	// "direction" (in, out), "pages" (confirmed), "document" (pages to
	// send), "error".
	FaxProgress Type = "fax.progress"

	SupervisorAction Type = "supervisor.action" // Actor, Call, Agent, Detail "action"
	Notice           Type = "notice"            // Agent, Call, Reason (no-answer limit, store error)
	ConfigChanged    Type = "config.changed"    // Actor, Detail "what"
)

// Event is one change. Fields that do not apply to a type are empty.
type Event struct {
	// ID is "<epoch>-<seq>", what SSE sends as the event id and a reader
	// gives back to resume.
	ID   string    `json:"id"`
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	Type Type      `json:"type"`

	Call   string `json:"call,omitempty"`
	Agent  string `json:"agent,omitempty"`
	Group  int    `json:"group,omitempty"` // group ids start at 1
	Number string `json:"number,omitempty"`
	Device string `json:"device,omitempty"`
	State  string `json:"state,omitempty"`
	Reason string `json:"reason,omitempty"`
	Target string `json:"target,omitempty"`
	// Actor is the user or agent who made a supervisor's or admin's change.
	Actor string `json:"actor,omitempty"`
	// Detail carries a type's further fields, documented by the type.
	Detail map[string]string `json:"detail,omitempty"`

	// enc is the published event's JSON, made on first use and shared by
	// every reader's copy: fifty live pages encode an event once.
	enc *encoding
}

// encoding is an event's JSON, made once.
type encoding struct {
	once sync.Once
	b    []byte
	err  error
}

// JSON returns the event as JSON. An event the bus published is encoded
// once, from the first copy asked, and every reader's copy returns the
// same bytes: readers treat events and the bytes as read-only.
func (e Event) JSON() ([]byte, error) {
	if e.enc == nil {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("ccevent: event %s: %w", e.ID, err)
		}
		return b, nil
	}
	enc := e.enc
	enc.once.Do(func() {
		e.enc = nil
		if enc.b, enc.err = json.Marshal(e); enc.err != nil {
			enc.err = fmt.Errorf("ccevent: event %s: %w", e.ID, enc.err)
		}
	})
	return enc.b, enc.err
}

// DefaultRing is how many recent events a bus keeps for resuming readers.
const DefaultRing = 4096

// DefaultBuffer is a subscriber's channel capacity when Subscribe is given 0.
const DefaultBuffer = 256

// ErrBadID is returned by Subscribe for a resume id that is not one of ours
// in form ("<epoch>-<seq>").
var ErrBadID = errors.New("ccevent: malformed event id")

// Bus fans published events out to subscribers. It is safe for concurrent
// use; Publish never blocks.
type Bus struct {
	now   func() time.Time
	epoch string

	mu   sync.Mutex
	ring []Event // ring[seq % len(ring)] for the last len(ring) seqs
	seq  uint64  // last published
	subs map[*Sub]struct{}
}

// Sub is one reader's subscription.
type Sub struct {
	c       chan Event
	bus     *Bus
	dropped bool // under bus.mu
}

// C delivers the events after the resume point, in order. It is closed when
// the reader fell behind (Dropped reports true) or unsubscribed.
func (s *Sub) C() <-chan Event { return s.c }

// Dropped reports whether the bus dropped the reader for falling behind.
func (s *Sub) Dropped() bool {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	return s.dropped
}

// New returns a bus keeping ring recent events (DefaultRing if <= 0); now
// tells the time of events (nil is time.Now). The epoch, drawn from the
// start time, tells this bus's ids from a previous boot's.
func New(ring int, now func() time.Time) *Bus {
	if ring <= 0 {
		ring = DefaultRing
	}
	if now == nil {
		now = time.Now
	}
	return &Bus{
		now:   now,
		epoch: strconv.FormatInt(time.Now().UnixNano()/int64(time.Millisecond), 36),
		ring:  make([]Event, ring),
		subs:  make(map[*Sub]struct{}),
	}
}

// Epoch returns the bus's boot epoch, the first part of its event ids.
func (b *Bus) Epoch() string { return b.epoch }

// Publish stamps e with the next sequence number, its id and (if zero) the
// time, keeps it in the ring and hands it to every subscriber that has
// room; a subscriber without room is dropped. It returns the stamped event.
func (b *Bus) Publish(e Event) Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	e.Seq = b.seq
	e.ID = b.epoch + "-" + strconv.FormatUint(e.Seq, 10)
	if e.Time.IsZero() {
		e.Time = b.now()
	}
	e.enc = &encoding{}
	b.ring[e.Seq%uint64(len(b.ring))] = e
	for s := range b.subs {
		select {
		case s.c <- e:
		default:
			s.dropped = true
			delete(b.subs, s)
			close(s.c)
		}
	}
	return e
}

// Last returns the id of the last event published ("" before the first).
func (b *Bus) Last() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seq == 0 {
		return ""
	}
	return b.epoch + "-" + strconv.FormatUint(b.seq, 10)
}

// Subscribe starts a reader after the event with id after ("" for only new
// events). Missed events still in the ring are delivered first; a resume
// that cannot be honoured starts with a Reset event. buffer is the channel's
// capacity (DefaultBuffer if <= 0); it grows to hold the backlog.
func (b *Bus) Subscribe(after string, buffer int) (*Sub, error) {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	var from uint64 // first seq to deliver; 0: none from the ring
	reset := false
	if after != "" {
		epoch, seqText, ok := strings.Cut(after, "-")
		seq, err := strconv.ParseUint(seqText, 10, 64)
		if !ok || err != nil || epoch == "" {
			return nil, fmt.Errorf("%w: %q", ErrBadID, after)
		}
		if epoch != b.epoch {
			reset = true
		} else {
			from = seq + 1
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	oldest := uint64(1)
	if b.seq >= uint64(len(b.ring)) {
		oldest = b.seq - uint64(len(b.ring)) + 1
	}
	if from != 0 && (from < oldest || from > b.seq+1) {
		// Too old for the ring, or an id from the future (a bus of the same
		// epoch cannot have it): the reader must reload.
		reset, from = true, 0
	}
	var backlog []Event
	if reset {
		backlog = append(backlog, Event{Type: Reset, Time: b.now(), ID: b.epoch + "-" + strconv.FormatUint(b.seq, 10), Seq: b.seq})
	}
	for seq := from; from != 0 && seq <= b.seq; seq++ {
		backlog = append(backlog, b.ring[seq%uint64(len(b.ring))])
	}
	s := &Sub{c: make(chan Event, buffer+len(backlog)), bus: b}
	for _, e := range backlog {
		s.c <- e
	}
	b.subs[s] = struct{}{}
	return s, nil
}

// Unsubscribe ends a subscription and closes its channel. It is safe to
// call more than once and after the bus dropped the reader.
func (b *Bus) Unsubscribe(s *Sub) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.c)
	}
}

// Subscribers returns how many readers are subscribed.
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
