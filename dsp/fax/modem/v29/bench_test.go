package v29

import (
	"fmt"
	"testing"

	"callbox/dsp/fax/internal/faxtest"
)

// The receiver runs over six seconds of signal again and again, training
// each time, in 160-sample blocks: the work spandsp's benchmark
// (BenchmarkSpandsp*) does in the same run:
//
//	go test -run X -bench . ./dsp/fax/modem/v29
func BenchmarkRx(b *testing.B) {
	for _, rate := range []int{9600, 7200} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			tx, _ := NewTx(rate, -13, faxtest.NewEndless(1))
			rec := make([]int16, 6*8000)
			tx.Transmit(rec)
			rx, _ := NewRx(rate, &faxtest.Discard{})
			faxtest.BenchRx(b, rx, func() { rx.Restart(rate) }, rec)
		})
	}
}

func BenchmarkTx(b *testing.B) {
	for _, rate := range []int{9600, 7200} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			tx, _ := NewTx(rate, -13, faxtest.NewEndless(1))
			faxtest.BenchTx(b, tx)
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
