// Package mix is conference mixing and level control: an N-party mixer in
// which every party hears all the others but not itself, fixed-point gains
// set in dB, and an automatic gain control for prompts and recordings.
//
// Everything saturates instead of wrapping, works on blocks of any length
// and allocates nothing per block.
package mix

import "math"

// gainShift is the fraction bits of a Gain: unity is 1<<gainShift.
const gainShift = 14

// Gain range accepted by GainDB; lower values mute.
const (
	MinGainDB = -60.0
	MaxGainDB = 24.0
	// tableStep is the resolution of the gain table in dB.
	tableStep = 0.25
)

// gainTable holds the Q14 factor for every tableStep from MinGainDB to
// MaxGainDB, computed once so run-time changes need no floating point.
var gainTable = func() []int32 {
	n := int((MaxGainDB-MinGainDB)/tableStep) + 1
	t := make([]int32, n)
	for i := range t {
		db := MinGainDB + float64(i)*tableStep
		t[i] = int32(math.Round(math.Pow(10, db/20) * (1 << gainShift)))
	}
	return t
}()

// Gain is a fixed-point linear gain (Q14, so up to +24 dB fits comfortably
// in the int32 products). The zero value mutes.
type Gain int32

// Unity is a gain of 0 dB.
const Unity Gain = 1 << gainShift

// GainDB returns the gain for db decibels, rounded to the nearest 0.25 dB
// and limited to MaxGainDB; below MinGainDB (or NaN) it mutes.
func GainDB(db float64) Gain {
	if !(db >= MinGainDB) {
		return 0
	}
	db = min(db, MaxGainDB)
	return Gain(gainTable[int(math.Round((db-MinGainDB)/tableStep))])
}

// DB returns the gain in decibels (-Inf for a mute), for display.
func (g Gain) DB() float64 {
	return 20 * math.Log10(float64(g)/(1<<gainShift))
}

// Apply writes src scaled by g to dst, rounding and saturating; dst may
// alias src. It panics if dst is shorter than src.
func (g Gain) Apply(dst, src []int16) {
	dst = dst[:len(src)]
	if g == Unity {
		copy(dst, src)
		return
	}
	for i, v := range src {
		dst[i] = sat16((int32(v)*int32(g) + 1<<(gainShift-1)) >> gainShift)
	}
}

// scale is g applied to one sample, without saturation (the mixer
// saturates its sums instead).
func (g Gain) scale(v int16) int32 {
	return (int32(v)*int32(g) + 1<<(gainShift-1)) >> gainShift
}

func sat16(v int32) int16 {
	return int16(max(-32768, min(32767, v)))
}
