package resample

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"callbox/dsp/internal/dsptest"
)

// convert runs a whole signal through a new Resampler in blocks of the
// given size (0: one block).
func convert(t testing.TB, from, to int, in []int16, block int) []int16 {
	t.Helper()
	r, err := New(from, to)
	if err != nil {
		t.Fatal(err)
	}
	if block <= 0 {
		block = max(len(in), 1)
	}
	var out []int16
	buf := make([]int16, r.MaxOut(block))
	for len(in) > 0 {
		n := min(block, len(in))
		w, c := r.Process(buf, in[:n])
		if c != n {
			t.Fatalf("consumed %d of %d with room for MaxOut", c, n)
		}
		out = append(out, buf[:w]...)
		in = in[n:]
	}
	tail := make([]int16, r.Pending())
	n, err := r.Flush(tail)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, tail[:n]...)
}

func sine(rate int, hz, amp float64, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))))
	}
	return s
}

// amplitude is the amplitude of the hz component of s (Goertzel over the
// whole slice).
func amplitude(s []int16, rate int, hz float64) float64 {
	w := 2 * math.Pi * hz / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range s {
		s1, s2 = float64(v)+c*s1-s2, s1
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	return 2 * math.Sqrt(max(p, 0)) / float64(len(s))
}

func rms(s []int16) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

func db(x float64) float64 { return 20 * math.Log10(x) }

// middle drops the first and last quarter second, where the signal's
// abrupt start and end ring through the filter.
func middle(s []int16, rate int) []int16 { return s[rate/4 : len(s)-rate/4] }

var rates = []int{11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000}

func TestToneSurvives(t *testing.T) {
	for _, from := range rates {
		for _, hz := range []float64{300, 1000, 3000, 3400} {
			in := sine(from, hz, 10000, from) // one second at -10 dBFS
			out := convert(t, from, 8000, in, 441)
			if want := 8000; len(out) != want {
				t.Errorf("%d Hz: %d samples out, want %d", from, len(out), want)
				continue
			}
			mid := middle(out, 8000)
			a := amplitude(mid, 8000, hz)
			if d := db(a / 10000); math.Abs(d) > 0.1 {
				t.Errorf("%d Hz, %v Hz tone: level changed by %.3f dB", from, hz, d)
			}
			// Nearly all of the energy is the tone: anything else is
			// more than 50 dB down.
			if res := rms(mid)*rms(mid) - a*a/2; res > a*a/2*1e-5 {
				t.Errorf("%d Hz, %v Hz tone: %.1f dB of other energy", from, hz, 10*math.Log10(res/(a*a/2)))
			}
		}
	}
}

func TestAliasingSuppressed(t *testing.T) {
	for _, from := range rates {
		for _, hz := range []float64{4000, 4500, 6000, 7900, 10000, 15000, 20000} {
			if hz >= float64(from)/2 {
				continue
			}
			in := sine(from, hz, 16000, from)
			out := middle(convert(t, from, 8000, in, 0), 8000)
			const limit = -65.0
			if got := db(rms(out) * math.Sqrt2 / 16000); got > limit {
				t.Errorf("%d Hz, %v Hz tone: %.1f dB left after conversion, want below %v dB", from, hz, got, limit)
			}
		}
	}
}

// TestSixKilohertzAt48 is the brief's case in the units a person checks: a
// 6 kHz tone at 48 kHz would alias to 2 kHz; after conversion 2 kHz holds
// nothing audible.
func TestSixKilohertzAt48(t *testing.T) {
	out := middle(convert(t, 48000, 8000, sine(48000, 6000, 20000, 96000), 960), 8000)
	if a := amplitude(out, 8000, 2000); db(a/20000) > -70 {
		t.Fatalf("the 2 kHz alias of a 6 kHz tone is at %.1f dB", db(a/20000))
	}
}

func TestAlignedAndLength(t *testing.T) {
	for _, from := range append(rates, 8000) {
		for _, n := range []int{0, 1, 5, 441, 1000} {
			in := make([]int16, n)
			out := convert(t, from, 8000, in, 7)
			r, _ := New(from, 8000)
			want := (n*r.l + r.m - 1) / r.m
			if len(out) != want {
				t.Errorf("%d Hz, %d samples: %d out, want %d", from, n, len(out), want)
			}
		}
		// A click stays where it was: input sample k is at output time
		// k*8000/from.
		k := from / 10
		in := make([]int16, from/5)
		in[k] = 30000
		out := convert(t, from, 8000, in, 100)
		peak := 0
		for i, v := range out {
			if v > out[peak] {
				peak = i
			}
		}
		if want := int(math.Round(float64(k) * 8000 / float64(from))); peak != want {
			t.Errorf("%d Hz: click at output %d, want %d", from, peak, want)
		}
	}
}

func TestBlocksDoNotMatter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	in := make([]int16, 20000)
	for i := range in {
		in[i] = int16(rng.IntN(65536) - 32768)
	}
	for _, from := range []int{44100, 48000, 11025} {
		want := convert(t, from, 8000, in, 0)
		for _, block := range []int{1, 3, 80, 441, 4096} {
			if got := convert(t, from, 8000, in, block); !slices.Equal(got, want) {
				t.Errorf("%d Hz in blocks of %d differs from one block", from, block)
			}
		}
	}
}

