package sim

import (
	"strings"
	"testing"

	"callbox/board"
	"callbox/board/internal/vclock"
	"callbox/board/sim/proslicsim"
	"callbox/board/sim/si3050sim"
)

func TestNew(t *testing.T) {
	s, err := New(board.Sim(), Options{Clock: vclock.NewVirtual(), Faults: map[string]Fault{"fxs1": {FXS: proslicsim.Absent}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := strings.Join(s.Ports(), " "); got != "fxs1 fxs2 fxs3 fxs4 fxo1 fxo2" {
		t.Fatalf("ports %q", got)
	}
	for _, name := range s.Ports() {
		conn, reset, irq, err := s.Wiring(name)
		if err != nil || conn == nil || reset == nil || irq == nil {
			t.Fatalf("%s: wiring %v %v %v %v", name, conn, reset, irq, err)
		}
		fxs := strings.HasPrefix(name, "fxs")
		if (s.Phone(name) != nil) != fxs || (s.SLIC(name) != nil) != fxs || (s.CO(name) != nil) == fxs || (s.DAA(name) != nil) == fxs {
			t.Fatalf("%s: phones and offices on the wrong ports", name)
		}
	}
	// The injected fault shows on the bus: an absent ProSLIC reads 0xFF.
	if got := readSLIC(t, s, "fxs1"); got != 0xFF {
		t.Fatalf("absent chip reads %#x", got)
	}
	if err := s.SetFault("fxs1", Fault{}); err != nil {
		t.Fatal(err)
	}
	if got := readSLIC(t, s, "fxs1"); got == 0xFF {
		t.Fatal("fault not cleared")
	}
	if err := s.SetFault("fxo1", Fault{FXO: si3050sim.Faults{Absent: true}}); err != nil {
		t.Fatal(err)
	}
	r := make([]byte, 3)
	if err := s.DAA("fxo1").Tx([]byte{0x60, 11, 0}, r); err != nil || r[2] != 0xFF {
		t.Fatalf("absent DAA reads %#x (%v)", r[2], err)
	}
	if got := r[2]; got != 0xFF {
		t.Fatalf("absent DAA reads %#x", got)
	}
	if err := s.SetFault("fxo9", Fault{}); err == nil {
		t.Fatal("fault on an unknown port accepted")
	}
	if _, _, _, err := s.Wiring("fxo9"); err == nil {
		t.Fatal("wiring of an unknown port")
	}
	if s.Highway().Slots() != 32 {
		t.Fatalf("highway of %d slots", s.Highway().Slots())
	}
}

func TestNewRefuses(t *testing.T) {
	hw, err := board.Load("../boards/rpi4-2fxs-2fxo.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(hw, Options{}); err == nil || !strings.Contains(err.Error(), "not simulated") {
		t.Fatalf("hardware board: %v", err)
	}
	if _, err := New(board.Sim(), Options{Faults: map[string]Fault{"fxs9": {}}}); err == nil || !strings.Contains(err.Error(), `"fxs9"`) {
		t.Fatalf("fault for an unknown port: %v", err)
	}
}

// readSLIC reads ProSLIC register 0 over the emulated bus, as the driver does.
func readSLIC(t *testing.T, s *Board, port string) byte {
	t.Helper()
	c := s.SLIC(port)
	r := make([]byte, 1)
	if err := c.Tx([]byte{0x80}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Tx([]byte{0}, r); err != nil {
		t.Fatal(err)
	}
	return r[0]
}
