package echo

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"callbox/dsp/internal/dsptest"
	"callbox/dsp/wav/wavtest"
)

// The test harness plays the part of the hybrid: an echo path built from a
// G.168 model, a bulk delay and a chosen echo return loss (ERL), plus
// near-end signals. Floating point is fine here; only the canceller must be
// fixed-point.

const rate = 8000

// echoPath returns the impulse response of model m behind delay samples of
// bulk delay, scaled so that white noise comes back erl dB weaker.
func echoPath(m g168Model, delay int, erl float64) []float64 {
	h := make([]float64, delay+len(m.coefs))
	var e float64
	for _, v := range m.coefs {
		e += float64(v) * float64(v)
	}
	g := math.Pow(10, -erl/20) / math.Sqrt(e)
	for i, v := range m.coefs {
		h[delay+i] = float64(v) * g
	}
	return h
}

// convolve returns the echo of x through h, rounded to int16 as a codec would.
func convolve(x []int16, h []float64) []int16 {
	y := make([]int16, len(x))
	lead := 0 // skip the bulk delay's zeros
	for lead < len(h) && h[lead] == 0 {
		lead++
	}
	for n := range x {
		var s float64
		for k := lead; k < len(h) && k <= n; k++ {
			s += h[k] * float64(x[n-k])
		}
		y[n] = int16(max(-32768, min(32767, math.Round(s))))
	}
	return y
}

// noise returns n samples of Gaussian white noise of the given RMS.
func noise(seed uint64, n int, rms float64) []int16 {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(max(-32767, min(32767, math.Round(r.NormFloat64()*rms))))
	}
	return s
}

// sines returns n samples of the sum of sines at freqs, each of peak amp.
func sines(n int, amp float64, freqs ...float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		var v float64
		for _, f := range freqs {
			v += amp * math.Sin(2*math.Pi*f*float64(i)/rate)
		}
		s[i] = int16(math.Round(v))
	}
	return s
}

// add returns a+b, saturated.
func add(a, b []int16) []int16 {
	s := make([]int16, len(a))
	for i := range a {
		s[i] = int16(max(-32768, min(32767, int32(a[i])+int32(b[i]))))
	}
	return s
}

// power returns the mean square of s.
func power(s []int16) float64 {
	var p float64
	for _, v := range s {
		p += float64(v) * float64(v)
	}
	return p / float64(max(1, len(s)))
}

// db returns 10 log10(a/b), with a floor so silence does not give infinity.
func db(a, b float64) float64 {
	return 10 * math.Log10(max(a, 1e-3)/max(b, 1e-3))
}

// erle returns the echo return loss enhancement in dB over [from, to):
// the power of the echo entering the canceller over the power left.
func erle(echo, out []int16, from, to int) float64 {
	return db(power(echo[from:to]), power(out[from:to]))
}

// run feeds far and near through c in blocks of 80 samples (10 ms).
func run(c *Canceller, near, far []int16) []int16 {
	out := make([]int16, len(near))
	for i := 0; i < len(near); i += 80 {
		j := min(i+80, len(near))
		c.Process(out[i:j], near[i:j], far[i:j])
	}
	return out
}

// convergedAt returns the time in samples at which the ERLE over 20 ms
// windows first reaches target dB and stays there for the next 100 ms, or -1.
func convergedAt(echo, out []int16, target float64) int {
	const w = 160
	for i := 0; i+w*6 <= len(out); i += w {
		ok := true
		for j := i; j < i+w*6; j += w {
			if erle(echo, out, j, j+w) < target {
				ok = false
				break
			}
		}
		if ok {
			return i
		}
	}
	return -1
}

func newCanceller(t testing.TB, taps int, opts ...Option) *Canceller {
	t.Helper()
	c, err := New(taps, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// speech returns the first seconds of an Asterisk prompt as 8 kHz samples,
// read through sox (Debian asterisk-core-sounds-en-wav).
func speech(t testing.TB, name string, seconds float64) []int16 {
	t.Helper()
	dsptest.NeedTool(t, "sox", "sox")
	path := wavtest.Prompt(t, name)
	args := append([]string{path}, dsptest.SoxOut...)
	args = append(args, "trim", "0", strconv.FormatFloat(seconds, 'f', 3, 64))
	s := dsptest.Sox(t, args...)
	if len(s) < int(seconds*rate)-1 {
		t.Fatalf("%s: %d samples, want %.0f", name, len(s), seconds*rate)
	}
	return s[:int(seconds*rate)]
}

// scale returns s scaled to the given RMS.
func scaleTo(s []int16, rms float64) []int16 {
	g := rms / math.Sqrt(power(s))
	o := make([]int16, len(s))
	for i, v := range s {
		o[i] = int16(max(-32768, min(32767, math.Round(float64(v)*g))))
	}
	return o
}

// concat joins signals.
func concat(parts ...[]int16) []int16 {
	var o []int16
	for _, p := range parts {
		o = append(o, p...)
	}
	return o
}

// highPass applies the canceller's own DC blocker, to compare outputs with
// near-end speech, which passes the canceller through that filter.
func highPass(s []int16) []int16 {
	var b dcBlocker
	o := make([]int16, len(s))
	for i, v := range s {
		o[i] = b.filter(v)
	}
	return o
}

// sub returns a-b without saturation concerns (test signals are moderate).
func sub(a, b []int16) []int16 {
	o := make([]int16, len(a))
	for i := range a {
		o[i] = int16(max(-32768, min(32767, int32(a[i])-int32(b[i]))))
	}
	return o
}
