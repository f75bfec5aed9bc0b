package app

import (
	"bytes"
	"math"
	"net/http"
	"os"
	"testing"
	"time"

	"callbox/dsp/callerid"
	"callbox/dsp/wav"
	"callbox/telephony/voicemail"
)

// wavCall is a caller who says a tone into every recording (a message, a
// greeting) and types no key.
type wavCall struct{ hz float64 }

func (wavCall) Say(voicemail.Prompt, bool) error { return nil }
func (wavCall) Collect(int, string, time.Duration, time.Duration) (string, error) {
	return "", nil
}
func (c wavCall) Record(spec voicemail.RecordSpec) (voicemail.Recorded, error) {
	x := make([]int16, 3*8000)
	for i := range x {
		x[i] = int16(6000 * math.Sin(2*math.Pi*c.hz*float64(i)/8000))
	}
	b, err := wav.Encode(x)
	if err != nil {
		return voicemail.Recorded{}, err
	}
	if err := os.WriteFile(spec.Path, b, 0o600); err != nil {
		return voicemail.Recorded{}, err
	}
	return voicemail.Recorded{Duration: 3 * time.Second, Spoken: true}, nil
}
func (wavCall) CallBack(string) error { return nil }
func (wavCall) Hangup()               {}

// The voicemail web API in the running box: an administrator makes a box
// for agent 1001 (a bad PIN and a bad greeting are refused, naming the
// field); a message left in it is listed, its audio served with ranges
// and carrying the caller's tone; agent 1001 sees its box and marks the
// message heard, agent 1002 sees nothing of it; deleting the message
// leaves the box empty.
func TestVoicemailWeb(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	a, _ := newApp(t, Config{Board: "sim"})
	start(t, a)
	boss := newWebAdmin(t, a)
	for _, u := range []string{"1001", "1002"} {
		boss.doJSON("POST", "/api/v1/users", map[string]any{"login": u, "role": "agent", "password": "Quiet-Harbour-17"}, http.StatusCreated)
	}
	var bad map[string]any
	boss.do("PUT", "/api/v1/voicemail/boxes/8001", "application/json",
		bytes.NewReader([]byte(`{"kind":"agent","owner":"1001","pin":"12"}`)), http.StatusBadRequest, &bad)
	if bad["field"] != "pin" {
		t.Fatalf("a two-digit PIN: %v", bad)
	}
	boss.doJSON("PUT", "/api/v1/voicemail/boxes/8001", map[string]any{"kind": "agent", "owner": "1001", "pin": "1234",
		"extensions": []string{"201"}}, http.StatusOK)
	boss.do("PUT", "/api/v1/voicemail/boxes/8001/greeting", "audio/wav", bytes.NewReader([]byte("not a wav file")),
		http.StatusBadRequest, &bad)

	vm := a.mediaServices().vm
	if err := vm.Deposit(wavCall{hz: 700}, "8001", voicemail.Caller{Number: "13800138000"}); err != nil {
		t.Fatal(err)
	}
	// 201 (fxs1) shows the message waiting: the indicator by FSK, which
	// the emulated phone decodes.
	phone := a.livePorts().Sim().Phone("fxs1")
	lamp := func(want callerid.Indicator) func() bool {
		return func() bool {
			var w callerid.Indicator
			for _, m := range phone.CallerID() {
				if m.Format == callerid.MDMFMWI || m.Format == callerid.SDMFMWI {
					w = m.Waiting
				}
			}
			return w == want
		}
	}
	eventually(t, 15*time.Second, "201's message-waiting lamp on", lamp(callerid.IndicatorOn))
	var m map[string]any
	boss.do("GET", "/api/v1/voicemail/boxes/8001/messages", "", nil, http.StatusOK, &m)
	list, _ := m["messages"].([]any)
	if len(list) != 1 {
		t.Fatalf("messages %v", m)
	}
	msg := list[0].(map[string]any)
	if msg["caller"] != "13800138000" || msg["heard"] != false || msg["seconds"] != 3.0 {
		t.Fatalf("message %v", msg)
	}
	id := msg["id"].(string)
	path := "/api/v1/voicemail/boxes/8001/messages/" + id
	resp, whole := boss.fetch(path+"/audio", "")
	x, err := wav.Decode(whole)
	if resp.StatusCode != http.StatusOK || err != nil || toneShare(x, 700) < 0.9 {
		t.Fatalf("audio: %s, %v, %.2f of the caller's tone", resp.Status, err, toneShare(x, 700))
	}
	resp, part := boss.fetch(path+"/audio", "bytes=100-199")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, whole[100:200]) {
		t.Fatalf("range: %s", resp.Status)
	}

	owner := newWebClient(t, boss.base)
	owner.call("GET", "/api/v1/session", nil, http.StatusOK)
	owner.call("POST", "/api/v1/login", map[string]any{"login": "1001", "password": "Quiet-Harbour-17"}, http.StatusOK)
	if got := owner.call("GET", "/api/v1/voicemail/boxes", nil, http.StatusOK); len(got["boxes"].([]any)) != 1 {
		t.Fatalf("1001's boxes: %v", got)
	}
	owner.call("PUT", path, map[string]any{"heard": true}, http.StatusNoContent)
	if n, sv, _ := vm.Counts("8001"); n != 0 || sv != 1 {
		t.Fatalf("after marking it heard: %d new, %d saved", n, sv)
	}
	eventually(t, 15*time.Second, "201's lamp off", lamp(callerid.IndicatorOff))
	other := newWebClient(t, boss.base)
	other.call("GET", "/api/v1/session", nil, http.StatusOK)
	other.call("POST", "/api/v1/login", map[string]any{"login": "1002", "password": "Quiet-Harbour-17"}, http.StatusOK)
	if got := other.call("GET", "/api/v1/voicemail/boxes", nil, http.StatusOK); len(got["boxes"].([]any)) != 0 {
		t.Fatalf("1002 sees %v", got)
	}
	other.call("GET", "/api/v1/voicemail/boxes/8001/messages", nil, http.StatusNotFound)
	other.call("DELETE", path, nil, http.StatusNotFound)
	other.call("PUT", "/api/v1/voicemail/boxes/8002", map[string]any{"kind": "general", "pin": "1234"}, http.StatusForbidden)

	owner.call("DELETE", path, nil, http.StatusNoContent)
	if got := owner.call("GET", "/api/v1/voicemail/boxes/8001/messages", nil, http.StatusOK); len(got["messages"].([]any)) != 0 {
		t.Fatalf("after the delete: %v", got)
	}
}

