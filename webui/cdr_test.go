package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// memCallLog is a call log of records one minute apart.
type memCallLog struct {
	starts []time.Time
}

func (m memCallLog) CallLog(ctx context.Context, from, to time.Time, limit int) ([]json.RawMessage, time.Time, error) {
	var out []json.RawMessage
	for i, s := range m.starts {
		if s.Before(from) || !to.IsZero() && !s.Before(to) {
			continue
		}
		if len(out) == limit {
			return out, s, nil
		}
		out = append(out, json.RawMessage(fmt.Sprintf(`{"id":"c%d","start":%q}`, i, s.Format(time.RFC3339))))
	}
	return out, time.Time{}, nil
}

// newCDREnv serves /api/v1/cdr over log (nil: no call log).
func newCDREnv(t *testing.T, log CallLog) *env {
	t.Helper()
	e := newEnv(t, Config{CallLog: log})
	for _, u := range [][2]string{{"root", RoleAdmin}, {"sup", RoleSupervisor}, {"ag", RoleAgent}} {
		e.users.add(t, u[0], u[1], u[0]+"-password")
	}
	return e
}

func TestCDRAPI(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	sys := memCallLog{}
	for i := range 5 {
		sys.starts = append(sys.starts, t0.Add(time.Duration(i)*time.Minute))
	}
	e := newCDREnv(t, sys)

	anon := e.client(t)
	anon.session()
	st, m := anon.api(http.MethodGet, "/api/v1/cdr", nil)
	wantStatus(t, "anonymous", st, http.StatusUnauthorized, m)
	ag := e.client(t)
	ag.login("ag", "ag-password")
	st, m = ag.api(http.MethodGet, "/api/v1/cdr", nil)
	wantStatus(t, "agent", st, http.StatusForbidden, m)

	for _, login := range []string{"root", "sup"} {
		c := e.client(t)
		c.login(login, login+"-password")
		st, m = c.api(http.MethodGet, "/api/v1/cdr?from=2026-11-21T09:01:00Z&limit=2", nil)
		wantStatus(t, login+" first page", st, http.StatusOK, m)
		recs, _ := m["records"].([]any)
		if len(recs) != 2 || recs[0].(map[string]any)["id"] != "c1" || m["next"] != "2026-11-21T09:03:00Z" {
			t.Fatalf("%s first page: %v", login, m)
		}
		st, m = c.api(http.MethodGet, "/api/v1/cdr?from=2026-11-21T09:03:00Z&to=2026-11-21T09:04:00Z", nil)
		wantStatus(t, login+" last page", st, http.StatusOK, m)
		if recs, _ := m["records"].([]any); len(recs) != 1 || m["next"] != nil {
			t.Fatalf("%s last page: %v", login, m)
		}
	}

	c := e.client(t)
	c.login("sup", "sup-password")
	for _, tc := range []struct{ query, field, code string }{
		{"from=yesterday", "from", "err.cdr.time"},
		{"to=2026-13-01T00:00:00Z", "to", "err.cdr.time"},
		{"limit=0", "limit", "err.cdr.limit"},
		{"limit=1001", "limit", "err.cdr.limit"},
		{"limit=x", "limit", "err.cdr.limit"},
		{"from=2026-11-21T10:00:00Z&to=2026-11-21T09:00:00Z", "to", "err.cdr.range"},
	} {
		st, m := c.api(http.MethodGet, "/api/v1/cdr?"+tc.query, nil)
		wantStatus(t, tc.query, st, http.StatusBadRequest, m)
		if m["field"] != tc.field || m["code"] != tc.code {
			t.Errorf("%s: %v, want field %s code %s", tc.query, m, tc.field, tc.code)
		}
	}
	st, m = c.api(http.MethodGet, "/api/v1/cdr?from=2030-01-01T00:00:00Z", nil)
	if recs, ok := m["records"].([]any); st != http.StatusOK || !ok || len(recs) != 0 {
		t.Errorf("empty page: %d %v", st, m)
	}
}

func TestCDRUnavailable(t *testing.T) {
	e := newCDREnv(t, nil)
	c := e.client(t)
	c.login("root", "root-password")
	st, m := c.api(http.MethodGet, "/api/v1/cdr", nil)
	wantStatus(t, "no call log", st, http.StatusServiceUnavailable, m)
	if m["code"] != "err.cdr.unavailable" {
		t.Fatalf("code %v", m)
	}
}
