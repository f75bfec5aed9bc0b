package app

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/ccconf"
)

// TestDeskDialCallerIDOnTheRunningBox: the desk's dial pad on the running
// box offers the caller ID the configuration allows agent 1088; a call
// placed from the desk with it rings the agent's phone 202 first, then
// the exchange on the PSTN line receives the number, and the call centre
// announces the call with that caller ID. A caller ID the agent may not
// present is refused with the reason and places no call.
func TestDeskDialCallerIDOnTheRunningBox(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	conf := ccTestConfig(t)
	conf.CallerIDs = []ccconf.CallerID{{Number: "4008001234", Description: "hotline", AllAgents: true},
		{Number: "02588886666", Agents: []string{"1099"}}}
	a := bootCC(t, 27500, ccTestPBX(), conf)
	svc, bus := a.CallCentre()
	sub, err := bus.Subscribe("", 1024)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Unsubscribe(sub)
	w := deskAgent(t, a, "li")
	if st, body := deskPost(t, w, "/desk/login", url.Values{"device": {"202"}}); st != http.StatusOK {
		t.Fatalf("login: %d\n%s", st, body)
	}
	// My status log: the login just made, from the running call centre.
	if log := w.page("/my/status"); !strings.Contains(log, `data-state="idle"`) || !strings.Contains(log, "签入") {
		t.Fatalf("my status log:\n%s", log)
	}
	page := w.page("/desk")
	if !strings.Contains(page, `<option value="4008001234">4008001234 · hotline</option>`) || strings.Contains(page, "02588886666") {
		t.Fatalf("the dial pad's caller IDs:\n%s", page)
	}
	if st, body := deskPost(t, w, "/desk/dial", url.Values{"number": {"13800138000"}, "caller_id": {"02588886666"}}); st != http.StatusConflict ||
		!strings.Contains(body, "02588886666") {
		t.Fatalf("a caller ID not allowed: %d\n%s", st, body)
	}
	if st, _ := svc.ACD().Agent("1088"); st.State != acd.Idle {
		t.Fatalf("a refused dial left 1088 %s", st.State)
	}
	if st, body := deskPost(t, w, "/desk/dial", url.Values{"number": {"13800138000"}, "caller_id": {"4008001234"}}); st != http.StatusOK {
		t.Fatalf("dial: %d\n%s", st, body)
	}
	deadline := time.After(10 * time.Second)
	for offered := false; !offered; {
		select {
		case e := <-sub.C():
			if e.Type == ccevent.CallOffered && e.Agent == "1088" {
				if e.Detail["caller_id"] != "4008001234" || e.Number != "13800138000" {
					t.Fatalf("the outbound call: %+v", e)
				}
				offered = true
			}
		case <-deadline:
			t.Fatal("no outbound call offered")
		}
	}
	p := a.livePorts().Sim().Phone("fxs2")
	eventually(t, 10*time.Second, "202 ringing for the outbound call", p.Ringing)
	p.OffHook()
	defer p.OnHook()
	sim := a.livePorts().Sim()
	eventually(t, 15*time.Second, "the exchange receiving 13800138000", func() bool {
		return strings.Contains(sim.CO("fxo1").Digits()+"|"+sim.CO("fxo2").Digits(), "13800138000")
	})
}
