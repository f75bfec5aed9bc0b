package dtmf

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"callbox/dsp/g711"
	"callbox/dsp/internal/dsptest"
	"callbox/dsp/wav"
	"callbox/dsp/wav/wavtest"
)

// The tests build their signals in floating point, independently of the
// Generator (and, in sox_test.go, with sox), then quantise them.

const ms = SampleRate / 1000 // samples per millisecond

// signal is a float buffer the tests add tones and noise into.
type signal []float64

// tone adds a sine at f Hz and level dBm0 over [from, from+n).
func (s signal) tone(from, n int, f, dBm0, phase float64) {
	a := Amplitude(dBm0)
	for i := range n {
		s[from+i] += a * math.Sin(2*math.Pi*f*float64(i)/SampleRate+phase)
	}
}

// digit adds a digit with both frequencies scaled by (1+dev), the low tone
// at lowDBm0 and the high tone twist dB above it.
func (s signal) digit(from, n int, d byte, dev, lowDBm0, twist float64) {
	lo, hi, ok := Frequencies(d)
	if !ok {
		panic("bad digit")
	}
	s.tone(from, n, lo*(1+dev), lowDBm0, 0.3)
	s.tone(from, n, hi*(1+dev), lowDBm0+twist, 1.1)
}

// noise adds white Gaussian noise at dBm0 (power relative to a 0 dBm0 sine).
func (s signal) noise(dBm0 float64, seed uint64) {
	rms := Amplitude(dBm0) / math.Sqrt2
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range s {
		s[i] += rms * r.NormFloat64()
	}
}

