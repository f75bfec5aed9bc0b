package rfc4733

import (
	"errors"
	"fmt"
)

// Sender defaults in timestamp units at 8 kHz.
const (
	DefaultDuration = 800 // 100 ms tone
	DefaultPause    = 400 // 50 ms of audio between digits
	EndRepeats      = 3   // the end packet is sent this many times
	DefaultVolume   = 10  // -10 dBm0
	maxQueue        = 64
	maxDuration     = 0xffff
)

// ErrQueueFull is returned by Send when too many digits are waiting.
var ErrQueueFull = errors.New("rfc4733: digit queue full")

type request struct {
	code uint8
	dur  uint32
}

// Sender produces telephone-event packets for queued digits. The stream calls
// Next once per packet interval, before packetising audio: while Next says
// so, the stream sends the event packet instead of audio.
type Sender struct {
	queue      [maxQueue]request
	head, n    int
	active     bool
	cur        request
	ts         uint32 // the event's timestamp
	elapsed    uint32 // duration sent so far
	endsSent   int
	pauseLeft  uint32
	pause      uint32
	volume     uint8
	startEvent bool
}

// NewSender returns a sender that leaves pause timestamp units of audio
// between digits (0 means DefaultPause).
func NewSender(pause uint32) *Sender {
	if pause == 0 {
		pause = DefaultPause
	}
	return &Sender{pause: pause, volume: DefaultVolume}
}

// Send queues a digit lasting dur timestamp units (0 means DefaultDuration;
// at most 65535).
func (s *Sender) Send(digit byte, dur uint32) error {
	code, ok := Code(digit)
	if !ok {
		return fmt.Errorf("rfc4733: %q is not a DTMF digit", digit)
	}
	if s.n == maxQueue {
		return ErrQueueFull
	}
	if dur == 0 {
		dur = DefaultDuration
	}
	s.queue[(s.head+s.n)%maxQueue] = request{code: code, dur: min(dur, maxDuration)}
	s.n++
	return nil
}

// Busy reports whether a digit is being sent or waiting.
func (s *Sender) Busy() bool { return s.active || s.n > 0 }

// Next is called once per packet interval of interval timestamp units, with
// ts the timestamp the audio packet of this interval would carry. When it
// returns ok, the stream sends p with timestamp evTS (the event's start) and
// the marker bit set if marker, instead of the audio.
func (s *Sender) Next(ts, interval uint32) (p Payload, evTS uint32, marker, ok bool) {
	if !s.active {
		if s.pauseLeft > 0 {
			s.pauseLeft -= min(s.pauseLeft, interval)
			return p, 0, false, false
		}
		if s.n == 0 {
			return p, 0, false, false
		}
		s.cur = s.queue[s.head]
		s.head = (s.head + 1) % maxQueue
		s.n--
		s.active, s.ts, s.elapsed, s.endsSent = true, ts, 0, 0
		s.startEvent = true
	}
	p.Event, p.Volume = s.cur.code, s.volume
	marker = s.startEvent
	s.startEvent = false
	if s.elapsed < s.cur.dur {
		s.elapsed = min(s.elapsed+interval, s.cur.dur)
	}
	p.Duration = uint16(s.elapsed)
	if s.elapsed >= s.cur.dur {
		p.End = true
		s.endsSent++
		if s.endsSent == EndRepeats {
			s.active = false
			s.pauseLeft = s.pause
		}
	}
	return p, s.ts, marker, true
}
