package app

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/firmware/cli"
	"callbox/firmware/cli/configcli"
	"callbox/firmware/store"
	"callbox/telephony/acd"
	"callbox/telephony/calendar"
	"callbox/telephony/ccconf"
	"callbox/telephony/ivr"
)

// ccDoc is a call-centre document for the simulated board's default PBX
// configuration (FXS extensions 201-204).
func ccDoc() map[string]any {
	return map[string]any{
		"version": 1,
		"groups": []any{
			map[string]any{"id": 1, "name": "Sales", "overflow": map[string]any{"kind": "voicemail", "mailbox": "201"}, "max_wait_s": 120},
			map[string]any{"id": 2, "name": "VIP", "priority": 5},
		},
		"agents": []any{
			map[string]any{"id": "1088", "name": "Li Ming", "pin": "4321", "device": "201", "groups": []any{map[string]any{"group": 1, "skill": 5}}},
			map[string]any{"id": "1089", "name": "Zhang Wei", "device": "202", "groups": []any{map[string]any{"group": 1, "skill": 3}, map[string]any{"group": 2, "skill": 3}}},
		},
		"inbound_routes": []any{
			map[string]any{"name": "ivr", "source": "internal", "number": "8000", "target": map[string]any{"kind": "flow", "flow": "main"}},
		},
		"calendars": []any{map[string]any{"name": "office", "tz": "+08:00", "hours": map[string]any{"daily": "09:00-18:00"}}},
		"flows": []any{map[string]any{"id": "main", "entry": "hours", "nodes": []any{
			map[string]any{"id": "hours", "type": "time", "calendar": "office", "open": "sales", "closed": "night"},
			map[string]any{"id": "sales", "type": "queue", "group": 1, "overflow": "night"},
			map[string]any{"id": "night", "type": "hangup", "prompt": "closed"},
		}}},
	}
}

// nopActions is an acd.Actions that does nothing, as a service with no
// phones would.
type nopActions struct{}

func (nopActions) Ring(acd.RingRequest)                     {}
func (nopActions) StopRing(acd.AgentID, acd.CallID)         {}
func (nopActions) Connect(acd.CallID, acd.AgentID)          {}
func (nopActions) Play(acd.CallID, string)                  {}
func (nopActions) Announce(acd.CallID, int, time.Duration)  {}
func (nopActions) Route(acd.CallID, acd.Target)             {}
func (nopActions) CallBack(acd.CallID, string, acd.AgentID) {}
func (nopActions) Notify(acd.Notice)                        {}

// quietCall answers an IVR flow's requests without audio and logs what the
// flow did.
type quietCall struct {
	mu  sync.Mutex
	log []string
}

