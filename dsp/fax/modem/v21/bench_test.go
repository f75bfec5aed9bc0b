package v21

import (
	"math/rand/v2"
	"testing"

	"callbox/dsp/fax/internal/faxtest"
	"callbox/dsp/internal/dsptest"
)

// randomBits is an endless random bit source, the benchmark's data.
type randomBits struct{ rng *rand.Rand }

func (r randomBits) NextBit() (int, bool) { return int(r.rng.Uint32() & 1), true }

// The benchmarks run 160-sample blocks, as spandsp's do in the same run
// (BenchmarkSpandsp*): go test -run X -bench . ./dsp/fax/modem/v21
func BenchmarkRx(b *testing.B) {
	tx, _ := NewTx(-13, randomBits{rand.New(rand.NewPCG(1, 1))})
	rec := make([]int16, 4*8000)
	tx.Transmit(rec)
	rx := NewRx(&nopSink{})
	b.ReportAllocs()
	clk := dsptest.StartCPU(b)
	off := 0
	for b.Loop() {
		rx.Receive(rec[off : off+160])
		off = (off + 160) % len(rec)
	}
	clk.PerSample(b, 160)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*160), "ns/sample")
}

func BenchmarkTx(b *testing.B) {
	tx, _ := NewTx(-13, randomBits{rand.New(rand.NewPCG(1, 1))})
	buf := make([]int16, 160)
	b.ReportAllocs()
	clk := dsptest.StartCPU(b)
	for b.Loop() {
		tx.Transmit(buf)
	}
	clk.PerSample(b, 160)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*160), "ns/sample")
}

func BenchmarkSpandspRx(b *testing.B) { faxtest.BenchSpandsp(b, "v21-rx", 50000) }
func BenchmarkSpandspTx(b *testing.B) { faxtest.BenchSpandsp(b, "v21-tx", 50000) }
