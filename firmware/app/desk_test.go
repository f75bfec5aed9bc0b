package app

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/telephony/acd"
	"callbox/webui"
	"callbox/webui/passwd"
)

// deskPost posts one of the agent desk's forms as its script does (the
// live part back, no redirect) and returns the status and the part.
func deskPost(t *testing.T, w *webClient, path string, vals url.Values) (int, string) {
	t.Helper()
	if vals == nil {
		vals = url.Values{}
	}
	vals.Set("csrf_token", w.csrf)
	req, _ := http.NewRequest(http.MethodPost, w.base+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Desk-Part", "1")
	resp, err := w.c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// deskAgent gives agent 1088 a web account on the running box (role
// agent, the given login, password "agent-password-1088") and returns a
// web client logged in with it, as an agent's browser at the desk.
func deskAgent(t *testing.T, a *App, login string) *webClient {
	t.Helper()
	h, err := passwd.Hash("agent-password-1088")
	if err != nil {
		t.Fatal(err)
	}
	if err := (storeUsers{a}).Create(context.Background(), webui.User{Login: login, Role: webui.RoleAgent, Agent: "1088",
		PasswordHash: h, Created: time.Now(), Updated: time.Now()}); err != nil {
		t.Fatal(err)
	}
	w := newWebClient(t, "http://"+a.WebAddr())
	w.call("GET", "/api/v1/session", nil, http.StatusOK)
	w.call("POST", "/api/v1/login", map[string]any{"login": login, "password": "agent-password-1088"}, http.StatusOK)
	return w
}

// TestDeskOnTheRunningBox: agent 1088 works the day from the web desk of
// the running daemon: logs in on the analog phone 202, takes a break and
// comes back; a caller from Nanjing rings the box on the PSTN line, keys
// 1 and the desk shows the ringing call with the region; a state change
// while it rings is refused and changes nothing; the agent answers on the
// phone, holds and resumes from the desk, sends a key, hangs up the caller
// from the desk and ends wrap-up; a second caller (a mobile) is
// transferred from the desk to extension 203, which rings with the
// caller's number.
func TestDeskOnTheRunningBox(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	a := bootCC(t, 25800, ccTestPBX(), ccTestConfig(t))
	svc, _ := a.CallCentre()
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

	if page := w.page("/desk"); !strings.Contains(page, "离线") || !strings.Contains(page, `action="/desk/login"`) {
		t.Fatalf("the desk of a signed-out agent:\n%s", page)
	}
	post("/desk/login", url.Values{"device": {"202"}}, http.StatusOK)
	if st := state(); st.State != acd.Idle {
		t.Fatalf("after login: %s", st.State)
	}
	post("/desk/state", url.Values{"state": {"break"}, "reason": {"meal"}}, http.StatusOK)
	if st := state(); st.State != acd.Break || st.Reason != "meal" {
		t.Fatalf("after the break: %s %q", st.State, st.Reason)
	}
	if part := post("/desk/state", url.Values{"state": {"idle"}}, http.StatusOK); !strings.Contains(part, "在线") || !strings.Contains(part, "202") {
		t.Fatalf("the part after ready:\n%s", part)
	}

	co := a.livePorts().Sim().CO("fxo1")
	if err := co.Ring(si3050sim.Call{CallerID: &callerid.Message{Format: callerid.MDMF, Number: "02583201234"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the box answering the line", co.Answered)
	time.Sleep(1500 * time.Millisecond)
	if err := co.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "1088 ringing", func() bool { return state().State == acd.Ringing })
	part := w.page("/desk")
	if !strings.Contains(part, "02583201234") || !strings.Contains(part, "南京") || !strings.Contains(part, "sales") {
		t.Fatalf("the screen-pop:\n%s", part)
	}
	if part := post("/desk/state", url.Values{"state": {"busy"}}, http.StatusConflict); !strings.Contains(part, "振铃或通话中不能修改状态") {
		t.Fatalf("busy while ringing:\n%s", part)
	}
	if st := state(); st.State != acd.Ringing {
		t.Fatalf("a refused change left %s", st.State)
	}
	p := a.livePorts().Sim().Phone("fxs2")
	p.OffHook()
	defer p.OnHook()
	eventually(t, 5*time.Second, "1088 talking", func() bool { return state().State == acd.Talking })
	held := func() bool {
		ss, err := svc.Services(context.Background())
		return err == nil && len(ss) == 1 && ss[0].Held
	}
	if part := post("/desk/call/hold", nil, http.StatusOK); !strings.Contains(part, `action="/desk/call/resume"`) || !held() {
		t.Fatalf("after hold (held %v):\n%s", held(), part)
	}
	post("/desk/call/hold", nil, http.StatusConflict) // a second click does not take the caller back
	post("/desk/call/resume", nil, http.StatusOK)
	if held() {
		t.Fatal("still held after resume")
	}
	post("/desk/call/dtmf", url.Values{"number": {"5"}}, http.StatusOK)
	post("/desk/call/hangup", nil, http.StatusOK)
	eventually(t, 5*time.Second, "the box releasing the line", func() bool { return !co.BoxOffHook() })
	p.OnHook()
	eventually(t, 5*time.Second, "1088 out of the call", func() bool {
		s := state().State
		return s == acd.WrapUp || s == acd.Idle
	})
	if state().State == acd.WrapUp {
		post("/desk/wrap-up", nil, http.StatusOK)
	} else {
		post("/desk/wrap-up", nil, http.StatusConflict)
	}
	if st := state(); st.State != acd.Idle {
		t.Fatalf("after wrap-up: %s", st.State)
	}

	// A second caller, transferred from the desk to extension 203. The
	// line rests first, as an exchange's does between calls.
	time.Sleep(2 * time.Second)
	if err := co.Ring(si3050sim.Call{CallerID: &callerid.Message{Format: callerid.MDMF, Number: "13912345678"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the box answering the line again", co.BoxOffHook)
	time.Sleep(1500 * time.Millisecond)
	if err := co.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "1088 ringing again", func() bool { return state().State == acd.Ringing })
	if part := w.page("/desk"); !strings.Contains(part, "13912345678") || !strings.Contains(part, "手机") {
		t.Fatalf("the screen-pop of a mobile caller:\n%s", part)
	}
	p.OffHook()
	eventually(t, 5*time.Second, "1088 talking again", func() bool { return state().State == acd.Talking })
	post("/desk/call/transfer", url.Values{"number": {"203"}}, http.StatusOK)
	p3 := a.livePorts().Sim().Phone("fxs3")
	eventually(t, 10*time.Second, "203 rung with the caller's number", func() bool {
		cid := p3.CallerID()
		return len(p3.Rings()) > 0 && len(cid) > 0 && cid[len(cid)-1].Number == "13912345678"
	})
	eventually(t, 5*time.Second, "1088 out of the transferred call", func() bool { return state().State != acd.Talking })
	p.OnHook()
	if state().State == acd.WrapUp {
		post("/desk/wrap-up", nil, http.StatusOK)
	}
	post("/desk/logout", nil, http.StatusOK)
	if st := state(); st.State != acd.Offline {
		t.Fatalf("after logout: %s", st.State)
	}
}
