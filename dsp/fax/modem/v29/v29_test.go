package v29

import (
	"fmt"
	"testing"

	"callbox/dsp/fax/internal/faxtest"
)

func randomBits(n int, seed uint64) []int { return faxtest.RandomBits(n, seed) }

func modulate(t testing.TB, rate int, level float64, bits []int) []int16 {
	t.Helper()
	tx, err := NewTx(rate, level, &faxtest.Bits{B: bits})
	if err != nil {
		t.Fatal(err)
	}
	return faxtest.Transmit(tx)
}

func demodulate(t testing.TB, rate int, x []int16, block int) *faxtest.Collect {
	t.Helper()
	c := &faxtest.Collect{}
	rx, err := NewRx(rate, c)
	if err != nil {
		t.Fatal(err)
	}
	faxtest.Receive(rx, x, block)
	return c
}

func TestLoopback(t *testing.T) {
	for _, rate := range []int{9600, 7200, 4800} {
		bits := randomBits(rate*2, uint64(rate))
		clean := modulate(t, rate, -10, bits)
		if l := faxtest.Level(clean[2000 : len(clean)-2000]); l < -10.8 || l > -9.2 {
			t.Errorf("%d: level %.2f dBm0, want -10", rate, l)
		}
		for _, level := range []float64{-10, -26, -40} {
			for _, law := range []faxtest.Law{faxtest.Linear, faxtest.Alaw, faxtest.Ulaw} {
				x := faxtest.Gain(faxtest.Pad(800, clean, 800), level+10)
				x = faxtest.G711(faxtest.WithSNR(x, faxtest.Gain(clean, level+10), 25, uint64(rate)), law)
				c := demodulate(t, rate, x, 160)
				name := fmt.Sprintf("%d %gdBm0 %v", rate, level, law)
				if e := faxtest.BitErrors(c.Bits, bits); e != 0 {
					t.Errorf("%s: %d bit errors in %d (got %d bits), status %v", name, e, len(bits), len(c.Bits), c.Statuses)
				}
			}
		}
	}
}

// TestSpandsp runs each rate both ways against spandsp's V.29 (see
// faxtest.CheckAgainstSpandsp for the conditions).
func TestSpandsp(t *testing.T) {
	faxtest.CheckAgainstSpandsp(t, faxtest.ModemPair{
		Name:       "v29",
		Modulate:   func(t testing.TB, rate int, bits []int) []int16 { return modulate(t, rate, -10, bits) },
		Demodulate: func(t testing.TB, rate int, x []int16) []int { return demodulate(t, rate, x, 160).Bits },
	}, []int{9600, 7200, 4800})
}

// Impairments a real call adds: a carrier frequency offset, the two ends'
// clocks disagreeing, audio arriving in odd-sized blocks.
func TestImpairments(t *testing.T) {
	for _, rate := range []int{9600, 7200} {
		bits := randomBits(rate*4, 11)
		clean := modulate(t, rate, -13, bits)
		for _, c := range []struct {
			name string
			x    []int16
			blk  int
		}{
			{"+7Hz", faxtest.Shift(clean, 7), 160},
			{"-7Hz", faxtest.Shift(clean, -7), 160},
			{"+200ppm", faxtest.Resample(clean, 200), 160},
			{"-200ppm", faxtest.Resample(clean, -200), 160},
			{"blocks of 7", clean, 7},
			{"blocks of 1", clean, 1},
		} {
			got := demodulate(t, rate, faxtest.Pad(500, c.x, 500), c.blk)
			if e := faxtest.BitErrors(got.Bits, bits); e != 0 {
				t.Errorf("%d %s: %d bit errors (%d bits, status %v)", rate, c.name, e, len(got.Bits), got.Statuses)
			}
		}
	}
}

// Two transmissions back to back, the receiver kept: each trains anew.
func TestTwoTransmissions(t *testing.T) {
	faxtest.CheckTwoTransmissions(t,
		func(bits []int) []int16 { return modulate(t, 9600, -15, bits) },
		func(x []int16) *faxtest.Collect { return demodulate(t, 9600, x, 160) })
}

// Signals that are not V.29 fail the training (and say so) instead of
// producing data.
func TestNotV29(t *testing.T) {
	faxtest.CheckNotModem(t, Carrier, func(x []int16) *faxtest.Collect { return demodulate(t, 9600, x, 160) })
	if _, err := NewRx(2400, &faxtest.Collect{}); err == nil {
		t.Error("NewRx took 2400 bit/s")
	}
	if _, err := NewTx(9600, 5, &faxtest.Bits{}); err == nil {
		t.Error("NewTx took +5 dBm0")
	}
}

func TestNoAllocations(t *testing.T) {
	rx, _ := NewRx(9600, &faxtest.Discard{})
	tx, _ := NewTx(9600, -13, faxtest.NewEndless(2))
	faxtest.CheckNoAllocs(t, tx, rx, modulate(t, 9600, -13, randomBits(9600, 5)))
}
