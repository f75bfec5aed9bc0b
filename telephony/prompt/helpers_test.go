package prompt

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"callbox/dsp/wav"
)

// needTool returns the path of a program the test runs, skipping under
// -short (no child processes there) and failing, naming the Debian
// package, when it is missing.
func needTool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("%s: child processes are not run in -short mode", name)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found (apt-get install %s, or make deps): %v", name, debianPackage, err)
	}
	return p
}

// run runs a program, failing the test with its standard error.
func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
	}
	return stdout.Bytes()
}

// amplitude is the amplitude of the hz component of s at 8 kHz (Goertzel
// over the whole slice).
func amplitude(s []int16, hz float64) float64 {
	w := 2 * math.Pi * hz / SampleRate
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range s {
		s1, s2 = float64(v)+c*s1-s2, s1
	}
	return 2 * math.Sqrt(max(s1*s1+s2*s2-c*s1*s2, 0)) / float64(len(s))
}

func db(x float64) float64 { return 20 * math.Log10(x) }

// tone is n samples of a sine at 8 kHz.
func tone(hz, amp float64, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*hz*float64(i)/SampleRate)))
	}
	return s
}

// wavFile makes a WAV file of any format from raw sample bytes.
func wavFile(format wav.Format, channels, rate, bits int, data []byte) []byte {
	le := binary.LittleEndian
	b := []byte("RIFF")
	b = le.AppendUint32(b, uint32(36+len(data)))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, uint16(format))
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*channels*bits/8))
	b = le.AppendUint16(b, uint16(channels*bits/8))
	b = le.AppendUint16(b, uint16(bits))
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

// writeSystem puts a generated system prompt in the catalogue's directory.
func writeSystem(t testing.TB, dir, name, lang string, s []int16) {
	t.Helper()
	path := filepath.Join(dir, SystemDir, lang, filepath.FromSlash(name)+".wav")
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	file, err := wav.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, file, 0o640); err != nil {
		t.Fatal(err)
	}
}