// The conference rooms' web API in the running box: an administrator
// makes a room with PINs (shown only as set), a bad number is refused
// naming the field, an agent may not see the rooms, and a deleted room is
// gone.
func TestConferenceWeb(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	a, _ := newApp(t, Config{Board: "sim"})
	start(t, a)
	boss := newWebAdmin(t, a)
	boss.doJSON("POST", "/api/v1/users", map[string]any{"login": "1001", "role": "agent", "password": "Quiet-Harbour-17"}, http.StatusCreated)
	var room map[string]any
	boss.do("PUT", "/api/v1/conference/rooms/7001", "application/json",
		bytes.NewReader([]byte(`{"name":"Morning","max_parties":20,"pin":"2468","moderator_pin":"97531"}`)), http.StatusOK, &room)
	if room["has_pin"] != true || room["has_moderator_pin"] != true || room["pin"] != nil {
		t.Fatalf("room %v", room)
	}
	var bad map[string]any
	boss.do("PUT", "/api/v1/conference/rooms/7x", "application/json", bytes.NewReader([]byte(`{}`)), http.StatusBadRequest, &bad)
	if bad["field"] != "number" {
		t.Fatalf("a bad number: %v", bad)
	}
	var rooms map[string]any
	boss.do("GET", "/api/v1/conference/rooms", "", nil, http.StatusOK, &rooms)
	if l, _ := rooms["rooms"].([]any); len(l) != 1 {
		t.Fatalf("rooms %v", rooms)
	}
	ag := newWebClient(t, boss.base)
	ag.call("GET", "/api/v1/session", nil, http.StatusOK)
	ag.call("POST", "/api/v1/login", map[string]any{"login": "1001", "password": "Quiet-Harbour-17"}, http.StatusOK)
	ag.call("GET", "/api/v1/conference/rooms", nil, http.StatusForbidden)
	boss.do("GET", "/api/v1/conference/live", "", nil, http.StatusOK, nil)
	boss.do("DELETE", "/api/v1/conference/live/7001", "", nil, http.StatusNotFound, nil)
	boss.do("DELETE", "/api/v1/conference/rooms/7001", "", nil, http.StatusNoContent, nil)
	boss.do("GET", "/api/v1/conference/rooms", "", nil, http.StatusOK, &rooms)
	if l, _ := rooms["rooms"].([]any); len(l) != 0 {
		t.Fatalf("rooms after the delete %v", rooms)
	}
}
