package pcm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"callbox/dsp/g711"
)

// Format is the ALSA sample format the TDM device is opened with. It only
// fixes the width of each ALSA channel on the wire (8 or 16 bits): the
// chips, not ALSA, encode the audio, so each port's Codec decides how its
// timeslots are read and written.
type Format uint8

// Supported device formats (SNDRV_PCM_FORMAT_* values).
const (
	S16LE Format = 2  // 16-bit channels: each holds two 8-bit timeslots
	S32LE Format = 10 // 32-bit channels: each holds four 8-bit timeslots
	MuLaw Format = 20 // 8-bit channels, one timeslot each
	ALaw  Format = 21 // 8-bit channels, one timeslot each
)

// String is the ALSA name of the format.
func (f Format) String() string {
	switch f {
	case S16LE:
		return "S16_LE"
	case S32LE:
		return "S32_LE"
	case MuLaw:
		return "MU_LAW"
	case ALaw:
		return "A_LAW"
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

// channelBytes is the width of one ALSA channel in bytes.
func (f Format) channelBytes() int {
	switch f {
	case S16LE:
		return 2
	case S32LE:
		return 4
	}
	return 1
}

// idle is the byte an unused 8-bit timeslot carries: the G.711 code for
// zero in a G.711-labelled stream, 0 otherwise.
func (f Format) idle() byte {
	switch f {
	case ALaw:
		return g711.EncodeAlawSample(0)
	case MuLaw:
		return g711.EncodeUlawSample(0)
	}
	return 0
}

// ALSAConfig selects and shapes the TDM device.
type ALSAConfig struct {
	Card, Device int    // /dev/snd/pcmC<Card>D<Device>{c,p}
	Format       Format // S16LE, S32LE, ALaw or MuLaw
	// Slots is the number of 8-bit timeslots per 125 us frame: 32 for a
	// 2.048 MHz bit clock. The device is opened with Slots channels for an
	// 8-bit format, Slots/2 for S16LE, Slots/4 for S32LE.
	Slots int
	// Periods is the ring buffer size in 10 ms periods (default 4).
	Periods int
	// Prefill is how many periods of silence are queued for playback before
	// it starts, and again after a playback underrun (default 2): the
	// box-to-line latency, and the slack the media engine has per tick.
	Prefill int
	// Dir is the device directory (default /dev/snd).
	Dir string
}

func (c *ALSAConfig) defaults() error {
	if c.Periods == 0 {
		c.Periods = 4
	}
	if c.Prefill == 0 {
		c.Prefill = 2
	}
	if c.Dir == "" {
		c.Dir = "/dev/snd"
	}
	switch {
	case c.Format != S16LE && c.Format != S32LE && c.Format != ALaw && c.Format != MuLaw:
		return fmt.Errorf("format %s: want S16_LE, S32_LE, A_LAW or MU_LAW", c.Format)
	case c.Slots <= 0 || c.Slots > 256:
		return fmt.Errorf("slots %d: want 1..256", c.Slots)
	case c.Slots%c.Format.channelBytes() != 0:
		return fmt.Errorf("slots %d: %s carries timeslots in groups of %d", c.Slots, c.Format, c.Format.channelBytes())
	case c.Periods < 2 || c.Periods > 64:
		return fmt.Errorf("periods %d: want 2..64", c.Periods)
	case c.Prefill < 1 || c.Prefill >= c.Periods:
		return fmt.Errorf("prefill %d: want 1..periods-1 (%d)", c.Prefill, c.Periods-1)
	}
	return nil
}

// deviceFile is an open ALSA PCM device node: the kernel on hardware, a
// fake in tests. arg points at the ioctl's argument struct.
type deviceFile interface {
	ioctl(req uintptr, arg unsafe.Pointer) error
	close() error
}

// openFunc opens a device node; tests replace it with a fake.
type openFunc func(path string) (deviceFile, error)

// stream is one direction of the device.
type stream struct {
	name  string // "pcmC0D0c", for errors
	f     deviceFile
	x     xferi // the READI/WRITEI argument, kept here so a transfer never allocates
	delay int   // the DELAY argument, likewise
	hw    hwParams
	sw    swParams
}

// ALSA is the hardware highway: an ALSA PCM device whose channels are the
// TDM timeslots of the line chips, read and written one 10 ms period at a
// time. The device's capture side paces the ticks.
type ALSA struct {
	bus
	run  runner
	cfg  ALSAConfig
	swap int // XOR turning a timeslot number into its byte in an ALSA frame

	capture, playback stream
	in, out, idle     []byte // one period each
	seq               uint64
}

var _ Highway = (*ALSA)(nil)

// OpenALSA opens and configures the capture and playback streams of the
// TDM device: RW interleaved access, cfg.Format, the channels that carry
// cfg.Slots timeslots, 8000 Hz, periods of 80 frames.
func OpenALSA(cfg ALSAConfig) (*ALSA, error) { return openALSA(cfg, openDevice) }

func openALSA(cfg ALSAConfig, open openFunc) (*ALSA, error) {
	if err := cfg.defaults(); err != nil {
		return nil, fmt.Errorf("pcm: alsa: %w", err)
	}
	a := &ALSA{cfg: cfg}
	a.bus.init(cfg.Slots)
	// A little-endian channel of 2 or 4 bytes holds its earliest (most
	// significant) timeslot in its last byte: timeslot n is at byte n^1 or
	// n^3 of the ALSA frame.
	a.swap = cfg.Format.channelBytes() - 1
	period := FrameSize * cfg.Slots
	a.in, a.out, a.idle = make([]byte, period), make([]byte, period), make([]byte, period)
	for i := range a.idle {
		a.idle[i] = cfg.Format.idle()
	}
	base := fmt.Sprintf("pcmC%dD%d", cfg.Card, cfg.Device)
	a.capture.name, a.playback.name = base+"c", base+"p"
	for _, s := range []*stream{&a.capture, &a.playback} {
		if err := a.setup(s, open); err != nil {
			a.closeFiles()
			return nil, err
		}
	}
	return a, nil
}

// setup opens one stream and sets its hardware and software parameters.
func (a *ALSA) setup(s *stream, open openFunc) error {
	f, err := open(a.cfg.Dir + "/" + s.name)
	if err != nil {
		return fmt.Errorf("pcm: %s: open: %w", s.name, err)
	}
	s.f = f
	var version int32
	if err := f.ioctl(ioctlPVersion, unsafe.Pointer(&version)); err != nil {
		return fmt.Errorf("pcm: %s: version: %w (not an ALSA PCM device?)", s.name, err)
	}
	if version>>16 != 2 {
		return fmt.Errorf("pcm: %s: version: protocol %d.%d.%d, want 2.x", s.name, version>>16, version>>8&0xff, version&0xff)
	}
	a.wantParams(&s.hw)
	if err := f.ioctl(ioctlHWRefine, unsafe.Pointer(&s.hw)); err != nil {
		return fmt.Errorf("pcm: %s: hw params: device refuses %s: %w (it offers %s)", s.name, a.describeWant(), err, describeDevice(f))
	}
	a.wantParams(&s.hw)
	if err := f.ioctl(ioctlHWParams, unsafe.Pointer(&s.hw)); err != nil {
		return fmt.Errorf("pcm: %s: hw params: %s: %w", s.name, a.describeWant(), err)
	}
	if err := a.checkParams(&s.hw); err != nil {
		return fmt.Errorf("pcm: %s: hw params: %w", s.name, err)
	}
	buffer := uintptr(FrameSize * a.cfg.Periods)
	s.sw = swParams{
		periodStep:    1,
		availMin:      FrameSize,
		stopThreshold: buffer, // an empty playback / full capture ring is an xrun
	}
	if s == &a.capture {
		s.sw.startThreshold = 1 // capture starts with the first read
	} else {
		s.sw.startThreshold = uintptr(FrameSize * a.cfg.Prefill)
	}
	if err := f.ioctl(ioctlSWParams, unsafe.Pointer(&s.sw)); err != nil {
		return fmt.Errorf("pcm: %s: sw params: %w", s.name, err)
	}
	return nil
}

func (a *ALSA) channels() uint32 { return uint32(a.cfg.Slots / a.cfg.Format.channelBytes()) }

// wantParams fills p with the one configuration the highway runs.
func (a *ALSA) wantParams(p *hwParams) {
	p.anyParams()
	p.setMask(paramAccess, accessRWInterleaved)
	p.setMask(paramFormat, uint(a.cfg.Format))
	p.setMask(paramSubformat, subformatStd)
	p.setInt(paramChannels, a.channels())
	p.setInt(paramRate, SampleRate)
	p.setInt(paramPeriodSize, FrameSize)
	p.setInt(paramPeriods, uint32(a.cfg.Periods))
}

func (a *ALSA) describeWant() string {
	return fmt.Sprintf("%s x %d channels at %d Hz, %d periods of %d frames", a.cfg.Format, a.channels(), SampleRate, a.cfg.Periods, FrameSize)
}

// checkParams verifies that the kernel set exactly what was asked.
func (a *ALSA) checkParams(p *hwParams) error {
	for _, c := range []struct {
		name  string
		param int
		want  uint32
	}{
		{"channels", paramChannels, a.channels()},
		{"rate", paramRate, SampleRate},
		{"period size", paramPeriodSize, FrameSize},
		{"periods", paramPeriods, uint32(a.cfg.Periods)},
		{"buffer size", paramBufferSize, uint32(FrameSize * a.cfg.Periods)},
	} {
		if iv := p.interval(c.param); iv.min != c.want || iv.max != c.want {
			return fmt.Errorf("%s set to %d..%d, want %d", c.name, iv.min, iv.max, c.want)
		}
	}
	if !p.hasMask(paramFormat, uint(a.cfg.Format)) || !p.hasMask(paramAccess, accessRWInterleaved) {
		return fmt.Errorf("format or access not kept")
	}
	return nil
}

// describeDevice asks the device for everything it can do, for an error
// message that tells the installer what to change.
func describeDevice(f deviceFile) string {
	var p hwParams
	p.anyParams()
	if err := f.ioctl(ioctlHWRefine, unsafe.Pointer(&p)); err != nil {
		return "nothing it will describe: " + err.Error()
	}
	var formats []string
	for _, fm := range []Format{S16LE, S32LE, MuLaw, ALaw} {
		if p.hasMask(paramFormat, uint(fm)) {
			formats = append(formats, fm.String())
		}
	}
	if len(formats) == 0 {
		formats = append(formats, "none of S16_LE, S32_LE, MU_LAW, A_LAW")
	}
	iv := func(n int) string {
		v := p.interval(n)
		return fmt.Sprintf("%d..%d", v.min, v.max)
	}
	access := "RW_INTERLEAVED"
	if !p.hasMask(paramAccess, accessRWInterleaved) {
		access = "no RW_INTERLEAVED"
	}
	return fmt.Sprintf("%s, formats %s, channels %s, rate %s Hz, period %s frames, periods %s",
		access, strings.Join(formats, " "), iv(paramChannels), iv(paramRate), iv(paramPeriodSize), iv(paramPeriods))
}

// Run moves one period per tick: read the capture period (which blocks
// until the hardware has recorded it: that is the pacing), decode every
// attached port's timeslots, call the Handler, encode, write the playback
// period. Xruns are recovered by preparing the stream again and counted.
// Run returns nil when ctx is done or the highway is closed, and an error
// when the device fails otherwise.
func (a *ALSA) Run(ctx context.Context) error {
	ctx, end, err := a.run.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	// A read blocked in the kernel only returns when the stream stops:
	// dropping both streams is how cancellation reaches it.
	dropped := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		a.drop()
		close(dropped)
	})
	defer func() {
		// Close closes the files once Run returns: a drop under way must
		// finish first.
		if !stop() {
			<-dropped
		}
	}()

	for _, s := range []*stream{&a.capture, &a.playback} {
		if err := s.f.ioctl(ioctlPrepare, nil); err != nil {
			return fmt.Errorf("pcm: %s: prepare: %w", s.name, err)
		}
	}
	if err := a.prefill(); err != nil {
		if err == errXrun {
			err = fmt.Errorf("pcm: %s: prefill: underrun before start", a.playback.name)
		}
		return a.stopped(ctx, err)
	}
	for ctx.Err() == nil && !a.run.closed.Load() {
		if err := a.readPeriod(); err != nil {
			return a.stopped(ctx, err)
		}
		a.process(time.Now(), a.backlog())
		if err := a.writePeriod(); err != nil {
			return a.stopped(ctx, err)
		}
	}
	return nil
}

