package flash

import (
	"slices"
	"testing"
)

// TestBootFallback runs the boot script's logic through an update: B is
// activated; booted and marked good it stays; never marked good (it does
// not come up) it is tried MaxAttempts times, then A boots by itself.
func TestBootFallback(t *testing.T) {
	box := newSimBox(t)
	boot := func() string {
		var slot string
		if err := box.env.UpdateBoot(func(s *BootState) { slot = s.Choose() }); err != nil {
			t.Fatal(err)
		}
		return slot
	}
	if got := boot(); got != "A" {
		t.Fatalf("first boot: %q", got)
	}
	if err := MarkGood(box.env, "A"); err != nil {
		t.Fatal(err)
	}
	// A good update.
	if err := Activate(box.env, "B"); err != nil {
		t.Fatal(err)
	}
	if got := boot(); got != "B" {
		t.Fatalf("after activating B: boots %q", got)
	}
	if err := MarkGood(box.env, "B"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if got := boot(); got != "B" {
			t.Fatalf("B marked good, then boots %q", got)
		}
		if err := MarkGood(box.env, "B"); err != nil {
			t.Fatal(err)
		}
	}
	// A broken update into A: never marked good.
	if err := Activate(box.env, "A"); err != nil {
		t.Fatal(err)
	}
	var seq []string
	for range MaxAttempts + 2 {
		seq = append(seq, boot())
	}
	if want := []string{"A", "A", "A", "B", "B"}; !slices.Equal(seq, want) {
		t.Fatalf("boots %v, want %v", seq, want)
	}
}

func TestBootAllExhausted(t *testing.T) {
	s := BootState{Order: []string{"A", "B"}, Left: map[string]int{"A": 0, "B": 0}}
	if got := s.Choose(); got != "" {
		t.Fatalf("chose %q with no attempts left", got)
	}
	if s.Left["A"] != MaxAttempts || s.Left["B"] != MaxAttempts {
		t.Fatalf("counts not reset: %v", s.Left)
	}
}

func TestParseBootState(t *testing.T) {
	s := ParseBootState(Env{"BOOT_ORDER": "B X B A", "BOOT_A_LEFT": "x", "BOOT_B_LEFT": "9"})
	if !slices.Equal(s.Order, []string{"B", "A"}) || s.Left["A"] != MaxAttempts || s.Left["B"] != MaxAttempts {
		t.Fatalf("%+v", s)
	}
	s = ParseBootState(Env{})
	if !slices.Equal(s.Order, Slots) {
		t.Fatalf("defaults: %+v", s)
	}
}

func TestLayouts(t *testing.T) {
	for _, b := range Boards() {
		l, err := LayoutFor(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Validate(); err != nil {
			t.Errorf("%s: %v", b, err)
		}
		for _, slot := range Slots {
			p, err := l.SlotPartition(slot, "rootfs")
			if err != nil {
				t.Fatal(err)
			}
			if p.Slot != slot {
				t.Fatalf("%s: slot %s's rootfs is %+v", b, slot, p)
			}
		}
	}
	l, _ := LayoutFor("rpi4-callbox")
	p, _ := l.SlotPartition("B", "rootfs")
	if got := l.Device(p); got != "/dev/mmcblk0p3" {
		t.Fatalf("device %q", got)
	}
	bad := l
	bad.Parts = slices.Clone(l.Parts)
	bad.Parts[1].Offset = 9 * MiB
	if err := bad.Validate(); err == nil {
		t.Fatal("overlapping layout accepted")
	}
	if _, err := LayoutFor("nope"); err == nil {
		t.Fatal("unknown board has a layout")
	}
}
