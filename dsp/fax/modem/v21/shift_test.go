package v21

import "math"

// shift moves every frequency in x by hz (a single-sideband shift through
// an FFT-free Hilbert transformer is overkill here: x is a narrow FSK
// signal, so a quadrature mix and a long FIR Hilbert filter do).
func shift(x []int16, hz float64) []int16 {
	const taps = 101
	h := make([]float64, taps)
	for i := range h {
		k := i - taps/2
		if k%2 != 0 {
			w := 0.54 + 0.46*math.Cos(2*math.Pi*float64(k)/taps)
			h[i] = 2 / (math.Pi * float64(k)) * w
		}
	}
	out := make([]int16, len(x))
	for n := range x {
		var q float64
		for i, c := range h {
			if j := n - i + taps/2; j >= 0 && j < len(x) && c != 0 {
				q += c * float64(x[j])
			}
		}
		ph := 2 * math.Pi * hz * float64(n) / 8000
		out[n] = int16(math.Round(float64(x[n])*math.Cos(ph) - q*math.Sin(ph)))
	}
	return out
}
