package fax

import (
	"context"
	"sync"
	"sync/atomic"

	"callbox/telephony/media"
)

// tapWorker is a goroutine that takes a tap's frames as the clock adds
// them and hands each to a function, off the clock. Its owner starts it
// with a context and stops it with stop, which waits.
type tapWorker struct {
	tap *media.Tap
	// inflight is set while a frame taken from the tap is being handled,
	// so that idle never misses one between the ring and the handler.
	inflight atomic.Int32
	cancel   context.CancelFunc
	started  bool // start was called
	wg       sync.WaitGroup
	frame    media.TapFrame
}

func newTapWorker(frames int) *tapWorker { return &tapWorker{tap: media.NewTap(frames)} }

// start runs handle for every frame until ctx ends or stop.
func (w *tapWorker) start(ctx context.Context, handle func(f *media.TapFrame)) {
	ctx, w.cancel = context.WithCancel(ctx)
	w.started = true
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-w.tap.Ready():
			}
			for {
				w.inflight.Add(1)
				if !w.tap.Read(&w.frame) {
					w.inflight.Add(-1)
					break
				}
				handle(&w.frame)
				w.inflight.Add(-1)
			}
		}
	}()
}

// stop ends the goroutine and waits for it.
func (w *tapWorker) stop() {
	if w.cancel != nil {
		w.cancel()
	}
	w.wg.Wait()
}

// idle reports whether every frame the clock put in the tap has been
// handled (for tests that step a virtual clock: they step the next frame
// only then). The ring is read before the in-flight count: a frame taken
// after the first read is counted by the second.
func (w *tapWorker) idle() bool {
	return w.tap.Len() == 0 && w.inflight.Load() == 0
}
