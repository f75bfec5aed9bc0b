// Package v29 is the ITU-T V.29 modem fax machines send pages with at 9600
// and 7200 bit/s (and 4800, its fallback): 2400 baud QAM on a 1700 Hz
// carrier, differentially coded phase, scrambled with 1 + x^-18 + x^-23,
// preceded by the V.29 training sequence (silence, ABAB, CDCD, scrambled
// ones).
//
// Tx shapes symbols with a root-raised-cosine pulse straight onto the
// carrier. Rx evaluates its band-pass matched filter only at half-symbol
// instants, keeps symbol timing with Gardner's detector, finds the carrier
// phase and frequency on the ABAB segment, trains a T/2 equaliser on the
// CDCD segment, checks itself on the ones, then decodes data with a
// decision-directed carrier loop and slow equaliser tracking. All of it in
// integer arithmetic (see dsp/fax/internal/qam).
package v29

import (
	"fmt"
	"math"

	"callbox/dsp/fax/internal/qam"
	"callbox/dsp/fax/modem"
)

const (
	// Baud is the symbol rate.
	Baud = 2400
	// Carrier is the carrier frequency, Hz.
	Carrier = 1700
	// DefaultLevel is the usual transmit level, dBm0.
	DefaultLevel = -13
)

// Training segment lengths, in symbols (V.29 table 3).
const (
	seg1Len = 48  // silence
	seg2Len = 128 // ABAB
	seg3Len = 384 // CDCD
	seg4Len = 48  // scrambled ones
	tailLen = 32  // ones after the data: there is no defined shutdown
)

// trainingScramblerInit is the initial state of the 1 + x^-6 + x^-7
// generator of the CDCD pattern.
const trainingScramblerInit = 0x2a

// The constellation, in constellation units: eight phases at two
// amplitudes (9600 uses all sixteen, 7200 the lower eight, 4800 the four on
// the axes).
var constellation = [16][2]float64{
	{3, 0}, {1, 1}, {0, 3}, {-1, 1}, {-3, 0}, {-1, -1}, {0, -3}, {1, -1},
	{5, 0}, {3, 3}, {0, 5}, {-3, 3}, {-5, 0}, {-3, -3}, {0, -5}, {3, -3},
}

// phaseSteps maps three data bits (first bit most significant) to the phase
// change in eighths of a turn; phaseSteps4800 maps two.
var (
	phaseSteps     = [8]int{1, 0, 2, 3, 6, 7, 5, 4}
	phaseSteps4800 = [4]int{0, 2, 6, 4}
)

// rateParams are what differs between the bit rates.
type rateParams struct {
	a, b, c, d int     // constellation indexes of the training points A, B, C, D
	rms        float64 // RMS magnitude of the data symbols, constellation units
}

// The training points A, B, C, D of each rate (V.29 table 4).
var rates = map[int]rateParams{
	9600: {a: 15, b: 4, c: 0, d: 11, rms: math.Sqrt(13.5)},
	7200: {a: 7, b: 4, c: 0, d: 3, rms: math.Sqrt(5.5)},
	4800: {a: 6, b: 4, c: 0, d: 2, rms: 3},
}

func paramsOf(rate int) (rateParams, error) {
	p, ok := rates[rate]
	if !ok {
		return p, fmt.Errorf("v29: no bit rate %d (want 9600, 7200 or 4800)", rate)
	}
	return p, nil
}

// txPoints is the constellation in the transmitter's unit.
var txPoints = func() (t [16]qam.Point) {
	for i, c := range constellation {
		t[i] = qam.Point{Re: int32(c[0] * qam.TxUnit), Im: int32(c[1] * qam.TxUnit)}
	}
	return t
}()

// txPoint returns a constellation point in the transmitter's unit.
func txPoint(i int) qam.Point { return txPoints[i&15] }

// Tx is a V.29 modulator.
type Tx struct {
	qam.Transmission
	rate  int
	p     rateParams
	level float64
	sh    *qam.Shaper
	state int // phase of the last data symbol, eighths of a turn
	scr   qam.Scrambler
	train uint8
}

// pulse design: roll-off and span in symbols.
const (
	txBeta = 0.25
	txSpan = 6
)

// NewTx returns a modulator at rate (9600, 7200 or 4800) and levelDBm0
// (-43 to 0) sending src's bits after the training sequence.
func NewTx(rate int, levelDBm0 float64, src modem.BitSource) (*Tx, error) {
	p, err := paramsOf(rate)
	if err != nil {
		return nil, err
	}
	if err := qam.CheckLevel("v29", levelDBm0); err != nil {
		return nil, err
	}
	t := &Tx{level: levelDBm0}
	// 2400 baud at 8 kHz: three symbols every ten samples.
	t.sh = qam.NewShaper(Baud, 10, 3, Carrier, txBeta, txSpan, p.rms, levelDBm0)
	if err := t.Restart(rate, src); err != nil {
		return nil, err
	}
	return t, nil
}

// Restart begins a new transmission (training, then src's bits) at rate.
func (t *Tx) Restart(rate int, src modem.BitSource) error {
	p, err := paramsOf(rate)
	if err != nil {
		return err
	}
	if rate != t.rate {
		t.sh.SetLevel(Baud, Carrier, txBeta, p.rms, t.level)
	}
	t.rate, t.p = rate, p
	t.state, t.train = 0, trainingScramblerInit
	t.scr.Reset(0)
	t.Start(t.sh, t, src, txSpan, tailLen)
	return nil
}

// bits returns the next n bits to send, scrambled, first bit in bit 0:
// data once the training is over, ones before.
func (t *Tx) bits(n int, data bool) uint32 {
	in := uint32(1)<<n - 1
	if data {
		in = t.Data(n)
	}
	return t.scr.Scramble(in, n)
}

// Next returns symbol s of the transmission.
func (t *Tx) Next(s int) qam.Point {
	switch {
	case s < seg1Len:
		return qam.Point{}
	case s < seg1Len+seg2Len:
		// ABAB, B first.
		if (s-seg1Len)%2 == 0 {
			return txPoint(t.p.b)
		}
		return txPoint(t.p.a)
	case s < seg1Len+seg2Len+seg3Len:
		bit := t.train & 1
		t.train >>= 1
		t.train |= ((bit ^ t.train) & 1) << 6
		if bit == 0 {
			return txPoint(t.p.c)
		}
		return txPoint(t.p.d)
	}
	data := s >= seg1Len+seg2Len+seg3Len+seg4Len
	// The first bit sent is the most significant of the symbol's bits.
	var step, amp int
	switch t.rate {
	case 9600:
		b := t.bits(4, data)
		amp = int(b&1) << 3
		step = phaseSteps[b>>1&1<<2|b>>2&1<<1|b>>3&1]
	case 7200:
		b := t.bits(3, data)
		step = phaseSteps[b&1<<2|b>>1&1<<1|b>>2&1]
	default:
		b := t.bits(2, data)
		step = phaseSteps4800[b&1<<1|b>>1&1]
	}
	t.state = (t.state + step) & 7
	return txPoint(amp | t.state)
}
