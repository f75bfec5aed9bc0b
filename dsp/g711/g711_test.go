package g711

import (
	"math"
	"testing"

	ref "github.com/zaf/g711"

	"callbox/dsp/internal/dsptest"
)

// TestBitExact compares every one of the 65,536 inputs and 256 codes with
// github.com/zaf/g711, which is bit-exact to the ITU-T G.191 reference.
func TestBitExact(t *testing.T) {
	for i := math.MinInt16; i <= math.MaxInt16; i++ {
		s := int16(i)
		if got, want := EncodeUlawSample(s), ref.EncodeUlawFrame(s); got != want {
			t.Fatalf("mu-law encode %d = %#02x, reference %#02x", s, got, want)
		}
		if got, want := EncodeAlawSample(s), ref.EncodeAlawFrame(s); got != want {
			t.Fatalf("A-law encode %d = %#02x, reference %#02x", s, got, want)
		}
		// The arithmetic encoders behind the tables must agree too, so
		// the table indexing (uint16>>2, uint16>>4) is proven lossless.
		if got, want := ulawCompress(s), ref.EncodeUlawFrame(s); got != want {
			t.Fatalf("mu-law compress %d = %#02x, reference %#02x", s, got, want)
		}
		if got, want := alawCompress(s), ref.EncodeAlawFrame(s); got != want {
			t.Fatalf("A-law compress %d = %#02x, reference %#02x", s, got, want)
		}
	}
	for c := range 256 {
		if got, want := DecodeUlawSample(uint8(c)), ref.DecodeUlawFrame(uint8(c)); got != want {
			t.Fatalf("mu-law decode %#02x = %d, reference %d", c, got, want)
		}
		if got, want := DecodeAlawSample(uint8(c)), ref.DecodeAlawFrame(uint8(c)); got != want {
			t.Fatalf("A-law decode %#02x = %d, reference %d", c, got, want)
		}
	}
}

func TestKnownCodes(t *testing.T) {
	// Values from G.711 itself: silence codes and the extremes.
	tests := []struct {
		name string
		got  uint8
		want uint8
	}{
		{"ulaw 0", EncodeUlawSample(0), 0xff},
		{"ulaw -1", EncodeUlawSample(-1), 0x7f},
		{"ulaw max", EncodeUlawSample(math.MaxInt16), 0x80},
		{"ulaw min", EncodeUlawSample(math.MinInt16), 0x00},
		{"alaw 0", EncodeAlawSample(0), 0xd5},
		{"alaw -1", EncodeAlawSample(-1), 0x55},
		{"alaw max", EncodeAlawSample(math.MaxInt16), 0xaa},
		{"alaw min", EncodeAlawSample(math.MinInt16), 0x2a},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#02x, want %#02x", tt.name, tt.got, tt.want)
		}
	}
	if got := DecodeUlawSample(0x80); got != 32124 {
		t.Errorf("mu-law 0x80 decodes to %d, want 32124", got)
	}
	if got := DecodeAlawSample(0xaa); got != 32256 {
		t.Errorf("A-law 0xaa decodes to %d, want 32256", got)
	}
}

// TestRoundTrip: decoding a code and encoding the result gives the code back
// (except mu-law's two zeros, which both decode to 0).
func TestRoundTrip(t *testing.T) {
	for c := range 256 {
		if got := EncodeAlawSample(DecodeAlawSample(uint8(c))); got != uint8(c) {
			t.Errorf("A-law %#02x round trip gives %#02x", c, got)
		}
		if c == 0x7f {
			continue // mu-law -0 decodes to 0, which encodes as +0 (0xff)
		}
		if got := EncodeUlawSample(DecodeUlawSample(uint8(c))); got != uint8(c) {
			t.Errorf("mu-law %#02x round trip gives %#02x", c, got)
		}
	}
}

