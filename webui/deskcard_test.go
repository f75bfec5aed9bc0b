package webui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"callbox/telephony/cc/ccevent"
	"callbox/telephony/crm"
)

// deskRecordsEnv is a desk over real customer records: alice is agent
// 1001, carol 1002; the records have a category and a communication type.
func deskRecordsEnv(t *testing.T, bus *ccevent.Bus) (*env, *Records, *memDesk, crm.Category, crm.CommType) {
	t.Helper()
	desk := newMemDesk(bus, "1001", "1002")
	cfg := Config{Desk: desk}
	if bus != nil {
		cfg.Events, cfg.Heartbeat = busEvents{bus}, time.Second
	}
	e, rec := recordsEnv(t, cfg)
	e.s.now = time.Now
	for login, agent := range map[string]string{"alice": "1001", "carol": "1002"} {
		u, _ := e.users.Get(context.Background(), login)
		u.Agent = agent
		_ = e.users.Update(context.Background(), u)
	}
	root := crm.Actor{Login: "root", Role: RoleAdmin}
	cat, err := rec.Customers.SaveCategory(root, crm.Category{Name: "居民"})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := rec.Customers.SaveCommType(root, crm.CommType{Name: "咨询"})
	if err != nil {
		t.Fatal(err)
	}
	return e, rec, desk, cat, ct
}

// TestDeskCustomer: the screen-pop of an unknown caller offers the
// new-customer form with the number filled in; a customer without a
// category is refused beside the field and nothing is saved; once saved,
// the next look shows the card (name, company, category), a note written
// on the desk is saved against the call and listed, and the work-order
// link carries the customer and the number. Another agent's private
// contact stays hidden.
func TestDeskCustomer(t *testing.T) {
	e, rec, desk, cat, ct := deskRecordsEnv(t, nil)
	alice := e.as(t, "alice")
	post := func(path string, vals url.Values, want int) string {
		t.Helper()
		r := alice.form(path, vals)
		if r.Code != want {
			t.Fatalf("POST %s %v = %d, want %d:\n%s", path, vals, r.Code, want, r.Body)
		}
		return r.Body.String()
	}
	post("/desk/login", url.Values{"device": {"201"}}, http.StatusSeeOther)
	desk.ring("1001", "13912345678")
	body := alice.get("/desk").Body.String()
	if !strings.Contains(body, `action="/desk/customer"`) || !strings.Contains(body, "13912345678\n</textarea>") {
		t.Fatalf("an unknown caller's screen-pop has no new-customer form with the number:\n%s", body)
	}
	body = post("/desk/customer", url.Values{"name": {"王五"}, "numbers": {"13912345678"}}, http.StatusBadRequest)
	if !strings.Contains(body, `<label class="bad">Category`) || !strings.Contains(body, `value="王五"`) {
		t.Fatalf("a customer without a category: the field is not marked or the form lost:\n%s", body)
	}
	if n, _ := rec.Customers.Lookup(crm.Actor{Login: "root", Role: RoleAdmin}, "13912345678"); len(n) != 0 {
		t.Fatalf("a refused customer was saved: %+v", n)
	}
	post("/desk/customer", url.Values{"category": {strconv.FormatUint(cat.ID, 10)}, "name": {"王五"}, "company": {"南京电力"},
		"numbers": {"13912345678"}}, http.StatusSeeOther)
	desk.answer("1001")
	body = alice.get("/desk").Body.String()
	for _, want := range []string{"王五", "南京电力", "居民", `action="/desk/comm"`, "phone=13912345678"} {
		if !strings.Contains(body, want) {
			t.Fatalf("the card lacks %q:\n%s", want, body)
		}
	}
	found, _ := rec.Customers.Lookup(crm.Actor{Login: "alice", Role: RoleAgent}, "13912345678")
	if len(found) != 1 {
		t.Fatalf("lookup after the save: %+v", found)
	}
	cust := strconv.FormatUint(found[0].ID, 10)
	post("/desk/comm", url.Values{"customer": {cust}, "type": {strconv.FormatUint(ct.ID, 10)}, "call": {"c1"}, "text": {""}},
		http.StatusBadRequest)
	post("/desk/comm", url.Values{"customer": {cust}, "type": {strconv.FormatUint(ct.ID, 10)}, "call": {"c1"},
		"text": {"停电报修，已派单"}}, http.StatusSeeOther)
	comms, err := rec.Customers.Comms(crm.Actor{Login: "root", Role: RoleAdmin}, found[0].ID, 10)
	if err != nil || len(comms) != 1 || comms[0].Call != "c1" || comms[0].Agent != "alice" || comms[0].Text != "停电报修，已派单" {
		t.Fatalf("the note: %+v %v", comms, err)
	}
	if body = alice.get("/desk").Body.String(); !strings.Contains(body, "停电报修，已派单") {
		t.Fatalf("the note is not on the card:\n%s", body)
	}
	// A private contact of carol's with the same number: alice sees only
	// her own customer.
	if _, err := rec.Customers.Create(crm.Actor{Login: "carol", Role: RoleAgent}, crm.Customer{Category: cat.ID, Name: "卡罗私人",
		Private: true, Phones: []crm.Phone{{Number: "13912345678"}}}); err != nil {
		t.Fatal(err)
	}
	if body = alice.get("/desk").Body.String(); strings.Contains(body, "卡罗私人") {
		t.Fatal("another agent's private contact is on the desk")
	}
}

