package plc

import (
	"encoding/binary"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"slices"
	"testing"

	"callbox/dsp/internal/dsptest"
	"callbox/dsp/wav/wavtest"
)

const rate = 8000

// speech returns an Asterisk prompt as 8 kHz samples (through sox).
func speech(t testing.TB, name string) []int16 {
	t.Helper()
	dsptest.NeedTool(t, "sox", "sox")
	path := wavtest.Prompt(t, name)
	return dsptest.Sox(t, append([]string{path}, dsptest.SoxOut...)...)
}

// lossPattern marks frames lost: about pct percent, in bursts of 1..burst
// frames, never the first ten.
func lossPattern(seed uint64, frames int, pct float64, burst int) []bool {
	r := rand.New(rand.NewPCG(seed, 2))
	lost := make([]bool, frames)
	for f := 10; f < frames; f++ {
		if r.Float64() < pct/100/float64(burst+1)*2 {
			for k := 0; k < 1+r.IntN(burst) && f+k < frames; k++ {
				lost[f+k] = true
			}
			f += burst + 1
		}
	}
	return lost
}

// conceal runs x through a Concealer with the given frames lost and
// returns the output advanced by Delay, so it lines up with x.
func conceal(x []int16, lost []bool) []int16 {
	c := New()
	out := make([]int16, len(x)+Delay)
	padded := append(slices.Clone(x), make([]int16, Delay)...)
	for f := 0; f*FrameLen < len(padded); f++ {
		a, b := f*FrameLen, min((f+1)*FrameLen, len(padded))
		if f < len(lost) && lost[f] {
			c.Lost(out[a:b])
		} else {
			c.Good(out[a:b], padded[a:b])
		}
	}
	return out[Delay:]
}

// silence and repeat are the naive concealments to beat.
func silence(x []int16, lost []bool) []int16 {
	o := slices.Clone(x)
	for f, l := range lost {
		if l {
			clear(o[f*FrameLen : (f+1)*FrameLen])
		}
	}
	return o
}

func repeat(x []int16, lost []bool) []int16 {
	o := slices.Clone(x)
	for f, l := range lost {
		if l && f > 0 {
			copy(o[f*FrameLen:(f+1)*FrameLen], o[(f-1)*FrameLen:f*FrameLen])
		}
	}
	return o
}

// spectralDistance is the mean log-spectral distance in dB between x and y
// over 20 ms Hann windows centred on the lost frames, counting only frames
// where the original is speech (not silence).
func spectralDistance(x, y []int16, lost []bool) float64 {
	const n = 2 * FrameLen
	var sum float64
	var cnt int
	w := make([]float64, n)
	for i := range w {
		w[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/n)
	}
	for f, l := range lost {
		a := f*FrameLen - FrameLen/2
		if !l || a < 0 || a+n > len(x) {
			continue
		}
		var ex float64
		for _, v := range x[a : a+n] {
			ex += float64(v) * float64(v)
		}
		if ex/n < 100*100 {
			continue
		}
		X, Y := make([]complex128, n), make([]complex128, n)
		for i := range n {
			X[i] = complex(float64(x[a+i])*w[i], 0)
			Y[i] = complex(float64(y[a+i])*w[i], 0)
		}
		X, Y = dft(X), dft(Y)
		var d float64
		for k := 1; k < n/2; k++ {
			px := 10 * math.Log10(cmplx.Abs(X[k])*cmplx.Abs(X[k])+1e3)
			py := 10 * math.Log10(cmplx.Abs(Y[k])*cmplx.Abs(Y[k])+1e3)
			d += (px - py) * (px - py)
		}
		sum += math.Sqrt(d / float64(n/2-1))
		cnt++
	}
	return sum / float64(max(cnt, 1))
}

func dft(x []complex128) []complex128 {
	n := len(x)
	tw := make([]complex128, n)
	for i := range tw {
		tw[i] = cmplx.Rect(1, -2*math.Pi*float64(i)/float64(n))
	}
	y := make([]complex128, n)
	for k := range y {
		var s complex128
		for i, v := range x {
			s += v * tw[k*i%n]
		}
		y[k] = s
	}
	return y
}

