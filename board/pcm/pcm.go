package pcm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"callbox/dsp/g711"
)

// Frame geometry: the box's media clock runs on 10 ms frames of 80 samples
// at 8 kHz, whatever the wire carries.
const (
	SampleRate  = 8000                  // samples per second per port
	FrameSize   = 80                    // samples per frame
	FramePeriod = 10 * time.Millisecond // duration of one frame
)

// Endpoint is the line side of one emulated chip's PCM port: the contract
// the chip emulators in board/sim implement. Both methods are called once
// per frame from the highway's goroutine and must not allocate.
type Endpoint interface {
	// PCMRead fills frame (FrameSize samples) with what the line sends
	// towards the box.
	PCMRead(frame []int16)
	// PCMWrite hands the chip the box's audio towards the line.
	PCMWrite(frame []int16)
}

// Codec is how a port's samples travel in its timeslots, as set in its
// chip: G.711 uses one 8-bit timeslot, 16-bit linear uses two consecutive
// ones, most significant byte first.
type Codec uint8

// Wire codecs.
const (
	Alaw   Codec = iota // G.711 A-law, one timeslot
	Ulaw                // G.711 mu-law, one timeslot
	Linear              // 16-bit two's complement, two timeslots, MSB first
)

// String names the codec.
func (c Codec) String() string {
	switch c {
	case Alaw:
		return "alaw"
	case Ulaw:
		return "ulaw"
	case Linear:
		return "linear"
	}
	return fmt.Sprintf("codec(%d)", uint8(c))
}

// Width is the number of 8-bit timeslots the codec occupies.
func (c Codec) Width() int {
	if c == Linear {
		return 2
	}
	return 1
}

func (c Codec) valid() bool { return c <= Linear }

// silence is the value an idle wire decodes to: the codes a chip sends for
// zero (A-law 0xD5 decodes to 8, mu-law 0xFF to 0).
func (c Codec) silence() int16 {
	switch c {
	case Alaw:
		return g711.DecodeAlawSample(g711.EncodeAlawSample(0))
	case Ulaw:
		return g711.DecodeUlawSample(g711.EncodeUlawSample(0))
	}
	return 0
}

// Tick tells a Handler which frame is being processed.
type Tick struct {
	// Seq numbers frame periods from 0; it skips the frames a highway
	// dropped, so a jump tells the handler audio was lost.
	Seq  uint64
	Time time.Time // when the frame was due (simulation) or read (hardware)
	// Late is how late the frame is processed: after its due time in
	// simulation (0 when stepped), the audio still waiting in the capture
	// ring after the read on hardware.
	Late time.Duration
}

// Handler is called once per frame on the highway's goroutine, after every
// attached Port's Received frame is filled and before the frames given to
// Port.Send go out. It is the media engine's frame clock. It must return well
// within FramePeriod: a slow handler makes later ticks late (overruns).
// It may Attach and Detach ports; they take effect from the next tick. It
// must not call Close, Run or Sim.Step.
type Handler func(t Tick)

// Highway is a PCM bus of 8-bit timeslots carrying one frame per port and
// direction every 10 ms: the ALSA TDM device on hardware, memory in
// simulation. The media engine attaches a Port per analog line, sets one
// Handler, and runs the highway; all audio exchange happens inside the
// Handler.
type Highway interface {
	// Slots is the number of 8-bit timeslots.
	Slots() int
	// Attach claims the timeslot(s) of a port whose chip uses codec c,
	// starting at slot. It fails if they are out of range or taken.
	Attach(slot int, c Codec) (*Port, error)
	// Detach releases a port; its Received frame stops changing and its
	// timeslots carry silence from the next tick. Detaching twice is a no-op.
	Detach(p *Port)
	// SetHandler sets the function called on every tick (nil: none).
	SetHandler(h Handler)
	// Run processes ticks until ctx is done (it then returns nil), the
	// highway is closed, or the device fails. One Run at a time.
	Run(ctx context.Context) error
	// Stats returns the counters so far.
	Stats() Stats
	// Close stops Run, waits for it, and releases the device.
	Close() error
}

// Stats counts a highway's frames and timing faults.
type Stats struct {
	Ticks uint64 // frames processed
	// Overruns counts ticks processed late: in simulation more than the
	// tolerance after they were due; on hardware, reads that found at
	// least one more whole period already waiting in the capture ring, and
	// capture overruns (the box read too late and the kernel lost audio).
	Overruns uint64
	// Dropped counts frames skipped to catch up after falling more than
	// the backlog behind (simulation) or lost in a capture overrun.
	Dropped uint64
	// Underruns counts port-frames sent as silence because the handler
	// gave the port nothing to send in that tick.
	Underruns uint64
	// PlaybackXruns counts ALSA playback underruns (the device ran out of
	// queued audio); always 0 in simulation.
	PlaybackXruns uint64
	// MaxLate is the worst lateness seen.
	MaxLate time.Duration
	// Batched counts frames run in idle batches (simulation, SetIdle):
	// on time in the frames' own timeline, not in wall time.
	Batched uint64
}

// Errors a caller may branch on.
var (
	ErrClosed  = errors.New("pcm: highway closed")
	ErrRunning = errors.New("pcm: highway already running")
)

// Port is the box side of one analog port on the highway. Received and
// Send are for the Handler only (its goroutine); the other methods are safe
// anywhere.
type Port struct {
	slot  int
	codec Codec
	rx    [FrameSize]int16
	tx    [FrameSize]int16
	sent  bool

	attached  atomic.Bool
	underruns atomic.Uint64
}

