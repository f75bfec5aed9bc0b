package app

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"callbox/firmware/cli/configcli"
	"callbox/firmware/logbuf"
)

// displayExchange makes a wallboard session from a display token, as the
// wallboard page does (a bearer POST), and returns its status.
func displayExchange(t *testing.T, w *webClient, token string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, w.base+"/api/v1/wallboard/session", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := w.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestWallboardDisplaySurvivesRestart: an administrator makes two display
// tokens; a screen exchanges one for a session that sees the wallboard and
// its summary and nothing else. The box restarts (same data): the
// screen's session is gone with the memory, and its stored token makes a
// new one that works, as the page does by itself. Revoking the other
// token ends its session at once and refuses its exchange.
func TestWallboardDisplaySurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	dir := t.TempDir()
	pbx, c := ccTestPBX(), ccTestConfig(t)
	doc, err := configcli.MarshalDocument(configcli.Document{PBX: &pbx, CallCentre: &c})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "box.json")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	boot := func(imp string) (*App, *syncBuffer, func() error) {
		out := &syncBuffer{}
		a, err := New(Config{Out: out, DataDir: dir, Board: "sim", HTTPAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0",
			Console: "none", NoWatchdog: true, RTPMin: 31800, RTPMax: 31999, Import: imp},
			slog.New(slog.DiscardHandler), logbuf.New(10))
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, a)
		return a, out, func() error { _, err := stop(); return err }
	}
	a, out, stop := boot(path)
	admin := adminClient(t, a, out)
	tv := admin.call("POST", "/api/v1/tokens", map[string]any{"name": "hall TV", "scopes": []string{"wallboard"}}, http.StatusCreated)["token"].(string)
	old := admin.call("POST", "/api/v1/tokens", map[string]any{"name": "old TV", "scopes": []string{"wallboard"}}, http.StatusCreated)
	sms := admin.call("POST", "/api/v1/tokens", map[string]any{"name": "crm", "scopes": []string{"sms:read"}}, http.StatusCreated)["token"].(string)

	screen := newWebClient(t, admin.base)
	if st := displayExchange(t, screen, tv); st != http.StatusOK {
		t.Fatalf("exchange of a display token: %d", st)
	}
	if st := displayExchange(t, newWebClient(t, admin.base), sms); st != http.StatusForbidden {
		t.Fatalf("exchange of a token without the wallboard scope: %d", st)
	}
	if st, _ := screen.get("/wallboard"); st != http.StatusOK {
		t.Fatalf("the screen's wallboard: %d", st)
	}
	screen.call("GET", "/api/v1/wallboard", nil, http.StatusOK)
	screen.call("GET", "/api/v1/cc/figures", nil, http.StatusForbidden)
	screen.call("GET", "/api/v1/users", nil, http.StatusForbidden)

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	a2, _, stop2 := boot("")
	defer stop2()
	// Same screen, new address: its cookie names a session the box forgot.
	screen.base = "http://" + a2.WebAddr()
	screen.call("GET", "/api/v1/wallboard", nil, http.StatusUnauthorized)
	if st := displayExchange(t, screen, tv); st != http.StatusOK {
		t.Fatalf("the stored display token after the restart: %d", st)
	}
	screen.call("GET", "/api/v1/wallboard", nil, http.StatusOK)

	oldScreen := newWebClient(t, screen.base)
	if st := displayExchange(t, oldScreen, old["token"].(string)); st != http.StatusOK {
		t.Fatalf("exchange of the second token: %d", st)
	}
	oldScreen.call("GET", "/api/v1/wallboard", nil, http.StatusOK)
	admin2 := loginAs(t, screen.base, "boss", "Kettle-Drum-42")
	admin2.call("DELETE", "/api/v1/tokens/"+old["id"].(string), nil, http.StatusOK)
	oldScreen.call("GET", "/api/v1/wallboard", nil, http.StatusUnauthorized)
	if st := displayExchange(t, oldScreen, old["token"].(string)); st != http.StatusUnauthorized {
		t.Fatalf("exchange of a revoked token: %d", st)
	}
	screen.call("GET", "/api/v1/wallboard", nil, http.StatusOK)
}
