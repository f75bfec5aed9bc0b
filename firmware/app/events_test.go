package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"callbox/telephony/cc/ccevent"
	"callbox/webui"
)

// TestEventsWeb: the adapter hands the web admin the bus's events with the
// agent they concern, maps a malformed resume id onto webui's sentinel,
// resumes, and answers "not running" without a bus; webui's own event
// type names are the bus's.
func TestEventsWeb(t *testing.T) {
	if _, err := (eventsWeb{func() *ccevent.Bus { return nil }}).Subscribe(""); !errors.Is(err, errNoCallCentre) {
		t.Fatalf("without a bus: %v", err)
	}
	bus := ccevent.New(16, nil)
	w := eventsWeb{func() *ccevent.Bus { return bus }}
	if _, err := w.Subscribe("bogus"); !errors.Is(err, webui.ErrBadEventID) {
		t.Fatalf("malformed id: %v", err)
	}
	s, err := w.Subscribe("")
	if err != nil {
		t.Fatal(err)
	}
	first := bus.Publish(ccevent.Event{Type: ccevent.CallRinging, Call: "c1", Agent: "1001", Number: "02512345678"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	e, ok := s.Next(ctx)
	var back ccevent.Event
	if !ok || e.ID != first.ID || e.Type != "call.ringing" || e.Agent != "1001" || json.Unmarshal(e.Data, &back) != nil || back.Number != "02512345678" {
		t.Fatalf("Next = %+v, %v", e, ok)
	}
	s.Close()
	if bus.Subscribers() != 0 {
		t.Fatal("Close left the subscription")
	}
	bus.Publish(ccevent.Event{Type: ccevent.AgentState, Agent: "1001"})
	r, _ := w.Subscribe(first.ID)
	if e, ok := r.Next(ctx); !ok || e.Type != webui.EventAgentState {
		t.Fatalf("resume gave %+v, %v", e, ok)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancelShort()
	if _, ok := r.Next(short); ok {
		t.Fatal("Next returned without an event")
	}
	r.Close()
	old, _ := w.Subscribe("otherboot-1")
	if e, ok := old.Next(ctx); !ok || e.Type != webui.EventReset {
		t.Fatalf("another boot's id gave %+v", e)
	}
	if string(ccevent.ConfigChanged) != webui.EventConfigChanged || string(ccevent.AgentState) != webui.EventAgentState ||
		string(ccevent.Reset) != webui.EventReset {
		t.Fatal("webui's event type names differ from the bus's")
	}
}

// TestEventsStreamDaemon: the daemon's GET /api/v1/events carries the
// running call centre's events. Before the fix the web admin's bus was
// never the call centre's and every stream was refused with 503.
func TestEventsStreamDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	a, out := bootCCOut(t, 29800, ccTestPBX(), ccTestConfig(t))
	admin := adminClient(t, a, out)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, admin.base+"/api/v1/events", nil)
	resp, err := (&http.Client{Jar: admin.c.Jar}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/events: %s", resp.Status)
	}
	admin.call("POST", "/api/v1/cc/agents/1099/login", nil, http.StatusNoContent)
	admin.call("POST", "/api/v1/cc/agents/1099/state", map[string]any{"state": "ready"}, http.StatusNoContent)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data:")
		if !ok {
			continue
		}
		var e ccevent.Event
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		if e.Type == ccevent.AgentState && e.Agent == "1099" && e.State == "idle" {
			return
		}
	}
	t.Fatalf("the stream ended without 1099 turning idle: %v", sc.Err())
}
