package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fieldErr names a field the way the PBX contract asks (JSONField).
type fieldErr struct{ field, reason string }

func (e *fieldErr) Error() string     { return "mem: " + e.field + ": " + e.reason }
func (e *fieldErr) JSONField() string { return e.field }

// memPBX is an in-memory PBX following the contract a store adapter must
// (the real one is firmware/app's over telephony/pbxconf): objects are JSON,
// keyed by number or name, unknown fields refused, errors wrapping the
// sentinels and naming the field.
type memPBX struct {
	mu   sync.Mutex
	objs map[string][]map[string]any
}

var memFields = map[string][]string{
	PBXExtensions: {"number", "name", "kind", "port", "secret"},
	PBXTrunks:     {"name", "kind", "host", "secret"},
	PBXRoutes:     {"name", "patterns", "trunks"},
}

func (m *memPBX) decode(kind string, raw json.RawMessage) (map[string]any, error) {
	var o map[string]any
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, &fieldErr{"", err.Error()})
	}
	for k := range o {
		if !slices.Contains(memFields[kind], k) {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, &fieldErr{k, "unknown field"})
		}
	}
	key, _ := o[pbxKeyField[kind]].(string)
	if key == "" {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, &fieldErr{pbxKeyField[kind], "required"})
	}
	if o["kind"] == "sip" {
		if s, _ := o["secret"].(string); len(s) < 8 {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, &fieldErr{"secret", "8 characters at least"})
		}
	}
	return o, nil
}

func (m *memPBX) find(kind, key string) int {
	return slices.IndexFunc(m.objs[kind], func(o map[string]any) bool { return o[pbxKeyField[kind]] == key })
}

func (m *memPBX) PBXList(ctx context.Context, kind string) ([]json.RawMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []json.RawMessage
	for _, o := range m.objs[kind] {
		b, _ := json.Marshal(o)
		out = append(out, b)
	}
	return out, nil
}

func (m *memPBX) PBXGet(ctx context.Context, kind, key string) (json.RawMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.find(kind, key)
	if i < 0 {
		return nil, fmt.Errorf("mem: %w: %s", ErrNotFound, key)
	}
	return json.Marshal(m.objs[kind][i])
}

func (m *memPBX) PBXCreate(ctx context.Context, kind string, raw json.RawMessage) (json.RawMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, err := m.decode(kind, raw)
	if err != nil {
		return nil, err
	}
	if m.find(kind, o[pbxKeyField[kind]].(string)) >= 0 {
		return nil, fmt.Errorf("%w: %w", ErrConflict, &fieldErr{pbxKeyField[kind], "taken"})
	}
	m.objs[kind] = append(m.objs[kind], o)
	return json.Marshal(o)
}

func (m *memPBX) PBXUpdate(ctx context.Context, kind, key string, raw json.RawMessage) (json.RawMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.find(kind, key)
	if i < 0 {
		return nil, fmt.Errorf("mem: %w: %s", ErrNotFound, key)
	}
	o, err := m.decode(kind, raw)
	if err != nil {
		return nil, err
	}
	m.objs[kind][i] = o
	return json.Marshal(o)
}

func (m *memPBX) PBXDelete(ctx context.Context, kind, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.find(kind, key)
	if i < 0 {
		return fmt.Errorf("mem: %w: %s", ErrNotFound, key)
	}
	if kind == PBXTrunks && key == "used" {
		return fmt.Errorf("%w: %w", ErrConflict, &fieldErr{"trunks", `route "out" uses it`})
	}
	m.objs[kind] = slices.Delete(m.objs[kind], i, i+1)
	return nil
}

func (m *memPBX) secret(kind, key string) any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.objs[kind][m.find(kind, key)]["secret"]
}

