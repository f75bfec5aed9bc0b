package qam

import (
	"math/rand/v2"
	"testing"
)

// The word-at-a-time scrambler gives the per-bit one's line bits, from any
// state, in blocks of any size up to 18.
func TestScramblerMatchesPerBit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		reg := rng.Uint32() & (1<<23 - 1)
		var s Scrambler
		s.Reset(reg)
		for range 50 {
			n := 1 + rng.IntN(18)
			in := rng.Uint32() & (1<<n - 1)
			var want uint32
			for i := range n {
				b := (in>>i ^ reg>>17 ^ reg>>22) & 1
				reg = reg<<1 | b
				want |= b << i
			}
			if got := s.Scramble(in, n); got != want {
				t.Fatalf("%d bits of %#x: %#x, want %#x", n, in, got, want)
			}
		}
	}
}
