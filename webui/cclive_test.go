package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeLive records what the API asked of the call centre.
type fakeLive struct {
	mu    sync.Mutex
	calls []string
	err   error // returned by the next operation
}

func (f *fakeLive) log(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
	err := f.err
	f.err = nil
	return err
}

func (f *fakeLive) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return ""
	}
	return f.calls[len(f.calls)-1]
}

func (f *fakeLive) CCAgent(ctx context.Context, actor, agent, op string, req CCRequest) (json.RawMessage, error) {
	if err := f.log(fmt.Sprintf("agent %s %s by %s %+v", agent, op, actor, req)); err != nil {
		return nil, err
	}
	if op == "dial" {
		return json.RawMessage(`{"call":"c9"}`), nil
	}
	return nil, nil
}

func (f *fakeLive) CCCall(ctx context.Context, actor, call, op string, req CCRequest) error {
	return f.log(fmt.Sprintf("call %s %s by %s", call, op, actor))
}

func (f *fakeLive) CCView(ctx context.Context, view string) (json.RawMessage, error) {
	return json.RawMessage(`{"` + view + `":[]}`), f.log("view " + view)
}

func (f *fakeLive) CCExport(ctx context.Context, w io.Writer, what string, from, to time.Time) error {
	fmt.Fprintf(w, "what,hours\n%s,%.0f\n", what, to.Sub(from).Hours())
	return f.log("export " + what)
}

func (f *fakeLive) CCDeskLogin(ctx context.Context, agent, addr string) (bool, error) {
	return true, f.log("desk login " + agent + " from " + addr)
}

func (f *fakeLive) CCDeskLogout(ctx context.Context, agent string) error {
	return f.log("desk logout " + agent)
}

// TestCallCentreLiveRoles calls every live route as each role: anonymous
// requests get 401; an agent runs the agent operations on itself only and
// none of the supervisors'; a supervisor and an administrator run them on
// anyone, except dialling out and DTMF, which are the agent's own; views
// and exports are the supervisors'. Each allowed call reaches the call
// centre with the actor named.
func TestCallCentreLiveRoles(t *testing.T) {
	live := &fakeLive{}
	e := newEnv(t, Config{Live: live})
	e.users.add(t, "root", RoleAdmin, "root-password")
	e.users.add(t, "sup", RoleSupervisor, "sup-password-1")
	e.users.add(t, "1088", RoleAgent, "agent-password-1")
	clients := map[string]*client{"anonymous": e.client(t)}
	clients["anonymous"].session()
	for login, pw := range map[string]string{"root": "root-password", "sup": "sup-password-1", "1088": "agent-password-1"} {
		c := e.client(t)
		c.login(login, pw)
		clients[login] = c
	}
	ops := make([]string, 0, len(CCAgentOps))
	for op := range CCAgentOps {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	for _, op := range ops {
		for _, who := range []string{"anonymous", "1088", "sup", "root"} {
			for _, agent := range []string{"1088", "1099"} {
				want := http.StatusNoContent
				if op == "dial" {
					want = http.StatusOK
				}
				switch {
				case who == "anonymous":
					want = http.StatusUnauthorized
				case who == "1088" && agent != "1088":
					want = http.StatusForbidden
				case who != "1088" && (op == "dial" || op == "dtmf"):
					want = http.StatusForbidden
				}
				path := "/api/v1/cc/agents/" + agent + "/" + op
				st, m := clients[who].api(http.MethodPost, path, nil)
				if st != want {
					t.Errorf("%s as %s: %d %v, want %d", path, who, st, m, want)
					continue
				}
				if st < 300 && live.last() != fmt.Sprintf("agent %s %s by %s %+v", agent, op, who, CCRequest{}) {
					t.Errorf("%s as %s reached the call centre as %q", path, who, live.last())
				}
			}
		}
	}
	for op := range CCCallOps {
		for who, want := range map[string]int{"anonymous": 401, "1088": 403, "sup": 204, "root": 204} {
			path := "/api/v1/cc/calls/c1/" + op
			if st, m := clients[who].api(http.MethodPost, path, nil); st != want {
				t.Errorf("%s as %s: %d %v, want %d", path, who, st, m, want)
			} else if st == 204 && live.last() != "call c1 "+op+" by "+who {
				t.Errorf("%s as %s reached the call centre as %q", path, who, live.last())
			}
		}
	}
	for _, path := range []string{"/api/v1/cc/figures", "/api/v1/cc/waiting", "/api/v1/cc/services", "/api/v1/cc/facts.csv", "/api/v1/cc/status.csv"} {
		for who, want := range map[string]int{"anonymous": 401, "1088": 403, "sup": 200, "root": 200} {
			if rec := clients[who].get(path); rec.Code != want {
				t.Errorf("GET %s as %s: %d %s, want %d", path, who, rec.Code, rec.Body, want)
			}
		}
	}
	if rec := clients["sup"].getURL("/api/v1/cc/facts.csv?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z"); rec.Body.String() != "what,hours\nfacts,24\n" ||
		rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Errorf("facts export: %q %v", rec.Body, rec.Header())
	}
	for _, agent := range []string{"1088", "1099"} {
		for who, want := range map[string]int{"anonymous": 401, "1088": 200, "sup": 200, "root": 200} {
			if who == "1088" && agent != "1088" {
				want = 403
			}
			path := "/api/v1/cc/agents/" + agent
			if rec := clients[who].get(path); rec.Code != want {
				t.Errorf("GET %s as %s: %d %s, want %d", path, who, rec.Code, rec.Body, want)
			} else if want == 200 && live.last() != "view agent:"+agent {
				t.Errorf("GET %s as %s reached the call centre as %q", path, who, live.last())
			}
		}
	}
	if st, m := clients["sup"].api(http.MethodPost, "/api/v1/cc/agents/1088/nap", nil); st != http.StatusNotFound {
		t.Errorf("an operation that is none: %d %v", st, m)
	}
}

