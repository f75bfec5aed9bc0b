// Package faxtest holds what dsp/fax's tests share: the spandsp reference
// harness (testdata/spandsp_fax.c, built by the tests against Debian's libspandsp),
// line impairments (level, noise, a G.711 round trip) and parsers for the
// harness's output.
//
// Tests that run the harness skip under `go test -short` and fail, naming
// the Debian package, when the compiler or libspandsp-dev is missing (see
// dsptest).
package faxtest

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"callbox/dsp/g711"
	"callbox/dsp/internal/dsptest"
)

// Harness builds spandsp_fax into the test's temporary directory and
// returns its path.
func Harness(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return dsptest.BuildSpandsp(t, filepath.Join(filepath.Dir(file), "testdata", "spandsp_fax.c"))
}

// Run runs the harness with stdin and returns its standard output, failing
// the test with its standard error on a non-zero exit.
func Run(t testing.TB, bin string, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("spandsp_fax %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}

// HexLines encodes frames one per line, the harness's input format.
func HexLines(frames [][]byte) []byte {
	var b bytes.Buffer
	for _, f := range frames {
		b.WriteString(hex.EncodeToString(f))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Frame is one frame the harness received.
type Frame struct {
	At   int64 // sample count when it was reported (-1 if not given)
	OK   bool
	Data []byte
}

// ParseFrames reads the harness's "[<sample>] ok|bad HEX" lines.
func ParseFrames(t testing.TB, out []byte) []Frame {
	t.Helper()
	var fs []Frame
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		fr := Frame{At: -1}
		if len(f) == 3 {
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				t.Fatalf("harness line %q", line)
			}
			fr.At, f = n, f[1:]
		}
		if len(f) != 2 && !(len(f) == 1 && (f[0] == "ok" || f[0] == "bad")) {
			t.Fatalf("harness line %q", line)
		}
		fr.OK = f[0] == "ok"
		if len(f) == 2 {
			d, err := hex.DecodeString(f[1])
			if err != nil {
				t.Fatalf("harness line %q: %v", line, err)
			}
			fr.Data = d
		}
		fs = append(fs, fr)
	}
	return fs
}

// Gain scales x by dB, saturating.
func Gain(x []int16, dB float64) []int16 {
	g := math.Pow(10, dB/20)
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = sat(math.Round(float64(v) * g))
	}
	return out
}

func sat(v float64) int16 {
	return int16(math.Max(-32768, math.Min(32767, v)))
}

// Amplitude0 is the peak of a 0 dBm0 sine.
var Amplitude0 = 32767 / math.Pow(10, 3.14/20)

// Level returns the mean power of x in dBm0.
func Level(x []int16) float64 {
	var p float64
	for _, v := range x {
		p += float64(v) * float64(v)
	}
	return 10 * math.Log10(p/float64(max(len(x), 1))/(Amplitude0*Amplitude0/2))
}

// ToLevel scales x so that its power is dBm0.
func ToLevel(x []int16, dBm0 float64) []int16 { return Gain(x, dBm0-Level(x)) }

// AddNoise adds white Gaussian noise at noiseDBm0 (deterministic for a seed).
func AddNoise(x []int16, noiseDBm0 float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	rms := Amplitude0 / math.Sqrt2 * math.Pow(10, noiseDBm0/20)
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = sat(float64(v) + rng.NormFloat64()*rms)
	}
	return out
}

// WithSNR adds noise snrDB below the power of signal (measured over signal,
// which may be the useful part of x only).
func WithSNR(x, signal []int16, snrDB float64, seed uint64) []int16 {
	return AddNoise(x, Level(signal)-snrDB, seed)
}

// Law is a G.711 companding law.
type Law int

// The G.711 laws.
const (
	Linear Law = iota
	Alaw
	Ulaw
)

func (l Law) String() string { return [...]string{"linear", "alaw", "ulaw"}[l] }

// G711 returns x encoded and decoded with the law, as a call through a
// G.711 network leaves it.
func G711(x []int16, law Law) []int16 {
	out := make([]int16, len(x))
	for i, v := range x {
		switch law {
		case Alaw:
			out[i] = g711.DecodeAlawSample(g711.EncodeAlawSample(v))
		case Ulaw:
			out[i] = g711.DecodeUlawSample(g711.EncodeUlawSample(v))
		default:
			out[i] = v
		}
	}
	return out
}

// Pad returns x with silence before and after, in samples.
func Pad(before int, x []int16, after int) []int16 {
	out := make([]int16, before, before+len(x)+after)
	out = append(out, x...)
	return append(out, make([]int16, after)...)
}

// ParseBench reads the harness's "wall cpu ..." benchmark line.
func ParseBench(t testing.TB, out []byte) (wall, cpu float64) {
	t.Helper()
	f := strings.Fields(string(out))
	if len(f) < 2 {
		t.Fatalf("benchmark printed %q", out)
	}
	w, err1 := strconv.ParseFloat(f[0], 64)
	c, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("benchmark printed %q", out)
	}
	return w, c
}

// BenchSpandsp runs the harness's benchmark of what ("v21-rx", ...) b.N
// times over blocks of 160 samples, and reports its ns/sample and
// cpu-ns/sample beside ours.
func BenchSpandsp(b *testing.B, what string, blocks int) {
	bin := Harness(b)
	var wall, cpu float64
	for b.Loop() {
		w, c := ParseBench(b, Run(b, bin, nil, "bench-"+what, fmt.Sprint(blocks)))
		wall += w
		cpu += c
	}
	b.ReportMetric(wall/float64(b.N), "ns/sample")
	b.ReportMetric(cpu/float64(b.N), "cpu-ns/sample")
}
