package modem

import (
	"math/rand/v2"
	"testing"
)

// words hands out a fixed bit sequence in words of random sizes (with
// garbage above them), and bit by bit.
type words struct {
	bits []int
	i    int
	rng  *rand.Rand
}

func (w *words) NextBit() (int, bool) {
	if w.i == len(w.bits) {
		return 0, false
	}
	w.i++
	return w.bits[w.i-1], true
}

func (w *words) NextBits() (uint32, int) {
	k := min(1+w.rng.IntN(32), len(w.bits)-w.i)
	v := w.rng.Uint32() << k // garbage above the bits
	if k == 32 {
		v = 0
	}
	for j := range k {
		v |= uint32(w.bits[w.i+j]) << j
	}
	w.i += k
	return v, k
}

// Take over a WordSource gives the same bits as bit by bit, in takes of
// any size, and says how many were left at the end.
func TestTakeMatchesBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100 {
		bits := make([]int, 1+rng.IntN(300))
		for i := range bits {
			bits[i] = rng.IntN(2)
		}
		var b Bits
		b.Reset(&words{bits: bits, rng: rng})
		var got []int
		for {
			n := 1 + rng.IntN(25)
			if rng.IntN(4) == 0 {
				if bit, ok := b.Next(); ok {
					got = append(got, bit)
				}
			}
			v, k := b.Take(n)
			for j := range k {
				got = append(got, int(v>>j&1))
			}
			if v>>k != 0 {
				t.Fatalf("bits above the %d taken: %#x", k, v)
			}
			if k < n {
				break
			}
		}
		if len(got) != len(bits) {
			t.Fatalf("%d bits, want %d", len(got), len(bits))
		}
		for i := range bits {
			if got[i] != bits[i] {
				t.Fatalf("bit %d differs", i)
			}
		}
	}
}
