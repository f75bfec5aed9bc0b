package qam

import "callbox/dsp/fax/internal/dds"

// Preamble watches a preamble that alternates between two points (V.29's
// ABAB, V.27ter's reversals) for the half-turn jump that ends it, and
// measures the carrier's drift along it. Noise before the signal does not
// fool it: a jump counts only after a run of consistent alternations.
type Preamble struct {
	run      int   // consistent alternations in a row
	dre, dim int64 // sum of u[k]*conj(u[k-2]) over the run
}

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
	case Dist2(u, u2)*6 < mag:
		// The same point as two symbols back: the alternation goes on.
		p.run++
		p.dre += re >> 8
		p.dim += im >> 8
	default:
		p.Reset()
	}
	return false
}

// Drift returns the carrier's phase change per symbol along the run.
func (p *Preamble) Drift() int32 {
	if p.dre == 0 && p.dim == 0 {
		return 0
	}
	// The product spans two symbols.
	return int32(dds.Atan2(clampInt32(p.dim), clampInt32(p.dre))) / 2
}

func clampInt32(v int64) int32 { return int32(max(-1<<31, min(1<<31-1, v))) }
