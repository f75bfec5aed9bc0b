package media

import "sync/atomic"

// TapFrame is one tick of a tapped channel: what its leg sent (Rx, after
// echo cancelling and DTMF muting) and what the leg was sent (Tx).
type TapFrame struct {
	Tick uint64
	Rx   [FrameSamples]int16
	Tx   [FrameSamples]int16
}

// Tap is a recording tap: a single-producer, single-consumer ring of frames
// that the clock fills and a recorder drains. A full ring drops the new
// frame and counts it; the clock never waits.
type Tap struct {
	ring    []TapFrame
	head    atomic.Uint64 // next frame to write (producer)
	tail    atomic.Uint64 // next frame to read (consumer)
	dropped atomic.Uint64
	notify  chan struct{}
}

// NewTap returns a tap holding up to frames frames (at least 2; 50 frames is
// half a second).
func NewTap(frames int) *Tap {
	frames = max(frames, 2)
	return &Tap{ring: make([]TapFrame, frames), notify: make(chan struct{}, 1)}
}

// put is called by the clock.
func (t *Tap) put(tick uint64, rx, tx []int16) {
	h, tl := t.head.Load(), t.tail.Load()
	if h-tl >= uint64(len(t.ring)) {
		t.dropped.Add(1)
		return
	}
	f := &t.ring[h%uint64(len(t.ring))]
	f.Tick = tick
	copy(f.Rx[:], rx)
	copy(f.Tx[:], tx)
	t.head.Store(h + 1)
	select {
	case t.notify <- struct{}{}:
	default:
	}
}

// Forward adds a frame read from another tap: a reader that listens to a
// leg on the way to another one (the fax detector in front of a
// recording) passes each frame on. The tap must be on no leg, the
// forwarding goroutine its only producer.
func (t *Tap) Forward(f *TapFrame) { t.put(f.Tick, f.Rx[:], f.Tx[:]) }

// Read copies the oldest frame into f and reports whether there was one.
// Only one goroutine may read.
func (t *Tap) Read(f *TapFrame) bool {
	tl, h := t.tail.Load(), t.head.Load()
	if tl == h {
		return false
	}
	*f = t.ring[tl%uint64(len(t.ring))]
	t.tail.Store(tl + 1)
	return true
}

// Ready is signalled after frames are added; a reader waits on it, then
// Reads until Read returns false.
func (t *Tap) Ready() <-chan struct{} { return t.notify }

// Len returns how many frames wait to be read.
func (t *Tap) Len() int { return int(t.head.Load() - t.tail.Load()) }

// Dropped returns how many frames found the ring full.
func (t *Tap) Dropped() uint64 { return t.dropped.Load() }
