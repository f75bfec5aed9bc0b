package prompt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callbox/dsp/wav"
	"callbox/telephony/ivr"
)

func open(t testing.TB, opt Options) (*Catalogue, string) {
	t.Helper()
	dir := t.TempDir()
	if opt.Now == nil {
		opt.Now = func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }
	}
	c, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return c, dir
}

// level marks a clip: the samples of a prompt are all this value.
func level(v int16, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func TestResolveOrder(t *testing.T) {
	c, dir := open(t, Options{})
	writeSystem(t, dir, "welcome", Chinese, level(1, 80))
	writeSystem(t, dir, "welcome", English, level(2, 80))
	writeSystem(t, dir, "queue/first", English, level(3, 80))
	if _, err := c.Put("welcome", English, level(4, 80), Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put("mine", English, level(5, 80), Meta{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, lang string
		want       int16
		found      string
	}{
		{"welcome", Chinese, 1, Chinese},     // the system's in the language asked
		{"welcome", English, 4, English},     // the admin's replaces it
		{"welcome", "en-US", 4, English},     // tags are canonicalised
		{"queue/first", Chinese, 3, English}, // fallback to the other language
		{"mine", "", 5, English},             // "" is zh-CN, then the fallback
		{"queue/first", English, 3, English}, // nested names
	}
	for _, tt := range tests {
		clip, err := c.Load(tt.name, tt.lang)
		if err != nil {
			t.Errorf("%s %s: %v", tt.name, tt.lang, err)
			continue
		}
		if clip.Samples[0] != tt.want || clip.Lang != tt.found {
			t.Errorf("%s %s: clip %d in %s, want %d in %s", tt.name, tt.lang, clip.Samples[0], clip.Lang, tt.want, tt.found)
		}
	}
	for _, tt := range []struct{ name, want string }{
		{"no-such-prompt", `"no-such-prompt" in zh-CN or en`},
		{"goodbye", "system prompts not generated (make prompts)"},
	} {
		_, err := c.Load(tt.name, Chinese)
		if !errors.Is(err, ErrMissing) || !errors.Is(err, ivr.ErrPromptMissing) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrMissing (and ivr.ErrPromptMissing) saying %q", tt.name, err, tt.want)
		}
	}
	if !c.HasPrompt("goodbye") || !c.HasPrompt("mine") || c.HasPrompt("nope") {
		t.Error("HasPrompt: system names and admin prompts count, others do not")
	}
}

func TestLoadShares(t *testing.T) {
	c, dir := open(t, Options{})
	writeSystem(t, dir, "welcome", Chinese, tone(440, 8000, 8000))
	a, err := c.Load("welcome", Chinese)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.Load("welcome", Chinese)
	if &a.Samples[0] != &b.Samples[0] {
		t.Fatal("two loads of one prompt gave two copies")
	}
	if st := c.CacheStats(); st.Hits != 1 || st.Misses != 1 || st.Bytes != 16000 {
		t.Fatalf("cache %+v", st)
	}
	if a.Duration() != time.Second {
		t.Fatalf("duration %v", a.Duration())
	}
	// Concurrent first loads read the file once.
	writeSystem(t, dir, "hold", Chinese, tone(440, 8000, 8000))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.Load("hold", Chinese); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if st := c.CacheStats(); st.Misses != 2 {
		t.Fatalf("8 concurrent loads missed %d times", st.Misses-1)
	}
}

func TestCacheBound(t *testing.T) {
	c, dir := open(t, Options{CacheBytes: 5 * 1600}) // five prompts of 100 ms
	for i := range 20 {
		writeSystem(t, dir, fmt.Sprintf("p%d", i), Chinese, level(int16(i), 800))
	}
	for round := range 2 {
		for i := range 20 {
			clip, err := c.Load(fmt.Sprintf("p%d", i), Chinese)
			if err != nil || clip.Samples[0] != int16(i) {
				t.Fatalf("round %d p%d: %v", round, i, err)
			}
			if st := c.CacheStats(); st.Bytes > st.Max || st.Entries > 5 {
				t.Fatalf("cache over its bound: %+v", st)
			}
		}
	}
	// A prompt larger than the bound plays but is not kept.
	writeSystem(t, dir, "long", Chinese, level(7, 8000))
	if clip, err := c.Load("long", Chinese); err != nil || len(clip.Samples) != 8000 {
		t.Fatalf("long: %v", err)
	}
	// A file changed on disk is read again.
	writeSystem(t, dir, "p0", Chinese, level(99, 801))
	if clip, _ := c.Load("p0", Chinese); clip.Samples[0] != 99 {
		t.Fatalf("a changed file still gives %d", clip.Samples[0])
	}
}

func TestUploadPutDelete(t *testing.T) {
	c, dir := open(t, Options{})
	writeSystem(t, dir, "welcome", Chinese, level(1, 800))
	// A 16 kHz stereo upload replaces the system welcome.
	data := make([]byte, 0, 16000*4)
	for _, v := range tone(500, 8000, 16000) { // 500 Hz at 8 kHz is 1 kHz at 16
		data = append(data, byte(v), byte(v>>8), byte(v), byte(v>>8))
	}
	info, err := c.Upload("welcome", Chinese, wavFile(1, 2, 16000, 16, data), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if !info.Custom || !info.System || info.Kind != KindUpload || info.By != "admin" ||
		info.Source != "PCM, 16000 Hz, 2 channel(s), 16 bits" || info.Duration != time.Second {
		t.Fatalf("info %+v", info)
	}
	clip, err := c.Load("welcome", Chinese)
	if err != nil || len(clip.Samples) != 8000 {
		t.Fatalf("load after upload: %d samples, %v", len(clip.Samples), err)
	}
	if d := db(amplitude(clip.Samples[800:7200], 1000) / 8000); d < -0.2 || d > 0.2 {
		t.Fatalf("uploaded tone at %.2f dB", d)
	}
	// A bad upload changes nothing, and leaves no temporary file.
	before, _ := os.ReadFile(filepath.Join(dir, customDir, Chinese, "welcome.wav"))
	for _, bad := range [][]byte{[]byte("not audio"), wavFile(1, 1, 96000, 16, make([]byte, 100))} {
		if _, err := c.Upload("welcome", Chinese, bad, "admin"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad upload: %v", err)
		}
	}
	after, _ := os.ReadFile(filepath.Join(dir, customDir, Chinese, "welcome.wav"))
	if !slices.Equal(before, after) {
		t.Fatal("a refused upload changed the prompt")
	}
	assertNoTemp(t, dir)
	// Delete brings the system prompt back; the system one cannot go.
	if err := c.Delete("welcome", Chinese); err != nil {
		t.Fatal(err)
	}
	if clip, _ := c.Load("welcome", Chinese); clip.Samples[0] != 1 {
		t.Fatal("after delete the admin's prompt still plays")
	}
	if err := c.Delete("welcome", Chinese); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("deleting a system prompt: %v", err)
	}
	if err := c.Delete("nope", Chinese); !errors.Is(err, ErrMissing) {
		t.Fatalf("deleting nothing: %v", err)
	}
	// Nested names make and remove their directories.
	if _, err := c.Put("ivr/sales/menu", English, level(3, 80), Meta{Kind: KindRecording, By: "201"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("ivr/sales/menu", English); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, customDir, English, "ivr")); !os.IsNotExist(err) {
		t.Fatalf("empty directories left: %v", err)
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", path)
		}
		return nil
	})
}

