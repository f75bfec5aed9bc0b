// Package v21 is the ITU-T V.21 channel 2 modem T.30 sends its control
// messages with: 300 bit/s binary FSK, mark (1) at 1650 Hz and space (0) at
// 1850 Hz, carrying a synchronous HDLC bit stream.
//
// Tx is a phase-continuous modulator. Rx correlates the input with both
// tones over a sliding one-bit window (in sums of four samples, which is all
// the timing resolution a 27-sample bit needs), decides each bit on the
// difference of the two energies, and keeps its bit clock centred with a
// digital phase-locked loop on the transitions. Arithmetic is integer.
package v21

import (
	"fmt"

	"callbox/dsp/fax/internal/dds"
	"callbox/dsp/fax/modem"
)

const (
	// Baud is the bit rate.
	Baud = 300
	// Mark is the frequency of a 1 bit, Hz.
	Mark = 1650
	// Space is the frequency of a 0 bit, Hz.
	Space = 1850
	// DefaultLevel is the transmit level T.30 terminals commonly use, dBm0.
	DefaultLevel = -13
)

// Tx is a V.21 channel 2 modulator.
type Tx struct {
	src   modem.BitSource
	inc   [2]uint32 // phase steps of space (0) and mark (1)
	phase uint32
	amp   int32
	clock int // time left of the current bit, in 1/(8000*Baud) s
	bit   int
	done  bool
}

// NewTx returns a modulator at levelDBm0 (-43 to 0) sending the bits of src.
func NewTx(levelDBm0 float64, src modem.BitSource) (*Tx, error) {
	if levelDBm0 < -43 || levelDBm0 > 0 {
		return nil, fmt.Errorf("v21: transmit level %g dBm0 out of range -43..0", levelDBm0)
	}
	t := &Tx{src: src, amp: int32(modem.Amplitude(levelDBm0))}
	t.inc[0], t.inc[1] = dds.Rate(Space), dds.Rate(Mark)
	return t, nil
}

// Restart begins a new transmission of src's bits. The phase carries on.
func (t *Tx) Restart(src modem.BitSource) {
	t.src, t.clock, t.done = src, 0, false
}

// Transmit fills dst, taking a bit from the source whenever the previous one
// is complete, and returns the samples written: fewer than len(dst) once the
// source has run out (the audio stops after the last whole bit).
func (t *Tx) Transmit(dst []int16) int {
	if t.done {
		return 0
	}
	for i := range dst {
		if t.clock <= 0 {
			bit, ok := t.src.NextBit()
			if !ok {
				t.done = true
				return i
			}
			t.bit = bit & 1
			// A bit lasts 8000/300 samples on average; the remainder
			// carries over, so the bit clock never drifts.
			t.clock += modem.SampleRate
		}
		dst[i] = int16(t.amp * dds.SinFast(t.phase) >> 15)
		t.phase += t.inc[t.bit]
		t.clock -= Baud
	}
	return len(dst)
}

const (
	// sub is the number of samples summed before each decision step.
	sub = 4
	// window is the correlation window in sub-blocks: 28 samples, about
	// one bit (26.7 samples).
	window = 7
	// period is the common period, in samples, of both tones at 8 kHz.
	period = 160
	// qShift scales the correlator tables (Q11), so that a window of
	// full-scale input cannot overflow the int32 sums.
	qShift = 11
	// bitUnits is a bit in the clock unit, 1/(8000*Baud) s per unit.
	bitUnits = modem.SampleRate
	// stepUnits is a sub-block in the clock unit.
	stepUnits = sub * Baud
	// pllGain: each transition corrects 1/pllGain of the timing error.
	pllGain = 4
	// offSteps is how many sub-blocks below the off threshold drop the
	// carrier: longer than the dip at a mark/space transition.
	offSteps = 12
)

// Receive thresholds on the in-band energy, dBm0: a gap between them keeps
// carrier detection from chattering.
const (
	carrierOnDBm0  = -45
	carrierOffDBm0 = -49
)

// tab holds cos and sin of mark and space in Q11 over one common period.
var tab = func() (t [period][4]int32) {
	for i := range t {
		m := uint32(i) * dds.Rate(Mark)
		s := uint32(i) * dds.Rate(Space)
		mc, ms := dds.CosSin(m)
		sc, ss := dds.CosSin(s)
		t[i] = [4]int32{mc >> (15 - qShift), ms >> (15 - qShift), sc >> (15 - qShift), ss >> (15 - qShift)}
	}
	return t
}()

// energyOf is the correlation energy a tone at dBm0 gives (sums shifted by
// sumShift before squaring).
func energyOf(dBm0 float64) int64 {
	c := modem.Amplitude(dBm0) * (1 << qShift) * sub * window / 2 / (1 << sumShift)
	return int64(c * c)
}

