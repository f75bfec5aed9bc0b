package webui

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type memTokens struct {
	mu sync.Mutex
	m  map[string]APIToken
}

func (s *memTokens) Tokens(context.Context) ([]APIToken, error) { return nil, nil }
func (s *memTokens) Token(_ context.Context, id string) (APIToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.m[id]
	if !ok {
		return t, ErrNotFound
	}
	return t, nil
}
func (s *memTokens) PutToken(_ context.Context, t APIToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[t.ID] = t
	return nil
}
func (s *memTokens) TokenUsed(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.m[id]
	t.LastUsed = at
	s.m[id] = t
	return nil
}

func TestTokenLifecycle(t *testing.T) {
	store := &memTokens{m: map[string]APIToken{}}
	now := time.Now()
	text, tok, err := NewToken("crm", []string{"sms:send"}, "boss", now)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tok.Hash, text[21:]) || len(tok.Hash) != 64 {
		t.Fatalf("stored %+v", tok)
	}
	_ = store.PutToken(context.Background(), tok)
	if _, err := VerifyToken(context.Background(), store, text, "sms:send", now); err != nil {
		t.Fatal(err)
	}
	if store.m[tok.ID].LastUsed.IsZero() {
		t.Error("last use not recorded")
	}
	// The last character changed (to another one: a random secret may end
	// in "B"), which also tests that its unused low bits are refused.
	last := "B"
	if strings.HasSuffix(text, last) {
		last = "C"
	}
	bad := []string{"", "cbx_", text[:len(text)-1] + last, strings.Replace(text, "cbx_", "cbz_", 1), text + "x", "Bearer " + text}
	for _, b := range bad {
		if _, err := VerifyToken(context.Background(), store, b, "", now); !errors.Is(err, ErrTokenRefused) {
			t.Errorf("token %q: %v", b, err)
		}
	}
	if _, err := VerifyToken(context.Background(), store, text, "events:read", now); !errors.Is(err, ErrTokenRefused) {
		t.Errorf("a scope it lacks: %v", err)
	}
	tok.Revoked = now
	_ = store.PutToken(context.Background(), tok)
	if _, err := VerifyToken(context.Background(), store, text, "", now); !errors.Is(err, ErrTokenRefused) {
		t.Errorf("revoked: %v", err)
	}
	for _, c := range [][]string{nil, {"root"}} {
		if _, _, err := NewToken("x", c, "boss", now); !errors.Is(err, ErrInvalid) {
			t.Errorf("scopes %v: %v", c, err)
		}
	}
	if _, _, err := NewToken(" ", []string{"sms:send"}, "boss", now); !errors.Is(err, ErrInvalid) {
		t.Errorf("blank name: %v", err)
	}
}

func TestScopeTable(t *testing.T) {
	cases := []struct {
		scopes       []string
		method, path string
		want         bool
	}{
		{[]string{"cdr:read"}, "GET", "/api/v1/cdr", true},
		{[]string{"cdr:read"}, "DELETE", "/api/v1/cdr", false},
		{[]string{"cdr:read"}, "GET", "/api/v1/cdrx", false},
		{[]string{"sms:send"}, "POST", "/api/v1/sms/send", true},
		{[]string{"sms:send"}, "GET", "/api/v1/sms/outbox", false},
		{[]string{"sms:read"}, "GET", "/api/v1/sms/settings", false},
		{[]string{"sms:read"}, "GET", "/api/v1/sms/inbox", true},
		{[]string{"config:read"}, "PUT", "/api/v1/extensions/201", false},
		{[]string{"config:read"}, "GET", "/api/v1/extensions/201", true},
		{Scopes(), "GET", "/api/v1/users", false},
		{Scopes(), "POST", "/api/v1/tokens", false},
		{Scopes(), "PUT", "/api/v1/sms/settings", false},
	}
	for _, c := range cases {
		if got := scopeAllows(c.scopes, c.method, c.path); got != c.want {
			t.Errorf("%v %s %s = %v", c.scopes, c.method, c.path, got)
		}
	}
}

// A token acts with its owner's permissions as they are now: an owner
// demoted loses the token what the new role lacks, a disabled or deleted
// owner takes it down (before, a token ran as an administrator whoever
// had made it).
func TestTokenNeverExceedsItsOwner(t *testing.T) {
	e := newEnv(t, Config{Tokens: &memTokens{m: map[string]APIToken{}}})
	e.users.add(t, "boss", RoleAdmin, "boss-password")
	a := e.client(t)
	a.login("boss", "boss-password")
	st, m := a.api(http.MethodPost, "/api/v1/tokens", map[string]any{"name": "crm", "scopes": []string{"cdr:read", "sms:read"}})
	wantStatus(t, "create", st, http.StatusCreated, m)
	text, _ := m["token"].(string)
	bearer := func(path string) (int, map[string]any) {
		req := httptest.NewRequest(http.MethodGet, "http://callbox.test"+path, nil)
		req.Header.Set("Authorization", "Bearer "+text)
		req.RemoteAddr = "192.0.2.77:40000"
		rec := httptest.NewRecorder()
		e.s.Handler().ServeHTTP(rec, req)
		out := map[string]any{}
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	for _, p := range []string{"/api/v1/cdr", "/api/v1/sms/status"} {
		if st, m := bearer(p); st == http.StatusUnauthorized || st == http.StatusForbidden {
			t.Errorf("admin's token: %s = %d %v", p, st, m)
		}
	}
	if st, _ := bearer("/api/v1/users"); st != http.StatusForbidden {
		t.Errorf("outside its scopes: %d", st)
	}
	// Demoted to a supervisor without the call log: the token follows.
	u, _ := e.users.Get(context.Background(), "boss")
	u.Role, u.Permissions = RoleSupervisor, map[string]bool{"logs.all": false}
	if err := e.users.Update(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if st, m := bearer("/api/v1/cdr"); st != http.StatusForbidden || m["reason"] != "logs.all" {
		t.Errorf("demoted owner's token: /api/v1/cdr = %d %v, want 403 logs.all", st, m)
	}
	if st, m := bearer("/api/v1/sms/status"); st == http.StatusUnauthorized || st == http.StatusForbidden {
		t.Errorf("demoted owner still sends SMS: %d %v", st, m)
	}
	u.Disabled = true
	if err := e.users.Update(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if st, _ := bearer("/api/v1/sms/status"); st != http.StatusUnauthorized {
		t.Errorf("disabled owner's token: %d, want 401", st)
	}
	if err := e.users.Delete(context.Background(), "boss"); err != nil {
		t.Fatal(err)
	}
	if st, _ := bearer("/api/v1/sms/status"); st != http.StatusUnauthorized {
		t.Errorf("deleted owner's token: %d, want 401", st)
	}
}
