package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

type memInstaller struct {
	doc   json.RawMessage
	reset bool
}

func (m *memInstaller) GetInstaller(ctx context.Context) (json.RawMessage, error) { return m.doc, nil }

func (m *memInstaller) PutInstaller(ctx context.Context, doc json.RawMessage) (json.RawMessage, error) {
	var v map[string]any
	json.Unmarshal(doc, &v)
	if v["zone"] == "bad" {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, &fieldErr{"time.zone", "unknown time zone"})
	}
	m.doc = doc
	return doc, nil
}

func (m *memInstaller) FactoryReset(ctx context.Context) error { m.reset = true; return nil }

func TestInstallerRoutes(t *testing.T) {
	mi := &memInstaller{doc: json.RawMessage(`{"zone":"UTC"}`)}
	e := newEnv(t, Config{Installer: mi})
	e.users.add(t, "root", RoleAdmin, "root-password")
	e.users.add(t, "ag", RoleAgent, "ag-password")
	ag := e.client(t)
	ag.login("ag", "ag-password")
	st, m := ag.api(http.MethodGet, "/api/v1/installer", nil)
	wantStatus(t, "agent", st, http.StatusForbidden, m)
	c := e.client(t)
	c.login("root", "root-password")
	st, m = c.api(http.MethodPut, "/api/v1/installer", map[string]string{"zone": "bad"})
	wantStatus(t, "bad zone", st, http.StatusBadRequest, m)
	wantField(t, "bad zone", m, "time.zone")
	st, m = c.api(http.MethodPut, "/api/v1/installer", map[string]string{"zone": "Asia/Shanghai"})
	wantStatus(t, "zone", st, http.StatusOK, m)
	st, m = c.api(http.MethodGet, "/api/v1/installer", nil)
	if st != http.StatusOK || m["zone"] != "Asia/Shanghai" {
		t.Fatalf("%d %v", st, m)
	}
	st, m = c.api(http.MethodPost, "/api/v1/installer/factory-reset", map[string]string{"confirm": "yes"})
	wantStatus(t, "reset without ERASE", st, http.StatusBadRequest, m)
	if mi.reset {
		t.Fatal("reset without confirmation")
	}
	st, m = c.api(http.MethodPost, "/api/v1/installer/factory-reset", map[string]string{"confirm": "ERASE"})
	wantStatus(t, "reset", st, http.StatusOK, m)
	if !mi.reset {
		t.Fatal("not reset")
	}
}