// sumShift scales the window sums down before squaring them in int64.
const sumShift = 6

// Rx is a V.21 channel 2 demodulator delivering a synchronous bit stream.
type Rx struct {
	sink modem.Sink
	k    int      // index into tab
	n    int      // samples in the current sub-block
	acc  [4]int32 // the current sub-block's sums
	ring [window][4]int32
	pos  int
	sum  [4]int32 // the window's sums

	on, off int64
	level   int64 // the carrier's energy, averaged
	carrier bool
	low     int   // sub-blocks in a row below the off threshold
	prevD   int64 // soft bit at the previous sub-block
	phase   int   // bit clock, 0 at a transition, bitUnits/2 at a centre
	sampled bool  // the current bit has been decided
	synced  bool  // the clock has seen a transition since carrier up
	samples int64
}

// NewRx returns a demodulator writing to sink.
func NewRx(sink modem.Sink) *Rx {
	r := &Rx{sink: sink, on: energyOf(carrierOnDBm0), off: energyOf(carrierOffDBm0)}
	return r
}

// Restart forgets the signal so far (the sample count goes on).
func (r *Rx) Restart() {
	*r = Rx{sink: r.sink, on: r.on, off: r.off, samples: r.samples}
}

// Carrier reports whether a V.21 signal is present.
func (r *Rx) Carrier() bool { return r.carrier }

// Receive demodulates x.
func (r *Rx) Receive(x []int16) {
	k, n := r.k, r.n
	a0, a1, a2, a3 := r.acc[0], r.acc[1], r.acc[2], r.acc[3]
	for _, s := range x {
		v := int32(s)
		t := &tab[k]
		a0 += v * t[0]
		a1 += v * t[1]
		a2 += v * t[2]
		a3 += v * t[3]
		if k++; k == period {
			k = 0
		}
		if n++; n < sub {
			continue
		}
		r.step(a0, a1, a2, a3)
		n, a0, a1, a2, a3 = 0, 0, 0, 0, 0
	}
	r.k, r.n = k, n
	r.acc = [4]int32{a0, a1, a2, a3}
	r.samples += int64(len(x))
}

// step slides the window by one sub-block and runs the decisions.
func (r *Rx) step(a0, a1, a2, a3 int32) {
	old := &r.ring[r.pos]
	r.sum[0] += a0 - old[0]
	r.sum[1] += a1 - old[1]
	r.sum[2] += a2 - old[2]
	r.sum[3] += a3 - old[3]
	*old = [4]int32{a0, a1, a2, a3}
	if r.pos++; r.pos == window {
		r.pos = 0
	}
	c0, c1 := int64(r.sum[0]>>sumShift), int64(r.sum[1]>>sumShift)
	c2, c3 := int64(r.sum[2]>>sumShift), int64(r.sum[3]>>sumShift)
	em, es := c0*c0+c1*c1, c2*c2+c3*c3
	e, d := em+es, em-es

	if !r.carrier {
		if e < r.on {
			return
		}
		r.carrier, r.synced, r.sampled, r.low, r.prevD = true, false, false, 0, d
		r.phase, r.level = 0, e
		r.sink.Status(modem.CarrierUp)
		return
	}
	// The carrier ends below the off threshold or 15 dB below its own
	// level (on a noisy line the noise alone can stay above the first).
	r.level += (e - r.level) >> 5
	if e < r.off || e < r.level>>5 {
		if r.low++; r.low >= offSteps {
			r.carrier = false
			r.sink.Status(modem.CarrierDown)
			return
		}
	} else {
		r.low = 0
	}

	prev := r.prevD
	r.prevD = d
	r.phase += stepUnits
	if (d < 0) != (prev < 0) {
		// The soft bit crossed zero back units ago: a bit boundary.
		a, b := abs(prev), abs(d)
		back := int(int64(stepUnits) * b / max(a+b, 1))
		if !r.synced {
			// Believe the first transition outright.
			r.phase, r.sampled, r.synced = back, false, true
		} else {
			err := r.phase - back
			if err > bitUnits/2 {
				err -= bitUnits
			}
			r.phase -= err / pllGain
		}
	}
	switch {
	case r.phase >= bitUnits:
		r.phase -= bitUnits
		r.sampled = false
	case r.phase < 0:
		// Pulled back into the bit already decided.
		r.phase += bitUnits
		r.sampled = true
	}
	if !r.sampled && r.phase >= bitUnits/2 {
		// The centre of the bit lies in this step: decide on the soft
		// value nearer to it.
		r.sampled = true
		soft := d
		if r.phase-bitUnits/2 > stepUnits/2 {
			soft = prev
		}
		if soft >= 0 {
			r.sink.PutBit(1)
		} else {
			r.sink.PutBit(0)
		}
	}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
