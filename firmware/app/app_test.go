package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"callbox/firmware/logbuf"
)

// syncBuffer is a bytes.Buffer safe for the app's writes and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newApp(t *testing.T, cfg Config) (*App, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	if cfg.Console == "" {
		cfg.Console = "none"
	}
	cfg.Out = out
	logs := logbuf.New(100)
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), logs)
	if err != nil {
		t.Fatal(err)
	}
	return a, out
}

// start runs the app until the test ends and returns once the web admin answers.
func start(t *testing.T, a *App) (stop func() (time.Duration, error)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for a.WebAddr() == "" {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("app stopped during boot: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("web admin did not start within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var once sync.Once
	var err error
	var took time.Duration
	stop = func() (time.Duration, error) {
		once.Do(func() {
			t0 := time.Now()
			cancel()
			err = <-done
			took = time.Since(t0)
		})
		return took, err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func TestBootServesAndStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	a, out := newApp(t, Config{Board: "sim"})
	stop := start(t, a)
	// The setup code is announced after every component is up.
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(out.String(), "setup code") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "setup code") {
		t.Fatalf("no setup code announced; output:\n%s", out)
	}
	resp, err := http.Get("http://" + a.WebAddr() + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health: %s", resp.Status)
	}
	info := systemInfo{a}.Info(context.Background())
	if info.Board.Name != "sim" || len(info.Board.Ports) != 6 || info.StoreBytes <= 0 {
		t.Fatalf("system info %+v", info)
	}
	took, err := stop()
	if err != nil {
		t.Fatalf("stop: %v", err)
	}
	if took > StopTimeout {
		t.Fatalf("stop took %v, want under %v", took, StopTimeout)
	}
}

func TestFailedComponentStopsBootAndNamesIt(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"port in use", Config{Board: "sim", HTTPAddr: busy.Addr().String()}, "app: start web:"},
		{"bad board file", Config{Board: "/nonexistent/board.json"}, "app: start board:"},
		{"bad console device", Config{Board: "sim", Console: "/nonexistent/ttyS9"}, "app: start console:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newApp(t, tt.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := a.Run(ctx)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestStoreIsReopenedAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	a, _ := newApp(t, Config{Board: "sim"})
	stop := start(t, a)
	first := a.WebAddr()
	if err := (consoleHost{a}).Restart(); err != nil {
		t.Fatal(err)
	}
	// The restart stops the web admin and starts it again on a new port.
	deadline := time.Now().Add(5 * time.Second)
	for (a.WebAddr() == first || a.WebAddr() == "") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if a.WebAddr() == first {
		t.Fatal("the box did not restart")
	}
	if lines := (consoleHost{a}).Status(); !strings.Contains(strings.Join(lines, "\n"), "store:") {
		t.Fatalf("status after restart: %q", lines)
	}
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
}

// The console keeps its terminal across a restart: a client on the stable
// link in the data directory types restart and goes on talking to the
// console that comes back, on the same pseudo-terminal; the link goes when
// the box stops.
func TestConsoleSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets and a pseudo-terminal")
	}
	a, out := newApp(t, Config{Board: "sim", Console: "pty"})
	stop := start(t, a)
	link := filepath.Join(a.cfg.DataDir, consoleLink)
	// start returns once the web admin answers; the console comes after it.
	var pts string
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if pts, err = os.Readlink(link); err == nil && strings.Contains(out.String(), "serial console on") {
			break
		}
	}
	if err != nil || !strings.HasPrefix(pts, "/dev/pts/") {
		t.Fatalf("console link -> %q, %v", pts, err)
	}
	if want := "serial console on " + link + " (" + pts + "): screen " + link; !strings.Contains(out.String(), want) {
		t.Fatalf("output lacks %q:\n%s", want, out)
	}
	client, err := os.OpenFile(link, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var seen bytes.Buffer
	// expect reads the terminal until want has come n times in all.
	expect := func(want string, n int) {
		t.Helper()
		buf := make([]byte, 512)
		client.SetReadDeadline(time.Now().Add(10 * time.Second))
		for strings.Count(seen.String(), want) < n {
			k, err := client.Read(buf)
			seen.Write(buf[:k])
			if err != nil {
				t.Fatalf("waiting for %q: %v; the terminal showed:\n%s", want, err, seen.String())
			}
		}
	}
	keys := func(s string) {
		t.Helper()
		if _, err := io.WriteString(client, s); err != nil {
			t.Fatal(err)
		}
	}
	const banner = "callbox maintenance console"
	keys("\r") // a console that started before we opened the terminal
	expect("callbox> ", 1)
	first := a.WebAddr()
	keys("restart\r")
	expect("restarting...", 1)
	expect(banner, 2) // the console after the restart, on this terminal
	keys("version\r")
	expect("callboxd", 1) // answered by the new console: the old one has stopped
	if a.WebAddr() == first {
		t.Error("the box did not restart")
	}
	if again, err := os.Readlink(link); err != nil || again != pts {
		t.Errorf("after the restart the link -> %q, %v; want %s", again, err, pts)
	}
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Errorf("link after stop: %v", err)
	}
}
