package v21

import (
	"bytes"
	"fmt"
	"testing"

	"callbox/dsp/fax/hdlc"
	"callbox/dsp/fax/internal/faxtest"
	"callbox/dsp/fax/modem"
	"callbox/dsp/internal/dsptest"
)

// testFrames are T.30-like control frames: DIS, CSI with an identity,
// CFR, and one full of ones (maximal bit stuffing).
var testFrames = [][]byte{
	{0xff, 0x13, 0x80, 0x00, 0xee, 0xf8, 0x80, 0x80, 0x91, 0x80, 0x80, 0x80, 0x18},
	append([]byte{0xff, 0x03, 0x40}, []byte("        4321 555 55 68+")...),
	{0xff, 0x13, 0x84},
	bytes.Repeat([]byte{0xff}, 30),
}

// hdlcSink feeds demodulated bits to an HDLC receiver and keeps the frames.
type hdlcSink struct {
	rx     hdlc.Rx
	frames [][]byte
	bad    int
	status []modem.Status
}

func (s *hdlcSink) PutBit(bit int) {
	switch s.rx.PutBit(bit) {
	case hdlc.Frame:
		s.frames = append(s.frames, bytes.Clone(s.rx.Frame()))
	case hdlc.BadFrame:
		s.bad++
	}
}

func (s *hdlcSink) Status(st modem.Status) { s.status = append(s.status, st) }

// modulate sends frames after a preamble of flags at level.
func modulate(t testing.TB, level float64, frames [][]byte) []int16 {
	t.Helper()
	var h hdlc.Tx
	h.Flags(38) // T.30: one second of flags
	var out []int16
	tx, err := NewTx(level, &h)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int16, 160)
	for _, f := range frames {
		if err := h.Frame(f); err != nil {
			t.Fatal(err)
		}
		for h.Room() == 0 {
			n := tx.Transmit(buf)
			out = append(out, buf[:n]...)
		}
	}
	for {
		n := tx.Transmit(buf)
		out = append(out, buf[:n]...)
		if n < len(buf) {
			return out
		}
	}
}

// demodulate runs our receiver over x in blocks of block samples.
func demodulate(x []int16, block int) *hdlcSink {
	s := &hdlcSink{}
	rx := NewRx(s)
	for i := 0; i < len(x); i += block {
		rx.Receive(x[i:min(i+block, len(x))])
	}
	return s
}

func sameFrames(got, want [][]byte) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			return false
		}
	}
	return true
}

func TestTxTones(t *testing.T) {
	for _, c := range []struct {
		bit int
		hz  int
	}{{1, Mark}, {0, Space}} {
		src := &constBits{bit: c.bit, n: Baud} // one second
		tx, _ := NewTx(-10, src)
		x := make([]int16, 9000)
		n := tx.Transmit(x)
		if n < 7990 || n > 8010 {
			t.Fatalf("one second of bits took %d samples", n)
		}
		crossings := 0
		for i := 1; i < n; i++ {
			if (x[i-1] < 0) != (x[i] < 0) {
				crossings++
			}
		}
		if crossings < 2*c.hz-4 || crossings > 2*c.hz+4 {
			t.Errorf("bit %d: %d zero crossings in a second, want %d", c.bit, crossings, 2*c.hz)
		}
		if l := faxtest.Level(x[:n]); l < -10.2 || l > -9.8 {
			t.Errorf("level %.2f dBm0, want -10", l)
		}
	}
	if _, err := NewTx(3, &constBits{}); err == nil {
		t.Error("NewTx took +3 dBm0")
	}
}

type constBits struct{ bit, n int }

func (c *constBits) NextBit() (int, bool) {
	if c.n == 0 {
		return 0, false
	}
	c.n--
	return c.bit, true
}

