package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"callbox/telephony/cc/ccevent"
)

// deskOpsLive is fakeLive answering a fax operation with the fax's record,
// as the firmware does, and keeping the operations' requests.
type deskOpsLive struct {
	*fakeLive
	ops *[]string
}

func (l deskOpsLive) CCAgent(ctx context.Context, actor, agent, op string, req CCRequest) (json.RawMessage, error) {
	out, err := l.fakeLive.CCAgent(ctx, actor, agent, op, req)
	l.mu.Lock() // the handler's goroutine writes, the test's reads (seen)
	defer l.mu.Unlock()
	*l.ops = append(*l.ops, fmt.Sprintf("%s %s %s %q %q %v %s %s", actor, agent, op, req.Prompts, req.Text, req.Release, req.Flow, req.Document))
	if err == nil && strings.HasPrefix(op, "fax-") {
		return json.RawMessage(`{"id":"fx7","status":"receiving"}`), nil
	}
	return out, err
}

// seen returns the operations so far.
func (l deskOpsLive) seen() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(*l.ops)
}

// deskOpsEnv is an agent (ann, work number 1001) talking to a caller, with
// the prompts, flows, fax documents and the live API the desk's play,
// flow and fax forms use.
func deskOpsEnv(t *testing.T) (*env, *client, *fakeLive, *[]string) {
	t.Helper()
	desk := newMemDesk(nil, "1001")
	live, ops := &fakeLive{}, &[]string{}
	pbx := samplePBX()
	mp := newMemPrompts()
	mp.files["zh-CN/survey"], mp.files["zh-CN/hold-on"] = []byte("RIFF....WAVEsurvey"), []byte("RIFF....WAVEhold")
	e := newEnv(t, Config{Desk: desk, Live: deskOpsLive{live, ops}, Prompts: mp, Fax: &memFax{docs: []string{"price-list"}},
		CallCentre: newFlowsCC(t, newDocCC(t, &pbx))})
	e.users.add(t, "ann", RoleAgent, "ann-password")
	u, _ := e.users.Get(context.Background(), "ann")
	u.Agent = "1001"
	_ = e.users.Update(context.Background(), u)
	ann := e.client(t)
	ann.login("ann", "ann-password")
	if r := ann.form("/desk/login", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("login: %d", r.Code)
	}
	desk.ring("1001", "13800138000")
	desk.answer("1001")
	return e, ann, live, ops
}

