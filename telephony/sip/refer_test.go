package sip

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseReferTo(t *testing.T) {
	tests := []struct {
		in       string
		user     string
		target   string
		replaces *Replaces
		err      bool
	}{
		{in: "<sip:204@box>", user: "204", target: "sip:204@box"},
		{in: "sip:204@box;transport=udp", user: "204", target: "sip:204@box"},
		{in: `"Desk" <sip:204@10.0.0.1:5060;user=phone>;x=y`, user: "204", target: "sip:204@10.0.0.1:5060;user=phone"},
		{in: "<sip:204@box?Replaces=consult-1%40host%3Bto-tag%3Dabc%3Bfrom-tag%3Ddef>", user: "204", target: "sip:204@box",
			replaces: &Replaces{CallID: "consult-1@host", ToTag: "abc", FromTag: "def"}},
		{in: "<sip:204@box?Replaces=x%3Bfrom-tag%3D1%3Bto-tag%3D2%3Bearly-only&Require=replaces>", user: "204", target: "sip:204@box",
			replaces: &Replaces{CallID: "x", ToTag: "2", FromTag: "1", EarlyOnly: true}},
		{in: "<tel:+8613800138000>", user: "+8613800138000", target: "tel:+8613800138000"},
		{in: "<sip:204@box?Replaces=x%3Bto-tag%3Dabc>", err: true},             // no from-tag
		{in: "<sip:204@box?Replaces=%3Bto-tag%3Da%3Bfrom-tag%3Db>", err: true}, // no call-id
		{in: "<sip:204@box?Replaces=%zz>", err: true},
		{in: "<sip:204@box", err: true},
		{in: "<http://example.com/>", err: true},
		{in: "<*>", err: true},
		{in: "", err: true},
	}
	for _, tt := range tests {
		got, err := ParseReferTo(tt.in)
		if tt.err {
			if !errors.Is(err, ErrRefer) {
				t.Errorf("%q: err %v, want ErrRefer", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got.User != tt.user || got.Target != tt.target || (got.Replaces == nil) != (tt.replaces == nil) ||
			got.Replaces != nil && *got.Replaces != *tt.replaces || got.Attended() != (tt.replaces != nil) {
			t.Errorf("%q: %+v (replaces %+v)", tt.in, got, got.Replaces)
		}
	}
}

func FuzzParseReferTo(f *testing.F) {
	f.Add("<sip:204@box?Replaces=consult-1%40host%3Bto-tag%3Dabc%3Bfrom-tag%3Ddef>")
	f.Add(`"Desk" <sip:204@10.0.0.1:5060;user=phone>;x=y`)
	f.Add("<tel:+8613800138000>")
	f.Add("sip:a@b?Replaces=")
	f.Fuzz(func(t *testing.T, s string) {
		tr, err := ParseReferTo(s)
		if err != nil {
			if !errors.Is(err, ErrRefer) {
				t.Fatalf("error %v is not ErrRefer", err)
			}
			return
		}
		// Rendering and parsing again must give the same transfer.
		again, err := ParseReferTo(tr.ReferTo())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", tr.ReferTo(), err)
		}
		if again.Target != tr.Target || again.User != tr.User || (again.Replaces == nil) != (tr.Replaces == nil) ||
			again.Replaces != nil && *again.Replaces != *tr.Replaces {
			t.Fatalf("round trip %+v -> %+v", tr, again)
		}
	})
}

func TestSippRefer(t *testing.T) {
	box := startBox(t, md5Only, directory{"201": "pw201"}, answering)
	out, err := sipp(t, "refer.xml", box.UDPAddr(), "-s", "201", "-au", "201", "-ap", "pw201")
	if err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	ev := box.rec.next(t, "transfer", time.Second)
	x := ev.xfer
	if x.User != "204" || !x.Attended() || x.Replaces.CallID != "consult-1@host" || x.Replaces.ToTag != "abc" ||
		x.Replaces.FromTag != "def" || !strings.Contains(x.ReferredBy, "201") {
		t.Fatalf("transfer %+v %+v", x, x.Replaces)
	}
	if ev := box.rec.next(t, "hungup", time.Second); ev.cause != CauseNormal {
		t.Errorf("cause %v", ev.cause)
	}
}
