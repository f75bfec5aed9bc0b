package app

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"callbox/telephony/cc"
	"callbox/telephony/ivr"
	"callbox/telephony/prompt"
	callswitch "callbox/telephony/switch"
)

// frames plays src to its end and counts its 10 ms frames.
func frames(src callswitch.Source) int {
	n := 0
	f := make([]int16, 80)
	for !src.Done() {
		src.ReadFrame(f)
		n++
	}
	return n
}

// The call centre's prompts over the prompt catalogue: a prompt recorded
// by phone is the admin's own (KindRecording, by the supervisor) and plays
// back, replacing the old one; the other language is the fallback; a
// missing prompt with no text, text with no speech engine and a saying
// whose small prompts are not generated are clear errors (the service
// turns them into the apology), never silence; a path for a name is
// refused; with the catalogue closed every call says so.
func TestCataloguePrompts(t *testing.T) {
	cat, err := prompt.Open(t.TempDir(), prompt.Options{SystemDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	open := cat
	p := &catPrompts{cat: func() *prompt.Catalogue { return open }, log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	if _, err := p.Source(ctx, ivr.Prompt{File: "custom-1"}, "zh-CN"); !errors.Is(err, ivr.ErrPromptMissing) {
		t.Fatalf("missing prompt: %v", err)
	}
	if _, err := p.Source(ctx, ivr.Prompt{Text: "hello"}, "en"); !errors.Is(err, prompt.ErrNoSpeech) {
		t.Fatalf("text: %v", err)
	}
	// A system prompt not generated falls back to its text: with no
	// speech engine that is the engine's error, naming what to install.
	if _, err := p.Source(ctx, ivr.Prompt{File: "welcome"}, "en"); !errors.Is(err, prompt.ErrNoSpeech) {
		t.Fatalf("system prompt not generated: %v", err)
	}
	for _, n := range []int{800, 1600} {
		if err := p.SavePrompt(ctx, "custom-1", "zh-CN", "1088", make([]int16, n)); err != nil {
			t.Fatal(err)
		}
		src, err := p.Source(ctx, ivr.Prompt{File: "custom-1"}, "en") // falls back to zh-CN
		if err != nil {
			t.Fatal(err)
		}
		if got := frames(src); got != n/80 {
			t.Fatalf("played %d frames of a %d-sample prompt", got, n)
		}
	}
	info, err := cat.Stat("custom-1", "zh-CN")
	if err != nil || info.Kind != prompt.KindRecording || info.By != "1088" {
		t.Fatalf("recorded prompt in the catalogue: %+v %v", info, err)
	}
	if err := p.SavePrompt(ctx, "../etc/passwd", "zh-CN", "1088", make([]int16, 800)); !errors.Is(err, prompt.ErrInvalid) {
		t.Fatalf("a path for a name: %v", err)
	}
	if _, err := p.Say(ctx, cc.Phrase{Kind: cc.PhraseAgent, Digits: "1088"}, "zh-CN"); !errors.Is(err, ivr.ErrPromptMissing) {
		t.Fatalf("a phrase without its digit prompts: %v", err)
	}
	// The sayings' prompts, once there, compose the phrase.
	for _, name := range prompt.Agent("1088", prompt.Chinese) {
		if _, err := cat.Put(name, "zh-CN", make([]int16, 160), prompt.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	src, err := p.Say(ctx, cc.Phrase{Kind: cc.PhraseAgent, Digits: "1088"}, "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := frames(src), 2*len(prompt.Agent("1088", prompt.Chinese)); got != want {
		t.Fatalf("agent phrase: %d frames, want %d", got, want)
	}
	open = nil
	if _, err := p.Source(ctx, ivr.Prompt{File: "custom-1"}, "zh-CN"); !errors.Is(err, errNoCatalogue) {
		t.Fatalf("closed catalogue: %v", err)
	}
}
