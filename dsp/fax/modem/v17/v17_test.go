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

// A long training, then transmissions with a short one into the same
// receiver restarted for them (as T.30 sends pages after the TCF), each
// rate, through a line with echoes (that a fresh equaliser could not
// learn in a short training) and A-law with 25 dB S/N: no bit errors.
func TestShortTraining(t *testing.T) {
	echoes := func(x []int16) []int16 {
		y := make([]int16, len(x))
		for i := range x {
			v := float64(x[i])
			if i >= 2 {
				v += 0.3 * float64(x[i-2])
			}
			if i >= 5 {
				v -= 0.2 * float64(x[i-5])
			}
			y[i] = int16(max(-32768, min(32767, v)))
		}
		return y
	}
	for _, rate := range allRates {
		c := &faxtest.Collect{}
		rx, err := NewRx(rate, c)
		if err != nil {
			t.Fatal(err)
		}
		tx, _ := NewTx(rate, -13, &faxtest.Bits{B: faxtest.RandomBits(rate, 1)})
		line := func(x []int16, seed uint64) []int16 {
			x = echoes(x)
			return faxtest.G711(faxtest.WithSNR(faxtest.Pad(800, x, 800), x, 25, seed), faxtest.Alaw)
		}
		faxtest.Receive(rx, line(faxtest.Transmit(tx), 1), 160)
		for k := range 3 {
			bits := faxtest.RandomBits(rate*2, uint64(k+2))
			if err := tx.Restart(rate, true, &faxtest.Bits{B: bits}); err != nil {
				t.Fatal(err)
			}
			x := faxtest.Transmit(tx)
			if k == 1 {
				x = faxtest.Gain(faxtest.Shift(x, 5), -6) // another carrier, level
			}
			c.Bits, c.Statuses = nil, nil
			rx.Restart(rate, true)
			faxtest.Receive(rx, line(x, uint64(k+5)), 160)
			if e := faxtest.BitErrors(c.Bits, bits); e != 0 {
				t.Errorf("%d short training %d: %d bit errors (%d bits, status %v)", rate, k, e, len(c.Bits), c.Statuses)
			}
		}
	}
}