func TestBadNames(t *testing.T) {
	c, _ := open(t, Options{})
	for _, name := range []string{"", "../etc/passwd", "a//b", "/abs", "a/", ".hidden", "a/../b", "sp ace", "中文", strings.Repeat("x", 65)} {
		if _, err := c.Put(name, Chinese, level(1, 8), Meta{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Put(%q): %v", name, err)
		}
		if _, err := c.Load(name, Chinese); !errors.Is(err, ErrInvalid) {
			t.Errorf("Load(%q): %v", name, err)
		}
	}
	for _, lang := range []string{"fr", "de-DE", "x"} {
		if _, err := c.Put("ok", lang, level(1, 8), Meta{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("language %q: %v", lang, err)
		}
	}
	if _, err := c.Put("ok", Chinese, nil, Meta{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty audio: %v", err)
	}
	if _, err := c.Put("ok", Chinese, make([]int16, maxSamples+1), Meta{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("over ten minutes: %v", err)
	}
}

func TestListAndOpen(t *testing.T) {
	c, dir := open(t, Options{})
	writeSystem(t, dir, "welcome", English, level(1, 8000))
	if _, err := c.Put("promo/spring", English, level(2, 4000), Meta{Kind: KindSpeech, Text: "Spring sale", By: "admin"}); err != nil {
		t.Fatal(err)
	}
	list, err := c.List(English)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Info{}
	for _, i := range list {
		byName[i.Name] = i
	}
	if n := len(System()); len(list) < n/2 {
		t.Fatalf("%d prompts listed", len(list))
	}
	if w := byName["welcome"]; !w.System || w.Custom || w.Missing || w.Duration != time.Second || w.Text != "Hello, and thank you for calling." {
		t.Errorf("welcome: %+v", w)
	}
	if g := byName["goodbye"]; !g.Missing || !g.System {
		t.Errorf("goodbye (not generated): %+v", g)
	}
	if p := byName["promo/spring"]; !p.Custom || p.System || p.Kind != KindSpeech || p.Text != "Spring sale" || p.Duration != 500*time.Millisecond {
		t.Errorf("promo/spring: %+v", p)
	}
	if _, ok := byName["num/1-yao"]; ok {
		t.Error("a zh-only system prompt is listed in en")
	}
	if !slices.IsSortedFunc(list, func(a, b Info) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("list not sorted")
	}
	// Open gives the file that plays, as WAV.
	f, info, err := c.Open("promo/spring", English)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	if s, err := wav.Decode(b); err != nil || len(s) != 4000 || info.Bytes != int64(len(b)) {
		t.Fatalf("open: %d samples, %v", len(s), err)
	}
	if _, _, err := c.Open("goodbye", English); !errors.Is(err, ErrMissing) {
		t.Fatalf("open of an ungenerated prompt: %v", err)
	}
	if _, _, err := c.Open("promo/spring", Chinese); !errors.Is(err, ErrMissing) {
		t.Fatalf("open has no fallback: %v", err)
	}
}

// fakeSpeech is a synthesizer that counts its calls: a tone whose length
// follows the text.
type fakeSpeech struct {
	calls atomic.Int32
	voice string
	block chan struct{}
}

func (f *fakeSpeech) Voice(lang string) string { return f.voice + lang }

func (f *fakeSpeech) Synthesize(ctx context.Context, text, lang string) ([]int16, error) {
	f.calls.Add(1)
	if f.block != nil {
		<-f.block
	}
	return tone(300, 8000, 80*len(text)), nil
}

func TestSpeak(t *testing.T) {
	ctx := context.Background()
	c, _ := open(t, Options{})
	if _, err := c.Speak(ctx, "hello", English); !errors.Is(err, ErrNoSpeech) {
		t.Fatalf("without an engine: %v", err)
	}
	if _, err := c.Synthesize(ctx, "hi", English, "hello", "admin"); !errors.Is(err, ErrNoSpeech) {
		t.Fatalf("saving text without an engine: %v", err)
	}

	fake := &fakeSpeech{voice: "v1"}
	c, dir := open(t, Options{Speech: fake, SpeechCacheBytes: 3 * (44 + 2*80*10)})
	a, err := c.Speak(ctx, "ten chars.", English)
	if err != nil || len(a.Samples) != 800 {
		t.Fatalf("speak: %d samples, %v", len(a.Samples), err)
	}
	b, _ := c.Speak(ctx, "ten chars.", English)
	if fake.calls.Load() != 1 || &a.Samples[0] != &b.Samples[0] {
		t.Fatalf("the same text was synthesized %d times", fake.calls.Load())
	}
	if _, err := c.Speak(ctx, "ten chars.", Chinese); err != nil || fake.calls.Load() != 2 {
		t.Fatalf("another language is another synthesis: %d, %v", fake.calls.Load(), err)
	}
	// The disk cache keeps to its bound, oldest out first.
	for i := range 5 {
		if _, err := c.Speak(ctx, fmt.Sprintf("text no.%02d", i), English); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, speechDir, "*.wav"))
	if len(files) > 3 {
		t.Fatalf("%d files in a speech cache of three", len(files))
	}
	// Bad text.
	for _, text := range []string{"", "   ", strings.Repeat("字", MaxTextLen+1), "\xff"} {
		if _, err := c.Speak(ctx, text, English); !errors.Is(err, ErrInvalid) {
			t.Errorf("text %.10q: %v", text, err)
		}
	}
	// Saving text as a prompt keeps what it says.
	info, err := c.Synthesize(ctx, "promo", Chinese, "春季促销", "admin")
	if err != nil {
		t.Fatal(err)
	}
	if info.Kind != KindSpeech || info.Text != "春季促销" || !info.Custom {
		t.Fatalf("info %+v", info)
	}
	// Concurrent requests for one new text synthesize it once; a caller
	// that gives up does not wait.
	fake.block = make(chan struct{})
	before := fake.calls.Load()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := c.Speak(ctx, "once only", English); err != nil {
				t.Error(err)
			}
		})
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	for fake.calls.Load() == before {
		time.Sleep(time.Millisecond)
	}
	if _, err := c.Speak(gone, "once only", English); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled wait: %v", err)
	}
	close(fake.block)
	wg.Wait()
	if n := fake.calls.Load() - before; n != 1 {
		t.Fatalf("4 concurrent requests synthesized %d times", n)
	}
}

