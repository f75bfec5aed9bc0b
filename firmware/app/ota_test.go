package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/firmware/cli"
	"callbox/firmware/control"
	"callbox/firmware/version"
	"callbox/flash"
	"callbox/webui"
	"callbox/webui/passwd"
)

var otaTestKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, ed25519.SeedSize))

func otaBundle(t *testing.T, version string, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	img := bytes.Repeat([]byte("callbox rootfs "+version+"\n"), size/20+1)[:size]
	src := flash.ImageSource{Name: "rootfs", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(img)), nil }}
	m := flash.Manifest{Version: version, Compatible: []string{"sim"}, Created: time.Now().UTC(), Notes: "test " + version}
	if _, err := flash.WriteBundle(&buf, otaTestKey, m, []flash.ImageSource{src}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// webAdmin logs in to the web admin as a fresh administrator and returns
// a client with its cookies and CSRF token.
type webAdmin struct {
	t    *testing.T
	c    *http.Client
	base string
	csrf string
}

func newWebAdmin(t *testing.T, a *App) *webAdmin {
	t.Helper()
	h, err := passwd.Hash("admin-password")
	if err != nil {
		t.Fatal(err)
	}
	err = storeUsers{a}.Create(context.Background(), webui.User{Login: "admin", Role: webui.RoleAdmin, PasswordHash: h,
		Created: time.Now(), Updated: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	w := &webAdmin{t: t, c: &http.Client{Jar: jar, Timeout: time.Minute}}
	w.relogin(a)
	return w
}

func (w *webAdmin) relogin(a *App) {
	w.t.Helper()
	w.base = "http://" + a.WebAddr()
	var sess map[string]any
	w.do("GET", "/api/v1/session", "", nil, http.StatusOK, &sess)
	w.csrf, _ = sess["csrf_token"].(string)
	var login map[string]any
	w.do("POST", "/api/v1/login", "application/json", strings.NewReader(`{"login":"admin","password":"admin-password"}`), http.StatusOK, &login)
	w.csrf, _ = login["csrf_token"].(string)
}

func (w *webAdmin) do(method, path, ctype string, body io.Reader, want int, out any) {
	w.t.Helper()
	req, err := http.NewRequest(method, w.base+path, body)
	if err != nil {
		w.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("X-CSRF-Token", w.csrf)
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		w.t.Fatalf("%s %s: %s, want %d: %s", method, path, resp.Status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			w.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// doJSON sends body as JSON (nil: no body) and checks the status.
func (w *webAdmin) doJSON(method, path string, body any, want int) {
	w.t.Helper()
	var r io.Reader
	ctype := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			w.t.Fatal(err)
		}
		r, ctype = bytes.NewReader(b), "application/json"
	}
	w.do(method, path, ctype, r, want, nil)
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOTAThroughWebAndControl is the simulated box's whole update flow:
// it boots slot A and marks it good once the store, web and SIP answer;
// a bundle uploaded through the web API lands in slot B with its manifest
// shown; apply restarts the box into B's version, which is marked good
// after its health check; a bundle refused for its signature changes
// nothing; callboxctl's update (the control socket) installs from a file.
func TestOTAThroughWebAndControl(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "ota.pub")
	os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(otaTestKey.Public().(ed25519.PublicKey))), 0o644)
	a, _ := newApp(t, Config{Board: "sim", DataDir: filepath.Join(dir, "data"), SIPAddr: "127.0.0.1:0", OTAKey: keyFile})
	stop := start(t, a)
	waitFor(t, "slot A marked good", 10*time.Second, func() bool { return a.updater().Status().MarkedGood })
	if u := a.updater(); u.Booted() != "A" {
		t.Fatalf("booted %s", u.Booted())
	}
	w := newWebAdmin(t, a)

	// A bundle signed by another key: refused, nothing written.
	_, other, _ := ed25519.GenerateKey(nil)
	var bad bytes.Buffer
	src := flash.ImageSource{Name: "rootfs", Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }}
	flash.WriteBundle(&bad, other, flash.Manifest{Version: "9.0", Compatible: []string{"sim"}}, []flash.ImageSource{src})
	var refused map[string]any
	w.do("POST", "/api/v1/update", "application/octet-stream", bytes.NewReader(bad.Bytes()), http.StatusBadRequest, &refused)
	if !strings.Contains(refused["error"].(string), "signature does not verify") {
		t.Fatalf("refusal: %v", refused)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "ota", "slot-B.img")); err == nil {
		t.Fatal("a refused bundle wrote slot B")
	}

	b := otaBundle(t, "1.1.0", 3<<20)
	var up struct {
		Manifest webui.UpdateManifest `json:"manifest"`
		Status   webui.UpdateStatus   `json:"status"`
	}
	w.do("POST", "/api/v1/update", "application/octet-stream", bytes.NewReader(b), http.StatusOK, &up)
	if up.Manifest.Version != "1.1.0" || up.Status.Pending == nil || up.Status.Slots[1].State != "installed" {
		t.Fatalf("upload answered %+v", up)
	}
	first := a.WebAddr()
	w.do("POST", "/api/v1/update/apply", "application/json", nil, http.StatusOK, nil)
	waitFor(t, "the restart", 10*time.Second, func() bool { return a.WebAddr() != "" && a.WebAddr() != first })
	waitFor(t, "slot B marked good", 10*time.Second, func() bool {
		u := a.updater()
		return u.Booted() == "B" && u.Status().MarkedGood
	})
	if v := (systemInfo{a}).Info(context.Background()).Version; v != "1.1.0" {
		t.Fatalf("after the update the box says version %q", v)
	}
	w.relogin(a)
	var st webui.UpdateStatus
	w.do("GET", "/api/v1/update", "", nil, http.StatusOK, &st)
	if st.Booted != "B" || st.Slots[1].State != "good" || st.Slots[0].State != "good" || st.BootOrder[0] != "B" {
		t.Fatalf("status after the update: %+v", st)
	}

	// callboxctl update FILE --no-reboot, through the control socket.
	file := filepath.Join(dir, "1.2.0.cbx")
	os.WriteFile(file, otaBundle(t, "1.2.0", 1<<20), 0o644)
	var out, errOut bytes.Buffer
	code, err := control.Run(context.Background(), control.Path(a.cfg.DataDir), []string{"update", "--no-reboot", file}, cli.IO{Out: &out, Err: &errOut})
	if err != nil || code != 0 {
		t.Fatalf("update over the control socket: %d %v\n%s%s", code, err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "installed into slot A") || !strings.Contains(out.String(), "1.2.0") {
		t.Fatalf("update printed:\n%s", out.String())
	}
	out.Reset()
	control.Run(context.Background(), control.Path(a.cfg.DataDir), []string{"update", "status"}, cli.IO{Out: &out, Err: &errOut})
	if !strings.Contains(out.String(), "running slot B, version 1.1.0") || !strings.Contains(out.String(), "waiting for apply: 1.2.0") {
		t.Fatalf("update status:\n%s", out.String())
	}
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
}

// ctl runs a command through the daemon's control socket, as callboxctl
// does, and fails the test unless it exits 0.
func ctl(t *testing.T, a *App, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	code, err := control.Run(context.Background(), control.Path(a.cfg.DataDir), args, cli.IO{Out: &out, Err: &errOut})
	if err != nil || code != 0 {
		t.Fatalf("%v: %d %v\n%s%s", args, code, err, out.String(), errOut.String())
	}
	return out.String()
}

// TestUpdateCheck: the scheduled check of an update URL, set on the
// console, reads only the bundle's header and tells the console, the web
// API and the home page that 1.1.0 is available; the stored version floor
// refuses it until lowered; nothing is installed until the web admin asks
// (fetch), and after the update the console says which version is the
// slot's and which the build's. The settings outlive the restart.
func TestUpdateCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "ota.pub")
	os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(otaTestKey.Public().(ed25519.PublicKey))), 0o644)
	b := otaBundle(t, "1.1.0", 2<<20)
	var ranges []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		mu.Unlock()
		http.ServeContent(w, r, "latest.cbx", time.Time{}, bytes.NewReader(b))
	}))
	defer srv.Close()
	a, _ := newApp(t, Config{Board: "sim", DataDir: filepath.Join(dir, "data"), SIPAddr: "127.0.0.1:0", OTAKey: keyFile})
	stop := start(t, a)
	waitFor(t, "slot A marked good", 10*time.Second, func() bool { return a.updater().Status().MarkedGood })
	w := newWebAdmin(t, a)

	var refused map[string]any
	w.do("PUT", "/api/v1/update/settings", "application/json", strings.NewReader(`{"check":{"enabled":true,"url":"file:///etc/passwd","interval_hours":24}}`),
		http.StatusBadRequest, &refused)
	if refused["field"] != "check.url" {
		t.Fatalf("a file URL: %v", refused)
	}
	url := srv.URL + "/latest.cbx"
	if out := ctl(t, a, "update", "schedule", url, "12"); !strings.Contains(out, "every 12 hours") {
		t.Fatal(out)
	}
	waitFor(t, "the check", 10*time.Second, func() bool { return a.updater().LastCheck().Available })
	if lines := strings.Join(consoleHost{a}.Status(), "\n"); !strings.Contains(lines, "update available: version 1.1.0") {
		t.Fatalf("console status:\n%s", lines)
	}
	var st webui.UpdateStatus
	w.do("GET", "/api/v1/update", "", nil, http.StatusOK, &st)
	if st.Check == nil || !st.Check.Available || st.Check.Version != "1.1.0" || st.Pending != nil {
		t.Fatalf("web status: %+v", st)
	}
	req, _ := http.NewRequest("GET", w.base+"/", nil)
	resp, err := w.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	home, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(home), `id="update-available"`) || !strings.Contains(string(home), "1.1.0") {
		t.Fatalf("the home page does not announce 1.1.0:\n%s", home)
	}
	mu.Lock()
	for _, r := range ranges {
		if !strings.HasPrefix(r, "bytes=0-") {
			t.Fatalf("the check asked for %q", r)
		}
	}
	mu.Unlock()
	if _, err := os.Stat(filepath.Join(a.cfg.DataDir, "ota", "slot-B.img")); err == nil {
		t.Fatal("the check wrote slot B")
	}

	// The floor, stored: 1.1.0 becomes not installable.
	ctl(t, a, "update", "floor", "1.2")
	if out := ctl(t, a, "update", "check"); !strings.Contains(out, "not installable here") || !strings.Contains(out, "older than 1.2") {
		t.Fatalf("check under the floor:\n%s", out)
	}
	w.do("POST", "/api/v1/update/fetch", "application/json", nil, http.StatusBadRequest, nil)
	w.doJSON("PUT", "/api/v1/update/settings", map[string]any{"check": map[string]any{"enabled": true, "url": url, "interval_hours": 12}, "floor": ""}, http.StatusOK)
	var check webui.UpdateCheck
	w.do("POST", "/api/v1/update/check", "application/json", nil, http.StatusOK, &check)
	if !check.Available {
		t.Fatalf("check after the floor was cleared: %+v", check)
	}
	var fetched struct {
		Manifest webui.UpdateManifest `json:"manifest"`
		Status   webui.UpdateStatus   `json:"status"`
	}
	w.do("POST", "/api/v1/update/fetch", "application/json", nil, http.StatusOK, &fetched)
	if fetched.Manifest.Version != "1.1.0" || fetched.Status.Pending == nil {
		t.Fatalf("fetch: %+v", fetched)
	}
	first := a.WebAddr()
	ctl(t, a, "update", "apply")
	waitFor(t, "the restart", 10*time.Second, func() bool { return a.WebAddr() != "" && a.WebAddr() != first })
	waitFor(t, "slot B", 10*time.Second, func() bool { u := a.updater(); return u != nil && u.Booted() == "B" })
	v := consoleHost{a}.Version()
	if !strings.Contains(v, "version: 1.1.0 (slot B, simulated") || !strings.Contains(v, "build: callboxd "+version.Version) {
		t.Fatalf("console version after the update:\n%s", v)
	}
	if info := (systemInfo{a}).Info(context.Background()); info.Version != "1.1.0" || info.Slot != "B" || !strings.Contains(info.Build, version.Version) {
		t.Fatalf("web system info: %+v", info)
	}
	if out := ctl(t, a, "update", "schedule"); !strings.Contains(out, url+" every 12 hours") {
		t.Fatalf("the schedule after the restart: %s", out)
	}
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestAfterStop: a part that does not stop in time still lets an asked-for
// reboot happen (before, Run got the stop error, callboxd exited, and its
// supervisor started it again on the slot the update was meant to leave);
// without a reboot the stop error is what Run returns.
func TestAfterStop(t *testing.T) {
	stuck := errors.New("app: stop board: board did not stop: context deadline exceeded")
	for _, tc := range []struct {
		name     string
		reason   error
		stopErrs []error
		reboots  bool
		want     error
	}{
		{"clean stop", nil, nil, false, nil},
		{"clean restart", errRestart, nil, true, errRestart},
		{"stuck at a reboot", errRestart, []error{stuck}, true, errRestart},
		{"stuck at an in-process restart", errRestart, []error{stuck}, false, stuck},
		{"stuck at the end", nil, []error{stuck}, true, stuck},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := afterStop(slog.New(slog.DiscardHandler), tc.reason, tc.stopErrs, tc.reboots)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if tc.want != errRestart && errors.Is(err, errRestart) {
				t.Fatalf("%v: a restart after a failed stop", err)
			}
		})
	}
}
