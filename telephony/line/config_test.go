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
		if _, err := line.CountryFor(c); err != nil {
			t.Errorf("CountryFor(%q): %v", c, err)
		}
	}
}
