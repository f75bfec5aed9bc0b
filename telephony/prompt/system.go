package prompt

import (
	_ "embed" // the system prompt list
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// systemTSV is the list of system prompts: name, Mandarin and English text.
//
//go:embed system.tsv
var systemTSV string

// SystemPrompt is one prompt the box ships: spoken text per language, or a
// tone (the same in both).
type SystemPrompt struct {
	Name string
	// ZH and EN are the texts; "" where the prompt does not exist in that
	// language.
	ZH, EN string
	// Tone, for a tone, lists its steps (0 Hz is a pause).
	Tone []ToneStep
}

// ToneStep is one step of a tone prompt.
type ToneStep struct {
	Hz  int
	Dur time.Duration
}

// Text returns the prompt's text in lang ("" when it has none there).
func (p SystemPrompt) Text(lang string) string {
	if lang == English {
		return p.EN
	}
	return p.ZH
}

// In reports whether the prompt exists in lang.
func (p SystemPrompt) In(lang string) bool { return p.Tone != nil || p.Text(lang) != "" }

// tones are the system prompts made in Go rather than spoken: the beep an
// agent hears on connect and callers before recording, and the
// conference entry and exit tones.
var tones = []SystemPrompt{
	{Name: "tone/beep", Tone: []ToneStep{{1000, 150 * time.Millisecond}}},
	{Name: "conf/enter", Tone: []ToneStep{{600, 100 * time.Millisecond}, {0, 30 * time.Millisecond}, {900, 100 * time.Millisecond}}},
	{Name: "conf/leave", Tone: []ToneStep{{900, 100 * time.Millisecond}, {0, 30 * time.Millisecond}, {600, 100 * time.Millisecond}}},
}

var (
	systemOnce   sync.Once
	systemList   []SystemPrompt
	systemByName map[string]int
)

func loadSystem() {
	list, err := parseSystem(systemTSV)
	if err != nil {
		panic(err) // the embedded list is checked by the tests
	}
	systemList = append(list, tones...)
	slices.SortFunc(systemList, func(a, b SystemPrompt) int { return strings.Compare(a.Name, b.Name) })
	systemByName = make(map[string]int, len(systemList))
	for i, p := range systemList {
		systemByName[p.Name] = i
	}
}

// System returns the system prompts, sorted by name. The slice is shared:
// do not modify it.
func System() []SystemPrompt {
	systemOnce.Do(loadSystem)
	return systemList
}

// SystemNamed returns the system prompt of that name.
func SystemNamed(name string) (SystemPrompt, bool) {
	systemOnce.Do(loadSystem)
	i, ok := systemByName[name]
	if !ok {
		return SystemPrompt{}, false
	}
	return systemList[i], true
}

// parseSystem reads the list: one prompt a line, name, Mandarin and
// English text separated by tabs ("-" for none); '#' starts a comment line.
func parseSystem(tsv string) ([]SystemPrompt, error) {
	var list []SystemPrompt
	seen := map[string]bool{}
	for i, line := range strings.Split(tsv, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("prompt: system.tsv line %d: %d fields, want name, zh and en text", i+1, len(f))
		}
		p := SystemPrompt{Name: f[0], ZH: f[1], EN: f[2]}
		if !ValidName(p.Name) || seen[p.Name] {
			return nil, fmt.Errorf("prompt: system.tsv line %d: bad or repeated name %q", i+1, p.Name)
		}
		seen[p.Name] = true
		for _, t := range []*string{&p.ZH, &p.EN} {
			if *t = strings.TrimSpace(*t); *t == "-" {
				*t = ""
			}
		}
		if p.ZH == "" && p.EN == "" {
			return nil, fmt.Errorf("prompt: system.tsv line %d: %s has no text", i+1, p.Name)
		}
		list = append(list, p)
	}
	return list, nil
}