func (s signal) int16s() []int16 {
	out := make([]int16, len(s))
	for i, v := range s {
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return out
}

// detect runs a fresh detector over x in blocks of the given length.
func detect(x []int16, block int) []Event {
	d := NewDetector(DetectorConfig{})
	var ev []Event
	for len(x) > 0 {
		n := min(block, len(x))
		ev = d.Process(x[:n], ev)
		x = x[n:]
	}
	return d.Flush(ev)
}

// digitsOf returns the digits of the end events.
func digitsOf(ev []Event) string {
	var b []byte
	for _, e := range ev {
		if e.Kind == DigitEnd {
			b = append(b, e.Digit)
		}
	}
	return string(b)
}

func TestCoefficients(t *testing.T) {
	for k, f := range append(rowHz[:], colHz[:]...) {
		want := int32(q14(2 * math.Cos(2*math.Pi*f/SampleRate)))
		if coefs[k] != want {
			t.Errorf("coefficient for %v Hz is %d, want %d", f, coefs[k], want)
		}
		want = int32(math.Round(2 * math.Cos(2*math.Pi*f/kernelRate) * (1 << kernelBits)))
		if kernelCoefs[k] != want {
			t.Errorf("kernel coefficient for %v Hz is %d, want %d", f, kernelCoefs[k], want)
		}
	}
}

// TestAllDigitsBlockLengths checks every digit is found with its start and
// end within 5 ms of the truth, and that block length changes nothing.
func TestAllDigitsBlockLengths(t *testing.T) {
	const on, off = 60 * ms, 60 * ms
	s := make(signal, len(Digits)*(on+off)+100)
	for i := range len(Digits) {
		s.digit(100+i*(on+off), on, Digits[i], 0, -10, 2)
	}
	x := s.int16s()
	ref := detect(x, 160)
	if got := digitsOf(ref); got != Digits {
		t.Fatalf("digits %q, want %q", got, Digits)
	}
	for i, e := range ref {
		wantStart := int64(100 + (i/2)*(on+off))
		if e.Kind != DigitStart+EventKind(i%2) || e.Digit != Digits[i/2] {
			t.Errorf("event %d is %+v", i, e)
		}
		if d := e.Start - wantStart; d < -5*ms || d > 5*ms {
			t.Errorf("%c starts at %d, truth %d", e.Digit, e.Start, wantStart)
		}
		if e.Kind == DigitEnd {
			if d := e.End - (wantStart + on); d < -5*ms || d > 5*ms {
				t.Errorf("%c ends at %d, truth %d", e.Digit, e.End, wantStart+on)
			}
		}
	}
	for _, block := range []int{1, 80, 102, 160, 1000, 7, 51} {
		if got := detect(x, block); !slices.Equal(got, ref) {
			t.Errorf("block %d: events differ:\n%v\nwant\n%v", block, got, ref)
		}
	}
}

// TestFrequencyTolerance: Q.24 accept within 1.5 %, reject from 3.5 %,
// each tone deviating alone and both together.
func TestFrequencyTolerance(t *testing.T) {
	for _, dev := range []float64{-0.035, -0.04, -0.015, 0.015, 0.035, 0.04} {
		accept := math.Abs(dev) < 0.02
		for i := range len(Digits) {
			d := Digits[i]
			lo, hi, _ := Frequencies(d)
			for _, which := range []string{"low", "high", "both"} {
				fl, fh := lo, hi
				if which != "high" {
					fl *= 1 + dev
				}
				if which != "low" {
					fh *= 1 + dev
				}
				s := make(signal, 200*ms)
				s.tone(20*ms, 100*ms, fl, -10, 0)
				s.tone(20*ms, 100*ms, fh, -9, 1)
				got := digitsOf(detect(s.int16s(), 80))
				want := ""
				if accept {
					want = string(d)
				}
				if got != want {
					t.Errorf("%c %s %+.1f%% (%.1f+%.1f Hz): got %q, want %q", d, which, dev*100, fl, fh, got, want)
				}
			}
		}
	}
}

func TestTwist(t *testing.T) {
	tests := []struct {
		twist  float64 // high tone relative to low, dB
		accept bool
	}{
		{0, true}, {-8, true}, {+4, true}, {-6, true}, {+2, true},
		{-14, false}, {+9, false},
	}
	for _, tt := range tests {
		for _, dev := range []float64{0, 0.015, -0.015} {
			for i := range len(Digits) {
				s := make(signal, 200*ms)
				// Keep the stronger tone at -6 dBm0.
				low := -6.0
				if tt.twist > 0 {
					low -= tt.twist
				}
				s.digit(20*ms, 100*ms, Digits[i], dev, low, tt.twist)
				got := digitsOf(detect(s.int16s(), 80))
				if (got != "") != tt.accept {
					t.Errorf("twist %+v dB, %c, deviation %v: got %q, accept=%v", tt.twist, Digits[i], dev, got, tt.accept)
				}
			}
		}
	}
}

// TestDuration: every alignment of a 40 ms tone is found, no 20 ms tone is.
func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		ms     int
		accept bool
	}{{40, true}, {45, true}, {20, false}, {15, false}, {10, false}} {
		step := 3
		if testing.Short() {
			step = 11 // under qemu
		}
		for offset := 0; offset < window; offset += step {
			for _, d := range []byte{'1', '5', '#', 'D'} {
				s := make(signal, 200*ms)
				s.digit(300+offset, tt.ms*ms, d, 0, -10, 2)
				got := digitsOf(detect(s.int16s(), 160))
				if (got == string(d)) != tt.accept || len(got) > 1 {
					t.Errorf("%d ms %c at offset %d: got %q, accept=%v", tt.ms, d, offset, got, tt.accept)
				}
			}
		}
	}
}

// TestDropout: a gap of up to 10 ms (phase continuous or not) is bridged.
func TestDropout(t *testing.T) {
	for gap := 1 * ms; gap <= 10*ms; gap += 3 * ms / 2 {
		for offset := 0; offset < window; offset += 7 {
			s := make(signal, 300*ms)
			from := 200 + offset
			s.digit(from, 60*ms, '8', 0, -10, 2)
			s.digit(from+60*ms+gap, 60*ms, '8', 0.001, -10, 2) // new phase
			ev := detect(s.int16s(), 80)
			if got := digitsOf(ev); got != "8" {
				t.Errorf("gap %d samples at offset %d: got %q", gap, offset, got)
			}
		}
	}
}

