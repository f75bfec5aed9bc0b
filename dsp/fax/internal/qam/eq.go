package qam

import (
	"math"

	"callbox/dsp/fax/internal/dds"
)

// Equalizer is a complex T/2-spaced FIR equaliser adapted by LMS. Inputs
// and outputs are in 1/Unit; the taps are kept in Q29 for the updates and
// used in Q14.
type Equalizer struct {
	n, centre int
	wre, wim  []int32 // taps, Q29
	cre, cim  []int16 // taps, Q14 (the top bits of w)
	p1, p2    []int64 // on 64-bit machines: cre + cim<<32 and -cim + cre<<32
	bre, bim  []int16 // the last n inputs, newest first, twice over
	pos       int
	mu        int32   // LMS step, Q16
	savedRe   []int32 // taps kept by Save
	savedIm   []int32
}

// NewEqualizer returns an equaliser of n taps (odd) whose main tap is the
// centre one.
func NewEqualizer(n int) *Equalizer {
	e := &Equalizer{n: n, centre: n / 2}
	if e.centre%2 == 1 {
		// The main tap must meet symbol-instant inputs: even distance
		// from the newest.
		e.centre--
	}
	e.wre, e.wim = make([]int32, n), make([]int32, n)
	e.cre, e.cim = make([]int16, n), make([]int16, n)
	e.p1, e.p2 = make([]int64, n), make([]int64, n)
	e.bre, e.bim = make([]int16, 2*n), make([]int16, 2*n)
	e.savedRe, e.savedIm = make([]int32, n), make([]int32, n)
	e.Reset()
	e.Save()
	return e
}

// Reset makes the equaliser a pure delay and empties it.
func (e *Equalizer) Reset() {
	clear(e.wre)
	clear(e.wim)
	clear(e.bre)
	clear(e.bim)
	e.wre[e.centre] = 1 << 29
	for i := range e.n {
		e.setTap(i)
	}
	e.pos = 0
}

// Save keeps a copy of the taps for Restore.
func (e *Equalizer) Save() {
	copy(e.savedRe, e.wre)
	copy(e.savedIm, e.wim)
}

// Restore takes back the taps Save kept (a pure delay if none were) and
// empties the equaliser's input.
func (e *Equalizer) Restore() {
	copy(e.wre, e.savedRe)
	copy(e.wim, e.savedIm)
	for i := range e.n {
		e.setTap(i)
	}
	clear(e.bre)
	clear(e.bim)
	e.pos = 0
}

// setTap derives tap i's working forms from its Q29 value.
func (e *Equalizer) setTap(i int) {
	r, m := int64(int16(e.wre[i]>>15)), int64(int16(e.wim[i]>>15))
	if wide {
		e.p1[i] = r + m<<32
		e.p2[i] = -m + r<<32
	} else {
		e.cre[i], e.cim[i] = int16(r), int16(m)
	}
}

// SetStep sets the LMS step: mu = alpha / (n * power), power the mean
// input power in constellation units squared.
func (e *Equalizer) SetStep(alpha, power float64) {
	e.mu = int32(math.Round(alpha / (float64(e.n) * power) * 65536))
}

// Put adds an input value.
func (e *Equalizer) Put(z Point) {
	if e.pos--; e.pos < 0 {
		e.pos = e.n - 1
	}
	re, im := int16(z.Re), int16(z.Im)
	e.bre[e.pos], e.bre[e.pos+e.n] = re, re
	e.bim[e.pos], e.bim[e.pos+e.n] = im, im
}

// Get returns the output for the inputs so far.
func (e *Equalizer) Get() Point {
	n := e.n
	br, bi := e.bre[e.pos:e.pos+n], e.bim[e.pos:e.pos+n]
	if wide {
		// (xr + j xi)(cr + j ci): xr*(cr + ci<<32) + xi*(-ci + cr<<32)
		// holds the real part low and the imaginary part high.
		p1, p2 := e.p1[:len(br)], e.p2[:len(br)]
		bi = bi[:len(br)]
		var s int64
		for k, xr := range br {
			s += int64(xr)*p1[k] + int64(bi[k])*p2[k]
		}
		re, im := unpack(s)
		return Point{re >> 14, im >> 14}
	}
	cr, ci := e.cre[:len(br)], e.cim[:len(br)]
	bi = bi[:len(br)]
	// Two taps at a time, for the pipeline.
	var re0, im0, re1, im1 int32
	k := 0
	for ; k+1 < len(br); k += 2 {
		xr0, xi0, r0, i0 := int32(br[k]), int32(bi[k]), int32(cr[k]), int32(ci[k])
		xr1, xi1, r1, i1 := int32(br[k+1]), int32(bi[k+1]), int32(cr[k+1]), int32(ci[k+1])
		re0 += r0*xr0 - i0*xi0
		im0 += r0*xi0 + i0*xr0
		re1 += r1*xr1 - i1*xi1
		im1 += r1*xi1 + i1*xr1
	}
	if k < len(br) {
		xr, xi, r, i := int32(br[k]), int32(bi[k]), int32(cr[k]), int32(ci[k])
		re0 += r*xr - i*xi
		im0 += r*xi + i*xr
	}
	return Point{(re0 + re1) >> 14, (im0 + im1) >> 14}
}