// TestDeskThirdParty: the desk's consultation (consult, then cancel or
// complete), three-way call and prompt, through the forms: each reaches
// the call centre as its operation, the page shows the controls of the
// state the call is in, and a refusal shows the call centre's reason.
func TestDeskThirdParty(t *testing.T) {
	desk := newMemDesk(nil, "1001")
	e := newEnv(t, Config{Desk: desk})
	e.users.add(t, "ann", RoleAgent, "ann-password")
	u, _ := e.users.Get(context.Background(), "ann")
	u.Agent = "1001"
	_ = e.users.Update(context.Background(), u)
	ann := e.client(t)
	ann.login("ann", "ann-password")
	post := func(path string, vals url.Values, want int) string {
		t.Helper()
		r := ann.form(path, vals)
		if r.Code != want {
			t.Fatalf("POST %s %v = %d, want %d:\n%s", path, vals, r.Code, want, r.Body)
		}
		return r.Body.String()
	}
	post("/desk/login", nil, http.StatusSeeOther)
	desk.ring("1001", "13800138000")
	desk.answer("1001")
	if b := ann.get("/desk").Body.String(); !strings.Contains(b, `formaction="/desk/call/consult"`) || !strings.Contains(b, `formaction="/desk/call/invite"`) {
		t.Fatalf("no consult or three-way on a call:\n%s", b)
	}
	post("/desk/call/consult", url.Values{"number": {"x"}}, http.StatusBadRequest)
	post("/desk/call/consult", url.Values{"number": {"1002"}}, http.StatusSeeOther)
	b := ann.get("/desk").Body.String()
	if !strings.Contains(b, `data-third="consult"`) || !strings.Contains(b, `action="/desk/call/complete"`) || strings.Contains(b, `formaction="/desk/call/invite"`) {
		t.Fatalf("the desk while consulting:\n%s", b)
	}
	if b := post("/desk/call/invite", url.Values{"number": {"1003"}}, http.StatusConflict); !strings.Contains(b, "a third party is already in the call") {
		t.Fatalf("a refusal without its reason:\n%s", b)
	}
	post("/desk/call/swap", nil, http.StatusSeeOther)
	if b := ann.get("/desk").Body.String(); !strings.Contains(b, "talking with the caller") || !strings.Contains(b, "Back to the consulted party") {
		t.Fatalf("the desk after a swap:\n%s", b)
	}
	post("/desk/call/swap", nil, http.StatusSeeOther)
	post("/desk/call/drop-third", nil, http.StatusSeeOther)
	post("/desk/call/swap", nil, http.StatusConflict)
	post("/desk/call/invite", url.Values{"number": {"13900001111"}}, http.StatusSeeOther)
	if b := ann.get("/desk").Body.String(); !strings.Contains(b, `data-third="conference"`) {
		t.Fatalf("the desk in a three-way call:\n%s", b)
	}
	post("/desk/call/drop-third", nil, http.StatusSeeOther)
	post("/desk/call/play", url.Values{"prompt": {""}}, http.StatusBadRequest)
	if b := post("/desk/call/play", url.Values{"prompt": {"nosuch"}}, http.StatusBadRequest); !strings.Contains(b, "Choose a prompt") {
		t.Fatalf("an unknown prompt:\n%s", b)
	}
	post("/desk/call/play", url.Values{"prompt": {"survey"}}, http.StatusSeeOther)
	post("/desk/call/consult", url.Values{"number": {"1002"}}, http.StatusSeeOther)
	post("/desk/call/complete", nil, http.StatusSeeOther)
	want := []string{"1001 login ", "1001 consult 1002", "1001 invite 1003", "1001 swap", "1001 swap", "1001 drop-third",
		"1001 swap", "1001 invite 13900001111",
		"1001 drop-third", "1001 play nosuch", "1001 play survey", "1001 consult 1002", "1001 complete"}
	if !slices.Equal(desk.calls, want) {
		t.Fatalf("operations %q, want %q", desk.calls, want)
	}
	if st, _ := desk.state("1001"); st != DeskWrapUp {
		t.Fatalf("after the transfer completed: %s", st)
	}
}

