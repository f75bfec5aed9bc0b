package app

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"callbox/telephony/cc/ccevent"
)

// TestConferenceEventsOnBus: in the running box, a phone that dials a
// room, its mute from the web and its hang-up are published on the call
// centre's event bus (which the SSE stream and the live conference page
// read), naming the room, the party and the count. Before, a live
// conference was only seen by asking.
func TestConferenceEventsOnBus(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	a := bootCC(t, 33600, ccTestPBX(), ccTestConfig(t))
	boss := newWebAdmin(t, a)
	boss.do("PUT", "/api/v1/conference/rooms/7001", "application/json",
		bytes.NewReader([]byte(`{"name":"Daily","quiet":true,"no_music":true}`)), http.StatusOK, nil)
	sub, err := a.eventBus().Subscribe("", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.eventBus().Unsubscribe(sub)
	next := func(typ string) ccevent.Event {
		t.Helper()
		timeout := time.After(60 * time.Second)
		for {
			select {
			case e := <-sub.C():
				if string(e.Type) == typ {
					return e
				}
			case <-timeout:
				t.Fatalf("no %s event", typ)
			}
		}
	}
	p := a.livePorts().Sim().Phone("fxs1")
	p.OffHook()
	time.Sleep(200 * time.Millisecond) // dial tone first
	if err := p.Dial("7001"); err != nil {
		t.Fatal(err)
	}
	e := next("conference.joined")
	if e.Target != "7001" || e.Number != "201" || e.Detail["parties"] != "1" || e.Detail["party"] == "" {
		t.Fatalf("joined: %+v", e)
	}
	boss.do("PUT", "/api/v1/conference/live/7001/parties/"+e.Detail["party"], "application/json",
		bytes.NewReader([]byte(`{"muted":true}`)), http.StatusNoContent, nil)
	if m := next("conference.muted"); m.State != "muted" || m.Detail["party"] != e.Detail["party"] {
		t.Fatalf("muted: %+v", m)
	}
	p.OnHook()
	if l := next("conference.left"); l.Target != "7001" || l.Detail["parties"] != fmt.Sprint(0) {
		t.Fatalf("left: %+v", l)
	}
}
