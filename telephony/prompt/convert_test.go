package prompt

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConvertSox feeds Convert what sox writes in every rate, encoding and
// channel count an admin may upload: a 1 kHz tone keeps its frequency and
// level, and the duration is kept.
func TestConvertSox(t *testing.T) {
	needTool(t, "sox", "sox")
	dir := t.TempDir()
	encodings := []struct {
		name string
		args []string
		tol  float64 // dB: G.711 and 8-bit quantize coarsely
	}{
		{"s16", []string{"-e", "signed-integer", "-b", "16"}, 0.1},
		{"s24", []string{"-e", "signed-integer", "-b", "24"}, 0.1},
		{"s32", []string{"-e", "signed-integer", "-b", "32"}, 0.1},
		{"f32", []string{"-e", "floating-point", "-b", "32"}, 0.1},
		{"u8", []string{"-e", "unsigned-integer", "-b", "8"}, 0.3},
		{"alaw", []string{"-e", "a-law"}, 0.3},
		{"ulaw", []string{"-e", "u-law"}, 0.3},
	}
	type input struct {
		rate, ch int
		enc      int // index in encodings
	}
	var inputs []input
	// Every encoding in mono and stereo at 44.1 kHz, every rate in 16-bit
	// mono and stereo and in float.
	for e := range encodings {
		inputs = append(inputs, input{44100, 1, e}, input{44100, 2, e})
	}
	for _, rate := range []int{8000, 11025, 16000, 22050, 32000, 48000} {
		inputs = append(inputs, input{rate, 1, 0}, input{rate, 2, 0}, input{rate, 2, 3})
	}
	for _, in := range inputs {
		rate, ch, enc := in.rate, in.ch, encodings[in.enc]
		name := fmt.Sprintf("%s-%d-%dch", enc.name, rate, ch)
		path := filepath.Join(dir, name+".wav")
		args := append([]string{"-D", "-n", "-r", fmt.Sprint(rate), "-c", fmt.Sprint(ch)}, enc.args...)
		args = append(args, path, "synth", "0.5", "sine", "1000", "vol", "0.5")
		run(t, "sox", args...)
		file, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		up, err := Convert(file)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(up.Samples) != SampleRate/2 {
			t.Errorf("%s: %d samples, want %d (half a second)", name, len(up.Samples), SampleRate/2)
			continue
		}
		mid := up.Samples[800 : SampleRate/2-800]
		level := db(amplitude(mid, 1000) / 16384)
		if math.Abs(level) > enc.tol {
			t.Errorf("%s: the 1 kHz tone is at %+.2f dB after conversion", name, level)
		}
		// The frequency survives: nothing at its neighbours.
		for _, hz := range []float64{900, 1100} {
			if d := db(amplitude(mid, hz) / 16384); d > -40 {
				t.Errorf("%s: %v Hz at %.1f dB", name, hz, d)
			}
		}
		if !strings.Contains(up.Source, fmt.Sprintf("%d Hz, %d channel(s)", rate, ch)) {
			t.Errorf("%s: source %q", name, up.Source)
		}
	}
}

// TestConvertAliasing is the brief's case: a 6 kHz tone in a 48 kHz file
// would fold to 2 kHz when decimated without a low-pass; after Convert it
// is gone, while a 1 kHz tone beside it stays.
func TestConvertAliasing(t *testing.T) {
	needTool(t, "sox", "sox")
	path := filepath.Join(t.TempDir(), "whistle.wav")
	run(t, "sox", "-D", "-n", "-r", "48000", "-c", "1", "-b", "16", path, "synth", "1", "sine", "6000", "sine", "1000", "remix", "1,2", "vol", "0.45")
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	up, err := Convert(file)
	if err != nil {
		t.Fatal(err)
	}
	mid := up.Samples[800 : len(up.Samples)-800]
	tone := amplitude(mid, 1000)
	alias := amplitude(mid, 2000)
	if db(alias/tone) > -60 {
		t.Fatalf("the 6 kHz tone's alias at 2 kHz is %.1f dB below the 1 kHz tone, want 60 dB", db(tone/alias))
	}
	t.Logf("alias at 2 kHz: %.1f dB below the tone", db(tone/alias))
}

func TestConvertRefuses(t *testing.T) {
	pcm16 := func(n int) []byte { return make([]byte, 2*n) }
	tests := []struct {
		name string
		file []byte
		code string
	}{
		{"mp3", []byte("ID3\x04\x00\x00\x00\x00\x00\x00 not a wav"), codeNotWAV},
		{"empty file", nil, codeNotWAV},
		{"no audio", wavFile(1, 1, 8000, 16, nil), codeEmpty},
		{"too large", append(wavFile(1, 1, 8000, 16, nil), make([]byte, MaxFileBytes)...), codeTooLarge},
		{"too long", wavFile(7, 1, 8000, 8, make([]byte, 8000*601)), codeTooLong},
		{"96 kHz", wavFile(1, 1, 96000, 16, pcm16(100)), codeRate},
		{"4 kHz", wavFile(1, 1, 4000, 16, pcm16(100)), codeRate},
		{"odd rate", wavFile(1, 1, 44056, 16, pcm16(100)), codeRate},
		{"6 channels", wavFile(1, 6, 48000, 16, pcm16(600)), codeChannels},
		{"ADPCM", wavFile(0x11, 1, 8000, 4, pcm16(100)), codeEncoding},
		{"12-bit", wavFile(1, 1, 8000, 12, pcm16(100)), codeEncoding},
	}
	for _, tt := range tests {
		_, err := Convert(tt.file)
		var e *Error
		if !errors.As(err, &e) || e.Code != tt.code || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want reason %s", tt.name, err, tt.code)
			continue
		}
		if !strings.HasPrefix(err.Error(), "prompt: ") {
			t.Errorf("%s: %q lacks the package prefix", tt.name, err)
		}
	}
}

func FuzzConvert(f *testing.F) {
	f.Add(wavFile(1, 2, 44100, 16, make([]byte, 400)))
	f.Add(wavFile(3, 1, 22050, 32, make([]byte, 64)))
	f.Add(wavFile(6, 1, 8000, 8, []byte{1, 2, 3}))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\xbb\x00\x00"))
	f.Fuzz(func(t *testing.T, file []byte) {
		up, err := Convert(file)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			return
		}
		if len(up.Samples) == 0 || len(up.Samples) > maxSamples+1 {
			t.Fatalf("%d samples", len(up.Samples))
		}
	})
}

// BenchmarkConvert converts a minute of 44.1 kHz stereo 16-bit audio (a
// CD-quality upload of 10 MiB) and reports the time per minute of audio.
func BenchmarkConvert(b *testing.B) {
	const rate = 44100
	data := make([]byte, 0, rate*60*4)
	for i := range rate * 60 {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate))
		data = append(data, byte(v), byte(v>>8), byte(v), byte(v>>8))
	}
	file := wavFile(1, 2, rate, 16, data)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Convert(file); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/audio-minute")
}
