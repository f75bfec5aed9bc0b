package si3050sim_test

import (
	"testing"
	"time"

	"callbox/board/internal/vclock"
	"callbox/board/si3050"
	"callbox/board/sim/si3050sim"
)

// FuzzTx feeds arbitrary SPI byte streams to the emulator. It must never
// panic, every register read must stay within the bits the datasheet
// defines, and whatever the stream did, the driver must bring the chip up
// and seize the line afterwards (a reset always recovers it).
func FuzzTx(f *testing.F) {
	f.Add([]byte{0x20, 1, 0x80, 0x60, 11, 0})
	f.Add([]byte{0x20, 6, 0x00, 0x20, 5, 0x09, 0x60, 28, 0, 0x60, 29, 0})
	f.Add([]byte{0x20, 2, 0xFF, 0x20, 3, 0xFF, 0x20, 4, 0x00, 0x60, 4, 0, 0x60, 200, 0})
	f.Add([]byte{0x21, 5, 0x09, 0x60, 5, 0, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, w []byte) {
		clk := vclock.NewVirtual()
		chip, err := si3050sim.New(si3050sim.Config{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		r := make([]byte, len(w))
		for i := 0; i < 4; i++ { // the stream again as time passes
			if err := chip.Tx(w, r); err != nil {
				t.Fatal(err)
			}
			for j := 0; j+3 <= len(w); j += 3 {
				if w[j] != si3050.CtrlRead {
					continue
				}
				reg, v := w[j+1], r[j+2]
				bad := false
				switch {
				case reg >= si3050sim.NumRegs:
					bad = v != 0
				case reg == si3050.RegRevision:
					bad = v&0x0F != 5 || (v>>4 != 0 && v>>4 != si3050.LineSideSi3019)
				case reg == si3050.RegDAACtrl1:
					bad = v&^0x6D != 0
				case reg == si3050.RegLineStatus:
					bad = v&0xA0 != 0
				case reg == si3050.RegLineRev:
					bad = v&0xC3 != 0
				}
				if bad {
					t.Fatalf("register %d reads %#x", reg, v)
				}
			}
			clk.Advance(60 * time.Millisecond)
		}
		p, err := si3050.New(si3050.Config{Conn: chip, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Init(); err != nil {
			t.Fatalf("bring-up after the stream: %v", err)
		}
		if err := p.Seize(); err != nil {
			t.Fatalf("seize after the stream: %v", err)
		}
	})
}

func TestTxShortReadBuffer(t *testing.T) {
	chip, err := si3050sim.New(si3050sim.Config{Clock: vclock.NewVirtual()})
	if err != nil {
		t.Fatal(err)
	}
	if err := chip.Tx([]byte{0x60, 11, 0}, make([]byte, 2)); err == nil {
		t.Error("Tx accepted a read buffer shorter than the write")
	}
}
