package app

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"callbox/telephony/prompt"
	"callbox/webui"
)

// startPrompts opens the prompt catalogue in DataDir/prompts, its system
// prompts in Config.SystemPrompts, with the espeak-ng speech engine when it
// is installed. Missing system prompts
// (make prompts not run) and a missing engine are logged, not fatal: the
// box runs, and what needs them fails with a clear error.
func (a *App) startPrompts(ctx context.Context) error {
	var opt prompt.Options
	if e, err := prompt.NewEspeak(); err == nil {
		opt.Speech = e
	} else {
		a.log.Warn("speech synthesis unavailable: playing text will fail", "err", err)
	}
	opt.SystemDir = a.cfg.SystemPrompts
	c, err := prompt.Open(prompt.DirIn(a.cfg.DataDir), opt)
	if err != nil {
		return err
	}
	if missing, total := c.Missing(); missing > 0 {
		a.log.Warn("system prompts not generated: run make prompts (callboxctl prompts generate)", "missing", missing, "of", total, "dir", opt.SystemDir)
	}
	a.mu.Lock()
	a.prompts = c
	a.mu.Unlock()
	return nil
}

func (a *App) stopPrompts(ctx context.Context) error {
	a.mu.Lock()
	a.prompts = nil
	a.mu.Unlock()
	return nil
}

// Prompts returns the running prompt catalogue (nil while stopped).
func (a *App) Prompts() *prompt.Catalogue {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.prompts
}

// webPrompts serves the catalogue to the web admin (webui.Prompts).
type webPrompts struct{ a *App }

func (w webPrompts) cat() (*prompt.Catalogue, error) {
	if c := w.a.Prompts(); c != nil {
		return c, nil
	}
	return nil, errors.New("app: the prompt catalogue is not running")
}

// promptErr maps the catalogue's errors onto webui's sentinels, keeping
// the cause (and its reason code) in the chain.
func promptErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, prompt.ErrMissing):
		return fmt.Errorf("%w: %w", webui.ErrNotFound, err)
	case errors.Is(err, prompt.ErrReadOnly):
		return fmt.Errorf("%w: %w", webui.ErrReadOnly, err)
	case errors.Is(err, prompt.ErrInvalid):
		return fmt.Errorf("%w: %w", webui.ErrInvalid, err)
	case errors.Is(err, prompt.ErrNoSpeech):
		return fmt.Errorf("%w: %w", webui.ErrNoEngine, err)
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%w: %w", webui.ErrNoSpace, err)
	}
	return err
}

func promptInfo(i prompt.Info) webui.PromptInfo {
	return webui.PromptInfo{Name: i.Name, Lang: i.Lang, Kind: i.Kind, System: i.System, Custom: i.Custom, Missing: i.Missing,
		Text: i.Text, Source: i.Source, By: i.By, DurationMS: i.Duration.Milliseconds(), Bytes: i.Bytes, Modified: i.Modified}
}

func (w webPrompts) PromptLanguages() []string { return prompt.Languages }

func (w webPrompts) PromptList(ctx context.Context, lang string) ([]webui.PromptInfo, error) {
	c, err := w.cat()
	if err != nil {
		return nil, err
	}
	list, err := c.List(lang)
	if err != nil {
		return nil, promptErr(err)
	}
	out := make([]webui.PromptInfo, len(list))
	for i, p := range list {
		out[i] = promptInfo(p)
	}
	return out, nil
}

func (w webPrompts) PromptOpen(ctx context.Context, lang, name string) (webui.PromptFile, error) {
	c, err := w.cat()
	if err != nil {
		return webui.PromptFile{}, err
	}
	f, info, err := c.Open(name, lang)
	if err != nil {
		return webui.PromptFile{}, promptErr(err)
	}
	return webui.PromptFile{ReadSeekCloser: f, Info: promptInfo(info)}, nil
}

func (w webPrompts) PromptUpload(ctx context.Context, lang, name string, file []byte, by string) (webui.PromptInfo, error) {
	c, err := w.cat()
	if err != nil {
		return webui.PromptInfo{}, err
	}
	info, err := c.Upload(name, lang, file, by)
	if err != nil {
		return webui.PromptInfo{}, promptErr(err)
	}
	a := w.a
	a.log.Info("prompt uploaded", "name", name, "lang", info.Lang, "source", info.Source, "by", by)
	return promptInfo(info), nil
}

func (w webPrompts) PromptSynthesize(ctx context.Context, lang, name, text, by string) (webui.PromptInfo, error) {
	c, err := w.cat()
	if err != nil {
		return webui.PromptInfo{}, err
	}
	info, err := c.Synthesize(ctx, name, lang, text, by)
	if err != nil {
		return webui.PromptInfo{}, promptErr(err)
	}
	w.a.log.Info("prompt synthesized", "name", name, "lang", info.Lang, "by", by)
	return promptInfo(info), nil
}

func (w webPrompts) PromptDelete(ctx context.Context, lang, name string) error {
	c, err := w.cat()
	if err != nil {
		return err
	}
	if err := c.Delete(name, lang); err != nil {
		return promptErr(err)
	}
	w.a.log.Info("prompt deleted", "name", name, "lang", lang)
	return nil
}
