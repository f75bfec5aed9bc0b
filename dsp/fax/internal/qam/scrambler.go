package qam

import "math/bits"

// Scrambler is the self-synchronising scrambler 1 + x^-18 + x^-23 of V.29
// and V.17, a word at a time: each line bit depends on line bits 18 and 23
// back, so up to 18 of them come from the history in three operations.
type Scrambler struct {
	hist uint32 // the last 23 line bits, the oldest in bit 0
}

// Reset sets the history from reg, the per-bit form (the last line bit in
// bit 0, the one before in bit 1, ...).
func (s *Scrambler) Reset(reg uint32) {
	s.hist = bits.Reverse32(reg) >> 9
}

// Scramble returns the n (at most 18) line bits for data bits in, the
// first in bit 0 of both.
func (s *Scrambler) Scramble(in uint32, n int) uint32 {
	out := (in ^ s.hist ^ s.hist>>5) & (1<<n - 1)
	s.hist = s.hist>>n | out<<(23-n)
	return out
}
