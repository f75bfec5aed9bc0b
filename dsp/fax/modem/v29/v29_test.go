package v29

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"callbox/dsp/fax/internal/faxtest"
	"callbox/dsp/fax/modem"
	"callbox/dsp/internal/dsptest"
)

// bitSlice is a BitSource over a slice.
type bitSlice struct {
	b []int
	i int
}

func (s *bitSlice) NextBit() (int, bool) {
	if s.i == len(s.b) {
		return 0, false
	}
	s.i++
	return s.b[s.i-1], true
}

func randomBits(n int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]int, n)
	for i := range b {
		b[i] = int(rng.Uint32() & 1)
	}
	return b
}

// collect is a Sink keeping bits and statuses.
type collect struct {
	bits   []int
	status []modem.Status
}

func (c *collect) PutBit(b int)          { c.bits = append(c.bits, b) }
func (c *collect) Status(s modem.Status) { c.status = append(c.status, s) }

func modulate(t testing.TB, rate int, level float64, bits []int) []int16 {
	t.Helper()
	tx, err := NewTx(rate, level, &bitSlice{b: bits})
	if err != nil {
		t.Fatal(err)
	}
	var out []int16
	buf := make([]int16, 160)
	for {
		n := tx.Transmit(buf)
		out = append(out, buf[:n]...)
		if n < len(buf) {
			return out
		}
	}
}

func demodulate(t testing.TB, rate int, x []int16, block int) *collect {
	t.Helper()
	c := &collect{}
	rx, err := NewRx(rate, c)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(x); i += block {
		rx.Receive(x[i:min(i+block, len(x))])
	}
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
				if e := faxtest.BitErrors(c.bits, bits); e != 0 {
					t.Errorf("%s: %d bit errors in %d (got %d bits), status %v", name, e, len(bits), len(c.bits), c.status)
				}
			}
		}
	}
}

// TestSpandsp runs each rate both ways against spandsp's V.29 at -10 to
// -40 dBm0 with 25 dB S/N through G.711: our transmitter to its receiver
// (with the -45.5 dBm0 cutoff its fax stack sets), its transmitter to ours.
func TestSpandsp(t *testing.T) {
	bin := faxtest.Harness(t)
	for _, rate := range []int{9600, 7200, 4800} {
		bits := randomBits(rate*3, uint64(rate)+7)
		ours := modulate(t, rate, -10, bits)
		theirs := dsptest.Int16s(faxtest.Run(t, bin, faxtest.BitString(bits), "modem-tx", "v29", fmt.Sprint(rate), "-10"))
		for _, c := range []struct{ level, snr float64 }{{-10, 25}, {-10, 35}, {-20, 25}, {-30, 25}, {-40, 25}} {
			for _, law := range []faxtest.Law{faxtest.Alaw, faxtest.Ulaw} {
				level := c.level
				name := fmt.Sprintf("%d %gdBm0 S/N %g %v", rate, level, c.snr, law)
				// Noise over the signal only: spandsp's receiver, once
				// started by noise above its cutoff, fails its training
				// and waits for a carrier drop that never comes (ours
				// copes: see TestLoopback).
				line := func(x []int16, seed uint64) []int16 {
					y := faxtest.Gain(x, level+10)
					return faxtest.Pad(800, faxtest.G711(faxtest.WithSNR(y, y, c.snr, seed), law), 800)
				}
				got := faxtest.ParseModemRx(t, faxtest.Run(t, bin, dsptest.Bytes(line(ours, 1)), "modem-rx", "v29", fmt.Sprint(rate)))
				if e := faxtest.BitErrors(got.Bits, bits); e != 0 {
					// At -10 dBm0 the noise (-35 dBm0) in the training's
					// silent segment starts spandsp's carrier detection too
					// early and its training fails: it fails its own
					// transmitter the same way.
					self := faxtest.ParseModemRx(t, faxtest.Run(t, bin, dsptest.Bytes(line(theirs, 1)), "modem-rx", "v29", fmt.Sprint(rate)))
					if faxtest.BitErrors(self.Bits, bits) == 0 {
						t.Errorf("ours to spandsp %s: %d bit errors (%d bits, status %v), but it receives its own", name, e, len(got.Bits), got.Status)
					} else {
						t.Logf("ours to spandsp %s: spandsp fails its own transmitter here too (%v)", name, self.Status)
					}
				}
				c := demodulate(t, rate, line(theirs, 2), 160)
				if e := faxtest.BitErrors(c.bits, bits); e != 0 {
					t.Errorf("spandsp to ours %s: %d bit errors (%d bits, status %v)", name, e, len(c.bits), c.status)
				}
			}
		}
	}
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
			if e := faxtest.BitErrors(got.bits, bits); e != 0 {
				t.Errorf("%d %s: %d bit errors (%d bits, status %v)", rate, c.name, e, len(got.bits), got.status)
			}
		}
	}
}

