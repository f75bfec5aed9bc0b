package recording

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"callbox/dsp/g711"
)

// Encoding is how a recording's samples are stored.
type Encoding uint8

// The encodings a recording can use.
const (
	// ALaw is G.711 A-law, 8 bits a sample (the default: half the space
	// of PCM, and what a CN or EU line carries anyway).
	ALaw Encoding = iota + 1
	// MuLaw is G.711 mu-law, 8 bits a sample.
	MuLaw
	// PCM16 is 16-bit linear PCM.
	PCM16
)

var encodingNames = [...]string{"", "alaw", "ulaw", "pcm16"}

// String names the encoding as settings spell it.
func (e Encoding) String() string {
	if e >= ALaw && e <= PCM16 {
		return encodingNames[e]
	}
	return fmt.Sprintf("encoding(%d)", uint8(e))
}

// ParseEncoding reads "alaw", "ulaw" or "pcm16".
func ParseEncoding(s string) (Encoding, error) {
	for i, n := range encodingNames {
		if i > 0 && n == s {
			return Encoding(i), nil
		}
	}
	return 0, fmt.Errorf("recording: encoding %q: want alaw, ulaw or pcm16", s)
}

// bytesPerSample is the size of one sample of one channel.
func (e Encoding) bytesPerSample() int {
	if e == PCM16 {
		return 2
	}
	return 1
}

// formatTag is the WAVE format tag.
func (e Encoding) formatTag() uint16 {
	switch e {
	case ALaw:
		return 6
	case MuLaw:
		return 7
	}
	return 1
}

// sampleRate is the only rate recorded.
const sampleRate = 8000

// Header layout. PCM files have the canonical 44-byte header; G.711 files
// carry the 18-byte fmt chunk and the fact chunk (sample frames) that the
// WAVE rules ask of non-PCM formats. The sizes sit at fixed offsets, so the
// writer patches them in place as the file grows.
const (
	pcmHeader  = 44
	g711Header = 58

	offRIFFSize = 4
	offFact     = 46 // G.711 only: sample frames
)

// headerLen returns the length of the header for e.
func headerLen(e Encoding) int {
	if e == PCM16 {
		return pcmHeader
	}
	return g711Header
}

// appendHeader appends the header of a file of e with channels channels
// and data bytes of samples.
func appendHeader(b []byte, e Encoding, channels int, data uint32) []byte {
	le := binary.LittleEndian
	bps := e.bytesPerSample()
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, uint32(headerLen(e)-8)+data)
	b = append(b, "WAVEfmt "...)
	if e == PCM16 {
		b = le.AppendUint32(b, 16)
	} else {
		b = le.AppendUint32(b, 18)
	}
	b = le.AppendUint16(b, e.formatTag())
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, sampleRate)
	b = le.AppendUint32(b, uint32(sampleRate*channels*bps))
	b = le.AppendUint16(b, uint16(channels*bps))
	b = le.AppendUint16(b, uint16(8*bps))
	if e != PCM16 {
		b = le.AppendUint16(b, 0) // cbSize
		b = append(b, "fact"...)
		b = le.AppendUint32(b, 4)
		b = le.AppendUint32(b, data/uint32(channels*bps))
	}
	b = append(b, "data"...)
	return le.AppendUint32(b, data)
}

// maxData keeps the RIFF size within 32 bits (a 2-channel A-law file holds
// 74 hours, PCM 37).
const maxData = 1<<32 - 1 - g711Header

// errTooLong ends a recording whose file would outgrow the WAV format.
var errTooLong = errors.New("recording: the file reached the WAV size limit")

// wavWriter writes a WAV file as it grows: encoded frames gather in buf
// and go to the file at flush, after which the header's sizes are patched,
// so the file on disk is always a valid WAV of what it holds.
type wavWriter struct {
	f        *os.File
	enc      Encoding
	channels int
	hdr      int
	data     int64  // bytes of samples on disk
	buf      []byte // encoded, not yet written
	sizes    [12]byte
}

// createWAV creates path (which must not exist) with an empty file's header.
// buffer is how many sample frames (all channels) are gathered before a
// write.
func createWAV(path string, e Encoding, channels, buffer int) (*wavWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, err
	}
	w := &wavWriter{f: f, enc: e, channels: channels, hdr: headerLen(e),
		buf: make([]byte, 0, buffer*channels*e.bytesPerSample())}
	if _, err := f.Write(appendHeader(nil, e, channels, 0)); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return w, nil
}

