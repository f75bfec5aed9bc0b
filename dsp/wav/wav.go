// Package wav reads and writes the WAV files callbox exchanges with people:
// 8 kHz mono, as 16-bit linear PCM, G.711 A-law or mu-law in (Decode), and
// 16-bit PCM out. Mono reads the other common encodings, rates and stereo
// for conversion (admin uploads of prompts).
//
// It works on byte slices so it does no I/O itself. The reader is
// forgiving where real files are sloppy (extra chunks such as LIST and
// fact, odd-sized chunks with or without their pad byte, a data chunk cut
// short, WAVE_FORMAT_EXTENSIBLE headers) and strict about the audio format:
// audio it cannot read is an error that says what the file holds.
package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// SampleRate is the only rate read and written.
const SampleRate = 8000

// Format is a WAVE format tag.
type Format uint16

// The formats the reader accepts.
const (
	PCM   Format = 1
	ALaw  Format = 6
	MuLaw Format = 7

	extensible Format = 0xfffe
)

// String names a format tag.
func (f Format) String() string {
	switch f {
	case PCM:
		return "PCM"
	case ALaw:
		return "A-law"
	case MuLaw:
		return "mu-law"
	case 3:
		return "IEEE float"
	case 2:
		return "MS ADPCM"
	case 0x11:
		return "IMA ADPCM"
	case 0x31:
		return "GSM 6.10"
	case 0x55:
		return "MPEG layer 3"
	case extensible:
		return "extensible"
	}
	return fmt.Sprintf("format %#04x", uint16(f))
}

// Info describes a WAV file's audio as found in its fmt chunk.
type Info struct {
	Format        Format
	Channels      int
	SampleRate    int
	BitsPerSample int
}

func (i Info) String() string {
	return fmt.Sprintf("%s, %d Hz, %d channel(s), %d bits", i.Format, i.SampleRate, i.Channels, i.BitsPerSample)
}

// supported reports whether Decode can convert this audio.
func (i Info) supported() bool {
	if i.SampleRate != SampleRate || i.Channels != 1 {
		return false
	}
	switch i.Format {
	case PCM:
		return i.BitsPerSample == 16
	case ALaw, MuLaw:
		return i.BitsPerSample == 8
	}
	return false
}

// Parse reads a WAV file's header and returns its audio description and
// the bytes of its data chunk (cut short if the file is).
func Parse(file []byte) (Info, []byte, error) {
	if len(file) < 12 || string(file[:4]) != "RIFF" || string(file[8:12]) != "WAVE" {
		return Info{}, nil, errors.New("wav: not a RIFF WAVE file")
	}
	var (
		info    Info
		haveFmt bool
		data    []byte
		found   bool
	)
	rest := file[12:]
	for len(rest) >= 8 {
		id := string(rest[:4])
		size := uint64(binary.LittleEndian.Uint32(rest[4:8]))
		body := rest[8:]
		if size > uint64(len(body)) {
			// Truncated chunk (or a streaming writer's 0xffffffff):
			// use what is there.
			size = uint64(len(body))
		}
		switch id {
		case "fmt ":
			var err error
			if info, err = parseFmt(body[:size]); err != nil {
				return Info{}, nil, err
			}
			haveFmt = true
		case "data":
			if !found {
				data, found = body[:size], true
			}
		}
		next := size + size&1 // chunks are padded to even length
		if next > uint64(len(body)) {
			break
		}
		// Some writers leave out the pad byte: if the byte after an odd
		// chunk does not start a plausible chunk id but the one before
		// does, the pad is missing.
		if size&1 == 1 && next+4 <= uint64(len(body)) && !plausibleID(body[next:next+4]) && plausibleID(body[size:size+4]) {
			next = size
		}
		rest = body[next:]
		if haveFmt && found {
			break
		}
	}
	if !haveFmt {
		return Info{}, nil, errors.New("wav: no fmt chunk")
	}
	if !found {
		return info, nil, fmt.Errorf("wav: %v: no data chunk", info)
	}
	return info, data, nil
}

// plausibleID reports whether b looks like a chunk id: four printable
// ASCII characters.
func plausibleID(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

func parseFmt(b []byte) (Info, error) {
	if len(b) < 16 {
		return Info{}, fmt.Errorf("wav: fmt chunk of %d bytes, want at least 16", len(b))
	}
	info := Info{
		Format:        Format(binary.LittleEndian.Uint16(b[0:])),
		Channels:      int(binary.LittleEndian.Uint16(b[2:])),
		SampleRate:    int(binary.LittleEndian.Uint32(b[4:])),
		BitsPerSample: int(binary.LittleEndian.Uint16(b[14:])),
	}
	// WAVE_FORMAT_EXTENSIBLE keeps the real tag in the first two bytes of
	// its sub-format GUID.
	if info.Format == extensible && len(b) >= 26 {
		info.Format = Format(binary.LittleEndian.Uint16(b[24:]))
	}
	return info, nil
}

// Decode returns the samples of an 8 kHz mono WAV file in 16-bit PCM,
// A-law or mu-law as linear 16-bit samples. Other audio is an error naming
// what the file holds.
func Decode(file []byte) ([]int16, error) {
	info, data, err := Parse(file)
	if err != nil {
		return nil, err
	}
	if !info.supported() {
		return nil, fmt.Errorf("wav: unsupported audio: %v; want %d Hz mono 16-bit PCM, 8-bit A-law or 8-bit mu-law", info, SampleRate)
	}
	width := info.BitsPerSample / 8
	m := Mono{info: info, data: data, width: width, frame: width}
	out := make([]int16, m.Len()) // a trailing odd byte is dropped
	m.Read(out)
	return out, nil
}

// headerSize is the length of the header Encode writes.
const headerSize = 44

// maxSamples keeps the RIFF size within 32 bits.
const maxSamples = (1<<32 - 1 - headerSize) / 2

// Encode returns samples as an 8 kHz mono 16-bit PCM WAV file.
func Encode(samples []int16) ([]byte, error) {
	return Append(nil, samples)
}

// Append appends samples as an 8 kHz mono 16-bit PCM WAV file to dst.
func Append(dst []byte, samples []int16) ([]byte, error) {
	if len(samples) > maxSamples {
		return dst, fmt.Errorf("wav: %d samples do not fit in a WAV file (at most %d)", len(samples), maxSamples)
	}
	n := uint32(2 * len(samples))
	le := binary.LittleEndian
	dst = append(dst, "RIFF"...)
	dst = le.AppendUint32(dst, headerSize-8+n)
	dst = append(dst, "WAVEfmt "...)
	dst = le.AppendUint32(dst, 16)
	dst = le.AppendUint16(dst, uint16(PCM))
	dst = le.AppendUint16(dst, 1)          // channels
	dst = le.AppendUint32(dst, SampleRate) // sample rate
	dst = le.AppendUint32(dst, 2*SampleRate)
	dst = le.AppendUint16(dst, 2)  // block align
	dst = le.AppendUint16(dst, 16) // bits per sample
	dst = append(dst, "data"...)
	dst = le.AppendUint32(dst, n)
	for _, s := range samples {
		dst = le.AppendUint16(dst, uint16(s))
	}
	return dst, nil
}
