package line_test

import (
	"strings"
	"testing"
	"time"

	"callbox/dsp/callerid"
	"callbox/telephony/line"
)

func TestConfigErrors(t *testing.T) {
	clk := newClock()
	port := &recFXS{clk: clk}
	fxs := []struct {
		cfg  line.FXSConfig
		want string
	}{
		{line.FXSConfig{Country: "XX"}, "unknown country"},
		{line.FXSConfig{Cadence: []time.Duration{time.Second}}, "on/off pairs"},
		{line.FXSConfig{TimeoutTone: "howler"}, "timeout tone"},
		{line.FXSConfig{CallerID: &callerid.Preset{Name: "odd", Scheme: callerid.SchemeV23}}, "no v23 framing"},
	}
	for _, tc := range fxs {
		_, err := line.NewFXS(tc.cfg, port, clk, &plan{}, &fxsRec{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "line: ") {
			t.Errorf("NewFXS(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := line.NewFXS(line.FXSConfig{}, nil, clk, &plan{}, &fxsRec{}); err == nil {
		t.Error("NewFXS without a port")
	}
	fxo := []struct {
		cfg  line.FXOConfig
		want string
	}{
		{line.FXOConfig{Country: "XX"}, "unknown country"},
		{line.FXOConfig{EchoTaps: 5}, "echo"},
	}
	for _, tc := range fxo {
		_, err := line.NewFXO(tc.cfg, &recFXO{}, clk, &fxoRec{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "line: ") {
			t.Errorf("NewFXO(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := line.NewFXO(line.FXOConfig{}, &recFXO{}, nil, &fxoRec{}); err == nil {
		t.Error("NewFXO without a clock")
	}
	for _, c := range []string{"", "cn", "US", "uk", "EU", "etsi", "JP"} {
		if _, err := line.NewFXS(line.FXSConfig{Country: c}, port, clk, &plan{}, &fxsRec{}); err != nil {
			t.Errorf("NewFXS(country %q): %v", c, err)
		}
		if _, err := line.NewFXO(line.FXOConfig{Country: c}, &recFXO{}, clk, &fxoRec{}); err != nil {
			t.Errorf("NewFXO(country %q): %v", c, err)
		}
	}
}

// TestFXSCountryCallerID: without a preset of its own a channel presents
// caller ID as its country does (dsp/country): Bellcore after the first
// ring in CN, US and JP; before the first ring after a polarity reversal in
// the EU, with the dual-tone alert first in the UK (BT SIN 227).
func TestFXSCountryCallerID(t *testing.T) {
	tests := []struct {
		country string
		first   string        // the first port command
		audio   time.Duration // when the first caller ID audio (alert or data) starts
	}{
		{"CN", "0s ring [1s 4s]", 1500 * time.Millisecond},
		{"US", "0s ring [2s 4s]", 2500 * time.Millisecond},
		{"JP", "0s ring [1s 2s]", 1500 * time.Millisecond},
		{"EU", "0s feed oht-reverse", 300 * time.Millisecond},
		{"etsi", "0s feed oht-reverse", 300 * time.Millisecond},
		{"UK", "0s feed oht-reverse", 150 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.country, func(t *testing.T) {
			p, got := presentCallerID(t, line.FXSConfig{Country: tt.country})
			if len(p.cmds) == 0 || p.cmds[0] != tt.first {
				t.Fatalf("commands %q, want %q first", p.cmds, tt.first)
			}
			if d := got - tt.audio; d < -10*time.Millisecond || d > 10*time.Millisecond {
				t.Fatalf("caller id audio starts %v after Ring, want %v", got, tt.audio)
			}
		})
	}
}
