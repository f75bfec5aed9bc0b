package webui

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// fakeSim records the commands the page runs.
type fakeSim struct {
	mu   sync.Mutex
	runs [][]string
}

func (f *fakeSim) Ports() []string { return []string{"fxs1", "fxo1"} }

func (f *fakeSim) Run(ctx context.Context, args []string) (string, string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, args)
	switch {
	case args[0] == "status":
		return "fxs1 (201): on hook\nfxo1: idle\n", "", 0
	case len(args) > 1 && args[1] == "lift":
		return "fxs1 (201): off hook, hears dial\n", "", 0
	}
	return "", "sim: no such thing <b>\n", 2
}

func (f *fakeSim) last() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runs[len(f.runs)-1]
}

func TestSimPage(t *testing.T) {
	sim := &fakeSim{}
	e := newEnv(t, Config{Sim: sim})
	e.users.add(t, "root", RoleAdmin, "root-password")
	e.users.add(t, "ann", RoleAgent, "agent-password")

	anon := e.client(t)
	if rec := anon.get("/sim"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
		t.Fatalf("anonymous GET /sim: %d %v", rec.Code, rec.Header())
	}
	agent := e.client(t)
	agent.login("ann", "agent-password")
	if rec := agent.get("/sim"); rec.Code != http.StatusForbidden {
		t.Fatalf("agent GET /sim: %d", rec.Code)
	}
	if rec := agent.form("/sim", url.Values{"port": {"fxs1"}, "command": {"lift"}}); rec.Code != http.StatusForbidden {
		t.Fatalf("agent POST /sim: %d", rec.Code)
	}

	admin := e.client(t)
	admin.login("root", "root-password")
	rec := admin.get("/sim")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "fxo1: idle") || !strings.Contains(rec.Body.String(), "<option>fxo1</option>") {
		t.Fatalf("admin GET /sim: %d\n%s", rec.Code, rec.Body)
	}
	if home := admin.get("/"); !strings.Contains(home.Body.String(), `href="/sim"`) {
		t.Fatal("the admin's menu has no link to /sim")
	}
	if home := agent.get("/"); strings.Contains(home.Body.String(), `href="/sim"`) {
		t.Fatal("an agent's menu links to /sim")
	}
	rec = admin.form("/sim", url.Values{"port": {"fxs1"}, "command": {"  lift "}})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "fxs1 (201): off hook, hears dial") {
		t.Fatalf("POST lift: %d\n%s", rec.Code, rec.Body)
	}
	if got := sim.runs[len(sim.runs)-2]; strings.Join(got, " ") != "fxs1 lift" {
		t.Fatalf("ran %q", got)
	}
	rec = admin.form("/sim", url.Values{"port": {"fxs1"}, "command": {"frob"}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "no such thing &lt;b&gt;") {
		t.Fatalf("POST frob: %d\n%s", rec.Code, rec.Body)
	}
	n := len(sim.runs)
	if rec := admin.form("/sim", url.Values{"port": {"fxs1"}, "command": {""}}); rec.Code != http.StatusBadRequest || len(sim.runs) != n+1 {
		t.Fatalf("empty command: %d, ran %q", rec.Code, sim.last())
	}
	if rec := admin.form("/sim", url.Values{"port": {"fxs1"}, "command": {"lift"}, csrfField: {"wrong"}}); rec.Code != http.StatusForbidden {
		t.Fatalf("POST with a wrong CSRF token: %d", rec.Code)
	}

	// Without a simulated board there is no such page.
	hw := newEnv(t, Config{})
	hw.users.add(t, "root", RoleAdmin, "root-password")
	c := hw.client(t)
	c.login("root", "root-password")
	if rec := c.get("/sim"); rec.Code != http.StatusNotFound {
		t.Fatalf("GET /sim on hardware: %d", rec.Code)
	}
	if home := c.get("/"); strings.Contains(home.Body.String(), `href="/sim"`) {
		t.Fatal("the menu links to /sim on hardware")
	}
}
