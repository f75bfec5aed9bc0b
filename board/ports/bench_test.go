package ports_test

import (
	"context"
	"testing"
	"time"

	"callbox/board"
	"callbox/board/ports"
	"callbox/board/sim"
)

// BenchmarkStep is one 10 ms frame of the whole sim board: every port's
// service (SPI register traffic to the emulators), the highway's frame
// with G.711 on each timeslot, and the silent handler. Steady state must
// not allocate.
func BenchmarkStep(b *testing.B) {
	clk := sim.VirtualClock()
	sb, err := sim.New(board.Sim(), sim.Options{Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	pb, err := ports.OpenWith(context.Background(), board.Sim(), ports.Options{Sim: sb})
	if err != nil {
		b.Fatal(err)
	}
	defer pb.Close()
	for range 100 { // past the start-up transients
		clk.Advance(10 * time.Millisecond)
		pb.Step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clk.Advance(10 * time.Millisecond)
		if err := pb.Step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(10*time.Millisecond)*100, "%cpu-realtime")
}

func TestStepAllocatesNothing(t *testing.T) {
	b, _ := openVirtual(t, nil)
	clk := b.Clock()
	step := func() {
		clk.Sleep(10 * time.Millisecond)
		if err := b.Step(); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 {
		step()
	}
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Fatalf("%v allocations per frame", n)
	}
}
