package recording

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/telephony/internal/memkv"
	"callbox/telephony/media"
)

// memStore is a Store in memory.
type memStore = memkv.Store

func newMemStore() *memStore { return memkv.New() }

// sine is an endpoint that says a tone and ignores what it hears.
type sine struct {
	hz    float64
	phase float64
}

func (s *sine) ReadFrame(f []int16) {
	for i := range f {
		f[i] = int16(8000 * math.Sin(s.phase))
		s.phase += 2 * math.Pi * s.hz / media.SampleRate
	}
}
func (s *sine) WriteFrame([]int16) {}

// call is a bridged two-party call in a media engine ticked by hand: the
// customer says custHz, the agent agentHz.
type call struct {
	e              *media.Engine
	customer, agnt *media.Channel
}

func newCall(t testing.TB, custHz, agentHz float64) *call {
	t.Helper()
	e := media.NewEngine(media.Config{Workers: 1})
	t.Cleanup(func() { e.Close() })
	c, err := e.NewChannel("customer", &sine{hz: custHz}, media.ChannelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.NewChannel("agent", &sine{hz: agentHz}, media.ChannelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Bridge(c, a); err != nil {
		t.Fatal(err)
	}
	return &call{e: e, customer: c, agnt: a}
}

// run ticks the engine n times, pausing now and then so the writer keeps
// up as it would in real time.
func (c *call) run(n int) {
	for i := range n {
		c.e.Tick()
		if i%20 == 19 {
			time.Sleep(time.Millisecond)
		}
	}
}

// record records n ticks of the call through r and stops.
func (c *call) record(t testing.TB, r *Recorder, m Meta, n int) Record {
	t.Helper()
	s, err := r.Begin(m)
	if err != nil {
		t.Fatal(err)
	}
	c.e.SetTap(c.customer, s.Tap())
	c.run(n)
	c.e.SetTap(c.customer, nil)
	rec, err := s.Stop()
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// goertzel returns the share of x's energy at f (0..1).
func goertzel(x []int16, f float64) float64 {
	w := 2 * math.Cos(2*math.Pi*f/media.SampleRate)
	var s1, s2, e float64
	for _, v := range x {
		s0 := float64(v) + w*s1 - s2
		s2, s1 = s1, s0
		e += float64(v) * float64(v)
	}
	if e == 0 {
		return 0
	}
	p := s1*s1 + s2*s2 - w*s1*s2
	return 2 * p / (float64(len(x)) * e)
}

// clock is a settable wall clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuf collects a logger's lines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) lines(substr string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, ln := range strings.Split(l.b.String(), "\n") {
		if strings.Contains(ln, substr) {
			out = append(out, ln)
		}
	}
	return out
}

func (l *logBuf) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// newRecorder starts a recorder on dir (a new temporary one if empty).
func newRecorder(t testing.TB, cfg Config) *Recorder {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir() + "/recordings"
	}
	if cfg.Store == nil {
		cfg.Store = newMemStore()
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// soxChannel decodes one channel (1 or 2) of a WAV file with sox.
func soxChannel(t testing.TB, path string, ch int) []int16 {
	t.Helper()
	if testing.Short() {
		t.Skip("recording: sox is a child process; not run in -short mode")
	}
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Fatalf("sox not found (apt-get install sox): %v", err)
	}
	cmd := exec.Command(sox, "-V1", path, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-", "remix", string(rune('0'+ch)))
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sox %s: %v: %s", path, err, stderr.String())
	}
	b := out.Bytes()
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
	}
	return s
}

// readAll reads a file or fails.
func readAll(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
