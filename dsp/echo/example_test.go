package echo_test

import (
	"fmt"
	"math"

	"callbox/dsp/echo"
)

// Cancelling the echo of a line: far is what the box sends to the line,
// near what comes back, here a delayed and attenuated copy of far.
func ExampleCanceller() {
	c, err := echo.New(256)
	if err != nil {
		panic(err)
	}
	const n = 16000 // 2 s
	far := make([]int16, n)
	seed := uint32(1)
	for i := range far {
		seed = seed*1664525 + 1013904223
		far[i] = int16(seed>>16) / 8 // white noise, about -21 dBm0
	}
	near := make([]int16, n)
	for i := 41; i < n; i++ {
		near[i] = far[i-40]/4 - far[i-41]/8 // 5 ms delay, 10 dB loss
	}
	out := make([]int16, n)
	for i := 0; i < n; i += 80 { // 10 ms frames, as the media engine runs
		c.Process(out[i:i+80], near[i:i+80], far[i:i+80])
	}
	var pin, pout float64
	for i := n / 2; i < n; i++ {
		pin += float64(near[i]) * float64(near[i])
		pout += float64(out[i]) * float64(out[i])
	}
	fmt.Println("echo reduced by more than 40 dB:", 10*math.Log10(pin/math.Max(pout, 1)) > 40)
	// Output: echo reduced by more than 40 dB: true
}
