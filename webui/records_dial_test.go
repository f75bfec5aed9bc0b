package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"callbox/telephony/crm"
	"callbox/telephony/crm/workorder"
)

// fakeOrderDial is Records.Dial for the tests: it notes the calls and
// refuses the number 999.
type fakeOrderDial struct {
	mu    sync.Mutex
	calls []string // "agent number order"
}

func (f *fakeOrderDial) dial(ctx context.Context, agent, number string, order uint64) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if number == "999" {
		return "", fmt.Errorf("%w: 999 is on the outbound blacklist", ErrDeskRefused)
	}
	f.calls = append(f.calls, fmt.Sprintf("%s %s %d", agent, number, order))
	return fmt.Sprintf("cc-%d", len(f.calls)), nil
}

// callRecs is crm.Recordings with one recording, of call cc-1.
type callRecs struct{}

func (callRecs) CallRecordings(calls []string) ([]crm.Recording, error) {
	for _, c := range calls {
		if c == "cc-1" {
			return []crm.Recording{{ID: "r1", Call: "cc-1", URL: "/api/v1/recordings/r1/audio"}}, nil
		}
	}
	return nil, nil
}

// orderEnv is a records environment with calls from orders and an
// enquiry order alice opened for 张三.
func orderEnv(t *testing.T, cfg Config) (*env, *fakeOrderDial, uint64) {
	t.Helper()
	e, rec := recordsEnv(t, cfg)
	fd := &fakeOrderDial{}
	rec.Dial, rec.Recordings = fd.dial, callRecs{}
	cats, err := rec.Orders.Categories()
	if err != nil {
		t.Fatal(err)
	}
	var cat uint64
	for _, c := range cats {
		if c.Name == "电价咨询" {
			cat = c.ID
		}
	}
	o, err := rec.Orders.Create(crm.Actor{Login: "alice", Role: RoleAgent}, workorder.NewOrder{Category: cat,
		Description: "询问电价", Contact: "张三", Phone: "13800138000"})
	if err != nil {
		t.Fatal(err)
	}
	return e, fd, o.ID
}

// Calls from a work order: an agent calls the customer from the order's
// page or the API, the box is asked to dial for the agent, and the call
// is linked to the order, whose page then plays its recording; a refused
// number says why and links nothing; a user who is no agent is told to
// sign in to the desk; a bad number is refused before any call.
func TestOrderDial(t *testing.T) {
	e, fd, oid := orderEnv(t, Config{})
	alice, boss := e.as(t, "alice"), e.as(t, "boss")
	path := fmt.Sprintf("/workorders/%d", oid)
	if page := alice.get(path).Body.String(); !strings.Contains(page, `id="dial-customer"`) || !strings.Contains(page, "Call the customer (13800138000)") {
		t.Fatalf("the page offers no call:\n%s", page)
	}
	r := alice.form(path+"/dial", url.Values{"number": {"13800138000"}})
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != path+"?msg=dialled" {
		t.Fatalf("dial from the page: %d %s", r.Code, r.Body)
	}
	code, m := alice.api(http.MethodPost, "/api/v1"+path+"/dial", map[string]any{"number": "02584561234"})
	wantStatus(t, "dial from the API", code, http.StatusCreated, m)
	if calls, _ := m["calls"].([]any); len(calls) != 2 || calls[1].(map[string]any)["call"] != "cc-2" || calls[1].(map[string]any)["number"] != "02584561234" {
		t.Fatalf("the order's calls: %v", m["calls"])
	}
	code, m = alice.api(http.MethodPost, "/api/v1"+path+"/dial", map[string]any{"number": "999"})
	wantStatus(t, "a refused number", code, http.StatusConflict, m)
	if !strings.Contains(fmt.Sprint(m), "blacklist") {
		t.Fatalf("the refusal does not say why: %v", m)
	}
	code, m = alice.api(http.MethodPost, "/api/v1"+path+"/dial", map[string]any{"number": "12ab"})
	wantStatus(t, "a bad number", code, http.StatusBadRequest, m)
	wantField(t, "a bad number", m, "number")
	code, m = boss.api(http.MethodPost, "/api/v1"+path+"/dial", map[string]any{"number": "13800138000"})
	wantStatus(t, "a supervisor without a desk", code, http.StatusConflict, m)
	code, m = alice.api(http.MethodPost, "/api/v1/workorders/999/dial", map[string]any{"number": "13800138000"})
	wantStatus(t, "no such order", code, http.StatusNotFound, m)
	if want := fmt.Sprintf("[alice 13800138000 %d alice 02584561234 %d]", oid, oid); fmt.Sprint(fd.calls) != want {
		t.Fatalf("calls placed %v, want %s", fd.calls, want)
	}
	page := alice.get(path).Body.String()
	if !strings.Contains(page, `<audio controls preload="none" src="/api/v1/recordings/r1/audio"></audio>`) ||
		!strings.Contains(page, `<tr data-call="cc-2">`) || strings.Count(page, "<audio") != 1 {
		t.Fatalf("the order's calls on its page:\n%s", page)
	}
	// Without the firmware's dialler the page offers no call and the API says why.
	e.s.cfg.Records.Dial = nil
	if page := alice.get(path).Body.String(); strings.Contains(page, `id="dial-customer"`) {
		t.Fatal("a call is offered with no dialler")
	}
	code, m = alice.api(http.MethodPost, "/api/v1"+path+"/dial", map[string]any{"number": "13800138000"})
	wantStatus(t, "no dialler", code, http.StatusConflict, m)
}