// TestBrowserDeskCustomer: in Chromium, an unknown caller pops up with the
// new-customer form; the agent saves the customer and the card replaces
// the form without leaving the page; a note typed while an event refreshes
// the desk survives the refresh and is saved against the call; the
// consult button of the transfer form posts a consultation.
func TestBrowserDeskCustomer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	bus := ccevent.New(64, nil)
	e, rec, desk, cat, _ := deskRecordsEnv(t, bus)
	desk.agents["1002"].Name = "张伟"
	srv := httptest.NewServer(e.s.Handler())
	t.Cleanup(srv.Close)
	dir := shotDir(t)
	b := startBrowser(t)
	b.navigate(srv.URL + "/login")
	b.submitForm("/login", map[string]string{"login": "alice", "password": "alice-password-1"})
	b.navigate(srv.URL + "/desk")
	b.submitForm("/desk/login", map[string]string{"device": "201"})
	waitFor(t, func() bool { return bus.Subscribers() == 1 })
	waitFor(t, func() bool { return b.evalString(`document.querySelector("[data-desk]").dataset.ready || ""`) == "1" })
	has := func(sel string) bool {
		return string(b.eval(`!!document.querySelector(`+strconv.Quote(sel)+`)`)) == "true"
	}

	desk.ring("1001", "13912345678")
	waitFor(t, func() bool { return has("form.new-customer") })
	if v := b.evalString(`document.querySelector("form.new-customer textarea[name=numbers]").value`); !strings.Contains(v, "13912345678") {
		t.Fatalf("the new customer's numbers: %q", v)
	}
	b.eval(`(() => { window.marker = 1; const f = document.querySelector("form.new-customer");
		f.elements.category.value = "` + strconv.FormatUint(cat.ID, 10) + `"; f.elements.name.value = "王五"; f.requestSubmit(); return 1 })()`)
	waitFor(t, func() bool { return has(".desk-customer h3 a") })
	if got := b.evalString(`document.querySelector(".desk-customer h3 a").textContent`); got != "王五" {
		t.Fatalf("the card's name: %q", got)
	}
	desk.answer("1001")
	waitFor(t, func() bool { return has("form.comm-form") && has("form.transfer-form") })
	b.eval(`document.querySelector("form.comm-form textarea[name=text]").value = "停电报修";
		document.querySelector(".desk-customer").dataset.old = "1"; 1`)
	// An event refreshes the part (the old card is gone): the note being
	// typed stays.
	bus.Publish(ccevent.Event{Type: ccevent.CallHeld, Call: "c1", Agent: "1001"})
	waitFor(t, func() bool { return has("form.comm-form") && !has(".desk-customer[data-old]") })
	if v := b.evalString(`document.querySelector("form.comm-form textarea[name=text]").value`); v != "停电报修" {
		t.Fatalf("the note after a refresh: %q", v)
	}
	b.eval(`document.querySelector("form.comm-form").requestSubmit(); 1`)
	waitFor(t, func() bool {
		return strings.Contains(b.evalString(`document.querySelector(".history.comms").innerText`), "停电报修")
	})
	found, _ := rec.Customers.Lookup(crm.Actor{Login: "root", Role: RoleAdmin}, "13912345678")
	comms, _ := rec.Customers.Comms(crm.Actor{Login: "root", Role: RoleAdmin}, found[0].ID, 5)
	if len(comms) != 1 || comms[0].Call != "c1" {
		t.Fatalf("the note saved: %+v", comms)
	}
	if v := b.evalString(`document.querySelector("form.comm-form textarea[name=text]").value`); v != "" {
		t.Errorf("the saved note is still in the form: %q", v)
	}
	// The colleague search: by pinyin initials, live state, a click fills
	// the transfer's number.
	b.eval(`(() => { const q = document.querySelector("[data-colleague-q]"); q.value = "zw";
		q.dispatchEvent(new Event("input", { bubbles: true })); return 1 })()`)
	waitFor(t, func() bool { return has(`[data-colleagues] li[data-agent="1002"] .st-offline`) })
	if err := desk.Login(context.Background(), "1002", "202"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return has(`[data-colleagues] li[data-agent="1002"] .st-idle`) })
	b.eval(`document.querySelector("[data-pick='1002']").click(); 1`)
	if v := b.evalString(`document.querySelector("form.transfer-form input[name=number]").value`); v != "1002" {
		t.Fatalf("the picked colleague's number: %q", v)
	}
	b.eval(`(() => { const f = document.querySelector("form.transfer-form");
		f.requestSubmit(f.querySelector("[formaction='/desk/call/consult']")); return 1 })()`)
	waitFor(t, func() bool { return has(`[data-third="consult"]`) })
	if string(b.eval(`window.marker === 1`)) != "true" {
		t.Error("the desk's forms reloaded the page")
	}
	for _, vp := range []struct {
		name   string
		w, h   int
		mobile bool
	}{{"laptop", 1366, 768, false}, {"phone", 390, 844, true}} {
		b.viewport(vp.w, vp.h, vp.mobile)
		b.navigate(srv.URL + "/desk")
		var problems []string
		b.evalJSON(layoutProblems, &problems)
		for _, p := range problems {
			t.Errorf("%s /desk with the card: %s", vp.name, p)
		}
		shot := filepath.Join(dir, "desk-card-"+vp.name+".png")
		b.screenshot(shot)
		checkPNG(t, shot)
	}
	t.Logf("screenshots in %s", dir)
}

