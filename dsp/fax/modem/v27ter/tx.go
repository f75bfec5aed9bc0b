// Package v27ter is the ITU-T V.27ter modem fax machines fall back to at
// 4800 bit/s (1600 baud, eight phases) and 2400 bit/s (1200 baud, four
// phases): differential PSK on an 1800 Hz carrier, scrambled with
// 1 + x^-6 + x^-7 and its guard against repeating patterns, preceded by
// the long training sequence (silence, reversals, scrambled reversals,
// scrambled ones).
//
// It shares its signal processing with V.29 (dsp/fax/internal/qam): the
// transmitter shapes root-raised-cosine pulses straight onto the carrier;
// the receiver keeps Gardner timing on half-symbol matched-filter outputs,
// finds the phase and frequency on the reversals, trains a T/2 equaliser on
// the scrambled reversals, checks the ones and then tracks. Integer
// arithmetic throughout.
package v27ter

import (
	"fmt"
	"math"

	"callbox/dsp/fax/internal/qam"
	"callbox/dsp/fax/modem"
)

const (
	// Carrier is the carrier frequency, Hz.
	Carrier = 1800
	// DefaultLevel is the usual transmit level, dBm0.
	DefaultLevel = -13
)

// Training segment lengths, in symbols (V.27ter table 3, long sequence;
// fax never uses the short one). Segment 1, the optional unmodulated
// carrier, is not sent.
const (
	seg2Len = 32   // silence
	seg3Len = 50   // continuous reversals
	seg4Len = 1074 // scrambled reversals (equaliser conditioning)
	seg5Len = 8    // scrambled ones
	tailLen = 32   // ones after the data: there is no defined shutdown
)

// scramblerInit is the scrambler's state at the start of segment 4.
const scramblerInit = 0x3c

// The constellation: eight phases on a circle of radius sqrt(2), in
// eighths of a turn.
var constellation = func() (c [8][2]float64) {
	for i := range c {
		a := float64(i) * math.Pi / 4
		c[i] = [2]float64{math.Sqrt2 * math.Cos(a), math.Sqrt2 * math.Sin(a)}
	}
	return c
}()

// Phase changes in eighths of a turn for the data bits, first bit most
// significant: tribits at 4800, dibits at 2400 (V.27ter tables 1 and 2).
var (
	phaseSteps4800 = [8]int{1, 0, 2, 3, 6, 7, 5, 4}
	phaseSteps2400 = [4]int{0, 2, 6, 4}
)

// Symbol clocks at 8 kHz: a symbol every phases/step samples.
type clock struct {
	baud, phases, step int
}

func clockOf(rate int) (clock, error) {
	switch rate {
	case 4800:
		return clock{1600, 5, 1}, nil
	case 2400:
		return clock{1200, 20, 3}, nil
	}
	return clock{}, fmt.Errorf("v27ter: no bit rate %d (want 4800 or 2400)", rate)
}

// scrambler is the V.27ter scrambler (and, fed line bits, descrambler)
// with its guard: when the line bits have repeated with period 1, 2 or 3
// for 33 bits, the next output is inverted.
type scrambler struct {
	reg   uint32
	count int
}

func (s *scrambler) reset() { *s = scrambler{reg: scramblerInit} }

// scramble returns the line bit for data bit d.
func (s *scrambler) scramble(d int) int {
	line := (uint32(d) ^ s.reg>>5 ^ s.reg>>6) & 1
	if s.guard(line) {
		line ^= 1
	}
	s.reg = s.reg<<1 | line
	return int(line)
}

// descramble returns the data bit for a line bit.
func (s *scrambler) descramble(line int) int {
	l := uint32(line) & 1
	d := (l ^ s.reg>>5 ^ s.reg>>6) & 1
	if s.guard(l) {
		d ^= 1
	}
	s.reg = s.reg<<1 | l
	return int(d)
}

