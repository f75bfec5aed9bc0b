// Package fsk is the 1200 baud frequency-shift-keyed modem of analog caller
// ID, in the two variants in use: Bell 202 (mark 1200 Hz, space 2200 Hz) and
// ITU-T V.23 (mark 1300 Hz, space 2100 Hz). Tx is a phase-continuous
// fixed-point modulator fed with bits; Rx is a fixed-point demodulator with an
// asynchronous (start bit, 8 data bits, stop bit) deframer that delivers bytes.
//
// Audio is 8 kHz linear int16. Floating point is used only to build tables.
package fsk

import (
	"fmt"
	"math"
)

// SampleRate is the audio rate the modem works at.
const SampleRate = 8000

// Modem describes one FSK variant.
type Modem struct {
	Name  string
	Mark  int // frequency of a 1 bit, Hz
	Space int // frequency of a 0 bit, Hz
	Baud  int
}

var (
	// Bell202 is the modem of Bellcore GR-30 (North America, China).
	Bell202 = Modem{Name: "bell202", Mark: 1200, Space: 2200, Baud: 1200}
	// V23 is the forward channel of ITU-T V.23, used by ETSI EN 300 659.
	V23 = Modem{Name: "v23", Mark: 1300, Space: 2100, Baud: 1200}
)

func (m Modem) check() error {
	// From 600 baud up the receiver's window is at most 14 samples, which
	// keeps its int32 correlation sums from overflowing.
	if m.Baud < 600 || m.Baud > SampleRate/4 || m.Mark <= 0 || m.Space <= 0 ||
		m.Mark >= SampleRate/2 || m.Space >= SampleRate/2 || m.Mark == m.Space {
		return fmt.Errorf("fsk: unusable modem %+v", m)
	}
	return nil
}

// Amplitude returns the peak int16 amplitude of a sine at levelDBm0, taking
// 0 dBm0 as 3.14 dB below a full-scale sine (the G.711 mu-law convention).
func Amplitude(levelDBm0 float64) int32 {
	a := 32767 * math.Pow(10, (levelDBm0-3.14)/20)
	return int32(math.Min(a, 32767))
}

// sine is one cycle of a Q15 sine with a guard entry for interpolation.
var sine = func() (t [1025]int32) {
	for i := range t {
		t[i] = int32(math.Round(32767 * math.Sin(2*math.Pi*float64(i)/1024)))
	}
	return t
}()

// BitSource supplies the bits Tx sends, one call per bit.
type BitSource interface {
	// NextBit returns the next bit (0 or 1), or ok false when there are none.
	NextBit() (bit int, ok bool)
}

// Tx is a phase-continuous FSK modulator. The zero value is not usable; use
// NewTx.
type Tx struct {
	inc   [2]uint32 // phase steps for space (0) and mark (1)
	phase uint32
	amp   int32
	baud  int
	clock int // remaining time of the current bit, in units of 1/(SampleRate*Baud) s
	bit   int
}

// NewTx returns a modulator for m sending at levelDBm0 (caller ID is sent
// near -13.5 dBm0).
func NewTx(m Modem, levelDBm0 float64) (*Tx, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	t := &Tx{baud: m.Baud, amp: Amplitude(levelDBm0)}
	t.inc[0] = uint32(math.Round(float64(m.Space) / SampleRate * (1 << 32)))
	t.inc[1] = uint32(math.Round(float64(m.Mark) / SampleRate * (1 << 32)))
	return t, nil
}

// Reset drops the bit in progress, so the next Modulate starts a fresh bit.
// The phase carries on, which keeps the signal continuous.
func (t *Tx) Reset() { t.clock = 0 }

// Modulate fills dst with audio, taking a bit from src whenever the previous
// one has been sent. It returns the samples written and done = true once src
// has run out (the audio then stops after the last complete bit).
func (t *Tx) Modulate(dst []int16, src BitSource) (n int, done bool) {
	for i := range dst {
		if t.clock <= 0 {
			bit, ok := src.NextBit()
			if !ok {
				return i, true
			}
			t.bit = bit & 1
			// Bits last SampleRate/Baud samples on average; the remainder
			// carries over so the bit clock never drifts.
			t.clock += SampleRate
		}
		dst[i] = int16(t.amp * Sine(t.phase) >> 15)
		t.phase += t.inc[t.bit]
		t.clock -= t.baud
	}
	return len(dst), false
}

// Sine returns the Q15 sine of a 32-bit phase (2^32 is a full turn),
// interpolated linearly in a 1024-entry table: the oscillator of Tx, shared
// with other generators of the caller ID signals.
func Sine(p uint32) int32 {
	i := p >> 22
	f := int32(p>>7) & 0x7fff
	a, b := sine[i], sine[i+1]
	return a + (b-a)*f>>15
}
