package tone

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"callbox/dsp/internal/dsptest"
	"callbox/dsp/wav/wavtest"
)

// blockSizes are the input chunkings every streaming test must agree on.
var blockSizes = []int{1, 80, 102, 160, 1000}

// volFor is sox's "vol" factor for a sine of the given level in dBm0
// (sox's full scale is peak 32767; 0 dBm0 is refPeak).
func volFor(dBm0 float64) string {
	return fmt.Sprintf("%.6f", math.Pow(10, (dBm0-3.14)/20))
}

// soxSynth runs `sox -n <out> synth <args...>` and returns the samples.
func soxSynth(t testing.TB, args ...string) []int16 {
	t.Helper()
	a := append([]string{"-D", "-n"}, dsptest.SoxOut...)
	a = append(a, "synth")
	a = append(a, args...)
	return dsptest.Sox(t, a...)
}

// soxSilence returns ms of silence.
func soxSilence(t testing.TB, ms int) []int16 {
	return make([]int16, ms*8)
}

// soxNoise returns white noise from sox scaled so that its power is snr dB
// below a sine of level dBm0.
func soxNoise(t testing.TB, n int, dBm0, snr float64) []int16 {
	t.Helper()
	secs := fmt.Sprintf("%.4f", float64(n)/8000+0.01)
	w := soxSynth(t, secs, "whitenoise", "vol", "0.3")
	var p float64
	for _, v := range w {
		p += float64(v) * float64(v)
	}
	p /= float64(len(w))
	a := amplitude(dBm0)
	want := a * a / 2 / math.Pow(10, snr/10)
	g := math.Sqrt(want / p)
	out := make([]int16, n)
	for i := range out {
		out[i] = sat(float64(w[i]) * g)
	}
	return out
}

func sat(v float64) int16 {
	return int16(max(-32768, min(32767, math.Round(v))))
}

// mix adds b to a (saturating), b may be shorter.
func mix(a, b []int16) []int16 {
	out := make([]int16, len(a))
	for i := range a {
		v := float64(a[i])
		if i < len(b) {
			v += float64(b[i])
		}
		out[i] = sat(v)
	}
	return out
}

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// readWAV16 reads the data chunk of a 16-bit PCM mono WAV file.
func readWAV16(path string) ([]int16, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%s: not a WAV file", path)
	}
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		n := int(binary.LittleEndian.Uint32(b[p+4:]))
		p += 8
		if id == "fmt " && p+16 <= len(b) {
			if f, ch, rate, bits := binary.LittleEndian.Uint16(b[p:]), binary.LittleEndian.Uint16(b[p+2:]), binary.LittleEndian.Uint32(b[p+4:]), binary.LittleEndian.Uint16(b[p+14:]); f != 1 || ch != 1 || rate != 8000 || bits != 16 {
				return nil, fmt.Errorf("%s: format %d, %d channels, %d Hz, %d bits", path, f, ch, rate, bits)
			}
		}
		if id == "data" {
			n = min(n, len(b)-p)
			return dsptest.Int16s(b[p : p+n]), nil
		}
		p += n + n&1
	}
	return nil, fmt.Errorf("%s: no data chunk", path)
}

// asteriskPrompts returns the Asterisk English prompts (about 25 minutes of
// 8 kHz speech), one slice per file.
func asteriskPrompts(t testing.TB) map[string][]int16 {
	t.Helper()
	if testing.Short() {
		t.Skip("speech corpus is not read in -short mode")
	}
	files := wavtest.Prompts(t, 100)
	out := map[string][]int16{}
	for i, f := range files {
		if raceEnabled && i%4 != 0 {
			continue
		}
		s, err := readWAV16(f)
		if err != nil {
			continue // a few prompts may be in another format; the rest suffice
		}
		out[filepath.Base(f)] = s
	}
	return out
}

// espeakSpeech returns espeak-ng speech resampled to 8 kHz by sox.
func espeakSpeech(t testing.TB, voice, text string) []int16 {
	t.Helper()
	dsptest.NeedTool(t, "espeak-ng", "espeak-ng")
	dir := t.TempDir()
	wav := filepath.Join(dir, "s.wav")
	dsptest.Run(t, "espeak-ng", "-v", voice, "-w", wav, text)
	return dsptest.Sox(t, append([]string{"-D", wav}, dsptest.SoxOut...)...)
}

var espeakTexts = []struct{ voice, text string }{
	{"en", "Thank you for calling. All of our agents are busy at the moment. Please hold the line and your call will be answered in turn."},
	{"en-us", "Press one for sales, two for support, or stay on the line to speak to an operator. Your estimated waiting time is four minutes."},
	{"cmn", "您好，欢迎致电客户服务中心。坐席正忙，请稍候。按一号键查询订单，按二号键转人工服务。"},
	{"de", "Guten Tag, alle Leitungen sind besetzt. Bitte haben Sie einen Moment Geduld."},
	{"ja", "お電話ありがとうございます。ただいま電話が大変混み合っております。"},
}
