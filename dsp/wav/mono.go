package wav

import (
	"encoding/binary"
	"fmt"
	"math"

	"callbox/dsp/g711"
)

// Float is the IEEE floating-point format tag (32- or 64-bit samples).
const Float Format = 3

// MaxChannels is the most channels Mono mixes down: mono and stereo. More
// (surround layouts with a bass channel) cannot be mixed by a plain average.
const MaxChannels = 2

// Mono decodes the audio of any common WAV file, block by block, to mono
// 16-bit samples at the file's own sample rate: linear PCM of 8 (unsigned),
// 16, 24 or 32 bits, IEEE float of 32 or 64 bits, A-law and mu-law, mono or
// stereo (stereo is averaged). Changing the rate is the caller's business
// (dsp/resample). It reads from the file's bytes and allocates nothing per
// block; 24- and 32-bit samples are rounded to 16 bits and float samples
// beyond full scale are clipped.
type Mono struct {
	info  Info
	data  []byte // the frames not read yet
	width int    // bytes per sample of one channel
	frame int    // bytes per frame (every channel)
}

// NewMono returns a Mono over a WAV file, or an error (prefixed "wav: ")
// that names what the file holds when it is not audio Mono can decode.
func NewMono(file []byte) (*Mono, error) {
	info, data, err := Parse(file)
	if err != nil {
		return nil, err
	}
	width, err := info.monoWidth()
	if err != nil {
		return nil, err
	}
	return &Mono{info: info, data: data, width: width, frame: width * info.Channels}, nil
}

// monoWidth checks that Mono can decode the audio and returns the bytes of
// one sample of one channel.
func (i Info) monoWidth() (int, error) {
	if i.Channels < 1 || i.Channels > MaxChannels {
		return 0, fmt.Errorf("wav: %v: %d channels; want mono or stereo", i, i.Channels)
	}
	if i.SampleRate <= 0 {
		return 0, fmt.Errorf("wav: %v: no sample rate", i)
	}
	ok := false
	switch i.Format {
	case PCM:
		ok = i.BitsPerSample == 8 || i.BitsPerSample == 16 || i.BitsPerSample == 24 || i.BitsPerSample == 32
	case Float:
		ok = i.BitsPerSample == 32 || i.BitsPerSample == 64
	case ALaw, MuLaw:
		ok = i.BitsPerSample == 8
	}
	if !ok {
		return 0, fmt.Errorf("wav: unsupported encoding: %v; want PCM of 8, 16, 24 or 32 bits, IEEE float of 32 or 64 bits, A-law or mu-law", i)
	}
	return i.BitsPerSample / 8, nil
}

// Info returns the audio description from the file's fmt chunk.
func (m *Mono) Info() Info { return m.info }

// Len returns how many frames (samples of every channel) are left to read;
// a partial frame at the end of a cut-short file is not counted.
func (m *Mono) Len() int { return len(m.data) / m.frame }

// Read decodes up to len(dst) frames into dst as mono samples and returns
// how many it decoded; 0 means the end.
func (m *Mono) Read(dst []int16) int {
	n := min(len(dst), m.Len())
	src := m.data[:n*m.frame]
	m.data = m.data[n*m.frame:]
	if m.info.Channels == 1 {
		for i := range n {
			dst[i] = m.sample(src[i*m.width:])
		}
		return n
	}
	for i := range n {
		l := int32(m.sample(src[i*m.frame:]))
		r := int32(m.sample(src[i*m.frame+m.width:]))
		dst[i] = int16((l + r) >> 1)
	}
	return n
}

// sample decodes one sample of one channel at the start of b.
func (m *Mono) sample(b []byte) int16 {
	le := binary.LittleEndian
	switch m.info.Format {
	case ALaw:
		return g711.DecodeAlawSample(b[0])
	case MuLaw:
		return g711.DecodeUlawSample(b[0])
	case Float:
		if m.width == 4 {
			return floatSample(float64(math.Float32frombits(le.Uint32(b))))
		}
		return floatSample(math.Float64frombits(le.Uint64(b)))
	}
	switch m.width {
	case 1:
		return int16(int32(b[0])-128) << 8 // 8-bit WAV is unsigned
	case 2:
		return int16(le.Uint16(b))
	case 3:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return round16(v, 8)
	default:
		return round16(int32(le.Uint32(b)), 16)
	}
}

// round16 drops the low shift bits of v, rounding to nearest and saturating.
func round16(v int32, shift uint) int16 {
	r := (int64(v) + 1<<(shift-1)) >> shift
	return int16(min(r, math.MaxInt16))
}

// floatSample converts a float sample (full scale is ±1) to 16 bits,
// clipping; NaN is silence.
func floatSample(f float64) int16 {
	switch {
	case f != f:
		return 0
	case f >= 1:
		return math.MaxInt16
	case f <= -1:
		return math.MinInt16
	}
	return int16(max(min(math.Round(f*32768), math.MaxInt16), math.MinInt16))
}
