package hdlc

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"callbox/dsp/fax/internal/faxtest"
)

// TestSpandsp runs frames both ways between our framer and spandsp's, bit
// for bit (no modem in between).
func TestSpandsp(t *testing.T) {
	bin := faxtest.Harness(t)
	rng := rand.New(rand.NewPCG(5, 6))
	frames := [][]byte{{0xff, 0x13, 0x80}, bytes.Repeat([]byte{0xff}, 64), bytes.Repeat([]byte{0x7e}, 9)}
	for range 20 {
		f := make([]byte, 3+rng.IntN(260))
		for i := range f {
			f[i] = byte(rng.Uint32())
		}
		frames = append(frames, f)
	}

	// spandsp's transmitter, our receiver.
	bits := strings.TrimSpace(string(faxtest.Run(t, bin, faxtest.HexLines(frames), "hdlc-tx")))
	var rx Rx
	var got [][]byte
	for _, c := range bits {
		if rx.PutBit(int(c-'0')) == Frame {
			got = append(got, bytes.Clone(rx.Frame()))
		}
	}
	if len(got) != len(frames) {
		t.Fatalf("from spandsp: got %d frames, want %d", len(got), len(frames))
	}
	for i := range got {
		if !bytes.Equal(got[i], frames[i]) {
			t.Errorf("from spandsp: frame %d = %x, want %x", i, got[i], frames[i])
		}
	}

	// Our transmitter, spandsp's receiver.
	var tx Tx
	var b strings.Builder
	tx.Flags(4)
	for _, f := range frames {
		tx.Frame(f)
		for {
			bit, ok := tx.NextBit()
			if !ok {
				break
			}
			b.WriteByte(byte('0' + bit))
		}
	}
	recv := faxtest.ParseFrames(t, faxtest.Run(t, bin, []byte(b.String()), "hdlc-rx"))
	if len(recv) != len(frames) {
		t.Fatalf("to spandsp: it got %d frames, want %d", len(recv), len(frames))
	}
	for i, r := range recv {
		if !r.OK || !bytes.Equal(r.Data, frames[i]) {
			t.Errorf("to spandsp: frame %d ok=%v %x, want %x", i, r.OK, r.Data, frames[i])
		}
	}
}
