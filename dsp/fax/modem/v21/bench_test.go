package v21

import (
	"testing"

	"callbox/dsp/fax/internal/faxtest"
)

// The benchmarks run 160-sample blocks, as spandsp's do in the same run
// (BenchmarkSpandsp*): go test -run X -bench . ./dsp/fax/modem/v21
func BenchmarkRx(b *testing.B) {
	tx, _ := NewTx(-13, faxtest.NewEndless(1))
	rec := make([]int16, 4*8000)
	tx.Transmit(rec)
	faxtest.BenchRx(b, NewRx(&faxtest.Discard{}), nil, rec)
}

func BenchmarkTx(b *testing.B) {
	tx, _ := NewTx(-13, faxtest.NewEndless(1))
	faxtest.BenchTx(b, tx)
}

func BenchmarkSpandspRx(b *testing.B) { faxtest.BenchSpandsp(b, "v21-rx", 50000) }
func BenchmarkSpandspTx(b *testing.B) { faxtest.BenchSpandsp(b, "v21-tx", 50000) }
