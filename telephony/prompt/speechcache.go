package prompt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"callbox/dsp/wav"
)

// DefaultSpeechCacheBytes bounds the synthesized audio kept on disk:
// about 70 minutes of speech.
const DefaultSpeechCacheBytes = 64 << 20

// speechCache keeps synthesized text as files named by a hash of the
// voice, the language and the text, so the same text is synthesized once
// (an IVR node's text, a supervisor's announcement played to many). When
// the files pass the bound, the oldest go first.
type speechCache struct {
	dir   string
	synth Synthesizer
	max   int64
	files *cache

	mu       sync.Mutex
	size     int64 // bytes on disk; -1 until counted
	inflight map[string]*loading
}

func newSpeechCache(dir string, synth Synthesizer, maxBytes int64, files *cache) *speechCache {
	if maxBytes <= 0 {
		maxBytes = DefaultSpeechCacheBytes
	}
	return &speechCache{dir: dir, synth: synth, max: maxBytes, files: files, size: -1, inflight: map[string]*loading{}}
}

func (s *speechCache) path(text, lang string) string {
	h := sha256.New()
	for _, part := range []string{s.synth.Voice(lang), lang, text} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return filepath.Join(s.dir, hex.EncodeToString(h.Sum(nil)[:16])+".wav")
}

func (s *speechCache) speak(ctx context.Context, text, lang string) ([]int16, error) {
	if s.synth == nil {
		return nil, ErrNoSpeech
	}
	if err := checkText(text); err != nil {
		return nil, err
	}
	path := s.path(text, lang)
	if samples, err := s.files.get(path); err == nil {
		return samples, nil
	}
	s.mu.Lock()
	if l := s.inflight[path]; l != nil {
		s.mu.Unlock()
		select {
		case <-l.done:
			return l.samples, l.err
		case <-ctx.Done():
			return nil, fmt.Errorf("prompt: speech: %w", ctx.Err())
		}
	}
	l := &loading{done: make(chan struct{})}
	s.inflight[path] = l
	s.mu.Unlock()

	l.samples, l.err = s.synthesize(ctx, path, text, lang)

	s.mu.Lock()
	delete(s.inflight, path)
	s.mu.Unlock()
	close(l.done)
	return l.samples, l.err
}

// synthesize speaks text and keeps it at path. A failure to keep it is
// not the caller's: the audio is still returned.
func (s *speechCache) synthesize(ctx context.Context, path, text, lang string) ([]int16, error) {
	samples, err := s.synth.Synthesize(ctx, text, lang)
	if err != nil {
		return nil, err
	}
	if len(samples) == 0 || len(samples) > maxSamples {
		return nil, fmt.Errorf("prompt: speech: %d samples of audio for %d characters", len(samples), len(text))
	}
	file, err := wav.Encode(samples)
	if err == nil && writeAtomic(path, file) == nil {
		s.added(int64(len(file)))
		s.files.add(path, samples)
	}
	return samples, nil
}

// added counts a new file and, past the bound, removes the oldest files
// until the cache is at three quarters of it.
func (s *speechCache) added(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.size >= 0 {
		s.size += n
		if s.size <= s.max {
			return
		}
	}
	type file struct {
		path string
		info fs.FileInfo
	}
	var files []file
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	total := int64(0)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".wav") {
			continue
		}
		if info, err := e.Info(); err == nil {
			files = append(files, file{filepath.Join(s.dir, e.Name()), info})
			total += info.Size()
		}
	}
	s.size = total
	if total <= s.max {
		return
	}
	slices.SortFunc(files, func(a, b file) int { return a.info.ModTime().Compare(b.info.ModTime()) })
	for _, f := range files {
		if s.size <= s.max*3/4 {
			break
		}
		if err := os.Remove(f.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			s.size -= f.info.Size()
			s.files.drop(f.path)
		}
	}
}