// TestFullScaleNoWrap checks the fixed-point filter against an int64
// computation on the worst input there is: full-scale samples whose signs
// follow each phase's coefficients.
func TestFullScaleNoWrap(t *testing.T) {
	for _, from := range rates {
		r, err := New(from, 8000)
		if err != nil {
			t.Fatal(err)
		}
		for p := range r.l {
			c := r.coef[p*r.taps : (p+1)*r.taps]
			x := make([]int16, r.taps)
			var ref int64
			for j, v := range c {
				x[j] = 32767 >> r.pre
				if v < 0 {
					x[j] = -32768 >> r.pre
				}
				ref += int64(v) * int64(x[j])
			}
			ref += 1 << (14 - r.pre) // the rounding term
			sum := int32(1) << (14 - r.pre)
			for j, v := range c {
				sum += int32(v) * int32(x[j])
			}
			if int64(sum) != ref {
				t.Fatalf("%d Hz phase %d: int32 sum %d, exact %d", from, p, sum, ref)
			}
		}
	}
}

func TestPassThrough(t *testing.T) {
	in := []int16{1, -2, 3, 32767, -32768}
	if got := convert(t, 8000, 8000, in, 2); !slices.Equal(got, in) {
		t.Fatalf("8 kHz to 8 kHz gives %v", got)
	}
}

func TestProcessShortDst(t *testing.T) {
	r, err := New(8000, 48000) // up to six outputs per input
	if err != nil {
		t.Fatal(err)
	}
	in := make([]int16, 100)
	if w, c := r.Process(make([]int16, 5), in); w != 0 || c != 0 {
		t.Fatalf("wrote %d, consumed %d into 5 samples; want nothing", w, c)
	}
	// The first outputs wait for the filter's look-ahead; then it stops
	// once six more might not fit.
	if w, c := r.Process(make([]int16, 20), in); c == len(in) || w <= 20-6 {
		t.Fatalf("wrote %d, consumed %d into 20 samples", w, c)
	}
	if _, err := r.Flush(nil); err != ErrShort {
		t.Fatalf("Flush into nothing: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tt := range []struct {
		from, to int
		want     string
	}{
		{0, 8000, "positive"},
		{44100, -1, "positive"},
		{44056, 8000, "1000 filter phases"},
	} {
		_, err := New(tt.from, tt.to)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "resample: ") {
			t.Errorf("New(%d, %d): %v, want an error saying %q", tt.from, tt.to, err, tt.want)
		}
	}
}

func benchmark(b *testing.B, from int) {
	r, err := New(from, 8000)
	if err != nil {
		b.Fatal(err)
	}
	in := sine(from, 1000, 10000, from/100) // 10 ms blocks
	out := make([]int16, r.MaxOut(len(in)))
	b.ReportAllocs()
	cpu := dsptest.StartCPU(b)
	for b.Loop() {
		r.Process(out, in)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*80), "ns/sample")
	cpu.PerSample(b, 80)
	b.ReportMetric(float64(r.taps), "taps")
}

// ns/sample is per output sample (8 kHz).
func BenchmarkFrom48000(b *testing.B) { benchmark(b, 48000) }
func BenchmarkFrom44100(b *testing.B) { benchmark(b, 44100) }
func BenchmarkFrom16000(b *testing.B) { benchmark(b, 16000) }