func TestBlocks(t *testing.T) {
	src := make([]int16, 1000)
	for i := range src {
		src[i] = int16(i*131 - 30000)
	}
	codes := make([]uint8, len(src))
	back := make([]int16, len(src))
	for _, law := range []struct {
		name   string
		enc    func([]uint8, []int16) int
		dec    func([]int16, []uint8) int
		encOne func(int16) uint8
		decOne func(uint8) int16
	}{
		{"ulaw", EncodeUlaw, DecodeUlaw, EncodeUlawSample, DecodeUlawSample},
		{"alaw", EncodeAlaw, DecodeAlaw, EncodeAlawSample, DecodeAlawSample},
	} {
		if n := law.enc(codes, src); n != len(src) {
			t.Fatalf("%s: encoded %d, want %d", law.name, n, len(src))
		}
		if n := law.dec(back, codes); n != len(src) {
			t.Fatalf("%s: decoded %d, want %d", law.name, n, len(src))
		}
		for i := range src {
			if codes[i] != law.encOne(src[i]) || back[i] != law.decOne(codes[i]) {
				t.Fatalf("%s: block and sample forms differ at %d", law.name, i)
			}
		}
		// Short destination: only what fits is written.
		short := make([]uint8, 10)
		if n := law.enc(short, src); n != 10 {
			t.Errorf("%s: encode into 10 bytes returned %d", law.name, n)
		}
		if n := law.dec(back[:5], codes); n != 5 {
			t.Errorf("%s: decode into 5 samples returned %d", law.name, n)
		}
	}
}

const benchN = 160

func benchSignal() []int16 {
	s := make([]int16, benchN)
	for i := range s {
		s[i] = int16(8000 * math.Sin(float64(i)*0.3))
	}
	return s
}

func reportPerSample(b *testing.B, cpu dsptest.CPUClock) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchN), "ns/sample")
	cpu.PerSample(b, benchN)
}

func BenchmarkEncodeUlaw(b *testing.B) {
	src, dst := benchSignal(), make([]uint8, benchN)
	b.ReportAllocs()
	cpu := dsptest.StartCPU(b)
	for b.Loop() {
		EncodeUlaw(dst, src)
	}
	reportPerSample(b, cpu)
}

func BenchmarkEncodeAlaw(b *testing.B) {
	src, dst := benchSignal(), make([]uint8, benchN)
	b.ReportAllocs()
	cpu := dsptest.StartCPU(b)
	for b.Loop() {
		EncodeAlaw(dst, src)
	}
	reportPerSample(b, cpu)
}

func BenchmarkDecodeUlaw(b *testing.B) {
	src, dst := make([]uint8, benchN), make([]int16, benchN)
	EncodeUlaw(src, benchSignal())
	b.ReportAllocs()
	cpu := dsptest.StartCPU(b)
	for b.Loop() {
		DecodeUlaw(dst, src)
	}
	reportPerSample(b, cpu)
}

func BenchmarkDecodeAlaw(b *testing.B) {
	src, dst := make([]uint8, benchN), make([]int16, benchN)
	EncodeAlaw(src, benchSignal())
	b.ReportAllocs()
	cpu := dsptest.StartCPU(b)
	for b.Loop() {
		DecodeAlaw(dst, src)
	}
	reportPerSample(b, cpu)
}

// The reference implementation's per-sample functions, for comparison.
func BenchmarkReferenceEncodeUlaw(b *testing.B) {
	src, dst := benchSignal(), make([]uint8, benchN)
	b.ReportAllocs()
	cpu := dsptest.StartCPU(b)
	for b.Loop() {
		for i, s := range src {
			dst[i] = ref.EncodeUlawFrame(s)
		}
	}
	reportPerSample(b, cpu)
}

func BenchmarkReferenceEncodeAlaw(b *testing.B) {
	src, dst := benchSignal(), make([]uint8, benchN)
	b.ReportAllocs()
	cpu := dsptest.StartCPU(b)
	for b.Loop() {
		for i, s := range src {
			dst[i] = ref.EncodeAlawFrame(s)
		}
	}
	reportPerSample(b, cpu)
}

func BenchmarkReferenceDecodeUlaw(b *testing.B) {
	src, dst := make([]uint8, benchN), make([]int16, benchN)
	EncodeUlaw(src, benchSignal())
	b.ReportAllocs()
	cpu := dsptest.StartCPU(b)
	for b.Loop() {
		for i, c := range src {
			dst[i] = ref.DecodeUlawFrame(c)
		}
	}
	reportPerSample(b, cpu)
}