// TestDeskPlayFlowFax: on a call the desk offers three prompt choices, a
// text, "back to me after", the flows and the fax documents; each form
// runs the live API's operation on the agent's own call with what was
// chosen (an unticked "back" releases the caller: play with release, the
// flow as release-ivr), a fax shows its record,
// and bad input is refused beside the field without reaching the engine.
func TestDeskPlayFlowFax(t *testing.T) {
	_, ann, live, ops := deskOpsEnv(t)
	page := ann.get("/desk").Body.String()
	for _, want := range []string{`action="/desk/op/play"`, `<option>survey</option>`, `name="text"`, `name="back"`,
		`action="/desk/op/run-flow"`, `<option value="survey">`, `action="/desk/op/fax-send"`, `<option>price-list</option>`,
		`action="/desk/op/fax-receive"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("the desk on a call has no %s:\n%s", want, page)
		}
	}
	if n := strings.Count(page, `<select name="prompt">`); n != deskPlayMax {
		t.Fatalf("%d prompt choices, want %d", n, deskPlayMax)
	}
	post := func(path string, vals url.Values, want int) string {
		t.Helper()
		r := ann.form(path, vals)
		if r.Code != want {
			t.Fatalf("POST %s %v = %d, want %d:\n%s", path, vals, r.Code, want, r.Body)
		}
		return r.Body.String()
	}
	for _, c := range []struct {
		path string
		vals url.Values
		want string // the operation fakeLive saw ("": refused before it)
		code int
		text string
	}{
		{"/desk/op/play", url.Values{"prompt": {"survey", "", "hold-on"}, "back": {"1"}}, `ann 1001 play ["survey" "hold-on"] "" false  `, 200, "Playing to the caller"},
		{"/desk/op/play", url.Values{"prompt": {"survey", "hold-on", "survey"}, "text": {"再见"}}, "", 400, "Choose 1 to 3 prompts"},
		{"/desk/op/play", url.Values{"prompt": {"", "", ""}}, "", 400, "Choose 1 to 3 prompts"},
		{"/desk/op/play", url.Values{"text": {strings.Repeat("长", maxDeskText+1)}}, "", 400, "at most 500 characters"},
		{"/desk/op/play", url.Values{"prompt": {"survey"}, "text": {"感谢来电"}}, `ann 1001 play ["survey"] "感谢来电" true  `, 200, "Playing"},
		{"/desk/op/run-flow", url.Values{"flow": {"survey"}, "back": {"1"}}, `ann 1001 run-flow [] "" false survey `, 200, "in the flow"},
		{"/desk/op/run-flow", url.Values{"flow": {"survey"}}, `ann 1001 release-ivr [] "" false survey `, 200, "in the flow"},
		{"/desk/op/run-flow", url.Values{"flow": {" "}}, "", 400, "Choose a flow"},
		{"/desk/op/fax-send", url.Values{"document": {"price-list"}}, `ann 1001 fax-send [] "" false  price-list`, 200, "Fax fx7: receiving"},
		{"/desk/op/fax-send", nil, "", 400, "Choose a fax document"},
		{"/desk/op/fax-receive", nil, `ann 1001 fax-receive [] "" false  `, 200, "Fax fx7"},
		{"/desk/op/nosuch", nil, "", 404, ""},
	} {
		*ops = nil
		b := post(c.path, c.vals, c.code)
		if got := strings.Join(*ops, ";"); got != c.want {
			t.Errorf("%s %v reached the engine as %q, want %q", c.path, c.vals, got, c.want)
		}
		if !strings.Contains(b, c.text) {
			t.Errorf("%s %v: no %q on the desk:\n%.2000s", c.path, c.vals, c.text, b)
		}
	}
	// The engine's refusal is shown with its reason.
	live.err = fmt.Errorf("%w: no call to play to", ErrConflict)
	if b := post("/desk/op/play", url.Values{"prompt": {"survey"}}, http.StatusConflict); !strings.Contains(b, "no call to play to") {
		t.Fatalf("a refusal without its reason:\n%.2000s", b)
	}
}

// TestBrowserDeskPlayFax: in Chromium, on a call, the agent opens the
// desk's prompts/flow/fax section, picks two prompts and a text with
// "back to me" unticked, and the play reaches the live API as one
// operation without leaving the page; "receive fax now" shows the fax's
// record on the desk; a fax sent from the desk is followed from its
// progress events to its result (sent, pages; failed, why), through the
// call's end, without reloading.
func TestBrowserDeskPlayFax(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	live, ops := &fakeLive{}, &[]string{}
	mp := newMemPrompts()
	mp.files["zh-CN/survey"], mp.files["zh-CN/hold-on"] = []byte("RIFF....WAVEsurvey"), []byte("RIFF....WAVEhold")
	dl := deskOpsLive{live, ops}
	pe := newPagesEnv(t, func(c *Config) {
		c.Live, c.Prompts, c.Fax = dl, mp, &memFax{docs: []string{"price-list"}}
	})
	b := startBrowser(t)
	b.navigate(pe.url + "/login")
	b.submitForm("/login", map[string]string{"login": "ann", "password": "ann-password"})
	b.navigate(pe.url + "/desk")
	b.submitForm("/lang/en", nil)
	b.submitForm("/desk/login", map[string]string{"device": "202"})
	pe.desk.ring("1001", "02583201234")
	pe.desk.answer("1001")
	b.navigate(pe.url + "/desk")
	waitFor(t, func() bool { return pe.bus.Subscribers() == 1 })
	waitFor(t, func() bool { return b.evalString(`document.querySelector("[data-desk]").dataset.ready || ""`) == "1" })
	b.eval(`(() => { window.marker = 1; document.querySelector(".desk-more").open = true;
		const f = document.querySelector("form.desk-play"); const s = f.querySelectorAll("select[name=prompt]");
		s[0].value = "hold-on"; s[2].value = "survey"; f.elements.text.value = "Thank you";
		f.elements.back.checked = false; f.requestSubmit(); return 1 })()`)
	waitFor(t, func() bool { return len(dl.seen()) == 1 })
	if want := `ann 1001 play ["hold-on" "survey"] "Thank you" true  `; dl.seen()[0] != want {
		t.Fatalf("the play reached the engine as %q, want %q", dl.seen()[0], want)
	}
	waitFor(t, func() bool {
		return strings.Contains(b.evalString(`(document.querySelector("[data-desk-notice]") || {}).innerText || ""`), "Playing to the caller")
	})
	// An event's refresh keeps the outcome on the desk.
	b.eval(`document.querySelector(".desk-bar").dataset.old = "1"; 1`)
	pe.bus.Publish(ccevent.Event{Type: "agent.state", Agent: "1001"})
	waitFor(t, func() bool {
		return b.evalString(`document.querySelector(".desk-bar").dataset.old || "swapped"`) == "swapped"
	})
	if !strings.Contains(b.evalString(`(document.querySelector("[data-desk-notice]") || {}).innerText || ""`), "Playing to the caller") {
		t.Error("a refresh dropped the play's outcome")
	}
	b.eval(`document.querySelector("form[action='/desk/op/fax-receive']").requestSubmit(); 1`)
	waitFor(t, func() bool {
		return strings.Contains(b.evalString(`(document.querySelector("[data-desk-notice]") || {}).innerText || ""`), "Fax fx7: receiving")
	})

	// A fax sent from the desk goes on after the answer: the engine's
	// fax.progress events bring it to the desk, which follows it to its
	// result, through the call's end, without reloading.
	b.eval(`(() => { const f = document.querySelector("form[action='/desk/op/fax-send']"); f.elements.document.value = "price-list"; f.requestSubmit(); return 1 })()`)
	waitFor(t, func() bool { return len(dl.seen()) == 3 })
	if want := `ann 1001 fax-send [] "" false  price-list`; dl.seen()[2] != want {
		t.Fatalf("the fax reached the engine as %q, want %q", dl.seen()[2], want)
	}
	faxLine := `(document.querySelector("[data-desk-fax]") || {}).innerText || ""`
	progress := func(agent, id, state, dir, pages, doc, reason string) {
		d := map[string]string{"id": id, "direction": dir, "pages": pages}
		if doc != "" {
			d["document"] = doc
		}
		if reason != "" {
			d["error"] = reason
		}
		pe.bus.Publish(ccevent.Event{Type: ccevent.FaxProgress, Call: "c1", Agent: agent, State: state, Detail: d})
	}
	progress("1001", "fx8", "active", "out", "0", "2", "")
	waitFor(t, func() bool { return strings.Contains(b.evalString(faxLine), "Fax fx8: sending 2 page(s)") })
	progress("1002", "fx9", "done", "out", "1", "1", "") // a colleague's
	// The call ends: the desk's part is drawn again without the call.
	b.eval(`document.querySelector(".desk-bar").dataset.old = "1"; 1`)
	pe.desk.mu.Lock()
	l := pe.desk.agents["1001"]
	l.Call = nil
	pe.desk.set(l, DeskWrapUp, "")
	pe.desk.mu.Unlock()
	pe.bus.Publish(ccevent.Event{Type: ccevent.CallEnded, Call: "c1", Agent: "1001"})
	waitFor(t, func() bool {
		return b.evalString(`document.querySelector(".desk-bar").dataset.old || "swapped"`) == "swapped" &&
			b.evalString(`String(!!document.querySelector("#desk-call"))`) == "false"
	})
	if got := b.evalString(faxLine); !strings.Contains(got, "Fax fx8: sending") {
		t.Fatalf("the call's end dropped the fax under way: %q", got)
	}
	progress("1001", "fx8", "done", "out", "2", "2", "")
	waitFor(t, func() bool { return strings.Contains(b.evalString(faxLine), "Fax fx8: sent, 2 of 2 page(s).") })
	if strings.Contains(b.evalString(faxLine), "fx9") {
		t.Error("the desk shows a colleague's fax")
	}
	progress("1001", "fx10", "failed", "in", "1", "", "the sender hung up")
	waitFor(t, func() bool {
		return strings.Contains(b.evalString(faxLine), "Fax fx10: failed after 1 page(s): the sender hung up")
	})
	if !strings.Contains(b.evalString(`document.querySelector("[data-desk-fax]").className`), "bad") {
		t.Error("a failed fax is not shown as failed")
	}
	if string(b.eval(`window.marker === 1`)) != "true" {
		t.Error("an operation reloaded the page")
	}
}
