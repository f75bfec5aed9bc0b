package qam

import (
	"fmt"

	"callbox/dsp/fax/modem"
)

// Sequencer is what a modem adds to a Transmission: its symbols.
type Sequencer interface {
	// Next returns the transmission's symbol number step (0 the first),
	// taking data bits from the Transmission as it needs them.
	Next(step int) Point
}

// Transmission drives a Shaper for a modem: symbols from its Sequencer,
// data bits from a BitSource; when the data runs out, tail symbols of
// ones (the Sequencer keeps making them), then the pulse's fading tail.
type Transmission struct {
	Shaper *Shaper
	seq    Sequencer
	src    modem.Bits
	span   int // the pulse's span, symbols
	tail   int // symbols after the data
	step   int
	ended  bool // the source has run out
	endAt  int  // the step at which the closing symbols end
	closed bool
}

// CheckLevel refuses transmit levels outside -43 to 0 dBm0.
func CheckLevel(name string, levelDBm0 float64) error {
	if levelDBm0 < -43 || levelDBm0 > 0 {
		return fmt.Errorf("%s: transmit level %g dBm0 out of range -43..0", name, levelDBm0)
	}
	return nil
}

// Start begins a transmission on sh of seq's symbols and src's data, with
// tail closing symbols after the data.
func (t *Transmission) Start(sh *Shaper, seq Sequencer, src modem.BitSource, span, tail int) {
	t.Shaper, t.seq, t.span, t.tail = sh, seq, span, tail
	t.src.Reset(src)
	sh.Reset()
	t.step, t.ended, t.endAt, t.closed = 0, false, 0, false
}

// Transmit fills dst and returns the samples written: fewer than len(dst)
// once the transmission is over.
func (t *Transmission) Transmit(dst []int16) int {
	if t.closed {
		return 0
	}
	n := t.Shaper.Fill(dst, t)
	if n < len(dst) {
		t.closed = true
	}
	return n
}

// Symbol is the shaper's source.
func (t *Transmission) Symbol() (Point, bool) {
	s := t.step
	switch {
	case t.ended && s >= t.endAt+t.span:
		return Point{}, false
	case t.ended && s >= t.endAt:
		t.step++
		return Point{}, true // the pulse's tail
	}
	p := t.seq.Next(s)
	t.step++
	return p, true
}

// Data returns the next n (at most 25) data bits, the first in bit 0:
// ones once the source has run out (which starts the closing symbols).
func (t *Transmission) Data(n int) uint32 {
	all := uint32(1)<<n - 1
	if t.ended {
		return all
	}
	v, got := t.src.Take(n)
	if got < n {
		t.ended, t.endAt = true, t.step+t.tail
	}
	return v | all&^(uint32(1)<<got-1)
}
