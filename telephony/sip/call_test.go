package sip

import (
	"strings"
	"testing"
	"time"

	"callbox/telephony/sip/digest"
	"callbox/telephony/sip/sdpneg"
)

var md5Only = Config{AuthenticateCalls: true, DigestAlgorithms: []digest.Algorithm{digest.MD5}}

// answering is the test switch's behaviour for a callee that picks up.
// A caller that hangs up first makes these fail with ErrEnded; the tests
// then miss the events they wait for.
func answering(l *Leg) {
	if err := l.Ringing(true); err != nil {
		return
	}
	time.Sleep(20 * time.Millisecond)
	l.Answer()
}

func TestSippCallAnswered(t *testing.T) {
	box := startBox(t, md5Only, directory{"201": "pw201"}, answering)
	out, err := sipp(t, "uac_call.xml", box.UDPAddr(), "-s", "201", "-au", "201", "-ap", "pw201")
	if err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	off := box.rec.next(t, "offered", time.Second)
	l := off.leg
	if l.Extension() != "201" || l.From().User != "201" || l.From().Display != "Agent" || l.To().User != "202" || l.Direction() != Inbound {
		t.Errorf("leg parties: ext %q from %+v to %+v", l.Extension(), l.From(), l.To())
	}
	m, ok := l.Media()
	if !ok || m.Codec != sdpneg.PCMA || m.DTMFPT != 101 || m.Ptime != 20 || m.Direction != sdpneg.SendRecv || m.Remote.Port() == 0 {
		t.Errorf("media %+v %v", m, ok)
	}
	// The INFO may be handled before the ACK: take both in any order.
	if evs := box.rec.all(t, time.Second, "answered", "dtmf"); evs["dtmf"].digit != '5' {
		t.Errorf("digit %q", evs["dtmf"].digit)
	}
	if ev := box.rec.next(t, "hungup", time.Second); ev.cause != CauseNormal || ev.leg != l {
		t.Errorf("hung up with %v", ev.cause)
	}
	if n := box.ports.outstanding(); n != 0 {
		t.Errorf("%d RTP ports not released", n)
	}
}

// switchFor scripts the test switch: 202 answers, 203 is busy, others ring.
func switchFor(l *Leg) {
	switch l.To().User {
	case "202":
		answering(l)
	case "203":
		l.Ringing(false)
		l.Reject(CauseBusy)
	default:
		l.Ringing(false)
	}
}

func TestSippCallOutcomes(t *testing.T) {
	tests := []struct {
		scenario string
		to       string
		offered  bool
		cause    Cause
		events   []string
	}{
		{"cancel.xml", "204", true, CauseCancelled, nil},
		{"nocodec.xml", "202", false, 0, nil},
		{"busy.xml", "203", true, CauseBusy, nil},
		{"hold.xml", "202", true, CauseNormal, []string{"answered", "media:hold", "media:resume"}},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			behave := switchFor
			if tt.scenario == "cancel.xml" {
				// cancel.xml calls 202 but the switch must only ring.
				behave = func(l *Leg) { l.Ringing(false) }
			}
			box := startBox(t, md5Only, directory{"201": "pw201"}, behave)
			out, err := sipp(t, tt.scenario, box.UDPAddr(), "-s", "201", "-au", "201", "-ap", "pw201")
			if err != nil {
				t.Fatalf("sipp: %v\n%s", err, out)
			}
			if !tt.offered {
				time.Sleep(20 * time.Millisecond)
				for _, ev := range box.rec.drain() {
					t.Errorf("unexpected %s", ev.kind)
				}
				return
			}
			for _, want := range tt.events {
				kind, detail, _ := strings.Cut(want, ":")
				ev := box.rec.next(t, kind, time.Second)
				if detail != "" && ev.media.OnHold() != (detail == "hold") {
					t.Errorf("%s: media %+v", want, ev.media)
				}
			}
			if ev := box.rec.next(t, "hungup", time.Second); ev.cause != tt.cause {
				t.Errorf("cause %v, want %v", ev.cause, tt.cause)
			}
			if n := box.ports.outstanding(); n != 0 {
				t.Errorf("%d RTP ports not released", n)
			}
		})
	}
}

func TestSippMalformed(t *testing.T) {
	box := startBox(t, Config{}, directory{}, nil)
	out, err := sipp(t, "malformed.xml", box.UDPAddr())
	if err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
}

func TestInboundRingLimit(t *testing.T) {
	cfg := md5Only
	cfg.InboundRingLimit = 200 * time.Millisecond
	box := startBox(t, cfg, directory{"201": "pw201"}, func(l *Leg) { l.Ringing(false) })
	if out, err := sipp(t, "noanswer.xml", box.UDPAddr(), "-s", "201", "-au", "201", "-ap", "pw201"); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	if ev := box.rec.next(t, "hungup", time.Second); ev.cause != CauseNoAnswer {
		t.Errorf("cause %v", ev.cause)
	}
}

func TestSippRegisterTCP(t *testing.T) {
	box := startBox(t, md5Only, directory{"201": "s3cret"}, nil)
	out, err := sipp(t, "register.xml", box.TCPAddr(), "-t", "t1", "-s", "201", "-au", "201", "-ap", "s3cret")
	if err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	ev := box.rec.next(t, "registered", time.Second)
	if ev.bind.Transport != "TCP" {
		t.Errorf("binding %+v", ev.bind)
	}
}

func TestSippCallTCP(t *testing.T) {
	box := startBox(t, md5Only, directory{"201": "pw201"}, answering)
	out, err := sipp(t, "hold.xml", box.TCPAddr(), "-t", "t1", "-s", "201", "-au", "201", "-ap", "pw201")
	if err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	box.rec.next(t, "answered", time.Second)
	if ev := box.rec.next(t, "hungup", time.Second); ev.cause != CauseNormal {
		t.Errorf("cause %v", ev.cause)
	}
}

func TestSippOfferless(t *testing.T) {
	box := startBox(t, md5Only, directory{"201": "pw201"}, answering)
	out, err := sipp(t, "offerless.xml", box.UDPAddr(), "-s", "201", "-au", "201", "-ap", "pw201")
	if err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	l := box.rec.next(t, "answered", time.Second).leg
	if m, ok := l.Media(); !ok || m.Codec != sdpneg.PCMA || m.Ptime != 30 || m.DTMFPT != 101 {
		t.Errorf("media from the ACK: %+v %v", m, ok)
	}
	box.rec.next(t, "hungup", time.Second)
}
