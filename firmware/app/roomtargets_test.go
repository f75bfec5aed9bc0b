package app

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"callbox/board/sim/si3050sim"
	"callbox/dsp/wav"
	"callbox/telephony/ccconf"
	"callbox/telephony/ivr"
	"callbox/telephony/sip/siptest"
)

// Conference room 7005 reached three ways in the running box, with a SIP
// party among analog ones: a caller on the line pstn2, whose inbound route
// targets the room (500 Hz); the analog phone 201, which dials 8100, an
// internal number whose flow transfers to the room's number (900 Hz); and
// baresip as the SIP phone 301, which dials the room (1700 Hz). Each hears
// the other two and not itself (Goertzel). Before, a route could not name
// a room (the validator refused the kind) and an IVR transfer to a room's
// number rang nobody.
func TestConferenceRoomFromRouteIVRAndSIP(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets and starts baresip")
	}
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Fatalf("sox not found (apt-get install sox): %v", err)
	}
	c := ccTestConfig(t)
	f, err := ivr.ParseFlow([]byte(`{"id": "toroom", "entry": "t", "nodes": [{"id": "t", "type": "transfer", "to": "7005"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c.Flows = append(c.Flows, f)
	c.InboundRoutes = append(c.InboundRoutes,
		ccconf.InboundRoute{Name: "room", Source: ccconf.SourceLine, Trunk: "pstn2", Target: ccconf.Target{Kind: ccconf.TargetRoom, Room: "7005"}},
		ccconf.InboundRoute{Name: "toroom", Source: ccconf.SourceInternal, Number: "8100", Target: ccconf.Target{Kind: ccconf.TargetFlow, Flow: "toroom"}})
	a := bootCC(t, 33200, ccTestPBX(), c)
	boss := newWebAdmin(t, a)
	boss.do("PUT", "/api/v1/conference/rooms/7005", "application/json",
		bytes.NewReader([]byte(`{"name":"Mixed","quiet":true,"no_music":true}`)), http.StatusOK, nil)

	sb := a.livePorts().Sim()
	co := sb.CO("fxo2")
	if err := co.Ring(si3050sim.Call{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the line's caller in room 7005", func() bool { return len(roomParties(a, "7005")) == 1 })
	phone := sb.Phone("fxs1")
	phone.OffHook()
	time.Sleep(200 * time.Millisecond) // dial tone first
	if err := phone.Dial("8100"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "201 in room 7005 through the flow", func() bool { return len(roomParties(a, "7005")) == 2 })

	src := filepath.Join(t.TempDir(), "tone.wav")
	tone, err := wav.Encode(sine8k(1700, 8000*40))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, tone, 0o600); err != nil {
		t.Fatal(err)
	}
	box := a.telephony().sipAddr(true)
	bs := siptest.StartBaresipAudio(t, box, freeUDP(t), "301", "phone-a-7kq2m", 40, src, "/dial sip:7005@"+box)
	eventually(t, 30*time.Second, "301 in room 7005", func() bool { return len(roomParties(a, "7005")) == 3 })

	// Everyone talks at once; the analog ends record three seconds.
	time.Sleep(time.Second)
	co.Record(8000 * 3)
	phone.ClearHeard()
	co.Play(sine8k(500, 8000*5))
	phone.Speak(sine8k(900, 8000*5))
	eventually(t, 30*time.Second, "three seconds heard on the line and at 201", func() bool {
		return len(co.Heard()) >= 8000*3 && len(phone.Heard()) >= 8000*3
	})
	lineHeard, phoneHeard := co.Heard()[8000:8000*3], phone.Heard()[8000:8000*3]
	phone.OnHook()
	_ = co.Hangup(si3050sim.BusyTone, 0)
	bs.Stop()
	if bs.Played() == "" {
		t.Fatal("baresip kept no recording of what 301 heard")
	}
	out, err := exec.Command(sox, "-V1", bs.Played(), "-r", "8000", "-c", "1", "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-").Output()
	if err != nil {
		t.Fatalf("sox reading what 301 heard: %v", err)
	}
	sipHeard := make([]int16, len(out)/2)
	for i := range sipHeard {
		sipHeard[i] = int16(uint16(out[2*i]) | uint16(out[2*i+1])<<8)
	}
	// What 301 heard while both analog parties talked: find a second of
	// it with the line's tone in it.
	var sipWin []int16
	for i := 0; i+8000 <= len(sipHeard); i += 4000 {
		if toneShare(sipHeard[i:i+8000], 500) > 0.15 {
			sipWin = sipHeard[i : i+8000]
			break
		}
	}
	hz := []float64{500, 900, 1700}
	for _, p := range []struct {
		who   string
		heard []int16
		self  int
	}{{"the line's caller", lineHeard, 0}, {"201", phoneHeard, 1}, {"SIP phone 301", sipWin, 2}} {
		if len(p.heard) == 0 {
			t.Errorf("%s heard nothing of the line's caller", p.who)
			continue
		}
		for j, f := range hz {
			share := toneShare(p.heard, f)
			if j == p.self && share > 0.03 || j != p.self && share < 0.1 {
				t.Errorf("%s hears %.0f Hz at %.2f of its power (its own: %v)", p.who, f, share, j == p.self)
			}
		}
	}
	eventually(t, 15*time.Second, "room 7005 empty", func() bool { return len(roomParties(a, "7005")) == 0 })
}
