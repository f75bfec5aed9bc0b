package wav

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"callbox/dsp/g711"
	"callbox/dsp/internal/dsptest"
)

// build assembles a RIFF WAVE file from chunks (id, body); odd bodies get
// their pad byte unless noPad.
func build(noPad bool, chunks ...[2]string) []byte {
	var body []byte
	for _, c := range chunks {
		body = append(body, c[0]...)
		body = binary.LittleEndian.AppendUint32(body, uint32(len(c[1])))
		body = append(body, c[1]...)
		if len(c[1])%2 == 1 && !noPad {
			body = append(body, 0)
		}
	}
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(body)))...)
	return append(append(out, "WAVE"...), body...)
}

func fmtChunk(format Format, channels, rate, bits int) [2]string {
	le := binary.LittleEndian
	b := le.AppendUint16(nil, uint16(format))
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*channels*bits/8))
	b = le.AppendUint16(b, uint16(channels*bits/8))
	b = le.AppendUint16(b, uint16(bits))
	return [2]string{"fmt ", string(b)}
}

func pcm(s ...int16) string {
	var b []byte
	for _, v := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return string(b)
}

func TestDecode(t *testing.T) {
	alaw := []byte{g711.EncodeAlawSample(1000), g711.EncodeAlawSample(-5000)}
	ulaw := []byte{g711.EncodeUlawSample(1000), g711.EncodeUlawSample(-5000)}
	ext := fmtChunk(0xfffe, 1, 8000, 8)
	ext[1] += "\x16\x00\x08\x00\x00\x00\x00\x00" + "\x07\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
	tests := []struct {
		name string
		file []byte
		want []int16
	}{
		{"pcm", build(false, fmtChunk(PCM, 1, 8000, 16), [2]string{"data", pcm(1, -2, 32767, -32768)}), []int16{1, -2, 32767, -32768}},
		{"alaw", build(false, fmtChunk(ALaw, 1, 8000, 8), [2]string{"data", string(alaw)}),
			[]int16{g711.DecodeAlawSample(alaw[0]), g711.DecodeAlawSample(alaw[1])}},
		{"ulaw with fact", build(false, fmtChunk(MuLaw, 1, 8000, 8), [2]string{"fact", "\x02\x00\x00\x00"}, [2]string{"data", string(ulaw)}),
			[]int16{g711.DecodeUlawSample(ulaw[0]), g711.DecodeUlawSample(ulaw[1])}},
		{"extensible mu-law", build(false, ext, [2]string{"data", string(ulaw)}),
			[]int16{g711.DecodeUlawSample(ulaw[0]), g711.DecodeUlawSample(ulaw[1])}},
		{"LIST before data, odd chunk padded", build(false, fmtChunk(PCM, 1, 8000, 16), [2]string{"LIST", "INFOISFT\x03\x00\x00\x00ab\x00"}, [2]string{"odd ", "xyz"}, [2]string{"data", pcm(7, 8)}), []int16{7, 8}},
		{"odd chunk without pad", build(true, fmtChunk(PCM, 1, 8000, 16), [2]string{"odd ", "xyz"}, [2]string{"data", pcm(7, 8)}), []int16{7, 8}},
		{"data before fmt", build(false, [2]string{"data", pcm(3)}, fmtChunk(PCM, 1, 8000, 16)), []int16{3}},
		{"truncated data", build(false, fmtChunk(PCM, 1, 8000, 16), [2]string{"data", pcm(1, 2, 3)})[:44+5], []int16{1, 2}},
		{"empty data", build(false, fmtChunk(PCM, 1, 8000, 16), [2]string{"data", ""}), []int16{}},
	}
	for _, tt := range tests {
		got, err := Decode(tt.file)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	data := [2]string{"data", pcm(1, 2)}
	tests := []struct {
		name string
		file []byte
		want []string // substrings of the error
	}{
		{"empty", nil, []string{"not a RIFF WAVE"}},
		{"rifx", []byte("RIFX\x00\x00\x00\x00WAVE"), []string{"not a RIFF WAVE"}},
		{"no fmt", build(false, data), []string{"no fmt"}},
		{"no data", build(false, fmtChunk(PCM, 1, 8000, 16)), []string{"no data"}},
		{"short fmt", build(false, [2]string{"fmt ", "\x01\x00"}, data), []string{"fmt chunk of 2 bytes"}},
		{"44.1 kHz stereo", build(false, fmtChunk(PCM, 2, 44100, 16), data), []string{"44100 Hz", "2 channel", "PCM", "16 bits"}},
		{"16 kHz", build(false, fmtChunk(PCM, 1, 16000, 16), data), []string{"16000 Hz"}},
		{"8-bit PCM", build(false, fmtChunk(PCM, 1, 8000, 8), data), []string{"PCM", "8 bits"}},
		{"float", build(false, fmtChunk(3, 1, 8000, 32), data), []string{"IEEE float", "32 bits"}},
		{"GSM", build(false, fmtChunk(0x31, 1, 8000, 0), data), []string{"GSM"}},
		{"16-bit A-law", build(false, fmtChunk(ALaw, 1, 8000, 16), data), []string{"A-law", "16 bits"}},
	}
	for _, tt := range tests {
		_, err := Decode(tt.file)
		wantError(t, tt.name, err, tt.want)
	}
}

// wantError checks that err says each of want, after the package's prefix.
func wantError(t *testing.T, name string, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", name)
		return
	}
	for _, w := range append(want, "wav: ") {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not mention %q", name, err, w)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	in := []int16{0, 1, -1, 32767, -32768, 1234}
	file, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(file) != headerSize+2*len(in) {
		t.Fatalf("file of %d bytes", len(file))
	}
	info, _, err := Parse(file)
	if err != nil || info != (Info{PCM, 1, 8000, 16}) {
		t.Fatalf("info %v, %v", info, err)
	}
	out, err := Decode(file)
	if err != nil || !slices.Equal(out, in) {
		t.Fatalf("round trip gives %v, %v", out, err)
	}
}

// TestSox checks the reader against files sox writes in each format and
// the writer against sox's reading of it.
func TestSox(t *testing.T) {
	dsptest.NeedTool(t, "sox", "sox")
	dir := t.TempDir()
	for _, enc := range [][]string{
		{"-e", "signed-integer", "-b", "16"},
		{"-e", "a-law"},
		{"-e", "u-law"},
	} {
		path := filepath.Join(dir, enc[1]+".wav")
		args := append([]string{"-n", "-r", "8000", "-c", "1"}, enc...)
		args = append(args, path, "synth", "0.3", "sine", "300-3000", "vol", "0.7")
		dsptest.Run(t, "sox", args...)
		file, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(file)
		if err != nil {
			t.Fatalf("%s: %v", enc[1], err)
		}
		want := dsptest.Int16s(dsptest.Run(t, "sox", append([]string{path}, dsptest.SoxOut...)...))
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d samples differ from sox's decoding (%d)", enc[1], len(got), len(want))
		}
	}
	// sox reads what Encode writes.
	in := make([]int16, 800)
	for i := range in {
		in[i] = int16(i*40 - 16000)
	}
	file, _ := Encode(in)
	path := filepath.Join(dir, "ours.wav")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := dsptest.Int16s(dsptest.Run(t, "sox", append([]string{path}, dsptest.SoxOut...)...)); !slices.Equal(got, in) {
		t.Errorf("sox reads %d samples differently", len(got))
	}
	info := string(dsptest.Run(t, "sox", "--i", path))
	for _, w := range []string{"Channels       : 1", "Sample Rate    : 8000", "16-bit Signed Integer PCM"} {
		if !strings.Contains(info, w) {
			t.Errorf("sox --i does not say %q:\n%s", w, info)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(build(false, fmtChunk(PCM, 1, 8000, 16), [2]string{"data", pcm(1, 2, 3)}))
	f.Add(build(false, fmtChunk(ALaw, 1, 8000, 8), [2]string{"LIST", "abc"}, [2]string{"data", "\x01\x02\x03"}))
	f.Add(build(true, fmtChunk(MuLaw, 1, 8000, 8), [2]string{"odd ", "a"}, [2]string{"data", "\x01\x02"}))
	f.Add(build(false, fmtChunk(PCM, 2, 44100, 16), [2]string{"data", pcm(1)})[:40])
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEdata\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, file []byte) {
		info, data, perr := Parse(file)
		s, err := Decode(file)
		if err != nil {
			if s != nil {
				t.Fatal("samples with an error")
			}
			if !strings.HasPrefix(err.Error(), "wav: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			return
		}
		if perr != nil || !info.supported() {
			t.Fatalf("decoded %v despite %v", info, perr)
		}
		// The data is a sub-slice of the file and gives one sample per
		// byte (G.711) or per two bytes (PCM).
		if len(data) > len(file) || !bytes.Contains(file, data) {
			t.Fatal("data is not from the file")
		}
		if want := len(data) / (info.BitsPerSample / 8); len(s) != want {
			t.Fatalf("%d samples from %d bytes of %v", len(s), len(data), info)
		}
		// What we decoded survives our writer and reader unchanged.
		enc, err := Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := Decode(enc); err != nil || !slices.Equal(back, s) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func BenchmarkDecodePCM(b *testing.B) {
	in := make([]int16, 8000)
	file, _ := Encode(in)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(file); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(in)), "ns/sample")
}
