package fax

import (
	"context"
	"sync"
	"sync/atomic"

	"callbox/dsp/tone"
	"callbox/telephony/media"
)

// CNG cadence a Detector accepts: T.30's calling tone is 0.5 s of 1100 Hz
// every 3.5 s; two bursts that far apart (start to start) are a fax
// machine calling, where one could be a beep in the caller's room.
const (
	cngMinGap = 3000 * media.SampleRate / 1000
	cngMaxGap = 4500 * media.SampleRate / 1000
)

// Detector listens to what a leg's party sends for a fax machine calling
// (CNG), off the clock on a goroutine of its own fed by its tap, as a
// Terminal is. It is cheap enough to run on every inbound call while the
// caller is in the IVR, waits in a queue, talks with an agent or leaves a
// message.
type Detector struct {
	w     *tapWorker
	next  atomic.Pointer[media.Tap] // where each frame goes on to (Chain)
	mu    sync.Mutex                // Chain against Detach
	gone  bool                      // detached: Chain refuses
	fd    *tone.FaxDetector
	last  int64 // start of the last CNG burst, -1 before
	found atomic.Bool
	onCNG func()
}

// NewDetector returns a detector that calls onCNG (on its goroutine, once)
// when a fax machine's calling tone is heard.
func NewDetector(onCNG func()) *Detector {
	return &Detector{w: newTapWorker(rxRing), fd: tone.NewFaxDetector(tone.FaxConfig{}), last: -1, onCNG: onCNG}
}

// Tap is where the leg's audio reaches the detector (set it on the leg).
// A leg has one tap: what else listens to the leg (a recording, a
// voicemail message) is chained behind the detector (Chain).
func (d *Detector) Tap() *media.Tap { return d.w.tap }

// Start listens until ctx ends or Close.
func (d *Detector) Start(ctx context.Context) { d.w.start(ctx, d.frame) }

func (d *Detector) frame(f *media.TapFrame) {
	if n := d.next.Load(); n != nil {
		n.Forward(f)
	}
	if d.found.Load() {
		return
	}
	d.fd.Process(f.Rx[:])
	for {
		ev, ok := d.fd.Poll()
		if !ok {
			return
		}
		if ev.Kind != tone.FaxCNG {
			continue
		}
		if gap := ev.Start - d.last; d.last >= 0 && gap >= cngMinGap && gap <= cngMaxGap {
			d.found.Store(true)
			if d.onCNG != nil {
				d.onCNG()
			}
			return
		}
		d.last = ev.Start
	}
}

// Found reports whether a fax machine was heard.
func (d *Detector) Found() bool { return d.found.Load() }

// Idle reports whether the detector has heard every frame the clock gave it
// (for tests that step a virtual clock).
func (d *Detector) Idle() bool { return d.w.idle() }

// Chain passes every frame the detector hears on to t (nil: to nothing
// more), so that a recording hears the leg while the detector listens. It
// reports false once the detector is detached or closed: set t on the leg
// then.
func (d *Detector) Chain(t *media.Tap) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.gone {
		return false
	}
	d.next.Store(t)
	return true
}

// Detach stops the detector, waits for its goroutine and returns the tap
// chained behind it (nil: none), which its owner puts back on the leg.
func (d *Detector) Detach() *media.Tap {
	d.mu.Lock()
	d.gone = true
	d.mu.Unlock()
	d.w.stop()
	return d.next.Load()
}

// Close stops the detector and waits for its goroutine.
func (d *Detector) Close() error {
	d.Detach()
	return nil
}
