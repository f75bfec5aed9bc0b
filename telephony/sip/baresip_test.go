package sip

import (
	"bytes"
	"context"
	"testing"
	"time"

	"callbox/telephony/sip/digest"
	"callbox/telephony/sip/sdpneg"
	"callbox/telephony/sip/siptest"
)

func TestBaresipRegistersAndCalls(t *testing.T) {
	box := startBox(t, Config{AuthenticateCalls: true, DigestAlgorithms: []digest.Algorithm{digest.MD5}}, directory{"201": "pw201"}, answering)
	bs := siptest.StartBaresip(t, box.UDPAddr().String(), freeUDPPort(t), "201", "pw201", 4, "/dial sip:202@"+box.UDPAddr().String())
	// baresip may dial before its REGISTER is through: take both in any order.
	evs := box.rec.all(t, 5*time.Second, "registered", "offered", "answered")
	if reg := evs["registered"]; reg.bind.Extension != "201" || reg.bind.UserAgent == "" {
		t.Errorf("binding %+v", reg.bind)
	}
	l := evs["offered"].leg
	if evs["answered"].leg != l {
		t.Fatal("another leg answered")
	}
	if m, ok := l.Media(); !ok || (m.Codec.Name != "PCMU" && m.Codec.Name != "PCMA") || m.Remote.Port() == 0 {
		t.Errorf("media %+v", m)
	}
	time.Sleep(300 * time.Millisecond)
	if l.State() != StateConfirmed {
		t.Fatalf("call not up: %v", l.State())
	}
	if err := l.Hangup(); err != nil {
		t.Fatal(err)
	}
	if ev := box.rec.next(t, "hungup", time.Second); ev.cause != CauseNormal {
		t.Errorf("cause %v", ev.cause)
	}

	// Called: the box rings baresip, which answers by itself.
	out, err := box.Dial(context.Background(), DialRequest{Extension: "201", From: Party{User: "300", Display: "Queue"}})
	if err != nil {
		t.Fatal(err)
	}
	if ev := box.rec.next(t, "answered", 5*time.Second); ev.leg != out {
		t.Fatal("another leg answered")
	}
	if m, ok := out.Media(); !ok || m.Codec != sdpneg.PCMU || m.Remote.Port() == 0 {
		t.Errorf("outbound media %+v", m)
	}
	time.Sleep(200 * time.Millisecond)
	out.Hangup()
	if ev := box.rec.next(t, "hungup", time.Second); ev.leg != out || ev.cause != CauseNormal {
		t.Errorf("outbound hangup %v", ev.cause)
	}
	log := bs.Stop()
	box.rec.next(t, "unregistered:unregistered", 3*time.Second)
	if bytes.Count(log, []byte("Call established")) != 2 || bytes.Count(log, []byte("session closed")) != 2 {
		t.Errorf("baresip did not see two calls established and closed:\n%s", log)
	}
}
