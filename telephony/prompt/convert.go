package prompt

import (
	"time"

	"callbox/dsp/resample"
	"callbox/dsp/wav"
)

// Limits on what the catalogue takes.
const (
	// MaxFileBytes bounds an uploaded file.
	MaxFileBytes = 20 << 20
	// MaxDuration bounds a prompt's length (uploads, recordings, speech).
	MaxDuration = 10 * time.Minute
	// MinRate and MaxRate bound an upload's sample rate.
	MinRate, MaxRate = 8000, 48000
	// SampleRate is the rate of every prompt in the catalogue.
	SampleRate = 8000
)

// maxSamples is MaxDuration at SampleRate.
const maxSamples = int(MaxDuration / time.Second * SampleRate)

// Upload is a converted file.
type Upload struct {
	Samples []int16 // 8 kHz mono
	Source  string  // what the file held: "PCM, 44100 Hz, 2 channel(s), 16 bits"
}

// Convert makes 8 kHz mono 16-bit audio of a WAV file in any common
// encoding (PCM of 8 to 32 bits, float, A-law, mu-law), rate (8 to 48 kHz)
// and channel count (mono or stereo, averaged), low-pass filtering before
// it decimates (dsp/resample). A file over MaxFileBytes or MaxDuration, or
// one that is not such audio, gives an *Error (matching ErrInvalid) that
// says why.
func Convert(file []byte) (Upload, error) {
	if len(file) > MaxFileBytes {
		return Upload{}, refuse(codeTooLarge, nil, MaxFileBytes>>20)
	}
	info, _, err := wav.Parse(file)
	if err != nil {
		return Upload{}, refuse(codeNotWAV, err)
	}
	switch {
	case info.Channels < 1 || info.Channels > wav.MaxChannels:
		return Upload{}, refuse(codeChannels, nil, info.Channels)
	case info.SampleRate < MinRate || info.SampleRate > MaxRate:
		return Upload{}, refuse(codeRate, nil, info.SampleRate)
	}
	m, err := wav.NewMono(file)
	if err != nil {
		return Upload{}, refuse(codeEncoding, err)
	}
	frames := m.Len()
	if frames == 0 {
		return Upload{}, refuse(codeEmpty, nil)
	}
	if time.Duration(frames)*time.Second/time.Duration(info.SampleRate) > MaxDuration {
		return Upload{}, refuse(codeTooLong, nil, int(MaxDuration/time.Minute))
	}
	r, err := resample.New(info.SampleRate, SampleRate)
	if err != nil {
		return Upload{}, refuse(codeRate, err, info.SampleRate)
	}
	const block = 4096
	in := make([]int16, block)
	out := make([]int16, 0, r.MaxOut(frames)+r.MaxOut(block))
	buf := make([]int16, r.MaxOut(block))
	for {
		n := m.Read(in)
		if n == 0 {
			break
		}
		w, _ := r.Process(buf, in[:n])
		out = append(out, buf[:w]...)
	}
	tail := make([]int16, r.Pending())
	n, err := r.Flush(tail)
	if err != nil {
		return Upload{}, err // cannot happen: tail holds Pending
	}
	out = append(out, tail[:n]...)
	return Upload{Samples: out, Source: info.String()}, nil
}