func newPBXEnv(t *testing.T, withPBX bool) (*env, *memPBX) {
	t.Helper()
	e := &env{users: newMemUsers(), clock: &fakeClock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}}
	m := &memPBX{objs: map[string][]map[string]any{}}
	cfg := Config{Users: e.users, System: fakeSystem{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if withPBX {
		cfg.PBX = m
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.now = e.clock.now
	e.s = s
	for _, u := range []struct{ login, role string }{{"root", RoleAdmin}, {"sup", RoleSupervisor}, {"ag", RoleAgent}} {
		e.users.add(t, u.login, u.role, u.login+"-password")
	}
	return e, m
}

func TestPBXAccess(t *testing.T) {
	e, _ := newPBXEnv(t, true)
	anon := e.client(t)
	anon.session()
	for _, kind := range []string{PBXExtensions, PBXTrunks, PBXRoutes} {
		st, m := anon.api(http.MethodGet, "/api/v1/"+kind, nil)
		wantStatus(t, "anonymous "+kind, st, http.StatusUnauthorized, m)
	}
	for _, login := range []string{"sup", "ag"} {
		c := e.client(t)
		c.login(login, login+"-password")
		for _, kind := range []string{PBXExtensions, PBXTrunks, PBXRoutes} {
			st, m := c.api(http.MethodGet, "/api/v1/"+kind, nil)
			wantStatus(t, login+" lists "+kind, st, http.StatusForbidden, m)
			st, m = c.api(http.MethodPost, "/api/v1/"+kind, map[string]any{"name": "x", "number": "201"})
			wantStatus(t, login+" creates "+kind, st, http.StatusForbidden, m)
		}
	}
	// An administrator without the CSRF token is refused.
	c := e.client(t)
	c.login("root", "root-password")
	tok := c.csrf
	c.csrf = ""
	st, m := c.api(http.MethodPost, "/api/v1/extensions", map[string]any{"number": "201", "kind": "fxs"})
	wantStatus(t, "create without CSRF", st, http.StatusForbidden, m)
	if m["code"] != "err.csrf" {
		t.Fatalf("code %v", m["code"])
	}
	c.csrf = "wrong"
	st, m = c.api(http.MethodDelete, "/api/v1/extensions/201", nil)
	wantStatus(t, "delete with a wrong CSRF token", st, http.StatusForbidden, m)
	c.csrf = tok
	st, m = c.api(http.MethodPost, "/api/v1/extensions", map[string]any{"number": "201", "kind": "fxs"})
	wantStatus(t, "create with CSRF", st, http.StatusCreated, m)
}

func TestPBXUnavailable(t *testing.T) {
	e, _ := newPBXEnv(t, false)
	c := e.client(t)
	c.login("root", "root-password")
	st, m := c.api(http.MethodGet, "/api/v1/trunks", nil)
	wantStatus(t, "no PBX", st, http.StatusServiceUnavailable, m)
	if m["code"] != "err.pbx.unavailable" {
		t.Fatalf("code %v", m)
	}
}

func TestPBXCRUD(t *testing.T) {
	e, mem := newPBXEnv(t, true)
	c := e.client(t)
	c.login("root", "root-password")
	ext := map[string]any{"number": "301", "name": "Li", "kind": "sip", "secret": "first-secret"}
	st, m := c.api(http.MethodPost, "/api/v1/extensions", ext)
	wantStatus(t, "create", st, http.StatusCreated, m)
	if m["secret"] != SecretMask || m["number"] != "301" {
		t.Fatalf("created %v: secret must be masked", m)
	}
	st, m = c.api(http.MethodPost, "/api/v1/extensions", ext)
	wantStatus(t, "create twice", st, http.StatusConflict, m)
	wantField(t, "create twice", m, "number")

	rec := c.get("/api/v1/extensions")
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "first-secret") || !strings.Contains(rec.Body.String(), SecretMask) {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
	rec = c.get("/api/v1/extensions/301")
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "first-secret") {
		t.Fatalf("get: %d %s", rec.Code, rec.Body)
	}

	// Updates without a secret, or with the mask, keep the stored one.
	st, m = c.api(http.MethodPut, "/api/v1/extensions/301", map[string]any{"name": "Li Wei", "kind": "sip"})
	wantStatus(t, "update without secret", st, http.StatusOK, m)
	if mem.secret(PBXExtensions, "301") != "first-secret" || m["name"] != "Li Wei" || m["number"] != "301" {
		t.Fatalf("after update: %v, stored secret %v", m, mem.secret(PBXExtensions, "301"))
	}
	st, m = c.api(http.MethodPut, "/api/v1/extensions/301", map[string]any{"number": "301", "kind": "sip", "secret": SecretMask})
	wantStatus(t, "update with the mask", st, http.StatusOK, m)
	if mem.secret(PBXExtensions, "301") != "first-secret" {
		t.Fatal("the mask replaced the secret")
	}
	st, m = c.api(http.MethodPut, "/api/v1/extensions/301", map[string]any{"kind": "sip", "secret": "second-secret"})
	wantStatus(t, "update with a new secret", st, http.StatusOK, m)
	if mem.secret(PBXExtensions, "301") != "second-secret" || m["secret"] != SecretMask {
		t.Fatalf("new secret not stored or shown: %v", m)
	}

	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"renaming", http.MethodPut, "/api/v1/extensions/301", map[string]any{"number": "302", "kind": "sip"}, http.StatusBadRequest, "number"},
		{"short secret", http.MethodPut, "/api/v1/extensions/301", map[string]any{"kind": "sip", "secret": "short"}, http.StatusBadRequest, "secret"},
		{"unknown field", http.MethodPost, "/api/v1/extensions", map[string]any{"number": "305", "colour": "red"}, http.StatusBadRequest, "colour"},
		{"mask as a new secret", http.MethodPost, "/api/v1/trunks", map[string]any{"name": "p", "kind": "sip", "secret": SecretMask}, http.StatusBadRequest, "secret"},
		{"no key", http.MethodPost, "/api/v1/routes", map[string]any{"patterns": []string{"9."}}, http.StatusBadRequest, "name"},
		{"missing", http.MethodGet, "/api/v1/routes/none", nil, http.StatusNotFound, "name"},
		{"update missing", http.MethodPut, "/api/v1/trunks/none", map[string]any{"kind": "fxo"}, http.StatusNotFound, "name"},
		{"delete missing", http.MethodDelete, "/api/v1/extensions/999", nil, http.StatusNotFound, "number"},
	} {
		st, m := c.api(tc.method, tc.path, tc.body)
		wantStatus(t, tc.name, st, tc.status, m)
		wantField(t, tc.name, m, tc.field)
	}
	for _, body := range []string{`[1]`, `null`, `{"number":`, `{} {}`} {
		st, m := c.api(http.MethodPost, "/api/v1/extensions", body)
		wantStatus(t, "body "+body, st, http.StatusBadRequest, m)
	}
	st, m = c.api(http.MethodPost, "/api/v1/extensions", `{"number":"306","kind":"sip","secret":7}`)
	wantStatus(t, "wrong type", st, http.StatusBadRequest, m)

	// A trunk a route still uses cannot go: 409 naming the field.
	st, m = c.api(http.MethodPost, "/api/v1/trunks", map[string]any{"name": "used", "kind": "fxo"})
	wantStatus(t, "create trunk", st, http.StatusCreated, m)
	if rec := c.get("/api/v1/trunks/used"); rec.Header().Get("Content-Type") == "" || rec.Code != http.StatusOK {
		t.Fatalf("get trunk: %d", rec.Code)
	}
	st, m = c.api(http.MethodDelete, "/api/v1/trunks/used", nil)
	wantStatus(t, "delete used trunk", st, http.StatusConflict, m)
	wantField(t, "delete used trunk", m, "trunks")
	if !strings.Contains(m["error"].(string), `route "out" uses it`) {
		t.Fatalf("the reason is lost: %v", m)
	}

	st, m = c.api(http.MethodDelete, "/api/v1/extensions/301", nil)
	wantStatus(t, "delete", st, http.StatusNoContent, m)
	st, m = c.api(http.MethodGet, "/api/v1/extensions/301", nil)
	wantStatus(t, "get deleted", st, http.StatusNotFound, m)

	// Errors follow the language.
	c.lang = "zh-CN"
	st, m = c.api(http.MethodPost, "/api/v1/extensions", map[string]any{"number": "305", "colour": "red"})
	wantStatus(t, "zh", st, http.StatusBadRequest, m)
	if !strings.HasPrefix(m["error"].(string), "字段 colour 无效") {
		t.Fatalf("zh error %v", m)
	}
}
