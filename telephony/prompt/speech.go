package prompt

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Synthesizer speaks text.
type Synthesizer interface {
	// Synthesize returns text spoken in lang (zh-CN or en) as 8 kHz mono
	// samples. It honours ctx and bounds its own time and output.
	Synthesize(ctx context.Context, text, lang string) ([]int16, error)
	// Voice names the voice and settings used for lang, so audio cached
	// under one voice is not played for another.
	Voice(lang string) string
}

// MaxTextLen bounds the text of one synthesis, in characters: a few
// minutes of speech.
const MaxTextLen = 1000

// checkText refuses empty or overlong text.
func checkText(text string) error {
	if strings.TrimSpace(text) == "" || utf8.RuneCountInString(text) > MaxTextLen || !utf8.ValidString(text) {
		return refuse(codeText, nil, MaxTextLen)
	}
	return nil
}

// Espeak is the espeak-ng speech engine (Debian and Buildroot package it
// with Mandarin and English voices). Each synthesis runs the program with
// the text on its standard input, under a timeout and an output bound, at
// most a few at a time; its 22.05 kHz output goes through Convert.
type Espeak struct {
	// Path is the program.
	Path string
	// Voices maps a language to an espeak-ng voice: cmn-latn-pinyin and
	// en by default. (espeak-ng's plain cmn voice reads the pinyin its
	// dictionary gives for Chinese characters as English words:
	// "nin two hao three" for 您好.)
	Voices map[string]string
	// WPM is the speaking rate in words a minute (espeak-ng -s); 0 keeps
	// 150, a little slower than espeak-ng's default, for the telephone.
	WPM int
	// Timeout bounds one synthesis (30 s when 0).
	Timeout time.Duration

	once sync.Once
	sem  chan struct{}
}

// EspeakProgram is the engine's program name.
const EspeakProgram = "espeak-ng"

// maxParallel is how many syntheses run at once: each is a process that
// takes a core for a moment, and the box has few.
const maxParallel = 2

// NewEspeak finds espeak-ng on PATH. Without it the error wraps
// ErrNoSpeech.
func NewEspeak() (*Espeak, error) {
	path, err := exec.LookPath(EspeakProgram)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoSpeech, err)
	}
	return &Espeak{Path: path}, nil
}

func (e *Espeak) voice(lang string) string {
	if v := e.Voices[lang]; v != "" {
		return v
	}
	if lang == English {
		return "en"
	}
	return "cmn-latn-pinyin"
}

func (e *Espeak) wpm() int {
	if e.WPM > 0 {
		return e.WPM
	}
	return 150
}

// Voice implements Synthesizer.
func (e *Espeak) Voice(lang string) string {
	return fmt.Sprintf("%s -v %s -s %d", EspeakProgram, e.voice(lang), e.wpm())
}

// Synthesize implements Synthesizer.
func (e *Espeak) Synthesize(ctx context.Context, text, lang string) ([]int16, error) {
	if err := checkText(text); err != nil {
		return nil, err
	}
	lang, err := Lang(lang)
	if err != nil {
		return nil, err
	}
	e.once.Do(func() { e.sem = make(chan struct{}, maxParallel) })
	select {
	case e.sem <- struct{}{}:
		defer func() { <-e.sem }()
	case <-ctx.Done():
		return nil, fmt.Errorf("prompt: espeak-ng: %w", ctx.Err())
	}
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.Path, "-v", e.voice(lang), "-s", fmt.Sprint(e.wpm()), "-b", "1", "--stdin", "--stdout")
	cmd.Stdin = strings.NewReader(text)
	cmd.WaitDelay = time.Second
	errOut := &boundedBuffer{max: 4 << 10}
	cmd.Stderr = errOut
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("prompt: espeak-ng: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("prompt: espeak-ng: %w", err)
	}
	out, rerr := io.ReadAll(io.LimitReader(stdout, MaxFileBytes+1))
	if len(out) > MaxFileBytes {
		_ = cmd.Process.Kill()
	}
	err = cmd.Wait()
	switch {
	case len(out) > MaxFileBytes:
		return nil, fmt.Errorf("prompt: espeak-ng: more than %d MiB of audio", MaxFileBytes>>20)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("prompt: espeak-ng: %w", ctx.Err())
	case err != nil:
		return nil, fmt.Errorf("prompt: espeak-ng: %w: %s", err, strings.TrimSpace(errOut.String()))
	case rerr != nil:
		return nil, fmt.Errorf("prompt: espeak-ng: %w", rerr)
	}
	up, err := Convert(out)
	if err != nil {
		return nil, fmt.Errorf("prompt: espeak-ng output: %w", err)
	}
	return tidy(up.Samples), nil
}

// boundedBuffer keeps the first max bytes written to it (a child's error
// text) and drops the rest.
type boundedBuffer struct {
	bytes.Buffer
	max int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.Buffer.Write(p[:min(len(p), max(b.max-b.Len(), 0))])
	return len(p), nil
}
