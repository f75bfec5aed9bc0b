package v27ter

import (
	"testing"

	"callbox/dsp/fax/internal/faxtest"
	"callbox/dsp/fax/modem"
)

// v27 is the modem for faxtest's shared checks.
var v27 = faxtest.Modem{
	Name:    "v27ter",
	Rates:   []int{4800, 2400},
	Carrier: Carrier,
	NewTx: func(rate int, level float64, src modem.BitSource) (modem.Transmitter, error) {
		return NewTx(rate, level, src)
	},
	NewRx:   func(rate int, sink modem.Sink) (modem.Receiver, error) { return NewRx(rate, sink) },
	Restart: func(rx modem.Receiver, rate int) { rx.(*Rx).Restart(rate) },
}

func TestScramblerRoundTrip(t *testing.T) {
	// The guard makes long runs of one bit come out inverted now and then;
	// the descrambler undoes it.
	var a, b scrambler
	a.reset()
	b.reset()
	for i, d := range append(make([]int, 500), faxtest.RandomBits(2000, 3)...) {
		if got := b.descramble(a.scramble(d)); got != d {
			t.Fatalf("bit %d: sent %d, got %d", i, d, got)
		}
	}
}

// Zero bit errors at -10 to -40 dBm0 with 25 dB S/N, through G.711.
func TestLoopback(t *testing.T) { faxtest.CheckLoopback(t, v27) }

// +-7 Hz, +-200 ppm, odd block sizes.
func TestImpairments(t *testing.T) { faxtest.CheckImpairments(t, v27) }

// Both ways against spandsp's V.27ter (see faxtest.CheckAgainstSpandsp).
func TestSpandsp(t *testing.T) { faxtest.CheckAgainstSpandsp(t, v27) }

// Two transmissions back to back, the receiver kept: each trains anew.
func TestTwoTransmissions(t *testing.T) { faxtest.CheckTwoTransmissions(t, v27) }

// Signals that are not V.27ter fail the training (and say so) instead of
// producing data.
func TestNotV27ter(t *testing.T) { faxtest.CheckNotModem(t, v27) }

// A quarter of a second of loud noise mid-transmission: back on track
// half a second later.
func TestLineHit(t *testing.T) { faxtest.CheckLineHit(t, v27) }

func TestNoAllocations(t *testing.T) { faxtest.CheckNoAllocs(t, v27) }

// BenchmarkModem: ours and spandsp's, receive and transmit, each rate.
func BenchmarkModem(b *testing.B) { faxtest.BenchModem(b, v27) }