// stopped turns the error a drop provokes into a clean stop.
func (a *ALSA) stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil || a.run.closed.Load() {
		return nil
	}
	return err
}

func (a *ALSA) drop() {
	_ = a.capture.f.ioctl(ioctlDrop, nil)
	_ = a.playback.f.ioctl(ioctlDrop, nil)
}

// process is one tick between the two transfers.
// backlog is how much captured audio is still waiting after a read: the
// kernel's capture delay. A whole period or more means the box is behind.
func (a *ALSA) backlog() time.Duration {
	if err := a.capture.f.ioctl(ioctlDelay, unsafe.Pointer(&a.capture.delay)); err != nil || a.capture.delay <= 0 {
		return 0
	}
	late := time.Duration(a.capture.delay) * time.Second / SampleRate
	if a.capture.delay >= FrameSize {
		a.overruns.Add(1)
	}
	a.noteLate(late)
	return late
}

func (a *ALSA) process(now time.Time, late time.Duration) {
	ports := *a.ports.Load()
	for _, p := range ports {
		a.decode(p)
	}
	a.dispatch(ports, Tick{Seq: a.seq, Time: now, Late: late})
	a.seq++
	copy(a.out, a.idle)
	for _, p := range ports {
		a.encode(p)
	}
}

// decode reads a port's timeslots out of the interleaved capture period.
func (a *ALSA) decode(p *Port) {
	stride := a.cfg.Slots
	hi := p.slot ^ a.swap
	switch p.codec {
	case Alaw:
		for i := range p.rx {
			p.rx[i] = g711.DecodeAlawSample(a.in[i*stride+hi])
		}
	case Ulaw:
		for i := range p.rx {
			p.rx[i] = g711.DecodeUlawSample(a.in[i*stride+hi])
		}
	case Linear:
		lo := (p.slot + 1) ^ a.swap
		for i := range p.rx {
			b := a.in[i*stride : (i+1)*stride]
			p.rx[i] = int16(uint16(b[hi])<<8 | uint16(b[lo]))
		}
	}
}

