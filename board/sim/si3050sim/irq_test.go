package si3050sim_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"callbox/board/internal/vclock"
	"callbox/board/si3050"
	"callbox/board/sim/si3050sim"

	"periph.io/x/conn/v3/gpio"
)

// The interrupt pin goes low on an unmasked event and high again once the
// driver's poll clears the source register.
func TestInterruptPinFollowsSource(t *testing.T) {
	r := newRig(t, "fxo1", "CN", si3050sim.Faults{})
	if err := r.port.Init(); err != nil {
		t.Fatal(err)
	}
	irq := r.chip.IRQ()
	if irq.Read() != gpio.High {
		t.Fatal("interrupt pin low after bring-up")
	}
	r.chip.CO().Reverse()
	if irq.Read() != gpio.Low || r.chip.Reg(si3050.RegIntSource)&si3050.IntPOL == 0 {
		t.Fatalf("after a reversal: pin %v, register 4 = %#x", irq.Read(), r.chip.Reg(si3050.RegIntSource))
	}
	if _, err := r.port.Poll(nil); err != nil {
		t.Fatal(err)
	}
	if irq.Read() != gpio.High || r.chip.Reg(si3050.RegIntSource) != 0 {
		t.Fatalf("after the poll: pin %v, register 4 = %#x", irq.Read(), r.chip.Reg(si3050.RegIntSource))
	}
	// Ring start raises the ring interrupt.
	if err := r.chip.CO().Ring(si3050sim.Call{}); err != nil {
		t.Fatal(err)
	}
	r.clk.Advance(5 * time.Millisecond)
	if r.chip.Reg(si3050.RegIntSource)&si3050.IntRDT == 0 || irq.Read() != gpio.Low {
		t.Fatalf("ringing: pin %v, register 4 = %#x", irq.Read(), r.chip.Reg(si3050.RegIntSource))
	}
}

// The monitor goroutine, on the real clock: with the interrupt pin it
// reacts long before its idle poll; without one it polls.
func TestMonitorGoroutine(t *testing.T) {
	for _, withIRQ := range []bool{true, false} {
		name := map[bool]string{true: "irq", false: "polling"}[withIRQ]
		t.Run(name, func(t *testing.T) {
			chip, err := si3050sim.New(si3050sim.Config{Name: "fxo1", Clock: vclock.Real{}, LinkDelay: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			cfg := si3050.Config{Name: "fxo1", Conn: chip, PollInterval: 5 * time.Millisecond, IdlePoll: time.Second}
			if withIRQ {
				cfg.IRQ = chip.IRQ()
			}
			p, err := si3050.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Init(); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			got := make(chan si3050.Event, 8)
			if err := p.Start(context.Background(), func(e si3050.Event) {
				mu.Lock()
				defer mu.Unlock()
				got <- e
			}); err != nil {
				t.Fatal(err)
			}
			if err := p.Start(context.Background(), nil); err == nil {
				t.Error("second Start accepted")
			}
			time.Sleep(20 * time.Millisecond) // let the monitor settle into its idle wait
			t0 := time.Now()
			chip.CO().Reverse()
			select {
			case e := <-got:
				if e.Kind != si3050.PolarityReversal || e.Polarity != -1 {
					t.Errorf("event %v, want a reversal to -1", e)
				}
				if d := time.Since(t0); d > 500*time.Millisecond {
					t.Errorf("reversal reported after %v", d)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("no event")
			}
			t0 = time.Now()
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			// The goroutine waits up to IdlePoll (1 s) on the pin; Close
			// ends that wait rather than sitting it out.
			if d := time.Since(t0); d > 500*time.Millisecond {
				t.Errorf("Close took %v", d)
			}
			n := chip.Transfers()
			time.Sleep(30 * time.Millisecond)
			if chip.Transfers() != n {
				t.Error("monitor still polling after Close")
			}
		})
	}
}
