// Package jitter is the adaptive playout buffer of one received G.711 RTP
// stream: packets go in as they arrive (in any order, of 10, 20 or 30 ms), and
// the media clock takes out one 10 ms frame per tick, with lost audio
// concealed after G.711 Appendix I (dsp/plc).
//
// The buffer works on RTP timestamps (8 kHz samples). The playout point
// trails the incoming timestamps by the buffer's delay, which starts at
// MinDelay, grows at once when a packet arrives too late to be played (by as
// much as it was late, up to MaxDelay), and shrinks by one frame at a time,
// only after two seconds in which every packet had more than 20 ms to spare
// (then one frame per further such second), preferably in a quiet frame. Late and duplicate packets are dropped and
// counted; a marker bit on an empty buffer, or a timestamp far outside the
// window, realigns the playout point.
//
// The ring keeps the payload as received (one G.711 byte per sample, with a
// bit per sample saying it is there) and decodes at playout, so a buffer of
// 200 ms holds under 3 KB.
//
// A call that turns into a fax or modem call switches the buffer to a fixed
// delay (SetFixed): modems need their samples evenly spaced and a gap left a
// gap, so the delay no longer grows or shrinks and lost audio is silence, not
// concealment (which would repeat a pitch period of a modem signal).
//
// A Buffer allocates nothing after New and is not safe for concurrent use:
// the media clock owns it.
package jitter

import (
	"callbox/dsp/g711"
	"callbox/dsp/plc"
)

// Buffer limits and the frame, in samples at 8 kHz.
const (
	Frame    = 80   // one 10 ms tick
	MinDelay = 160  // 20 ms
	MaxDelay = 1600 // 200 ms
	// ring holds MaxDelay plus the longest packet (30 ms) and the frame being
	// played, as a power of two so positions are timestamps masked.
	ring = 2048
	mask = ring - 1
	// shrinkWindow is a window of 1 s in ticks: the delay comes down by a
	// frame after two windows in which every packet had spareShrink of
	// headroom, then by one more after each further such window.
	shrinkWindow = 100
	spareShrink  = 2 * Frame
	// quiet is the peak below which a frame may be dropped to shrink without
	// being heard (about -43 dBm0); a shrink waits at most forceShrink ticks.
	quiet       = 200
	forceShrink = 100
	// maxPacket is the longest payload accepted: 40 ms, more than the
	// longest ptime we negotiate, so that MaxDelay and a packet fit the ring.
	maxPacket = 320
	// farPast is how late (512 ms) a packet is taken for a sender that
	// restarted its timestamps rather than for one that is late.
	farPast = 4096
	// lostResync is how many consecutive late packets mean the sender's
	// clock jumped back, not jitter: realign instead of dropping them all.
	lostResync = 10
)

// Codec is the G.711 law of the payload.
type Codec uint8

// Codecs by their static RTP payload type.
const (
	PCMU Codec = 0
	PCMA Codec = 8
)

// Stats are a buffer's counters since New.
type Stats struct {
	Received  uint64 // packets accepted into the buffer
	Late      uint64 // packets dropped because their audio had been played
	Duplicate uint64 // packets dropped because their audio was already there
	Reordered uint64 // accepted packets older than one already accepted
	Resyncs   uint64 // playout point realignments
	Concealed uint64 // frames produced by loss concealment
	Played    uint64 // frames produced from received audio
	Grown     uint64 // frames added to the delay
	Shrunk    uint64 // frames taken off the delay
	Silenced  uint64 // frames with audio missing played as silence (fixed delay)
	// Delay is the current target delay in samples (MinDelay..MaxDelay).
	Delay int
	// Fixed is set while the delay is fixed (SetFixed).
	Fixed bool
}

// Buffer is one stream's playout buffer.
type Buffer struct {
	codec Codec
	enc   [ring]byte        // payload bytes at their timestamps
	valid [ring / 64]uint64 // bit i: enc[i] holds a received sample

	started  bool
	play     uint32 // timestamp of the next sample to play
	newest   uint32 // end timestamp of the newest accepted packet
	delay    int    // target delay, samples
	hold     int    // samples of delay still to be inserted
	preroll  int    // samples of silence before the first packet's audio
	inBuffer int    // valid samples at or after play

	lateRun      int
	windowTicks  int
	windowMin    int // least headroom seen in the current window
	quietWindows int
	shrinkWait   int
	shrinking    bool
	// fixed: the delay is fixedDelay and stays (SetFixed).
	fixed      bool
	fixedDelay int

	conceal *plc.Concealer
	scratch [Frame]int16
	st      Stats
}

