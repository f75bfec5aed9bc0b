package prompt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

type failingSpeech struct {
	fakeSpeech
	after int32
}

func (f *failingSpeech) Synthesize(ctx context.Context, text, lang string) ([]int16, error) {
	if f.calls.Load() >= f.after {
		return nil, errors.New("engine broke")
	}
	return f.fakeSpeech.Synthesize(ctx, text, lang)
}

func countAll() (spoken, tones int) {
	for _, p := range System() {
		for _, l := range Languages {
			if p.In(l) {
				if p.Tone != nil {
					tones++
				} else {
					spoken++
				}
			}
		}
	}
	return spoken, tones
}

func TestGenerate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	spoken, tones := countAll()
	// A stale file of a prompt no longer listed goes.
	writeSystem(t, dir, "old/prompt", Chinese, level(1, 8))

	fake := &fakeSpeech{voice: "v1"}
	var progress atomic.Int32
	res, err := Generate(ctx, filepath.Join(dir, SystemDir), fake, func(string, string) { progress.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Made != spoken+tones || res.Kept != 0 || res.Removed != 1 || int(fake.calls.Load()) != spoken || int(progress.Load()) != res.Made {
		t.Fatalf("first run: %+v, %d syntheses, %d progress calls; want %d made", res, fake.calls.Load(), progress.Load(), spoken+tones)
	}
	if _, err := os.Stat(filepath.Join(dir, SystemDir, Chinese, "old")); !os.IsNotExist(err) {
		t.Fatal("the stale prompt's directory is still there")
	}
	c, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"welcome", "num/1-yao", "tone/beep", "conf/enter"} {
		if _, err := c.Load(name, Chinese); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	beep, _ := c.Load("tone/beep", English)
	if d := db(amplitude(beep.Samples, 1000) / 32768); d < -13 || d > -11.5 || beep.Duration() != 150e6 {
		t.Errorf("beep at %.1f dBFS for %v", d, beep.Duration())
	}

	// Nothing changed: nothing is remade.
	res, err = Generate(ctx, filepath.Join(dir, SystemDir), fake, nil)
	if err != nil || res.Made != 0 || res.Kept != spoken+tones {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	// A new voice remakes the spoken prompts, not the tones.
	fake.voice = "v2"
	before := fake.calls.Load()
	if res, err = Generate(ctx, filepath.Join(dir, SystemDir), fake, nil); err != nil || res.Made != spoken || res.Kept != tones {
		t.Fatalf("new voice: %+v, %v", res, err)
	}
	if int(fake.calls.Load()-before) != spoken {
		t.Fatal("the new voice did not speak every prompt")
	}
	// A missing file is remade.
	os.Remove(filepath.Join(dir, SystemDir, English, "goodbye.wav"))
	if res, _ = Generate(ctx, filepath.Join(dir, SystemDir), fake, nil); res.Made != 1 {
		t.Fatalf("a deleted prompt: %+v", res)
	}
}

func TestGenerateFails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Generate(ctx, filepath.Join(dir, SystemDir), nil, nil); !errors.Is(err, ErrNoSpeech) {
		t.Fatalf("no engine: %v", err)
	}
	broken := &failingSpeech{fakeSpeech: fakeSpeech{voice: "v"}, after: 10}
	res, err := Generate(ctx, filepath.Join(dir, SystemDir), broken, nil)
	if err == nil || res.Made == 0 {
		t.Fatalf("a failing engine: %+v, %v", res, err)
	}
	// A rerun with a working engine finishes the job without remaking
	// what was made.
	fixed := &fakeSpeech{voice: "v"}
	spoken, tones := countAll()
	res2, err := Generate(ctx, filepath.Join(dir, SystemDir), fixed, nil)
	if err != nil || res2.Made+res2.Kept != spoken+tones || res2.Kept < res.Made {
		t.Fatalf("the rerun: %+v after %+v, %v", res2, res, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	fixed.voice = "w"
	if _, err := Generate(cancelled, filepath.Join(dir, SystemDir), fixed, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// TestGenerateEspeak makes a few real prompts with espeak-ng: they are
// speech of a sensible length in the catalogue.
func TestGenerateEspeak(t *testing.T) {
	e := espeak(t)
	dir := t.TempDir()
	for _, p := range []struct{ name, lang string }{{"num/7", Chinese}, {"queue/position", English}} {
		sp, _ := SystemNamed(p.name)
		if err := makeSystem(context.Background(), sp, p.lang, filepath.Join(dir, SystemDir, p.lang, p.name+".wav"), e); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := Open(dir, Options{})
	clips, err := c.Compose(English, "queue/position", "num/7")
	if err != nil {
		t.Fatal(err)
	}
	if clips[1].Lang != Chinese {
		t.Fatal("num/7 should fall back to zh-CN here")
	}
	for _, clip := range clips {
		if d := clip.Duration(); d < 100e6 || d > 3e9 {
			t.Errorf("%s: %v", clip.Name, d)
		}
	}
}
