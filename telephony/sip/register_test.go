package sip

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"callbox/telephony/sip/digest"
)

func TestSippRegister(t *testing.T) {
	// sipp answers only the first challenge and only with MD5; SHA-256 is
	// exercised against github.com/icholy/digest in TestRegisterSHA256.
	for _, algs := range [][]digest.Algorithm{{digest.MD5}, {digest.MD5, digest.SHA256}} {
		t.Run(fmt.Sprint(len(algs)), func(t *testing.T) {
			box := startBox(t, Config{DigestAlgorithms: algs}, directory{"201": "s3cret"}, nil)
			out, err := sipp(t, "register.xml", box.UDPAddr(), "-s", "201", "-au", "201", "-ap", "s3cret")
			if err != nil {
				t.Fatalf("sipp: %v\n%s", err, out)
			}
			if n := len(box.Registrations()); n != 0 {
				t.Fatalf("%d registrations left after Contact: *", n)
			}
			// The observer saw both contacts come and go.
			for _, kind := range []string{"registered", "registered", "unregistered:unregistered", "unregistered:unregistered"} {
				if ev := box.rec.next(t, kind, time.Second); !strings.HasPrefix(ev.bind.Contact, "sip:201@127.0.0.1:") || ev.bind.UserAgent == "" && kind == "registered" && !strings.Contains(ev.bind.Contact, "line=2") {
					t.Errorf("%s: %+v", kind, ev.bind)
				}
			}
		})
	}
}

func TestSippRegisterWrongPassword(t *testing.T) {
	box := startBox(t, Config{DigestAlgorithms: []digest.Algorithm{digest.MD5}}, directory{"201": "s3cret"}, nil)
	out, err := sipp(t, "register_wrong.xml", box.UDPAddr(), "-s", "201", "-au", "201", "-ap", "guess")
	if err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	// Neither the wrong password nor an unknown user registers anything.
	out, err = sipp(t, "register_wrong.xml", box.UDPAddr(), "-s", "299", "-au", "299", "-ap", "s3cret")
	if err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	if n := len(box.Registrations()); n != 0 {
		t.Fatalf("wrong credentials registered %d contacts", n)
	}
	time.Sleep(10 * time.Millisecond)
	for _, ev := range box.rec.drain() {
		t.Errorf("unexpected event %s", ev.kind)
	}
}
