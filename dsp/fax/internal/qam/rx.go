package qam

import (
	"math"
	"math/bits"

	"callbox/dsp/fax/internal/dds"
)

// Unit is the receiver's constellation unit: baseband values and symbols
// are in 1/Unit (Q11).
const Unit = 2048

// Time at the receiver is counted in 1/TimeUnit of a sample; the matched
// filter has Phases timing phases, so one phase spans TimeUnit/Phases.
const (
	TimeUnit = 192
	Phases   = 64
)

// RxConfig describes a modem's receive front end.
type RxConfig struct {
	Baud    int     // symbols per second
	Carrier float64 // nominal carrier, Hz
	Beta    float64 // roll-off of the matched filter
	Taps    int     // matched filter length in samples
	// Level is the mean power (in constellation units squared) the AGC
	// brings the signal to.
	Level float64
}

// Output is what Frontend.Push found.
type Output uint8

const (
	// Nothing: keep feeding samples.
	Nothing Output = iota
	// Half: a half-symbol value is ready in Frontend.Z (and it is a
	// symbol instant if Frontend.OnSymbol).
	Half
	// Up: the carrier appeared.
	Up
	// Down: the carrier went away.
	Down
)

// histLen is the length of the input history buffer: the filter window
// is copied back to its start when it fills.
const histLen = 512

// c0 is where writing starts in a cleared history: after a window of
// silence.
func c0(taps int) int { return taps - 1 }

// agcShift is the fixed point of the AGC gain.
const agcShift = 20

// Detection thresholds, dBm0, and how long the power must stay low to end
// the carrier.
const (
	carrierOnDBm0  = -45
	carrierOffDBm0 = -49
	powerBlock     = 16 // samples per power measurement
	offBlocks      = 4  // blocks below the off threshold that end the carrier
)

// Frontend turns audio into baseband half-symbol values.
type Frontend struct {
	taps        int
	coef        []int16 // [phase][2*taps]: real taps then imaginary, oldest sample first
	packed      []int64 // the same as re + im<<32, [phase][taps], on 64-bit machines
	half        int32   // T/2 in time units
	buf         []int16 // recent input; the filter window ends at w
	w           int
	next        int32 // time units until the next half-symbol instant
	odd         bool  // the next value is a mid-symbol one
	Z           Point // the value just produced, in 1/Unit
	OnSymbol    bool  // Z is at a symbol instant
	prev, prev2 Point // the previous two values, for Gardner

	// NCO: Phase is the carrier phase at the newest sample.
	Phase, Rate, NominalRate uint32

	// Carrier detection on the mean square of the input.
	acc        int32
	nacc       int
	pow        int32
	sigPow     int32 // the carrier's own power, averaged
	on, off    int32
	carrier    bool
	low        int
	agc        int64 // gain from the mixer output to 1/Unit, Q(agcShift)
	agcLocked  bool
	agcSum     int64
	agcN       int
	targetRMS  int64
	powRecip   int64 // 2^40 / targetRMS^2: Gardner's error in units of the signal power
	TimingGain int64 // Gardner correction shift: larger is slower, 32 or more stops it
	// Acquiring asks for a coarse timing check while a preamble arrives:
	// if the mid-symbol values carry more energy than the symbol ones, the
	// instants are swapped (Gardner is slow to leave its unstable point,
	// half a symbol from the right one).
	Acquiring   bool
	acqOn       int64
	acqMid      int64
	acqN        int
	tacc        int64 // Gardner error not yet applied
	timingAccum int32
}

