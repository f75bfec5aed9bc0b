package sip

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"callbox/telephony/sip/digest"
	"callbox/telephony/sip/sdpneg"
)

// registerAt registers ext at the box with a contact on another port (where
// sipp listens), authenticating with MD5 through icholy/digest.
func registerAt(t *testing.T, box *testBox, ext, pass string, contactPort int) {
	t.Helper()
	ph := newPhone(t)
	contact := "<sip:" + ext + "@127.0.0.1:" + strconv.Itoa(contactPort) + ">"
	res := ph.register(t, box.UDPAddr(), ext, contact, 1, "r-"+ext)
	auth, _ := icholyAuth(t, res, "sip:"+box.UDPAddr().String(), ext, pass, 1)
	if res := ph.register(t, box.UDPAddr(), ext, contact, 2, "r-"+ext, auth); res.StatusCode != 200 {
		t.Fatalf("register %s: %d", ext, res.StatusCode)
	}
}

func TestSippBoxCallsHoldsAndHangsUp(t *testing.T) {
	needSipp(t)
	box := startBox(t, Config{DigestAlgorithms: []digest.Algorithm{digest.MD5}}, directory{"202": "pw"}, nil)
	port := freeUDPPort(t)
	wait := sippAt(t, port, "uas_hold.xml")
	registerAt(t, box, "202", "pw", port)
	waitBound(t, port)

	ctx := context.Background()
	l, err := box.Dial(ctx, DialRequest{Extension: "202", From: Party{User: "201", Display: "Agent"}})
	if err != nil {
		t.Fatal(err)
	}
	if ev := box.rec.next(t, "progress", 5*time.Second); ev.code != 180 {
		t.Errorf("progress %d", ev.code)
	}
	box.rec.next(t, "answered", 5*time.Second)
	m, ok := l.Media()
	if !ok || m.Codec != sdpneg.PCMU || m.Ptime != 30 || m.DTMFPT != 101 || m.Direction != sdpneg.SendRecv {
		t.Fatalf("media %+v", m)
	}
	if err := l.Hold(ctx); err != nil {
		t.Fatal(err)
	}
	if m, _ := l.Media(); m.Direction != sdpneg.SendOnly {
		t.Fatalf("held media %+v", m)
	}
	if err := l.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if m, _ := l.Media(); m.Direction != sdpneg.SendRecv {
		t.Fatalf("resumed media %+v", m)
	}
	if err := l.Hangup(); err != nil {
		t.Fatal(err)
	}
	if ev := box.rec.next(t, "hungup", time.Second); ev.cause != CauseNormal {
		t.Errorf("cause %v", ev.cause)
	}
	if out, err := wait(); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	if err := l.Hold(ctx); !errors.Is(err, ErrEnded) {
		t.Errorf("hold after hangup: %v", err)
	}
	if n := box.ports.outstanding(); n != 0 {
		t.Errorf("%d RTP ports not released", n)
	}
}

func TestDialUnregistered(t *testing.T) {
	box := startBox(t, Config{DigestAlgorithms: []digest.Algorithm{digest.MD5}}, directory{"202": "pw"}, nil)
	if _, err := box.Dial(context.Background(), DialRequest{Extension: "202"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("dial of unregistered extension: %v", err)
	}
	registerAt(t, box, "202", "pw", 5999)
	cs := box.Contacts("202")
	if len(cs) != 1 || cs[0].Contact != "sip:202@127.0.0.1:5999" {
		t.Fatalf("contacts %+v", cs)
	}
	if _, err := box.Dial(context.Background(), DialRequest{Extension: "202", Contact: "sip:202@127.0.0.1:6000"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("dial of a contact 202 does not have: %v", err)
	}
}

func TestSippBoxCancels(t *testing.T) {
	for _, tt := range []struct {
		name    string
		timeout time.Duration
		cause   Cause
	}{{"hangup", 0, CauseCancelled}, {"ring timeout", 300 * time.Millisecond, CauseNoAnswer}} {
		t.Run(tt.name, func(t *testing.T) {
			needSipp(t)
			box := startBox(t, Config{DigestAlgorithms: []digest.Algorithm{digest.MD5}}, directory{"202": "pw"}, nil)
			port := freeUDPPort(t)
			wait := sippAt(t, port, "uas_cancel.xml")
			registerAt(t, box, "202", "pw", port)
			waitBound(t, port)
			l, err := box.Dial(context.Background(), DialRequest{Extension: "202", From: Party{User: "201"}, RingTimeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			box.rec.next(t, "progress", 5*time.Second)
			if tt.timeout == 0 {
				l.Hangup()
			}
			if ev := box.rec.next(t, "hungup", 5*time.Second); ev.cause != tt.cause {
				t.Errorf("cause %v, want %v", ev.cause, tt.cause)
			}
			if out, err := wait(); err != nil {
				t.Fatalf("sipp: %v\n%s", err, out)
			}
		})
	}
}

func TestSippDialContextCancels(t *testing.T) {
	needSipp(t)
	box := startBox(t, Config{DigestAlgorithms: []digest.Algorithm{digest.MD5}}, directory{"202": "pw"}, nil)
	port := freeUDPPort(t)
	wait := sippAt(t, port, "uas_cancel.xml")
	registerAt(t, box, "202", "pw", port)
	waitBound(t, port)
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := box.Dial(ctx, DialRequest{Extension: "202"}); err != nil {
		t.Fatal(err)
	}
	box.rec.next(t, "progress", 5*time.Second)
	cancel()
	if ev := box.rec.next(t, "hungup", 5*time.Second); ev.cause != CauseCancelled || ev.leg.From().User != "callbox" {
		t.Errorf("cause %v from %+v", ev.cause, ev.leg.From())
	}
	if out, err := wait(); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
}

// An agent's phone set to answer by itself is asked to in the INVITE (the
// sipp phone fails the call without both headers).
func TestSippDialAutoAnswer(t *testing.T) {
	needSipp(t)
	box := startBox(t, Config{DigestAlgorithms: []digest.Algorithm{digest.MD5}}, directory{"202": "pw"}, nil)
	port := freeUDPPort(t)
	wait := sippAt(t, port, "uas_autoanswer.xml")
	registerAt(t, box, "202", "pw", port)
	waitBound(t, port)
	l, err := box.Dial(context.Background(), DialRequest{Extension: "202", From: Party{User: "13800138000"}, AutoAnswer: true})
	if err != nil {
		t.Fatal(err)
	}
	box.rec.next(t, "answered", 5*time.Second)
	if err := l.Hangup(); err != nil {
		t.Fatal(err)
	}
	if out, err := wait(); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
}