// guard counts line bits that continue a pattern of period 1, 2 or 3 (x
// equal to the bit 1, 2 or 3 back, as seen 8, 9 and 12 bits back after the
// scrambler's own feedback); after 33 of them it reports that the bit must
// be inverted.
func (s *scrambler) guard(x uint32) bool {
	if s.count >= 33 {
		s.count = 0
		return true
	}
	if (s.reg>>7^x)&(s.reg>>8^x)&(s.reg>>11^x)&1 != 0 {
		s.count = 0
	} else {
		s.count++
	}
	return false
}

// txPoints is the constellation in the transmitter's unit.
var txPoints = func() (t [8]qam.Point) {
	for i, c := range constellation {
		t[i] = qam.Point{Re: int32(math.Round(c[0] * qam.TxUnit)), Im: int32(math.Round(c[1] * qam.TxUnit))}
	}
	return t
}()

// txPoint returns constellation point i in the transmitter's unit.
func txPoint(i int) qam.Point { return txPoints[i&7] }

// pulse design: roll-off and span in symbols.
const (
	txBeta = 0.5
	txSpan = 6
)

// Tx is a V.27ter modulator.
type Tx struct {
	qam.Transmission
	rate  int
	clk   clock
	level float64
	sh    *qam.Shaper
	state int // phase of the last symbol, eighths of a turn
	scr   scrambler
}

// NewTx returns a modulator at rate (4800 or 2400) and levelDBm0 (-43 to
// 0) sending src's bits after the training sequence.
func NewTx(rate int, levelDBm0 float64, src modem.BitSource) (*Tx, error) {
	if err := qam.CheckLevel("v27ter", levelDBm0); err != nil {
		return nil, err
	}
	t := &Tx{level: levelDBm0}
	if err := t.Restart(rate, src); err != nil {
		return nil, err
	}
	return t, nil
}

// Restart begins a new transmission (training, then src's bits) at rate.
func (t *Tx) Restart(rate int, src modem.BitSource) error {
	clk, err := clockOf(rate)
	if err != nil {
		return err
	}
	if t.sh == nil || rate != t.rate {
		// A new symbol rate needs new pulse tables: set-up work, done when
		// the rate changes (T.30 falls back at most a few times a call).
		t.sh = qam.NewShaper(clk.baud, clk.phases, clk.step, Carrier, txBeta, txSpan, math.Sqrt2, t.level)
	}
	t.rate, t.clk = rate, clk
	t.state = 0
	t.scr.reset()
	t.Start(t.sh, t, src, txSpan, tailLen)
	return nil
}

// bits returns the next n bits to send, scrambled, the first in bit 0:
// data once the training is over, ones before.
func (t *Tx) bits(n int, data bool) uint32 {
	in := uint32(1)<<n - 1
	if data {
		in = t.Data(n)
	}
	var out uint32
	for i := range n {
		out |= uint32(t.scr.scramble(int(in>>i&1))) << i
	}
	return out
}

// Next returns symbol s of the transmission.
func (t *Tx) Next(s int) qam.Point {
	switch {
	case s < seg2Len:
		return qam.Point{}
	case s < seg2Len+seg3Len:
		t.state = (t.state + 4) & 7
		return txPoint(t.state)
	case s < seg2Len+seg3Len+seg4Len:
		// Every third scrambled bit chooses the reversal.
		t.state = (t.state + 4*int(t.bits(3, false)&1)) & 7
		return txPoint(t.state)
	}
	data := s >= seg2Len+seg3Len+seg4Len+seg5Len
	// The first bit sent is the most significant of the symbol's bits.
	var step int
	if t.rate == 4800 {
		b := t.bits(3, data)
		step = phaseSteps4800[b&1<<2|b>>1&1<<1|b>>2&1]
	} else {
		b := t.bits(2, data)
		step = phaseSteps2400[b&1<<1|b>>1&1]
	}
	t.state = (t.state + step) & 7
	return txPoint(t.state)
}
