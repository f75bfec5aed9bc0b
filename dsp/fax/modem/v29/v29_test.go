package v29

import (
	"testing"

	"callbox/dsp/fax/internal/faxtest"
	"callbox/dsp/fax/modem"
)

// v29 is the modem for faxtest's shared checks.
var v29 = faxtest.Modem{
	Name:    "v29",
	Rates:   []int{9600, 7200, 4800},
	Carrier: Carrier,
	NewTx: func(rate int, level float64, src modem.BitSource) (modem.Transmitter, error) {
		return NewTx(rate, level, src)
	},
	NewRx:   func(rate int, sink modem.Sink) (modem.Receiver, error) { return NewRx(rate, sink) },
	Restart: func(rx modem.Receiver, rate int) { rx.(*Rx).Restart(rate) },
}

// Zero bit errors at -10 to -40 dBm0 with 25 dB S/N, through G.711.
func TestLoopback(t *testing.T) { faxtest.CheckLoopback(t, v29) }

// +-7 Hz, +-200 ppm, odd block sizes.
func TestImpairments(t *testing.T) { faxtest.CheckImpairments(t, v29) }

// Both ways against spandsp's V.29 (see faxtest.CheckAgainstSpandsp).
func TestSpandsp(t *testing.T) { faxtest.CheckAgainstSpandsp(t, v29) }

// Two transmissions back to back, the receiver kept: each trains anew.
func TestTwoTransmissions(t *testing.T) { faxtest.CheckTwoTransmissions(t, v29) }

// Signals that are not V.29 fail the training (and say so) instead of
// producing data.
func TestNotV29(t *testing.T) { faxtest.CheckNotModem(t, v29) }

// A quarter of a second of loud noise mid-transmission: back on track
// half a second later.
func TestLineHit(t *testing.T) { faxtest.CheckLineHit(t, v29) }

func TestNoAllocations(t *testing.T) { faxtest.CheckNoAllocs(t, v29) }

// BenchmarkModem: ours and spandsp's, receive and transmit, each rate.
func BenchmarkModem(b *testing.B) { faxtest.BenchModem(b, v29) }
