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
	"io"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"callbox/dsp/fax/modem"
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

// Bits is a modem.BitSource over a slice.
type Bits struct {
	B []int
	i int
}

// NextBit returns the next bit of the slice.
func (s *Bits) NextBit() (int, bool) {
	if s.i == len(s.B) {
		return 0, false
	}
	s.i++
	return s.B[s.i-1], true
}

// RandomBits returns n random bits (deterministic for a seed).
func RandomBits(n int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]int, n)
	for i := range b {
		b[i] = int(rng.Uint32() & 1)
	}
	return b
}

// Endless is a random BitSource that never ends (for benchmarks): a
// xorshift generator handing out 64 bits per step, as cheap as the
// harness's (so the benchmarks time the modems, not the data).
type Endless struct {
	x    *uint64
	bits *uint64
	n    *int
}

// NewEndless returns an endless random source.
func NewEndless(seed uint64) Endless {
	x, b, n := seed|1, uint64(0), 0
	return Endless{&x, &b, &n}
}

// NextBits returns 32 random bits.
func (e Endless) NextBits() (uint32, int) {
	if *e.n < 32 {
		x := *e.x
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		*e.x, *e.bits, *e.n = x, x, 64
	}
	*e.n -= 32
	b := uint32(*e.bits)
	*e.bits >>= 32
	return b, 32
}

// NextBit returns a random bit.
func (e Endless) NextBit() (int, bool) {
	if *e.n == 0 {
		x := *e.x
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		*e.x, *e.bits, *e.n = x, x, 64
	}
	*e.n--
	b := int(*e.bits & 1)
	*e.bits >>= 1
	return b, true
}

// Collect is a modem.Sink that keeps everything.
type Collect struct {
	Bits     []int
	Statuses []modem.Status
}

// PutBit keeps the bit.
func (c *Collect) PutBit(b int) { c.Bits = append(c.Bits, b) }

// Status keeps the status.
func (c *Collect) Status(s modem.Status) { c.Statuses = append(c.Statuses, s) }

// Discard is a modem.Sink that drops everything (for benchmarks).
type Discard struct{ n int }

// PutBit counts the bit.
func (d *Discard) PutBit(b int) { d.n += b }

// Status ignores the status.
func (d *Discard) Status(modem.Status) {}

// Transmit drains a transmitter in 160-sample blocks.
func Transmit(tx modem.Transmitter) []int16 {
	var out []int16
	buf := make([]int16, 160)
	for {
		n := tx.Transmit(buf)
		out = append(out, buf[:n]...)
		if n < len(buf) {
			return out
		}
	}
}

// Receive feeds x to a receiver in blocks of block samples.
func Receive(rx modem.Receiver, x []int16, block int) {
	for i := 0; i < len(x); i += block {
		rx.Receive(x[i:min(i+block, len(x))])
	}
}

// BenchRx runs a receiver over rec again and again in 160-sample blocks,
// calling restart at the start of each pass (as a call does between
// trainings), and reports ns/sample and cpu-ns/sample.
func BenchRx(b *testing.B, rx modem.Receiver, restart func(), rec []int16) {
	b.ReportAllocs()
	clk := dsptest.StartCPU(b)
	off := 0
	for b.Loop() {
		if off == 0 && restart != nil {
			restart()
		}
		rx.Receive(rec[off : off+160])
		if off += 160; off+160 > len(rec) {
			off = 0
		}
	}
	clk.PerSample(b, 160)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*160), "ns/sample")
}

// BenchTx runs a transmitter (over an endless source) in 160-sample blocks
// and reports ns/sample and cpu-ns/sample.
func BenchTx(b *testing.B, tx modem.Transmitter) {
	buf := make([]int16, 160)
	b.ReportAllocs()
	clk := dsptest.StartCPU(b)
	for b.Loop() {
		tx.Transmit(buf)
	}
	clk.PerSample(b, 160)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*160), "ns/sample")
}

// Peer is the harness running a whole fax in lock step with a test: each
// Exchange sends it a block and returns the block it sent back.
type Peer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr bytes.Buffer
	buf    []byte
	done   bool
}

