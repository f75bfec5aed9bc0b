package pcm

import "unsafe"

// The kernel's ALSA PCM interface (include/uapi/sound/asound.h), declared
// with Go types whose sizes and alignment match the C structs on linux/amd64,
// linux/arm64 (LP64) and linux/arm (ILP32, EABI): snd_pcm_uframes_t and
// snd_pcm_sframes_t are C longs (uintptr and int here), and no member needs
// 8-byte alignment on arm. asound_test.go checks every size and offset
// against the header's layout for the GOARCH under test.

// Parameter indices (SNDRV_PCM_HW_PARAM_*).
const (
	paramAccess    = 0
	paramFormat    = 1
	paramSubformat = 2

	paramFirstInterval = 8
	paramSampleBits    = 8
	paramFrameBits     = 9
	paramChannels      = 10
	paramRate          = 11
	paramPeriodTime    = 12
	paramPeriodSize    = 13
	paramPeriodBytes   = 14
	paramPeriods       = 15
	paramBufferTime    = 16
	paramBufferSize    = 17
	paramBufferBytes   = 18
	paramTickTime      = 19
)

const (
	accessRWInterleaved = 3 // SNDRV_PCM_ACCESS_RW_INTERLEAVED
	subformatStd        = 0 // SNDRV_PCM_SUBFORMAT_STD
)

// sndMask is struct snd_mask: a 256-bit set.
type sndMask struct {
	bits [8]uint32
}

// sndInterval is struct snd_interval. The four one-bit fields openmin,
// openmax, integer and empty share one unsigned int, allocated from the
// least significant bit on little-endian ABIs.
type sndInterval struct {
	min, max uint32
	flags    uint32
}

const (
	intervalOpenMin = 1 << 0
	intervalOpenMax = 1 << 1
	intervalInteger = 1 << 2
	intervalEmpty   = 1 << 3
)

// hwParams is struct snd_pcm_hw_params. Recent kernels split the first 16
// reserved bytes off as sync[16]; the layout is unchanged.
type hwParams struct {
	flags     uint32
	masks     [3]sndMask
	mres      [5]sndMask
	intervals [12]sndInterval
	ires      [9]sndInterval
	rmask     uint32
	cmask     uint32
	info      uint32
	msbits    uint32
	rateNum   uint32
	rateDen   uint32
	fifoSize  uintptr
	reserved  [64]byte
}

// swParams is struct snd_pcm_sw_params.
type swParams struct {
	tstampMode       int32
	periodStep       uint32
	sleepMin         uint32
	availMin         uintptr
	xferAlign        uintptr
	startThreshold   uintptr
	stopThreshold    uintptr
	silenceThreshold uintptr
	silenceSize      uintptr
	boundary         uintptr
	proto            uint32
	tstampType       uint32
	reserved         [56]byte
}

// xferi is struct snd_xferi, the argument of READI/WRITEI_FRAMES.
type xferi struct {
	result int
	buf    unsafe.Pointer
	frames uintptr
}

// Linux's generic ioctl number encoding (asm-generic/ioctl.h), used by
// x86, arm and arm64 alike.
const (
	iocNone  = 0
	iocWrite = 1
	iocRead  = 2
)

// PCM ioctls (SNDRV_PCM_IOCTL_*).
const (
	ioctlPVersion     uintptr = iocRead<<30 | 4<<16 | 'A'<<8 // nr 0x00
	ioctlHWRefine     uintptr = (iocRead|iocWrite)<<30 | unsafe.Sizeof(hwParams{})<<16 | 'A'<<8 | 0x10
	ioctlHWParams     uintptr = (iocRead|iocWrite)<<30 | unsafe.Sizeof(hwParams{})<<16 | 'A'<<8 | 0x11
	ioctlSWParams     uintptr = (iocRead|iocWrite)<<30 | unsafe.Sizeof(swParams{})<<16 | 'A'<<8 | 0x13
	ioctlDelay        uintptr = iocRead<<30 | unsafe.Sizeof(int(0))<<16 | 'A'<<8 | 0x21
	ioctlPrepare      uintptr = iocNone<<30 | 0<<16 | 'A'<<8 | 0x40
	ioctlStart        uintptr = iocNone<<30 | 0<<16 | 'A'<<8 | 0x42
	ioctlDrop         uintptr = iocNone<<30 | 0<<16 | 'A'<<8 | 0x43
	ioctlWriteIFrames uintptr = iocWrite<<30 | unsafe.Sizeof(xferi{})<<16 | 'A'<<8 | 0x50
	ioctlReadIFrames  uintptr = iocRead<<30 | unsafe.Sizeof(xferi{})<<16 | 'A'<<8 | 0x51
)

// anyParams sets p to "everything allowed", the starting point of a
// refinement: all mask bits set, every interval [0, max], every parameter
// requested for refinement.
func (p *hwParams) anyParams() {
	*p = hwParams{}
	for i := range p.masks {
		for j := range p.masks[i].bits {
			p.masks[i].bits[j] = ^uint32(0)
		}
	}
	for i := range p.intervals {
		p.intervals[i] = sndInterval{min: 0, max: ^uint32(0)}
	}
	p.rmask = ^uint32(0)
	p.info = ^uint32(0)
}

// setMask restricts mask parameter n to the single value v.
func (p *hwParams) setMask(n int, v uint) {
	m := &p.masks[n-paramAccess]
	m.bits = [8]uint32{}
	m.bits[v/32] = 1 << (v % 32)
}

// hasMask reports whether value v is allowed for mask parameter n.
func (p *hwParams) hasMask(n int, v uint) bool {
	return p.masks[n-paramAccess].bits[v/32]&(1<<(v%32)) != 0
}

// setInt restricts interval parameter n to the integer v.
func (p *hwParams) setInt(n int, v uint32) {
	p.intervals[n-paramFirstInterval] = sndInterval{min: v, max: v, flags: intervalInteger}
}

// interval returns interval parameter n.
func (p *hwParams) interval(n int) *sndInterval { return &p.intervals[n-paramFirstInterval] }
