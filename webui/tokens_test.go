package webui

import (
	"context"
	"errors"
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
	bad := []string{"", "cbx_", text[:len(text)-1] + "B", strings.Replace(text, "cbx_", "cbz_", 1), text + "x", "Bearer " + text}
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
