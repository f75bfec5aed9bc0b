package line

// Pipe is a Voice that a frame engine reads and writes as an endpoint (the
// shape of telephony/media's Endpoint): ReadFrame gives the engine what the
// line heard on the last tick, WriteFrame takes what the line is to hear on
// the next one. Run the channel's Tick and the engine's tick on the same
// goroutine; the pipe adds one frame (10 ms) of delay in each direction.
type Pipe struct {
	up, down Frame
}

// Exchange implements Voice: it keeps up for the engine and hands the
// line the engine's last frame.
func (p *Pipe) Exchange(up, down *Frame) {
	p.up = *up
	*down = p.down
}

// ReadFrame copies the line's last frame into f (up to FrameSamples).
func (p *Pipe) ReadFrame(f []int16) {
	n := copy(f, p.up[:])
	clear(f[n:])
}

// WriteFrame keeps f (up to FrameSamples) for the line's next tick.
func (p *Pipe) WriteFrame(f []int16) {
	n := copy(p.down[:], f)
	clear(p.down[n:])
}