// StartPeer starts the harness with args ("fax-tx", ...).
func StartPeer(t testing.TB, bin string, args ...string) *Peer {
	t.Helper()
	p := &Peer{cmd: exec.Command(bin, args...)}
	p.cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if p.stdout, err = p.cmd.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("spandsp_fax %v: %v", args, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// Exchange sends out (160 samples) and returns the peer's next block, or
// false once the peer has finished.
func (p *Peer) Exchange(out []int16) ([]int16, bool) {
	if p.done {
		return nil, false
	}
	if _, err := p.stdin.Write(dsptest.Bytes(out)); err != nil {
		p.done = true
		return nil, false
	}
	if p.buf == nil {
		p.buf = make([]byte, 2*len(out))
	}
	if _, err := io.ReadFull(p.stdout, p.buf[:2*len(out)]); err != nil {
		p.done = true
		return nil, false
	}
	return dsptest.Int16s(p.buf[:2*len(out)]), true
}

// Close ends the peer and returns what it printed on standard error (its
// result line).
func (p *Peer) Close() string {
	if p.cmd.Process != nil && p.cmd.ProcessState == nil {
		p.stdin.Close()
		io.Copy(io.Discard, p.stdout)
		p.cmd.Wait()
	}
	return p.stderr.String()
}

// Modem is a QAM modem under test, for the checks V.29 and V.27ter share.
type Modem struct {
	Name    string // the harness's name: "v29", "v27ter"
	Rates   []int
	Carrier float64 // Hz
	NewTx   func(rate int, levelDBm0 float64, src modem.BitSource) (modem.Transmitter, error)
	NewRx   func(rate int, sink modem.Sink) (modem.Receiver, error)
	// Restart readies a receiver for a new training at rate.
	Restart func(rx modem.Receiver, rate int)
}

// Modulate sends bits at rate and level.
func (m Modem) Modulate(t testing.TB, rate int, level float64, bits []int) []int16 {
	t.Helper()
	tx, err := m.NewTx(rate, level, &Bits{B: bits})
	if err != nil {
		t.Fatal(err)
	}
	return Transmit(tx)
}

// Demodulate receives x at rate in blocks of block samples.
func (m Modem) Demodulate(t testing.TB, rate int, x []int16, block int) *Collect {
	t.Helper()
	c := &Collect{}
	rx, err := m.NewRx(rate, c)
	if err != nil {
		t.Fatal(err)
	}
	Receive(rx, x, block)
	return c
}

// CheckLoopback sends random bits at every rate from -10 to -40 dBm0 with
// 25 dB S/N (the noise before and after the signal too), linear and
// through A-law and mu-law, and fails on any bit error; the transmit level
// is checked too.
func CheckLoopback(t *testing.T, m Modem) {
	for _, rate := range m.Rates {
		bits := RandomBits(rate*2, uint64(rate))
		clean := m.Modulate(t, rate, -10, bits)
		if l := Level(clean[3000 : len(clean)-2000]); l < -10.8 || l > -9.2 {
			t.Errorf("%d: level %.2f dBm0, want -10", rate, l)
		}
		for _, level := range []float64{-10, -26, -40} {
			for _, law := range []Law{Linear, Alaw, Ulaw} {
				x := Gain(Pad(800, clean, 800), level+10)
				x = G711(WithSNR(x, Gain(clean, level+10), 25, uint64(rate)), law)
				c := m.Demodulate(t, rate, x, 160)
				if e := BitErrors(c.Bits, bits); e != 0 {
					t.Errorf("%d %gdBm0 %v: %d bit errors in %d (got %d bits), status %v", rate, level, law, e, len(bits), len(c.Bits), c.Statuses)
				}
			}
		}
	}
}

// CheckImpairments adds what a real call does: a carrier frequency offset,
// the two ends' clocks disagreeing, audio in odd-sized blocks.
func CheckImpairments(t *testing.T, m Modem) {
	for _, rate := range m.Rates {
		bits := RandomBits(rate*4, 11)
		clean := m.Modulate(t, rate, -13, bits)
		for _, c := range []struct {
			name string
			x    []int16
			blk  int
		}{
			{"+7Hz", Shift(clean, 7), 160},
			{"-7Hz", Shift(clean, -7), 160},
			{"+200ppm", Resample(clean, 200), 160},
			{"-200ppm", Resample(clean, -200), 160},
			{"blocks of 7", clean, 7},
			{"blocks of 1", clean, 1},
		} {
			got := m.Demodulate(t, rate, Pad(500, c.x, 500), c.blk)
			if e := BitErrors(got.Bits, bits); e != 0 {
				t.Errorf("%d %s: %d bit errors (%d bits, status %v)", rate, c.name, e, len(got.Bits), got.Statuses)
			}
		}
	}
}

// CheckTwoTransmissions sends two transmissions back to back into one
// receiver: each must train anew and deliver its bits.
func CheckTwoTransmissions(t *testing.T, m Modem) {
	rate := m.Rates[0]
	a, b := RandomBits(5000, 1), RandomBits(7000, 2)
	x := append(Pad(400, m.Modulate(t, rate, -15, a), 600), Pad(0, m.Modulate(t, rate, -15, b), 400)...)
	got := m.Demodulate(t, rate, x, 160)
	want := []modem.Status{modem.CarrierUp, modem.TrainingOK, modem.CarrierDown, modem.CarrierUp, modem.TrainingOK, modem.CarrierDown}
	if fmt.Sprint(got.Statuses) != fmt.Sprint(want) {
		t.Fatalf("status %v, want %v", got.Statuses, want)
	}
	if BitErrors(got.Bits, a) != 0 {
		t.Error("first transmission damaged")
	}
	// Between them: the first's closing ones and what the receiver made of
	// the signal's fading tail before the carrier dropped.
	for k := len(a); k <= len(a)+600 && k+len(b) <= len(got.Bits); k++ {
		if BitErrors(got.Bits[k:], b) == 0 {
			return
		}
	}
	t.Error("second transmission not received")
}

// CheckNotModem feeds signals that are not the modem's (noise, a tone at
// the carrier) to a receiver at every rate: no bits, and a TrainingFailed.
// Bad rates and levels are refused.
func CheckNotModem(t *testing.T, m Modem) {
	tone := make([]int16, 8000)
	for i := range tone {
		tone[i] = int16(5000 * math.Sin(2*math.Pi*m.Carrier*float64(i)/8000))
	}
	for _, rate := range m.Rates {
		for name, x := range map[string][]int16{
			"noise": AddNoise(make([]int16, 16000), -20, 3),
			"tone":  tone,
		} {
			got := m.Demodulate(t, rate, Pad(0, x, 400), 160)
			if len(got.Bits) != 0 {
				t.Errorf("%d %s: %d bits delivered", rate, name, len(got.Bits))
			}
			if len(got.Statuses) < 2 || got.Statuses[0] != modem.CarrierUp || got.Statuses[1] != modem.TrainingFailed {
				t.Errorf("%d %s: status %v", rate, name, got.Statuses)
			}
		}
	}
	if _, err := m.NewRx(1234, &Collect{}); err == nil {
		t.Error("NewRx took 1234 bit/s")
	}
	if _, err := m.NewTx(m.Rates[0], 5, &Bits{}); err == nil {
		t.Error("NewTx took +5 dBm0")
	}
}

// CheckLineHit replaces a stretch in the middle of a transmission (a
// quarter of a second, a second) with noise louder than the signal (a line
// hit): the bits under it are lost, but the receiver must find its way
// back and deliver the bits from half a second after the hit on without
// error, at every rate, through A-law, whatever the noise. (spandsp's own
// receivers often do not, at the higher rates, when this was written.)
func CheckLineHit(t *testing.T, m Modem) {
	for _, rate := range m.Rates {
		bits := RandomBits(rate*6, 3)
		clean := Pad(800, m.Modulate(t, rate, -13, bits), 800)
		for _, n := range []int{2000, 8000} {
			for seed := range uint64(6) {
				x := slices.Clone(clean)
				at := 800 + 2*8000
				copy(x[at:at+n], AddNoise(make([]int16, n), -12, seed))
				got := m.Demodulate(t, rate, G711(x, Alaw), 160)
				if len(got.Bits) < len(bits) {
					t.Errorf("%d, %d ms hit %d: %d bits of %d, status %v", rate, n/8, seed, len(got.Bits), len(bits), got.Statuses)
					continue
				}
				from := (at + n + 4000) * rate / 8000
				if e := BitErrors(got.Bits[from:], bits[from:]); e != 0 {
					t.Errorf("%d, %d ms hit %d: %d bit errors after it, status %v", rate, n/8, seed, e, got.Statuses)
				}
			}
		}
	}
}

// CheckNoAllocs runs each rate's transmitter and receiver in 160-sample
// blocks and fails if a block allocates.
func CheckNoAllocs(t *testing.T, m Modem) {
	for _, rate := range m.Rates {
		x := m.Modulate(t, rate, -13, RandomBits(rate*2, 5))
		rx, _ := m.NewRx(rate, &Discard{})
		tx, _ := m.NewTx(rate, -13, NewEndless(2))
		buf := make([]int16, 160)
		i := 0
		a := testing.AllocsPerRun(200, func() {
			rx.Receive(x[i : i+160])
			i = (i + 160) % (len(x) - 160)
			tx.Transmit(buf)
		})
		if a != 0 {
			t.Errorf("%d: %v allocations per block", rate, a)
		}
	}
}

// CheckAgainstSpandsp sends random bits at each rate both ways between the
// modem and spandsp's, at -10 to -40 dBm0 through A-law and mu-law, and
// fails on any bit error.
//
// spandsp to ours: 25 dB S/N, the noise on the line before and after the
// signal too. Ours to spandsp: 25 dB S/N as long as the noise stays at or
// below -50 dBm0, a higher S/N otherwise: spandsp's carrier detector starts
// on louder noise before a training and its training then fails, on its own
// transmitter as on ours (at -20 dBm0 with 25 dB S/N, in 4 runs of 12 for
// both, when this was written).
func CheckAgainstSpandsp(t *testing.T, m Modem) {
	bin := Harness(t)
	for _, rate := range m.Rates {
		bits := make([]int, rate*3)
		rng := rand.New(rand.NewPCG(uint64(rate), 7))
		for i := range bits {
			bits[i] = int(rng.Uint32() & 1)
		}
		ours := m.Modulate(t, rate, -10, bits)
		theirs := dsptest.Int16s(Run(t, bin, BitString(bits), "modem-tx", m.Name, fmt.Sprint(rate), "-10"))
		for _, level := range []float64{-10, -20, -30, -40} {
			for _, law := range []Law{Alaw, Ulaw} {
				line := func(x []int16, snr float64, seed uint64) []int16 {
					y := Gain(x, level+10)
					return G711(AddNoise(Pad(800, y, 800), level-snr, seed), law)
				}
				got := m.Demodulate(t, rate, line(theirs, 25, 2), 160).Bits
				if e := BitErrors(got, bits); e != 0 {
					t.Errorf("%s %d: spandsp to ours at %g dBm0, S/N 25 dB, %v: %d bit errors (%d bits)", m.Name, rate, level, law, e, len(got))
				}
				snr := max(25, level+50)
				rx := ParseModemRx(t, Run(t, bin, dsptest.Bytes(line(ours, snr, 1)), "modem-rx", m.Name, fmt.Sprint(rate)))
				if e := BitErrors(rx.Bits, bits); e != 0 {
					t.Errorf("%s %d: ours to spandsp at %g dBm0, S/N %g dB, %v: %d bit errors (%d bits, status %v)", m.Name, rate, level, snr, law, e, len(rx.Bits), rx.Status)
				}
			}
		}
	}
}

// BenchModem times each rate's receiver and transmitter, and spandsp's, in
// 160-sample blocks: the receiver over six seconds of signal again and
// again, training each time, as a call does. Run them together (same
// machine, same load):
//
//	go test -run X -bench . ./dsp/fax/modem/...
func BenchModem(b *testing.B, m Modem) {
	for _, rate := range m.Rates {
		b.Run(fmt.Sprintf("Rx/%d", rate), func(b *testing.B) {
			tx, _ := m.NewTx(rate, -13, NewEndless(1))
			rec := make([]int16, 6*8000)
			tx.Transmit(rec)
			rx, _ := m.NewRx(rate, &Discard{})
			BenchRx(b, rx, func() { m.Restart(rx, rate) }, rec)
		})
		b.Run(fmt.Sprintf("Tx/%d", rate), func(b *testing.B) {
			tx, _ := m.NewTx(rate, -13, NewEndless(1))
			BenchTx(b, tx)
		})
		b.Run(fmt.Sprintf("SpandspRx/%d", rate), func(b *testing.B) { BenchSpandsp(b, fmt.Sprintf("%s-rx-%d", m.Name, rate), 30000) })
		b.Run(fmt.Sprintf("SpandspTx/%d", rate), func(b *testing.B) { BenchSpandsp(b, fmt.Sprintf("%s-tx-%d", m.Name, rate), 30000) })
	}
}
