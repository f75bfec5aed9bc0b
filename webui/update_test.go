package webui

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// memUpdates consumes uploads the way the firmware does: streamed through
// a hash, nothing kept.
type memUpdates struct {
	mu       sync.Mutex
	got      int64
	sum      hash.Hash
	fail     error
	pending  *UpdateManifest
	applied  bool
	settings UpdateSettings
	check    *UpdateCheck
	fetched  bool
}

func (m *memUpdates) UpdateStatus(ctx context.Context) UpdateStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	return UpdateStatus{Available: true, Board: "sim", Simulated: true, Booted: "A", Version: "1.0.0", Build: "dev (commit x)",
		BootOrder: []string{"A", "B"}, Floor: m.settings.Floor,
		Slots: []UpdateSlot{{Name: "A", Booted: true, Version: "1.0.0", State: "good", AttemptsLeft: 3},
			{Name: "B", Version: "1.1.0", State: "installed"}}, Pending: m.pending, Check: m.check}
}

// settingErr is a refused setting with a reason code, as firmware/ota's.
type settingErr struct {
	field, code string
	args        []any
}

func (e *settingErr) Error() string               { return "mem: " + e.field + ": refused" }
func (e *settingErr) JSONField() string           { return e.field }
func (e *settingErr) ReasonCode() (string, []any) { return e.code, e.args }

func (m *memUpdates) UpdateSettings(ctx context.Context) (UpdateSettings, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.settings, nil
}

func (m *memUpdates) SetUpdateSettings(ctx context.Context, s UpdateSettings) error {
	switch {
	case s.Check.IntervalHours < 1:
		return fmt.Errorf("%w: %w", ErrInvalid, &settingErr{"check.interval_hours", "ota.interval", []any{720}})
	case s.Check.Enabled && !strings.HasPrefix(s.Check.URL, "http"):
		return fmt.Errorf("%w: %w", ErrInvalid, &settingErr{"check.url", "ota.url.format", []any{s.Check.URL}})
	case s.Floor == "latest":
		return fmt.Errorf("%w: %w", ErrInvalid, &settingErr{"floor", "ota.floor", []any{s.Floor}})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settings = s
	return nil
}

func (m *memUpdates) CheckUpdate(ctx context.Context) UpdateCheck {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := UpdateCheck{URL: m.settings.Check.URL, At: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), Available: true, Version: "1.1.0", Notes: "faster"}
	if m.settings.Check.URL == "" {
		r = UpdateCheck{At: r.At, Error: "no update URL is set"}
	}
	m.check = &r
	return r
}

func (m *memUpdates) FetchUpdate(ctx context.Context) (UpdateManifest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.check == nil || !m.check.Available {
		return UpdateManifest{}, fmt.Errorf("%w: ota: refused: no update was found available; check first", ErrInvalid)
	}
	mf := UpdateManifest{Version: m.check.Version, Compatible: []string{"sim"}, Notes: m.check.Notes}
	m.pending, m.fetched = &mf, true
	return mf, nil
}

func (m *memUpdates) InstallUpdate(ctx context.Context, r io.Reader, size int64) (UpdateManifest, error) {
	if m.fail != nil {
		return UpdateManifest{}, m.fail
	}
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return UpdateManifest{}, err
	}
	mf := UpdateManifest{Version: "1.1.0", Compatible: []string{"sim"}, Created: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Images: []UpdateImage{{Name: "rootfs", Size: n, SHA256: fmt.Sprintf("%x", h.Sum(nil))}}}
	m.mu.Lock()
	m.got, m.sum, m.pending = n, h, &mf
	m.mu.Unlock()
	return mf, nil
}

func (m *memUpdates) ApplyUpdate(ctx context.Context) (UpdateManifest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pending == nil {
		return UpdateManifest{}, fmt.Errorf("ota: no installed update to apply")
	}
	m.applied = true
	return *m.pending, nil
}

func newUpdateEnv(t *testing.T) (*env, *memUpdates) {
	u := &memUpdates{}
	e := newEnv(t, Config{Updates: u})
	e.users.add(t, "root", RoleAdmin, "root-password")
	e.users.add(t, "sup", RoleSupervisor, "sup-password")
	e.users.add(t, "ag", RoleAgent, "ag-password")
	return e, u
}

// upload posts body as a bundle with the client's CSRF token.
func (c *client) upload(body io.Reader, size int64, contentType string) (int, string) {
	c.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://callbox.test/api/v1/update", body)
	req.ContentLength = size
	req.Header.Set("Content-Type", contentType)
	if c.csrf != "" {
		req.Header.Set(csrfHeader, c.csrf)
	}
	rec := c.do(req)
	return rec.Code, rec.Body.String()
}

// zeros yields n zero bytes without holding them.
type zeros struct{ left int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), z.left))
	clear(p[:n])
	z.left -= int64(n)
	return n, nil
}

