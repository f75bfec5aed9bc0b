package prompt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"callbox/dsp/wav"
)

// Directories under the catalogue's.
const (
	// SystemDir holds the system prompts, SystemDir/LANG/NAME.wav as
	// Generate makes them, unless Options.SystemDir puts them elsewhere
	// (the image's read-only root file system).
	SystemDir = "system"
	customDir = "custom" // customDir/LANG/NAME.wav and NAME.json
	speechDir = "speech" // cached synthesized text
)

// Kinds of prompt, in Info and Meta.
const (
	KindSystem    = "system"
	KindUpload    = "upload"
	KindRecording = "recording"
	KindSpeech    = "speech"
)

// Meta says where an admin prompt came from; it is kept beside the audio.
type Meta struct {
	Kind string `json:"kind"` // KindUpload, KindRecording or KindSpeech
	// Source is what an uploaded file held ("PCM, 44100 Hz, 2 channel(s),
	// 16 bits").
	Source string `json:"source,omitempty"`
	// Text and Voice are what was synthesized, and by which voice.
	Text  string `json:"text,omitempty"`
	Voice string `json:"voice,omitempty"`
	// By is who made it: a web user's login, an extension.
	By      string    `json:"by,omitempty"`
	Created time.Time `json:"created"`
}

// Info describes a prompt in one language.
type Info struct {
	Name string
	Lang string
	// Kind is KindSystem, or the admin prompt's kind.
	Kind string
	// System: the name is a system prompt's. Custom: the admin's own
	// audio is in place (replacing the system one if both). Missing: a
	// system prompt whose audio has not been generated.
	System, Custom, Missing bool
	// Text is what the prompt says, when known: a system prompt's text,
	// or the text an admin prompt was synthesized from.
	Text     string
	Source   string
	By       string
	Duration time.Duration
	Bytes    int64
	Modified time.Time
}

// Clip is a prompt's audio: 8 kHz mono samples, shared read-only by every
// player of the prompt (never write to them).
type Clip struct {
	Name    string // as asked ("" for text)
	Lang    string // the language found, maybe the fallback
	Samples []int16
}

// Duration is the clip's length.
func (c Clip) Duration() time.Duration {
	return time.Duration(len(c.Samples)) * time.Second / SampleRate
}

// Options configure a Catalogue.
type Options struct {
	// CacheBytes bounds the decoded audio kept in memory
	// (DefaultCacheBytes when 0).
	CacheBytes int64
	// Speech speaks text; nil makes text fail with ErrNoSpeech.
	Speech Synthesizer
	// SpeechCacheBytes bounds the synthesized audio kept on disk
	// (DefaultSpeechCacheBytes when 0).
	SpeechCacheBytes int64
	// Now is the clock of Meta.Created (time.Now when nil).
	Now func() time.Time
	// SystemDir is where the system prompts are, LANG/NAME.wav; ""
	// means DIR/system. The box's image ships them read-only outside
	// the data directory, so that updates bring new ones.
	SystemDir string
}

// Catalogue is the prompt catalogue in a directory. Its methods are safe
// for concurrent use.
type Catalogue struct {
	dir    string
	sysDir string
	opt    Options
	cache  *cache
	wmu    sync.Mutex // one write at a time
	speech *speechCache
}

// Open opens (creating its directories) the catalogue in dir.
func Open(dir string, opt Options) (*Catalogue, error) {
	dirs := []string{filepath.Join(dir, customDir), filepath.Join(dir, speechDir)}
	if opt.SystemDir == "" {
		opt.SystemDir = filepath.Join(dir, SystemDir)
		dirs = append(dirs, opt.SystemDir)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("prompt: %w", err)
		}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	c := &Catalogue{dir: dir, sysDir: opt.SystemDir, opt: opt, cache: newCache(opt.CacheBytes)}
	c.speech = newSpeechCache(filepath.Join(dir, speechDir), opt.Speech, opt.SpeechCacheBytes, c.cache)
	return c, nil
}

// Dir returns the catalogue's directory.
func (c *Catalogue) Dir() string { return c.dir }

// Missing returns how many system prompts (in each of their languages)
// have no audio, and how many there are: make prompts was not run, or
// the list grew since.
func (c *Catalogue) Missing() (missing, total int) {
	for _, p := range System() {
		for _, lang := range Languages {
			if p.In(lang) {
				total++
				if !exists(c.systemPath(p.Name, lang)) {
					missing++
				}
			}
		}
	}
	return missing, total
}

func (c *Catalogue) customPath(name, lang string) string {
	return filepath.Join(c.dir, customDir, lang, filepath.FromSlash(name)+".wav")
}

func (c *Catalogue) systemPath(name, lang string) string {
	return filepath.Join(c.sysDir, lang, filepath.FromSlash(name)+".wav")
}

