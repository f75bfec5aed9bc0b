package webui

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/webui/passwd"
)

// TestMain makes password hashing cheap: the tests exercise the flows, not
// argon2id's cost, which webui/passwd covers.
func TestMain(m *testing.M) {
	hashPassword = func(pw string) (string, error) { return passwd.HashParams(pw, 64, 1, 1) }
	os.Exit(renderDiffs(m.Run()))
}

// memUsers is an in-memory Users, following the contract a store adapter
// must: sentinels wrapped with the field named after them.
type memUsers struct {
	mu   sync.Mutex
	m    map[string]User
	full error // when set, writes fail with it (a full disk)
}

func newMemUsers() *memUsers { return &memUsers{m: map[string]User{}} }

func (m *memUsers) Count(ctx context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m), nil
}

func (m *memUsers) Get(ctx context.Context, login string) (User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.m[login]
	if !ok {
		return User{}, fmt.Errorf("mem: %w: login %q", ErrNotFound, login)
	}
	return u, nil
}

func (m *memUsers) List(ctx context.Context) ([]User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []User
	for _, u := range m.m {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Login, b.Login) })
	return out, nil
}

func (m *memUsers) Create(ctx context.Context, u User) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.full != nil {
		return m.full
	}
	if _, ok := m.m[u.Login]; ok {
		return fmt.Errorf("mem: %w: login: taken", ErrConflict)
	}
	if u.PasswordHash == "" {
		return fmt.Errorf("mem: %w: password: no hash", ErrInvalid)
	}
	m.m[u.Login] = u
	return nil
}

func (m *memUsers) Update(ctx context.Context, u User) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.full != nil {
		return m.full
	}
	if _, ok := m.m[u.Login]; !ok {
		return fmt.Errorf("mem: %w: login", ErrNotFound)
	}
	m.m[u.Login] = u
	return nil
}

func (m *memUsers) Delete(ctx context.Context, login string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[login]; !ok {
		return fmt.Errorf("mem: %w: login", ErrNotFound)
	}
	delete(m.m, login)
	return nil
}

// add stores a user with a real password hash, bypassing the server.
func (m *memUsers) add(t testing.TB, login, role, pw string) {
	t.Helper()
	h, err := hashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := m.Create(context.Background(), User{Login: login, DisplayName: strings.ToUpper(login), Role: role,
		PasswordHash: h, Created: now, Updated: now}); err != nil {
		t.Fatal(err)
	}
}

type fakeSystem struct{}

func (fakeSystem) Info(ctx context.Context) SystemInfo {
	return SystemInfo{
		Version: "v0.1.0-test", Uptime: 93784 * time.Second, StoreBytes: 32768, DataFreeBytes: 5 << 30,
		Board: BoardInfo{Name: "sim", Ports: []PortInfo{
			{"fxs1", "fxs", "si3215-sim", "ok, off-hook, forward active"}, {"fxo1", "fxo", "si3050-sim", "ok, on-hook, battery"},
			{"fxo2", "fxo", "si3050-sim", "failed: si3050: fxo2: no isolation link"},
		}},
	}
}

// fakeClock is a settable clock for expiry and throttling tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	s     *Server
	users *memUsers
	clock *fakeClock
}

func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	e := &env{users: newMemUsers(), clock: &fakeClock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}}
	cfg.Users, cfg.System = e.users, fakeSystem{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.now = e.clock.now
	e.s = s
	return e
}

// client drives the handler in process (no sockets, so it runs under -short
// and qemu) and keeps cookies like a browser.
type client struct {
	t    testing.TB
	h    http.Handler
	jar  *cookiejar.Jar
	addr string
	lang string
	csrf string
	tls  bool // requests arrive as over HTTPS
}

var base, _ = url.Parse("http://callbox.test/")

func (e *env) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	// An English browser: most tests check English text; those about the
	// default language (zh-CN) clear lang.
	return &client{t: t, h: e.s.Handler(), jar: jar, addr: "192.0.2.10:40000", lang: "en-US"}
}

