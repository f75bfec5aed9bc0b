package pcm

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"callbox/board/internal/vclock"
)

// Sim is the in-memory highway of the simulated board. Emulated chips are
// connected to timeslots with Connect (the line side); the media engine
// attaches Ports (the box side). Each tick calls every connected chip's
// PCMRead, passes the audio through the port's wire codec (so G.711
// quantisation is what it would be on the board), runs the Handler, and
// gives each chip what its port sent with PCMWrite.
//
// Run paces ticks with the clock: vclock.Real for real time (make run),
// a vclock.Virtual in tests, where Sleep advances time at once so Run goes
// as fast as the CPU allows with virtual time moving 10 ms per tick (and
// everything else on that clock sees it move so). Tests that want to
// interleave frames with other steps call Step instead, which processes one
// tick without touching the clock.
type Sim struct {
	bus
	clock vclock.Clock
	// Tolerance is how late a tick may start before it counts as an
	// overrun. Backlog is how many frames Run may fall behind before it
	// drops frames to catch up (like a device ring buffer of that many
	// periods). Set them before Run.
	Tolerance time.Duration
	Backlog   int

	lineMu sync.Mutex
	lines  atomic.Pointer[[]Endpoint] // per timeslot, copied on write

	seq uint64
	run runner

	// idleFn, set with SetIdle, says whether the box has nothing to time;
	// batch is how many frames Run then processes per wake. wake ends an
	// idle sleep early.
	idleFn atomic.Pointer[func() bool]
	batch  atomic.Int64
	wake   chan struct{}

	scratch [FrameSize]int16
	idle    [FrameSize]int16
}

var _ Highway = (*Sim)(nil)

// NewSim returns an in-memory highway of the given number of 8-bit
// timeslots, paced by clock (vclock.Real{} in production).
func NewSim(slots int, clock vclock.Clock) (*Sim, error) {
	if slots <= 0 || slots > 1024 {
		return nil, fmt.Errorf("pcm: sim: %d timeslots, want 1..1024", slots)
	}
	if clock == nil {
		return nil, fmt.Errorf("pcm: sim: no clock")
	}
	s := &Sim{clock: clock, Tolerance: FramePeriod / 2, Backlog: 4, wake: make(chan struct{}, 1)}
	s.bus.init(slots)
	lines := make([]Endpoint, slots)
	s.lines.Store(&lines)
	return s, nil
}

// Connect plugs an emulated chip's line side into a timeslot: the slot a
// Port is attached at. A chip whose slot has no port hears silence and
// what it sends is lost, as on a real highway.
func (s *Sim) Connect(slot int, e Endpoint) error {
	if slot < 0 || slot >= s.slots {
		return fmt.Errorf("pcm: sim: connect slot %d: out of 0..%d", slot, s.slots-1)
	}
	if e == nil {
		return fmt.Errorf("pcm: sim: connect slot %d: nil endpoint", slot)
	}
	s.lineMu.Lock()
	defer s.lineMu.Unlock()
	old := *s.lines.Load()
	if old[slot] != nil {
		return fmt.Errorf("pcm: sim: connect slot %d: a chip is already connected", slot)
	}
	next := append([]Endpoint(nil), old...)
	next[slot] = e
	s.lines.Store(&next)
	return nil
}

// Disconnect unplugs the chip at slot, if any.
func (s *Sim) Disconnect(slot int) {
	if slot < 0 || slot >= s.slots {
		return
	}
	s.lineMu.Lock()
	defer s.lineMu.Unlock()
	next := append([]Endpoint(nil), *s.lines.Load()...)
	next[slot] = nil
	s.lines.Store(&next)
}

// Step processes one tick now, stamped with the clock's time and no
// lateness. It fails with ErrRunning while Run is running.
func (s *Sim) Step() error {
	s.run.mu.Lock()
	defer s.run.mu.Unlock()
	switch {
	case s.run.closed.Load():
		return ErrClosed
	case s.run.running:
		return ErrRunning
	}
	s.tick(s.seq, s.clock.Now(), 0)
	return nil
}

// tick processes frame seq; the next frame is seq+1. Step and Run never
// overlap (the runner's lock and running flag see to it), so only one
// goroutine is ever here.
func (s *Sim) tick(seq uint64, at time.Time, late time.Duration) {
	lines := *s.lines.Load()
	ports := *s.ports.Load()
	// Line to box. Every chip is read, attached or not, so emulated sources
	// (a phone's DTMF generator) keep their place in time.
	for slot, e := range lines {
		if e == nil {
			continue
		}
		e.PCMRead(s.scratch[:])
		if p := s.portAt(ports, slot); p != nil {
			p.codec.roundTrip(p.rx[:], s.scratch[:])
		}
	}
	for _, p := range ports {
		if lines[p.slot] == nil {
			p.fillRx(p.codec.silence())
		}
	}
	s.dispatch(ports, Tick{Seq: seq, Time: at, Late: late})
	s.seq = seq + 1
	// Box to line.
	for slot, e := range lines {
		if e == nil {
			continue
		}
		if p := s.portAt(ports, slot); p != nil {
			p.codec.roundTrip(s.scratch[:], p.tx[:])
			e.PCMWrite(s.scratch[:])
		} else {
			e.PCMWrite(s.idle[:])
		}
	}
}

