package app

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// clockWatch counts the frames the media clock skipped because it fell
// behind (the PCM highway's Seq jumped, or the switch's own ticker dropped
// ticks) and says so in the log at most once per clockLogEvery. A skipped
// frame is skipped for every channel alike: no call and no direction loses
// more than another. Its methods other than lost run on the clock's
// goroutine.
type clockWatch struct {
	log     *slog.Logger
	total   atomic.Uint64
	next    uint64 // the highway's Seq expected next
	started bool
	pending uint64 // frames skipped since the last log line
	logged  time.Time
}

// clockLogEvery is the least time between two "fell behind" log lines.
const clockLogEvery = time.Minute

// seq notes the highway's frame number seq, due at now.
func (w *clockWatch) seq(seq uint64, now time.Time) {
	if w.started && seq > w.next {
		w.skipped(seq-w.next, now)
	}
	w.started, w.next = true, seq+1
}

// skipped notes n frames skipped before the frame due at now.
func (w *clockWatch) skipped(n uint64, now time.Time) {
	if n == 0 {
		return
	}
	w.total.Add(n)
	w.pending += n
	if !w.logged.IsZero() && now.Sub(w.logged) < clockLogEvery {
		return
	}
	w.log.Warn("media clock fell behind: frames skipped for every call alike (the box is overloaded)",
		"frames", w.pending, "total", w.total.Load())
	w.logged, w.pending = now, 0
}

// lost returns how many frames have been skipped; any goroutine may call it.
func (w *clockWatch) lost() uint64 { return w.total.Load() }
