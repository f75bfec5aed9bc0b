package pcm

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseDevice(t *testing.T) {
	tests := []struct {
		in           string
		card, device int
		err          string
	}{
		{"hw:0,0", 0, 0, ""},
		{"hw:1,3", 1, 3, ""},
		{"hw:2", 2, 0, ""},
		{"pcmC0D1", 0, 1, ""},
		{"hw:sndrpii2s,0", 0, 0, "card and device must be numbers"},
		{"hw:0,", 0, 0, "card and device must be numbers"},
		{"hw:-1,0", 0, 0, "card and device must be numbers"},
		{"hw:256,0", 0, 0, "card and device must be numbers"},
		{"plughw:0,0", 0, 0, `device "plughw:0,0": want hw:CARD,DEV`},
		{"", 0, 0, "want hw:CARD,DEV"},
	}
	for _, tt := range tests {
		c, d, err := ParseDevice(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseDevice(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || c != tt.card || d != tt.device {
			t.Errorf("ParseDevice(%q) = %d, %d, %v; want %d, %d", tt.in, c, d, err, tt.card, tt.device)
		}
	}
}

// FuzzParseDevice: a name that parses is one of the two spellings of the
// numbers it returned.
func FuzzParseDevice(f *testing.F) {
	for _, s := range []string{"hw:0,0", "hw:12", "pcmC3D4", "hw:,", "pcmCD", "hw:1,2,3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, d, err := ParseDevice(s)
		if err != nil {
			return
		}
		if c < 0 || c > 255 || d < 0 || d > 255 {
			t.Fatalf("%q gave card %d device %d", s, c, d)
		}
		canon := map[string]bool{
			fmt.Sprintf("hw:%d,%d", c, d): true, fmt.Sprintf("pcmC%dD%d", c, d): true,
		}
		if d == 0 {
			canon[fmt.Sprintf("hw:%d", c)] = true
		}
		// Leading zeros are accepted: compare without them.
		norm := strings.NewReplacer("hw:0", "hw:", ",0", ",", "C0", "C", "D0", "D").Replace
		for k := range canon {
			if norm(norm(norm(k))) == norm(norm(norm(s))) {
				return
			}
		}
		t.Fatalf("%q parsed as card %d device %d", s, c, d)
	})
}
