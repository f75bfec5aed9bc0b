package webui

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// memCC is a CallCentre over a map of raw objects, keyed by kind and key,
// that records what it was sent.
type memCC struct {
	objs map[string]map[string]json.RawMessage
	sent []string
}

func (m *memCC) CCList(ctx context.Context, kind string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	for _, o := range m.objs[kind] {
		out = append(out, o)
	}
	return out, nil
}
func (m *memCC) CCGet(ctx context.Context, kind, key string) (json.RawMessage, error) {
	if o, ok := m.objs[kind][key]; ok {
		return o, nil
	}
	return nil, ErrNotFound
}
func (m *memCC) CCCreate(ctx context.Context, kind string, obj json.RawMessage) (json.RawMessage, error) {
	m.sent = append(m.sent, string(obj))
	return json.RawMessage(`{"id": "1090", "name": "new", "pin_hash": "$argon2id$secret"}`), nil
}
func (m *memCC) CCUpdate(ctx context.Context, kind, key string, obj json.RawMessage) (json.RawMessage, error) {
	m.sent = append(m.sent, string(obj))
	return obj, nil
}
func (m *memCC) CCDelete(ctx context.Context, kind, key string) error { return nil }
func (m *memCC) CCDocument(ctx context.Context) (json.RawMessage, error) {
	return json.RawMessage(`{"version": 1, "agents": [{"id": "1088", "pin_hash": "$argon2id$secret"}, {"id": "1089"}]}`), nil
}
func (m *memCC) CCReplace(ctx context.Context, doc json.RawMessage) (json.RawMessage, error) {
	m.sent = append(m.sent, string(doc))
	return m.CCDocument(ctx)
}
func (m *memCC) FlowList(ctx context.Context) ([]FlowSummary, error) { return nil, nil }
func (m *memCC) FlowGet(ctx context.Context, id string, version int) (json.RawMessage, error) {
	return nil, ErrNotFound
}
func (m *memCC) FlowVersions(ctx context.Context, id string) ([]int, error) { return nil, ErrNotFound }
func (m *memCC) FlowSave(ctx context.Context, id string, flow json.RawMessage) (json.RawMessage, bool, error) {
	return flow, true, nil
}

// TestCallCentrePINsHidden: agents' PIN hashes never leave the API, in a
// single object, a list or the whole document; "pin_set" says whether one
// is set and is dropped from what clients send back.
func TestCallCentrePINsHidden(t *testing.T) {
	cc := &memCC{objs: map[string]map[string]json.RawMessage{CCAgents: {"1088": json.RawMessage(`{"id": "1088", "pin_hash": "$argon2id$secret"}`)}}}
	e := newEnv(t, Config{CallCentre: cc})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	c.login("root", "root-password")
	for _, path := range []string{"/api/v1/agents/1088", "/api/v1/agents", "/api/v1/call-centre"} {
		rec := c.get(path)
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "argon2id") || !strings.Contains(rec.Body.String(), `"pin_set":true`) {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	if st, m := c.api(http.MethodGet, "/api/v1/call-centre", nil); st != 200 || m["agents"].([]any)[1].(map[string]any)["pin_set"] != false {
		t.Fatalf("agent without a PIN: %v", m)
	}
	st, m := c.api(http.MethodPost, "/api/v1/agents", map[string]any{"id": "1090", "pin": "1234", "pin_set": true})
	if st != http.StatusCreated || m["pin_hash"] != nil || m["pin_set"] != true {
		t.Fatalf("create: %d %v", st, m)
	}
	c.api(http.MethodPut, "/api/v1/call-centre", map[string]any{"version": 1, "agents": []any{map[string]any{"id": "1088", "pin_set": true}}})
	for _, s := range cc.sent {
		if strings.Contains(s, "pin_set") {
			t.Fatalf("pin_set passed on: %s", s)
		}
	}
	if !strings.Contains(cc.sent[0], `"pin":"1234"`) {
		t.Fatalf("pin not passed on: %s", cc.sent[0])
	}
}

// TestCallCentreUnavailable: without a CallCentre the routes answer 503.
func TestCallCentreUnavailable(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	c.login("root", "root-password")
	for _, path := range []string{"/api/v1/call-centre", "/api/v1/groups", "/api/v1/flows"} {
		if st, m := c.api(http.MethodGet, path, nil); st != http.StatusServiceUnavailable || m["code"] != "err.cc.unavailable" {
			t.Errorf("%s: %d %v", path, st, m)
		}
	}
}

// TestCallCentreBodyLimit: the whole document and flows may be larger
// than other requests, up to a bound.
func TestCallCentreBodyLimit(t *testing.T) {
	e := newEnv(t, Config{CallCentre: &memCC{}})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	c.login("root", "root-password")
	big := map[string]any{"version": 1, "description": strings.Repeat("x", 200<<10)}
	if st, m := c.api(http.MethodPut, "/api/v1/call-centre", big); st != http.StatusOK {
		t.Fatalf("200 KiB document: %d %v", st, m)
	}
	if st, m := c.api(http.MethodPut, "/api/v1/flows/main", map[string]any{"nodes": strings.Repeat("x", 200<<10)}); st != http.StatusCreated {
		t.Fatalf("200 KiB flow: %d %v", st, m)
	}
	if st, _ := c.api(http.MethodPost, "/api/v1/groups", map[string]any{"name": strings.Repeat("x", 200<<10)}); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("200 KiB group: %d", st)
	}
	huge := map[string]any{"version": 1, "description": strings.Repeat("x", maxDocumentBytes)}
	if st, _ := c.api(http.MethodPut, "/api/v1/call-centre", huge); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("document over the bound: %d", st)
	}
}