// full reports whether buf holds a buffer's worth.
func (w *wavWriter) full() bool { return len(w.buf) >= cap(w.buf) }

// put encodes one block of frames: a and b interleaved (b ignored with one
// channel). It never allocates: the caller flushes when full reports true.
func (w *wavWriter) put(a, b []int16) {
	if w.channels == 1 {
		for _, s := range a {
			w.buf = w.appendSample(w.buf, s)
		}
		return
	}
	for i, s := range a {
		w.buf = w.appendSample(w.buf, s)
		w.buf = w.appendSample(w.buf, b[i])
	}
}

func (w *wavWriter) appendSample(buf []byte, s int16) []byte {
	switch w.enc {
	case ALaw:
		return append(buf, g711.EncodeAlawSample(s))
	case MuLaw:
		return append(buf, g711.EncodeUlawSample(s))
	}
	return binary.LittleEndian.AppendUint16(buf, uint16(s))
}

// flush writes what buf holds and patches the header to the new length.
// After an error the file holds a valid WAV of what was written before.
func (w *wavWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if w.data+int64(len(w.buf)) > maxData {
		w.buf = w.buf[:0]
		return errTooLong
	}
	n, err := w.f.WriteAt(w.buf, int64(w.hdr)+w.data)
	w.buf = w.buf[:0]
	// A short write (a full disk) may leave part of a sample frame: the
	// header counts whole frames only.
	block := int64(w.channels * w.enc.bytesPerSample())
	w.data += int64(n) / block * block
	if perr := w.patch(); err == nil {
		err = perr
	}
	return err
}

// patch writes the header's size fields for w.data bytes of samples.
func (w *wavWriter) patch() error {
	le := binary.LittleEndian
	riff := le.AppendUint32(w.sizes[:0], uint32(int64(w.hdr-8)+w.data))
	if _, err := w.f.WriteAt(riff, offRIFFSize); err != nil {
		return err
	}
	if w.enc != PCM16 {
		fact := le.AppendUint32(w.sizes[:0], uint32(w.data/int64(w.channels)))
		if _, err := w.f.WriteAt(fact, offFact); err != nil {
			return err
		}
	}
	size := le.AppendUint32(w.sizes[:0], uint32(w.data))
	_, err := w.f.WriteAt(size, int64(w.hdr-4))
	return err
}

// truncate cuts the samples to data bytes (flush first).
func (w *wavWriter) truncate(data int64) error {
	if data >= w.data {
		return nil
	}
	w.data = data
	if err := w.f.Truncate(int64(w.hdr) + data); err != nil {
		return err
	}
	return w.patch()
}

// size returns the file's length on disk.
func (w *wavWriter) size() int64 { return int64(w.hdr) + w.data }

// duration returns how much audio the file holds.
func (w *wavWriter) duration() time.Duration {
	return durationOf(w.data, w.enc, w.channels)
}

func durationOf(data int64, e Encoding, channels int) time.Duration {
	frames := data / int64(channels*e.bytesPerSample())
	return time.Duration(frames) * time.Second / sampleRate
}

// sync commits the file to storage.
func (w *wavWriter) sync() error { return w.f.Sync() }

