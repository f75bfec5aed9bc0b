package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"callbox/dsp/wav"
	"callbox/telephony/cc"
	"callbox/telephony/ivr"
	callswitch "callbox/telephony/switch"
)

// filePrompts is the call centre's Prompts over the WAV files of the data
// directory (prompts/<language>/<name>.wav, 8 kHz mono PCM, A-law or
// mu-law), until telephony/prompt brings the catalogue, uploads and
// speech: it says plainly that text cannot be spoken yet rather than play
// silence. Decoded prompts are kept, a bounded number of them, and shared
// read-only by the calls that play them.
type filePrompts struct {
	dir  string
	lang string

	mu    sync.Mutex
	cache map[string][]int16
}

// maxCachedPrompts bounds the decoded prompts kept in memory.
const maxCachedPrompts = 256

// maxPromptFile bounds a prompt file read (10 minutes of 16-bit audio).
const maxPromptFile = 10 * 60 * 8000 * 2

// errNoSpeech is what text gives until a speech engine is wired.
var errNoSpeech = errors.New("app: prompts: speech synthesis is not available on this box yet")

func newFilePrompts(dir, lang string) *filePrompts {
	return &filePrompts{dir: dir, lang: lang, cache: map[string][]int16{}}
}

// Source implements cc.Prompts: the file in lang, else in the other
// language; text only says it cannot be spoken.
func (p *filePrompts) Source(_ context.Context, pr ivr.Prompt, lang string) (callswitch.Source, error) {
	if pr.File != "" {
		x, err := p.load(pr.File, lang)
		if err == nil {
			return &samples{x: x}, nil
		}
		if !errors.Is(err, ivr.ErrPromptMissing) || pr.Text == "" {
			return nil, err
		}
	}
	if pr.Text != "" {
		return nil, fmt.Errorf("%w (text %q)", errNoSpeech, pr.Text)
	}
	return nil, fmt.Errorf("app: prompt: %w: no file and no text", ivr.ErrPromptMissing)
}

// Say implements cc.Prompts by composing small prompts: digit-0 to
// digit-9, and agent-before/agent-after, queue-position, queue-wait and
// minutes around the numbers.
func (p *filePrompts) Say(_ context.Context, ph cc.Phrase, lang string) (callswitch.Source, error) {
	var names []string
	digits := func(s string) {
		for _, d := range s {
			names = append(names, "digit-"+string(d))
		}
	}
	switch ph.Kind {
	case cc.PhraseAgent:
		if lang == "en" {
			names = append(names, "agent-before")
			digits(ph.Digits)
			names = append(names, "agent-after")
		} else {
			digits(ph.Digits)
			names = append(names, "agent-after")
		}
	case cc.PhraseDigits:
		digits(ph.Digits)
	case cc.PhrasePosition:
		names = append(names, "queue-position")
		digits(strconv.Itoa(ph.N))
	case cc.PhraseWait:
		names = append(names, "queue-wait")
		digits(strconv.Itoa(max(1, int(ph.D.Round(time.Minute)/time.Minute))))
		names = append(names, "minutes")
	default:
		return nil, fmt.Errorf("app: prompts: unknown phrase %d", ph.Kind)
	}
	srcs := make([]callswitch.Source, 0, len(names))
	for _, n := range names {
		x, err := p.load(n, lang)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, &samples{x: x})
	}
	return cc.Sequence(srcs...), nil
}

// load returns a prompt's samples, decoding its file once.
func (p *filePrompts) load(name, lang string) ([]int16, error) {
	if !validPromptName(name) {
		return nil, fmt.Errorf("app: prompt %q: %w: not a prompt name", name, ivr.ErrPromptMissing)
	}
	if lang == "" {
		lang = p.lang
	}
	other := "en"
	if lang == "en" {
		other = "zh-CN"
	}
	for _, l := range []string{lang, other} {
		key := l + "/" + name
		p.mu.Lock()
		x, ok := p.cache[key]
		p.mu.Unlock()
		if ok {
			return x, nil
		}
		path := filepath.Join(p.dir, l, name+".wav")
		st, err := os.Stat(path)
		if err != nil {
			continue
		}
		if st.Size() > maxPromptFile {
			return nil, fmt.Errorf("app: prompt %s: %d bytes, more than 10 minutes", path, st.Size())
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("app: prompt %s: %w", path, err)
		}
		x, err = wav.Decode(data)
		if err != nil {
			return nil, fmt.Errorf("app: prompt %s: %w", path, err)
		}
		p.mu.Lock()
		if len(p.cache) >= maxCachedPrompts {
			clear(p.cache)
		}
		p.cache[key] = x
		p.mu.Unlock()
		return x, nil
	}
	return nil, fmt.Errorf("app: prompt %q: %w", name, ivr.ErrPromptMissing)
}

// validPromptName keeps prompt names to file names inside the prompt
// directory: letters, digits, - and _.
func validPromptName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// samples plays decoded audio (shared, read-only) once.
type samples struct {
	x   []int16
	pos int
}

// ReadFrame implements callswitch.Source.
func (s *samples) ReadFrame(f []int16) {
	n := copy(f, s.x[s.pos:])
	s.pos += n
	clear(f[n:])
}

// Done implements callswitch.Source.
func (s *samples) Done() bool { return s.pos >= len(s.x) }

// SavePrompt implements cc.PromptSaver: a prompt recorded by phone is
// written to the catalogue (a temporary file renamed into place, so a
// crash leaves the old prompt or the new one, never half of one).
func (p *filePrompts) SavePrompt(_ context.Context, name, lang string, x []int16) error {
	if !validPromptName(name) {
		return fmt.Errorf("app: prompt %q: not a prompt name", name)
	}
	if lang != "en" {
		lang = "zh-CN"
	}
	data, err := wav.Encode(x)
	if err != nil {
		return fmt.Errorf("app: prompt %s: %w", name, err)
	}
	dir := filepath.Join(p.dir, lang)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("app: prompt %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(dir, "."+name+"-*.wav")
	if err != nil {
		return fmt.Errorf("app: prompt %s: %w", name, err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name+".wav"))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("app: prompt %s: %w", name, err)
	}
	p.mu.Lock()
	delete(p.cache, lang+"/"+name)
	p.mu.Unlock()
	return nil
}