func (c *quietCall) add(s string) {
	c.mu.Lock()
	c.log = append(c.log, s)
	c.mu.Unlock()
}
func (c *quietCall) Play(ctx context.Context, p ivr.Prompt) error {
	c.add("play " + p.File)
	return nil
}
func (c *quietCall) Collect(ctx context.Context, req ivr.CollectRequest) (string, error) {
	return "", nil
}
func (c *quietCall) Record(ctx context.Context, req ivr.RecordRequest) (ivr.Recording, error) {
	return ivr.Recording{}, nil
}
func (c *quietCall) Transfer(ctx context.Context, req ivr.TransferRequest) error { return nil }
func (c *quietCall) Queue(ctx context.Context, req ivr.QueueRequest) (ivr.QueueOutcome, error) {
	c.add("queue")
	return ivr.QueueOutcome{Served: true}, nil
}
func (c *quietCall) Voicemail(ctx context.Context, req ivr.VoicemailRequest) error { return nil }
func (c *quietCall) Hangup(ctx context.Context) error                              { c.add("hangup"); return nil }
func (c *quietCall) ReturnToAgent(ctx context.Context, agent string) error         { return nil }

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// followingACD builds an ACD engine on the configuration in force that
// follows every edit as the service's does (its Reconfigure registered
// with onCallCentreChange), for tests with a virtual clock and no phones.
func followingACD(t *testing.T, a *App, clk acd.Clock) *acd.Engine {
	t.Helper()
	e, err := acd.New(a.callCentreSnapshot().ACD(), acd.Options{Clock: clk, Actions: nopActions{}})
	if err != nil {
		t.Fatal(err)
	}
	remove, err := a.onCallCentreChange(func(next *ccconf.Snapshot) (func(), error) {
		prev := e.Config()
		if err := e.Reconfigure(next.ACD()); err != nil {
			return nil, err
		}
		return func() { _ = e.Reconfigure(prev) }, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(remove)
	return e
}

// liveCalendars finds calendars in the configuration in force.
type liveCalendars struct{ a *App }

func (l liveCalendars) Calendar(name string) (*calendar.Calendar, bool) {
	return l.a.callCentreSnapshot().Calendar(name)
}

// followingIVR is an IVR engine over the flows the API saves and the
// calendars in force, on a fixed clock.
func followingIVR(t *testing.T, a *App, now time.Time) *ivr.Engine {
	t.Helper()
	cc, err := a.callCentre()
	if err != nil {
		t.Fatal(err)
	}
	return &ivr.Engine{Flows: cc.flows, Clock: fixedClock(now), Calendars: liveCalendars{a}}
}

// TestCallCentreAPI runs the box and edits the call centre through the web
// API, as an administrator, a supervisor and a request without its CSRF
// token: the whole document, single objects, flows with versions;
// validation errors name the object and field (translated), conflicts name
// the object that depends on what changed, the PBX cannot take away an
// agent's extension, and every edit reaches the ACD and IVR engines the
// service builds, without touching an agent in a call.
func TestCallCentreAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	a, out := newApp(t, Config{Board: "sim"})
	start(t, a)
	c := adminClient(t, a, out)
	clk := acd.NewVirtualClock(time.Date(2026, 11, 18, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	engine := followingACD(t, a, clk)
	ivrEngine := followingIVR(t, a, clk.Now())

	// The whole document; the PIN never comes back.
	doc := c.call("PUT", "/api/v1/call-centre", ccDoc(), http.StatusOK)
	agents := doc["agents"].([]any)
	if a0 := agents[0].(map[string]any); a0["pin_set"] != true || a0["pin_hash"] != nil || a0["pin"] != nil {
		t.Fatalf("agent in the document: %v", a0)
	}
	if flows := doc["flows"].([]any); len(flows) != 1 || flows[0].(map[string]any)["version"] != 1.0 {
		t.Fatalf("flows %v", doc["flows"])
	}
	if _, err := engine.Agent("1089"); err != nil {
		t.Fatalf("the engine did not get the agents: %v", err)
	}
	if svc, _ := a.CallCentre(); svc == nil {
		t.Fatal("no call-centre service running")
	} else if _, err := svc.ACD().Agent("1089"); err != nil {
		t.Fatalf("the running service did not get the agents: %v", err)
	}
	if snap := a.callCentreSnapshot(); snap == nil || len(snap.InternalNumbers()) != 1 {
		t.Fatalf("snapshot %v", snap)
	}
	var call quietCall
	res, err := ivrEngine.Run(context.Background(), &call, ivr.Request{Flow: "main"})
	if err != nil || !slices.Equal(call.log, []string{"queue"}) || res.Version != 1 {
		t.Fatalf("IVR in office hours: %v %q %+v", err, call.log, res)
	}

	// Objects one at a time.
	c.call("POST", "/api/v1/groups", map[string]any{"id": 3, "name": "Support"}, http.StatusCreated)
	g := c.call("GET", "/api/v1/groups/3", nil, http.StatusOK)
	if g["enabled"] != true || g["recording"] != true || g["rule"] != "longest_idle" {
		t.Fatalf("group 3 %v", g)
	}
	c.call("PUT", "/api/v1/agents/1089", map[string]any{"name": "Zhang Wei", "device": "203",
		"groups": []any{map[string]any{"group": 3, "skill": 2}}}, http.StatusOK)
	if ag, _ := engine.Config(), 0; ag.Agents[1].Device != "203" {
		t.Fatalf("the engine did not follow the edit: %+v", ag.Agents[1])
	}
	list := c.call("GET", "/api/v1/agents", nil, http.StatusOK)["agents"].([]any)
	if a0 := list[0].(map[string]any); a0["pin_set"] != true || a0["pin_hash"] != nil {
		t.Fatalf("agent list %v", a0)
	}
	c.call("POST", "/api/v1/calendars", map[string]any{"name": "weekend", "hours": map[string]any{"sat-sun": "10:00-16:00"}}, http.StatusCreated)
	c.call("PUT", "/api/v1/calendars/office", map[string]any{"tz": "+08:00", "hours": map[string]any{"daily": "11:00-18:00"}}, http.StatusOK)
	call = quietCall{}
	if _, err := ivrEngine.Run(context.Background(), &call, ivr.Request{Flow: "main"}); err != nil || !slices.Equal(call.log, []string{"play closed", "hangup"}) {
		t.Fatalf("IVR after the calendar's edit (10:00, opens at 11:00): %v %q", err, call.log)
	}
	c.call("POST", "/api/v1/blacklist", map[string]any{"number": "13000000000", "direction": "both", "note": "骚扰"}, http.StatusCreated)
	if !a.callCentreSnapshot().BlockedIn("+8613000000000") {
		t.Fatal("blacklist entry not in force")
	}
	c.call("DELETE", "/api/v1/blacklist/13000000000", nil, http.StatusNoContent)
	c.call("GET", "/api/v1/blacklist/13000000000", nil, http.StatusNotFound)

	// Refusals, in the user's language, naming object and field.
	c.lang = "zh-CN"
	_, m := c.try("POST", "/api/v1/groups", map[string]any{"id": 4, "name": "x", "overflow": map[string]any{"kind": "group", "group": 9}})
	if m["field"] != "group" || m["reason"] != "cc.ref.group" || !strings.Contains(m["error"].(string), "9") {
		t.Fatalf("overflow to an unknown group: %v", m)
	}
	c.lang = "en"
	st, m := c.try("POST", "/api/v1/groups", map[string]any{"id": 4, "name": "x", "overflow": map[string]any{"kind": "group", "group": 9}})
	if st != http.StatusBadRequest || m["error"] != "Group 4: group: unknown group 9." {
		t.Fatalf("overflow to an unknown group: %d %v", st, m)
	}
	st, m = c.try("POST", "/api/v1/groups", map[string]any{"id": 3, "name": "again"})
	if st != http.StatusConflict || m["field"] != "id" {
		t.Fatalf("group id taken: %d %v", st, m)
	}
	st, m = c.try("DELETE", "/api/v1/groups/1", nil)
	if st != http.StatusConflict || m["reason"] != "cc.ref.group" || !strings.Contains(m["error"].(string), "Agent 1088") {
		t.Fatalf("deleting a group an agent is in: %d %v", st, m)
	}
	st, m = c.try("DELETE", "/api/v1/extensions/201", nil)
	if st != http.StatusConflict || m["error"] != `Conflict with Group 1: mailbox: "201" is not an extension.` || m["field"] != "mailbox" {
		t.Fatalf("deleting the extension a group overflows to: %d %v", st, m)
	}
	st, m = c.try("DELETE", "/api/v1/extensions/203", nil) // 1089 moved to it
	if st != http.StatusConflict || !strings.Contains(m["error"].(string), "Agent 1089") {
		t.Fatalf("deleting an agent's extension: %d %v", st, m)
	}
	st, m = c.try("PUT", "/api/v1/call-centre", map[string]any{"version": 1, "groups": []any{map[string]any{"id": 1}}})
	if st != http.StatusBadRequest || m["field"] != "name" {
		t.Fatalf("whole document with a nameless group: %d %v", st, m)
	}
	if g := c.call("GET", "/api/v1/groups", nil, http.StatusOK)["groups"].([]any); len(g) != 3 {
		t.Fatalf("a refused document changed the groups: %v", g)
	}

	// An agent in a call cannot be removed: the engine refuses, nothing
	// is stored.
	must(t, engine.Login("1088"))
	if out, _, err := engine.Offer(acd.CallInfo{ID: "c1", Number: "13800138000"}); err != nil || out != acd.Queued {
		t.Fatalf("offer %v %v", out, err)
	}
	must(t, engine.Answer("1088", "c1"))
	st, m = c.try("DELETE", "/api/v1/agents/1088", nil)
	if st != http.StatusConflict {
		t.Fatalf("deleting an agent in a call: %d %v", st, m)
	}
	c.call("GET", "/api/v1/agents/1088", nil, http.StatusOK)
	if s, err := engine.Agent("1088"); err != nil || s.State != acd.Talking {
		t.Fatalf("agent in the call after the refusal: %+v %v", s, err)
	}

	// Flows and their versions.
	main := c.call("GET", "/api/v1/flows/main", nil, http.StatusOK)
	main["name"] = "Office"
	delete(main, "version")
	if got := c.call("PUT", "/api/v1/flows/main", main, http.StatusCreated); got["version"] != 2.0 {
		t.Fatalf("saved flow %v", got)
	}
	if got := c.call("PUT", "/api/v1/flows/main", main, http.StatusOK); got["version"] != 2.0 {
		t.Fatalf("unchanged flow %v", got)
	}
	if vs := c.call("GET", "/api/v1/flows/main/versions", nil, http.StatusOK)["versions"].([]any); len(vs) != 2 {
		t.Fatalf("versions %v", vs)
	}
	if v1 := c.call("GET", "/api/v1/flows/main/versions/1", nil, http.StatusOK); v1["name"] != nil {
		t.Fatalf("version 1 %v", v1)
	}
	bad := map[string]any{"id": "other", "entry": "q", "nodes": []any{map[string]any{"id": "q", "type": "queue", "group": 9}}}
	st, m = c.try("POST", "/api/v1/flows", bad)
	if st != http.StatusBadRequest || m["reason"] != "cc.ref.group" {
		t.Fatalf("flow queueing to an unknown group: %d %v", st, m)
	}
	c.call("GET", "/api/v1/flows/other", nil, http.StatusNotFound)
	// A prompt neither uploaded nor a system prompt: refused, naming it.
	bad = map[string]any{"id": "other", "entry": "p", "nodes": []any{map[string]any{"id": "p", "type": "hangup", "prompt": "no-such-prompt"}}}
	st, m = c.try("POST", "/api/v1/flows", bad)
	if st != http.StatusBadRequest || !strings.Contains(m["error"].(string), "no-such-prompt") {
		t.Fatalf("flow naming a missing prompt: %d %v", st, m)
	}
	if fl := c.call("GET", "/api/v1/flows", nil, http.StatusOK)["flows"].([]any); len(fl) != 1 ||
		fl[0].(map[string]any)["version"] != 2.0 || fl[0].(map[string]any)["name"] != "Office" {
		t.Fatalf("flow list %v", fl)
	}

	// CSRF and roles.
	noToken := newWebClient(t, c.base)
	noToken.c.Jar = c.c.Jar
	if st, _ := noToken.try("POST", "/api/v1/groups", map[string]any{"id": 5, "name": "x"}); st != http.StatusForbidden {
		t.Fatalf("POST without the CSRF token: %d", st)
	}
	c.call("POST", "/api/v1/users", map[string]any{"login": "sup", "role": "supervisor", "password": "Kettle-Drum-43"}, http.StatusCreated)
	sup := newWebClient(t, c.base)
	sup.call("GET", "/api/v1/session", nil, http.StatusOK)
	sup.call("POST", "/api/v1/login", map[string]any{"login": "sup", "password": "Kettle-Drum-43"}, http.StatusOK)
	sup.call("GET", "/api/v1/call-centre", nil, http.StatusOK)
	sup.call("GET", "/api/v1/groups", nil, http.StatusOK)
	sup.call("GET", "/api/v1/flows/main", nil, http.StatusOK)
	sup.call("POST", "/api/v1/groups", map[string]any{"id": 5, "name": "x"}, http.StatusForbidden)
	sup.call("PUT", "/api/v1/call-centre", ccDoc(), http.StatusForbidden)
	sup.call("PUT", "/api/v1/flows/main", main, http.StatusForbidden)
}

// TestBootImportCallCentre: callboxd --import with both parts stores them
// and the call centre starts with the file's configuration and flows.
func TestBootImportCallCentre(t *testing.T) {
	doc := map[string]any{
		"version": 1,
		"extensions": []any{
			map[string]any{"number": "201", "name": "FXS 1", "kind": "fxs", "port": 1},
			map[string]any{"number": "202", "name": "FXS 2", "kind": "fxs", "port": 2},
		},
		"trunks":      []any{map[string]any{"name": "pstn1", "kind": "fxo", "port": 1, "default": "201"}},
		"emergency":   []any{"110"},
		"call_centre": ccDoc(),
	}
	doc["call_centre"].(map[string]any)["inbound_routes"] = append(doc["call_centre"].(map[string]any)["inbound_routes"].([]any),
		map[string]any{"name": "pstn", "source": "line", "trunk": "pstn1", "target": map[string]any{"kind": "group", "group": 2}})
	data, _ := json.Marshal(doc)
	path := filepath.Join(t.TempDir(), "box.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	a := newPBXApp(t, Config{Import: path})
	ctx := context.Background()
	if err := a.startPBXConf(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.startCallCentre(ctx); err != nil {
		t.Fatal(err)
	}
	snap := a.callCentreSnapshot()
	if tgt, ok := snap.FromLine("pstn1"); !ok || tgt.Group != 2 {
		t.Fatalf("route from the line: %+v %v", tgt, ok)
	}
	if ag, ok := snap.Agent("1088"); !ok || !ag.CheckPIN("4321") {
		t.Fatalf("agent 1088: %+v", ag)
	}
	if cc, _ := a.callCentre(); len(cc.flows.Versions("main")) != 1 {
		t.Fatal("flow main not loaded")
	}
	// A file whose call centre names an extension the file lacks stops the
	// boot, naming it, with nothing stored.
	delete(doc, "call_centre")
	before := storedPBX(t, a)
	doc["extensions"] = doc["extensions"].([]any)[1:]
	doc["trunks"] = []any{}
	data, _ = json.Marshal(doc)
	os.WriteFile(path, data, 0o600)
	a.cfg.Import = path
	err := a.startPBXConf(ctx)
	if err == nil || !strings.Contains(err.Error(), `ccconf: agent 1088: device: "201" is not an extension`) {
		t.Fatalf("import taking away an agent's extension: %v", err)
	}
	if storedPBX(t, a) != before {
		t.Fatal("a refused import changed the PBX configuration")
	}
}

// TestImportThroughDaemon: `callboxctl config import` served by the daemon
// puts the call centre in force in the running engines, and a refusal by
// the engine (an agent in a call would be removed) stores nothing.
func TestImportThroughDaemon(t *testing.T) {
	a := newPBXApp(t, Config{})
	ctx := context.Background()
	if err := a.startPBXConf(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.startCallCentre(ctx); err != nil {
		t.Fatal(err)
	}
	clk := acd.NewVirtualClock(time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC))
	engine := followingACD(t, a, clk)
	write := func(cc map[string]any) string {
		data, _ := json.Marshal(map[string]any{"call_centre": cc})
		path := filepath.Join(t.TempDir(), "cc.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cmd := configcli.Live(a.pbxConfigCommand())
	run := func(path string) (int, string) {
		var out strings.Builder
		code := cmd.Run(ctx, []string{"import", path}, cli.IO{Out: &out, Err: &out})
		return code, out.String()
	}
	if code, out := run(write(ccDoc())); code != 0 || !strings.Contains(out, "call centre: 2 groups, 2 agents") {
		t.Fatalf("import: %d %s", code, out)
	}
	if _, err := engine.Agent("1088"); err != nil {
		t.Fatalf("engine after the import: %v", err)
	}
	if a.callCentreSnapshot().Config().Agents[0].ID != "1088" {
		t.Fatal("snapshot not published")
	}
	must(t, engine.Login("1088"))
	_, _, err := engine.Offer(acd.CallInfo{ID: "c1", Number: "13800138000"})
	must(t, err)
	must(t, engine.Answer("1088", "c1"))
	without := ccDoc()
	without["agents"] = without["agents"].([]any)[1:]
	var before []byte
	must(t, a.db.View(func(tx *store.Tx) (err error) {
		before, err = tx.Get(store.ACDConfig, []byte("call_centre"))
		return err
	}))
	if code, out := run(write(without)); code != 1 || !strings.Contains(out, "cannot remove 1088") {
		t.Fatalf("import removing an agent in a call: %d %s", code, out)
	}
	var after []byte
	must(t, a.db.View(func(tx *store.Tx) (err error) {
		after, err = tx.Get(store.ACDConfig, []byte("call_centre"))
		return err
	}))
	if string(after) != string(before) {
		t.Fatal("a refused import was stored")
	}
	if len(engine.Config().Agents) != 2 || len(a.callCentreSnapshot().Config().Agents) != 2 {
		t.Fatal("a refused import is in force")
	}
	// Once the call ends the same file goes in.
	must(t, engine.Hangup("c1"))
	if code, out := run(write(without)); code != 0 {
		t.Fatalf("import after the call: %d %s", code, out)
	}
	if len(engine.Config().Agents) != 1 {
		t.Fatal("engine kept the removed agent")
	}
}