func exists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// Resolve returns the file that plays for name in lang and the language it
// is in: the admin's prompt in lang, the system's in lang, then the same in
// the other language. Neither gives an error wrapping ErrMissing (and so
// ivr.ErrPromptMissing).
func (c *Catalogue) Resolve(name, lang string) (path, found string, err error) {
	lang, err = checkName(name, lang)
	if err != nil {
		return "", "", err
	}
	for _, l := range []string{lang, other(lang)} {
		for _, p := range []string{c.customPath(name, l), c.systemPath(name, l)} {
			if exists(p) {
				return p, l, nil
			}
		}
	}
	if _, ok := SystemNamed(name); ok {
		return "", "", fmt.Errorf("%w: %q in %s or %s: system prompts not generated (make prompts)", ErrMissing, name, lang, other(lang))
	}
	return "", "", fmt.Errorf("%w: %q in %s or %s", ErrMissing, name, lang, other(lang))
}

// Load returns the audio of name in lang (see Resolve), from the shared
// cache.
func (c *Catalogue) Load(name, lang string) (Clip, error) {
	path, found, err := c.Resolve(name, lang)
	if err != nil {
		return Clip{}, err
	}
	s, err := c.cache.get(path)
	if errors.Is(err, fs.ErrNotExist) {
		// Deleted since Resolve: look again once.
		if path, found, err = c.Resolve(name, lang); err == nil {
			s, err = c.cache.get(path)
		}
	}
	if err != nil {
		return Clip{}, fmt.Errorf("prompt: %s (%s): %w", name, found, err)
	}
	return Clip{Name: name, Lang: found, Samples: s}, nil
}

// Compose loads the prompts of a saying (say.go) or any list of names, in
// order; a missing one fails the whole with an error naming it.
func (c *Catalogue) Compose(lang string, names ...string) ([]Clip, error) {
	clips := make([]Clip, 0, len(names))
	for _, n := range names {
		clip, err := c.Load(n, lang)
		if err != nil {
			return nil, err
		}
		clips = append(clips, clip)
	}
	return clips, nil
}

// HasPrompt reports whether name can play in some language, or is a system
// prompt (generated at build time): the check ivr.Validate makes of the
// prompts a flow names.
func (c *Catalogue) HasPrompt(name string) bool {
	if _, ok := SystemNamed(name); ok {
		return true
	}
	_, _, err := c.Resolve(name, Chinese)
	return err == nil
}

// Speak returns text spoken in lang, synthesizing it once and keeping it
// in the speech cache. Without a speech engine it fails with ErrNoSpeech.
func (c *Catalogue) Speak(ctx context.Context, text, lang string) (Clip, error) {
	lang, err := Lang(lang)
	if err != nil {
		return Clip{}, err
	}
	s, err := c.speech.speak(ctx, text, lang)
	if err != nil {
		return Clip{}, err
	}
	return Clip{Lang: lang, Samples: s}, nil
}

// Stat describes name in exactly lang (no fallback): the admin's prompt
// if there is one, else the system's.
func (c *Catalogue) Stat(name, lang string) (Info, error) {
	lang, err := checkName(name, lang)
	if err != nil {
		return Info{}, err
	}
	info, ok := c.stat(name, lang)
	if !ok || info.Missing {
		return Info{}, fmt.Errorf("%w: %q in %s", ErrMissing, name, lang)
	}
	return info, nil
}

// stat describes name in lang; ok is false when it is neither an admin
// prompt nor a system prompt of that language.
func (c *Catalogue) stat(name, lang string) (Info, bool) {
	info := Info{Name: name, Lang: lang}
	sys, isSys := SystemNamed(name)
	if isSys && sys.In(lang) {
		info.System, info.Kind, info.Text = true, KindSystem, sys.Text(lang)
	}
	path := c.customPath(name, lang)
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		info.Custom = true
		info.fromFile(st)
		meta := c.readMeta(path)
		info.Kind, info.Source, info.By = meta.Kind, meta.Source, meta.By
		if meta.Text != "" {
			info.Text = meta.Text
		}
		return info, true
	}
	if !info.System {
		return info, false
	}
	if st, err := os.Stat(c.systemPath(name, lang)); err == nil && st.Mode().IsRegular() {
		info.fromFile(st)
	} else {
		info.Missing = true
	}
	return info, true
}

func (i *Info) fromFile(st fs.FileInfo) {
	i.Bytes, i.Modified = st.Size(), st.ModTime()
	if n := st.Size() - 44; n > 0 { // the catalogue writes 44-byte headers
		i.Duration = time.Duration(n/2) * time.Second / SampleRate
	}
}

func metaPath(wavPath string) string { return strings.TrimSuffix(wavPath, ".wav") + ".json" }

// readMeta reads an admin prompt's Meta; a missing or damaged one says
// KindUpload.
func (c *Catalogue) readMeta(wavPath string) Meta {
	var m Meta
	if b, err := os.ReadFile(metaPath(wavPath)); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	if m.Kind == "" {
		m.Kind = KindUpload
	}
	return m
}