func (c *client) do(req *http.Request) *httptest.ResponseRecorder {
	c.t.Helper()
	req.RemoteAddr = c.addr
	if c.tls {
		req.URL.Scheme = "https"
		req.TLS = &tls.ConnectionState{HandshakeComplete: true, ServerName: req.Host}
	}
	if c.lang != "" && req.Header.Get("Accept-Language") == "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	for _, ck := range c.jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	c.jar.SetCookies(req.URL, rec.Result().Cookies())
	return rec
}

// rawGet sends a GET without cookies from addr, as a script would.
func (e *env) rawGet(addr, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "http://callbox.test"+path, nil)
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	e.s.Handler().ServeHTTP(rec, req)
	return rec
}

// csrfFromPage finds the csrf_token hidden field of a rendered form.
func csrfFromPage(t testing.TB, page string) string {
	t.Helper()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page has no csrf_token field:\n%s", page)
	}
	return m[1]
}

func (c *client) get(path string) *httptest.ResponseRecorder {
	c.t.Helper()
	return c.do(httptest.NewRequest(http.MethodGet, base.ResolveReference(&url.URL{Path: path}).String(), nil))
}

func (c *client) getURL(raw string) *httptest.ResponseRecorder {
	c.t.Helper()
	return c.do(httptest.NewRequest(http.MethodGet, "http://callbox.test"+raw, nil))
}

// api sends a JSON request with the client's CSRF token and decodes the
// answer into a map.
func (c *client) api(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		r = strings.NewReader(string(j))
	}
	req := httptest.NewRequest(method, "http://callbox.test"+path, r)
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set(csrfHeader, c.csrf)
	}
	rec := c.do(req)
	m := map[string]any{}
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			c.t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, rec.Body)
		}
	}
	return rec.Code, m
}

// form posts a form, adding the client's CSRF token unless vals has one.
func (c *client) form(path string, vals url.Values) *httptest.ResponseRecorder {
	c.t.Helper()
	if vals == nil {
		vals = url.Values{}
	}
	if !vals.Has(csrfField) {
		vals.Set(csrfField, c.csrf)
	}
	req := httptest.NewRequest(http.MethodPost, "http://callbox.test"+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// session fetches /api/v1/session and keeps its CSRF token.
func (c *client) session() map[string]any {
	c.t.Helper()
	code, m := c.api(http.MethodGet, "/api/v1/session", nil)
	if code != http.StatusOK {
		c.t.Fatalf("GET /api/v1/session = %d %v", code, m)
	}
	c.csrf, _ = m["csrf_token"].(string)
	return m
}

// login logs in through the API and keeps the new CSRF token.
func (c *client) login(login, pw string) {
	c.t.Helper()
	c.session()
	code, m := c.api(http.MethodPost, "/api/v1/login", map[string]string{"login": login, "password": pw})
	if code != http.StatusOK {
		c.t.Fatalf("login %s = %d %v", login, code, m)
	}
	c.csrf = m["csrf_token"].(string)
}

func (c *client) cookie(name string) *http.Cookie {
	u := base
	if c.tls {
		u, name = &url.URL{Scheme: "https", Host: base.Host, Path: "/"}, "__Host-"+name
	}
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

func wantStatus(t testing.TB, what string, got, want int, body any) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status %d, want %d; body %v", what, got, want, body)
	}
}

func wantField(t testing.TB, what string, m map[string]any, field string) {
	t.Helper()
	if m["field"] != field {
		t.Fatalf("%s: field %v, want %q; body %v", what, m["field"], field, m)
	}
	if s, _ := m["error"].(string); s == "" || strings.HasPrefix(s, "err.") {
		t.Fatalf("%s: error message %q is missing or untranslated", what, s)
	}
}

type recorder = httptest.ResponseRecorder

func newJSONRequest(method, path, body string) *http.Request {
	req := httptest.NewRequest(method, "http://callbox.test"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}
