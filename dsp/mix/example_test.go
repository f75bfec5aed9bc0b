package mix_test

import (
	"fmt"

	"callbox/dsp/mix"
)

// A three-party conference: each party hears the other two, and party 2
// is turned down by 6 dB for everyone else.
func ExampleMixer() {
	m, err := mix.NewMixer(3, 80)
	if err != nil {
		panic(err)
	}
	m.SetInputGain(2, mix.GainDB(-6))
	in := [][]int16{{1000}, {2000}, {4000}}
	out := [][]int16{make([]int16, 1), make([]int16, 1), make([]int16, 1)}
	m.Mix(out, in)
	fmt.Println(out[0][0], out[1][0], out[2][0])
	// Output: 4005 3005 3000
}