// Adapt moves the taps by one LMS step for err = target - output.
func (e *Equalizer) Adapt(err Point) {
	const lim = 4 * Unit
	er := max(-lim, min(lim, err.Re)) * e.mu >> 9
	ei := max(-lim, min(lim, err.Im)) * e.mu >> 9
	n := e.n
	br, bi := e.bre[e.pos:e.pos+n], e.bim[e.pos:e.pos+n]
	wr, wi := e.wre[:len(br)], e.wim[:len(br)]
	bi = bi[:len(br)]
	for k, xr := range br {
		x, y := int32(xr), int32(bi[k])
		wr[k] += er*x + ei*y
		wi[k] += ei*x - er*y
		e.setTap(k)
	}
}

// Rotate turns the stored inputs by a phase (Q15 cos and sin), to follow a
// step in the carrier phase.
func (e *Equalizer) Rotate(c, s int32) {
	for i := range e.bre {
		p := Rotate(Point{int32(e.bre[i]), int32(e.bim[i])}, c, s)
		e.bre[i], e.bim[i] = int16(p.Re), int16(p.Im)
	}
}

// Loop is the decision-directed carrier loop. Its proportional part turns
// the equaliser's output by Psi, with no delay in the loop; its integral
// part steers the front end's NCO frequency, ahead of the equaliser, so
// that the equaliser sees no rotation.
type Loop struct {
	Psi    uint32 // phase taken out after the equaliser
	Kp, Ki int32  // gains (see SetGains)
}

// SetGains sets the loop for a proportional gain gp (radians of phase per
// radian of error, each symbol) and integral gain gi (radians per symbol
// of frequency, per radian of error), at sps samples per symbol.
func (l *Loop) SetGains(gp, gi, sps float64) {
	const perRadQ16 = (1 << 32) / (2 * math.Pi) / 65536
	l.Kp = int32(math.Round(gp * perRadQ16))
	l.Ki = int32(math.Round(gi * perRadQ16 / sps * 16))
}

// Recip returns the reciprocal of a target point's power for PhaseErrorRecip.
func Recip(target Point) int64 {
	p := int64(target.Re)*int64(target.Re) + int64(target.Im)*int64(target.Im)
	if p == 0 {
		return 0
	}
	return (1 << 40) / p
}

// PhaseErrorRecip is PhaseError with the target's power given as Recip:
// no division per symbol.
func PhaseErrorRecip(z, target Point, recip int64) int32 {
	cross := int64(z.Im)*int64(target.Re) - int64(z.Re)*int64(target.Im)
	return int32(max(-65536, min(65536, cross*recip>>24)))
}

// PhaseError returns sin of the angle from target to z, Q16.
func PhaseError(z, target Point) int32 {
	cross := int64(z.Im)*int64(target.Re) - int64(z.Re)*int64(target.Im)
	p := int64(target.Re)*int64(target.Re) + int64(target.Im)*int64(target.Im)
	if p == 0 {
		return 0
	}
	return int32(max(-65536, min(65536, cross<<16/p)))
}

// Derotate returns the equaliser output v with the loop's phase taken out.
func (l *Loop) Derotate(v Point) Point {
	c, s := dds.CosSin(-l.Psi)
	return Rotate(v, c, s)
}

// Back returns a point in the equaliser's output frame (for its error).
func (l *Loop) Back(p Point) Point {
	c, s := dds.CosSin(l.Psi)
	return Rotate(p, c, s)
}

// Track moves the loop by one step towards the target for the derotated
// output u.
func (l *Loop) Track(f *Frontend, u, target Point, recip int64) {
	e := PhaseErrorRecip(u, target, recip)
	l.Psi += uint32(e * l.Kp)
	f.Rate += uint32(e * l.Ki >> 4)
}

// Dist2 is the squared distance between two points, in 1/Unit^2.
func Dist2(a, b Point) int64 {
	dr, di := int64(a.Re-b.Re), int64(a.Im-b.Im)
	return dr*dr + di*di
}

// Centre returns the main tap (Q14), for tests and reports.
func (e *Equalizer) Centre() (re, im int16) { return e.cre[e.centre], e.cim[e.centre] }
