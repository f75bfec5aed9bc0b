package wav

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"callbox/dsp/g711"
	"callbox/dsp/internal/dsptest"
)

func le24(v ...int32) string {
	var b []byte
	for _, x := range v {
		b = append(b, byte(x), byte(x>>8), byte(x>>16))
	}
	return string(b)
}

func le32(v ...uint32) string {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return string(b)
}

func f32(v ...float32) string {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return string(b)
}

func f64(v ...float64) string {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return string(b)
}

func TestMono(t *testing.T) {
	i32 := func(v int32) uint32 { return uint32(v) }
	tests := []struct {
		name string
		file []byte
		info Info
		want []int16
	}{
		{"8-bit unsigned", build(false, fmtChunk(PCM, 1, 11025, 8), [2]string{"data", "\x80\x00\xff\x81"}),
			Info{PCM, 1, 11025, 8}, []int16{0, -32768, 32512, 256}},
		{"16-bit 48 kHz", build(false, fmtChunk(PCM, 1, 48000, 16), [2]string{"data", pcm(1, -2, 32767, -32768)}),
			Info{PCM, 1, 48000, 16}, []int16{1, -2, 32767, -32768}},
		{"24-bit rounds", build(false, fmtChunk(PCM, 1, 44100, 24), [2]string{"data", le24(0x7fffff, -0x800000, 0x000180, 0x00017f, -0x000181)}),
			Info{PCM, 1, 44100, 24}, []int16{32767, -32768, 2, 1, -2}},
		{"32-bit", build(false, fmtChunk(PCM, 1, 16000, 32), [2]string{"data", le32(0x7fffffff, 0x80000000, 0x00018000, i32(-0x00010000))}),
			Info{PCM, 1, 16000, 32}, []int16{32767, -32768, 2, -1}},
		{"float32 clips", build(false, fmtChunk(Float, 1, 22050, 32), [2]string{"data", f32(0.5, -0.5, 1.5, -2, float32(math.NaN()), 1)}),
			Info{Float, 1, 22050, 32}, []int16{16384, -16384, 32767, -32768, 0, 32767}},
		{"float64", build(false, fmtChunk(Float, 1, 8000, 64), [2]string{"data", f64(0.25, -1)}),
			Info{Float, 1, 8000, 64}, []int16{8192, -32768}},
		{"stereo averages", build(false, fmtChunk(PCM, 2, 32000, 16), [2]string{"data", pcm(100, 300, -32768, -32768, 32767, 32767, 1000, -1000)}),
			Info{PCM, 2, 32000, 16}, []int16{200, -32768, 32767, 0}},
		{"stereo A-law", build(false, fmtChunk(ALaw, 2, 8000, 8), [2]string{"data", string([]byte{g711.EncodeAlawSample(1000), g711.EncodeAlawSample(1000)})}),
			Info{ALaw, 2, 8000, 8}, []int16{g711.DecodeAlawSample(g711.EncodeAlawSample(1000))}},
		{"mu-law", build(false, fmtChunk(MuLaw, 1, 8000, 8), [2]string{"data", string([]byte{g711.EncodeUlawSample(-5000)})}),
			Info{MuLaw, 1, 8000, 8}, []int16{g711.DecodeUlawSample(g711.EncodeUlawSample(-5000))}},
		{"partial frame dropped", build(false, fmtChunk(PCM, 2, 8000, 16), [2]string{"data", pcm(2, 4, 6)}),
			Info{PCM, 2, 8000, 16}, []int16{3}},
	}
	for _, tt := range tests {
		m, err := NewMono(tt.file)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if m.Info() != tt.info {
			t.Errorf("%s: info %v, want %v", tt.name, m.Info(), tt.info)
		}
		if m.Len() != len(tt.want) {
			t.Errorf("%s: Len %d, want %d", tt.name, m.Len(), len(tt.want))
		}
		// Read in blocks of 3 to cross block boundaries.
		var got []int16
		buf := make([]int16, 3)
		for {
			n := m.Read(buf)
			if n == 0 {
				break
			}
			got = append(got, buf[:n]...)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMonoErrors(t *testing.T) {
	data := [2]string{"data", pcm(1, 2)}
	tests := []struct {
		name string
		file []byte
		want []string
	}{
		{"not wav", []byte("ID3\x03 an mp3"), []string{"not a RIFF WAVE"}},
		{"three channels", build(false, fmtChunk(PCM, 3, 8000, 16), data), []string{"3 channels", "mono or stereo"}},
		{"no channels", build(false, fmtChunk(PCM, 0, 8000, 16), data), []string{"0 channels"}},
		{"rate 0", build(false, fmtChunk(PCM, 1, 0, 16), data), []string{"no sample rate"}},
		{"12-bit", build(false, fmtChunk(PCM, 1, 8000, 12), data), []string{"unsupported encoding", "12 bits"}},
		{"half float", build(false, fmtChunk(Float, 1, 8000, 16), data), []string{"IEEE float", "16 bits"}},
		{"ADPCM", build(false, fmtChunk(0x11, 1, 8000, 4), data), []string{"IMA ADPCM"}},
		{"MP3 in WAV", build(false, fmtChunk(0x55, 2, 44100, 0), data), []string{"MPEG layer 3"}},
	}
	for _, tt := range tests {
		_, err := NewMono(tt.file)
		wantError(t, tt.name, err, tt.want)
	}
}

// TestMonoSox checks Mono against sox's own reading of files sox writes in
// every encoding, rate and channel count an upload may have.
func TestMonoSox(t *testing.T) {
	dsptest.NeedTool(t, "sox", "sox")
	dir := t.TempDir()
	for _, enc := range []struct {
		name string
		args []string
	}{
		{"u8", []string{"-e", "unsigned-integer", "-b", "8"}},
		{"s16", []string{"-e", "signed-integer", "-b", "16"}},
		{"s24", []string{"-e", "signed-integer", "-b", "24"}},
		{"s32", []string{"-e", "signed-integer", "-b", "32"}},
		{"f32", []string{"-e", "floating-point", "-b", "32"}},
		{"f64", []string{"-e", "floating-point", "-b", "64"}},
		{"alaw", []string{"-e", "a-law"}},
		{"ulaw", []string{"-e", "u-law"}},
	} {
		for _, ch := range []string{"1", "2"} {
			for _, rate := range []string{"8000", "44100"} {
				name := enc.name + "-" + ch + "-" + rate
				path := filepath.Join(dir, name+".wav")
				args := append([]string{"-D", "-n", "-r", rate, "-c", ch}, enc.args...)
				// Different tones left and right, so the mix-down shows.
				args = append(args, path, "synth", "0.2", "sine", "440", "sine", "1000", "vol", "0.6")
				dsptest.Run(t, "sox", args...)
				file, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				m, err := NewMono(file)
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				got := make([]int16, m.Len())
				m.Read(got)
				// sox's mix-down (remix averages the channels), undithered.
				want := dsptest.Int16s(dsptest.Run(t, "sox", "-D", path, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-", "remix", "1-"+ch))
				if len(got) != len(want) {
					t.Errorf("%s: %d samples, sox reads %d", name, len(got), len(want))
					continue
				}
				worst := 0
				for i := range got {
					d := int(got[i]) - int(want[i])
					worst = max(worst, d, -d)
				}
				if worst > 2 {
					t.Errorf("%s: differs from sox by up to %d", name, worst)
				}
			}
		}
	}
}

func FuzzMono(f *testing.F) {
	f.Add(build(false, fmtChunk(PCM, 2, 44100, 24), [2]string{"data", le24(1, 2, 3, 4)}))
	f.Add(build(false, fmtChunk(Float, 1, 48000, 32), [2]string{"data", f32(0.1, -3)}))
	f.Add(build(false, fmtChunk(PCM, 1, 11025, 8), [2]string{"data", "\x00\x01"}))
	f.Add(build(false, fmtChunk(MuLaw, 2, 8000, 8), [2]string{"data", "\x01\x02\x03"}))
	f.Fuzz(func(t *testing.T, file []byte) {
		m, err := NewMono(file)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "wav: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			return
		}
		info := m.Info()
		if info.Channels < 1 || info.Channels > MaxChannels || info.SampleRate <= 0 {
			t.Fatalf("accepted %v", info)
		}
		n := m.Len()
		buf := make([]int16, 7)
		total := 0
		for {
			k := m.Read(buf)
			if k == 0 {
				break
			}
			total += k
		}
		if total != n || m.Len() != 0 {
			t.Fatalf("read %d frames of %d, %d left", total, n, m.Len())
		}
	})
}

func BenchmarkMonoStereo24(b *testing.B) {
	in := make([]byte, 0, 48000*6)
	for i := range 48000 {
		in = append(in, le24(int32(i*100), int32(-i*100))...)
	}
	file := build(false, fmtChunk(PCM, 2, 48000, 24), [2]string{"data", string(in)})
	out := make([]int16, 480)
	b.ReportAllocs()
	for b.Loop() {
		m, err := NewMono(file)
		if err != nil {
			b.Fatal(err)
		}
		for m.Read(out) > 0 {
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*48000), "ns/sample")
}
