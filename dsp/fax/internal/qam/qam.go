// Package qam is the machinery the fax QAM/PSK modems (V.27ter, V.29)
// share: the transmit pulse shaper and modulator, and the receive front end
// (carrier detection, a complex band-pass matched filter evaluated only at
// the half-symbol instants, AGC, mixing to baseband, Gardner symbol timing),
// the T/2 fractionally spaced equaliser and the carrier loop.
//
// Fixed point throughout: symbols and baseband values are in units of
// 1/Unit of a constellation unit (Q11 at the receiver, Q10 at the
// transmitter), phases are uint32 (2^32 to a turn), filter coefficients
// int16 or int32 built once from floating-point designs.
package qam

import "math"

// Point is a complex value in fixed point.
type Point struct{ Re, Im int32 }

// RRC is the root-raised-cosine pulse with roll-off beta at t symbol
// periods, normalised to unit energy per symbol.
func RRC(t, beta float64) float64 {
	switch {
	case t == 0:
		return 1 - beta + 4*beta/math.Pi
	case beta > 0 && math.Abs(math.Abs(4*beta*t)-1) < 1e-9:
		return beta / math.Sqrt2 * ((1+2/math.Pi)*math.Sin(math.Pi/(4*beta)) + (1-2/math.Pi)*math.Cos(math.Pi/(4*beta)))
	}
	num := math.Sin(math.Pi*t*(1-beta)) + 4*beta*t*math.Cos(math.Pi*t*(1+beta))
	den := math.Pi * t * (1 - 16*beta*beta*t*t)
	return num / den
}

// Rotate returns p turned by phase (Q15 cos and sin).
func Rotate(p Point, c, s int32) Point {
	return Point{(p.Re*c - p.Im*s) >> 15, (p.Re*s + p.Im*c) >> 15}
}
