package v17

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"callbox/dsp/fax/internal/faxtest"
	"callbox/dsp/internal/dsptest"
)

var allRates = []int{14400, 12000, 9600, 7200}

// Our transmitter into spandsp's V.17 receiver at each rate, -10 to -40
// dBm0 through A-law and mu-law with 25 dB S/N (a higher S/N where the
// noise would be above -50 dBm0: spandsp's carrier detector, see
// faxtest.CheckAgainstSpandsp): no bit errors.
func TestTxIntoSpandsp(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the spandsp harness")
	}
	bin := faxtest.Harness(t)
	for _, rate := range allRates {
		bits := make([]int, rate*3)
		rng := rand.New(rand.NewPCG(uint64(rate), 7))
		for i := range bits {
			bits[i] = int(rng.Uint32() & 1)
		}
		tx, err := NewTx(rate, -10, &faxtest.Bits{B: bits})
		if err != nil {
			t.Fatal(err)
		}
		ours := faxtest.Transmit(tx)
		if l := faxtest.Level(ours[4000 : len(ours)-2000]); l < -10.8 || l > -9.2 {
			t.Errorf("%d: level %.2f dBm0, want -10", rate, l)
		}
		for _, level := range []float64{-10, -20, -30, -40} {
			for _, law := range []faxtest.Law{faxtest.Alaw, faxtest.Ulaw} {
				snr := max(25, level+50)
				x := faxtest.Gain(ours, level+10)
				x = faxtest.G711(faxtest.AddNoise(faxtest.Pad(800, x, 800), level-snr, 1), law)
				rx := faxtest.ParseModemRx(t, faxtest.Run(t, bin, dsptest.Bytes(x), "modem-rx", "v17", fmt.Sprint(rate)))
				if e := faxtest.BitErrors(rx.Bits, bits); e != 0 {
					t.Errorf("%d: ours to spandsp at %g dBm0, S/N %g dB, %v: %d bit errors (%d bits, status %v)", rate, level, snr, law, e, len(rx.Bits), rx.Status)
				}
			}
		}
	}
}