// portAt finds the attached port whose first timeslot is slot. Ports are
// few (at most slots), a linear scan beats a map and allocates nothing.
func (s *Sim) portAt(ports []*Port, slot int) *Port {
	for _, p := range ports {
		if p.slot == slot {
			return p
		}
	}
	return nil
}

// SetIdle lets Run sleep through idle stretches: while idle reports true
// (asked before each sleep, on Run's goroutine), Run wakes once per batch
// frames and processes them back to back, instead of once per frame. No
// frame is skipped and each keeps its place on the grid (its Tick.Time);
// only its wall time moves, by at most batch-1 frames, which nobody hears
// while nothing is going on. Wake ends such a sleep at once, so the frame
// due now runs on time when something starts. A batch below 2 or a nil
// idle turns it off.
func (s *Sim) SetIdle(idle func() bool, batch int) {
	if idle == nil || batch < 2 {
		s.idleFn.Store(nil)
		return
	}
	s.batch.Store(int64(batch))
	s.idleFn.Store(&idle)
}

// Wake ends an idle sleep of Run now (see SetIdle); it never blocks and
// does nothing when Run is not asleep in a batch.
func (s *Sim) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// idleBatch returns the frames of the next batch: 1 unless SetIdle's
// function says the box is idle.
func (s *Sim) idleBatch() int64 {
	if f := s.idleFn.Load(); f != nil && (*f)() {
		return s.batch.Load()
	}
	return 1
}

// sleepIdle sleeps d or until Wake or ctx; the real clock only (a virtual
// clock's Sleep takes no wall time, so there is nothing to cut short).
func (s *Sim) sleepIdle(ctx context.Context, t *time.Timer, d time.Duration) {
	if _, real := s.clock.(vclock.Real); !real {
		s.clock.Sleep(d)
		return
	}
	t.Reset(d)
	select {
	case <-t.C:
	case <-s.wake:
		t.Stop()
	case <-ctx.Done():
		t.Stop()
	}
}

// Run paces ticks with the clock until ctx is done or Close is called:
// tick n is due at start + n*FramePeriod. A tick starting more than
// Tolerance after it was due counts as an overrun; when Run falls more than
// Backlog frames behind, it skips to the present and counts the skipped
// frames as dropped. While the box is idle (SetIdle), frames run in
// batches, which count as neither.
func (s *Sim) Run(ctx context.Context) error {
	ctx, end, err := s.run.begin(ctx)
	if err != nil {
		return err
	}
	defer end()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	start := s.clock.Now()
	base := s.seq
	var n int64        // frames since start
	var batchEnd int64 // frames before it are an idle batch's, late by design
	for ctx.Err() == nil {
		due := start.Add(time.Duration(n) * FramePeriod)
		now := s.clock.Now()
		if n >= batchEnd {
			if k := s.idleBatch(); k > 1 {
				if d := due.Add(time.Duration(k-1) * FramePeriod).Sub(now); d > 0 {
					s.sleepIdle(ctx, timer, d)
					if ctx.Err() != nil {
						break
					}
					now = s.clock.Now()
				}
				// The frames due by now, at most the batch (woken early:
				// fewer; overslept: the rest is late as usual).
				batchEnd = n + min(k, max(int64(now.Sub(due)/FramePeriod)+1, 0))
			} else if d := due.Sub(now); d > 0 {
				s.clock.Sleep(d)
				if ctx.Err() != nil {
					break
				}
				now = s.clock.Now()
			}
		}
		late := now.Sub(due)
		if n >= batchEnd {
			if behind := int64(late / FramePeriod); behind > int64(s.Backlog) {
				skip := behind - int64(s.Backlog)
				s.dropped.Add(uint64(skip))
				n += skip
				due = start.Add(time.Duration(n) * FramePeriod)
				late = now.Sub(due)
			}
			if late > s.Tolerance {
				s.overruns.Add(1)
			}
			s.noteLate(late)
		} else {
			s.batched.Add(1)
		}
		s.tick(base+uint64(n), due, late)
		n++
	}
	return nil
}

// Close stops Run, waits for it to return, and makes further Run and Step
// calls fail with ErrClosed.
func (s *Sim) Close() error {
	s.run.close()
	return nil
}