// TestSpeechQuality: on real speech with 5 % and 20 % of the frames lost
// in bursts of up to three, the concealed audio is spectrally closer to the
// original than silence or frame repetition: on average by at least 1 dB
// over repetition; case by case never more than 0.5 dB worse (on a few
// frames repetition happens to fit well).
func TestSpeechQuality(t *testing.T) {
	var sumPLC, sumRep float64
	for _, name := range []string{"demo-congrats", "vm-options"} {
		x := speech(t, name)[:5*rate]
		for _, pct := range []float64{5, 20} {
			lost := lossPattern(1, len(x)/FrameLen, pct, 3)
			plc := spectralDistance(x, conceal(x, lost), lost)
			sil := spectralDistance(x, silence(x, lost), lost)
			rep := spectralDistance(x, repeat(x, lost), lost)
			t.Logf("%s, %v%% lost: log-spectral distance plc %.1f dB, repeat %.1f dB, silence %.1f dB", name, pct, plc, rep, sil)
			if plc >= rep+0.5 || plc >= sil {
				t.Errorf("%s, %v%%: concealment (%.1f dB) not closer than repeat (%.1f) and silence (%.1f)", name, pct, plc, rep, sil)
			}
			sumPLC += plc
			sumRep += rep
		}
	}
	if sumPLC/4 > sumRep/4-1 {
		t.Errorf("mean distance: concealment %.1f dB, repeat %.1f dB; want at least 1 dB closer", sumPLC/4, sumRep/4)
	}
}

// TestPeriodic: a voiced-like periodic signal continues almost unchanged
// through a 10 ms loss, and the junctions make no clicks: the largest step
// between samples stays within that of the signal itself.
func TestPeriodic(t *testing.T) {
	for _, hz := range []float64{100, 150, 200} {
		x := make([]int16, rate/2)
		for i := range x {
			ph := 2 * math.Pi * hz * float64(i) / rate
			x[i] = int16(6000*math.Sin(ph) + 3000*math.Sin(2*ph+1) + 1500*math.Sin(3*ph+2))
		}
		lost := make([]bool, len(x)/FrameLen)
		lost[20] = true
		y := conceal(x, lost)
		a, b := 20*FrameLen, 21*FrameLen
		var ex, ee float64
		for i := a - Delay; i < b+FrameLen; i++ {
			ex += float64(x[i]) * float64(x[i])
			d := float64(x[i]) - float64(y[i])
			ee += d * d
		}
		snr := 10 * math.Log10(ex/ee)
		if snr < 20 {
			t.Errorf("%v Hz: SNR %.1f dB across a 10 ms loss, want >= 20", hz, snr)
		}
		if sx, sy := maxStep(x), maxStep(y); sy > sx+sx/20 {
			t.Errorf("%v Hz: largest step %d, the signal's own is %d: a click", hz, sy, sx)
		}
	}
}

func maxStep(s []int16) int {
	m := 0
	for i := 1; i < len(s); i++ {
		m = max(m, int(math.Abs(float64(s[i])-float64(s[i-1]))))
	}
	return m
}

// TestSpeechClicks: on speech with losses, no step in the output at or
// near a frame junction exceeds the largest step in the original speech.
func TestSpeechClicks(t *testing.T) {
	x := speech(t, "vm-options")[:4*rate]
	lost := lossPattern(2, len(x)/FrameLen, 15, 4)
	y := conceal(x, lost)
	if sx, sy := maxStep(x), maxStep(y); sy > sx {
		t.Errorf("largest step %d in the concealed speech, %d in the original", sy, sx)
	}
}

// TestLongLoss: a long loss fades out: the output is silent from 60 ms of
// loss on (plus the delay), never louder than the history, and the return
// fades in.
func TestLongLoss(t *testing.T) {
	x := make([]int16, rate)
	for i := range x {
		x[i] = int16(8000 * math.Sin(2*math.Pi*180*float64(i)/rate))
	}
	lost := make([]bool, len(x)/FrameLen)
	for f := 20; f < 40; f++ {
		lost[f] = true
	}
	y := conceal(x, lost)
	for i, v := range y {
		if math.Abs(float64(v)) > 8000 {
			t.Fatalf("sample %d = %d exceeds the input's peak", i, v)
		}
	}
	for i := 20*FrameLen + 6*FrameLen; i < 40*FrameLen; i++ {
		if y[i] != 0 {
			t.Fatalf("sample %d = %d: not silent after 60 ms of loss", i, y[i])
		}
	}
	// The first frame of loss is at full level, the sixth well down.
	l1 := rms(y[20*FrameLen : 21*FrameLen])
	l5 := rms(y[24*FrameLen : 25*FrameLen])
	if l1 < 5000 || l5 > l1/2 {
		t.Errorf("levels through the loss %.0f then %.0f: want full, then attenuated", l1, l5)
	}
	if sx, sy := maxStep(x), maxStep(y); sy > sx {
		t.Errorf("largest step %d, the signal's own is %d", sy, sx)
	}
}

