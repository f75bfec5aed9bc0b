package v17

import (
	"fmt"
	"strings"
	"testing"

	"callbox/dsp/fax/internal/faxtest"
	"callbox/dsp/fax/modem"
	"callbox/dsp/internal/dsptest"
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

// splitSink collects bits per carrier.
type splitSink struct {
	bits [][]int
	down bool
}

func (s *splitSink) PutBit(b int) {
	if len(s.bits) == 0 {
		s.bits = append(s.bits, nil)
	}
	s.bits[len(s.bits)-1] = append(s.bits[len(s.bits)-1], b)
}

func (s *splitSink) Status(st modem.Status) {
	switch st {
	case modem.CarrierDown:
		s.down = true
	case modem.TrainingOK:
		s.bits = append(s.bits, nil)
	}
}

// A long training then a short one, as T.30 sends a TCF and then pages,
// both ways against spandsp at each rate, through A-law at -20 dBm0 with
// 30 dB S/N: both transmissions' bits without error.
func TestShortTrainingSpandsp(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the spandsp harness")
	}
	bin := faxtest.Harness(t)
	line := func(x []int16) []int16 {
		x = faxtest.Gain(x, -10)
		return faxtest.G711(faxtest.AddNoise(faxtest.Pad(800, x, 800), -50, 3), faxtest.Alaw)
	}
	for _, rate := range allRates {
		bits := faxtest.RandomBits(rate*2, uint64(rate))

		// Ours to spandsp.
		tx, _ := NewTx(rate, -10, &faxtest.Bits{B: bits})
		x := faxtest.Transmit(tx)
		x = append(x, make([]int16, 800)...)
		tx.Restart(rate, true, &faxtest.Bits{B: bits})
		x = append(x, faxtest.Transmit(tx)...)
		out := faxtest.Run(t, bin, dsptest.Bytes(line(x)), "v17-pair-rx", fmt.Sprint(rate))
		var got [][]int
		var status []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if b, ok := strings.CutPrefix(l, "B "); ok {
				bs := make([]int, len(b))
				for i, c := range b {
					bs[i] = int(c - '0')
				}
				got = append(got, bs)
			} else {
				status = append(status, l)
			}
		}
		if len(got) < 2 || faxtest.BitErrors(got[0], bits) != 0 || faxtest.BitErrors(got[1], bits) != 0 {
			n := []int{}
			for _, g := range got {
				n = append(n, faxtest.BitErrors(g, bits))
			}
			t.Errorf("%d: ours to spandsp, long then short training: bit errors %v, status %v", rate, n, status)
		}

		// Spandsp to ours.
		theirs := faxtest.Run(t, bin, faxtest.BitString(bits), "v17-pair-tx", fmt.Sprint(rate), "-10")
		sink := &splitSink{}
		rx, _ := NewRx(rate, sink)
		y := line(dsptest.Int16s(theirs))
		restarted := false
		for i := 0; i < len(y); i += 160 {
			rx.Receive(y[i:min(i+160, len(y))])
			if sink.down && !restarted {
				restarted = true
				rx.Restart(rate, true)
			}
		}
		if len(sink.bits) < 2 || faxtest.BitErrors(sink.bits[0], bits) != 0 || faxtest.BitErrors(sink.bits[1], bits) != 0 {
			n := []int{}
			for _, g := range sink.bits {
				n = append(n, faxtest.BitErrors(g, bits))
			}
			t.Errorf("%d: spandsp to ours, long then short training: bit errors %v", rate, n)
		}
	}
}

// BenchmarkModem: ours and spandsp's, receive and transmit, each rate.
func BenchmarkModem(b *testing.B) { faxtest.BenchModem(b, v17) }