// TestRate: 10 digits per second, 40 ms on and 40 ms off, in all alignments.
func TestRate(t *testing.T) {
	const seq = "1234567890*#ABCD5555"
	for offset := 0; offset < window; offset += 5 {
		s := make(signal, len(seq)*80*ms+100*ms)
		for i := range len(seq) {
			s.digit(offset+i*80*ms, 40*ms, seq[i], 0, -10, 2)
		}
		if got := digitsOf(detect(s.int16s(), 160)); got != seq {
			t.Errorf("offset %d: got %q, want %q", offset, got, seq)
		}
	}
}

// TestNoise: 15 dB S/N (two-tone power to white noise over 0-4 kHz) with
// 50 ms tones and pauses; and noise alone gives nothing.
func TestNoise(t *testing.T) {
	const seq = "159D*0#A2486BC37"
	for seed := range uint64(6) {
		for _, level := range []float64{-10, -25} {
			s := make(signal, len(seq)*100*ms+100*ms)
			for i := range len(seq) {
				s.digit(400+i*100*ms, 50*ms, seq[i], 0, level, 0)
			}
			// Two tones at level each: total 3 dB above one.
			s.noise(level+3-15, seed)
			if got := digitsOf(detect(s.int16s(), 160)); got != seq {
				t.Errorf("seed %d, level %v: got %q, want %q", seed, level, got, seq)
			}
		}
	}
	for _, level := range []float64{-50, -30, -10, 0} {
		s := make(signal, 5*SampleRate)
		s.noise(level, 7)
		if got := digitsOf(detect(s.int16s(), 160)); got != "" {
			t.Errorf("noise at %v dBm0 gave %q", level, got)
		}
	}
}

// TestDynamicRange: from -3 to -40 dBm0 per tone (37 dB).
func TestDynamicRange(t *testing.T) {
	for level := -3.0; level >= -40; level -= 1 {
		s := make(signal, len(Digits)*100*ms)
		for i := range len(Digits) {
			s.digit(i*100*ms, 50*ms, Digits[i], 0, level, 0)
		}
		if got := digitsOf(detect(s.int16s(), 80)); got != Digits {
			t.Errorf("%v dBm0: got %q", level, got)
		}
	}
}

// TestDialTone: digits over Chinese (450 Hz) and US (350+440 Hz) dial tone
// as loud as the digits' low tone, and dial tone alone gives nothing.
func TestDialTone(t *testing.T) {
	for _, dial := range [][]float64{{450}, {350, 440}, {425}} {
		for _, dialLevel := range []float64{-10, -13, -20} {
			s := make(signal, len(Digits)*100*ms+100*ms)
			for _, f := range dial {
				s.tone(0, len(s), f, dialLevel, 0.5)
			}
			silent := slices.Clone(s)
			for i := range len(Digits) {
				s.digit(i*100*ms+50*ms, 50*ms, Digits[i], 0, -10, 2)
			}
			if got := digitsOf(detect(s.int16s(), 160)); got != Digits {
				t.Errorf("dial %v Hz at %v dBm0: got %q", dial, dialLevel, got)
			}
			if got := digitsOf(detect(silent.int16s(), 160)); got != "" {
				t.Errorf("dial %v Hz alone gave %q", dial, got)
			}
		}
	}
}

