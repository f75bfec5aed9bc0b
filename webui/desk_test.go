package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/telephony/cc/ccevent"
)

// memDesk is a call centre's agents in memory, refusing what the real one
// refuses (state changes while ringing or talking, wrap-up done outside
// wrap-up, call operations without a call), publishing agent.state and
// call events on bus when there is one. firmware/app's test drives the
// real service through the same pages.
type memDesk struct {
	mu     sync.Mutex
	bus    *ccevent.Bus
	agents map[string]*AgentLine
	calls  []string // the operations done, "agent op"
}

func newMemDesk(bus *ccevent.Bus, agents ...string) *memDesk {
	d := &memDesk{bus: bus, agents: map[string]*AgentLine{}}
	for _, a := range agents {
		d.agents[a] = &AgentLine{Agent: a, State: DeskOffline, Since: time.Now()}
	}
	return d
}

func (d *memDesk) line(agent string) (*AgentLine, error) {
	l := d.agents[agent]
	if l == nil {
		return nil, fmt.Errorf("%w: agent %s", ErrNotFound, agent)
	}
	return l, nil
}

func (d *memDesk) set(l *AgentLine, state, reason string) {
	l.State, l.Reason, l.Since = state, reason, time.Now()
	if d.bus != nil {
		d.bus.Publish(ccevent.Event{Type: ccevent.AgentState, Agent: l.Agent, State: state, Reason: reason})
	}
}

func (d *memDesk) AgentLine(ctx context.Context, agent string) (AgentLine, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, err := d.line(agent)
	if err != nil {
		return AgentLine{}, err
	}
	out := *l
	if l.Call != nil {
		c := *l.Call
		out.Call = &c
	}
	return out, nil
}

func (d *memDesk) Login(ctx context.Context, agent, device string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, err := d.line(agent)
	if err != nil {
		return err
	}
	if device != "" {
		l.Device = device
	}
	l.Registered = true
	d.calls = append(d.calls, agent+" login "+device)
	if l.State == DeskOffline {
		d.set(l, DeskReady, "login")
	}
	return nil
}

func (d *memDesk) engaged(l *AgentLine) error {
	if l.State == DeskRinging || l.State == DeskTalking {
		return fmt.Errorf("%w: %s is %s", ErrDeskRefused, l.Agent, l.State)
	}
	return nil
}

func (d *memDesk) Logout(ctx context.Context, agent string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, err := d.line(agent)
	if err == nil {
		err = d.engaged(l)
	}
	if err != nil {
		return err
	}
	l.Device = ""
	d.set(l, DeskOffline, "logout")
	return nil
}

func (d *memDesk) SetState(ctx context.Context, agent, state, reason string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, err := d.line(agent)
	if err == nil {
		err = d.engaged(l)
	}
	if err != nil {
		return err
	}
	d.calls = append(d.calls, agent+" "+state+" "+reason)
	d.set(l, state, reason)
	return nil
}

func (d *memDesk) WrapUpDone(ctx context.Context, agent string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, err := d.line(agent)
	if err != nil {
		return err
	}
	if l.State != DeskWrapUp {
		return fmt.Errorf("%w: not in wrap-up", ErrDeskRefused)
	}
	d.set(l, DeskReady, "wrap-up done")
	return nil
}

func (d *memDesk) Dial(ctx context.Context, agent, number string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, err := d.line(agent)
	if err == nil {
		err = d.engaged(l)
	}
	if err != nil {
		return err
	}
	d.calls = append(d.calls, agent+" dial "+number)
	return nil
}

func (d *memDesk) CallOp(ctx context.Context, agent, op, arg string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, err := d.line(agent)
	if err != nil {
		return err
	}
	if l.Call == nil || l.Call.Ringing {
		return fmt.Errorf("%w: not in a call", ErrDeskRefused)
	}
	d.calls = append(d.calls, strings.TrimSpace(agent+" "+op+" "+arg))
	switch op {
	case DeskHold:
		l.Call.Held = true
	case DeskResume:
		l.Call.Held = false
	case DeskHangup, DeskTransfer:
		l.Call = nil
		d.set(l, DeskWrapUp, "")
	case DeskRecord:
		l.Call.Recorded = arg == "on"
	}
	return nil
}

// ring offers a call to agent (the screen-pop), answer connects it.
func (d *memDesk) ring(agent, number string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.agents[agent]
	l.Call = &DeskCall{ID: "c1", Number: number, Region: "南京", RegionEN: "Nanjing", Group: "售后 After-sales",
		CustomerType: "VIP", Ringing: true, Since: time.Now()}
	d.set(l, DeskRinging, "")
	if d.bus != nil {
		d.bus.Publish(ccevent.Event{Type: ccevent.CallRinging, Call: "c1", Agent: agent, Number: number})
	}
}

