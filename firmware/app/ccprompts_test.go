package app

import (
	"context"
	"errors"
	"testing"

	"callbox/telephony/cc"
	"callbox/telephony/ivr"
)

// The call centre's file prompts: a prompt saved (by phone) plays back,
// replacing the old one; the other language is the fallback; a missing
// prompt and text (no speech engine yet) are clear errors; bad names are
// refused before touching the disk.
func TestFilePrompts(t *testing.T) {
	p := newFilePrompts(t.TempDir(), "zh-CN")
	ctx := context.Background()
	if _, err := p.Source(ctx, ivr.Prompt{File: "custom-1"}, "zh-CN"); !errors.Is(err, ivr.ErrPromptMissing) {
		t.Fatalf("missing prompt: %v", err)
	}
	if _, err := p.Source(ctx, ivr.Prompt{Text: "hello"}, "en"); !errors.Is(err, errNoSpeech) {
		t.Fatalf("text: %v", err)
	}
	for _, n := range []int{800, 1600} {
		if err := p.SavePrompt(ctx, "custom-1", "zh-CN", make([]int16, n)); err != nil {
			t.Fatal(err)
		}
		src, err := p.Source(ctx, ivr.Prompt{File: "custom-1"}, "en") // falls back to zh-CN
		if err != nil {
			t.Fatal(err)
		}
		frames := 0
		f := make([]int16, 80)
		for !src.Done() {
			src.ReadFrame(f)
			frames++
		}
		if frames != n/80 {
			t.Fatalf("played %d frames of a %d-sample prompt", frames, n)
		}
	}
	if err := p.SavePrompt(ctx, "../etc/passwd", "zh-CN", make([]int16, 800)); err == nil {
		t.Fatal("a path for a name was accepted")
	}
	if _, err := p.Say(ctx, cc.Phrase{Kind: cc.PhraseAgent, Digits: "1088"}, "zh-CN"); !errors.Is(err, ivr.ErrPromptMissing) {
		t.Fatalf("a phrase without its digit prompts: %v", err)
	}
}
