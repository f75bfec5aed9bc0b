package webui

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// maxSessions bounds the stored sessions. Only a successful login creates
// one (anonymous visitors keep no server state, see csrf.go), so reaching
// it takes that many logins; beyond it the least recently used session
// ends.
const maxSessions = 1024

// session is the server-side state behind a session cookie: a logged-in
// user and the CSRF token of their pages.
type session struct {
	ID      string
	CSRF    string
	Login   string
	Created time.Time
	Seen    time.Time
	// Wall is a wallboard account's session (wallboardOnly): a screen on
	// the wall stays logged in as long as it is in use, past SessionMax.
	Wall bool
	// Display is the id of the display token a wallboard's session was
	// made from (display.go); Login is empty then.
	Display string
	// ended is done when the session ends (logout, revocation, expiry):
	// an open event stream ends with it at once rather than at its next
	// heartbeat. Copies share it; end ends it.
	ended context.Context
	end   context.CancelFunc
}

// newSession makes a session's identity and its end.
func newSession(now time.Time) *session {
	ctx, end := context.WithCancel(context.Background())
	return &session{ID: randToken(), CSRF: randToken(), Created: now, Seen: now, ended: ctx, end: end}
}

// sessions holds the live sessions in memory: a reboot logs everyone out,
// which suits an appliance better than persisting bearer secrets.
type sessions struct {
	idle, max time.Duration
	now       func() time.Time

	mu sync.Mutex
	m  map[string]*session
}

func newSessions(idle, max time.Duration, now func() time.Time) *sessions {
	return &sessions{idle: idle, max: max, now: now, m: map[string]*session{}}
}

// randToken returns 256 random bits, base64url-encoded.
func randToken() string {
	var b [32]byte
	// crypto/rand.Read never returns an error on supported platforms.
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for login and returns a copy.
func (ss *sessions) create(login string) session {
	now := ss.now()
	s := newSession(now)
	s.Login = login
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		ss.pruneLocked(now)
	}
	ss.m[s.ID] = s
	return *s
}

// createDisplay starts a wallboard session from the display token id,
// ending the least recently used of that token's sessions beyond
// displaySessionsMax.
func (ss *sessions) createDisplay(token string) session {
	now := ss.now()
	s := newSession(now)
	s.Wall, s.Display = true, token
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		ss.pruneLocked(now)
	}
	for {
		var oldest *session
		n := 0
		for _, o := range ss.m {
			if o.Display == token {
				n++
				if oldest == nil || o.Seen.Before(oldest.Seen) {
					oldest = o
				}
			}
		}
		if n < displaySessionsMax {
			break
		}
		ss.dropLocked(oldest.ID)
	}
	ss.m[s.ID] = s
	return *s
}

// destroyDisplay ends every session of the display token id.
func (ss *sessions) destroyDisplay(token string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for id, s := range ss.m {
		if s.Display == token {
			ss.dropLocked(id)
		}
	}
}

// get returns the live session with id and marks it used. Expired sessions
// are removed on sight.
func (ss *sessions) get(id string) (session, bool) {
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[id]
	if !ok {
		return session{}, false
	}
	if ss.expired(s, now) {
		ss.dropLocked(id)
		return session{}, false
	}
	s.Seen = now
	return *s, true
}

func (ss *sessions) expired(s *session, now time.Time) bool {
	return now.Sub(s.Seen) > ss.idle || !s.Wall && now.Sub(s.Created) > ss.max
}

// wall marks the session id a wallboard's: only idleness ends it.
func (ss *sessions) wall(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if s, ok := ss.m[id]; ok {
		s.Wall = true
	}
}

// destroy ends one session.
func (ss *sessions) destroy(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.dropLocked(id)
}

// dropLocked removes the session id and tells its open streams.
func (ss *sessions) dropLocked(id string) {
	if s, ok := ss.m[id]; ok {
		delete(ss.m, id)
		s.end()
	}
}

// destroyUser ends every session of login except the one with id keep.
func (ss *sessions) destroyUser(login, keep string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for id, s := range ss.m {
		if s.Login == login && id != keep {
			ss.dropLocked(id)
		}
	}
}

// pruneLocked drops expired sessions and, when the table is still full,
// the least recently used one.
func (ss *sessions) pruneLocked(now time.Time) {
	var oldest *session
	for id, s := range ss.m {
		if ss.expired(s, now) {
			ss.dropLocked(id)
			continue
		}
		if oldest == nil || s.Seen.Before(oldest.Seen) {
			oldest = s
		}
	}
	if len(ss.m) >= maxSessions && oldest != nil {
		ss.dropLocked(oldest.ID)
	}
}

// len reports the number of stored sessions (for tests).
func (ss *sessions) len() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.m)
}