// NewFrontend builds the front end of a modem.
func NewFrontend(c RxConfig) *Frontend {
	f := &Frontend{taps: c.Taps}
	f.coef = make([]int16, Phases*2*c.Taps)
	f.buf = make([]int16, histLen)
	f.half = int32(math.Round(8000 / float64(2*c.Baud) * TimeUnit))
	f.NominalRate = dds.Rate(c.Carrier)
	sps := 8000 / float64(c.Baud)
	delay := float64(c.Taps-1) / 2
	// Coefficient k (0 the newest sample) of timing phase ph is the pulse
	// at (k - delay - mu) samples, mu = ph/Phases, times exp(j w k): the
	// output is then the analytic signal, delay + mu samples back, still
	// on the carrier at the newest sample's phase.
	var peak float64
	for ph := range Phases {
		mu := float64(ph) / Phases
		for k := range c.Taps {
			g := RRC((float64(k)-delay-mu)/sps, c.Beta)
			peak = math.Max(peak, math.Abs(g))
		}
	}
	// The largest coefficient is 1/2 (Q15), unless that lets a full-scale
	// input overflow the int32 sums.
	var worst float64
	for ph := range Phases {
		var sum float64
		mu := float64(ph) / Phases
		for k := range c.Taps {
			sum += math.Abs(RRC((float64(k)-delay-mu)/sps, c.Beta))
		}
		worst = math.Max(worst, sum)
	}
	scale := math.Min(16384/peak, 65000/worst)
	for ph := range Phases {
		mu := float64(ph) / Phases
		row := f.coef[ph*2*c.Taps : (ph+1)*2*c.Taps]
		for k := range c.Taps {
			g := RRC((float64(k)-delay-mu)/sps, c.Beta) * scale
			w := 2 * math.Pi * c.Carrier / 8000 * float64(k)
			j := c.Taps - 1 - k // oldest first
			row[j] = int16(math.Round(g * math.Cos(w)))
			row[c.Taps+j] = int16(math.Round(g * math.Sin(w)))
		}
	}
	if wide {
		f.packed = make([]int64, Phases*c.Taps)
		for ph := range Phases {
			row := f.coef[ph*2*c.Taps : (ph+1)*2*c.Taps]
			for k := range c.Taps {
				f.packed[ph*c.Taps+k] = int64(row[k]) + int64(row[c.Taps+k])<<32
			}
		}
	}
	level := func(dBm0 float64) int32 {
		a := 32767 * math.Pow(10, (dBm0-3.14)/20) / 4 // samples are scaled down by 4 before squaring
		return int32(a * a / 2)
	}
	f.on, f.off = level(carrierOnDBm0), level(carrierOffDBm0)
	f.targetRMS = int64(math.Sqrt(c.Level) * Unit)
	f.powRecip = (1 << 40) / max(1, f.targetRMS*f.targetRMS)
	f.TimingGain = 4
	f.Reset()
	return f
}

// Reset forgets the signal: carrier, timing, AGC and NCO.
func (f *Frontend) Reset() {
	clear(f.buf)
	f.w, f.next, f.odd = c0(f.taps), f.half, false
	f.prev, f.prev2, f.Z = Point{}, Point{}, Point{}
	f.Phase, f.Rate = 0, f.NominalRate
	f.acc, f.nacc, f.pow, f.carrier, f.low = 0, 0, 0, false, 0
	f.agc, f.agcLocked, f.agcSum, f.agcN = 1<<agcShift, false, 0, 0
	f.timingAccum, f.tacc = 0, 0
	f.Acquiring, f.acqOn, f.acqMid, f.acqN = false, 0, 0, 0
}

// Carrier reports whether a signal is present.
func (f *Frontend) Carrier() bool { return f.carrier }

// LockAGC freezes the gain (once training has begun).
func (f *Frontend) LockAGC() { f.agcLocked = true }

// Run takes samples from x until it has something to report; it returns
// how many it took (all of x when Nothing).
func (f *Frontend) Run(x []int16) (int, Output) {
	buf, w := f.buf, f.w
	phase, rate := f.Phase, f.Rate
	acc, nacc, next := f.acc, f.nacc, f.next
	for i, s := range x {
		if w == len(buf) {
			// Keep the filter's window and start again at the front.
			w = copy(buf, buf[w-f.taps+1:w])
		}
		buf[w] = s
		w++
		v := int32(s) >> 2
		acc += v * v
		ph := phase
		phase += rate
		if nacc++; nacc == powerBlock {
			out := f.power(acc / powerBlock)
			acc, nacc = 0, 0
			if out != Nothing {
				f.w, f.Phase, f.acc, f.nacc, f.next = w, phase, acc, nacc, next
				return i + 1, out
			}
		}
		if !f.carrier {
			continue
		}
		if next -= TimeUnit; next > 0 {
			continue
		}
		f.w, f.Phase, f.acc, f.nacc, f.next = w, phase, acc, nacc, next
		f.output(ph)
		return i + 1, Half
	}
	f.w, f.Phase, f.acc, f.nacc, f.next = w, phase, acc, nacc, next
	return len(x), Nothing
}

// power updates the carrier detector with a block's mean square. The
// carrier ends when the power falls below the off threshold or 15 dB below
// the carrier's own level, whichever is higher: on a noisy line the noise
// alone can sit above a fixed threshold.
func (f *Frontend) power(ms int32) Output {
	f.pow += (ms - f.pow) >> 1
	if f.carrier {
		f.sigPow += (f.pow - f.sigPow) >> 4
		if f.pow >= f.off && f.pow >= f.sigPow>>5 {
			f.low = 0
		} else if f.low++; f.low >= offBlocks {
			f.carrier = false
			return Down
		}
		return Nothing
	}
	if f.pow > f.on {
		f.carrier, f.low, f.sigPow = true, 0, f.pow
		f.next, f.odd = f.half, false
		return Up
	}
	return Nothing
}