// TestBrowserOrderDial: in Chromium, in the box's default language, an
// agent presses "回呼客户" on a work order, is told the phone rings, and
// the order lists the call with its recording's player.
func TestBrowserOrderDial(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	e, fd, oid := orderEnv(t, Config{Addr: "127.0.0.1:0"})
	box := startServer(t, e)
	b := startBrowser(t, "--lang=zh-CN", "--accept-lang=zh-CN")
	b.navigate(box + "/lang/zh-CN?next=/login")
	b.submitForm("/login", map[string]string{"login": "alice", "password": "alice-password-1"})
	b.navigate(fmt.Sprintf("%s/workorders/%d", box, oid))
	if got := b.evalString(`document.querySelector('#dial-customer button').textContent.trim()`); got != "回呼客户（13800138000）" {
		t.Fatalf("the call button reads %q", got)
	}
	b.drainEvents()
	b.eval(`document.querySelector('#dial-customer button').click()`)
	b.waitLoad()
	if got := b.evalString(`(document.querySelector('p.notice') || {textContent: ''}).textContent`); got != "您的话机正在振铃，摘机后设备将拨打该号码。" {
		t.Fatalf("after the click: %q at %s", got, b.evalString("location.href"))
	}
	if got := b.evalString(`(document.querySelector('#calls audio') || {src: ''}).src`); got != box+"/api/v1/recordings/r1/audio" {
		t.Fatalf("the recording's player: %q", got)
	}
	if fmt.Sprint(fd.calls) != fmt.Sprintf("[alice 13800138000 %d]", oid) {
		t.Fatalf("calls placed %v", fd.calls)
	}
}

// repairOrderEnv is orderEnv's environment with a repair order alice
// opened for 张三 and was assigned, so she dispatches the crew.
func repairOrderEnv(t *testing.T, cfg Config) (*env, *Records, *fakeOrderDial, uint64) {
	t.Helper()
	e, rec := recordsEnv(t, cfg)
	fd := &fakeOrderDial{}
	rec.Dial, rec.Recordings = fd.dial, callRecs{}
	cats, err := rec.Orders.Categories()
	if err != nil {
		t.Fatal(err)
	}
	var cat uint64
	for _, c := range cats {
		if c.Name == "低压故障" {
			cat = c.ID
		}
	}
	o, err := rec.Orders.Create(crm.Actor{Login: "alice", Role: RoleAgent}, workorder.NewOrder{Category: cat,
		Description: "客户家中停电", Contact: "张三", Phone: "13800138000", Assignee: "alice",
		Fields: map[string]string{"place": "城区", "bureau": "鼓楼供电局", "address": "中山北路1号"}})
	if err != nil {
		t.Fatal(err)
	}
	return e, rec, fd, o.ID
}

