package console

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a log sink shared with the console's goroutine.
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

// readUntil reads f until want appeared, within a few seconds.
func readUntil(t *testing.T, f *os.File, want string) string {
	t.Helper()
	var got []byte
	buf := make([]byte, 256)
	f.SetReadDeadline(time.Now().Add(5 * time.Second))
	for !bytes.Contains(got, []byte(want)) {
		n, err := f.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("reading for %q: %v; got %q", want, err, got)
		}
	}
	return string(got)
}

// runConsole starts Run and returns a function that cancels it and checks
// it returned nil promptly.
func runConsole(t *testing.T, c *Console) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	return func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	}
}

func TestPTY(t *testing.T) {
	if testing.Short() {
		t.Skip("opens a pseudo-terminal")
	}
	var logs syncBuffer
	c, err := New(Config{Device: "pty"}, &fakeHost{}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Path(), "/dev/pts/") {
		t.Fatalf("Path() = %q", c.Path())
	}
	if want := "console on " + c.Path(); !strings.Contains(logs.String(), want) {
		t.Errorf("log %q lacks %q", logs.String(), want)
	}
	stop := runConsole(t, c)

	// A peer connects, works, leaves; the next one is served too.
	for i, cmd := range []struct{ keys, want string }{
		{"version\r", "callboxd 1.2.3"},
		{"status\r", "board: sim (4 FXS, 2 FXO)\r\n"},
		{"\x1b[Alogs 2\r\n", "log line 1\r\n"},
	} {
		peer, err := os.OpenFile(c.Path(), os.O_RDWR|syscall.O_NOCTTY, 0)
		if err != nil {
			t.Fatalf("peer %d: %v", i, err)
		}
		if _, err := io.WriteString(peer, cmd.keys); err != nil {
			t.Fatal(err)
		}
		// Were the slave not raw, the kernel would echo the shell's own
		// output back to it as input, and it would answer nonsense.
		if got := readUntil(t, peer, cmd.want); strings.Contains(got, "unknown command") {
			t.Errorf("peer %d saw %q", i, got)
		}
		peer.Close()
	}
	stop()
	if _, err := os.Stat(c.Path()); err == nil {
		t.Errorf("%s still exists after Run returned", c.Path())
	}
}

func TestUART(t *testing.T) {
	if testing.Short() {
		t.Skip("opens a pseudo-terminal")
	}
	// The slave side of a pseudo-terminal stands in for the UART: tarm/serial
	// configures it as it would /dev/ttyS0; the test types on the master.
	line, err := openPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer line.Close()
	c, err := New(Config{Device: line.name, Baud: 9600}, &fakeHost{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path() != line.name {
		t.Errorf("Path() = %q, want %q", c.Path(), line.name)
	}
	stop := runConsole(t, c)
	if _, err := io.WriteString(line.master, "version\r"); err != nil {
		t.Fatal(err)
	}
	readUntil(t, line.master, "callboxd 1.2.3 (commit abc)\r\n"+Prompt)
	start := time.Now()
	stop()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Run took %v to stop", d)
	}
}

// A device opened apart outlives the consoles served on it: a peer that
// came in through the stable link keeps its terminal while one console
// stops (as on the daemon's restart) and the next one starts, and is not
// told it idled out. Closing the device removes the link.
func TestDeviceOutlivesConsole(t *testing.T) {
	if testing.Short() {
		t.Skip("opens a pseudo-terminal")
	}
	dev, err := OpenDevice("pty", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	link := t.TempDir() + "/console"
	if err := os.WriteFile(link, []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a second Link replaces the first
		if err := dev.Link(link); err != nil {
			t.Fatal(err)
		}
	}
	if target, err := os.Readlink(link); err != nil || target != dev.Path() {
		t.Fatalf("link -> %q, %v; want %s", target, err, dev.Path())
	}
	peer, err := os.OpenFile(link, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	cfg := Config{RequirePassword: true, CheckPassword: func(pw string) bool { return pw == "pw" }}
	for i, want := range []string{"callboxd 1.2.3 (commit abc)\r\n" + Prompt, "board: sim (4 FXS, 2 FXO)\r\n" + Prompt} {
		c, err := NewOn(dev, cfg, &fakeHost{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		stop := runConsole(t, c)
		readUntil(t, peer, "Password: ")
		cmd := []string{"version", "status"}[i]
		if _, err := io.WriteString(peer, "pw\r"+cmd+"\r"); err != nil {
			t.Fatal(err)
		}
		readUntil(t, peer, want)
		stop()
		if _, err := os.Stat(dev.Path()); err != nil {
			t.Fatalf("console %d: the pseudo-terminal went with the console: %v", i, err)
		}
	}
	// Nothing more came after the last prompt: no idle-logout notice.
	peer.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _ := peer.Read(make([]byte, 64)); n != 0 {
		t.Error("the stopped console wrote to the terminal")
	}
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Errorf("link after Close: %v", err)
	}
}