// Two transmissions back to back, the receiver kept: each trains anew.
func TestTwoTransmissions(t *testing.T) {
	a, b := randomBits(5000, 1), randomBits(7000, 2)
	x := append(faxtest.Pad(400, modulate(t, 9600, -15, a), 600), faxtest.Pad(0, modulate(t, 9600, -15, b), 400)...)
	got := demodulate(t, 9600, x, 160)
	want := []modem.Status{modem.CarrierUp, modem.TrainingOK, modem.CarrierDown, modem.CarrierUp, modem.TrainingOK, modem.CarrierDown}
	if fmt.Sprint(got.status) != fmt.Sprint(want) {
		t.Fatalf("status %v, want %v", got.status, want)
	}
	// The second transmission's bits follow the first's (and its closing ones).
	if faxtest.BitErrors(got.bits, a) != 0 {
		t.Error("first transmission damaged")
	}
	// Between them: the first's closing ones and what the receiver made of
	// the signal's fading tail before the carrier dropped.
	found := false
	for k := len(a); k <= len(a)+600 && k+len(b) <= len(got.bits); k++ {
		if faxtest.BitErrors(got.bits[k:], b) == 0 {
			found = true
			break
		}
	}
	if !found {
		t.Error("second transmission not received")
	}
}

// Signals that are not V.29 fail the training (and say so) instead of
// producing data: V.21 flags, noise, a tone.
func TestNotV29(t *testing.T) {
	tone := make([]int16, 8000)
	for i := range tone {
		tone[i] = int16(5000 * math.Sin(2*math.Pi*1700*float64(i)/8000))
	}
	for name, x := range map[string][]int16{
		"noise": faxtest.AddNoise(make([]int16, 16000), -20, 3),
		"tone":  tone,
	} {
		got := demodulate(t, 9600, faxtest.Pad(0, x, 400), 160)
		if len(got.bits) != 0 {
			t.Errorf("%s: %d bits delivered", name, len(got.bits))
		}
		if len(got.status) < 2 || got.status[0] != modem.CarrierUp || got.status[1] != modem.TrainingFailed {
			t.Errorf("%s: status %v", name, got.status)
		}
	}
	if _, err := NewRx(2400, &collect{}); err == nil {
		t.Error("NewRx took 2400 bit/s")
	}
	if _, err := NewTx(9600, 5, &bitSlice{}); err == nil {
		t.Error("NewTx took +5 dBm0")
	}
}

func TestNoAllocations(t *testing.T) {
	x := modulate(t, 9600, -13, randomBits(9600, 5))
	rx, _ := NewRx(9600, &nopSink{})
	tx, _ := NewTx(9600, -13, endless{rand.New(rand.NewPCG(1, 2))})
	buf := make([]int16, 160)
	i := 0
	a := testing.AllocsPerRun(200, func() {
		rx.Receive(x[i : i+160])
		i = (i + 160) % (len(x) - 160)
		tx.Transmit(buf)
	})
	if a != 0 {
		t.Errorf("%v allocations per block", a)
	}
}