// The receiver decodes our transmitter across the level range, with noise,
// through G.711, with any block size.
func TestLoopback(t *testing.T) {
	clean := modulate(t, -10, testFrames)
	for _, level := range []float64{-3, -10, -20, -30, -40, -43} {
		for _, law := range []faxtest.Law{faxtest.Linear, faxtest.Alaw, faxtest.Ulaw} {
			for _, snr := range []float64{0, 25, 15} {
				name := fmt.Sprintf("%gdBm0/%v/snr%g", level, law, snr)
				x := faxtest.Gain(clean, level+10)
				if snr > 0 {
					x = faxtest.WithSNR(faxtest.Pad(800, x, 800), x, snr, uint64(-level))
				} else {
					x = faxtest.Pad(800, x, 800)
				}
				x = faxtest.G711(x, law)
				for _, block := range []int{160, 7} {
					s := demodulate(x, block)
					if !sameFrames(s.frames, testFrames) {
						t.Errorf("%s block %d: got %d frames (%d bad), want %d", name, block, len(s.frames), s.bad, len(testFrames))
					}
				}
			}
		}
	}
}

// Frequency offsets up to the 7 Hz a FDM carrier system may add still pass.
func TestFrequencyOffset(t *testing.T) {
	clean := modulate(t, -15, testFrames)
	for _, hz := range []float64{-10, 10} {
		x := faxtest.Shift(clean, hz)
		if s := demodulate(faxtest.Pad(400, x, 400), 160); !sameFrames(s.frames, testFrames) {
			t.Errorf("%+g Hz: got %d frames", hz, len(s.frames))
		}
	}
}

func TestCarrierDetection(t *testing.T) {
	s := demodulate(faxtest.AddNoise(make([]int16, 16000), -55, 7), 80)
	if len(s.status) != 0 {
		t.Errorf("noise at -55 dBm0 raised %v", s.status)
	}
	x := faxtest.Pad(800, modulate(t, -20, testFrames[:1]), 2000)
	s = demodulate(x, 80)
	if len(s.status) != 2 || s.status[0] != modem.CarrierUp || s.status[1] != modem.CarrierDown {
		t.Errorf("status %v, want carrier up then down", s.status)
	}
}

func TestNoAllocations(t *testing.T) {
	x := modulate(t, -10, testFrames)
	rx := NewRx(&nopSink{})
	tx, _ := NewTx(-10, &constBits{n: 1 << 30})
	buf := make([]int16, 160)
	if a := testing.AllocsPerRun(20, func() { rx.Receive(x); tx.Transmit(buf) }); a != 0 {
		t.Errorf("%v allocations per block", a)
	}
}

type nopSink struct{ n int }

func (s *nopSink) PutBit(bit int)         { s.n += bit }
func (s *nopSink) Status(st modem.Status) {}

// TestSpandsp checks both directions against spandsp's V.21 and HDLC.
func TestSpandsp(t *testing.T) {
	bin := faxtest.Harness(t)
	t.Run("ours-to-spandsp", func(t *testing.T) {
		clean := modulate(t, -10, testFrames)
		// spandsp's V.21 receiver cuts off below about -39 dBm0 (fax_modems
		// sets that); ours hears down to -43.
		for _, level := range []float64{-10, -20, -30, -38} {
			for _, law := range []faxtest.Law{faxtest.Alaw, faxtest.Ulaw} {
				x := faxtest.Gain(clean, level+10)
				x = faxtest.G711(faxtest.WithSNR(faxtest.Pad(800, x, 800), x, 25, 1), law)
				got := faxtest.ParseFrames(t, faxtest.Run(t, bin, dsptest.Bytes(x), "v21-rx"))
				var frames [][]byte
				for _, f := range got {
					if f.OK {
						frames = append(frames, f.Data)
					}
				}
				if !sameFrames(frames, testFrames) {
					t.Errorf("%g dBm0 %v: spandsp got %d good frames of %d", level, law, len(frames), len(testFrames))
				}
			}
		}
	})
	t.Run("spandsp-to-ours", func(t *testing.T) {
		clean := dsptest.Int16s(faxtest.Run(t, bin, faxtest.HexLines(testFrames), "v21-tx", "-10"))
		for _, level := range []float64{-10, -20, -30, -40, -43} {
			for _, law := range []faxtest.Law{faxtest.Alaw, faxtest.Ulaw} {
				x := faxtest.Gain(clean, level+10)
				x = faxtest.G711(faxtest.WithSNR(faxtest.Pad(800, x, 800), x, 25, 2), law)
				if s := demodulate(x, 160); !sameFrames(s.frames, testFrames) {
					t.Errorf("%g dBm0 %v: got %d frames (%d bad), want %d", level, law, len(s.frames), s.bad, len(testFrames))
				}
			}
		}
	})
}