// TestMute: with Mute the audio is delayed by MuteDelay, untouched outside
// digits, and the digits are gone (no tone energy left but at the edges).
func TestMute(t *testing.T) {
	s := make(signal, 2*SampleRate)
	s.noise(-40, 3)
	s.digit(4000, 80*ms, '7', 0, -10, 2)
	s.digit(10000, 100*ms, '#', 0, -10, 2)
	in := s.int16s()
	var first []int16
	for _, block := range []int{1, 80, 102, 160, 1000} {
		out := slices.Clone(in)
		d := NewDetector(DetectorConfig{Mute: true})
		var ev []Event
		for x := out; len(x) > 0; {
			n := min(block, len(x))
			ev = d.Process(x[:n], ev)
			x = x[n:]
		}
		if got := digitsOf(d.Flush(ev)); got != "7#" {
			t.Fatalf("block %d: digits %q", block, got)
		}
		if first == nil {
			first = out
		} else if !slices.Equal(out, first) {
			t.Errorf("block %d: muted audio differs from block 1's", block)
		}
		// Far from the digits the output is the input delayed.
		for i := MuteDelay; i < 3500; i++ {
			if out[i] != in[i-MuteDelay] {
				t.Fatalf("block %d: sample %d is %d, want %d", block, i, out[i], in[i-MuteDelay])
			}
		}
		// The residue of each digit is under 2 ms worth of its energy.
		for _, dg := range [][2]int{{4000, 80 * ms}, {10000, 100 * ms}} {
			var before, after float64
			for i := dg[0]; i < dg[0]+dg[1]; i++ {
				before += float64(in[i]) * float64(in[i])
			}
			for i := dg[0] - 20*ms; i < dg[0]+dg[1]+20*ms; i++ {
				v := float64(out[i+MuteDelay])
				after += v * v
			}
			if after > before*2/float64(dg[1]/ms) {
				t.Errorf("block %d: digit at %d keeps %.1f %% of its energy", block, dg[0], 100*after/before)
			}
		}
	}
}

// TestEventsWellFormed: events alternate start and end of the same digit.
func TestEventsWellFormed(t *testing.T) {
	s := make(signal, 3*SampleRate)
	for i := range 20 {
		s.digit(i*1200, (30+i*3)*ms/1, Digits[i%16], 0, -20, 0)
	}
	s.noise(-30, 9)
	checkEvents(t, detect(s.int16s(), 80), int64(len(s)))
}

func checkEvents(t *testing.T, ev []Event, n int64) {
	t.Helper()
	for i, e := range ev {
		if _, _, ok := position(e.Digit); !ok {
			t.Fatalf("event %d: digit %q", i, e.Digit)
		}
		want := DigitStart
		if i%2 == 1 {
			want = DigitEnd
			if ev[i-1].Digit != e.Digit || ev[i-1].Start != e.Start {
				t.Fatalf("end %+v does not match start %+v", e, ev[i-1])
			}
			if e.End <= e.Start || e.End > n {
				t.Fatalf("event %d: end %d, start %d, signal %d", i, e.End, e.Start, n)
			}
		}
		if e.Kind != want || e.Start < 0 || (i > 1 && e.Start < ev[i-1].End) {
			t.Fatalf("event %d: %+v after %+v", i, e, ev[max(0, i-1)])
		}
	}
	if len(ev)%2 != 0 {
		t.Fatalf("%d events: a start without end", len(ev))
	}
}

