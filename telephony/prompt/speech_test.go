package prompt

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func espeak(t *testing.T) *Espeak {
	t.Helper()
	needTool(t, EspeakProgram, "espeak-ng")
	e, err := NewEspeak()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestEspeak speaks both languages through the real engine: speech of a
// plausible length, trimmed and at the spoken-prompt level.
func TestEspeak(t *testing.T) {
	e := espeak(t)
	for _, tt := range []struct{ lang, text string }{
		{Chinese, "您好，1088 号客服代表为您服务。"},
		{English, "Agent one zero eight eight at your service."},
		{"en-GB", "-v --help"}, // text that looks like options is still text
	} {
		s, err := e.Synthesize(context.Background(), tt.text, tt.lang)
		if err != nil {
			t.Fatalf("%s: %v", tt.lang, err)
		}
		d := time.Duration(len(s)) * time.Second / SampleRate
		if d < 300*time.Millisecond || d > 8*time.Second {
			t.Errorf("%s %q: %v of speech", tt.lang, tt.text, d)
		}
		peak := 0
		for _, v := range s {
			peak = max(peak, int(v), -int(v))
		}
		if peak < peakLevel*9/10 || peak > peakLevel {
			t.Errorf("%s: peak %d, want about %d", tt.lang, peak, peakLevel)
		}
		// At most 40 ms of silence is left at each end.
		first, last := -1, -1
		for i, v := range s {
			if max(int(v), -int(v))*silenceRatio > peak {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		if first > edgeSamples || last < len(s)-1-edgeSamples {
			t.Errorf("%s: sound from sample %d to %d of %d: silence not trimmed", tt.lang, first, last, len(s))
		}
	}
	if !strings.Contains(e.Voice(Chinese), "cmn") || !strings.Contains(e.Voice(English), "-v en") {
		t.Errorf("voices %q, %q", e.Voice(Chinese), e.Voice(English))
	}
}

// TestEspeakBounds runs stand-ins for a hung and a runaway engine.
func TestEspeakBounds(t *testing.T) {
	needTool(t, "sh", "dash")
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctx := context.Background()
	hung := &Espeak{Path: script("hung", "exec sleep 30"), Timeout: 200 * time.Millisecond}
	start := time.Now()
	if _, err := hung.Synthesize(ctx, "hello", English); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hung engine: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a hung engine took %v to give up", d)
	}
	runaway := &Espeak{Path: script("runaway", "exec cat /dev/zero")}
	if _, err := runaway.Synthesize(ctx, "hello", English); err == nil || !strings.Contains(err.Error(), "more than 20 MiB") {
		t.Errorf("runaway engine: %v", err)
	}
	failing := &Espeak{Path: script("failing", "echo 'no voice cmn' >&2; exit 1")}
	if _, err := failing.Synthesize(ctx, "hello", Chinese); err == nil || !strings.Contains(err.Error(), "no voice cmn") {
		t.Errorf("failing engine: %v", err)
	}
	garbage := &Espeak{Path: script("garbage", "echo not audio")}
	if _, err := garbage.Synthesize(ctx, "hello", Chinese); !errors.Is(err, ErrInvalid) {
		t.Errorf("an engine writing garbage: %v", err)
	}
}

func TestNoEspeak(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := NewEspeak(); !errors.Is(err, ErrNoSpeech) || !strings.Contains(err.Error(), "install espeak-ng") {
		t.Fatalf("without espeak-ng: %v", err)
	}
}

func TestTidy(t *testing.T) {
	s := append(append(make([]int16, 4000), tone(500, 4000, 800)...), make([]int16, 4000)...)
	got := tidy(s)
	if len(got) < 800 || len(got) > 800+2*edgeSamples {
		t.Fatalf("%d samples after trimming 800 of sound", len(got))
	}
	peak := 0
	for _, v := range got {
		peak = max(peak, int(v), -int(v))
	}
	if peak < peakLevel-2 || peak > peakLevel {
		t.Fatalf("peak %d", peak)
	}
	if z := tidy(make([]int16, 100)); len(z) != 100 {
		t.Fatal("silence was trimmed away")
	}
}

// TestEspeakSpeaksMandarin asks espeak-ng for the phonemes of every
// Mandarin system prompt: none may switch to English, as the plain cmn
// voice does when it reads its dictionary's pinyin ("nin two hao three").
func TestEspeakSpeaksMandarin(t *testing.T) {
	e := espeak(t)
	var text strings.Builder
	for _, p := range System() {
		if p.ZH != "" {
			text.WriteString(p.ZH)
			text.WriteString("\n")
		}
	}
	cmd := exec.Command(e.Path, "-v", e.voice(Chinese), "-b", "1", "--stdin", "-q", "-x")
	cmd.Stdin = strings.NewReader(text.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 50 {
		t.Fatalf("%d lines of phonemes", len(lines))
	}
	for _, l := range lines {
		if strings.Contains(l, "(en)") {
			t.Errorf("espeak-ng -v %s speaks English in: %s", e.voice(Chinese), l)
		}
	}
}