// close flushes, syncs and closes the file.
func (w *wavWriter) close() error {
	err := w.flush()
	if serr := w.f.Sync(); err == nil {
		err = serr
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// FileInfo describes a recording file as Inspect or Repair found it.
type FileInfo struct {
	Encoding Encoding
	Channels int
	// DataOffset and DataBytes locate the samples.
	DataOffset, DataBytes int64
	Duration              time.Duration
	// Repaired is set when Repair had to fix the header or drop a partial
	// sample frame at the end.
	Repaired bool
}

// Inspect reads the header of a recording file (one this package wrote:
// 8 kHz, 1 or 2 channels, A-law, mu-law or 16-bit PCM) without changing
// it.
func Inspect(path string) (FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileInfo{}, fmt.Errorf("recording: %w", err)
	}
	defer f.Close()
	return inspect(f)
}

func inspect(f *os.File) (FileInfo, error) {
	st, err := f.Stat()
	if err != nil {
		return FileInfo{}, fmt.Errorf("recording: %w", err)
	}
	var h [g711Header]byte
	n, err := io.ReadFull(f, h[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return FileInfo{}, fmt.Errorf("recording: %s: %w", f.Name(), err)
	}
	info, err := parseHeader(h[:n])
	if err != nil {
		return FileInfo{}, fmt.Errorf("recording: %s: %w", f.Name(), err)
	}
	info.DataBytes = min(info.DataBytes, max(st.Size()-info.DataOffset, 0))
	info.Duration = durationOf(info.DataBytes, info.Encoding, info.Channels)
	return info, nil
}

// parseHeader reads the fixed header the writer lays out.
func parseHeader(h []byte) (FileInfo, error) {
	le := binary.LittleEndian
	if len(h) < pcmHeader || string(h[0:4]) != "RIFF" || string(h[8:16]) != "WAVEfmt " {
		return FileInfo{}, errors.New("not a recording file (no RIFF WAVE header)")
	}
	var info FileInfo
	switch le.Uint16(h[20:]) {
	case 1:
		info.Encoding = PCM16
	case 6:
		info.Encoding = ALaw
	case 7:
		info.Encoding = MuLaw
	default:
		return FileInfo{}, fmt.Errorf("format tag %#x is not a recording's", le.Uint16(h[20:]))
	}
	info.Channels = int(le.Uint16(h[22:]))
	hl := headerLen(info.Encoding)
	switch {
	case info.Channels != 1 && info.Channels != 2, le.Uint32(h[24:]) != sampleRate,
		int(le.Uint16(h[34:])) != 8*info.Encoding.bytesPerSample():
		return FileInfo{}, errors.New("not 8 kHz mono or stereo G.711 or 16-bit PCM")
	case len(h) < hl || string(h[hl-8:hl-4]) != "data",
		hl == g711Header && string(h[38:42]) != "fact":
		return FileInfo{}, errors.New("the data chunk is not where a recording has it")
	}
	// Everything but the sizes is what the writer wrote once, at the start.
	if want := appendHeader(nil, info.Encoding, info.Channels, 0); !sameLayout(h[:hl], want) {
		return FileInfo{}, errors.New("the header is not a recording's")
	}
	info.DataOffset = int64(hl)
	info.DataBytes = int64(le.Uint32(h[hl-4:]))
	return info, nil
}

// sameLayout compares two headers except for their size fields.
func sameLayout(h, want []byte) bool {
	if len(h) != len(want) {
		return false
	}
	for i := range h {
		size := i >= offRIFFSize && i < offRIFFSize+4 || i >= len(h)-4 ||
			len(h) == g711Header && i >= offFact && i < offFact+4
		if !size && h[i] != want[i] {
			return false
		}
	}
	return true
}

// Repair makes a recording file left by a crash or a power cut consistent:
// the header's sizes are set to the samples actually in the file and a
// partial sample frame at its end is cut off. A consistent file is left
// as it is.
func Repair(path string) (FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return FileInfo{}, fmt.Errorf("recording: repair: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return FileInfo{}, fmt.Errorf("recording: repair: %w", err)
	}
	var h [g711Header]byte
	n, _ := io.ReadFull(f, h[:])
	info, err := parseHeader(h[:n])
	if err != nil {
		return FileInfo{}, fmt.Errorf("recording: repair %s: %w", path, err)
	}
	block := int64(info.Channels * info.Encoding.bytesPerSample())
	data := min(max(st.Size()-info.DataOffset, 0), maxData) / block * block
	if data != info.DataBytes || info.DataOffset+data != st.Size() {
		if err := f.Truncate(info.DataOffset + data); err != nil {
			return FileInfo{}, fmt.Errorf("recording: repair: %w", err)
		}
		w := &wavWriter{f: f, enc: info.Encoding, channels: info.Channels, hdr: int(info.DataOffset), data: data}
		if err := w.patch(); err != nil {
			return FileInfo{}, fmt.Errorf("recording: repair: %w", err)
		}
		if err := f.Sync(); err != nil {
			return FileInfo{}, fmt.Errorf("recording: repair: %w", err)
		}
		info.Repaired = true
	}
	info.DataBytes = data
	info.Duration = durationOf(data, info.Encoding, info.Channels)
	return info, nil
}
