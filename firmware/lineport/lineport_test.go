package lineport

import (
	"testing"

	"callbox/board/proslic"
	"callbox/board/si3050"
	"callbox/telephony/line"
)

func TestFXSEvent(t *testing.T) {
	tests := []struct {
		in   proslic.EventKind
		want line.FXSEventKind
		ok   bool
	}{
		{proslic.OffHook, line.OffHook, true},
		{proslic.OnHook, line.OnHook, true},
		{proslic.Flash, line.Flash, true},
		{proslic.VBATLoss, line.LineFault, true},
		{proslic.PortFailed, line.LineFault, true},
		{proslic.RingPause, 0, false},
		{proslic.VBATRestored, 0, false},
	}
	for _, tt := range tests {
		got, ok := FXSEvent(proslic.Event{Kind: tt.in})
		if ok != tt.ok || (ok && got.Kind != tt.want) {
			t.Errorf("FXSEvent(%v) = %v, %v; want %v, %v", tt.in, got.Kind, ok, tt.want, tt.ok)
		}
	}
	if got, ok := FXSEvent(proslic.Event{Kind: proslic.PulseDigit, Digit: '7'}); !ok || got.Kind != line.PulseDigit || got.Digit != '7' {
		t.Errorf("FXSEvent(pulse digit 7) = %+v, %v", got, ok)
	}
}

func TestFXOEvent(t *testing.T) {
	tests := []struct {
		in   si3050.EventKind
		want line.FXOEventKind
	}{
		{si3050.RingStart, line.RingStart},
		{si3050.RingEnd, line.RingEnd},
		{si3050.RingingStopped, line.RingingStopped},
		{si3050.PolarityReversal, line.PolarityReversal},
		{si3050.BatteryLost, line.BatteryLost},
		{si3050.BatteryRestored, line.BatteryRestored},
		{si3050.LoopDrop, line.LoopDrop},
		{si3050.LoopRestored, line.LoopRestored},
	}
	for _, tt := range tests {
		got, ok := FXOEvent(si3050.Event{Kind: tt.in, Count: 3})
		if !ok || got.Kind != tt.want || got.Count != 3 {
			t.Errorf("FXOEvent(%v) = %+v, %v; want kind %v with the count kept", tt.in, got, ok, tt.want)
		}
	}
}