// TestCallCentreLiveErrors: the call centre's refusals come back with its
// reason: not found 404, a bad parameter 400 naming the field, refused now
// 409; a body's parameters reach it; without a call centre, 503.
func TestCallCentreLiveErrors(t *testing.T) {
	live := &fakeLive{}
	e := newEnv(t, Config{Live: live})
	e.users.add(t, "sup", RoleSupervisor, "sup-password-1")
	c := e.client(t)
	c.login("sup", "sup-password-1")
	for _, tc := range []struct {
		err    error
		status int
		field  string
		text   string
	}{
		{fmt.Errorf("%w: cc: unknown agent 9999", ErrNotFound), 404, "", "cc: unknown agent 9999"},
		{fmt.Errorf("%w: state: ready, break or busy", ErrInvalid), 400, "state", "state: ready, break or busy"},
		{fmt.Errorf("%w: acd: agent is ringing or talking", ErrConflict), 409, "", "acd: agent is ringing or talking"},
	} {
		live.err = tc.err
		st, m := c.api(http.MethodPost, "/api/v1/cc/agents/1088/state", map[string]any{"state": "break", "reason": "lunch"})
		if st != tc.status || (tc.field != "" && m["field"] != tc.field) || !strings.Contains(m["error"].(string), tc.text) {
			t.Errorf("%v: %d %v", tc.err, st, m)
		}
	}
	c.api(http.MethodPost, "/api/v1/cc/agents/1088/transfer", map[string]any{"target": map[string]any{"kind": "group", "value": "2"}, "consult": true})
	if want := fmt.Sprintf("agent 1088 transfer by sup %+v", CCRequest{Target: CCTarget{Kind: "group", Value: "2"}, Consult: true}); live.last() != want {
		t.Errorf("transfer reached the call centre as %q, want %q", live.last(), want)
	}
	if st, m := c.api(http.MethodPost, "/api/v1/cc/agents/1088/state", map[string]any{"stat": "ready"}); st != 400 || m["field"] != "stat" {
		t.Errorf("unknown field: %d %v", st, m)
	}
	none := newEnv(t, Config{})
	none.users.add(t, "sup", RoleSupervisor, "sup-password-1")
	c = none.client(t)
	c.login("sup", "sup-password-1")
	if st, m := c.api(http.MethodGet, "/api/v1/cc/figures", nil); st != http.StatusServiceUnavailable {
		t.Errorf("without a call centre: %d %v", st, m)
	}
}

// TestDeskBinding: an agent's web login tells the call centre the PC's
// address (to bind the agent to the PC's extension) and its logout undoes
// it; other roles' logins do not.
func TestDeskBinding(t *testing.T) {
	live := &fakeLive{}
	e := newEnv(t, Config{Live: live})
	e.users.add(t, "sup", RoleSupervisor, "sup-password-1")
	e.users.add(t, "1088", RoleAgent, "agent-password-1")
	c := e.client(t)
	c.login("1088", "agent-password-1")
	if live.last() != "desk login 1088 from 192.0.2.10" {
		t.Fatalf("agent's login: %q", live.last())
	}
	c.api(http.MethodPost, "/api/v1/logout", nil)
	if live.last() != "desk logout 1088" {
		t.Fatalf("agent's logout: %q", live.last())
	}
	s := e.client(t)
	s.login("sup", "sup-password-1")
	s.api(http.MethodPost, "/api/v1/logout", nil)
	if live.last() != "desk logout 1088" {
		t.Fatalf("a supervisor's login reached the desk binding: %q", live.last())
	}
}
