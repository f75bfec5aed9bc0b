package app

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/crm"
	"callbox/webui"
)

// TestDeskConsultOnTheRunningBox: agent 1088 takes a PSTN caller unknown
// to the records on the analog phone 202: the desk shows the new-customer
// form with the caller's number, the agent saves the customer and writes
// a note against the call from the desk. Then it consults extension 203
// (the caller on hold, 203 rings and answers), cancels (203 hung up, the
// caller back), brings 203 into a three-way call and drops it again, and
// finally consults 203 once more and completes the transfer: the agent
// is out of the call and the caller stays with 203.
func TestDeskConsultOnTheRunningBox(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	a := bootCC(t, 27300, ccTestPBX(), ccTestConfig(t))
	svc, bus := a.CallCentre()
	sub, err := bus.Subscribe("", 1024)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Unsubscribe(sub)
	// answered waits for the call centre to say the third party answered
	// (a consultation or a three-way call).
	answered := func(what string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case e := <-sub.C():
				if e.Type == ccevent.SupervisorAction && e.Detail["action"] == what+" answered" {
					return
				}
			case <-deadline:
				t.Fatalf("no %s answered", what)
			}
		}
	}
	recs := a.webRecords()
	if recs == nil {
		t.Fatal("the box runs no customer records")
	}
	admin := crm.Actor{Login: "root", Role: webui.RoleAdmin}
	cat, err := recs.Customers.SaveCategory(admin, crm.Category{Name: "居民"})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := recs.Customers.SaveCommType(admin, crm.CommType{Name: "报修"})
	if err != nil {
		t.Fatal(err)
	}
	w := deskAgent(t, a, "li")
	state := func() acd.AgentStatus {
		st, err := svc.ACD().Agent("1088")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	post := func(path string, vals url.Values, want int) string {
		t.Helper()
		st, body := deskPost(t, w, path, vals)
		if st != want {
			t.Fatalf("POST %s %v = %d, want %d:\n%s", path, vals, st, want, body)
		}
		return body
	}
	service := func() cc.ServiceInfo {
		ss, err := svc.Services(context.Background())
		if err != nil || len(ss) != 1 {
			return cc.ServiceInfo{}
		}
		return ss[0]
	}
	post("/desk/login", url.Values{"device": {"202"}}, http.StatusOK)
	// The colleague search: Wang (1099) by name, with the group and state.
	if part := w.page("/desk/colleagues?q=wa"); !strings.Contains(part, `data-agent="1099"`) || !strings.Contains(part, "sales") ||
		!strings.Contains(part, "st-offline") || strings.Contains(part, `data-agent="1088"`) {
		t.Fatalf("the colleague search:\n%s", part)
	}

	co := a.livePorts().Sim().CO("fxo1")
	if err := co.Ring(si3050sim.Call{CallerID: &callerid.Message{Format: callerid.MDMF, Number: "13912345678"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the box answering the line", co.Answered)
	time.Sleep(1500 * time.Millisecond)
	if err := co.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "1088 ringing", func() bool { return state().State == acd.Ringing })
	if part := w.page("/desk"); !strings.Contains(part, `action="/desk/customer"`) || !strings.Contains(part, "13912345678\n</textarea>") {
		t.Fatalf("the screen-pop of an unknown caller:\n%s", part)
	}
	p := a.livePorts().Sim().Phone("fxs2")
	p.OffHook()
	defer p.OnHook()
	eventually(t, 5*time.Second, "1088 talking", func() bool { return state().State == acd.Talking })
	post("/desk/customer", url.Values{"category": {strconv.FormatUint(cat.ID, 10)}, "name": {"王五"},
		"numbers": {"13912345678"}}, http.StatusOK)
	found, err := recs.Customers.Lookup(admin, "13912345678")
	if err != nil || len(found) != 1 {
		t.Fatalf("the customer saved from the desk: %+v %v", found, err)
	}
	part := post("/desk/comm", url.Values{"customer": {strconv.FormatUint(found[0].ID, 10)}, "type": {strconv.FormatUint(ct.ID, 10)},
		"call": {service().Call}, "text": {"停电报修"}}, http.StatusOK)
	if !strings.Contains(part, "王五") || !strings.Contains(part, "停电报修") {
		t.Fatalf("the card after the note:\n%s", part)
	}
	comms, err := recs.Customers.Comms(admin, found[0].ID, 5)
	if err != nil || len(comms) != 1 || comms[0].Call == "" || comms[0].Call != service().Call || comms[0].Agent != "li" {
		t.Fatalf("the note: %+v %v", comms, err)
	}

	// Consult 203 and cancel.
	p3 := a.livePorts().Sim().Phone("fxs3")
	part = post("/desk/call/consult", url.Values{"number": {"203"}}, http.StatusOK)
	if !strings.Contains(part, `data-third="consult"`) || !service().Held {
		t.Fatalf("consulting (held %v):\n%s", service().Held, part)
	}
	eventually(t, 10*time.Second, "203 ringing for the consultation", func() bool { return len(p3.Rings()) > 0 })
	p3.OffHook()
	answered("consult")
	// Swap to the caller (203 holds) and back.
	if part := post("/desk/call/swap", nil, http.StatusOK); service().Held || !strings.Contains(part, `data-third="consult"`) {
		t.Fatalf("after a swap to the caller (held %v):\n%s", service().Held, part)
	}
	post("/desk/call/swap", nil, http.StatusOK)
	if !service().Held {
		t.Fatal("after swapping back the caller is not on hold")
	}
	post("/desk/call/drop-third", nil, http.StatusOK)
	eventually(t, 5*time.Second, "the caller back with 1088", func() bool { s := service(); return s.Third == "" && !s.Held })
	p3.OnHook()

	// ring asks for 203 again until it rings: the box hears 203 hang up
	// a moment after it does, and calls it busy until then.
	ring := func(op string) {
		t.Helper()
		eventually(t, 15*time.Second, "203 ringing for "+op, func() bool {
			if p3.Ringing() {
				return true
			}
			if service().Third == "" {
				deskPost(t, w, "/desk/call/"+op, url.Values{"number": {"203"}})
			}
			return false
		})
	}

	// Three-way with 203, then drop it.
	ring("invite")
	if s := service(); s.Third != "conference" || s.Held {
		t.Fatalf("the three-way call: %+v", s)
	}
	p3.OffHook()
	answered("conference")
	post("/desk/call/drop-third", nil, http.StatusOK)
	eventually(t, 5*time.Second, "the third party gone", func() bool { return service().Third == "" })
	p3.OnHook()

	// Consult again and complete: the caller stays with 203.
	ring("consult")
	p3.OffHook()
	defer p3.OnHook()
	answered("consult")
	post("/desk/call/complete", nil, http.StatusOK)
	eventually(t, 5*time.Second, "1088 out of the call", func() bool { return state().State != acd.Talking })
	if !co.BoxOffHook() {
		t.Fatal("the caller's line was released by the transfer")
	}
	p.OnHook()
}