// List describes every prompt of lang, sorted by name: the system prompts
// (Missing when not generated) and the admin's.
func (c *Catalogue) List(lang string) ([]Info, error) {
	lang, err := Lang(lang)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, p := range System() {
		if p.In(lang) {
			names[p.Name] = true
		}
	}
	root := filepath.Join(c.dir, customDir, lang)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(path, ".wav") {
			rel, err := filepath.Rel(root, strings.TrimSuffix(path, ".wav"))
			if err == nil && ValidName(filepath.ToSlash(rel)) {
				names[filepath.ToSlash(rel)] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prompt: list %s: %w", lang, err)
	}
	out := make([]Info, 0, len(names))
	for n := range names {
		if info, ok := c.stat(n, lang); ok {
			out = append(out, info)
		}
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Open opens the file of name in exactly lang for reading (a download):
// the admin's prompt if there is one, else the system's.
func (c *Catalogue) Open(name, lang string) (*os.File, Info, error) {
	info, err := c.Stat(name, lang)
	if err != nil {
		return nil, Info{}, err
	}
	path := c.systemPath(name, info.Lang)
	if info.Custom {
		path = c.customPath(name, info.Lang)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Info{}, fmt.Errorf("%w: %q in %s", ErrMissing, name, info.Lang)
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("prompt: %w", err)
	}
	return f, info, nil
}

// Put saves samples (8 kHz mono) as the admin's prompt name in lang,
// replacing any before it (and a system prompt's audio of that name). The
// file is written aside and renamed into place: on any error nothing
// changed.
func (c *Catalogue) Put(name, lang string, samples []int16, meta Meta) (Info, error) {
	lang, err := checkName(name, lang)
	if err != nil {
		return Info{}, err
	}
	switch {
	case len(samples) == 0:
		return Info{}, refuse(codeEmpty, nil)
	case len(samples) > maxSamples:
		return Info{}, refuse(codeTooLong, nil, int(MaxDuration/time.Minute))
	}
	file, err := wav.Encode(samples)
	if err != nil {
		return Info{}, fmt.Errorf("prompt: %w", err)
	}
	if meta.Kind == "" {
		meta.Kind = KindUpload
	}
	meta.Created = c.opt.Now()
	mb, err := json.Marshal(meta)
	if err != nil {
		return Info{}, fmt.Errorf("prompt: %w", err)
	}
	path := c.customPath(name, lang)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return Info{}, fmt.Errorf("prompt: %w", err)
	}
	// The audio first: if the description then fails, the prompt plays
	// and says it is an upload.
	if err := writeAtomic(path, file); err != nil {
		return Info{}, err
	}
	c.cache.drop(path)
	if err := writeAtomic(metaPath(path), mb); err != nil {
		return Info{}, err
	}
	info, _ := c.stat(name, lang)
	return info, nil
}

// Upload converts a WAV file (see Convert) and saves it as the admin's
// prompt name in lang. A refused file changes nothing.
func (c *Catalogue) Upload(name, lang string, file []byte, by string) (Info, error) {
	if _, err := checkName(name, lang); err != nil {
		return Info{}, err
	}
	up, err := Convert(file)
	if err != nil {
		return Info{}, err
	}
	return c.Put(name, lang, up.Samples, Meta{Kind: KindUpload, Source: up.Source, By: by})
}

// Synthesize speaks text and saves it as the admin's prompt name in lang.
func (c *Catalogue) Synthesize(ctx context.Context, name, lang, text, by string) (Info, error) {
	lang, err := checkName(name, lang)
	if err != nil {
		return Info{}, err
	}
	clip, err := c.Speak(ctx, text, lang)
	if err != nil {
		return Info{}, err
	}
	return c.Put(name, lang, clip.Samples, Meta{Kind: KindSpeech, Text: text, Voice: c.opt.Speech.Voice(lang), By: by})
}

// Delete removes the admin's prompt name in lang; a system prompt of that
// name plays again. Deleting a system prompt fails with ErrReadOnly, a
// name with neither with ErrMissing.
func (c *Catalogue) Delete(name, lang string) error {
	lang, err := checkName(name, lang)
	if err != nil {
		return err
	}
	path := c.customPath(name, lang)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	err = os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		if sys, ok := SystemNamed(name); ok && sys.In(lang) {
			return refuse(codeSystem, nil)
		}
		return fmt.Errorf("%w: %q in %s", ErrMissing, name, lang)
	}
	if err != nil {
		return fmt.Errorf("prompt: %w", err)
	}
	c.cache.drop(path)
	if err := os.Remove(metaPath(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("prompt: %w", err)
	}
	// Remove directories the name emptied, up to the language's.
	top := filepath.Join(c.dir, customDir, lang)
	for d := filepath.Dir(path); d != top && strings.HasPrefix(d, top); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			break
		}
	}
	return nil
}

// CacheStats returns the decoded-audio cache's counters.
func (c *Catalogue) CacheStats() CacheStats { return c.cache.stats() }

// writeAtomic writes data to path through a temporary file in the same
// directory, synced and renamed into place.
func writeAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("prompt: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("prompt: write %s: %w", filepath.Base(path), err)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o640); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// DirIn returns the catalogue's directory in the box's data directory.
func DirIn(dataDir string) string { return filepath.Join(dataDir, "prompts") }

// Samples returns the clips' samples for a media.Player, in order.
func Samples(clips []Clip) [][]int16 {
	out := make([][]int16, len(clips))
	for i, c := range clips {
		out[i] = c.Samples
	}
	return out
}
