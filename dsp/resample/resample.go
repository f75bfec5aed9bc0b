// Package resample converts 16-bit audio from one sample rate to another,
// as an admin's prompt upload at 44.1 or 48 kHz must become the box's 8 kHz.
//
// A Resampler is a polyphase FIR: in effect it inserts L-1 zeros between
// input samples, low-pass filters, and keeps every Mth sample, where L/M is
// the ratio of the rates in lowest terms (8000/44100 = 80/441), but it only
// computes the outputs it keeps, each from one of L phases of the filter.
// The filter is a Kaiser-windowed sinc designed when the Resampler is made:
// its passband reaches 85 % of the lower rate's Nyquist frequency (3.4 kHz
// for 8 kHz) and it attenuates everything from that Nyquist frequency up by
// about 70 dB (an 80 dB Kaiser design, less what Q15 coefficients keep), so what would alias (a 6 kHz whistle at 48 kHz folding to
// 2 kHz) is gone. Coefficients are Q15, each phase summing to exactly
// unity, so a tone keeps its level; accumulators are int32.
//
// The output is aligned with the input (the filter's delay is taken out)
// and, after Flush, holds ceil(n*L/M) samples for n input samples. Process
// allocates nothing; New allocates the coefficient table (at most
// MaxCoefficients).
package resample

import (
	"errors"
	"fmt"
	"math"
)

// Filter design.
const (
	// one is unity gain in Q15, the coefficients' format.
	one = 1 << 15
	// passFraction is the passband edge as a fraction of the lower
	// rate's Nyquist frequency; the stopband starts at that frequency.
	passFraction = 0.85
	// attenuationDB is the stopband attenuation the Kaiser design aims at.
	attenuationDB = 80
)

// MaxCoefficients bounds the coefficient table (phases times taps): rates
// whose ratio needs more phases than that (44056 Hz to 8 kHz would need
// 1000) are refused rather than given a table of megabytes.
const MaxCoefficients = 1 << 16

// Resampler converts a stream of samples; it keeps the filter's history
// between calls to Process. It is not safe for concurrent use.
type Resampler struct {
	from, to int
	l, m     int     // up and down factors
	taps     int     // per phase; 0 copies (equal rates)
	coef     []int16 // l phases of taps coefficients, oldest input first
	pre      uint    // input scaling (right shift) that keeps the accumulator in range
	hist     []int16 // the last taps inputs, stored twice so a window is contiguous
	scratch  []int16 // Flush's outputs of one input
	w        int     // where the next input goes in hist
	acc      int     // upsampled position of the next output minus that of the next input
	nin      int64   // inputs so far
	nout     int64   // outputs so far
}

// New returns a Resampler from one rate to another (in Hz).
func New(from, to int) (*Resampler, error) {
	if from <= 0 || to <= 0 {
		return nil, fmt.Errorf("resample: rates %d Hz to %d Hz: rates must be positive", from, to)
	}
	g := gcd(from, to)
	r := &Resampler{from: from, to: to, l: to / g, m: from / g}
	if from == to {
		return r, nil
	}
	// Taps per phase from Kaiser's estimate for the transition band,
	// measured at the input rate.
	nyq := float64(min(from, to)) / 2
	width := (1 - passFraction) * nyq / float64(from)
	taps := int(math.Ceil((attenuationDB - 8) / (2.285 * 2 * math.Pi * width)))
	if r.l*taps > MaxCoefficients {
		return nil, fmt.Errorf("resample: %d Hz to %d Hz needs %d filter phases: use a common rate (8000, 11025, 16000, 22050, 32000, 44100 or 48000 Hz)", from, to, r.l)
	}
	r.taps = taps
	r.design(nyq * (1 + passFraction) / 2)
	r.hist = make([]int16, 2*taps)
	r.scratch = make([]int16, r.perInput())
	r.Reset()
	return r, nil
}

