package si3050sim_test

import (
	"testing"
	"time"

	"callbox/board/internal/vclock"
	"callbox/board/si3050"
	"callbox/board/sim/si3050sim"
)

func benchRig(b *testing.B) (*vclock.Virtual, *si3050sim.Chip, *si3050.Port) {
	b.Helper()
	clk := vclock.NewVirtual()
	chip, err := si3050sim.New(si3050sim.Config{Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	p, err := si3050.New(si3050.Config{Conn: chip, Clock: clk, IRQ: chip.IRQ()})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Init(); err != nil {
		b.Fatal(err)
	}
	return clk, chip, p
}

// BenchmarkPCM is one 10 ms frame each way on a seized line with dial
// tone: the emulator's share of the sim board's media loop.
func BenchmarkPCM(b *testing.B) {
	clk, chip, p := benchRig(b)
	if err := p.Seize(); err != nil {
		b.Fatal(err)
	}
	var in, out [frame]int16
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clk.Advance(10 * time.Millisecond)
		chip.PCMRead(in[:])
		chip.PCMWrite(out[:])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2*frame), "ns/sample")
}

// BenchmarkPoll is one monitor pass of the driver against the emulator
// while the line rings (four register frames).
func BenchmarkPoll(b *testing.B) {
	clk, chip, p := benchRig(b)
	if err := chip.CO().Ring(si3050sim.Call{}); err != nil {
		b.Fatal(err)
	}
	evs := make([]si3050.Event, 0, 8)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clk.Advance(10 * time.Millisecond)
		var err error
		if evs, err = p.Poll(evs[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/poll")
}
