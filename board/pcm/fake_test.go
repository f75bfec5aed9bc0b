package pcm

import (
	"fmt"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// fakeKernel stands in for the ALSA core behind /dev/snd/pcmC0D0{c,p}: it
// answers the same ioctls on the same structs as the kernel, keeps each
// stream's state (open, setup, prepared, running, xrun) the way the kernel
// does, produces capture audio from gen and records playback audio, and
// injects errors on chosen transfers.
type fakeKernel struct {
	mu   sync.Mutex
	cond *sync.Cond

	formats            []Format
	channels           uint32 // the only channel count accepted; 0: 1..64
	periodMin          uint32
	periodMax          uint32
	noLog              bool
	block              bool // capture reads wait until the stream is dropped
	blocked            int  // readers waiting now
	log                []string
	streams            map[string]*fakeStream
	gen                func(frame int, b []byte) // fills one capture frame
	readFault, wrFault map[int]syscall.Errno     // by transfer number
	readShort          map[int]int               // by transfer number: frames to return
	delay              map[int]int               // capture delay after transfer n
}

type fakeState int

const (
	stOpen fakeState = iota
	stSetup
	stPrepared
	stRunning
	stXrun
)

type fakeStream struct {
	k          *fakeKernel
	name       string
	capture    bool
	state      fakeState
	channels   uint32
	frameBytes int
	sw         swParams
	queued     uintptr // playback frames written since prepare
	transfers  int
	frames     int // capture frames produced
	written    []byte
	closed     bool
}

func newFakeKernel() *fakeKernel {
	k := &fakeKernel{
		formats: []Format{S16LE, S32LE, MuLaw, ALaw}, periodMin: 16, periodMax: 4096,
		streams: map[string]*fakeStream{},
	}
	k.cond = sync.NewCond(&k.mu)
	return k
}

func (k *fakeKernel) open(path string) (deviceFile, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	name := path[strings.LastIndex(path, "/")+1:]
	if !strings.HasPrefix(path, "/dev/snd/") || (!strings.HasSuffix(name, "c") && !strings.HasSuffix(name, "p")) {
		return nil, syscall.ENOENT
	}
	s := &fakeStream{k: k, name: name, capture: strings.HasSuffix(name, "c")}
	k.streams[name] = s
	return s, nil
}

func (k *fakeKernel) logf(format string, args ...any) {
	if !k.noLog {
		k.log = append(k.log, fmt.Sprintf(format, args...))
	}
}

// refine narrows p to what the fake hardware supports, as the kernel's
// snd_pcm_hw_refine does, or fails with EINVAL when nothing is left.
func (k *fakeKernel) refine(p *hwParams) error {
	if !p.hasMask(paramAccess, accessRWInterleaved) {
		return syscall.EINVAL
	}
	p.setMask(paramAccess, accessRWInterleaved)
	var fm sndMask
	for _, f := range k.formats {
		if p.hasMask(paramFormat, uint(f)) {
			fm.bits[f/32] |= 1 << (f % 32)
		}
	}
	if fm == (sndMask{}) {
		return syscall.EINVAL
	}
	p.masks[paramFormat] = fm
	narrow := func(n int, lo, hi uint32) bool {
		iv := p.interval(n)
		iv.min, iv.max = max(iv.min, lo), min(iv.max, hi)
		return iv.min <= iv.max
	}
	chMin, chMax := uint32(1), uint32(64)
	if k.channels != 0 {
		chMin, chMax = k.channels, k.channels
	}
	if !narrow(paramChannels, chMin, chMax) || !narrow(paramRate, 8000, 8000) ||
		!narrow(paramPeriodSize, k.periodMin, k.periodMax) || !narrow(paramPeriods, 2, 16) {
		return syscall.EINVAL
	}
	return nil
}

func (s *fakeStream) ioctl(req uintptr, arg unsafe.Pointer) error {
	k := s.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if s.closed {
		return syscall.EBADF
	}
	switch req {
	case ioctlPVersion:
		*(*int32)(arg) = 2<<16 | 0<<8 | 15
		k.logf("%s PVERSION", s.name)
	case ioctlHWRefine:
		k.logf("%s HW_REFINE", s.name)
		return k.refine((*hwParams)(arg))
	case ioctlHWParams:
		p := (*hwParams)(arg)
		if err := k.refine(p); err != nil {
			return err
		}
		// Choose the smallest of what is left, as snd_pcm_hw_params_choose.
		var format uint
		for format = 0; !p.hasMask(paramFormat, format); format++ {
		}
		p.setMask(paramFormat, format)
		for _, n := range []int{paramChannels, paramRate, paramPeriodSize, paramPeriods} {
			p.setInt(n, p.interval(n).min)
		}
		p.setInt(paramBufferSize, p.interval(paramPeriodSize).min*p.interval(paramPeriods).min)
		s.channels = p.interval(paramChannels).min
		s.frameBytes = int(s.channels) * Format(format).channelBytes()
		s.state = stSetup
		k.logf("%s HW_PARAMS format=%s channels=%d rate=%d period=%d periods=%d", s.name, Format(format),
			s.channels, p.interval(paramRate).min, p.interval(paramPeriodSize).min, p.interval(paramPeriods).min)
	case ioctlSWParams:
		if s.state != stSetup {
			return syscall.EBADFD
		}
		s.sw = *(*swParams)(arg)
		k.logf("%s SW_PARAMS avail_min=%d start=%d stop=%d", s.name, s.sw.availMin, s.sw.startThreshold, s.sw.stopThreshold)
	case ioctlPrepare:
		if s.state == stOpen {
			return syscall.EBADFD
		}
		s.state, s.queued = stPrepared, 0
		k.logf("%s PREPARE", s.name)
	case ioctlDelay:
		if s.state == stXrun {
			return syscall.EPIPE
		}
		d := 0
		if s.capture {
			d = k.delay[s.transfers-1]
		}
		*(*int)(arg) = d
	case ioctlDrop:
		if s.state != stOpen {
			s.state = stSetup
		}
		k.logf("%s DROP", s.name)
		k.cond.Broadcast()
	case ioctlReadIFrames, ioctlWriteIFrames:
		return s.transfer(req, (*xferi)(arg))
	default:
		return syscall.ENOTTY
	}
	return nil
}

func (s *fakeStream) transfer(req uintptr, x *xferi) error {
	k := s.k
	n := s.transfers
	s.transfers++
	op := "READI"
	faults := k.readFault
	if req == ioctlWriteIFrames {
		op, faults = "WRITEI", k.wrFault
	}
	if s.capture != (req == ioctlReadIFrames) {
		return syscall.EINVAL
	}
	switch s.state {
	case stOpen, stSetup:
		return syscall.EBADFD
	case stXrun:
		return syscall.EPIPE
	}
	if e, ok := faults[n]; ok {
		if e == syscall.EPIPE {
			s.state = stXrun
		}
		k.logf("%s %s %s", s.name, op, e)
		return e
	}
	frames := int(x.frames)
	buf := unsafe.Slice((*byte)(x.buf), frames*s.frameBytes)
	if s.capture {
		for k.block && s.state != stSetup {
			k.blocked++
			k.cond.Wait()
			k.blocked--
		}
		if s.state == stSetup {
			return syscall.EBADFD
		}
		if short, ok := k.readShort[n]; ok {
			frames = short
		}
		s.state = stRunning
		for i := range frames {
			k.gen(s.frames, buf[i*s.frameBytes:(i+1)*s.frameBytes])
			s.frames++
		}
	} else {
		s.written = append(s.written, buf...)
		s.queued += uintptr(frames)
		if s.state == stPrepared && s.queued >= s.sw.startThreshold {
			s.state = stRunning
		}
	}
	x.result = frames
	if !k.noLog { // boxing the arguments would allocate
		k.logf("%s %s %d", s.name, op, frames)
	}
	return nil
}

func (s *fakeStream) close() error {
	s.k.mu.Lock()
	defer s.k.mu.Unlock()
	s.closed = true
	s.k.logf("%s close", s.name)
	return nil
}

// stream returns the fake stream named like "pcmC0D0p".
func (k *fakeKernel) stream(name string) *fakeStream {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.streams[name]
}

// logged returns the log lines of one stream, without the stream name.
func (k *fakeKernel) logged(name string) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, l := range k.log {
		if rest, ok := strings.CutPrefix(l, name+" "); ok {
			out = append(out, rest)
		}
	}
	return out
}
