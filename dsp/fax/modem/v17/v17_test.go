package v17

import (
	"testing"

	"callbox/dsp/fax/internal/faxtest"
	"callbox/dsp/fax/modem"
)

var allRates = []int{14400, 12000, 9600, 7200}

// v17 is the modem for faxtest's shared checks (long training).
var v17 = faxtest.Modem{
	Name:    "v17",
	Rates:   allRates,
	Carrier: Carrier,
	NewTx: func(rate int, level float64, src modem.BitSource) (modem.Transmitter, error) {
		return NewTx(rate, level, src)
	},
	NewRx:   func(rate int, sink modem.Sink) (modem.Receiver, error) { return NewRx(rate, sink) },
	Restart: func(rx modem.Receiver, rate int) { rx.(*Rx).Restart(rate, false) },
}

// Zero bit errors at -10 to -40 dBm0 with 25 dB S/N, through G.711.
func TestLoopback(t *testing.T) { faxtest.CheckLoopback(t, v17) }

// Both ways against spandsp's V.17 (see faxtest.CheckAgainstSpandsp).
func TestSpandsp(t *testing.T) { faxtest.CheckAgainstSpandsp(t, v17) }

// +-7 Hz, +-200 ppm, odd block sizes.
func TestImpairments(t *testing.T) { faxtest.CheckImpairments(t, v17) }

// Two transmissions back to back, the receiver kept: each trains anew.
func TestTwoTransmissions(t *testing.T) { faxtest.CheckTwoTransmissions(t, v17) }

// A quarter of a second of loud noise mid-transmission: back on track
// half a second later.
func TestLineHit(t *testing.T) { faxtest.CheckLineHit(t, v17) }

// Signals that are not V.17 fail the training (and say so) instead of
// producing data.
func TestNotV17(t *testing.T) { faxtest.CheckNotModem(t, v17) }

func TestNoAllocations(t *testing.T) { faxtest.CheckNoAllocs(t, v17) }