func TestSystemList(t *testing.T) {
	list := System()
	if len(list) < 80 {
		t.Fatalf("%d system prompts", len(list))
	}
	for _, name := range []string{"welcome", "hold", "closed", "all-busy", "unavailable", "goodbye",
		"queue/position", "queue/wait", "queue/callback-offer", "queue/callback-confirm",
		"survey/question", "survey/thanks", "vm/leave-message", "vm/main-menu", "agent/serve",
		"tone/beep", "conf/enter", "conf/leave", "sorry-youre-having-problems"} {
		p, ok := SystemNamed(name)
		if !ok || !p.In(Chinese) || !p.In(English) {
			t.Errorf("%s is not a system prompt in both languages", name)
		}
	}
	for _, bad := range []string{"a\tb", "a\tb\tc\td", "../x\ta\tb", "x\t-\t-", "x\ta\tb\nx\tc\td"} {
		if _, err := parseSystem(bad); err == nil {
			t.Errorf("parseSystem(%q) accepted", bad)
		}
	}
}

// TestSystemDirElsewhere: the image ships the system prompts read-only
// outside the data directory; the catalogue plays them from there, lists
// them, counts what is missing and never writes there.
func TestSystemDirElsewhere(t *testing.T) {
	image := t.TempDir()
	writeSystem(t, image, "welcome", Chinese, level(1, 80))
	sys := filepath.Join(image, SystemDir)
	if err := os.Chmod(filepath.Join(sys, Chinese), 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(sys, Chinese), 0o755) })
	c, dir := open(t, Options{SystemDir: sys})
	if _, err := os.Stat(filepath.Join(dir, SystemDir)); !os.IsNotExist(err) {
		t.Fatalf("a system directory was made in the data directory: %v", err)
	}
	if clip, err := c.Load("welcome", English); err != nil || clip.Samples[0] != 1 || clip.Lang != Chinese {
		t.Fatalf("load from the image: %v", err)
	}
	if _, err := c.Put("welcome", Chinese, level(2, 80), Meta{}); err != nil {
		t.Fatal(err)
	}
	if clip, _ := c.Load("welcome", Chinese); clip.Samples[0] != 2 {
		t.Fatal("the admin's prompt does not replace the image's")
	}
	if err := c.Delete("welcome", Chinese); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("welcome", Chinese); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("deleting the image's prompt: %v", err)
	}
	missing, total := c.Missing()
	if total < 150 || missing != total-1 {
		t.Fatalf("missing %d of %d, want all but one", missing, total)
	}
}