func TestGeneratorDetected(t *testing.T) {
	for _, cfg := range []GeneratorConfig{
		DefaultGeneratorConfig(),
		{Level: -30, Twist: 3, On: 40 * time.Millisecond, Off: 40 * time.Millisecond},
		{Level: -5, Twist: 0, On: 250 * time.Millisecond, Off: 10 * time.Millisecond},
	} {
		x, err := Synthesize(Digits+"0123", cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := Digits + "0123"
		if cfg.Off < 40*time.Millisecond {
			want = Digits + "0123" // different digits back to back still part
		}
		if got := digitsOf(detect(x, 80)); got != want {
			t.Errorf("%+v: got %q, want %q", cfg, got, want)
		}
	}
}

func TestGenerator(t *testing.T) {
	cfg := GeneratorConfig{Level: -10, Twist: 2, On: 50 * time.Millisecond, Off: 30 * time.Millisecond}
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Send("1x"); err == nil {
		t.Error("Send accepted 'x'")
	}
	if err := g.Send("9a"); err != nil {
		t.Fatal(err)
	}
	if got := g.Pending(); got != 2*80*ms {
		t.Fatalf("pending %d, want %d", got, 2*80*ms)
	}
	whole := make([]int16, 2*80*ms+50)
	if n := g.Generate(whole); n != 2*80*ms {
		t.Fatalf("generated %d", n)
	}
	// Block-by-block output is identical (continuous phase).
	g2, _ := NewGenerator(cfg)
	g2.Send("9A")
	var parts []int16
	for _, n := range []int{1, 7, 80, 33, 160, 1000} {
		b := make([]int16, n)
		g2.Generate(b)
		parts = append(parts, b...)
	}
	if !slices.Equal(parts[:len(whole)], whole) {
		t.Error("output depends on block lengths")
	}
	// Level: the tone's RMS matches -10 and -8 dBm0 sines together.
	var e float64
	for _, v := range whole[:50*ms] {
		e += float64(v) * float64(v)
	}
	rms := math.Sqrt(e / float64(50*ms))
	want := math.Sqrt((Amplitude(-10)*Amplitude(-10) + Amplitude(-8)*Amplitude(-8)) / 2)
	if math.Abs(rms/want-1) > 0.01 {
		t.Errorf("rms %.1f, want %.1f", rms, want)
	}
	for i := 50 * ms; i < 80*ms; i++ {
		if whole[i] != 0 {
			t.Fatalf("pause sample %d is %d", i, whole[i])
		}
	}
	if _, err := NewGenerator(GeneratorConfig{Level: 3, On: time.Millisecond}); err == nil {
		t.Error("a clipping level was accepted")
	}
	if _, err := NewGenerator(GeneratorConfig{Level: -10}); err == nil {
		t.Error("zero on time was accepted")
	}
}

func FuzzDetector(f *testing.F) {
	tone, _ := Synthesize("123", GeneratorConfig{Level: -10, On: 45 * time.Millisecond, Off: 45 * time.Millisecond})
	f.Add(bytesOf(tone), uint16(80))
	f.Add([]byte{0x7f, 0xff, 0x80, 0x00}, uint16(1))
	f.Add(make([]byte, 3000), uint16(1000))
	f.Fuzz(func(t *testing.T, data []byte, block uint16) {
		x := make([]int16, len(data)/2)
		for i := range x {
			x[i] = int16(uint16(data[2*i]) | uint16(data[2*i+1])<<8)
		}
		// Repeat short inputs so the state machine sees whole windows.
		for len(x) > 0 && len(x) < 4*window {
			x = append(x, x...)
		}
		ev := detect(x, int(block%1200)+1)
		checkEvents(t, ev, int64(len(x)))
		if ref := detect(x, 160); !slices.Equal(ev, ref) {
			t.Fatalf("block %d gives %v, block 160 gives %v", block%1200+1, ev, ref)
		}
	})
}

func bytesOf(x []int16) []byte {
	b := make([]byte, 2*len(x))
	for i, v := range x {
		b[2*i], b[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	return b
}

var sink []Event

func benchmarkDetector(b *testing.B, x []int16, mute bool) {
	d := NewDetector(DetectorConfig{Mute: mute})
	ev := make([]Event, 0, 64)
	const block = 160
	b.ReportAllocs()
	i := 0
	cpu := dsptest.StartCPU(b)
	for b.Loop() {
		if i+block > len(x) {
			i = 0
		}
		ev = d.Process(x[i:i+block], ev[:0])
		i += block
	}
	sink = ev
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*block), "ns/sample")
	cpu.PerSample(b, block)
}

// BenchmarkDetectorNoise is the common case: audio with no digits.
func BenchmarkDetectorNoise(b *testing.B) {
	s := make(signal, SampleRate)
	s.noise(-20, 1)
	benchmarkDetector(b, s.int16s(), false)
}

// BenchmarkDetectorDigits is the worst case: digits all the time, so the
// extra checks run on every window.
func BenchmarkDetectorDigits(b *testing.B) {
	x, _ := Synthesize(Digits, GeneratorConfig{Level: -10, On: 60 * time.Millisecond, Off: 5 * time.Millisecond})
	benchmarkDetector(b, x, false)
}

// BenchmarkDetectorSpeech runs over recorded speech (Debian's
// asterisk-core-sounds-en-wav), where more windows get past the first
// gate than in noise.
func BenchmarkDetectorSpeech(b *testing.B) {
	var x []int16
	for _, name := range []string{"demo-congrats", "demo-instruct", "vm-intro"} {
		file, err := os.ReadFile(wavtest.Prompt(b, name))
		if err != nil {
			b.Fatal(err)
		}
		s, err := wav.Decode(file)
		if err != nil {
			b.Fatal(err)
		}
		x = append(x, s...)
	}
	benchmarkDetector(b, x, false)
}

func BenchmarkDetectorMuteNoise(b *testing.B) {
	s := make(signal, SampleRate)
	s.noise(-20, 1)
	benchmarkDetector(b, s.int16s(), true)
}

func BenchmarkGenerator(b *testing.B) {
	g, _ := NewGenerator(GeneratorConfig{Level: -10, Twist: 2, On: time.Second})
	out := make([]int16, 160)
	b.ReportAllocs()
	cpu := dsptest.StartCPU(b)
	for b.Loop() {
		if g.Pending() < int64(len(out)) {
			g.Send("5") // keep it in tone, never in the pause
		}
		g.Generate(out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(out)), "ns/sample")
	cpu.PerSample(b, len(out))
}

var _ = fmt.Sprint

// TestCombined puts the Q.24 limits together: 1.5 % frequency error, 8 dB
// normal or 4 dB reverse twist and 15 dB S/N, at two levels, 50 ms tones,
// all at once. Each limit alone is met without a miss (the tests above);
// at this corner a rare digit may be lost (under 1 %), none may be wrong.
func TestCombined(t *testing.T) {
	misses, total := 0, 0
	for seed := range uint64(8) {
		for _, dev := range []float64{-0.015, 0.015} {
			for _, twist := range []float64{-8, 4} {
				for _, level := range []float64{-8, -28} {
					s := make(signal, len(Digits)*100*ms+100*ms)
					low := level
					if twist > 0 {
						low -= twist
					}
					for i := range len(Digits) {
						// Vary the alignment with the analysis windows.
						s.digit(400+i*(100*ms+13), 50*ms, Digits[i], dev, low, twist)
					}
					// Noise 15 dB under the two tones' total power.
					power := 10 * math.Log10(math.Pow(10, low/10)+math.Pow(10, (low+twist)/10))
					s.noise(power-15, seed)
					got := digitsOf(detect(s.int16s(), 80))
					if !isSubsequence(got, Digits) {
						t.Errorf("seed %d, deviation %v, twist %v, level %v: got %q", seed, dev, twist, level, got)
					}
					misses += len(Digits) - len(got)
					total += len(Digits)
				}
			}
		}
	}
	t.Logf("%d of %d digits missed", misses, total)
	if misses*100 > total {
		t.Errorf("%d of %d digits missed", misses, total)
	}
}

// isSubsequence reports whether sub is want with some digits left out.
func isSubsequence(sub, want string) bool {
	for i := 0; i < len(sub); i++ {
		j := strings.IndexByte(want, sub[i])
		if j < 0 {
			return false
		}
		want = want[j+1:]
	}
	return true
}

// TestThroughG711: digits that crossed an A-law or mu-law link (as every
// call's audio does) at normal and low levels.
func TestThroughG711(t *testing.T) {
	for _, level := range []float64{-5, -20, -35} {
		x, err := Synthesize(Digits, GeneratorConfig{Level: level, Twist: 2, On: 45 * time.Millisecond, Off: 45 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		codes := make([]uint8, len(x))
		for _, law := range []struct {
			name string
			enc  func([]uint8, []int16) int
			dec  func([]int16, []uint8) int
		}{{"A-law", g711.EncodeAlaw, g711.DecodeAlaw}, {"mu-law", g711.EncodeUlaw, g711.DecodeUlaw}} {
			y := make([]int16, len(x))
			law.enc(codes, x)
			law.dec(y, codes)
			if got := digitsOf(detect(y, 160)); got != Digits {
				t.Errorf("%s at %v dBm0: got %q", law.name, level, got)
			}
		}
	}
}
