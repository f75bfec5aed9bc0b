package sip

import (
	"strings"
	"testing"
	"time"
)

func TestParseInfoDTMF(t *testing.T) {
	tests := []struct {
		ctype, body string
		digit       byte
		dur         time.Duration
		ok          bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 160 * time.Millisecond, true},
		{"application/dtmf-relay", "signal= #\nduration=100", '#', 100 * time.Millisecond, true},
		{"application/dtmf-relay", "Signal=a\r\n", 'A', 250 * time.Millisecond, true},
		{"application/dtmf-relay", "Signal=11\r\n", 0, 0, false},
		{"application/dtmf-relay", "Duration=100\r\n", 0, 0, false},
		{"application/dtmf-relay", "Signal=1\r\nDuration=-5\r\n", '1', 250 * time.Millisecond, true},
		{"application/dtmf", "*", '*', 250 * time.Millisecond, true},
		{"application/dtmf", "E", 0, 0, false},
		{"text/plain", "5", 0, 0, false},
	}
	for _, tt := range tests {
		d, dur, ok := parseInfoDTMF(tt.ctype, []byte(tt.body))
		if ok != tt.ok || ok && (d != tt.digit || dur != tt.dur) {
			t.Errorf("%s %q: %q %v %v", tt.ctype, tt.body, d, dur, ok)
		}
	}
}

func FuzzParseInfoDTMF(f *testing.F) {
	f.Add(true, "Signal=5\r\nDuration=160\r\n")
	f.Add(false, "#")
	f.Add(true, "Signal==\nDuration=99999999999999999999")
	f.Fuzz(func(t *testing.T, relay bool, body string) {
		ctype := "application/dtmf"
		if relay {
			ctype = "application/dtmf-relay"
		}
		d, dur, ok := parseInfoDTMF(ctype, []byte(body))
		if !ok {
			return
		}
		if !strings.ContainsRune("0123456789*#ABCD", rune(d)) || d == 0 {
			t.Fatalf("digit %q", d)
		}
		if dur <= 0 || dur >= 10*time.Second {
			t.Fatalf("duration %v", dur)
		}
	})
}