// New returns an empty buffer for payloads of the given law.
func New(codec Codec) *Buffer {
	b := &Buffer{codec: codec, conceal: plc.NewLowDelay()}
	b.Reset()
	return b
}

// Reset empties the buffer and returns its delay to MinDelay, keeping the
// counters.
func (b *Buffer) Reset() {
	clear(b.valid[:])
	b.started = false
	b.delay = MinDelay
	if b.fixed {
		b.delay = b.fixedDelay
	}
	b.hold = 0
	b.inBuffer = 0
	b.lateRun = 0
	b.windowTicks = 0
	b.windowMin = ring
	b.quietWindows = 0
	b.shrinking = false
	b.conceal.Reset()
}

// Stats returns the counters.
func (b *Buffer) Stats() Stats {
	s := b.st
	s.Delay, s.Fixed = b.delay, b.fixed
	return s
}

// SetFixed fixes the delay for a fax or modem call: at delay samples
// (rounded up to whole frames, within MinDelay..MaxDelay), or at the
// current delay if that is longer, so that no received audio is dropped
// to get there (a longer delay is reached by playing silence). From then
// on a late packet is dropped without growing the delay, the delay never
// shrinks, and audio that is missing is played as silence. SetFixed(0)
// returns to the adaptive delay, from the fixed one.
func (b *Buffer) SetFixed(delay int) {
	if delay <= 0 {
		if b.fixed {
			b.fixed = false
			b.conceal.Reset()
			b.quietWindows, b.windowTicks, b.windowMin = 0, 0, ring
		}
		return
	}
	d := min(max((delay+Frame-1)/Frame*Frame, MinDelay), MaxDelay)
	d = max(d, b.delay)
	if b.started && d > b.delay {
		b.hold += d - b.delay
	}
	b.delay, b.fixed, b.fixedDelay = d, true, d
	b.shrinking = false
}

// Delay returns the current target delay in samples.
func (b *Buffer) Delay() int { return b.delay }

// Put offers one packet's payload with its RTP timestamp and marker bit. It
// reports whether the packet was accepted (false for late, duplicate, empty
// or oversized packets). The payload is decoded at once, so it may be reused
// after Put returns.
func (b *Buffer) Put(ts uint32, marker bool, payload []byte) bool {
	n := len(payload)
	if n == 0 || n > maxPacket {
		return false
	}
	if !b.started || (marker && b.inBuffer == 0) {
		b.align(ts)
	}
	head := int(int32(ts - b.play)) // headroom: samples before it is due
	if head+n > ring-Frame || head < -farPast {
		// Far in the future or the past: the sender restarted its timestamps.
		b.st.Resyncs++
		b.Reset()
		b.align(ts)
		head = int(int32(ts - b.play))
	}
	if head < 0 {
		b.st.Late++
		b.lateRun++
		if !b.fixed {
			b.grow(-head)
		}
		if b.lateRun >= lostResync {
			b.st.Resyncs++
			b.Reset()
		}
		return false
	}
	b.lateRun = 0
	if head < b.windowMin {
		b.windowMin = head
	}
	dup := true
	for i := range n {
		if !b.has(ts + uint32(i)) {
			dup = false
			break
		}
	}
	if dup {
		b.st.Duplicate++
		return false
	}
	end := ts + uint32(n)
	if int32(end-b.newest) < 0 {
		b.st.Reordered++
	} else {
		b.newest = end
	}
	// Copy into the ring, in at most two pieces around its end.
	p := int(ts & mask)
	first := min(n, ring-p)
	copy(b.enc[p:p+first], payload[:first])
	if first < n {
		copy(b.enc[:n-first], payload[first:])
	}
	for i := range n {
		j := (ts + uint32(i)) & mask
		if w, bit := j>>6, uint64(1)<<(j&63); b.valid[w]&bit == 0 {
			b.valid[w] |= bit
			b.inBuffer++
		}
	}
	b.st.Received++
	return true
}

// has reports whether the sample at ts was received and not yet played.
func (b *Buffer) has(ts uint32) bool {
	j := ts & mask
	return b.valid[j>>6]&(1<<(j&63)) != 0
}

func (b *Buffer) sample(j uint32) int16 {
	if b.codec == PCMA {
		return g711.DecodeAlawSample(b.enc[j])
	}
	return g711.DecodeUlawSample(b.enc[j])
}

// align puts the playout point the target delay behind ts.
func (b *Buffer) align(ts uint32) {
	b.started = true
	b.play = ts - uint32(b.delay)
	b.newest = ts
	b.preroll = b.delay
}

