package prompt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"callbox/dsp/wav"
)

// manifestName is the file in the system prompts' directory recording what each system
// prompt's audio was made from, so Generate only remakes what changed.
const manifestName = "manifest.json"

// generatorVersion changes when the way prompts are made changes (the
// trimming, the level, the tones), to remake them all.
const generatorVersion = "1"

// Generated says what Generate did.
type Generated struct {
	Made, Kept, Removed int
}

// Generate makes the system prompts' audio in root (a catalogue's
// DIR/system, or the image's directory of them): root/LANG/NAME.wav for
// each prompt of system.tsv in each of its languages, spoken by synth, and
// the tones. A prompt whose
// file exists and was made from the same text and voice is kept; files of
// prompts no longer listed are removed. progress, if not nil, is called
// for each prompt made. It is what `make prompts` and the image build run
// (callboxctl prompts generate), never the running box.
func Generate(ctx context.Context, root string, synth Synthesizer, progress func(name, lang string)) (Generated, error) {
	var res Generated
	if synth == nil {
		return res, ErrNoSpeech
	}
	if err := os.MkdirAll(root, 0o750); err != nil {
		return res, fmt.Errorf("prompt: %w", err)
	}
	old := map[string]string{}
	if b, err := os.ReadFile(filepath.Join(root, manifestName)); err == nil {
		_ = json.Unmarshal(b, &old) // a damaged manifest remakes everything
	}
	type job struct {
		p          SystemPrompt
		lang, key  string
		path, hash string
	}
	var jobs []job
	manifest := map[string]string{}
	for _, p := range System() {
		for _, lang := range Languages {
			if !p.In(lang) {
				continue
			}
			j := job{p: p, lang: lang, key: lang + "/" + p.Name, path: filepath.Join(root, lang, filepath.FromSlash(p.Name)+".wav")}
			j.hash = recipe(p, lang, synth)
			manifest[j.key] = j.hash
			if old[j.key] == j.hash && exists(j.path) {
				res.Kept++
				continue
			}
			jobs = append(jobs, j)
		}
	}
	// A few at a time: the synthesizer bounds its own processes.
	var (
		mu    sync.Mutex
		first error
		made  = map[string]bool{}
		wg    sync.WaitGroup
		next  = make(chan job)
	)
	for range maxParallel {
		wg.Go(func() {
			for j := range next {
				err := makeSystem(ctx, j.p, j.lang, j.path, synth)
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("prompt: %s (%s): %w", j.p.Name, j.lang, err)
				}
				if err == nil {
					res.Made++
					made[j.key] = true
					if progress != nil {
						progress(j.p.Name, j.lang)
					}
				}
				mu.Unlock()
			}
		})
	}
	for _, j := range jobs {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		next <- j
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = fmt.Errorf("prompt: generate: %w", ctx.Err())
	}
	// Record what was made, even after a failure, so a rerun goes on
	// from there.
	for _, j := range jobs {
		switch {
		case made[j.key]:
		case old[j.key] != "" && exists(j.path):
			manifest[j.key] = old[j.key] // the older audio, to remake
		default:
			delete(manifest, j.key)
		}
	}
	if b, err := json.MarshalIndent(manifest, "", " "); err == nil {
		if err := writeAtomic(filepath.Join(root, manifestName), b); err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return res, first
	}
	n, err := removeUnlisted(root, manifest)
	res.Removed = n
	return res, err
}

// recipe identifies how a system prompt's audio is made.
func recipe(p SystemPrompt, lang string, synth Synthesizer) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", generatorVersion)
	if p.Tone != nil {
		fmt.Fprintf(h, "tone %v", p.Tone)
	} else {
		fmt.Fprintf(h, "%s\x00%s\x00%s", synth.Voice(lang), lang, p.Text(lang))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// makeSystem makes one system prompt's file.
func makeSystem(ctx context.Context, p SystemPrompt, lang, path string, synth Synthesizer) error {
	var s []int16
	if p.Tone != nil {
		s = toneSamples(p.Tone)
	} else {
		var err error
		if s, err = synth.Synthesize(ctx, p.Text(lang), lang); err != nil {
			return err
		}
	}
	file, err := wav.Encode(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	return writeAtomic(path, file)
}

// toneLevel is the tones' amplitude: -12 dBFS, clearly heard, not loud.
const toneLevel = 8231

// toneSamples makes a tone prompt: each step a sine with 5 ms ramps.
func toneSamples(steps []ToneStep) []int16 {
	var s []int16
	const ramp = 40
	for _, st := range steps {
		n := int(st.Dur.Seconds() * SampleRate)
		for i := range n {
			if st.Hz == 0 {
				s = append(s, 0)
				continue
			}
			env := min(1, float64(i)/ramp, float64(n-1-i)/ramp)
			v := toneLevel * env * math.Sin(2*math.Pi*float64(st.Hz)*float64(i)/SampleRate)
			s = append(s, int16(math.Round(v)))
		}
	}
	return s
}

// removeUnlisted removes the .wav files under root that no manifest entry
// names (prompts dropped from the list) and the directories they leave
// empty.
func removeUnlisted(root string, manifest map[string]string) (int, error) {
	n := 0
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, path)
			return nil
		}
		if !strings.HasSuffix(path, ".wav") {
			return nil
		}
		rel, err := filepath.Rel(root, strings.TrimSuffix(path, ".wav"))
		if err != nil {
			return err
		}
		if _, ok := manifest[filepath.ToSlash(rel)]; !ok {
			if err := os.Remove(path); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	for i := len(dirs) - 1; i > 0; i-- { // deepest first; never root
		_ = os.Remove(dirs[i]) // fails unless empty
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return n, fmt.Errorf("prompt: %w", err)
	}
	return n, nil
}
