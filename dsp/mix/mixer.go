package mix

import (
	"errors"
	"fmt"
)

// errParties: a party count out of range.
var errParties = errors.New("mix: party count out of range")

// MaxParties is the largest conference NewMixer accepts.
const MaxParties = 256

// Mixer mixes a conference: every party hears the sum of all the others,
// each scaled by its input gain, then scaled by its own output gain and
// saturated. A party's own voice is taken out of the total exactly (integer
// arithmetic), so nobody hears themselves however many talk.
//
// The per-sample work is one pass to sum and one to write each party's
// output: O(parties) per sample, not O(parties^2).
type Mixer struct {
	in, out []Gain
	total   []int32 // scratch: the sum of all scaled inputs, one per sample
}

// NewMixer returns a mixer for parties parties (2..MaxParties) and blocks of
// up to maxBlock samples. All gains start at unity.
func NewMixer(parties, maxBlock int) (*Mixer, error) {
	if parties < 2 || parties > MaxParties {
		return nil, fmt.Errorf("%w: %d not in 2..%d", errParties, parties, MaxParties)
	}
	if maxBlock < 1 {
		return nil, fmt.Errorf("mix: block length %d", maxBlock)
	}
	m := &Mixer{
		in:    make([]Gain, parties),
		out:   make([]Gain, parties),
		total: make([]int32, maxBlock),
	}
	for i := range m.in {
		m.in[i], m.out[i] = Unity, Unity
	}
	return m, nil
}

// Parties returns the number of parties.
func (m *Mixer) Parties() int { return len(m.in) }

// SetInputGain sets how loud party p is heard by the others; a zero Gain
// mutes p (listen-only).
func (m *Mixer) SetInputGain(p int, g Gain) { m.in[p] = g }

// SetOutputGain sets how loud party p hears the conference.
func (m *Mixer) SetOutputGain(p int, g Gain) { m.out[p] = g }

// Mix mixes one block. in[p] is what party p says and out[p] receives what
// p hears; all non-nil slices have the same length, at most the maxBlock
// given to NewMixer. A nil in[p] is a silent party; a nil out[p] is not
// computed. out[p] may alias in[p]. Mix panics if the lengths are wrong.
func (m *Mixer) Mix(out, in [][]int16) {
	if len(in) != len(m.in) || len(out) != len(m.in) {
		panic("mix: Mix: wrong number of parties")
	}
	n := -1
	for _, s := range in {
		if s != nil {
			n = len(s)
			break
		}
	}
	if n < 0 {
		for _, o := range out {
			clear(o) // everyone is silent
		}
		return
	}
	total := m.total[:n]
	clear(total)
	for p, s := range in {
		if s == nil || m.in[p] == 0 {
			continue
		}
		g := m.in[p]
		s = s[:n]
		for i, v := range s {
			total[i] += g.scale(v)
		}
	}
	for p, o := range out {
		if o == nil {
			continue
		}
		o = o[:n]
		gin, gout := m.in[p], m.out[p]
		s := in[p]
		switch {
		case s == nil || gin == 0:
			for i := range o {
				o[i] = sat16(outScale(total[i], gout))
			}
		case gout == Unity:
			s = s[:n]
			for i, v := range s {
				o[i] = sat16(total[i] - gin.scale(v))
			}
		default:
			s = s[:n]
			for i, v := range s {
				o[i] = sat16(outScale(total[i]-gin.scale(v), gout))
			}
		}
	}
}

// outScale applies an output gain to a 32-bit sum; int64 because the sum of
// many loud parties times a gain above unity can exceed 32 bits.
func outScale(v int32, g Gain) int32 {
	r := (int64(v)*int64(g) + 1<<(gainShift-1)) >> gainShift
	return int32(max(-1<<31, min(1<<31-1, r)))
}
