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

// Harness builds spandsp_fax (against libspandsp and libtiff, which
// libspandsp-dev brings) into the test's temporary directory and returns
// its path.
func Harness(t testing.TB) string {
	t.Helper()
	cc := dsptest.NeedTool(t, "cc", "gcc")
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "testdata", "spandsp_fax.c")
	bin := filepath.Join(t.TempDir(), "spandsp_fax")
	out, err := exec.Command(cc, "-O2", "-Wall", "-o", bin, src, "-lspandsp", "-ltiff", "-lm").CombinedOutput()
	if err != nil {
		t.Fatalf("faxtest: building %s against libspandsp (apt-get install libspandsp-dev gcc): %v\n%s", src, err, out)
	}
	return bin
}

// Bitmap is a 1-bit image as PBM (P4) holds it: rows of (Width+7)/8 bytes,
// most significant bit first, 1 for black (the layout of t4.Page).
type Bitmap struct {
	Width, Height int
	YRes          int // dots per inch down (98 or 196); 204 across
	Pix           []byte
}

// Bitmaps returns synthetic pages that exercise page coders: text-like
// strokes, noise, solid areas, edges, long runs, odd widths. "odd-width"
// is not a fax width: spandsp's coder is not given it.
func Bitmaps() map[string]Bitmap {
	pages := map[string]Bitmap{}
	add := func(name string, w, h, yres int, f func(x, y int) bool) {
		stride := (w + 7) / 8
		bm := Bitmap{Width: w, Height: h, YRes: yres, Pix: make([]byte, stride*h)}
		for y := range h {
			for x := range w {
				if f(x, y) {
					bm.Pix[y*stride+x/8] |= 0x80 >> (x % 8)
				}
			}
		}
		pages[name] = bm
	}
	rng := rand.New(rand.NewPCG(7, 8))
	noise := make([]bool, 1728*40)
	for i := range noise {
		noise[i] = rng.IntN(5) == 0
	}
	add("white", 1728, 20, 98, func(x, y int) bool { return false })
	add("black", 1728, 20, 98, func(x, y int) bool { return true })
	add("noise", 1728, 40, 196, func(x, y int) bool { return noise[y*1728+x] })
	add("text", 1728, 120, 196, func(x, y int) bool {
		// Letters: strokes on a grid, as a page of type looks.
		cx, cy := x%24, y%30
		return cy < 20 && (cx == 2 || cx == 3 || cy == 1 || (cx-cy/2) == 8 || (cx > 12 && cx < 16 && cy > 10))
	})
	add("edges", 1728, 8, 98, func(x, y int) bool { return x == 0 || x == 1727 || (y == 3 && x < 1700) })
	add("odd-width", 1001, 30, 196, func(x, y int) bool { return (x/7+y/3)%2 == 0 || x == 1000 })
	add("long-runs", 2432, 10, 98, func(x, y int) bool { return y%2 == 0 && x > 5 || y == 5 && x == 2431 })
	add("stripes", 1728, 30, 196, func(x, y int) bool { return (x+y)%2 == 0 })
	return pages
}

// PBM encodes bitmaps as concatenated P4 images.
func PBM(bms ...Bitmap) []byte {
	var b bytes.Buffer
	for _, bm := range bms {
		fmt.Fprintf(&b, "P4\n%d %d\n", bm.Width, bm.Height)
		b.Write(bm.Pix[:(bm.Width+7)/8*bm.Height])
	}
	return b.Bytes()
}

// ParsePBM decodes concatenated P4 images.
func ParsePBM(t testing.TB, data []byte) []Bitmap {
	t.Helper()
	var out []Bitmap
	for len(bytes.TrimSpace(data)) > 0 {
		var w, h int
		var magic string
		r := bytes.NewReader(data)
		if _, err := fmt.Fscan(r, &magic, &w, &h); err != nil || magic != "P4" {
			t.Fatalf("faxtest: bad PBM header: %v", err)
		}
		head := len(data) - r.Len() + 1 // one whitespace byte after the height
		n := (w + 7) / 8 * h
		if head+n > len(data) {
			t.Fatalf("faxtest: PBM of %dx%d is cut short", w, h)
		}
		out = append(out, Bitmap{Width: w, Height: h, Pix: data[head : head+n]})
		data = data[head+n:]
	}
	return out
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

// ModemRx is what the harness's modem receiver reported.
type ModemRx struct {
	Status []string // "carrier-up", "training-ok", ...
	Bits   []int
}

// ParseModemRx reads modem-rx's output.
func ParseModemRx(t testing.TB, out []byte) ModemRx {
	t.Helper()
	var m ModemRx
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch {
		case strings.HasPrefix(line, "S "):
			m.Status = append(m.Status, line[2:])
		case strings.HasPrefix(line, "B"):
			for _, c := range strings.TrimSpace(line[1:]) {
				m.Bits = append(m.Bits, int(c-'0'))
			}
		default:
			t.Fatalf("modem-rx line %q", line)
		}
	}
	return m
}

// BitString writes bits as '0'/'1' characters for the harness.
func BitString(bits []int) []byte {
	b := make([]byte, len(bits))
	for i, v := range bits {
		b[i] = byte('0' + v)
	}
	return b
}

// BitErrors counts the bits of want that got differs in (all of them if
// got is shorter); bits after want (closing sequences) are ignored.
func BitErrors(got, want []int) int {
	if len(got) < len(want) {
		return len(want)
	}
	n := 0
	for i := range want {
		if got[i] != want[i] {
			n++
		}
	}
	return n
}

// Shift moves every frequency in x by hz: the offset an FDM carrier system
// can add (the quadrature component comes from a windowed FIR Hilbert
// transformer).
func Shift(x []int16, hz float64) []int16 {
	const taps = 101
	h := make([]float64, taps)
	for i := range h {
		if k := i - taps/2; k%2 != 0 {
			w := 0.54 + 0.46*math.Cos(2*math.Pi*float64(k)/taps)
			h[i] = 2 / (math.Pi * float64(k)) * w
		}
	}
	out := make([]int16, len(x))
	for n := range x {
		var q float64
		for i, c := range h {
			if j := n - i + taps/2; j >= 0 && j < len(x) && c != 0 {
				q += c * float64(x[j])
			}
		}
		ph := 2 * math.Pi * hz * float64(n) / 8000
		out[n] = sat(math.Round(float64(x[n])*math.Cos(ph) - q*math.Sin(ph)))
	}
	return out
}

// Resample plays x back at a clock ppm parts per million fast (the two
// ends' sample clocks disagree), by windowed-sinc interpolation.
func Resample(x []int16, ppm float64) []int16 {
	const half = 16
	step := 1 + ppm*1e-6
	n := int(float64(len(x)) / step)
	out := make([]int16, n)
	for i := range out {
		t := float64(i) * step
		k0 := int(math.Floor(t))
		var v float64
		for k := k0 - half + 1; k <= k0+half; k++ {
			if k < 0 || k >= len(x) {
				continue
			}
			d := t - float64(k)
			w := 0.5 + 0.5*math.Cos(math.Pi*d/half)
			s := 1.0
			if d != 0 {
				s = math.Sin(math.Pi*d) / (math.Pi * d)
			}
			v += float64(x[k]) * s * w
		}
		out[i] = sat(math.Round(v))
	}
	return out
}
