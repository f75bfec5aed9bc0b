package mix

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"callbox/dsp/internal/dsptest"
	"callbox/dsp/wav/wavtest"
)

// levelDB returns the RMS level of s in dBm0.
func levelDB(s []int16) float64 {
	return 20 * math.Log10(math.Sqrt(power(s))/dBm0(0))
}

// bursts is speech-like test audio: 300 ms noise bursts at level dBm0
// separated by 200 ms of silence, for seconds.
func bursts(seed uint64, seconds float64, level float64) []int16 {
	n := int(seconds * 8000)
	s := noise(seed, n, dBm0(level))
	for i := range s {
		if i%4000 >= 2400 {
			s[i] = 0
		}
	}
	return s
}

func TestAGCLevels(t *testing.T) {
	for _, tc := range []struct {
		name  string
		level float64
		want  float64 // expected output level of the bursts, dBm0
	}{
		{"quiet", -33, -18},
		{"target", -18, -18},
		{"loud", -6, -18},
		{"beyond max gain", -45, -27}, // +18 dB at most
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := bursts(1, 4, tc.level)
			out := make([]int16, len(in))
			a := NewAGC(AGCConfig{})
			a.Process(out, in)
			// Level of the bursts in the last 2 s (skip pauses).
			var act []int16
			for i := 16000; i < len(out); i++ {
				if i%4000 >= 400 && i%4000 < 2400 {
					act = append(act, out[i])
				}
			}
			got := levelDB(act)
			t.Logf("%v dBm0 in -> %.1f dBm0 out, gain %.1f dB", tc.level, got, a.Gain().DB())
			if math.Abs(got-tc.want) > 1.5 {
				t.Errorf("output %.1f dBm0, want %.1f +- 1.5", got, tc.want)
			}
		})
	}
}

// TestAGCGate: line noise below the gate is not amplified.
func TestAGCGate(t *testing.T) {
	in := noise(2, 3*8000, dBm0(-60))
	out := make([]int16, len(in))
	a := NewAGC(AGCConfig{})
	a.Process(out, in)
	if g := a.Gain(); g != Unity {
		t.Errorf("gain %.1f dB on -60 dBm0 noise, want 0", g.DB())
	}
}

// TestAGCAttack: a loud passage after a quiet one (gain at +17 dB) is
// brought down at the attack rate: 25 dB at 120 dB/s, so nothing clips from
// 250 ms on, and the level is on target after 300 ms.
func TestAGCAttack(t *testing.T) {
	in := append(noise(3, 3*8000, dBm0(-35)), noise(4, 8000, dBm0(-10))...)
	out := make([]int16, len(in))
	a := NewAGC(AGCConfig{})
	a.Process(out, in)
	jump := 3 * 8000
	clipped := 0
	for _, v := range out[jump+2000:] {
		if v == 32767 || v == -32768 {
			clipped++
		}
	}
	if clipped > 0 {
		t.Errorf("%d samples clipped more than 250 ms after the level jumped", clipped)
	}
	if got := levelDB(out[jump+2400:]); math.Abs(got+18) > 1.5 {
		t.Errorf("level %.1f dBm0 300 ms after the jump, want -18", got)
	}
}

func TestAGCBlockSizes(t *testing.T) {
	in := append(bursts(5, 2, -35), bursts(6, 1, -5)...)
	var want []int16
	for _, bs := range []int{1, 80, 102, 160, 1000} {
		a := NewAGC(AGCConfig{})
		out := make([]int16, len(in))
		for i := 0; i < len(in); i += bs {
			j := min(i+bs, len(in))
			a.Process(out[i:j], in[i:j])
		}
		if want == nil {
			want = out
		} else if !slices.Equal(out, want) {
			t.Errorf("blocks of %d differ", bs)
		}
	}
}

// TestAGCSpeech: a real prompt at -40 and at -10 dBm0 comes out within
// 4 dB of itself (the input levels differ by 30 dB).
func TestAGCSpeech(t *testing.T) {
	dsptest.NeedTool(t, "sox", "sox")
	path := wavtest.Prompt(t, "demo-congrats")
	sp := dsptest.Sox(t, append([]string{path}, dsptest.SoxOut...)...)
	var lv []float64
	for _, level := range []float64{-40, -10} {
		g := dBm0(level) / math.Sqrt(power(sp))
		in := make([]int16, len(sp))
		for i, v := range sp {
			in[i] = int16(max(-32768, min(32767, math.Round(float64(v)*g))))
		}
		out := make([]int16, len(in))
		NewAGC(AGCConfig{}).Process(out, in)
		lv = append(lv, levelDB(out[len(out)/4:]))
	}
	t.Logf("speech at -40 and -10 dBm0 comes out at %.1f and %.1f dBm0", lv[0], lv[1])
	if math.Abs(lv[0]-lv[1]) > 4 {
		t.Errorf("output levels %.1f and %.1f dBm0 differ by more than 4 dB", lv[0], lv[1])
	}
}

// FuzzAGC: arbitrary audio. Invariants: each output sample has the sign of
// its input (or is zero) and is no larger than the input times the maximum
// gain.
func FuzzAGC(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80, 1, 0, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := make([]int16, len(data)/2)
		for i := range in {
			in[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
		out := make([]int16, len(in))
		a := NewAGC(AGCConfig{})
		maxG := float64(a.maxG) / float64(Unity)
		a.Process(out, in)
		for i, v := range in {
			o := out[i]
			if (v > 0 && o < 0) || (v < 0 && o > 0) || (v == 0 && o != 0) {
				t.Fatalf("sample %d: %d -> %d changes sign", i, v, o)
			}
			if math.Abs(float64(o)) > math.Abs(float64(v))*maxG+1 {
				t.Fatalf("sample %d: %d -> %d beyond the maximum gain", i, v, o)
			}
		}
	})
}
