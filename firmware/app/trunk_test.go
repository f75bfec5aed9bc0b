package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"testing"
	"time"

	"callbox/telephony/pbxconf"
	"callbox/telephony/sip"
)

// webAdmin is an administrator's browser session on the daemon's API.
type webAdmin struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

// newWebAdmin creates the admin account with a fresh setup code and logs
// in, as an installer does on the first boot.
func newWebAdmin(t *testing.T, a *App) *webAdmin {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	w := &webAdmin{t: t, base: "http://" + a.WebAddr(), c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	code, err := a.issueSetupCode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w.session()
	w.do(http.MethodPost, "/api/v1/setup", map[string]any{"code": code, "login": "boss", "password": "correct horse battery"}, http.StatusOK)
	w.do(http.MethodPost, "/api/v1/login", map[string]any{"login": "boss", "password": "correct horse battery"}, http.StatusOK)
	w.session() // a new session has a new token
	return w
}

// session reads the session's CSRF token.
func (w *webAdmin) session() {
	w.t.Helper()
	var s struct {
		CSRFToken string `json:"csrf_token"`
	}
	if err := json.Unmarshal(w.do(http.MethodGet, "/api/v1/session", nil, http.StatusOK), &s); err != nil || s.CSRFToken == "" {
		w.t.Fatalf("session: %v", err)
	}
	w.csrf = s.CSRFToken
}

// do sends a JSON request with the CSRF token and checks the status.
func (w *webAdmin) do(method, path string, body any, want int) []byte {
	w.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, w.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", w.csrf)
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		w.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, out, want)
	}
	return out
}

// A SIP trunk edited through the web API applies at once, without a
// restart: sipp as the provider's registrar (on 127.0.0.2) sees the trunk
// register with its first account, then, when the administrator gives
// the trunk a new account and secret, that registration removed and the
// new account register, each checked against the credentials the provider
// expects; deleting the trunk removes the new registration. Before, the
// API answered 200 and the box went on registering the old account.
func TestTrunkEditAppliesLive(t *testing.T) {
	needSipp(t)
	t.Parallel() // each test has its own daemon, ports and RTP range
	far := farUDP(t)
	accounts := filepath.Join(t.TempDir(), "accounts.csv")
	if err := os.WriteFile(accounts, []byte("SEQUENTIAL\ntrunkuser;old-secret-1\nnewuser;new-secret-2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	carrier := pbxconf.Trunk{Name: "carrier", Kind: pbxconf.KindSIP, Host: "127.0.0.2", Port: far,
		Transport: pbxconf.TransportUDP, Username: "trunkuser", Secret: "old-secret-1", Register: true}
	conf := testPBX()
	conf.Trunks = append(conf.Trunks, carrier)
	// The provider is up before the box registers; it takes two accounts
	// in turn (a registration and its removal each).
	provider := startSipp(t, "127.0.0.1:5060", far, "provider_register.xml", "-i", "127.0.0.2", "-m", "2", "-inf", accounts)
	a := bootTelephonyWith(t, 24200, conf)
	ep := a.telephony().ep
	registered := func(what string) {
		t.Helper()
		eventually(t, 10*time.Second, what, func() bool {
			ts := ep.Trunks()
			return len(ts) == 1 && ts[0].State == sip.TrunkRegistered
		})
	}
	registered("the first account registered")

	admin := newWebAdmin(t, a)
	carrier.Username, carrier.Secret = "newuser", "new-secret-2"
	admin.do(http.MethodPut, "/api/v1/trunks/carrier", carrier, http.StatusOK)
	registered("the new account registered")
	admin.do(http.MethodDelete, "/api/v1/trunks/carrier", nil, http.StatusNoContent)
	if err := provider.wait(); err != nil {
		t.Fatalf("provider: %v", err)
	}
	if ts := ep.Trunks(); len(ts) != 0 {
		t.Errorf("trunks after delete: %+v", ts)
	}
}