// encode writes a port's frame into its timeslots of the playback period.
func (a *ALSA) encode(p *Port) {
	stride := a.cfg.Slots
	hi := p.slot ^ a.swap
	switch p.codec {
	case Alaw:
		for i, v := range p.tx {
			a.out[i*stride+hi] = g711.EncodeAlawSample(v)
		}
	case Ulaw:
		for i, v := range p.tx {
			a.out[i*stride+hi] = g711.EncodeUlawSample(v)
		}
	case Linear:
		lo := (p.slot + 1) ^ a.swap
		for i, v := range p.tx {
			b := a.out[i*stride : (i+1)*stride]
			b[hi], b[lo] = byte(uint16(v)>>8), byte(v)
		}
	}
}

// transfer moves one whole period, continuing after partial transfers
// and signals. It reports -EPIPE (xrun) and -ESTRPIPE (suspend) as
// errXrun so the caller recovers.
func (s *stream) transfer(req uintptr, buf []byte, frameBytes int) error {
	done := 0
	for done < FrameSize {
		s.x = xferi{buf: unsafe.Pointer(&buf[done*frameBytes]), frames: uintptr(FrameSize - done)}
		err := s.f.ioctl(req, unsafe.Pointer(&s.x))
		s.x.buf = nil
		switch {
		case err == nil:
			if s.x.result <= 0 || s.x.result > FrameSize-done {
				return fmt.Errorf("pcm: %s: transfer of %d frames returned %d", s.name, FrameSize-done, s.x.result)
			}
			done += s.x.result
		case errors.Is(err, syscall.EINTR), errors.Is(err, syscall.EAGAIN):
		case errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ESTRPIPE):
			return errXrun
		default:
			return fmt.Errorf("pcm: %s: transfer: %w", s.name, err)
		}
	}
	return nil
}

