package benchkit

import (
	"os"
	"testing"
)

// The process's figures are there and sane on Linux: some CPU time spent,
// a resident set no larger than its peak.
func TestProcessFigures(t *testing.T) {
	for i := 0; CPUTime() == 0 && i < 1e8; i++ {
	}
	if CPUTime() <= 0 {
		t.Fatal("no CPU time")
	}
	now, peak := RSS()
	if now <= 0 || peak < now {
		t.Fatalf("RSS now %d, peak %d", now, peak)
	}
	// The same figures read by process id, as sipbench -bin reads a child's.
	if now, peak := RSSOf(os.Getpid()); now <= 0 || peak < now {
		t.Fatalf("RSSOf(self) now %d, peak %d", now, peak)
	}
	if now, peak := RSSOf(-1); now != 0 || peak != 0 {
		t.Fatalf("RSSOf(-1) = %d, %d, want zeros", now, peak)
	}
}

// A free port can be bound at once.
func TestFreePort(t *testing.T) {
	if testing.Short() {
		t.Skip("opens sockets")
	}
	p, err := FreePort("127.0.0.1")
	if err != nil || p <= 0 {
		t.Fatalf("FreePort = %d, %v", p, err)
	}
}