func TestUpdateAccess(t *testing.T) {
	e, u := newUpdateEnv(t)
	anon := e.client(t)
	anon.session()
	st, m := anon.api(http.MethodGet, "/api/v1/update", nil)
	wantStatus(t, "anonymous status", st, http.StatusUnauthorized, m)
	code, _ := anon.upload(strings.NewReader("bundle"), 6, "application/octet-stream")
	wantStatus(t, "anonymous upload", code, http.StatusUnauthorized, nil)
	for _, login := range []string{"sup", "ag"} {
		c := e.client(t)
		c.login(login, login+"-password")
		st, m := c.api(http.MethodGet, "/api/v1/update", nil)
		wantStatus(t, login+" status", st, http.StatusForbidden, m)
		code, body := c.upload(strings.NewReader("bundle"), 6, "application/octet-stream")
		wantStatus(t, login+" upload", code, http.StatusForbidden, body)
		if rec := c.get("/update"); rec.Code != http.StatusForbidden {
			t.Fatalf("%s GET /update = %d", login, rec.Code)
		}
	}
	c := e.client(t)
	c.login("root", "root-password")
	tok := c.csrf
	c.csrf = ""
	code, body := c.upload(strings.NewReader("bundle"), 6, "application/octet-stream")
	wantStatus(t, "upload without CSRF", code, http.StatusForbidden, body)
	c.csrf = tok
	code, body = c.upload(strings.NewReader(`{"a":1}`), 7, "application/json")
	wantStatus(t, "upload as JSON", code, http.StatusUnsupportedMediaType, body)
	if u.got != 0 {
		t.Fatal("a refused upload reached the updater")
	}
}

// TestUpdateUploadFlat uploads a 200 MiB bundle through the handler: it
// arrives whole, and the heap does not grow with it.
func TestUpdateUploadFlat(t *testing.T) {
	e, u := newUpdateEnv(t)
	c := e.client(t)
	c.login("root", "root-password")
	const size = 200 << 20
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	code, body := c.upload(&zeros{left: size}, size, "application/octet-stream")
	wantStatus(t, "upload", code, http.StatusOK, body)
	runtime.ReadMemStats(&ms)
	if u.got != size {
		t.Fatalf("the updater got %d bytes of %d", u.got, size)
	}
	// Everything allocated during the request, not just what is live: a
	// copy of the body anywhere would show.
	if alloc := ms.TotalAlloc - before; alloc > 16<<20 {
		t.Fatalf("the upload allocated %d bytes for a %d byte bundle", alloc, size)
	}
	if !strings.Contains(body, `"version":"1.1.0"`) {
		t.Fatalf("answer %s", body)
	}
	// The page shows the manifest; the form applies it.
	rec := c.get("/update")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "1.1.0") || !strings.Contains(rec.Body.String(), `action="/update/apply"`) {
		t.Fatalf("GET /update = %d\n%s", rec.Code, rec.Body)
	}
	rec = c.form("/update/apply", url.Values{})
	if rec.Code != http.StatusOK || !u.applied {
		t.Fatalf("apply = %d, applied %v", rec.Code, u.applied)
	}
}

func TestUpdateErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		key  string
	}{
		{fmt.Errorf("%w: flash: bundle refused: signature does not verify", ErrInvalid), http.StatusBadRequest, "err.update.refused"},
		{fmt.Errorf("%w: ota: an update is already being installed", ErrConflict), http.StatusConflict, "err.update.busy"},
		{fmt.Errorf("flash: bundle damaged: image rootfs: sha256 mismatch"), http.StatusUnprocessableEntity, "err.update.failed"},
	} {
		e, u := newUpdateEnv(t)
		u.fail = tc.err
		c := e.client(t)
		c.login("root", "root-password")
		code, body := c.upload(strings.NewReader("bundle"), 6, "application/octet-stream")
		if code != tc.code || !strings.Contains(body, tc.key) || !strings.Contains(body, "signature does not verify") && tc.code == http.StatusBadRequest {
			t.Errorf("%v: %d %s", tc.err, code, body)
		}
	}
	e, _ := newUpdateEnv(t)
	c := e.client(t)
	c.login("root", "root-password")
	st, m := c.api(http.MethodPost, "/api/v1/update/apply", nil)
	wantStatus(t, "apply with nothing installed", st, http.StatusConflict, m)
}

func TestUpdateUnavailable(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	c.login("root", "root-password")
	st, m := c.api(http.MethodGet, "/api/v1/update", nil)
	wantStatus(t, "no updater", st, http.StatusServiceUnavailable, m)
}

func TestBodyLimit(t *testing.T) {
	for _, tc := range []struct {
		method, path, ctype string
		want                int64
	}{
		{"POST", "/api/v1/update", "application/octet-stream", MaxUpdateBytes},
		{"POST", "/api/v1/update", "multipart/form-data; boundary=x", maxBodyBytes},
		{"POST", "/api/v1/update/apply", "application/octet-stream", maxBodyBytes},
		{"PUT", "/api/v1/update", "application/octet-stream", maxBodyBytes},
		{"POST", "/api/v1/users", "application/octet-stream", maxBodyBytes},
	} {
		req := httptest.NewRequest(tc.method, "http://callbox.test"+tc.path, nil)
		req.Header.Set("Content-Type", tc.ctype)
		if got := bodyLimit(req); got != tc.want {
			t.Errorf("%s %s %s: limit %d, want %d", tc.method, tc.path, tc.ctype, got, tc.want)
		}
	}
}
