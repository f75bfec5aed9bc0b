package recording

import (
	"errors"
	"fmt"
	"io"
	"os"

	"callbox/dsp/g711"
)

// Playback is a recording file opened for listening: an io.ReadSeeker, so
// that an HTTP handler serves byte ranges of it (http.ServeContent). A
// G.711 file is presented as 16-bit PCM, which every browser plays, decoded
// as it is read: the PCM file's bytes map one to one onto the G.711 file's
// samples, so a range of the one is a range of the other.
type Playback struct {
	f    *os.File
	info FileInfo
	hdr  []byte // the presented file's header
	size int64  // the presented file's length
	off  int64
	raw  []byte // scratch for G.711 reads
}

// OpenPlayback opens a recording file for listening. asPCM presents a G.711
// file as 16-bit PCM; otherwise the file is served as it is.
func OpenPlayback(path string, asPCM bool) (*Playback, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	info, err := inspect(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	p := &Playback{f: f, info: info}
	if asPCM && info.Encoding != PCM16 {
		// Only whole sample frames of the G.711 file are presented.
		frames := info.DataBytes / int64(info.Channels)
		p.hdr = appendHeader(nil, PCM16, info.Channels, uint32(frames*int64(info.Channels)*2))
		p.size = int64(len(p.hdr)) + frames*int64(info.Channels)*2
		p.raw = make([]byte, 4096)
	} else {
		p.size = info.DataOffset + info.DataBytes
	}
	return p, nil
}

// Info returns what the file holds.
func (p *Playback) Info() FileInfo { return p.info }

// Size returns the length of the presented file.
func (p *Playback) Size() int64 { return p.size }

// Read implements io.Reader.
func (p *Playback) Read(b []byte) (int, error) {
	n, err := p.ReadAt(b, p.off)
	p.off += int64(n)
	return n, err
}

// Seek implements io.Seeker.
func (p *Playback) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += p.off
	case io.SeekEnd:
		offset += p.size
	default:
		return 0, errors.New("recording: seek: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("recording: seek before the start")
	}
	p.off = offset
	return offset, nil
}

// ReadAt implements io.ReaderAt.
func (p *Playback) ReadAt(b []byte, off int64) (int, error) {
	if off >= p.size {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.size-off)]
	if p.hdr == nil {
		n, err := p.f.ReadAt(b, off)
		if err == io.EOF && n == len(b) {
			err = nil
		}
		return n, err
	}
	n := 0
	if off < int64(len(p.hdr)) {
		n = copy(b, p.hdr[off:])
	}
	for n < len(b) {
		// PCM byte pos is byte pos/2 of sample pos/2 in the G.711 data.
		pos := off + int64(n) - int64(len(p.hdr))
		sample := pos / 2
		want := min((len(b)-n+1)/2+1, len(p.raw))
		m, err := p.f.ReadAt(p.raw[:want], p.info.DataOffset+sample)
		if m == 0 {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF // the file shrank under us
			}
			return n, err
		}
		for _, c := range p.raw[:m] {
			var s int16
			if p.info.Encoding == ALaw {
				s = g711.DecodeAlawSample(c)
			} else {
				s = g711.DecodeUlawSample(c)
			}
			pair := [2]byte{byte(s), byte(uint16(s) >> 8)}
			for i := pos & 1; i < 2 && n < len(b); i++ {
				b[n] = pair[i]
				n++
			}
			pos = 0 // later samples start at their low byte
			if n == len(b) {
				break
			}
		}
	}
	return n, nil
}

// Close closes the file.
func (p *Playback) Close() error { return p.f.Close() }
