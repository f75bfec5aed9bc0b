// Package media is the call audio engine: one frame clock of 10 ms (80
// samples of 8 kHz linear int16) drives every channel, and each tick reads a
// frame from every channel's endpoint, cleans it (echo cancelling on analog
// legs, DTMF detection with optional muting), mixes bridges and conferences,
// and writes a frame to every endpoint, feeding recording taps on the way.
//
// The engine knows legs only as Endpoints that read and write frames: an
// analog port (firmware/app adapts the board's PCM highway to it) or an RTP
// stream (package rtpstream). The clock is a Clock: Ticker in real time,
// Virtual in tests, or the PCM highway itself, whose tick handler calls
// Engine.Tick directly.
//
// Nothing on the clock's path allocates or waits for a consumer: events go
// to a buffered channel and are dropped (and counted) when it is full, and
// recording taps are rings that drop frames when nobody reads them.
//
// A tick's reads and writes of Independent endpoints (RTP streams) are
// shared among a few worker goroutines once there are ParallelMin of them;
// everything else stays on the clock's goroutine. In a plain bridge from an
// AheadReader to a PacketWriter (RTP to RTP at ptime 20) the outgoing packet
// takes its last frame from the talking stream a tick early when that
// stream's jitter buffer already holds it, so a packet waits for no tick.
//
// Subpackages: jitter (adaptive playout buffer with concealment), rtcp
// (reports and reception statistics), rfc4733 (telephone-events), rtpstream
// (UDP RTP/RTCP streams and their port range).
package media

import "time"

// Frame geometry: every endpoint reads and writes frames of FrameSamples.
const (
	SampleRate    = 8000
	FrameSamples  = 80
	FrameDuration = 10 * time.Millisecond
)
