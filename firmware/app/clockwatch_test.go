package app

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// Frames the clock skips are counted, and said in the log once, then at
// most once a minute with what was skipped meanwhile.
func TestClockWatch(t *testing.T) {
	var buf bytes.Buffer
	w := &clockWatch{log: slog.New(slog.NewTextHandler(&buf, nil))}
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	frame := 10 * time.Millisecond
	at := func(seq uint64) time.Time { return t0.Add(time.Duration(seq) * frame) }
	for _, seq := range []uint64{5, 6, 7} { // the first frame may be any
		w.seq(seq, at(seq))
	}
	if w.lost() != 0 || buf.Len() != 0 {
		t.Fatalf("on time: lost %d, log %q", w.lost(), buf.String())
	}
	w.seq(10, at(10)) // 8 and 9 skipped
	w.seq(11, at(11))
	w.seq(15, at(15)) // 12 to 14
	if w.lost() != 5 {
		t.Fatalf("lost %d frames, want 5", w.lost())
	}
	if n := strings.Count(buf.String(), "fell behind"); n != 1 || !strings.Contains(buf.String(), "frames=2") {
		t.Fatalf("log within a minute: %q", buf.String())
	}
	late := uint64(15 + 6100)
	w.seq(late, at(late)) // a minute on, 6099 skipped
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "frames=6102") || !strings.Contains(lines[1], "total=6104") {
		t.Fatalf("log a minute on: %q", lines)
	}
	w.skipped(3, at(late+1)) // the ticker's count
	if w.lost() != 6107 {
		t.Fatalf("lost %d", w.lost())
	}
}
