// Package dds holds the fixed-point oscillators and angle arithmetic the fax
// modems share: phases are uint32 with 2^32 to a turn, so they wrap for
// free; sines and cosines are Q15. Tables are built at start-up (floating
// point is used only there).
package dds

import "math"

const (
	tabBits = 12
	tabLen  = 1 << tabBits // entries per turn of the complex table
	sinBits = 10           // entries per turn of the interpolated sine, log2
)

// cosSin holds cos and sin of tabLen angles in Q15, interleaved.
var cosSin = func() (t [tabLen][2]int32) {
	for i := range t {
		a := 2 * math.Pi * float64(i) / tabLen
		t[i] = [2]int32{int32(math.Round(32767 * math.Cos(a))), int32(math.Round(32767 * math.Sin(a)))}
	}
	return t
}()

// sine is one turn of sin in Q15 with a guard entry, for interpolation.
var sine = func() (t [1<<sinBits + 1]int32) {
	for i := range t {
		t[i] = int32(math.Round(32767 * math.Sin(2*math.Pi*float64(i)/(1<<sinBits))))
	}
	return t
}()

// Rate returns the phase step per sample of a frequency at 8 kHz.
func Rate(hz float64) uint32 { return uint32(int64(math.Round(hz / 8000 * (1 << 32)))) }

// Phase returns a phase for an angle in degrees.
func Phase(deg float64) uint32 { return uint32(int64(math.Round(deg / 360 * (1 << 32)))) }

// Hz returns the frequency of a phase step (for reports and tests).
func Hz(rate uint32) float64 { return float64(int32(rate)) * 8000 / (1 << 32) }

// Sin returns sin(p) in Q15, interpolated linearly (spurs below -90 dBc):
// the oscillator of the FSK transmitter.
func Sin(p uint32) int32 {
	i := p >> (32 - sinBits)
	f := int32(p>>(32-sinBits-15)) & 0x7fff
	a, b := sine[i], sine[i+1]
	return a + (b-a)*f>>15
}

// CosSin returns cos(p) and sin(p) in Q15 from a 4096-entry table (phase
// error at most 0.045 degrees): the carrier of the QAM modems.
func CosSin(p uint32) (c, s int32) {
	e := &cosSin[p>>(32-tabBits)]
	return e[0], e[1]
}

// SinFast returns sin(p) in Q15 from the 4096-entry table, without
// interpolation (spurs near -62 dBc, ample for FSK).
func SinFast(p uint32) int32 { return cosSin[p>>(32-tabBits)][1] }

// cordicN is the number of CORDIC iterations of Atan2.
const cordicN = 20

// cordicAtan[i] is atan(2^-i) as a phase.
var cordicAtan = func() (t [cordicN]uint32) {
	for i := range t {
		t[i] = uint32(int64(math.Round(math.Atan(math.Ldexp(1, -i)) / (2 * math.Pi) * (1 << 32))))
	}
	return t
}()

// Atan2 returns the angle of (x, y) as a phase (0 along +x, counter-
// clockwise), by integer CORDIC; accurate to about 0.001 degree.
func Atan2(y, x int32) uint32 {
	if x == 0 && y == 0 {
		return 0
	}
	// Scale up small vectors for precision and keep room for CORDIC's gain.
	xx, yy := int64(x), int64(y)
	for xx < 1<<28 && xx > -1<<28 && yy < 1<<28 && yy > -1<<28 {
		xx, yy = xx<<1, yy<<1
	}
	var a uint32
	if xx < 0 {
		xx, yy = -xx, -yy
		a = 1 << 31
	}
	for i := range cordicN {
		if yy > 0 {
			xx, yy = xx+yy>>i, yy-xx>>i
			a += cordicAtan[i]
		} else {
			xx, yy = xx-yy>>i, yy+xx>>i
			a -= cordicAtan[i]
		}
	}
	return a
}

// Isqrt returns the integer square root of v (0 for v <= 0), bit by bit.
func Isqrt(v int64) int64 {
	if v <= 0 {
		return 0
	}
	var r int64
	b := int64(1) << 62
	for b > v {
		b >>= 2
	}
	for b != 0 {
		if v >= r+b {
			v -= r + b
			r = r>>1 + b
		} else {
			r >>= 1
		}
		b >>= 2
	}
	return r
}
