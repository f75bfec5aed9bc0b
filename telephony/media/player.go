package media

import (
	"sync/atomic"
	"time"
)

// Player plays a sequence of clips, 8 kHz int16 buffers such as the prompt
// catalogue's, into a channel: give it to Engine.Play. The clips are read,
// never written or copied, so every call playing a prompt shares the one
// decoded buffer; a player itself is one leg's (it keeps its place).
// ReadFrame runs on the clock's goroutine and allocates nothing.
//
// A player is done once the frame holding its last sample has been read,
// or when stopped; then Done reports true and Finished is closed, and it
// plays silence until the owner takes it off the channel (Engine.Play with
// nil). A looping player (NewLoopPlayer, music on hold from a file) is done
// only when stopped.
type Player struct {
	clips [][]int16
	loop  bool
	clip  int // the clip playing, on the clock's goroutine
	pos   int // the next sample in it

	state    atomic.Uint32
	finished chan struct{}
}

// Player states.
const (
	playing uint32 = iota
	ended
	stopped
)

// NewPlayer returns a player of clips in order; empty clips are skipped.
func NewPlayer(clips ...[]int16) *Player {
	return &Player{clips: clips, finished: make(chan struct{})}
}

// NewLoopPlayer returns a player that plays clips over and over until
// stopped; with no samples at all it is done at once.
func NewLoopPlayer(clips ...[]int16) *Player {
	p := NewPlayer(clips...)
	for _, c := range clips {
		if len(c) > 0 {
			p.loop = true
		}
	}
	return p
}

// ReadFrame fills frame with the next samples, and silence once done.
func (p *Player) ReadFrame(frame []int16) {
	n := 0
	if p.state.Load() == playing {
		n = p.fill(frame)
	}
	clear(frame[n:])
}

// WriteFrame does nothing: a player is a source (Engine.Play never calls
// it; it makes a Player an Endpoint).
func (p *Player) WriteFrame([]int16) {}

// fill copies samples into frame and returns how many; at the end of a
// player that does not loop it marks it done.
func (p *Player) fill(frame []int16) int {
	n := 0
	for n < len(frame) && p.clip < len(p.clips) {
		c := p.clips[p.clip]
		k := copy(frame[n:], c[p.pos:])
		n += k
		p.pos += k
		if p.pos >= len(c) {
			p.clip, p.pos = p.clip+1, 0
			if p.clip == len(p.clips) && p.loop {
				p.clip = 0
			}
		}
	}
	if p.clip >= len(p.clips) {
		p.finish(ended)
	}
	return n
}

func (p *Player) finish(how uint32) {
	if p.state.CompareAndSwap(playing, how) {
		close(p.finished)
	}
}

// Stop ends the playing now (from any goroutine); the next frames are
// silence. Stopping a player that is done does nothing.
func (p *Player) Stop() { p.finish(stopped) }

// Done reports whether the player has played everything or was stopped.
func (p *Player) Done() bool { return p.state.Load() != playing }

// Stopped reports whether the player was stopped before its end.
func (p *Player) Stopped() bool { return p.state.Load() == stopped }

// Finished is closed when the player is done.
func (p *Player) Finished() <-chan struct{} { return p.finished }

// silence backs Pause: one second of zeros, shared by every player.
var silence [SampleRate]int16

// Pause returns d of silence as a clip for a Player (between prompts, before
// a beep). Up to a second it is a slice of one shared buffer of zeros, which
// nobody writes.
func Pause(d time.Duration) []int16 {
	n := int(d * SampleRate / time.Second)
	if n <= len(silence) {
		return silence[:max(n, 0)]
	}
	return make([]int16, n)
}