// grow raises the delay by by samples (rounded up to frames, limited to
// MaxDelay); the extra delay is inserted by concealment at the next ticks.
func (b *Buffer) grow(by int) {
	by = (by + Frame - 1) / Frame * Frame
	if b.delay+by > MaxDelay {
		by = MaxDelay - b.delay
	}
	if by <= 0 {
		return
	}
	b.delay += by
	b.hold += by
	b.st.Grown += uint64(by / Frame)
	b.quietWindows = 0
	b.shrinking = false
}

// Ready reports whether the next Get will play received audio without
// changing the delay: the whole frame at the playout point is there, no
// stretch or shrink is due, and the tick does not close a headroom window.
// A stream may then take the frame a tick early (see rtpstream.ReadAhead).
func (b *Buffer) Ready() bool {
	if !b.started || b.preroll > 0 || b.hold > 0 || b.shrinking || (!b.fixed && b.windowTicks+1 >= shrinkWindow) {
		return false
	}
	for i := range Frame {
		if !b.has(b.play + uint32(i)) {
			return false
		}
	}
	return true
}

// Get writes the next 10 ms of audio (len(out) must be Frame) and advances
// the playout point; before the first packet it writes silence.
func (b *Buffer) Get(out []int16) {
	out = out[:Frame]
	if !b.started {
		clear(out)
		return
	}
	if b.fixed {
		b.getFixed(out)
		return
	}
	b.tickWindow()
	if b.preroll > 0 && b.inBuffer > 0 && !b.validAt(b.play) {
		// Lead-in before the first audio: silence, not concealment.
		b.preroll -= Frame
		clear(out)
		b.conceal.Good(out, out)
		b.play += Frame
		return
	}
	b.preroll = 0
	if b.hold > 0 {
		// Stretch: play a concealment frame without consuming audio.
		b.hold -= Frame
		b.conceal.Lost(out)
		b.st.Concealed++
		return
	}
	if b.shrinking {
		b.shrinkWait++
		if b.framePeak() < quiet || b.shrinkWait >= forceShrink {
			b.consume(b.scratch[:])
			b.play += Frame
			b.delay -= Frame
			b.st.Shrunk++
			b.shrinking = false
			b.quietWindows = 1
		}
	}
	if b.consume(out) {
		b.conceal.Good(out, out)
		b.st.Played++
	} else {
		b.conceal.Lost(out)
		b.st.Concealed++
	}
	b.play += Frame
}

// getFixed is Get at a fixed delay: no window, no shrink, no concealment.
func (b *Buffer) getFixed(out []int16) {
	if b.hold > 0 {
		b.hold -= Frame
		clear(out)
		b.st.Silenced++
		return
	}
	if b.preroll > 0 && b.inBuffer > 0 && !b.validAt(b.play) {
		b.preroll -= Frame // lead-in before the first audio
		clear(out)
		b.play += Frame
		return
	}
	b.preroll = 0
	if b.consume(out) {
		b.st.Played++
	} else {
		b.st.Silenced++
	}
	b.play += Frame
}

// consume copies the frame at the playout point to out, filling missing
// samples with silence, clears it from the ring and reports whether any of
// it had been received. It does not move the playout point.
func (b *Buffer) consume(out []int16) bool {
	got := 0
	for i := range Frame {
		j := (b.play + uint32(i)) & mask
		if w, bit := j>>6, uint64(1)<<(j&63); b.valid[w]&bit != 0 {
			out[i] = b.sample(j)
			b.valid[w] &^= bit
			got++
		} else {
			out[i] = 0
		}
	}
	b.inBuffer -= got
	return got > 0
}

func (b *Buffer) validAt(ts uint32) bool {
	for i := range Frame {
		if b.has(ts + uint32(i)) {
			return true
		}
	}
	return false
}

// framePeak returns the largest magnitude in the frame at the playout point.
func (b *Buffer) framePeak() int {
	peak := 0
	for i := range Frame {
		j := (b.play + uint32(i)) & mask
		if b.has(j) {
			v := int(b.sample(j))
			if v < 0 {
				v = -v
			}
			peak = max(peak, v)
		}
	}
	return peak
}

// tickWindow closes a 1 s headroom window every shrinkWindow ticks and starts
// a shrink after two windows with room to spare.
func (b *Buffer) tickWindow() {
	b.windowTicks++
	if b.windowTicks < shrinkWindow {
		return
	}
	spare := b.windowMin - Frame // one frame of headroom is the tick's own
	if b.windowMin < ring && spare >= spareShrink && b.delay > MinDelay && b.hold == 0 {
		b.quietWindows++
	} else {
		b.quietWindows = 0
	}
	if b.quietWindows >= 2 && !b.shrinking {
		b.shrinking = true
		b.shrinkWait = 0
	}
	b.windowTicks = 0
	b.windowMin = ring
}