// design fills coef with the Kaiser-windowed sinc low-pass of cutoff Hz,
// split into phases.
func (r *Resampler) design(cutoff float64) {
	k := r.l * r.taps // length of the prototype, at the upsampled rate
	fc := cutoff / float64(r.from*r.l)
	beta := 0.1102 * (attenuationDB - 8.7)
	center := float64(k-1) / 2
	h := make([]float64, k)
	for i := range h {
		x := float64(i) - center
		s := 2 * fc
		if x != 0 {
			s = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		t := 2*float64(i)/float64(k-1) - 1
		h[i] = s * bessel0(beta*math.Sqrt(max(0, 1-t*t))) / bessel0(beta)
	}
	// Each phase is normalised to unity gain in Q15. A long sharp filter's
	// magnitudes can sum past 2, and full-scale input whose signs follow
	// the coefficients would then overflow the int32 accumulator: such
	// filters take their input halved (pre), which costs one bit of
	// input resolution (-90 dBFS), far below the stopband.
	r.coef = make([]int16, r.l*r.taps)
	mag := r.quantize(h)
	for r.pre = 0; int64(mag)*(1<<15>>r.pre) >= math.MaxInt32-1<<14; r.pre++ {
	}
}

// quantize fills coef from the prototype h in Q15 and returns the largest
// sum of a phase's coefficient magnitudes.
func (r *Resampler) quantize(h []float64) int {
	worst := 0
	exact := make([]float64, r.taps)
	for p := range r.l {
		sum := 0.0
		for j := range r.taps {
			sum += h[p+j*r.l]
		}
		c := r.coef[p*r.taps : (p+1)*r.taps]
		qsum := 0
		for j := range r.taps {
			// Oldest input first: tap j of the phase meets input i0-j.
			k := r.taps - 1 - j
			exact[k] = h[p+j*r.l] / sum * one
			c[k] = int16(math.Round(exact[k]))
			qsum += int(c[k])
		}
		// Rounding leaves the phase's gain a few units off unity: round
		// the other way the taps that were nearest a half, which moves
		// the response least.
		for d := one - qsum; d != 0; {
			step := int16(1)
			if d < 0 {
				step = -1
			}
			best, bestRes := -1, -1.0
			for k, e := range exact {
				res := (e - float64(c[k])) * float64(step)
				if res > bestRes {
					best, bestRes = k, res
				}
			}
			c[best] += step
			d -= int(step)
		}
		mag := 0
		for _, v := range c {
			mag += abs(int(v))
		}
		worst = max(worst, mag)
	}
	return worst
}

// bessel0 is the modified Bessel function of the first kind, order 0.
func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 64; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// Reset forgets the stream: the next input is the first.
func (r *Resampler) Reset() {
	clear(r.hist)
	r.w, r.nin, r.nout = 0, 0, 0
	// The first output sits at input time 0, the filter's centre.
	r.acc = (r.l*r.taps - 1) / 2
}

// Rates returns the input and output rates.
func (r *Resampler) Rates() (from, to int) { return r.from, r.to }

// MaxOut returns the most samples Process writes for n input samples.
func (r *Resampler) MaxOut(n int) int { return int((int64(n)*int64(r.l)+int64(r.m)-1)/int64(r.m)) + 1 }

// perInput is the most outputs one input sample gives.
func (r *Resampler) perInput() int { return (r.l + r.m - 1) / r.m }

// Process filters src into dst and returns how many samples it wrote and
// how many of src it consumed: all of src when dst has MaxOut(len(src))
// room, else it stops before an input sample whose outputs might not fit.
func (r *Resampler) Process(dst, src []int16) (written, consumed int) {
	if r.taps == 0 {
		n := copy(dst, src)
		r.nin += int64(n)
		r.nout += int64(n)
		return n, n
	}
	room := r.perInput()
	for consumed < len(src) && len(dst)-written >= room {
		written += r.push(dst[written:], src[consumed])
		consumed++
	}
	return written, consumed
}

// push takes one input sample and writes the outputs it completes.
func (r *Resampler) push(dst []int16, x int16) int {
	x >>= r.pre
	r.hist[r.w] = x
	r.hist[r.w+r.taps] = x
	r.w++
	if r.w == r.taps {
		r.w = 0
	}
	r.nin++
	r.acc -= r.l
	n := 0
	window := r.hist[r.w : r.w+r.taps] // oldest first, x last
	for r.acc < 0 {
		p := r.acc + r.l
		y := (dot(r.coef[p*r.taps:(p+1)*r.taps], window) + 1<<(14-r.pre)) >> (15 - r.pre)
		dst[n] = int16(max(min(y, math.MaxInt16), math.MinInt16))
		n++
		r.acc += r.m
	}
	r.nout += int64(n)
	return n
}

// dot is the filter's inner product, four taps a step.
func dot(c, x []int16) int32 {
	x = x[:len(c)]
	var s0, s1, s2, s3 int32
	j := 0
	for ; j+4 <= len(c); j += 4 {
		c4, x4 := c[j:j+4:j+4], x[j:j+4:j+4]
		s0 += int32(c4[0]) * int32(x4[0])
		s1 += int32(c4[1]) * int32(x4[1])
		s2 += int32(c4[2]) * int32(x4[2])
		s3 += int32(c4[3]) * int32(x4[3])
	}
	for ; j < len(c); j++ {
		s0 += int32(c[j]) * int32(x[j])
	}
	return s0 + s1 + s2 + s3
}

// Pending returns how many samples Flush will write: the outputs still
// owed for the input so far, which wait for the filter's look-ahead.
func (r *Resampler) Pending() int {
	total := (r.nin*int64(r.l) + int64(r.m) - 1) / int64(r.m)
	return int(total - r.nout)
}

// ErrShort is returned by Flush when dst cannot hold Pending samples.
var ErrShort = errors.New("resample: flush buffer shorter than Pending")

// Flush ends the stream: it writes the Pending outputs (the input's end
// followed by silence through the filter) to dst and returns how many.
// The Resampler is then Reset.
func (r *Resampler) Flush(dst []int16) (int, error) {
	want := r.Pending()
	if len(dst) < want {
		return 0, ErrShort
	}
	n := 0
	for n < want {
		k := r.push(r.scratch, 0)
		n += copy(dst[n:want], r.scratch[:k])
	}
	r.Reset()
	return n, nil
}
