package webui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestBrowserWallboardDisplay: in Chromium, a screen opens the wallboard
// link with a display token in its fragment and lands on the wallboard
// with its live stream; the box then forgets every session and drops the
// connections (a reboot, as the screen sees one): the page makes a new
// session from the stored token and streams again without reloading.
// Once the token is revoked, the next look finds no session and the
// exchange is refused.
func TestBrowserWallboardDisplay(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	tokens := &memTokens{m: map[string]APIToken{}}
	live := newBoardLive(nil)
	pe := newPagesEnv(t, func(c *Config) { c.Tokens, c.Live = tokens, live })
	live.bus = pe.bus
	text, tok, err := pe.s.createToken(context.Background(), "hall TV", []string{scopeWallboard}, "root")
	if err != nil {
		t.Fatal(err)
	}
	b := startBrowser(t)
	b.navigate(pe.url + "/wallboard/display#" + text)
	waitFor(t, func() bool { return b.location() == "/wallboard" })
	waitFor(t, func() bool { return pe.bus.Subscribers() == 1 })
	waitFor(t, func() bool { return b.evalString(`document.getElementById("live").dataset.state`) == "ok" })
	if b.evalString(`location.hash`) != "" {
		t.Error("the token stays in the address")
	}
	b.eval(`window.marker = 1; 1`)

	// The reboot: no session survives, every connection drops.
	pe.s.sess.mu.Lock()
	clear(pe.s.sess.m)
	pe.s.sess.mu.Unlock()
	pe.srv.CloseClientConnections()
	waitFor(t, func() bool { return pe.s.sess.len() == 1 && pe.bus.Subscribers() == 1 })
	waitFor(t, func() bool { return b.evalString(`document.getElementById("live").dataset.state`) == "ok" })
	if b.evalString(`location.pathname`) != "/wallboard" || string(b.eval(`window.marker === 1`)) != "true" {
		t.Fatalf("the wallboard reloaded or left: %s", b.evalString(`location.href`))
	}

	// Revoked: the session ends at once and the exchange is refused.
	if _, err := pe.s.revokeToken(context.Background(), tok.ID); err != nil {
		t.Fatal(err)
	}
	if pe.s.sess.len() != 0 {
		t.Fatalf("%d sessions left after the revocation", pe.s.sess.len())
	}
	pe.srv.CloseClientConnections()
	waitFor(t, func() bool { return b.location() == "/login" })
	if b.evalString(`localStorage.getItem("callbox.display") || ""`) != "" {
		t.Error("the refused token is kept")
	}
}

// TestDisplayStreamEndsOnRevoke: a wallboard's open event stream hears
// "logout" and closes as soon as its display token is revoked, not at its
// next heartbeat (an hour here) nor at its next reconnect; until then its
// heartbeats go on (a display session has no login of its own, which the
// heartbeat's check once took for a deleted user).
func TestDisplayStreamEndsOnRevoke(t *testing.T) {
	for _, beat := range []time.Duration{100 * time.Millisecond, time.Hour} {
		t.Run(beat.String(), func(t *testing.T) {
			ee := newEventsEnv(t, Config{Tokens: &memTokens{m: map[string]APIToken{}}, Heartbeat: beat})
			ee.user(t, "root", RoleAdmin, "", nil)
			text, tok, err := ee.s.createToken(context.Background(), "hall TV", []string{scopeWallboard}, "root")
			if err != nil {
				t.Fatal(err)
			}
			wall := ee.client(t)
			req := httptest.NewRequest(http.MethodPost, "http://callbox.test/api/v1/wallboard/session", nil)
			req.Header.Set("Authorization", "Bearer "+text)
			if rec := wall.do(req); rec.Code != http.StatusOK {
				t.Fatalf("session exchange: %d %s", rec.Code, rec.Body)
			}
			s, st := openStream(t, ee.url, wall, "")
			if s == nil {
				t.Fatalf("stream: %d", st)
			}
			waitFor(t, func() bool { return ee.bus.Subscribers() == 1 })
			if beat < time.Second {
				for range 3 {
					select {
					case e := <-s.c:
						if e.typ != "heartbeat" {
							t.Fatalf("the display's stream got %+v, want heartbeats", e)
						}
					case <-time.After(30 * time.Second):
						t.Fatal("no heartbeat")
					}
				}
			}
			if _, err := ee.s.revokeToken(context.Background(), tok.ID); err != nil {
				t.Fatal(err)
			}
			s.waitLogout(t)
		})
	}
}
