package pcm

import (
	"context"
	"sync"
	"sync/atomic"
)

// runner is the lifecycle both highways share: one Run at a time, a Close
// that stops it and waits for it to return.
type runner struct {
	closed atomic.Bool

	mu      sync.Mutex
	running bool
	stop    context.CancelFunc
	done    chan struct{}
}

// begin starts a Run: it returns the run's context (cancelled by ctx or
// Close) and the function Run must defer.
func (r *runner) begin(ctx context.Context) (context.Context, func(), error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return nil, nil, ErrClosed
	}
	if r.running {
		return nil, nil, ErrRunning
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	r.running, r.stop, r.done = true, cancel, done
	end := func() {
		cancel()
		r.mu.Lock()
		r.running, r.stop = false, nil
		r.mu.Unlock()
		close(done)
	}
	return ctx, end, nil
}

// close marks the highway closed, stops a running Run and waits for it.
func (r *runner) close() {
	r.mu.Lock()
	r.closed.Store(true)
	stop, done := r.stop, r.done
	running := r.running
	r.mu.Unlock()
	if running {
		stop()
		<-done
	}
}
