package webhook

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"callbox/telephony/cc/ccevent"
)

// The TCP event stream. A client connects and sends one line of JSON:
//
//	{"token": "cbx_...", "after": 1234, "types": ["call.answered"]}
//
// after (optional) is the position of the last entry it took, so it
// resumes after a restart of either side; without it the stream starts
// with the next event. types (optional) filters. The box answers
// {"ok": true, "head": N} (or {"ok": false, "error": "..."} and closes),
// then one journal entry per line, {"pos": N, "event": {...}}, and
// {"heartbeat": N} after HeartbeatEvery without events.

// StreamHello is the client's first line.
type StreamHello struct {
	Token string         `json:"token"`
	After *uint64        `json:"after,omitempty"`
	Types []ccevent.Type `json:"types,omitempty"`
}

// Stream limits.
const (
	MaxStreamClients = 16
	HeartbeatEvery   = 30 * time.Second
	helloTimeout     = 10 * time.Second
	writeTimeout     = 30 * time.Second
)

// Stream serves the event stream on a listener; Close stops it and waits
// for every connection.
type Stream struct {
	d    *Dispatcher
	auth func(token string) error
	ln   net.Listener

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
	ctx   context.Context
	stop  context.CancelFunc
}

// ListenStream serves the event stream on addr (":0" picks a port). auth
// checks a client's token.
func (d *Dispatcher) ListenStream(ctx context.Context, addr string, auth func(token string) error) (*Stream, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("webhook: event stream: %w", err)
	}
	s := &Stream{d: d, auth: auth, ln: ln, conns: map[net.Conn]struct{}{}}
	s.ctx, s.stop = context.WithCancel(ctx)
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the listening address.
func (s *Stream) Addr() net.Addr { return s.ln.Addr() }

// Close stops accepting, closes every connection and waits.
func (s *Stream) Close() {
	s.stop()
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Stream) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		if len(s.conns) >= MaxStreamClients {
			s.mu.Unlock()
			_ = writeLine(c, map[string]any{"ok": false, "error": "too many stream clients"})
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.serve(c)
		}()
	}
}

func writeLine(c net.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err = c.Write(append(b, '\n'))
	return err
}

func (s *Stream) serve(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(helloTimeout))
	r := bufio.NewReaderSize(c, 4096)
	line, err := r.ReadSlice('\n')
	if err != nil {
		_ = writeLine(c, map[string]any{"ok": false, "error": "send one line of JSON with a token first"})
		return
	}
	var h StreamHello
	if err := json.Unmarshal(line, &h); err != nil {
		_ = writeLine(c, map[string]any{"ok": false, "error": "the first line is not JSON"})
		return
	}
	if err := s.auth(h.Token); err != nil {
		_ = writeLine(c, map[string]any{"ok": false, "error": "token refused"})
		return
	}
	head, err := s.d.cfg.Store.Head()
	if err != nil {
		_ = writeLine(c, map[string]any{"ok": false, "error": "journal unavailable"})
		return
	}
	pos := head
	if h.After != nil {
		pos = min(*h.After, head)
	}
	if writeLine(c, map[string]any{"ok": true, "head": head}) != nil {
		return
	}
	// Reads end the connection when the client goes: nothing else is read.
	gone := make(chan struct{})
	go func() {
		_ = c.SetReadDeadline(time.Time{})
		_, _ = r.Discard(1 << 30)
		close(gone)
	}()
	defer func() { c.Close(); <-gone }()
	for {
		wake := s.d.Appended()
		entries, err := s.d.cfg.Store.After(pos, 256)
		if err != nil {
			_ = writeLine(c, map[string]any{"error": "journal unreadable"})
			return
		}
		for _, e := range entries {
			pos = e.Pos
			if len(h.Types) > 0 && !slices.Contains(h.Types, e.Event.Type) {
				continue
			}
			if writeLine(c, e) != nil {
				return
			}
		}
		if len(entries) > 0 {
			continue
		}
		t := time.NewTimer(HeartbeatEvery)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-gone:
			t.Stop()
			return
		case <-wake:
			t.Stop()
		case <-t.C:
			if writeLine(c, map[string]any{"heartbeat": pos}) != nil {
				return
			}
		}
	}
}
