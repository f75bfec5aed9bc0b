package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
)

// TestDeskPlayAndFlowOnTheRunningBox: agent 1088 takes a PSTN caller on
// the analog phone 202; from the desk it plays two prompts to the caller
// with "back to me" (the caller is held while they play, then back with
// the agent), asks for a fax to be received (the desk names the fax the
// box started), and hands the caller to
// the main flow (the agent is out of the call, the caller's line is still
// up, and keying 1 in the flow's menu queues the caller for sales again).
func TestDeskPlayAndFlowOnTheRunningBox(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	a := bootCC(t, 31400, ccTestPBX(), ccTestConfig(t))
	svc, _ := a.CallCentre()
	w := deskAgent(t, a, "li")
	state := func() acd.State {
		st, err := svc.ACD().Agent("1088")
		if err != nil {
			t.Fatal(err)
		}
		return st.State
	}
	service := func() (cc.ServiceInfo, bool) {
		ss, err := svc.Services(context.Background())
		if err != nil || len(ss) != 1 {
			return cc.ServiceInfo{}, false
		}
		return ss[0], true
	}
	post := func(path string, vals url.Values, want int) string {
		t.Helper()
		st, body := deskPost(t, w, path, vals)
		if st != want {
			t.Fatalf("POST %s %v = %d, want %d:\n%s", path, vals, st, want, body)
		}
		return body
	}
	post("/desk/login", url.Values{"device": {"202"}}, http.StatusOK)

	co := a.livePorts().Sim().CO("fxo1")
	if err := co.Ring(si3050sim.Call{CallerID: &callerid.Message{Format: callerid.MDMF, Number: "13912345678"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the box answering the line", co.Answered)
	time.Sleep(1500 * time.Millisecond)
	if err := co.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "1088 ringing", func() bool { return state() == acd.Ringing })
	p := a.livePorts().Sim().Phone("fxs2")
	p.OffHook()
	defer p.OnHook()
	eventually(t, 5*time.Second, "1088 talking", func() bool { return state() == acd.Talking })
	if part := w.page("/desk"); !strings.Contains(part, `action="/desk/op/play"`) || !strings.Contains(part, "<option>main-menu</option>") ||
		!strings.Contains(part, `<option value="main">`) {
		t.Fatalf("the desk on a call offers no prompts or flows:\n%s", part)
	}

	// Two prompts, back to the agent after.
	part := post("/desk/op/play", url.Values{"prompt": {"main-menu", "", "main-menu"}, "back": {"1"}}, http.StatusOK)
	if !strings.Contains(part, "data-desk-notice>正在向客户放音") {
		t.Fatalf("the desk after play:\n%s", part)
	}
	if s, ok := service(); !ok || !s.Held {
		t.Fatalf("the caller is not held while the prompts play: %+v", s)
	}
	eventually(t, 30*time.Second, "the caller back with 1088 after the prompts", func() bool {
		s, ok := service()
		return ok && !s.Held && s.Agent == "1088"
	})
	if state() != acd.Talking {
		t.Fatalf("1088 after the prompts: %s", state())
	}

	// Receive a fax now: the desk names the fax the box started (no fax
	// machine answers here, so it fails on the fax page).
	if part := post("/desk/op/fax-receive", nil, http.StatusOK); !strings.Contains(part, "data-desk-notice>传真 ") {
		t.Fatalf("the desk after fax-receive:\n%s", part)
	}

	// To the main flow: the agent is free, the caller in the menu.
	post("/desk/op/run-flow", url.Values{"flow": {"main"}}, http.StatusOK)
	eventually(t, 5*time.Second, "1088 out of the call", func() bool { return state() != acd.Talking })
	if !co.BoxOffHook() {
		t.Fatal("the caller's line was released by the flow")
	}
	p.OnHook()
	time.Sleep(1500 * time.Millisecond)
	if err := co.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the caller queued for sales again", func() bool {
		ss, _ := svc.Services(context.Background())
		ws := svc.Waiting()
		return len(ss)+len(ws) > 0 || state() == acd.Ringing
	})
}