// TestDeskColleagues: the colleague search finds transfer targets by work
// number, name, pinyin (full or initials, from the start) and group, never
// the agent itself, those ready first, each with its state; it needs the
// desk permission.
func TestDeskColleagues(t *testing.T) {
	desk := newMemDesk(nil, "1001", "1002", "1003", "1004")
	desk.agents["1001"].Name, desk.agents["1002"].Name = "安娜", "张伟"
	desk.agents["1003"].Name, desk.agents["1004"].Name = "李明", "Zhao Li"
	desk.agents["1002"].State, desk.agents["1002"].Reason = DeskBreak, "meal"
	desk.agents["1004"].State = DeskReady
	e := newEnv(t, Config{Desk: desk})
	e.users.add(t, "ann", RoleAgent, "ann-password")
	e.users.add(t, "sue", RoleSupervisor, "sue-password")
	u, _ := e.users.Get(context.Background(), "ann")
	u.Agent = "1001"
	_ = e.users.Update(context.Background(), u)
	ann := e.client(t)
	ann.login("ann", "ann-password")
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"", []string{"1004", "1002", "1003"}},
		{"1002", []string{"1002"}},
		{"100", []string{"1004", "1002", "1003"}},
		{"张", []string{"1002"}},
		{"zhangwei", []string{"1002"}},
		{"zhang wei", []string{"1002"}},
		{"ZW", []string{"1002"}},
		{"lm", []string{"1003"}},
		{"li", []string{"1004", "1003"}},
		{"售后", []string{"1004", "1002", "1003"}},
		{"wz", nil},
		{"安娜", nil},
	} {
		r := ann.getURL("/desk/colleagues?q=" + url.QueryEscape(tc.q))
		if r.Code != http.StatusOK {
			t.Fatalf("q=%q: %d %s", tc.q, r.Code, r.Body)
		}
		var got []string
		for _, part := range strings.Split(r.Body.String(), `data-agent="`)[1:] {
			got = append(got, part[:strings.IndexByte(part, '"')])
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("q=%q: %q, want %q", tc.q, got, tc.want)
		}
	}
	if b := ann.getURL("/desk/colleagues?q=zw").Body.String(); !strings.Contains(b, "on break") || !strings.Contains(b, ">meal<") {
		t.Errorf("a colleague's state:\n%s", b)
	}
	su, _ := e.users.Get(context.Background(), "sue")
	su.Permissions = map[string]bool{"desk": false}
	_ = e.users.Update(context.Background(), su)
	sue := e.client(t)
	sue.login("sue", "sue-password")
	if r := sue.getURL("/desk/colleagues?q=1"); r.Code != http.StatusForbidden {
		t.Errorf("without the desk permission: %d", r.Code)
	}
}

