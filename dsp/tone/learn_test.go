package tone

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

// TestLearnSox: tones made by sox with frequencies and cadences no plan
// has are learned within 2 Hz and 20 ms, in 20 dB S/N noise; the learned
// tone then joins a plan and the detector names the recording by it.
func TestLearnSox(t *testing.T) {
	cases := []struct {
		freqs   []float64
		cadence []int
		cycles  int
		level   float64
	}{
		{[]float64{475}, []int{300, 450}, 6, -20},
		{[]float64{420, 520}, []int{400, 200}, 8, -25},
		{[]float64{600}, []int{250, 250, 750, 500}, 4, -15},
		{[]float64{330, 1020}, []int{600, 600}, 5, -30},
		{[]float64{515}, []int{150, 150}, 12, -35},
		{[]float64{380}, nil, 1, -18}, // steady
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.freqs, c.cadence), func(t *testing.T) {
			cad := c.cadence
			if cad == nil {
				cad = []int{4000, 0}
			}
			x := concat(make([]int16, 1000), soxCadence(t, c.freqs, c.level, cad, c.cycles), make([]int16, 1500))
			x = mix(x, soxNoise(t, len(x), c.level, 20))
			l, err := Learn(x)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Freqs) != len(c.freqs) {
				t.Fatalf("freqs %v, want %v", l.Freqs, c.freqs)
			}
			for _, want := range c.freqs {
				found := false
				for _, got := range l.Freqs {
					found = found || math.Abs(got-want) <= 2
				}
				if !found {
					t.Errorf("freqs %v, want %v", l.Freqs, c.freqs)
				}
			}
			if len(l.Cadence) != len(c.cadence) {
				t.Fatalf("cadence %v, want %v", l.Cadence, c.cadence)
			}
			for i := range l.Cadence {
				if d := l.Cadence[i] - c.cadence[i]; d > 20 || d < -20 {
					t.Errorf("cadence %v, want %v", l.Cadence, c.cadence)
				}
			}
			if math.Abs(l.Level-c.level) > 1.5 {
				t.Errorf("level %.1f dBm0, want %g", l.Level, c.level)
			}
			// An installer adds it as the busy tone of an odd exchange.
			if c.cadence != nil {
				p, _ := PlanFor("CN")
				p = p.With(l.Tone(Busy))
				evs := runDetector(p, DetectorConfig{}, x, 160)
				if len(evs) == 0 || evs[0].Tone != Busy {
					t.Errorf("detector with the learned tone %v: %s", l.Tone(Busy), describe(evs))
				}
			}
		})
	}
}

// TestLearnGenerated runs without child processes (the -short/ARM path).
func TestLearnGenerated(t *testing.T) {
	tn := Tone{Segments: []Segment{on(f2(455, 570, -20), 320), off(280)}}
	x := concat(make([]int16, 800), genTone(t, tn, 5000))
	l, err := Learn(x)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Freqs) != 2 || math.Abs(l.Freqs[0]-455)+math.Abs(l.Freqs[1]-570) > 3 && math.Abs(l.Freqs[1]-455)+math.Abs(l.Freqs[0]-570) > 3 {
		t.Errorf("freqs %v", l.Freqs)
	}
	if len(l.Cadence) != 2 || math.Abs(float64(l.Cadence[0]-320)) > 20 || math.Abs(float64(l.Cadence[1]-280)) > 20 {
		t.Errorf("cadence %v", l.Cadence)
	}
}

func TestLearnErrors(t *testing.T) {
	noise := make([]int16, 16000)
	seed := uint32(1)
	for i := range noise {
		seed = seed*1664525 + 1013904223
		noise[i] = int16(seed >> 20)
	}
	for name, x := range map[string][]int16{
		"short":   make([]int16, 100),
		"silence": make([]int16, 16000),
		"noise":   noise,
	} {
		if l, err := Learn(x); !errors.Is(err, ErrNoTone) {
			t.Errorf("%s: %+v, %v", name, l, err)
		}
	}
}

func FuzzLearn(f *testing.F) {
	f.Add([]byte{1, 2, 3})
	f.Add(make([]byte, 9000))
	f.Fuzz(func(t *testing.T, b []byte) {
		x := dsptestInt16s(b)
		for len(x) > 0 && len(x) < 8000 {
			x = append(x, x...)
		}
		l, err := Learn(x)
		if err != nil {
			return
		}
		if len(l.Freqs) < 1 || len(l.Freqs) > 2 || len(l.Cadence)%2 != 0 {
			t.Fatalf("bad result %+v", l)
		}
		for _, f := range l.Freqs {
			if f < learnLoHz-5 || f > learnHiHz+5 {
				t.Fatalf("frequency %g out of range", f)
			}
		}
	})
}

func BenchmarkLearn(b *testing.B) {
	x := genTone(b, Tone{Segments: []Segment{on(f2(455, 570, -20), 320), off(280)}}, 5000)
	benchSamples(b, len(x), func() {
		if _, err := Learn(x); err != nil {
			b.Fatal(err)
		}
	})
}
