package proslic_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"callbox/board/internal/vclock"
	"callbox/board/proslic"
	"callbox/board/sim/proslicsim"
)

// TestStart runs the service goroutine on the real clock, woken by the
// emulated interrupt pin, and without a pin (polling fallback).
func TestStart(t *testing.T) {
	for _, irq := range []bool{true, false} {
		name := "irq"
		if !irq {
			name = "polling"
		}
		t.Run(name, func(t *testing.T) {
			clk := vclock.Real{}
			chip := proslicsim.New(proslicsim.Config{Name: "fxs1", Clock: clk, RampTime: 5 * time.Millisecond, CalTime: 5 * time.Millisecond})
			cfg := proslic.Config{Name: "fxs1", Conn: chip, Reset: chip.Reset(), Clock: clk,
				Debounce: 5 * time.Millisecond, PollInterval: 2 * time.Millisecond, IdleInterval: time.Hour,
				// A wide window: on a loaded machine the goroutine may see the
				// break late, and this test is about delivery, not timing.
				Flash: proslic.FlashWindow{Min: 50 * time.Millisecond, Max: 10 * time.Second}}
			if irq {
				cfg.IRQ = chip.IRQ()
			} else {
				cfg.IdleInterval = 5 * time.Millisecond
			}
			p, err := proslic.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.BringUp(); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			got := make(chan proslic.Event, 8)
			if err := p.Start(context.Background(), func(e proslic.Event) { mu.Lock(); got <- e; mu.Unlock() }); err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if err := p.Start(context.Background(), nil); err == nil {
				t.Fatal("second Start accepted")
			}
			time.Sleep(20 * time.Millisecond) // the loop waits for the pin (an hour without it)
			t0 := time.Now()
			chip.Phone().OffHook()
			select {
			case e := <-got:
				if e.Kind != proslic.OffHook {
					t.Fatalf("event %v", e.Kind)
				}
				if d := time.Since(t0); d > 4*time.Second {
					t.Fatalf("off-hook took %v", d)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no off-hook event")
			}
			// A flash from the phone, timed on the wall clock.
			chip.Phone().Flash(300 * time.Millisecond)
			select {
			case e := <-got:
				if e.Kind != proslic.Flash {
					t.Fatalf("event %v (%v), want a flash", e.Kind, e.Window)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("no flash event")
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// BenchmarkService is one idle service pass (interrupt and hook reads).
func BenchmarkService(b *testing.B) {
	clk := vclock.NewVirtual()
	chip := proslicsim.New(proslicsim.Config{Name: "fxs1", Clock: clk})
	p, _ := proslic.New(proslic.Config{Name: "fxs1", Conn: chip, Reset: chip.Reset(), Clock: clk})
	if err := p.BringUp(); err != nil {
		b.Fatal(err)
	}
	ev := make([]proslic.Event, 0, 8)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clk.Advance(10 * time.Millisecond)
		ev = p.Service(ev[:0])
	}
}

// BenchmarkBringUp is a whole bring-up on the emulator (virtual clock).
func BenchmarkBringUp(b *testing.B) {
	clk := vclock.NewVirtual()
	chip := proslicsim.New(proslicsim.Config{Name: "fxs1", Clock: clk})
	p, _ := proslic.New(proslic.Config{Name: "fxs1", Conn: chip, Reset: chip.Reset(), Clock: clk})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := p.BringUp(); err != nil {
			b.Fatal(err)
		}
	}
}
