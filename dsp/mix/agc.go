package mix

import (
	"math"
	"math/bits"
)

// AGCConfig sets up an AGC. Levels are in dBm0, the level of a sine of
// that power in G.711 (0 dBm0 is 3.14 dB below a full-scale sine).
type AGCConfig struct {
	// Target is the speech level the AGC aims for (default -18 dBm0).
	Target float64
	// MaxGain and MinGain limit the gain in dB (defaults +18 and -18).
	MaxGain, MinGain float64
	// Gate is the level below which the signal counts as silence or line
	// noise and the gain is held (default -50 dBm0), so pauses are not
	// pumped up.
	Gate float64
	// Attack and Release are how fast the gain falls and rises, in dB per
	// second (defaults 120 and 12): fast down so peaks do not clip, slow up
	// so pauses between words do not swell.
	Attack, Release float64
}

// agcBlock is the measurement block: 10 ms.
const agcBlock = 80

// AGC is an automatic gain control for prompts and recordings. It measures
// the level in 10 ms blocks (fast-attack, slow-release envelope), moves the
// gain towards the target within its limits and rates, and ramps the gain
// across each block so that changes make no steps. It has no look-ahead: a
// block is scaled with the gain decided from the blocks before it.
type AGC struct {
	target          int64 // target amplitude (RMS) in linear units
	gate            int64 // gate: block energy below which the gain holds
	maxG, minG      int32 // gain limits, Q14
	attack, release int32 // per-block gain factors (<1 and >1), Q14
	n               int   // samples into the current block
	energy          int64 // energy of the current block so far
	env             int64 // envelope: block energy, fast up, slow down
	cur             int64 // gain now, Q(gainShift+rampBits)
	rampStep        int64 // per-sample gain change across this block
}

const rampBits = 8

// dBm0 returns the RMS of a sine at level dBm0 in 16-bit linear audio.
func dBm0(level float64) float64 {
	return 32767 / math.Pow(10, 3.14/20) / math.Sqrt2 * math.Pow(10, level/20)
}

// NewAGC returns an AGC with cfg (zero fields take the defaults).
func NewAGC(cfg AGCConfig) *AGC {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.Target, -18)
	def(&cfg.MaxGain, 18)
	def(&cfg.MinGain, -18)
	def(&cfg.Gate, -50)
	def(&cfg.Attack, 120)
	def(&cfg.Release, 12)
	q := func(db float64) int32 { return int32(math.Round(math.Pow(10, db/20) * (1 << gainShift))) }
	g := dBm0(cfg.Gate)
	a := &AGC{
		target:  int64(math.Round(dBm0(cfg.Target))),
		gate:    int64(g * g * agcBlock),
		maxG:    q(cfg.MaxGain),
		minG:    q(cfg.MinGain),
		attack:  q(-cfg.Attack / 100),
		release: q(cfg.Release / 100),
	}
	a.Reset()
	return a
}

// Reset returns the AGC to unity gain with no level history.
func (a *AGC) Reset() {
	a.n, a.energy, a.env = 0, 0, 0
	a.cur = int64(Unity) << rampBits
	a.rampStep = 0
}

// Gain returns the gain in effect now.
func (a *AGC) Gain() Gain { return Gain(a.cur >> rampBits) }

// Process writes src with the automatic gain applied to dst (dst may alias
// src); blocks of any length give the same result.
func (a *AGC) Process(dst, src []int16) {
	dst = dst[:len(src)]
	for len(src) > 0 {
		k := min(agcBlock-a.n, len(src))
		for i, v := range src[:k] {
			a.energy += int64(v) * int64(v)
			a.cur += a.rampStep
			dst[i] = sat16(int32((int64(v)*a.cur + 1<<(gainShift+rampBits-1)) >> (gainShift + rampBits)))
		}
		src, dst = src[k:], dst[k:]
		if a.n += k; a.n == agcBlock {
			a.block()
		}
	}
}

// block runs once per 10 ms: update the envelope and plan the next ramp.
func (a *AGC) block() {
	e := a.energy
	a.n, a.energy = 0, 0
	// Envelope: jump up to a louder block, decay by 1/8 per block (about
	// 80 ms) towards a quieter one.
	if e > a.env {
		a.env = e
	} else {
		a.env -= (a.env - e) >> 3
	}
	g := int32(a.cur >> rampBits)
	want := g
	if a.env >= a.gate {
		rms := isqrt(a.env / agcBlock)
		if rms > 0 {
			want = int32(min(int64(a.maxG), (a.target<<gainShift)/rms))
		}
		want = max(a.minG, min(a.maxG, want))
	}
	next := g
	switch {
	case want < g:
		next = max(want, int32(int64(g)*int64(a.attack)>>gainShift))
	case want > g:
		next = min(want, int32(int64(g)*int64(a.release)>>gainShift)+1)
	}
	a.rampStep = (int64(next)<<rampBits - a.cur) / agcBlock
}

// isqrt is the integer square root.
func isqrt(v int64) int64 {
	if v <= 0 {
		return 0
	}
	r := int64(1) << ((bits.Len64(uint64(v)) + 1) / 2)
	for {
		n := (r + v/r) / 2
		if n >= r {
			return r
		}
		r = n
	}
}
