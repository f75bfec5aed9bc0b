package webui

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"callbox/webui/i18n"
)

// Events is the call centre's live event stream, served to the pages as
// Server-Sent Events at GET /api/v1/events. The firmware adapts the event
// bus (telephony/cc/ccevent) to it; without one the route answers 503.
type Events interface {
	// Subscribe starts a reader after the event with id after ("" for
	// new events only). Missed events still kept come first; a resume
	// that cannot be honoured (an id too old, or from before a restart)
	// starts with an EventReset. A malformed id gives an error wrapping
	// ErrBadEventID.
	Subscribe(after string) (EventStream, error)
	// Last returns the id of the last event published ("" before the
	// first), and false when no stream is available now (the call centre
	// is not running): pages then show no live data.
	Last() (string, bool)
}

// EventStream is one reader's subscription.
type EventStream interface {
	// Next waits for the next event until ctx ends. It returns false when
	// ctx ended or the stream did: the reader fell behind and must
	// resume from the last id it saw. An event already waiting is
	// returned even when ctx has ended, so that a reader drains what is
	// pending with an ended context and writes it all at once.
	Next(ctx context.Context) (LiveEvent, bool)
	// Close ends the subscription.
	Close()
}

// LiveEvent is one event as the stream carries it.
type LiveEvent struct {
	// ID is what the client gives back to resume (Last-Event-ID).
	ID string
	// Type is the event's type ("agent.state", "call.ringing", ...).
	Type string
	// Agent is the work number of the agent the event concerns, "" for
	// none: the role filter shows an agent its own events by it.
	Agent string
	// Data is the whole event as JSON, on one line. Every stream may be
	// handed the same bytes (the event encoded once): the stream only
	// reads them.
	Data []byte
}

// Event types webui itself knows, spelt as on the bus; the role filter
// shows them to everyone.
const (
	// EventReset: the reader missed events; reload the lists.
	EventReset = "reset"
	// EventAgentState: an agent's state changed (colleagues' states are
	// shown to every agent).
	EventAgentState = "agent.state"
	// EventConfigChanged: the configuration changed; reload what shows it.
	EventConfigChanged = "config.changed"
	// EventConferencePrefix starts the types of a live conference's
	// changes ("conference.joined", ...): the live conference page
	// follows them.
	EventConferencePrefix = "conference."
)

// ErrBadEventID is what an Events implementation wraps for a resume id that
// is not one of its own in form; the API answers 400.
var ErrBadEventID = errors.New("webui: malformed event id")

// Stream settings.
const (
	// DefaultHeartbeat is how often an idle stream sends a heartbeat event,
	// so proxies keep it open and the page knows it is alive.
	DefaultHeartbeat = 15 * time.Second
	// streamWriteTimeout bounds one write to a stream: a client that does
	// not read for this long is dropped. The server's WriteTimeout would
	// cut every stream after a minute, so each write sets its own.
	streamWriteTimeout = 30 * time.Second
	// maxStreams bounds the open streams of the box: a 30-seat centre
	// opens one or two per person.
	maxStreams = 256
	// streamRetryMS is the reconnection delay the stream asks of the
	// browser.
	streamRetryMS = 2000
	maxEventIDLen = 64
)

// eventsRoutes registers GET /api/v1/events on the authenticated group.
//
// The stream sends "retry: 2000" first, then each event the user may see
// as "id: ID", "event: TYPE", "data: JSON". Every Config.Heartbeat without
// an event it sends a "heartbeat" event whose id is the last event the
// stream has passed (shown or filtered), so a resume does not go back over
// what the user may not see. The reader resumes with the Last-Event-ID
// header (EventSource does) or ?after=ID. When the session ends the
// stream sends "logout" and closes.
//
// What a user sees: everything with PermQueueMonitor; otherwise resets,
// configuration changes, every agent's state, the live conferences'
// changes with PermQueueControl and the events of their own agent
// (User.Agent); on the wallboard's stream (?view=wallboard) with
// PermWallboard, the type of every other event with empty data ("{}"),
// so that the wallboard knows when to reload.
func (s *Server) eventsRoutes(authed *gin.RouterGroup) {
	authed.GET("/events", s.apiEvents)
}

