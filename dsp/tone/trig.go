package tone

import "math"

// Fixed-point helpers shared by the oscillators and detectors. The tables are
// computed once at start-up (floating point is allowed in set-up code only).

const (
	sinBits = 10           // log2 of the sine table length
	sinLen  = 1 << sinBits // entries per turn
	sinFrac = 32 - sinBits // phase bits below the table index
	fs      = 8000         // sample rate, Hz
	cordicN = 24           // CORDIC iterations of atan2Turns
	turn24  = 1 << 24      // one turn in atan2Turns' internal unit
)

var (
	// sinTab holds one turn of sin in Q15 plus a guard entry for interpolation.
	sinTab [sinLen + 1]int32
	// cordicAtan[i] is atan(2^-i) in 1/2^24 turns.
	cordicAtan [cordicN]int32
	// refPeak is the peak amplitude of a 0 dBm0 sine in 16-bit linear audio:
	// G.711 A-law's full-scale sine is +3.14 dBm0.
	refPeak = 32767 / math.Pow(10, 3.14/20)
)

func init() {
	for i := range sinTab {
		sinTab[i] = int32(math.Round(32767 * math.Sin(2*math.Pi*float64(i)/sinLen)))
	}
	for i := range cordicAtan {
		cordicAtan[i] = int32(math.Round(math.Atan(math.Ldexp(1, -i)) / (2 * math.Pi) * turn24))
	}
}

// phaseStep is the per-sample phase increment of a frequency, in 1/2^32 turns.
func phaseStep(hz float64) uint32 {
	return uint32(int64(math.Round(hz / fs * (1 << 32))))
}

// sinQ15 returns sin(phase) in Q15, phase in 1/2^32 turns, interpolating the
// table linearly (spurs stay below -90 dBc).
func sinQ15(phase uint32) int32 {
	i := phase >> sinFrac
	f := int32((phase >> (sinFrac - 15)) & 0x7fff)
	a := sinTab[i]
	return a + ((sinTab[i+1]-a)*f)>>15
}

// amplitude converts a level in dBm0 to a sine peak in linear units.
func amplitude(dBm0 float64) float64 {
	return refPeak * math.Pow(10, dBm0/20)
}

// atan2Turns returns the angle of the vector (x, y) in 1/65536 turns
// (0 = positive x axis, counter-clockwise), computed with integer CORDIC.
func atan2Turns(x, y int64) uint16 {
	if x == 0 && y == 0 {
		return 0
	}
	// Keep the vector small enough that CORDIC's gain (1.65) cannot overflow.
	for x > 1<<40 || x < -1<<40 || y > 1<<40 || y < -1<<40 {
		x >>= 1
		y >>= 1
	}
	var a int32
	if x < 0 {
		x, y = -x, -y
		a = turn24 / 2
	}
	for i := 0; i < cordicN; i++ {
		if y > 0 {
			x, y = x+(y>>i), y-(x>>i)
			a += cordicAtan[i]
		} else {
			x, y = x-(y>>i), y+(x>>i)
			a -= cordicAtan[i]
		}
	}
	return uint16(a >> 8)
}

// quad holds the quadrature reference of one frequency over one analysis
// block of blockLen samples: cos and sin in Q10, so that an int32 sum of
// blockLen products with int16 samples cannot overflow (see accumulate).
type quad struct {
	hz       float64
	cos, sin [blockLen]int32
	// adv is how far the frequency's phase moves over one block, in 1/65536
	// turns: a tone exactly at hz shows this phase step between blocks.
	adv uint16
}

// blockLen is the analysis block of the detectors: 10 ms, one media frame.
const blockLen = 80

func newQuad(hz float64) quad {
	q := quad{hz: hz}
	for n := range blockLen {
		w := 2 * math.Pi * hz * float64(n) / fs
		q.cos[n] = int32(math.Round(1024 * math.Cos(w)))
		q.sin[n] = int32(math.Round(-1024 * math.Sin(w)))
	}
	q.adv = uint16(int64(math.Round(hz*blockLen/fs*65536)) & 0xffff)
	return q
}

// accumulate adds x[i]*ref[n0+i] to (re, im). With Q10 references the
// sums stay below 80 * 32768 * 1024 * (2/pi) < 2^31 for any input.
func (q *quad) accumulate(x []int16, n0 int, re, im int32) (int32, int32) {
	c := q.cos[n0 : n0+len(x)]
	s := q.sin[n0 : n0+len(x)]
	c, s = c[:len(x)], s[:len(x)] // lets the compiler drop bounds checks
	for i, v := range x {
		re += int32(v) * c[i]
		im += int32(v) * s[i]
	}
	return re, im
}

// accumulate2 is accumulate for two references at once, sharing the loads
// of x: the detectors' inner loop.
func accumulate2(a, b *quad, x []int16, n0 int, acc *[4]int32) {
	ac := a.cos[n0 : n0+len(x)]
	as := a.sin[n0 : n0+len(x)]
	bc := b.cos[n0 : n0+len(x)]
	bs := b.sin[n0 : n0+len(x)]
	ac, as, bc, bs = ac[:len(x)], as[:len(x)], bc[:len(x)], bs[:len(x)]
	r0, i0, r1, i1 := acc[0], acc[1], acc[2], acc[3]
	for i, v := range x {
		w := int32(v)
		r0 += w * ac[i]
		i0 += w * as[i]
		r1 += w * bc[i]
		i1 += w * bs[i]
	}
	acc[0], acc[1], acc[2], acc[3] = r0, i0, r1, i1
}
