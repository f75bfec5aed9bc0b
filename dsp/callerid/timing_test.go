package callerid

import (
	"math"
	"testing"
	"time"

	"callbox/dsp/callerid/fsk"
)

func TestPresets(t *testing.T) {
	if len(Presets) != 5 {
		t.Fatalf("%d presets", len(Presets))
	}
	for name, p := range Presets {
		if p.Name != name {
			t.Errorf("preset %q filed under %q", p.Name, name)
		}
		data := 0
		for i, s := range p.Steps {
			if s.Kind == Data {
				data++
			}
			if s.Min > s.Nominal || s.Max != 0 && s.Nominal > s.Max {
				t.Errorf("%s step %d (%v): min %v nominal %v max %v out of order", name, i, s.Kind, s.Min, s.Nominal, s.Max)
			}
		}
		if data != 1 || p.Steps[len(p.Steps)-1].Kind != Cadence {
			t.Errorf("%s: %d data steps, last step %v; want one, then the cadence", name, data, p.Steps[len(p.Steps)-1].Kind)
		}
		switch p.Scheme {
		case SchemeBell202:
			if p.FSK.Modem != fsk.Bell202 {
				t.Errorf("%s: Bell 202 scheme with %s modem", name, p.FSK.Modem.Name)
			}
		case SchemeV23:
			if p.FSK.Modem != fsk.V23 {
				t.Errorf("%s: V.23 scheme with %s modem", name, p.FSK.Modem.Name)
			}
		case SchemeDTMF:
			if _, err := EncodeDTMF(Message{Number: "123"}, p.DTMF.Start, p.DTMF.End); err != nil || p.DTMF.On < 40*ms {
				t.Errorf("%s: DTMF framing %v: %v", name, p.DTMF, err)
			}
		default:
			t.Errorf("%s: scheme %v", name, p.Scheme)
		}
	}
	// The figures the line code depends on.
	if s := Bellcore.Steps[1]; s.Kind != Wait || s.Min != 500*ms {
		t.Errorf("Bellcore: %+v, want 500 ms after the first ring", s)
	}
	if s := ETSIDTAS.Steps; s[0].Kind != Reverse || s[2].Kind != AlertTone || s[3].Min != 45*ms || s[3].Max != 500*ms {
		t.Errorf("ETSI DT-AS steps %+v", s)
	}
	if s := ETSIRingPulse.Steps; s[0].Kind != Ring || s[0].Max != 300*ms || s[1].Min != 500*ms {
		t.Errorf("ETSI RP-AS steps %+v", s)
	}
}

// goertzel returns the power of x at f Hz, relative to a full-scale sine.
func goertzel(x []int16, f float64) float64 {
	w := 2 * math.Pi * f / 8000
	var s1, s2 float64
	for _, v := range x {
		s := float64(v) + 2*math.Cos(w)*s1 - s2
		s2, s1 = s1, s
	}
	p := s1*s1 + s2*s2 - 2*math.Cos(w)*s1*s2
	return p / (float64(len(x)) * float64(len(x)) / 4)
}

func TestAlertTone(t *testing.T) {
	x := AppendAlertTone(nil, 100*time.Millisecond, -13)
	if len(x) != 800 {
		t.Fatalf("%d samples for 100 ms", len(x))
	}
	want := float64(fsk.Amplitude(-13)) * float64(fsk.Amplitude(-13))
	for _, f := range []float64{AlertTone1, AlertTone2} {
		if p := goertzel(x, f); math.Abs(10*math.Log10(p/want)) > 0.5 {
			t.Errorf("%v Hz at %.1f dB from the set level", f, 10*math.Log10(p/want))
		}
	}
	for _, f := range []float64{1200, 1700, 2440, 3000} {
		if p := goertzel(x, f); 10*math.Log10(p/want) > -20 {
			t.Errorf("%v Hz only %.1f dB below the tones", f, 10*math.Log10(p/want))
		}
	}
}
