package app

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"callbox/dsp/wav"
	"callbox/telephony/cc"
	"callbox/telephony/media"
)

// wavRecorder records the call centre's calls to WAV files in the data
// directory (recordings/<day>/<call>-<kind>.wav): the recorded leg's two
// directions mixed, 8 kHz mono 16-bit, written as the frames come. It is
// the stand-in for the media-services issue's recording store.
type wavRecorder struct {
	dir string
	log *slog.Logger
}

func newWAVRecorder(dir string, log *slog.Logger) *wavRecorder {
	return &wavRecorder{dir: dir, log: log}
}

// Start implements cc.Recorder.
func (r *wavRecorder) Start(call, kind string) (cc.Recording, error) {
	day := time.Now().Format("2006-01-02")
	dir := filepath.Join(r.dir, day)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("app: recording: %w", err)
	}
	name := safeName(call) + "-" + safeName(kind) + ".wav"
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("app: recording: %w", err)
	}
	header, _ := wav.Encode(nil) // sizes fixed when the recording stops
	if _, err := f.Write(header); err != nil {
		f.Close()
		return nil, fmt.Errorf("app: recording: %w", err)
	}
	rec := &wavRecording{id: day + "/" + name, f: f, w: bufio.NewWriter(f), tap: media.NewTap(100),
		stop: make(chan struct{}), done: make(chan struct{}), log: r.log}
	go rec.run()
	return rec, nil
}

// wavRecording is one recording: a goroutine drains the tap into the file
// until Stop.
type wavRecording struct {
	id   string
	f    *os.File
	w    *bufio.Writer
	tap  *media.Tap
	n    int64 // samples written
	err  error
	once sync.Once
	stop chan struct{}
	done chan struct{}
	log  *slog.Logger
}

// Tap implements cc.Recording.
func (r *wavRecording) Tap() *media.Tap { return r.tap }

func (r *wavRecording) run() {
	defer close(r.done)
	var fr media.TapFrame
	var buf [2 * media.FrameSamples]byte
	drain := func() {
		for r.tap.Read(&fr) {
			for i := range media.FrameSamples {
				v := int32(fr.Rx[i]) + int32(fr.Tx[i])
				binary.LittleEndian.PutUint16(buf[2*i:], uint16(int16(max(-32768, min(32767, v)))))
			}
			if r.err == nil {
				_, r.err = r.w.Write(buf[:])
				r.n += media.FrameSamples
			}
		}
	}
	for {
		select {
		case <-r.tap.Ready():
			drain()
		case <-r.stop:
			drain()
			return
		}
	}
}

// Stop implements cc.Recording: the file gets its sizes and is closed.
func (r *wavRecording) Stop() (string, error) {
	r.once.Do(func() { close(r.stop) })
	<-r.done
	err := r.err
	if err == nil {
		err = r.w.Flush()
	}
	if err == nil {
		var sz [4]byte
		binary.LittleEndian.PutUint32(sz[:], uint32(36+2*r.n))
		_, err = r.f.WriteAt(sz[:], 4)
		if err == nil {
			binary.LittleEndian.PutUint32(sz[:], uint32(2*r.n))
			_, err = r.f.WriteAt(sz[:], 40)
		}
	}
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	if d := r.tap.Dropped(); d > 0 {
		r.log.Warn("recording lost frames: the disk fell behind", "recording", r.id, "frames", d)
	}
	if err != nil {
		return "", fmt.Errorf("app: recording %s: %w", r.id, err)
	}
	return r.id, nil
}

// safeName keeps a call id to file-name characters.
func safeName(s string) string {
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			return c
		}
		return '_'
	}, s)
}