// Slot is the port's first timeslot.
func (p *Port) Slot() int { return p.slot }

// Codec is the port's wire codec.
func (p *Port) Codec() Codec { return p.codec }

// Attached reports whether the port is still on the highway.
func (p *Port) Attached() bool { return p.attached.Load() }

// Received is the frame (FrameSize samples, linear) the line sent in the
// current tick. The slice is the port's own buffer: read it in the Handler,
// copy it to keep it.
func (p *Port) Received() []int16 { return p.rx[:] }

// Send sets the frame to send towards the line at the end of the current
// tick. A short frame is padded with silence; samples past FrameSize are
// ignored. A port that is not given a frame in a tick sends silence and
// counts an underrun.
func (p *Port) Send(frame []int16) {
	n := copy(p.tx[:], frame)
	clear(p.tx[n:])
	p.sent = true
}

// Underruns counts the ticks in which this port was given nothing to send.
func (p *Port) Underruns() uint64 { return p.underruns.Load() }

// bus is what both highways share: timeslot allocation, the handler, the
// counters. The attached-port list is copied on write so a tick reads it
// with one atomic load and never blocks on Attach.
type bus struct {
	slots int

	mu    sync.Mutex
	owner []*Port                 // per timeslot, under mu
	ports atomic.Pointer[[]*Port] // attached ports, read per tick

	handler atomic.Pointer[Handler]

	ticks, overruns, dropped, underruns, pxruns atomic.Uint64
	batched                                     atomic.Uint64
	maxLate                                     atomic.Int64
}

func (b *bus) init(slots int) {
	b.slots = slots
	b.owner = make([]*Port, slots)
	b.ports.Store(new([]*Port))
}

// Slots implements Highway.
func (b *bus) Slots() int { return b.slots }

// Attach implements Highway.
func (b *bus) Attach(slot int, c Codec) (*Port, error) {
	if !c.valid() {
		return nil, fmt.Errorf("pcm: attach slot %d: unknown codec %d", slot, uint8(c))
	}
	if slot < 0 || slot+c.Width() > b.slots {
		return nil, fmt.Errorf("pcm: attach slot %d: %s needs timeslots %d..%d of 0..%d", slot, c, slot, slot+c.Width()-1, b.slots-1)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := slot; s < slot+c.Width(); s++ {
		if o := b.owner[s]; o != nil {
			return nil, fmt.Errorf("pcm: attach slot %d: timeslot %d is used by the port at slot %d", slot, s, o.slot)
		}
	}
	p := &Port{slot: slot, codec: c}
	p.fillRx(c.silence())
	p.attached.Store(true)
	for s := slot; s < slot+c.Width(); s++ {
		b.owner[s] = p
	}
	old := *b.ports.Load()
	next := make([]*Port, len(old), len(old)+1)
	copy(next, old)
	next = append(next, p)
	b.ports.Store(&next)
	return p, nil
}

// Detach implements Highway.
func (b *bus) Detach(p *Port) {
	if p == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !p.attached.Swap(false) {
		return
	}
	for s := p.slot; s < p.slot+p.codec.Width(); s++ {
		b.owner[s] = nil
	}
	old := *b.ports.Load()
	next := make([]*Port, 0, len(old))
	for _, q := range old {
		if q != p {
			next = append(next, q)
		}
	}
	b.ports.Store(&next)
}

// SetHandler implements Highway.
func (b *bus) SetHandler(h Handler) {
	if h == nil {
		b.handler.Store(nil)
		return
	}
	b.handler.Store(&h)
}

// Stats implements Highway.
func (b *bus) Stats() Stats {
	return Stats{
		Ticks:         b.ticks.Load(),
		Overruns:      b.overruns.Load(),
		Dropped:       b.dropped.Load(),
		Underruns:     b.underruns.Load(),
		PlaybackXruns: b.pxruns.Load(),
		MaxLate:       time.Duration(b.maxLate.Load()),
		Batched:       b.batched.Load(),
	}
}

func (b *bus) noteLate(late time.Duration) {
	for {
		m := b.maxLate.Load()
		if int64(late) <= m || b.maxLate.CompareAndSwap(m, int64(late)) {
			return
		}
	}
}

// dispatch runs the handler for one tick over ports whose Received frames
// are filled, then settles what each port sends: silence and an underrun
// where the handler sent nothing.
func (b *bus) dispatch(ports []*Port, t Tick) {
	for _, p := range ports {
		p.sent = false
	}
	if h := b.handler.Load(); h != nil {
		(*h)(t)
	}
	for _, p := range ports {
		if !p.sent {
			clear(p.tx[:])
			p.underruns.Add(1)
			b.underruns.Add(1)
		}
	}
	b.ticks.Add(1)
}

func (p *Port) fillRx(v int16) {
	for i := range p.rx {
		p.rx[i] = v
	}
}

// roundTrip passes src through the port's wire codec into dst, as the
// chip and the highway would: G.711 quantises, linear is exact.
func (c Codec) roundTrip(dst, src []int16) {
	var code [FrameSize]uint8
	switch c {
	case Alaw:
		g711.EncodeAlaw(code[:], src)
		g711.DecodeAlaw(dst, code[:])
	case Ulaw:
		g711.EncodeUlaw(code[:], src)
		g711.DecodeUlaw(dst, code[:])
	default:
		copy(dst, src)
	}
}