var errXrun = errors.New("pcm: xrun")

// maxXruns bounds the recoveries in a row before the device is given up
// on: a stream that fails again right after PREPARE is broken, and retrying
// forever would spin without the period pacing.
const maxXruns = 8

// readPeriod reads one capture period. After an overrun the audio since
// the last read is gone: count it, restart the stream and read afresh.
func (a *ALSA) readPeriod() error {
	for try := 0; ; try++ {
		err := a.capture.transfer(ioctlReadIFrames, a.in, a.cfg.Slots)
		if err != errXrun {
			return err
		}
		if try == maxXruns {
			return fmt.Errorf("pcm: %s: %d overruns in a row", a.capture.name, try+1)
		}
		a.overruns.Add(1)
		a.dropped.Add(1)
		a.seq++ // at least one frame is lost
		if err := a.capture.f.ioctl(ioctlPrepare, nil); err != nil {
			return fmt.Errorf("pcm: %s: prepare after overrun: %w", a.capture.name, err)
		}
	}
}

// writePeriod writes one playback period. After an underrun the stream
// is prepared again and refilled with Prefill periods of silence, so it
// restarts with its usual latency.
func (a *ALSA) writePeriod() error {
	for try := 0; ; try++ {
		err := a.playback.transfer(ioctlWriteIFrames, a.out, a.cfg.Slots)
		if err != errXrun {
			return err
		}
		if try == maxXruns {
			return fmt.Errorf("pcm: %s: %d underruns in a row", a.playback.name, try+1)
		}
		a.pxruns.Add(1)
		if err := a.playback.f.ioctl(ioctlPrepare, nil); err != nil {
			return fmt.Errorf("pcm: %s: prepare after underrun: %w", a.playback.name, err)
		}
		if err := a.prefill(); err != nil && err != errXrun {
			return err
		}
	}
}

// prefill queues Prefill periods of silence on the prepared playback
// stream, which starts it. An xrun is returned as errXrun.
func (a *ALSA) prefill() error {
	for range a.cfg.Prefill {
		if err := a.playback.transfer(ioctlWriteIFrames, a.idle, a.cfg.Slots); err != nil {
			return err
		}
	}
	return nil
}

// Close stops Run, waits for it and closes the device.
func (a *ALSA) Close() error {
	if a.capture.f != nil && a.playback.f != nil {
		// Wake a read blocked in the kernel before waiting for Run.
		a.run.closed.Store(true)
		a.drop()
	}
	a.run.close()
	return a.closeFiles()
}

func (a *ALSA) closeFiles() error {
	var errs []error
	for _, s := range []*stream{&a.capture, &a.playback} {
		if s.f != nil {
			if err := s.f.close(); err != nil {
				errs = append(errs, fmt.Errorf("pcm: %s: close: %w", s.name, err))
			}
			s.f = nil
		}
	}
	return errors.Join(errs...)
}
