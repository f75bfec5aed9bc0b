package dtmf

import (
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"callbox/dsp/internal/dsptest"
	"callbox/dsp/wav"
	"callbox/dsp/wav/wavtest"
)

// These tests use signals made by other programs: DTMF synthesised by sox,
// recorded speech (Debian's asterisk-core-sounds-en-wav), speech from
// espeak-ng and music-like sounds from sox.

// soxDigit returns one digit of on ms made by sox at the given level per
// tone, followed by off ms of silence.
func soxDigit(t *testing.T, d byte, on, off int, dBm0 float64) []int16 {
	lo, hi, _ := Frequencies(d)
	// sox's "mix" halves each of two tones: vol is twice one tone's peak.
	vol := 2 * Amplitude(dBm0) / 32768
	dur := fmt.Sprintf("%.3f", float64(on)/1000)
	args := []string{"-n"}
	args = append(args, dsptest.SoxOut...)
	args = append(args, "synth", dur, "sine", fmt.Sprint(lo), "synth", dur, "sine", "mix", fmt.Sprint(hi),
		"vol", fmt.Sprintf("%.5f", vol), "pad", "0", fmt.Sprintf("%.3f", float64(off)/1000))
	return dsptest.Sox(t, args...)
}

// soxNoise returns n samples of sox's white noise scaled to rms dBm0.
func soxNoise(t *testing.T, n int, dBm0 float64) []float64 {
	args := append([]string{"-n"}, dsptest.SoxOut...)
	args = append(args, "synth", fmt.Sprintf("%.4f", float64(n)/SampleRate+0.01), "whitenoise", "vol", "0.5")
	x := dsptest.Sox(t, args...)[:n]
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	scale := Amplitude(dBm0) / math.Sqrt2 / math.Sqrt(e/float64(n))
	out := make([]float64, n)
	for i, v := range x {
		out[i] = float64(v) * scale
	}
	return out
}

func TestSoxDigits(t *testing.T) {
	for _, tt := range []struct {
		on, off int
		level   float64
		snr     float64 // dB, 0 for no noise
	}{
		{50, 50, -10, 0},
		{40, 40, -10, 0},
		{60, 60, -35, 0},
		{50, 50, -4, 0},
		{50, 50, -10, 15},
		{50, 50, -25, 15},
	} {
		var x []int16
		for i := range len(Digits) {
			x = append(x, soxDigit(t, Digits[i], tt.on, tt.off, tt.level)...)
		}
		if tt.snr != 0 {
			n := soxNoise(t, len(x), tt.level+3-tt.snr)
			s := make(signal, len(x))
			for i := range x {
				s[i] = float64(x[i]) + n[i]
			}
			x = s.int16s()
		}
		ev := detect(x, 102)
		if got := digitsOf(ev); got != Digits {
			t.Errorf("%+v: got %q, want %q", tt, got, Digits)
		}
		for i, e := range ev {
			if e.Kind != DigitEnd {
				continue
			}
			truth := int64(i/2*(tt.on+tt.off)) * ms
			// Noise may cost the partial window at either edge.
			if d := e.Start - truth; d < -5*ms || d > 7*ms {
				t.Errorf("%+v: %c starts at %d, truth %d", tt, e.Digit, e.Start, truth)
			}
			// Each edge is placed within about ±4.5 ms.
			if d := e.Duration() - int64(tt.on*ms); d < -10*ms || d > 10*ms {
				t.Errorf("%+v: %c lasts %d samples, truth %d", tt, e.Digit, e.Duration(), tt.on*ms)
			}
		}
	}
}

// talkOff runs one detector over each signal and returns the names of
// those in which it found digits.
func talkOff(t *testing.T, name string, x []int16, found *[]string) {
	t.Helper()
	if ev := detect(x, 160); len(ev) > 0 {
		*found = append(*found, fmt.Sprintf("%s: %q at %d", name, digitsOf(ev), ev[0].Start))
	}
}

