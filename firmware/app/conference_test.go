package app

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"callbox/board/sim/proslicsim"
	"callbox/telephony/conference"
	"callbox/telephony/voicemail"
)

// roomParties returns the parties in a room's live conference.
func roomParties(a *App, room string) []conference.Party {
	for _, st := range a.mediaServices().conf.Status() {
		if st.Room == room {
			return st.Parties
		}
	}
	return nil
}

// talkAll has every phone say its tone for two seconds and returns what
// each heard of the others' tones meanwhile (the second second).
func talkAll(t *testing.T, phones []*proslicsim.Phone, hz []float64) [][]int16 {
	t.Helper()
	for i, p := range phones {
		p.ClearHeard()
		p.Speak(sine8k(hz[i], 8000*2))
	}
	heard := make([][]int16, len(phones))
	eventually(t, 20*time.Second, "two seconds heard", func() bool {
		for i, p := range phones {
			if heard[i] = p.Heard(); len(heard[i]) < 8000*2 {
				return false
			}
		}
		return true
	})
	for i := range heard {
		heard[i] = heard[i][8000 : 8000*2]
	}
	return heard
}

// Conference rooms in the dial plan of the running box: three analog
// phones dial room 7001 (made through the web API, which puts its number
// in the dial plan) and are in one conference; each says its own tone and
// hears the other two and not itself (Goertzel). A supervisor mutes 201
// through the web API: the others no longer hear it, while 201 still
// hears them. A fourth phone dials room 7002, which has a PIN: a wrong
// PIN is refused, the right one lets it in. Before the room numbers were
// in the dial plan, dialling 7001 was "not found".
func TestConferenceRoomFromPhones(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	a := bootCC(t, 27400, ccTestPBX(), ccTestConfig(t))
	boss := newWebAdmin(t, a)
	boss.do("PUT", "/api/v1/conference/rooms/7001", "application/json",
		bytes.NewReader([]byte(`{"name":"Daily","quiet":true,"no_music":true}`)), http.StatusOK, nil)
	boss.do("PUT", "/api/v1/conference/rooms/7002", "application/json",
		bytes.NewReader([]byte(`{"name":"Board","quiet":true,"no_music":true,"pin":"2468"}`)), http.StatusOK, nil)
	sb := a.livePorts().Sim()
	phones := []*proslicsim.Phone{sb.Phone("fxs1"), sb.Phone("fxs2"), sb.Phone("fxs3")}
	hz := []float64{500, 900, 1300}
	for i, p := range phones {
		p.OffHook()
		time.Sleep(200 * time.Millisecond) // dial tone first
		if err := p.Dial("7001"); err != nil {
			t.Fatal(err)
		}
		eventually(t, 15*time.Second, fmt.Sprintf("party %d in room 7001", i+1), func() bool { return len(roomParties(a, "7001")) == i+1 })
	}
	check := func(what string, heard [][]int16, want [][]bool) {
		t.Helper()
		for i := range heard {
			for j := range hz {
				share := toneShare(heard[i], hz[j])
				if want[i][j] && share < 0.15 || !want[i][j] && share > 0.03 {
					t.Errorf("%s: phone %d hears %.0f Hz at %.2f of its power, want heard %v", what, i+1, hz[j], share, want[i][j])
				}
			}
		}
	}
	check("all talking", talkAll(t, phones, hz), [][]bool{{false, true, true}, {true, false, true}, {true, true, false}})

	id := roomParties(a, "7001")[0].ID
	boss.do("PUT", fmt.Sprintf("/api/v1/conference/live/7001/parties/%d", id), "application/json",
		bytes.NewReader([]byte(`{"muted":true}`)), http.StatusNoContent, nil)
	if p := roomParties(a, "7001"); !p[0].Muted || p[0].Number != "201" {
		t.Fatalf("parties after the mute %+v", p)
	}
	check("201 muted", talkAll(t, phones, hz), [][]bool{{false, true, true}, {false, false, true}, {false, true, false}})

	// The PIN room: a wrong PIN, then the right one.
	p4 := sb.Phone("fxs4")
	p4.OffHook()
	time.Sleep(200 * time.Millisecond)
	if err := p4.Dial("7002"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the PIN prompt", func() bool { x := p4.Heard(); return len(x) > 4000 && loud(x[len(x)-4000:]) })
	if err := p4.Dial("1111#"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if n := len(roomParties(a, "7002")); n != 0 {
		t.Fatalf("a wrong PIN let %d in", n)
	}
	if err := p4.Dial("2468#"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the PIN's party in room 7002", func() bool { return len(roomParties(a, "7002")) == 1 })

	for _, p := range append(phones, p4) {
		p.OnHook()
	}
	eventually(t, 10*time.Second, "the rooms empty", func() bool { return len(a.mediaServices().conf.Status()) == 0 })
}

// loud reports whether x is more than silence.
func loud(x []int16) bool {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return e/float64(len(x)) > 200*200
}

// An extension forwarded to voicemail in the running box: 202 forwards
// every call to *96 and box 8001; phone 201 dials 202, hears the greeting
// and the beep, talks (a 700 Hz tone) and hangs up, and the message is in
// box 8001 from 201 with the tone in it. Before the switch's forward knew
// the call centre's numbers, the caller heard "not found".
func TestForwardToVoicemailBox(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	conf := ccTestPBX()
	for i := range conf.Extensions {
		if conf.Extensions[i].Number == "202" {
			conf.Extensions[i].Forward.Always = "*968001"
		}
	}
	a := bootCC(t, 27600, conf, ccTestConfig(t))
	vm := a.mediaServices().vm
	if _, err := vm.PutBox(voicemail.BoxInput{PIN: "1234", Box: voicemail.Box{Number: "8001", Kind: voicemail.KindAgent,
		Extensions: []string{"202"}}}); err != nil {
		t.Fatal(err)
	}
	p := a.livePorts().Sim().Phone("fxs1")
	p.OffHook()
	time.Sleep(200 * time.Millisecond) // dial tone first
	if err := p.Dial("202"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the beep", func() bool { return containsTone(p.Heard(), 1000) })
	p.ClearHeard()
	p.Speak(sine8k(700, 8000*3))
	eventually(t, 20*time.Second, "two seconds said", func() bool { return len(p.Heard()) >= 8000*2 })
	p.OnHook()
	var msgs []voicemail.Message
	eventually(t, 15*time.Second, "the message kept", func() bool {
		var err error
		msgs, err = vm.Messages("8001")
		return err == nil && len(msgs) == 1
	})
	if m := msgs[0]; m.Caller != "201" || m.Duration < time.Second {
		t.Fatalf("message %+v", m)
	}
	x := messageAudio(t, vm, "8001", msgs[0].ID)
	if !containsTone(x, 700) {
		t.Fatal("the message does not carry the caller's tone")
	}
}