// output computes the half-symbol value due now; phase is the carrier
// phase at the newest sample.
func (f *Frontend) output(phase uint32) {
	if f.next <= -TimeUnit {
		f.next = 1 - TimeUnit // a timing step overshot: take this sample
	}
	ph := int(-f.next) * Phases / TimeUnit
	f.next += f.half
	n := f.taps
	x := f.buf[f.w-n : f.w]
	var re, im int32
	if wide {
		re, im = dotPacked(x, f.packed[ph*n:(ph+1)*n])
	} else {
		row := f.coef[ph*2*n : (ph+1)*2*n]
		re, im = dot2(x, row[:n], row[n:2*n])
	}
	// To baseband: turn back by the carrier phase at the newest sample
	// (64-bit: the filter output spans the whole input range).
	c, sn := dds.CosSin(phase)
	zr := (int64(re)*int64(c) + int64(im)*int64(sn)) >> 20
	zi := (int64(im)*int64(c) - int64(re)*int64(sn)) >> 20
	if !f.agcLocked {
		// The gain that brings the mean power (a running average over
		// about 16 values, started at the first) to the target.
		p := (zr*zr + zi*zi) >> 8
		if f.agcN == 0 {
			f.agcSum = p
		} else {
			f.agcSum += (p - f.agcSum) >> 4
		}
		if f.agcN++; f.agcN&7 == 0 || f.agcN < 8 {
			if rms := dds.Isqrt(f.agcSum << 8); rms > 0 {
				f.agc = min(f.targetRMS<<agcShift/rms, 1<<40)
			}
		}
	}
	z := Point{clamp(zr * f.agc >> agcShift), clamp(zi * f.agc >> agcShift)}
	f.prev2, f.prev, f.Z = f.prev, f.Z, z
	f.OnSymbol = !f.odd
	f.odd = !f.odd
	if f.Acquiring {
		e := (int64(z.Re)*int64(z.Re) + int64(z.Im)*int64(z.Im)) >> 8
		if f.OnSymbol {
			f.acqOn += e
		} else {
			f.acqMid += e
		}
		if f.acqN++; f.acqN == 16 {
			if f.acqMid > f.acqOn+f.acqOn/4 {
				// Take the next value as a symbol one instead.
				f.odd = !f.odd
				f.OnSymbol = false
				f.tacc = 0
			}
			f.acqOn, f.acqMid, f.acqN = 0, 0, 0
		}
	}
	if f.OnSymbol && f.TimingGain < 32 {
		// Gardner: the mid-symbol value leans towards the later symbol
		// when we sample late. The remainder carries over: truncating
		// each step would bias the timing.
		e := int64(f.Z.Re-f.prev2.Re)*int64(f.prev.Re) + int64(f.Z.Im-f.prev2.Im)*int64(f.prev.Im)
		// In units of the signal's power (Q16), so that the gains mean
		// the same for every constellation.
		f.tacc += e * f.powRecip >> 24
		const maxStep = TimeUnit / 8
		sh := 12 + f.TimingGain
		d := f.tacc >> sh
		f.tacc -= d << sh
		d = max(-maxStep, min(maxStep, d))
		f.next -= int32(d)
		f.timingAccum += int32(d)
	}
}

// wide is true on 64-bit machines, where two int32 accumulators share an
// int64: a multiply by a coefficient packed as a + b<<32 adds x*a to the
// low half and x*b to the high half at once, exactly, as long as each sum
// fits 32 bits (which the filter designs guarantee).
const wide = bits.UintSize == 64

// unpack splits a packed pair of sums.
func unpack(s int64) (int32, int32) {
	lo := int32(s)
	return lo, int32((s - int64(lo)) >> 32)
}

// dotPacked returns the dot products of x with the packed pairs c.
func dotPacked(x []int16, c []int64) (int32, int32) {
	c = c[:len(x)]
	var s int64
	for i, v := range x {
		s += int64(v) * c[i]
	}
	return unpack(s)
}

// dot2 returns the dot products of x with a and with b (as long as x).
func dot2(x, a, b []int16) (int32, int32) {
	a, b = a[:len(x)], b[:len(x)]
	var re, im int32
	for i, v := range x {
		re += int32(v) * int32(a[i])
		im += int32(v) * int32(b[i])
	}
	return re, im
}

func clamp(v int64) int32 {
	return int32(max(-32767, min(32767, v)))
}

// TimingOffset is the sum of the timing corrections so far, in 1/TimeUnit
// of a sample (for tests and reports).
func (f *Frontend) TimingOffset() int32 { return f.timingAccum }

// Spin turns the carrier phase by p (and the values to come with it).
func (f *Frontend) Spin(p uint32) { f.Phase += p }