// TestTalkOffAsteriskPrompts: every 8 kHz prompt of Debian's
// asterisk-core-sounds-en-wav (about 25 minutes of speech) gives no digit.
func TestTalkOffAsteriskPrompts(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 25 minutes of recorded speech")
	}
	root := wavtest.NeedDir(t)
	var found []string
	var total, files, skipped int
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".wav") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		x, err := wav.Decode(b)
		if err != nil {
			skipped++ // not 8 kHz mono
			t.Logf("skipped %s: %v", path, err)
			return nil
		}
		files++
		total += len(x)
		talkOff(t, strings.TrimPrefix(path, root+"/"), x, &found)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d files, %.1f minutes of speech, %d skipped", files, float64(total)/SampleRate/60, skipped)
	if total < 20*60*SampleRate {
		t.Errorf("only %.1f minutes of prompts found", float64(total)/SampleRate/60)
	}
	for _, f := range found {
		t.Errorf("talk-off: %s", f)
	}
}

// TestTalkOffEspeak: synthetic speech in several voices and pitches,
// including digits spoken aloud.
func TestTalkOffEspeak(t *testing.T) {
	dsptest.NeedTool(t, "espeak-ng", "espeak-ng")
	dsptest.NeedTool(t, "sox", "sox")
	dir := t.TempDir()
	text := "Thank you for calling. Please enter your account number followed by the pound key. " +
		"One two three four five six seven eight nine zero star hash. " +
		"Your call is important to us, an agent will be with you shortly. " +
		"Press one for sales, two for support, or hold the line."
	var found []string
	for _, v := range []struct{ voice, pitch, speed string }{
		{"en", "50", "160"}, {"en+f3", "70", "180"}, {"en+f4", "99", "200"},
		{"en-us", "20", "140"}, {"en+m3", "0", "120"}, {"zh", "60", "170"},
	} {
		path := filepath.Join(dir, "speech.wav")
		dsptest.Run(t, "espeak-ng", "-v", v.voice, "-p", v.pitch, "-s", v.speed, "-w", path, text)
		x := dsptest.Sox(t, append([]string{path}, dsptest.SoxOut...)...)
		talkOff(t, fmt.Sprintf("espeak %+v", v), x, &found)
	}
	for _, f := range found {
		t.Errorf("talk-off: %s", f)
	}
}

// TestTalkOffMusic: chords, arpeggios and harmonic-rich tones from sox.
func TestTalkOffMusic(t *testing.T) {
	dsptest.NeedTool(t, "sox", "sox")
	var found []string
	for _, effect := range [][]string{
		{"synth", "3", "pluck", "A3", "synth", "3", "pluck", "mix", "C#4", "synth", "3", "pluck", "mix", "E4"},
		{"synth", "3", "sine", "C5", "synth", "3", "sine", "mix", "E5", "synth", "3", "sine", "mix", "G5", "synth", "3", "sine", "mix", "C6"},
		{"synth", "4", "square", "110", "tremolo", "6", "40"},
		{"synth", "4", "sawtooth", "147", "chorus", "0.7", "0.9", "55", "0.4", "0.25", "2", "-t"},
		{"synth", "4", "triangle", "233-466", "overdrive", "10"},
		{"synth", "4", "trapezium", "196", "synth", "4", "square", "mix", "294"},
		{"synth", "4", "pluck", "G4", "synth", "4", "pluck", "mix", "B4", "synth", "4", "pluck", "mix", "D5", "synth", "4", "pluck", "mix", "G5", "reverb"},
		{"synth", "6", "pinknoise", "band", "1000", "500"},
		// Not two crossing sweeps: they pass through digits slowly
		// enough to be real DTMF for 40 ms.
		{"synth", "4", "sine", "300-3400", "synth", "4", "whitenoise", "mix", "vol", "0.3"},
	} {
		args := append([]string{"-n"}, dsptest.SoxOut...)
		args = append(append(args, effect...), "norm", "-3")
		x := dsptest.Sox(t, args...)
		talkOff(t, strings.Join(effect, " "), x, &found)
	}
	// An arpeggio over two octaves.
	var x []int16
	for _, note := range strings.Fields("C4 E4 G4 C5 E5 G5 C6 G5 E5 C5 G4 E4 A4 C#5 E5 A5 F4 A4 C5 F5") {
		args := append([]string{"-n"}, dsptest.SoxOut...)
		x = append(x, dsptest.Sox(t, append(args, "synth", "0.15", "pluck", note, "synth", "0.15", "sine", "mix", note, "norm", "-6")...)...)
	}
	talkOff(t, "arpeggio", x, &found)
	for _, f := range found {
		t.Errorf("talk-off: %s", f)
	}
}