func (d *memDesk) answer(agent string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.agents[agent]
	l.Call.Ringing, l.Call.Since, l.Call.Recorded = false, time.Now(), true
	l.Answered++
	d.set(l, DeskTalking, "")
	if d.bus != nil {
		d.bus.Publish(ccevent.Event{Type: ccevent.CallAnswered, Call: "c1", Agent: agent})
	}
}

func (d *memDesk) state(agent string) (string, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.agents[agent].State, d.agents[agent].Reason
}

// TestDeskActions: an agent works its own desk through the forms: logs in
// on a phone, takes a break with a reason, is refused a change while
// ringing (the message on the page, nothing changed), holds and hangs up
// its call, ends wrap-up. Bad input is refused with a message; the work
// number comes from the account, never from the form; the desk needs its
// permission, a session and the CSRF token.
func TestDeskActions(t *testing.T) {
	desk := newMemDesk(nil, "1001", "1002")
	e := newEnv(t, Config{Desk: desk})
	for _, u := range []struct{ login, role, agent string }{
		{"ann", RoleAgent, "1001"}, {"bob", RoleAgent, ""}, {"sue", RoleSupervisor, "1002"}, {"ivy", RoleAgent, "1009"},
	} {
		e.users.add(t, u.login, u.role, u.login+"-password")
		usr, _ := e.users.Get(context.Background(), u.login)
		usr.Agent = u.agent
		if u.login == "sue" {
			usr.Permissions = map[string]bool{"desk": false}
		}
		_ = e.users.Update(context.Background(), usr)
	}
	ann := e.client(t)
	ann.login("ann", "ann-password")
	page := ann.get("/desk")
	wantStatus(t, "GET /desk", page.Code, http.StatusOK, page.Body)
	if !strings.Contains(page.Body.String(), "offline") || !strings.Contains(page.Body.String(), `action="/desk/login"`) {
		t.Fatalf("the desk of an agent signed out:\n%s", page.Body)
	}
	post := func(c *client, path string, vals url.Values, want int) string {
		t.Helper()
		rec := c.form(path, vals)
		if rec.Code != want {
			t.Fatalf("POST %s %v = %d, want %d:\n%s", path, vals, rec.Code, want, rec.Body)
		}
		return rec.Body.String()
	}
	post(ann, "/desk/login", url.Values{"device": {"abc"}}, http.StatusBadRequest)
	if st, _ := desk.state("1001"); st != DeskOffline {
		t.Fatalf("a refused login changed the state to %s", st)
	}
	post(ann, "/desk/login", url.Values{"device": {"202"}, "agent": {"1002"}}, http.StatusSeeOther)
	if st, _ := desk.state("1001"); st != DeskReady || desk.agents["1002"].State != DeskOffline {
		t.Fatalf("after login 1001 is %s and 1002 %s", st, desk.agents["1002"].State)
	}
	if body := post(ann, "/desk/state", url.Values{"state": {"break"}, "reason": {"nap"}}, http.StatusBadRequest); !strings.Contains(body, "Choose a reason") {
		t.Fatalf("a break with an unknown reason:\n%s", body)
	}
	post(ann, "/desk/state", url.Values{"state": {"offline"}}, http.StatusBadRequest)
	post(ann, "/desk/state", url.Values{"state": {"break"}, "reason": {"meal"}}, http.StatusSeeOther)
	if st, r := desk.state("1001"); st != DeskBreak || r != "meal" {
		t.Fatalf("after a break: %s %q", st, r)
	}
	if body := ann.get("/desk").Body.String(); !strings.Contains(body, "on break") || !strings.Contains(body, ">meal<") {
		t.Fatalf("the desk on a break does not say so:\n%s", body)
	}
	post(ann, "/desk/state", url.Values{"state": {"idle"}}, http.StatusSeeOther)
	post(ann, "/desk/call/hold", nil, http.StatusConflict)
	post(ann, "/desk/wrap-up", nil, http.StatusConflict)

	// The screen-pop and the refusal while ringing.
	desk.ring("1001", "02583201234")
	req := ann.get("/desk")
	if b := req.Body.String(); !strings.Contains(b, "02583201234") || !strings.Contains(b, "Nanjing") || !strings.Contains(b, "VIP") {
		t.Fatalf("the screen-pop:\n%s", b)
	}
	if body := post(ann, "/desk/state", url.Values{"state": {"busy"}}, http.StatusConflict); !strings.Contains(body, "while ringing or talking") {
		t.Fatalf("a change while ringing:\n%s", body)
	}
	if st, _ := desk.state("1001"); st != DeskRinging {
		t.Fatalf("a refused change left %s", st)
	}
	desk.answer("1001")
	post(ann, "/desk/call/hold", nil, http.StatusSeeOther)
	if b := ann.get("/desk").Body.String(); !strings.Contains(b, "on hold") || !strings.Contains(b, `action="/desk/call/resume"`) {
		t.Fatalf("a held call:\n%s", b)
	}
	// The script's way: the live part only, refreshed after the action.
	rec := func() *recorder {
		r := newFormRequest("/desk/call/resume", url.Values{csrfField: {ann.csrf}})
		r.Header.Set(deskPartHeader, "1")
		return ann.do(r)
	}()
	if b := rec.Body.String(); rec.Code != http.StatusOK || strings.Contains(b, "<html") || !strings.Contains(b, `action="/desk/call/hold"`) {
		t.Fatalf("the part after resume: %d\n%s", rec.Code, b)
	}
	post(ann, "/desk/call/dtmf", url.Values{"number": {"12#"}}, http.StatusSeeOther)
	post(ann, "/desk/call/dtmf", url.Values{"number": {"12a"}}, http.StatusBadRequest)
	post(ann, "/desk/call/record", url.Values{"on": {"off"}}, http.StatusSeeOther)
	post(ann, "/desk/call/record", url.Values{"on": {"maybe"}}, http.StatusBadRequest)
	if b := post(ann, "/desk/call/transfer", url.Values{"number": {""}}, http.StatusBadRequest); !strings.Contains(b, "Enter a number") {
		t.Fatalf("a transfer to nowhere:\n%s", b)
	}
	post(ann, "/desk/call/hangup", nil, http.StatusSeeOther)
	post(ann, "/desk/call/park", nil, http.StatusNotFound)
	if st, _ := desk.state("1001"); st != DeskWrapUp {
		t.Fatalf("after hanging up: %s", st)
	}
	post(ann, "/desk/wrap-up", nil, http.StatusSeeOther)
	post(ann, "/desk/dial", url.Values{"number": {"13800138000"}}, http.StatusSeeOther)
	post(ann, "/desk/logout", nil, http.StatusSeeOther)
	want := []string{"1001 login 202", "1001 break meal", "1001 idle ", "1001 hold", "1001 resume", "1001 dtmf 12#",
		"1001 record off", "1001 hangup", "1001 dial 13800138000"}
	if !slices.Equal(desk.calls, want) {
		t.Fatalf("operations %q, want %q", desk.calls, want)
	}
	if st, _ := desk.state("1001"); st != DeskOffline {
		t.Fatalf("after logout: %s", st)
	}

	// Without the CSRF token, without a session, without the permission,
	// without a work number, with one the call centre does not know.
	post(ann, "/desk/state", url.Values{csrfField: {"forged"}, "state": {"idle"}}, http.StatusForbidden)
	anon := e.client(t)
	if r := anon.get("/desk"); r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header().Get("Location"), "/login") {
		t.Fatalf("anonymous /desk: %d %s", r.Code, r.Header().Get("Location"))
	}
	sue := e.client(t)
	sue.login("sue", "sue-password")
	if r := sue.get("/desk"); r.Code != http.StatusForbidden {
		t.Fatalf("a supervisor without the desk permission: %d", r.Code)
	}
	post(sue, "/desk/state", url.Values{"state": {"idle"}}, http.StatusForbidden)
	if desk.agents["1002"].State != DeskOffline {
		t.Fatal("a refused supervisor changed 1002")
	}
	ann.api(http.MethodGet, "/api/v1/session", nil)
	u, _ := e.users.Get(context.Background(), "ann")
	u.Permissions = map[string]bool{"desk.outbound": false}
	_ = e.users.Update(context.Background(), u)
	if b := ann.get("/desk").Body.String(); strings.Contains(b, `action="/desk/dial"`) {
		t.Fatal("the dial pad shown without the outbound permission")
	}
	post(ann, "/desk/dial", url.Values{"number": {"13800138000"}}, http.StatusForbidden)
	bob := e.client(t)
	bob.login("bob", "bob-password")
	if b := bob.get("/desk").Body.String(); !strings.Contains(b, "has no work number") {
		t.Fatalf("an agent without a work number:\n%s", b)
	}
	post(bob, "/desk/state", url.Values{"state": {"idle"}}, http.StatusConflict)
	ivy := e.client(t)
	ivy.login("ivy", "ivy-password")
	if b := ivy.get("/desk").Body.String(); !strings.Contains(b, "not an agent of the call centre") {
		t.Fatalf("an unknown work number:\n%s", b)
	}
	post(ivy, "/desk/login", nil, http.StatusNotFound)
	// No call centre running.
	off := newEnv(t, Config{})
	off.users.add(t, "ann", RoleAgent, "ann-password")
	u, _ = off.users.Get(context.Background(), "ann")
	u.Agent = "1001"
	_ = off.users.Update(context.Background(), u)
	c := off.client(t)
	c.login("ann", "ann-password")
	if b := c.get("/desk").Body.String(); !strings.Contains(b, "not running") {
		t.Fatalf("the desk without a call centre:\n%s", b)
	}
}