// canSee reports whether u may see e on the stream.
func canSee(u User, e LiveEvent) bool {
	if u.Can(PermQueueMonitor) {
		return true
	}
	switch {
	case e.Type == EventReset, e.Type == EventAgentState, e.Type == EventConfigChanged:
		return true
	case strings.HasPrefix(e.Type, EventConferencePrefix):
		return u.Can(PermQueueControl) // who sees the live conference page
	}
	return u.Agent != "" && e.Agent == u.Agent
}

// wallboardTick is the data of an event shown to a wallboard only: that
// something changed, not who or what.
var wallboardTick = []byte("{}")

// visible is the data of e that u may see on the stream: all of it when
// canSee allows, only the event's type on a wallboard's stream (?view=
// wallboard with PermWallboard: it reloads its summary on any change),
// nothing otherwise.
func visible(u User, e LiveEvent, wall bool) ([]byte, bool) {
	switch {
	case canSee(u, e):
		return e.Data, true
	case wall && u.Can(PermWallboard):
		return wallboardTick, true
	}
	return nil, false
}

// streamCount counts the open streams.
type streamCount struct{ n atomic.Int32 }

func (sc *streamCount) acquire() bool {
	if sc.n.Add(1) > maxStreams {
		sc.n.Add(-1)
		return false
	}
	return true
}

func (sc *streamCount) release() { sc.n.Add(-1) }

// Streams reports how many event streams are open.
func (s *Server) Streams() int { return int(s.streams.n.Load()) }

func (s *Server) apiEvents(c *gin.Context) {
	ctx, cancel := context.WithCancel(c.Request.Context())
	defer cancel()
	defer context.AfterFunc(s.streamsCtx, cancel)() // the server shuts down
	if s.cfg.Events == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.events.unavailable", ""))
		return
	}
	after := c.GetHeader("Last-Event-ID")
	if after == "" {
		after = c.Query("after")
	}
	if len(after) > maxEventIDLen {
		s.failWith(c, fail(http.StatusBadRequest, "err.events.id", "after"))
		return
	}
	if ctx.Err() != nil {
		return
	}
	if !s.streams.acquire() {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.events.busy", ""))
		return
	}
	defer s.streams.release()
	sub, err := s.cfg.Events.Subscribe(after)
	if errors.Is(err, ErrBadEventID) {
		s.failWith(c, fail(http.StatusBadRequest, "err.events.id", "after"))
		return
	} else if err != nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.events.unavailable", ""))
		return
	}
	defer sub.Close()

	// The server's read and write timeouts are for ordinary requests;
	// this one lives as long as the page: the write timeout would cut it
	// (TestEventsOutliveServerTimeouts), so each write sets its own
	// deadline, and the read deadline goes too (HTTP/2 applies it per
	// stream).
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetReadDeadline(time.Time{})
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	w := &sseWriter{rc: rc, w: c.Writer}
	w.begin()
	w.raw("retry: 2000\n\n")
	if !w.flush() {
		return
	}
	u, _ := userOf(c)
	ss, _ := sessionOf(c)
	if ss.ended != nil {
		// A logout, a revoked display token or a deleted user ends the
		// stream now, not at its next heartbeat.
		defer context.AfterFunc(ss.ended, cancel)()
	}
	wall := c.Query("view") == "wallboard"
	last := after
	beat := s.heartbeat()
	for {
		wait, cancel := context.WithTimeout(ctx, beat)
		for {
			e, ok := sub.Next(wait)
			if !ok {
				break
			}
			// The event and those already waiting behind it (a call's
			// answer comes with its agent's state) go out in one write:
			// one wake-up and one flush per burst, not per event.
			w.begin()
			for n := 0; ok; n++ {
				last = e.ID
				if data, vis := visible(u, e, wall); vis {
					w.event(e.ID, e.Type, data)
				}
				if n == maxBatch {
					break
				}
				e, ok = sub.Next(ended)
			}
			if !w.flush() {
				cancel()
				return
			}
		}
		timedOut := wait.Err() == context.DeadlineExceeded && ctx.Err() == nil
		cancel()
		if ss.ended != nil && ss.ended.Err() != nil {
			w.begin()
			w.event("", "logout", []byte("{}"))
			w.flush()
			return
		}
		if !timedOut {
			// The client left, or the reader fell behind: the browser
			// reconnects and resumes from its last id.
			return
		}
		// Heartbeat: the session and the user are checked again, so a
		// logout, a disabled account or changed permissions apply to the
		// open stream too. A page open with its stream counts as use.
		nu, alive := s.streamUser(ctx, ss.ID)
		if !alive {
			w.begin()
			w.event("", "logout", []byte("{}"))
			w.flush()
			return
		}
		u = nu
		w.begin()
		w.event(last, "heartbeat", []byte("{}"))
		if !w.flush() {
			return
		}
	}
}

