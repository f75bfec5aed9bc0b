package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"callbox/telephony/cc"
	"callbox/telephony/ivr"
	"callbox/telephony/media"
	"callbox/telephony/prompt"
	callswitch "callbox/telephony/switch"
)

// catPrompts is the call centre's Prompts over the prompt catalogue
// (telephony/prompt): a prompt plays from the catalogue's shared decoded
// audio (media.Player reads it, never copies it); a prompt the catalogue
// lacks plays its text spoken instead (for a system prompt, its text in
// the caller's language from system.tsv); phrases are the catalogue's
// sayings composed from its small prompts; prompts recorded by phone are
// the admin's own (KindRecording). What cannot be played is an error the
// service turns into the apology and a log line, never silence.
type catPrompts struct {
	cat func() *prompt.Catalogue // the running catalogue (App.Prompts)
	log *slog.Logger
}

var (
	_ cc.Prompts     = (*catPrompts)(nil)
	_ cc.PromptSaver = (*catPrompts)(nil)
)

// errNoCatalogue is what prompts give while the catalogue is closed (a
// restart in progress).
var errNoCatalogue = errors.New("app: prompts: the prompt catalogue is not open")

func (p *catPrompts) catalogue() (*prompt.Catalogue, error) {
	if c := p.cat(); c != nil {
		return c, nil
	}
	return nil, errNoCatalogue
}

// Source implements cc.Prompts.
func (p *catPrompts) Source(ctx context.Context, pr ivr.Prompt, lang string) (callswitch.Source, error) {
	c, err := p.catalogue()
	if err != nil {
		return nil, err
	}
	text := pr.Text
	if pr.File != "" {
		clip, err := c.Load(pr.File, lang)
		if err == nil {
			return media.NewPlayer(clip.Samples), nil
		}
		if !errors.Is(err, ivr.ErrPromptMissing) {
			return nil, err
		}
		if sys, ok := prompt.SystemNamed(pr.File); ok {
			if t := sys.Text(sayLang(lang)); t != "" {
				text = t // the system prompt's own words, in the caller's language
			}
		}
		if text == "" {
			return nil, err
		}
		p.log.Warn("prompt missing: speaking its text", "prompt", pr.File, "lang", lang, "err", err)
	}
	if text == "" {
		return nil, fmt.Errorf("app: prompt: %w: no file and no text", ivr.ErrPromptMissing)
	}
	clip, err := c.Speak(ctx, text, lang)
	if err != nil {
		return nil, err
	}
	return media.NewPlayer(clip.Samples), nil
}

// sayLang is the catalogue's language for a tag (zh-CN when unknown).
func sayLang(lang string) string {
	if l, err := prompt.Lang(lang); err == nil {
		return l
	}
	return prompt.Chinese
}

// Say implements cc.Prompts with the catalogue's sayings.
func (p *catPrompts) Say(_ context.Context, ph cc.Phrase, lang string) (callswitch.Source, error) {
	c, err := p.catalogue()
	if err != nil {
		return nil, err
	}
	lang = sayLang(lang)
	var names []string
	switch ph.Kind {
	case cc.PhraseAgent:
		names = prompt.Agent(ph.Digits, lang)
	case cc.PhraseDigits:
		names = prompt.Digits(ph.Digits, lang)
	case cc.PhrasePosition:
		names = prompt.Position(ph.N, lang)
	case cc.PhraseWait:
		names = prompt.Wait(ph.D, lang)
	default:
		return nil, fmt.Errorf("app: prompts: unknown phrase %d", ph.Kind)
	}
	clips, err := c.Compose(lang, names...)
	if err != nil {
		return nil, err
	}
	return media.NewPlayer(prompt.Samples(clips)...), nil
}

// SavePrompt implements cc.PromptSaver: a prompt recorded by phone becomes
// the admin's prompt name (written aside and renamed into place, so a
// crash leaves the old prompt or the new one).
func (p *catPrompts) SavePrompt(_ context.Context, name, lang, by string, samples []int16) error {
	c, err := p.catalogue()
	if err != nil {
		return err
	}
	if _, err := c.Put(name, lang, samples, prompt.Meta{Kind: prompt.KindRecording, By: by}); err != nil {
		return err
	}
	return nil
}
