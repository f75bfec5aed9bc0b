package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"callbox/telephony/recording"
	"callbox/webui"
	"callbox/webui/passwd"
)

// TestCallFromWorkOrderOnTheRunningBox: on the running box, agent 1088
// (signed in to the desk with the analog phone 202) presses "call the
// customer" on a work order's page: 202 rings first, and once answered
// the exchange on the PSTN line receives the customer's number. The call
// is recorded with the order as its work-order reference, the order lists
// the call, and its page plays the recording, which the agent may fetch.
// Then the agent, the order's assignee, dispatches the crew with its
// phone: the page offers the crew's number, and a call to the crew by its
// contact through the API rings 202 and reaches the exchange with the
// crew's number, linked to the order.
func TestCallFromWorkOrderOnTheRunningBox(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	a := bootCC(t, 27700, ccTestPBX(), ccTestConfig(t))
	h, err := passwd.Hash("agent-password-1088")
	if err != nil {
		t.Fatal(err)
	}
	if err := (storeUsers{a}).Create(context.Background(), webui.User{Login: "1088", Role: webui.RoleAgent, Agent: "1088",
		PasswordHash: h, Created: time.Now(), Updated: time.Now()}); err != nil {
		t.Fatal(err)
	}
	w := newWebClient(t, "http://"+a.WebAddr())
	w.call("GET", "/api/v1/session", nil, http.StatusOK)
	w.call("POST", "/api/v1/login", map[string]any{"login": "1088", "password": "agent-password-1088"}, http.StatusOK)
	if st, body := deskPost(t, w, "/desk/login", url.Values{"device": {"202"}}); st != http.StatusOK {
		t.Fatalf("desk login: %d\n%s", st, body)
	}
	cats := w.call("GET", "/api/v1/workorder-categories", nil, http.StatusOK)
	var cat uint64
	for _, c := range cats["categories"].([]any) {
		if c := c.(map[string]any); c["name"] == "低压故障" {
			cat = idOf(c)
		}
	}
	o := w.call("POST", "/api/v1/workorders", map[string]any{"category": cat, "description": "客户家中停电",
		"contact": "张三", "phone": "13800138000", "assignee": "1088",
		"fields": map[string]string{"place": "城区", "bureau": "鼓楼供电局", "address": "中山北路1号"}}, http.StatusCreated)
	id := idOf(o)
	page := w.page(fmt.Sprintf("/workorders/%d", id))
	if !strings.Contains(page, fmt.Sprintf(`action="/workorders/%d/dial" class="inline-form" id="dial-customer"`, id)) ||
		!strings.Contains(page, "回呼客户（13800138000）") {
		t.Fatalf("the order's page offers no call to the customer:\n%s", page)
	}
	if st, body := deskPost(t, w, fmt.Sprintf("/workorders/%d/dial", id), url.Values{"number": {"13800138000"}}); st != http.StatusOK ||
		!strings.Contains(body, "您的话机正在振铃") {
		t.Fatalf("dial from the order: %d\n%s", st, body)
	}
	sim := a.livePorts().Sim()
	p := sim.Phone("fxs2")
	eventually(t, 15*time.Second, "202 ringing for the order's call", p.Ringing)
	if sim.CO("fxo1").Digits()+sim.CO("fxo2").Digits() != "" {
		t.Fatal("the number was dialled before the agent answered")
	}
	p.OffHook()
	eventually(t, 15*time.Second, "the exchange receiving 13800138000", func() bool {
		return strings.Contains(sim.CO("fxo1").Digits()+"|"+sim.CO("fxo2").Digits(), "13800138000")
	})
	rec := a.mediaServices().rec
	ref := strconv.FormatUint(id, 10)
	eventually(t, 30*time.Second, "the call recorded with the order's reference", func() bool {
		list, err := rec.Search(recording.Query{Agent: "1088"})
		return err == nil && len(list) == 1 && list[0].WorkOrder == ref && list[0].Kind == "outbound"
	})
	p.Speak(sine8k(1000, 8000))
	time.Sleep(200 * time.Millisecond) // some audio in the file; its length is not checked
	p.OnHook()
	var r recording.Record
	eventually(t, 30*time.Second, "the recording finished", func() bool {
		list, err := rec.Search(recording.Query{Agent: "1088"})
		if err != nil || len(list) != 1 || list[0].State != recording.Done {
			return false
		}
		r = list[0]
		return true
	})
	v := w.call("GET", fmt.Sprintf("/api/v1/workorders/%d", id), nil, http.StatusOK)
	calls, _ := v["order"].(map[string]any)["calls"].([]any)
	if len(calls) != 1 || calls[0].(map[string]any)["number"] != "13800138000" || calls[0].(map[string]any)["recording"] != r.ID ||
		calls[0].(map[string]any)["by"] != "1088" {
		t.Fatalf("the order's calls: %v (recording %s)", calls, r.ID)
	}
	page = w.page(fmt.Sprintf("/workorders/%d", id))
	audio := "/api/v1/recordings/" + r.ID + "/audio"
	if !strings.Contains(page, `<audio controls preload="none" src="`+audio+`">`) {
		t.Fatalf("the order's page does not play the recording %s:\n%s", audio, page)
	}
	req, _ := http.NewRequest(http.MethodGet, w.base+audio, nil)
	resp, err := w.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(b), "RIFF") {
		t.Fatalf("the recording's audio: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
	}

	// The crew.
	w.call("POST", fmt.Sprintf("/api/v1/workorders/%d/steps/dispatch", id), map[string]any{
		"values": map[string]string{"crew": "王师傅", "crew_phone": "139 0000 0001"}}, http.StatusOK)
	page = w.page(fmt.Sprintf("/workorders/%d", id))
	if !strings.Contains(page, `id="dial-steps.dispatch.crew_phone"`) || !strings.Contains(page, "呼叫王师傅（抢修人员电话，13900000001）") {
		t.Fatalf("the order's page offers no call to the crew:\n%s", page)
	}
	eventually(t, 15*time.Second, "202 idle again", func() bool { return !p.Ringing() })
	o = w.call("POST", fmt.Sprintf("/api/v1/workorders/%d/dial", id), map[string]any{"contact": "steps.dispatch.crew_phone"}, http.StatusCreated)
	if calls, _ := o["calls"].([]any); len(calls) != 2 || calls[1].(map[string]any)["number"] != "13900000001" {
		t.Fatalf("the order's calls after calling the crew: %v", o["calls"])
	}
	eventually(t, 15*time.Second, "202 ringing for the crew's call", p.Ringing)
	p.OffHook()
	eventually(t, 15*time.Second, "the exchange receiving 13900000001", func() bool {
		return strings.Contains(sim.CO("fxo1").Digits()+"|"+sim.CO("fxo2").Digits(), "13900000001")
	})
	p.OnHook()
}