func rms(s []int16) float64 {
	var p float64
	for _, v := range s {
		p += float64(v) * float64(v)
	}
	return math.Sqrt(p / float64(len(s)))
}

// TestBlockSizes: the same losses fed in different pieces give the same
// output.
func TestBlockSizes(t *testing.T) {
	x := make([]int16, rate)
	r := rand.New(rand.NewPCG(3, 3))
	for i := range x {
		x[i] = int16(5000*math.Sin(2*math.Pi*130*float64(i)/rate) + 500*r.NormFloat64())
	}
	lost := lossPattern(4, len(x)/FrameLen, 25, 5)
	want := conceal(x, lost)
	for _, bs := range []int{1, 7, 40, 102} {
		c := New()
		out := make([]int16, len(x))
		for i := 0; i < len(x); i += bs {
			j := min(i+bs, len(x))
			// Split each piece at frame boundaries so loss is per frame.
			for a := i; a < j; {
				f := a / FrameLen
				b := min(j, (f+1)*FrameLen)
				if lost[f] {
					c.Lost(out[a:b])
				} else {
					c.Good(out[a:b], x[a:b])
				}
				a = b
			}
		}
		if !slices.Equal(out[Delay:], want[:len(x)-Delay]) {
			t.Errorf("pieces of %d give a different output", bs)
		}
	}
}

// TestZeroValue: the zero Concealer works like New's.
func TestZeroValue(t *testing.T) {
	x := make([]int16, 400)
	for i := range x {
		x[i] = int16(i * 50)
	}
	var z Concealer
	a, b := make([]int16, 400), make([]int16, 400)
	z.Good(a, x)
	New().Good(b, x)
	if !slices.Equal(a, b) {
		t.Error("zero value differs from New")
	}
}

// FuzzConcealer: arbitrary audio and loss patterns. Invariants: the output
// never exceeds the largest input magnitude, and it is silent once a loss
// has lasted 60 ms plus the delay.
func FuzzConcealer(f *testing.F) {
	f.Add([]byte{}, []byte{})
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80, 1, 0}, []byte{0, 1, 1, 0})
	f.Add(make([]byte, 2000), []byte{0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1})
	f.Fuzz(func(t *testing.T, data, pattern []byte) {
		x := make([]int16, len(data)/2)
		peak := 0.0
		for i := range x {
			x[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
			peak = max(peak, math.Abs(float64(x[i])))
		}
		for _, low := range []bool{false, true} {
			fuzzRun(t, x, pattern, peak, low)
		}
	})
}

// fuzzRun checks FuzzConcealer's invariants on one concealer; a low-delay
// one must also pass the audio through unchanged until the first loss.
func fuzzRun(t *testing.T, x []int16, pattern []byte, peak float64, low bool) {
	c := New()
	if low {
		c = NewLowDelay()
	}
	run, direct := 0, low
	for k, p := range pattern {
		a := min(k*FrameLen, len(x))
		b := min(a+FrameLen, len(x))
		out := make([]int16, FrameLen)
		if p&1 == 1 {
			c.Lost(out)
			run += FrameLen
			direct = false
		} else {
			in := make([]int16, FrameLen)
			copy(in, x[a:b])
			c.Good(out, in)
			run = 0
			if direct && !slices.Equal(out, x[a:b]) && b-a == FrameLen {
				t.Fatalf("low delay, frame %d before any loss: %v, input %v", k, out, x[a:b])
			}
		}
		for i, v := range out {
			if math.Abs(float64(v)) > peak {
				t.Fatalf("frame %d sample %d: %d beyond the input peak %v", k, i, v, peak)
			}
			if run-FrameLen+i >= 6*FrameLen+Delay && v != 0 {
				t.Fatalf("low delay %v, frame %d sample %d: %d after 60 ms of loss", low, k, i, v)
			}
		}
	}
}
