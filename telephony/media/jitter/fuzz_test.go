package jitter

import (
	"encoding/binary"
	"testing"
)

// FuzzBuffer drives the buffer with arbitrary packets and ticks: the delay
// stays within its limits, the bookkeeping matches the ring, and every tick
// yields exactly one frame.
func FuzzBuffer(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 160, 1, 0, 0, 0, 160, 0, 160, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0x00, 1, 240, 2, 0, 0, 0, 0, 0, 80, 9})
	f.Add([]byte{0x80, 0, 0, 0, 0, 200, 0, 0x7f, 0xff, 0xff, 0xff, 0, 10, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		b := New(PCMU)
		payload := make([]byte, 2048)
		frame := make([]int16, Frame)
		gets := 0
		for len(data) >= 7 {
			ts := binary.BigEndian.Uint32(data)
			marker := data[4]&1 != 0
			n := int(binary.BigEndian.Uint16(data[4:]) & 0x7ff)
			b.Put(ts, marker, payload[:n])
			for range data[6] % 4 {
				b.Get(frame)
				gets++
			}
			checkInvariants(t, b)
			data = data[7:]
		}
		s := b.Stats()
		if s.Played+s.Concealed > uint64(gets) {
			t.Fatalf("%d frames out of %d ticks", s.Played+s.Concealed, gets)
		}
	})
}