// heartbeat is the stream's heartbeat interval.
func (s *Server) heartbeat() time.Duration {
	if s.cfg.Heartbeat > 0 {
		return s.cfg.Heartbeat
	}
	return DefaultHeartbeat
}

// streamUser finds the stream's session and user again: false when the
// session ended or the user was deleted or disabled.
func (s *Server) streamUser(ctx context.Context, id string) (User, bool) {
	ss, ok := s.sess.get(id)
	if !ok {
		return User{}, false
	}
	if ss.Display != "" {
		// A wallboard's: its display token decides (it has no login).
		u, live, err := s.displaySessionUser(ctx, ss.Display)
		return u, err == nil && live
	}
	u, err := s.cfg.Users.Get(ctx, ss.Login)
	if err != nil || u.Disabled {
		return User{}, false
	}
	return u, true
}

// ended is a context that has ended: Next with it returns only an event
// already waiting.
var ended = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// maxBatch bounds the events written between two flushes.
const maxBatch = 256

// sseWriter writes the stream's events into the response's buffer; each
// batch (begin ... flush) has its own write deadline. After the first error
// it writes nothing more. Nothing is held while it writes: a client that
// reads slowly slows only its own stream, and the bus drops its
// subscription when it falls a buffer behind (the browser resumes).
type sseWriter struct {
	rc  *http.ResponseController
	w   gin.ResponseWriter
	err error
}

func (w *sseWriter) raw(s string) {
	if w.err == nil {
		_, w.err = w.w.WriteString(s)
	}
}

// begin starts a batch: a client that does not take it within
// streamWriteTimeout is dropped.
func (w *sseWriter) begin() {
	if w.err != nil {
		return
	}
	w.err = w.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if errors.Is(w.err, http.ErrNotSupported) {
		w.err = nil // a recorder in tests; nothing to time out
	}
}

// event writes one event; data may hold newlines, each line its own
// "data:" field as the format requires.
func (w *sseWriter) event(id, typ string, data []byte) {
	if w.err != nil || strings.ContainsAny(id, "\r\n") || strings.ContainsAny(typ, "\r\n") {
		return // ids and types are the bus's own; a line break would forge fields
	}
	if id != "" {
		w.raw("id: ")
		w.raw(id)
		w.raw("\n")
	}
	w.raw("event: ")
	w.raw(typ)
	w.raw("\n")
	for len(data) > 0 && w.err == nil {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		w.raw("data: ")
		if w.err == nil {
			_, w.err = w.w.Write(line)
		}
		w.raw("\n")
		data = rest
	}
	w.raw("\n")
}

func (w *sseWriter) flush() bool {
	if w.err == nil {
		w.err = w.rc.Flush()
	}
	return w.err == nil
}

// eventTypeKeys lists the catalogue's keys of event types and agent
// states ("ev.*"), which the live pages' scripts word events with.
func eventTypeKeys(cat i18n.Catalogs) []string {
	var keys []string
	for k := range cat[i18n.Default] {
		if strings.HasPrefix(k, "ev.") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
