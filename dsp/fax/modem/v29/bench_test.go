package v29

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"callbox/dsp/fax/internal/faxtest"
	"callbox/dsp/fax/modem"
	"callbox/dsp/internal/dsptest"
)

// endless is a random bit source that never ends.
type endless struct{ rng *rand.Rand }

func (e endless) NextBit() (int, bool) { return int(e.rng.Uint32() & 1), true }

type nopSink struct{ n int }

func (s *nopSink) PutBit(b int)           { s.n += b }
func (s *nopSink) Status(st modem.Status) {}

// The receiver runs over six seconds of signal again and again, training
// each time, in 160-sample blocks: the same work spandsp's benchmark
// (BenchmarkSpandsp*) does in the same run.
func BenchmarkRx(b *testing.B) {
	for _, rate := range []int{9600, 7200} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			tx, _ := NewTx(rate, -13, endless{rand.New(rand.NewPCG(1, 1))})
			rec := make([]int16, 6*8000)
			tx.Transmit(rec)
			rx, _ := NewRx(rate, &nopSink{})
			b.ReportAllocs()
			clk := dsptest.StartCPU(b)
			off := 0
			for b.Loop() {
				if off == 0 {
					rx.Restart(rate)
				}
				rx.Receive(rec[off : off+160])
				off = (off + 160) % len(rec)
			}
			clk.PerSample(b, 160)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*160), "ns/sample")
		})
	}
}

func BenchmarkTx(b *testing.B) {
	for _, rate := range []int{9600, 7200} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			tx, _ := NewTx(rate, -13, endless{rand.New(rand.NewPCG(1, 1))})
			buf := make([]int16, 160)
			b.ReportAllocs()
			clk := dsptest.StartCPU(b)
			for b.Loop() {
				tx.Transmit(buf)
			}
			clk.PerSample(b, 160)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*160), "ns/sample")
		})
	}
}

func BenchmarkSpandspRx(b *testing.B) {
	for _, rate := range []int{9600, 7200} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) { faxtest.BenchSpandsp(b, fmt.Sprintf("v29-rx-%d", rate), 30000) })
	}
}

func BenchmarkSpandspTx(b *testing.B) {
	for _, rate := range []int{9600, 7200} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) { faxtest.BenchSpandsp(b, fmt.Sprintf("v29-tx-%d", rate), 30000) })
	}
}
