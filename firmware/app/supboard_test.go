package app

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"callbox/telephony/acd"
)

// The supervisor board and the wallboard on the running box, with a real
// call waiting: a call from the PSTN waits for sales while no agent is
// ready (the supervisor signed 1088 in on 202 and set it busy); the
// supervisor's event stream says so (it answered 503 before the daemon
// served its bus); the board's figures list the call with its caller's
// region; the wallboard's summary counts it without the caller's number;
// the supervisor assigns it to the busy 1088, whose phone rings; an agent
// is refused the board and its operations.
func TestBoardOnTheRunningBox(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	a, out := bootCCOut(t, 27740, ccTestPBX(), ccTestConfig(t))
	admin := adminClient(t, a, out)
	admin.call("POST", "/api/v1/users", map[string]any{"login": "sup", "role": "supervisor", "password": "Kettle-Drum-43"}, http.StatusCreated)
	admin.call("POST", "/api/v1/users", map[string]any{"login": "1099", "role": "agent", "password": "Paper-Lantern-51"}, http.StatusCreated)
	svc, _ := a.CallCentre()
	sup := loginAs(t, admin.base, "sup", "Kettle-Drum-43")
	agent := loginAs(t, admin.base, "1099", "Paper-Lantern-51")

	for _, p := range []string{"/board", "/wallboard"} {
		if st, body := sup.get(p); st != http.StatusOK || !strings.Contains(body, `id="board-config"`) {
			t.Fatalf("the supervisor's %s: %d", p, st)
		}
		if st, _ := agent.get(p); st != http.StatusForbidden {
			t.Fatalf("an agent's %s: %d", p, st)
		}
	}

	// 1088 signs in on 202 and is set busy: the call waits.
	sup.call("POST", "/api/v1/cc/agents/1088/login", map[string]any{"device": "202"}, http.StatusNoContent)
	sup.call("POST", "/api/v1/cc/agents/1088/state", map[string]any{"state": "busy"}, http.StatusNoContent)
	// The board's event stream: the daemon serves the call centre's bus.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, admin.base+"/api/v1/events", nil)
	resp, err := (&http.Client{Jar: sup.c.Jar}).Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the supervisor's event stream: %v %v", err, resp)
	}
	defer resp.Body.Close()
	queued := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if sc.Text() == "event: call.queued" && sc.Scan() {
				queued <- sc.Text()
				return
			}
		}
	}()
	callSales(t, a, "02588886666")
	select {
	case data := <-queued:
		if !strings.Contains(data, "02588886666") {
			t.Fatalf("call.queued on the stream: %s", data)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no call.queued on the supervisor's stream")
	}
	var call string
	eventually(t, 10*time.Second, "the call waiting on the board", func() bool {
		f := sup.call("GET", "/api/v1/cc/figures", nil, http.StatusOK)
		for _, x := range f["waiting"].([]any) {
			if w := x.(map[string]any); w["number"] == "02588886666" {
				if w["region"] != "南京" || w["region_en"] != "Nanjing" {
					t.Fatalf("the waiting call's region: %v", w)
				}
				call = w["call"].(string)
				return true
			}
		}
		return false
	})
	st, body := sup.get("/api/v1/wallboard")
	if st != http.StatusOK || strings.Contains(body, "02588886666") || !strings.Contains(body, `"waiting":1`) {
		t.Fatalf("the wallboard's summary with a call waiting: %d %s", st, body)
	}
	agent.call("POST", "/api/v1/cc/calls/"+call+"/assign", map[string]any{"agent": "1099"}, http.StatusForbidden)
	agent.call("GET", "/api/v1/wallboard", nil, http.StatusForbidden)

	sup.call("POST", "/api/v1/cc/calls/"+call+"/assign", map[string]any{"agent": "1088"}, http.StatusNoContent)
	eventually(t, 10*time.Second, "1088 ringing with the assigned call", func() bool {
		st, _ := svc.ACD().Agent("1088")
		return st.State == acd.Ringing
	})
	eventually(t, 5*time.Second, "202's phone ringing", a.livePorts().Sim().Phone("fxs2").Ringing)
}