// TestOrderDialCrew: once the dispatch records the crew's phone, the
// order's page and API offer it beside the customer's number; the API and
// the page call the crew by its contact key (a + dialled as 00), a key
// the order lacks is refused with its field, and a bad crew phone is
// refused when the step is taken.
func TestOrderDialCrew(t *testing.T) {
	e, _, fd, oid := repairOrderEnv(t, Config{})
	alice := e.as(t, "alice")
	path := fmt.Sprintf("/workorders/%d", oid)
	code, m := alice.api(http.MethodPost, "/api/v1"+path+"/steps/dispatch", map[string]any{"values": map[string]string{"crew": "王师傅", "crew_phone": "139x"}})
	wantStatus(t, "a bad crew phone", code, http.StatusBadRequest, m)
	wantField(t, "a bad crew phone", m, "crew_phone")
	code, m = alice.api(http.MethodPost, "/api/v1"+path+"/steps/dispatch", map[string]any{"values": map[string]string{"crew": "王师傅", "crew_phone": "+86 139 0000 0001"}})
	wantStatus(t, "dispatch", code, http.StatusOK, m)
	code, m = alice.api(http.MethodGet, "/api/v1"+path, nil)
	wantStatus(t, "the order", code, http.StatusOK, m)
	if got := fmt.Sprint(m["contacts"]); got != "[map[key:customer label: name:张三 number:13800138000] map[key:steps.dispatch.crew_phone label:抢修人员电话 name:王师傅 number:+8613900000001]]" {
		t.Fatalf("the order's contacts: %s", got)
	}
	page := alice.get(path).Body.String()
	if !strings.Contains(page, `id="dial-steps.dispatch.crew_phone"`) || !strings.Contains(page, "Call 王师傅 (抢修人员电话, &#43;8613900000001)") ||
		!strings.Contains(page, `id="dial-customer"`) {
		t.Fatalf("the page does not offer the crew and the customer:\n%s", page)
	}
	code, m = alice.api(http.MethodPost, "/api/v1"+path+"/dial", map[string]any{"contact": "steps.dispatch.crew_phone"})
	wantStatus(t, "dial the crew from the API", code, http.StatusCreated, m)
	if calls, _ := m["calls"].([]any); len(calls) != 1 || calls[0].(map[string]any)["number"] != "008613900000001" {
		t.Fatalf("the order's calls: %v", m["calls"])
	}
	code, m = alice.api(http.MethodPost, "/api/v1"+path+"/dial", map[string]any{"number": "+85212345678"})
	wantStatus(t, "dial a number written with +", code, http.StatusCreated, m)
	r := alice.form(path+"/dial", url.Values{"contact": {"customer"}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("dial the customer from the page: %d %s", r.Code, r.Body)
	}
	code, m = alice.api(http.MethodPost, "/api/v1"+path+"/dial", map[string]any{"contact": "steps.arrive.crew_phone"})
	wantStatus(t, "a contact the order lacks", code, http.StatusBadRequest, m)
	wantField(t, "a contact the order lacks", m, "contact")
	if want := fmt.Sprintf("[alice 008613900000001 %d alice 0085212345678 %d alice 13800138000 %d]", oid, oid, oid); fmt.Sprint(fd.calls) != want {
		t.Fatalf("calls placed %v, want %s", fd.calls, want)
	}
}

// TestBrowserOrderDialCrew: in Chromium, in the box's default language,
// the assignee dispatches the crew with its phone on the order's page,
// then presses the crew's call button: the box is asked to dial the
// crew's number and the order lists the call.
func TestBrowserOrderDialCrew(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	e, _, fd, oid := repairOrderEnv(t, Config{Addr: "127.0.0.1:0"})
	box := startServer(t, e)
	b := startBrowser(t, "--lang=zh-CN", "--accept-lang=zh-CN")
	b.navigate(box + "/lang/zh-CN?next=/login")
	b.submitForm("/login", map[string]string{"login": "alice", "password": "alice-password-1"})
	order := fmt.Sprintf("/workorders/%d", oid)
	b.navigate(box + order)
	if got := b.evalString(`(document.querySelector('#step-dispatch input[name=v_crew_phone]') || {type: ''}).type`); got != "tel" {
		t.Fatalf("the dispatch form's crew phone input: %q", got)
	}
	b.submitForm(order+"/steps/dispatch", map[string]string{"v_crew": "王师傅", "v_crew_phone": "139-0000-0001", "v_vehicle": "苏A12345"})
	crew := `document.getElementById('dial-steps.dispatch.crew_phone')`
	if got := b.evalString(`(` + crew + ` || {textContent: ''}).textContent.trim()`); got != "呼叫王师傅（抢修人员电话，13900000001）" {
		t.Fatalf("the crew's call button reads %q (%s)", got, b.evalString(`(document.querySelector('p.error') || {textContent: ''}).textContent`))
	}
	b.drainEvents()
	b.eval(crew + `.querySelector('button').click()`)
	b.waitLoad()
	if got := b.evalString(`(document.querySelector('p.notice') || {textContent: ''}).textContent`); got != "您的话机正在振铃，摘机后设备将拨打该号码。" {
		t.Fatalf("after the click: %q at %s", got, b.evalString("location.href"))
	}
	if got := b.evalString(`(document.querySelector('#calls tbody tr td:nth-child(2)') || {textContent: ''}).textContent`); got != "13900000001" {
		t.Fatalf("the order's call: %q", got)
	}
	if fmt.Sprint(fd.calls) != fmt.Sprintf("[alice 13900000001 %d]", oid) {
		t.Fatalf("calls placed %v", fd.calls)
	}
}