func newFormRequest(path string, vals url.Values) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, "http://callbox.test"+path, strings.NewReader(vals.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// TestBrowserDesk: an agent's desk in Chromium: the break goes through the
// script without leaving the page; a call ringing the agent pops up on
// the desk from the event stream (the time from Publish to the caller's
// number on the page is logged); the clock ticks; screenshots of the desk
// in both languages on a laptop and a phone, nothing cut off.
func TestBrowserDesk(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	pe := newPagesEnv(t)
	dir := shotDir(t)
	b := startBrowser(t)
	b.navigate(pe.url + "/login")
	b.submitForm("/login", map[string]string{"login": "ann", "password": "ann-password"})
	b.navigate(pe.url + "/desk")
	b.submitForm("/lang/zh-CN", nil)
	b.submitForm("/desk/login", map[string]string{"device": "202"})
	waitFor(t, func() bool { return pe.bus.Subscribers() == 1 })
	// The module loads after the event stream connects on a slow machine.
	waitFor(t, func() bool { return b.evalString(`document.querySelector("[data-desk]").dataset.ready || ""`) == "1" })
	text := func() string { return b.evalString(`document.getElementById("desk").innerText`) }
	// A break through the script: the page stays (marker kept).
	b.eval(`(() => { window.marker = 1; const f = document.querySelector(".break-form"); f.elements.reason.value = "meal"; f.requestSubmit(); return 1 })()`)
	waitFor(t, func() bool { st, r := pe.desk.state("1001"); return st == DeskBreak && r == "meal" })
	waitFor(t, func() bool {
		return strings.Contains(b.evalString(`document.querySelector(".desk-state").innerText`), "用餐")
	})
	if string(b.eval(`window.marker === 1`)) != "true" {
		t.Error("the break reloaded the page")
	}
	b.eval(`document.querySelector("form[action='/desk/state'] input[value=idle]").form.requestSubmit(); 1`)
	waitFor(t, func() bool { st, _ := pe.desk.state("1001"); return st == DeskReady })
	// The screen-pop.
	start := time.Now()
	pe.desk.ring("1001", "02583201234")
	for !strings.Contains(text(), "02583201234") {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("the ringing call is not on the desk: %q", text())
		}
		time.Sleep(2 * time.Millisecond)
	}
	pop := time.Since(start)
	t.Logf("screen-pop: Publish of call.ringing to the number on the page %v", pop)
	waitFor(t, func() bool { return strings.Contains(text(), "南京") }) // the server's card
	pe.desk.answer("1001")
	waitFor(t, func() bool { return strings.Contains(text(), "挂断") })
	before := b.evalString(`document.querySelector("#desk-call .clock").textContent`)
	time.Sleep(2100 * time.Millisecond)
	if after := b.evalString(`document.querySelector("#desk-call .clock").textContent`); after == before {
		t.Errorf("the call's clock does not tick: %q", after)
	}
	for _, lang := range []string{"zh-CN", "en"} {
		b.navigate(pe.url + "/desk")
		b.submitForm("/lang/"+lang, nil)
		for _, vp := range []struct {
			name   string
			w, h   int
			mobile bool
		}{{"laptop", 1366, 768, false}, {"phone", 390, 844, true}} {
			b.viewport(vp.w, vp.h, vp.mobile)
			b.navigate(pe.url + "/desk")
			var problems []string
			b.evalJSON(layoutProblems, &problems)
			for _, p := range problems {
				t.Errorf("%s %s /desk: %s", lang, vp.name, p)
			}
			shot := filepath.Join(dir, fmt.Sprintf("desk-talking-%s-%s.png", lang, vp.name))
			b.screenshot(shot)
			checkPNG(t, shot)
		}
	}
	t.Logf("screenshots in %s", dir)
}
