package moh

import (
	"math"
	"testing"
)

// goertzel returns the power of f Hz in x relative to the signal's total,
// computed in float64 independently of the player's fixed point.
func goertzelShare(x []int16, f float64) float64 {
	w := 2 * math.Pi * f / sampleRate
	c := 2 * math.Cos(w)
	var s1, s2, total float64
	for _, v := range x {
		s := float64(v) + c*s1 - s2
		s2, s1 = s1, s
		total += float64(v) * float64(v)
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	return 2 * p / (float64(len(x)) * total)
}

func play(n int) []int16 {
	var p Player
	out := make([]int16, 0, n)
	f := make([]int16, 80)
	for len(out) < n {
		p.ReadFrame(f)
		out = append(out, f...)
	}
	return out[:n]
}

// Each note sounds at its frequency with its fifth below, and nothing
// else of note.
func TestNotes(t *testing.T) {
	x := play(Length())
	at := 0
	for i, n := range tune {
		length := n.frames * sampleRate / 100
		body := x[at+rampSamples : at+length-rampSamples]
		at += length
		if n.hz == 0 {
			for _, v := range body {
				if v != 0 {
					t.Fatalf("note %d: rest is not silent", i)
				}
			}
			continue
		}
		main, fifth := goertzelShare(body, float64(n.hz)), goertzelShare(body, float64(n.hz)*2/3)
		if main < 0.7 || fifth < 0.12 || main+fifth < 0.95 {
			t.Errorf("note %d (%d Hz): %.2f of the power at the note, %.2f at the fifth below", i, n.hz, main, fifth)
		}
	}
}

// The level is gentle (around -20 dBm0, a 3.14 dBm0 full-scale sine
// reference for A-law/mu-law) and never clips.
func TestLevel(t *testing.T) {
	x := play(Length())
	var sum float64
	var peak int16
	for _, v := range x {
		sum += float64(v) * float64(v)
		peak = max(peak, v, -v)
	}
	rms := math.Sqrt(sum / float64(len(x)))
	dbm0 := 20*math.Log10(rms/(32767/math.Sqrt2)) + 3.14
	if dbm0 < -26 || dbm0 > -16 {
		t.Errorf("level %.1f dBm0, want about -20", dbm0)
	}
	if peak > 8000 {
		t.Errorf("peak %d", peak)
	}
}

// The tune repeats exactly, and the attack of every note starts from
// silence so notes do not click.
func TestRepeatsWithoutClicks(t *testing.T) {
	n := Length()
	x := play(2 * n)
	first, second := x[:n], x[n:]
	// The phase carries on across the loop, but the rest resets it.
	for i := range first {
		if first[i] != second[i] {
			t.Fatalf("sample %d differs on the repeat: %d, %d", i, first[i], second[i])
		}
	}
	// The highest note moves at most 2*pi*523/8000*5000 = 2050 per
	// sample at full envelope; at the joins the envelope is near zero.
	at := 0
	for i, nt := range tune {
		at += nt.frames * sampleRate / 100
		for j := at - 2; j < at+2 && j < len(x); j++ {
			if x[j] > 150 || x[j] < -150 {
				t.Fatalf("note %d ends with a click: sample %d is %d", i, j, x[j])
			}
		}
	}
}

func TestAllocs(t *testing.T) {
	var p Player
	f := make([]int16, 80)
	if n := testing.AllocsPerRun(100, func() { p.ReadFrame(f) }); n != 0 {
		t.Fatalf("%v allocations per frame", n)
	}
}

func BenchmarkReadFrame(b *testing.B) {
	var p Player
	f := make([]int16, 80)
	b.ReportAllocs()
	for b.Loop() {
		p.ReadFrame(f)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/80, "ns/sample")
}
