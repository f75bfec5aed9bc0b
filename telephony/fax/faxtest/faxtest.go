// Package faxtest is a real fax machine for the box's call tests: spandsp's
// fax terminal (testdata/faxpeer.c, built by the tests against Debian's
// libspandsp) run in lockstep with the test's clock over a call's audio
// (Peer). It also makes test documents and reads what the machine
// received.
//
// Tests that use it start child processes: they skip under `go test
// -short` and fail, naming the Debian packages, when the compiler or
// libspandsp-dev is missing.
package faxtest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"callbox/dsp/fax/t4"
	"callbox/dsp/fax/tiff"
)

// Block is the lockstep block: one 10 ms frame.
const Block = 80

// Build compiles the fax machine into the test's temporary directory and
// returns its path.
func Build(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs a spandsp fax machine")
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Fatal("faxtest: no C compiler: install the Debian packages gcc and libspandsp-dev")
	}
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "testdata", "faxpeer.c")
	bin := filepath.Join(t.TempDir(), "faxpeer")
	out, err := exec.Command(cc, "-O2", "-Wall", "-o", bin, src, "-lspandsp", "-ltiff", "-lm").CombinedOutput()
	if err != nil {
		t.Fatalf("faxtest: building %s against libspandsp (apt-get install libspandsp-dev gcc): %v\n%s", src, err, out)
	}
	return bin
}

// Role says what the machine does.
type Role struct {
	// Calling: the calling terminal (sends CNG); else the answering one.
	Calling bool
	// Send: it sends File; else it receives into File.
	Send bool
	File string
	// ECM offers error correction; V27 offers V.27ter only.
	ECM, V27 bool
}

func (r Role) args() []string {
	a := []string{"answer", "receive", r.File}
	if r.Calling {
		a[0] = "call"
	}
	if r.Send {
		a[1] = "send"
	}
	if r.ECM {
		a = append(a, "ecm")
	}
	if r.V27 {
		a = append(a, "v27ter")
	}
	return a
}

// Peer is the fax machine in lockstep: each Exchange gives it a block
// heard and takes the block it sends.
type Peer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr bytes.Buffer
	in     []byte
	out    []byte
	block  []int16
	done   bool
}

// Start starts the machine built by Build in role r.
func Start(t testing.TB, bin string, r Role) *Peer {
	t.Helper()
	p := &Peer{cmd: exec.Command(bin, r.args()...), in: make([]byte, 2*Block), out: make([]byte, 2*Block),
		block: make([]int16, Block)}
	p.cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if p.stdout, err = p.cmd.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("faxpeer %v: %v", r.args(), err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// Exchange gives the machine a block it hears (Block samples) and returns
// the block it sends, or false once it has finished. The slice returned is
// reused by the next call.
func (p *Peer) Exchange(heard []int16) ([]int16, bool) {
	if p.done {
		return nil, false
	}
	for i, v := range heard[:Block] {
		p.out[2*i], p.out[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	if _, err := p.stdin.Write(p.out); err != nil {
		p.done = true
		return nil, false
	}
	if _, err := io.ReadFull(p.stdout, p.in); err != nil {
		p.done = true
		return nil, false
	}
	for i := range p.block {
		p.block[i] = int16(uint16(p.in[2*i]) | uint16(p.in[2*i+1])<<8)
	}
	return p.block, true
}

// Done reports whether the machine has finished.
func (p *Peer) Done() bool { return p.done }

// Close stops the machine (if it still runs) and returns its result.
func (p *Peer) Close() Result {
	if p.cmd.Process != nil && p.cmd.ProcessState == nil {
		p.stdin.Close()
		io.Copy(io.Discard, p.stdout)
		p.cmd.Wait()
	}
	return parseResult(p.stderr.String())
}

// Result is the machine's result line.
type Result struct {
	// Code is spandsp's completion code: 0 is success, -1 unfinished.
	Code             int
	Text             string
	PagesTx, PagesRx int
	Rate             int
	// Ident is the other terminal's identity as the machine received it.
	Ident string
	Raw   string
}

// OK reports whether the machine's session succeeded.
func (r Result) OK() bool { return r.Code == 0 }

func (r Result) String() string { return strings.TrimSpace(r.Raw) }

func parseResult(s string) Result {
	r := Result{Code: -1, Raw: s}
	for line := range strings.SplitSeq(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "result" {
			continue
		}
		fmt.Sscan(f[1], &r.Code)
		i := 2
		var text []string
		for ; i < len(f) && f[i] != "pages-tx"; i++ {
			text = append(text, f[i])
		}
		r.Text = strings.Join(text, " ")
		for ; i+1 < len(f); i += 2 {
			switch f[i] {
			case "pages-tx":
				fmt.Sscan(f[i+1], &r.PagesTx)
			case "pages-rx":
				fmt.Sscan(f[i+1], &r.PagesRx)
			case "rate":
				fmt.Sscan(f[i+1], &r.Rate)
			case "ident":
				if f[i+1] != "-" {
					r.Ident = strings.TrimSpace(strings.ReplaceAll(f[i+1], "_", " "))
				}
			}
		}
	}
	return r
}

// Document returns a test document of n fine pages of A4 width, each a
// different pattern of text-like strokes and its page number in bars, so
// that pages sent out of order or twice do not pass as the right ones.
func Document(n int) []*t4.Page {
	var pages []*t4.Page
	for k := range n {
		p, _ := t4.NewPage(t4.WidthA4, 240, t4.XRes, t4.YResFine)
		for y := range p.Height {
			for x := range p.Width {
				cx, cy := (x+7*k)%24, (y+5*k)%30
				letter := cy < 20 && (cx == 2 || cx == 3 || cy == 1 || (cx-cy/2) == 8 || (cx > 12 && cx < 16 && cy > 10))
				bar := y < 40 && x/60 <= k && x%60 < 40
				if letter && y >= 60 || bar {
					p.Set(x, y, true)
				}
			}
		}
		pages = append(pages, p)
	}
	return pages
}

// WriteDocument writes pages as a TIFF Class F file (MMR) in dir for the
// machine to send, and returns its path.
func WriteDocument(t testing.TB, dir string, pages []*t4.Page) string {
	t.Helper()
	b, err := tiff.Encode(pages, tiff.WriteOptions{Coding: t4.MMR})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "send.tif")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ReadPages reads the pages of a TIFF file the machine received.
func ReadPages(t testing.TB, path string) []*t4.Page {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("faxtest: the machine kept no file: %v", err)
	}
	imgs, err := tiff.Decode(b)
	if err != nil {
		t.Fatalf("faxtest: %s: %v", path, err)
	}
	var pages []*t4.Page
	for i, img := range imgs {
		p, ok := img.(*t4.Page)
		if !ok {
			t.Fatalf("faxtest: page %d of %s is not bilevel", i+1, path)
		}
		pages = append(pages, p)
	}
	return pages
}

// SamePages fails the test unless got holds the pages of want, pixel for
// pixel.
func SamePages(t testing.TB, got, want []*t4.Page) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d pages received, %d sent", len(got), len(want))
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("page %d differs from the page sent: %dx%d at %d dpi vs %dx%d at %d, first different row %d",
				i+1, got[i].Width, got[i].Height, got[i].YRes, want[i].Width, want[i].Height, want[i].YRes,
				got[i].FirstDifference(want[i]))
		}
	}
}
