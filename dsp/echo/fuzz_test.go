package echo

import (
	"encoding/binary"
	"slices"
	"testing"
)

// FuzzCanceller feeds arbitrary sample pairs. Invariants: no panic; the
// output does not depend on how the input is split into blocks; and with a
// silent far end nothing adapts, so the output is exactly the DC-blocked
// near end.
func FuzzCanceller(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80, 0x01, 0x00, 0xff, 0xff})
	loud := make([]byte, 4*400)
	for i := range loud {
		loud[i] = byte(i*97 + i*i)
	}
	f.Add(loud)
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 4
		far := make([]int16, n)
		near := make([]int16, n)
		for i := range n {
			far[i] = int16(binary.LittleEndian.Uint16(data[4*i:]))
			near[i] = int16(binary.LittleEndian.Uint16(data[4*i+2:]))
		}
		a := newCanceller(t, MinTaps)
		outA := make([]int16, n)
		a.Process(outA, near, far)
		b := newCanceller(t, MinTaps)
		outB := make([]int16, n)
		for i := 0; i < n; i += 7 {
			j := min(i+7, n)
			b.Process(outB[i:j], near[i:j], far[i:j])
		}
		if !slices.Equal(outA, outB) {
			t.Fatal("output depends on the block length")
		}
		silent := newCanceller(t, MinTaps, WithNLP(false))
		out := make([]int16, n)
		silent.Process(out, near, make([]int16, n))
		if want := highPass(near); !slices.Equal(out, want) {
			t.Fatal("with a silent far end the output is not the DC-blocked near end")
		}
	})
}
