// Package v17 is the ITU-T V.17 modem fax machines send pages with at
// 14400, 12000, 9600 and 7200 bit/s: 2400 baud QAM on an 1800 Hz carrier,
// trellis coded (an 8-state systematic convolutional code over the two
// differentially coded bits of each symbol, 128, 64, 32 or 16 points),
// scrambled with 1 + x^-18 + x^-23, after a training sequence: ABAB
// alternations (segment 1), scrambled ones on the four points A B C D
// (segment 2, long or short), the bridge (segment 3, long training only)
// and scrambled ones sent as data (segment 4). A long training starts a
// message (the TCF); a short one, for the pages after it, lets a receiver
// that kept its equaliser resynchronise in 38 symbols.
//
// Tx shapes symbols with the same root-raised-cosine shaper as V.29 (see
// dsp/fax/internal/qam).
package v17

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
	Carrier = 1800
	// DefaultLevel is the usual transmit level, dBm0.
	DefaultLevel = -13
)

// Training segment lengths, in symbols (V.17 table 3).
const (
	seg1Len      = 256  // ABAB
	seg2Len      = 2976 // CDBA..., long training
	seg2ShortLen = 38   // the same, short training
	seg3Len      = 64   // the bridge
	seg4Len      = 48   // scrambled ones, trellis coded
	tailLen      = 32   // ones after the data
)

// scramblerInit is the scrambler's state at the start of segment 2 (that of
// spandsp's transmitter; the descrambler synchronises itself).
const scramblerInit = 0x2ecdd5

// bridgeWord is the pattern segment 3 scrambles, two bits a symbol, the
// low bits first.
const bridgeWord = 0x8880

// rateParams are what differs between the bit rates.
type rateParams struct {
	bits   int       // data bits per symbol
	points [][2]int8 // the constellation, by label
	rms    float64   // RMS magnitude of the data symbols
}

var rates = map[int]rateParams{
	14400: {bits: 6, points: points14400[:]},
	12000: {bits: 5, points: points12000[:]},
	9600:  {bits: 4, points: points9600[:]},
	7200:  {bits: 3, points: points7200[:]},
}

func init() {
	for r, p := range rates {
		var sum float64
		for _, c := range p.points {
			sum += float64(c[0])*float64(c[0]) + float64(c[1])*float64(c[1])
		}
		p.rms = math.Sqrt(sum / float64(len(p.points)))
		rates[r] = p
	}
}

func paramsOf(rate int) (rateParams, error) {
	p, ok := rates[rate]
	if !ok {
		return p, fmt.Errorf("v17: no bit rate %d (want 14400, 12000, 9600 or 7200)", rate)
	}
	return p, nil
}

// Tx is a V.17 modulator.
type Tx struct {
	qam.Transmission
	rate  int
	p     rateParams
	short bool
	level float64
	sh    *qam.Shaper
	tx    [128]qam.Point // the constellation in the transmitter's unit
	abcd  [4]qam.Point
	// Training and coding state.
	train int // the ABCD point last sent in segments 2 and 3
	scr   qam.Scrambler
	diff  int // Y2 Y1 of the last symbol
	conv  int // the trellis coder's state
	seg2  int // segment 2's length
}

// pulse design: roll-off and span in symbols.
const (
	txBeta = 0.25
	txSpan = 6
)

// NewTx returns a modulator at rate (14400, 12000, 9600 or 7200) and
// levelDBm0 (-43 to 0) sending src's bits after a long training.
func NewTx(rate int, levelDBm0 float64, src modem.BitSource) (*Tx, error) {
	if _, err := paramsOf(rate); err != nil {
		return nil, err
	}
	if err := qam.CheckLevel("v17", levelDBm0); err != nil {
		return nil, err
	}
	t := &Tx{level: levelDBm0}
	for i, c := range pointsABCD {
		t.abcd[i] = qam.Point{Re: int32(c[0]) * qam.TxUnit, Im: int32(c[1]) * qam.TxUnit}
	}
	// 2400 baud at 8 kHz: three symbols every ten samples.
	t.sh = qam.NewShaper(Baud, 10, 3, Carrier, txBeta, txSpan, rates[rate].rms, levelDBm0)
	if err := t.Restart(rate, false, src); err != nil {
		return nil, err
	}
	return t, nil
}

// Restart begins a new transmission at rate, with a short training when
// short is set (the receiver kept its equaliser from a long one), then
// src's bits.
func (t *Tx) Restart(rate int, short bool, src modem.BitSource) error {
	p, err := paramsOf(rate)
	if err != nil {
		return err
	}
	if rate != t.rate {
		t.sh.SetLevel(Baud, Carrier, txBeta, p.rms, t.level)
		for i, c := range p.points {
			t.tx[i] = qam.Point{Re: int32(c[0]) * qam.TxUnit, Im: int32(c[1]) * qam.TxUnit}
		}
	}
	t.rate, t.p, t.short = rate, p, short
	t.seg2 = seg2Len
	t.diff = 1
	if short {
		t.seg2, t.diff = seg2ShortLen, 0
	}
	t.train, t.conv = 0, 0
	t.scr.Reset(scramblerInit)
	t.Start(t.sh, t, src, txSpan, tailLen)
	return nil
}

// scramble returns n scrambled bits of in, the first in bit 0.
func (t *Tx) scramble(in uint32, n int) uint32 { return t.scr.Scramble(in, n) }

// seg2Points maps a scrambled dibit of segment 2 (first bit high) to the
// point sent: 00 C, 01 D, 10 B, 11 A.
var seg2Points = [4]int{ptC, ptD, ptB, ptA}

// bridgeSteps maps a scrambled dibit of segment 3 (first bit high) to the
// quarter turns from the last point.
var bridgeSteps = [4]int{1, 0, 2, 3}

// Next returns symbol s of the transmission.
func (t *Tx) Next(s int) qam.Point {
	end2 := seg1Len + t.seg2
	end3 := end2
	if !t.short {
		end3 += seg3Len
	}
	switch {
	case s < seg1Len:
		// ABAB, A first.
		return t.abcd[s&1]
	case s < end2:
		b := t.scramble(3, 2)
		t.train = seg2Points[b&1<<1|b>>1]
		return t.abcd[t.train]
	case s < end3:
		k := s - end2
		b := t.scramble(bridgeWord>>(2*(k&7)), 2)
		t.train = (t.train + bridgeSteps[b&1<<1|b>>1]) & 3
		return t.abcd[t.train]
	}
	var in uint32
	if s < end3+seg4Len {
		in = 1<<t.p.bits - 1
	} else {
		in = t.Data(t.p.bits)
	}
	q := t.scramble(in, t.p.bits)
	t.diff = (t.diff + int(q&3)) & 3
	t.conv = int(trellisNext[t.conv][t.diff])
	label := int(q)<<1&0x78 | t.diff<<1 | t.conv>>2&1
	return t.tx[label]
}