// TestDeskDialCallerID: the dial pad offers the caller IDs the agent may
// present (and the route's own); the chosen one reaches the call centre
// with the number, one the agent may not use is refused with the reason,
// and a malformed one is refused beside the field.
func TestDeskDialCallerID(t *testing.T) {
	desk := newMemDesk(nil, "1001")
	desk.agents["1001"].CallerIDs = []DeskCallerID{{Number: "4008001234", Description: "热线"}}
	e := newEnv(t, Config{Desk: desk})
	e.users.add(t, "ann", RoleAgent, "ann-password")
	u, _ := e.users.Get(context.Background(), "ann")
	u.Agent = "1001"
	_ = e.users.Update(context.Background(), u)
	ann := e.client(t)
	ann.login("ann", "ann-password")
	post := func(vals url.Values, want int) string {
		t.Helper()
		r := ann.form("/desk/dial", vals)
		if r.Code != want {
			t.Fatalf("POST /desk/dial %v = %d, want %d:\n%s", vals, r.Code, want, r.Body)
		}
		return r.Body.String()
	}
	if r := ann.form("/desk/login", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("login: %d", r.Code)
	}
	b := ann.get("/desk").Body.String()
	if !strings.Contains(b, `<select name="caller_id"`) || !strings.Contains(b, `<option value="4008001234">4008001234 · 热线</option>`) {
		t.Fatalf("the dial pad's caller IDs:\n%s", b)
	}
	post(url.Values{"number": {"13800138000"}, "caller_id": {"4008001234"}}, http.StatusSeeOther)
	post(url.Values{"number": {"13800138000"}}, http.StatusSeeOther)
	if b := post(url.Values{"number": {"13800138000"}, "caller_id": {"02588886666"}}, http.StatusConflict); !strings.Contains(b, "may not present 02588886666") {
		t.Fatalf("a caller ID not allowed:\n%s", b)
	}
	post(url.Values{"number": {"13800138000"}, "caller_id": {"40080x"}}, http.StatusBadRequest)
	want := []string{"1001 login ", "1001 dial 13800138000 4008001234", "1001 dial 13800138000"}
	if !slices.Equal(desk.calls, want) {
		t.Fatalf("operations %q, want %q", desk.calls, want)
	}
}
