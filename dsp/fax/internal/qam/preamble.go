package qam

import "callbox/dsp/fax/internal/dds"

// Preamble watches a preamble that alternates between two points (V.29's
// ABAB, V.27ter's reversals) for the half-turn jump that ends it, and
// measures the carrier's drift along it. Noise before the signal does not
// fool it: a jump counts only after a run of consistent alternations.
type Preamble struct {
	run int // consistent alternations in a row
	odd int // symbols since the last consistent one
	// u[k]*conj(u[k-2]) of the last driftLen consistent alternations: only
	// the latest measure the drift, noise may have started the run.
	prods [driftLen][2]int64
}

// driftLen is how many alternations the drift is measured over.
const driftLen = 8

// maxOdd is how many symbols that fit neither the alternation nor a jump
// a run survives: the symbol before the jump is often blurred by it.
const maxOdd = 2

// MinRun is the run of alternations a jump must follow.
const MinRun = 10

// Reset starts over.
func (p *Preamble) Reset() { *p = Preamble{} }

// Step takes the newest symbol u and the one two symbols before; it
// reports true when u jumps half a turn away from an established
// alternation.
func (p *Preamble) Step(u, u2 Point) bool {
	re := int64(u.Re)*int64(u2.Re) + int64(u.Im)*int64(u2.Im)
	im := int64(u.Im)*int64(u2.Re) - int64(u.Re)*int64(u2.Im)
	mag := int64(u.Re)*int64(u.Re) + int64(u.Im)*int64(u.Im)
	mag2 := int64(u2.Re)*int64(u2.Re) + int64(u2.Im)*int64(u2.Im)
	switch {
	case mag < int64(Unit/4)*int64(Unit/4) || mag2 < int64(Unit/4)*int64(Unit/4):
		// Too weak to say anything.
		p.Reset()
	case re < 0 && -re*4 > mag+mag2 && p.run >= MinRun:
		return true // more than about 120 degrees from two symbols back
	case Dist2(u, u2)*2 < mag:
		// The same point as two symbols back: the alternation goes on.
		p.prods[p.run%driftLen] = [2]int64{re >> 8, im >> 8}
		p.run++
		p.odd = 0
	default:
		if p.odd++; p.odd > maxOdd {
			p.Reset()
		}
	}
	return false
}

// Drift returns the carrier's phase change per symbol along the run.
func (p *Preamble) Drift() int32 {
	var re, im int64
	for _, v := range p.prods {
		re += v[0]
		im += v[1]
	}
	if re == 0 && im == 0 {
		return 0
	}
	// The product spans two symbols.
	return int32(dds.Atan2(clampInt32(im), clampInt32(re))) / 2
}

func clampInt32(v int64) int32 { return int32(max(-1<<31, min(1<<31-1, v))) }
