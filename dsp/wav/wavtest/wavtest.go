// Package wavtest finds the recorded speech callbox's tests use as an
// independent signal source: the English prompts of Debian's
// asterisk-core-sounds-en-wav (8 kHz mono WAV, about 25 minutes), which
// `make deps` installs. Every test that reads them goes through here, so
// there is one place that knows where Debian puts them.
//
// It is a test helper, like dsp/internal/dsptest (which only dsp's own tests
// may import): it reads the file system and is never linked into the
// firmware.
package wavtest

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// Package is the Debian package that ships the prompts.
const Package = "asterisk-core-sounds-en-wav"

// dirs are where Debian puts the prompts, best first. The -wav package
// installs them under the voice's own directory; the "en" link to it comes
// from asterisk-core-sounds-en, which the -wav package only recommends (and
// `apt-get install --no-install-recommends` leaves out).
var dirs = []string{
	"/usr/share/asterisk/sounds/en_US_f_Allison",
	"/usr/share/asterisk/sounds/en",
}

// probe is a prompt every version of the package has.
const probe = "demo-congrats.wav"

// Dir returns the directory of the prompts, or "" when the package is not
// installed.
func Dir() string {
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, probe)); err == nil {
			return d
		}
	}
	return ""
}

// NeedDir returns the directory of the prompts, failing t with the package
// to install when they are missing.
func NeedDir(t testing.TB) string {
	t.Helper()
	d := Dir()
	if d == "" {
		t.Fatalf("wavtest: Debian's speech prompts are missing (apt-get install %s, or run make deps); looked in %v", Package, dirs)
	}
	return d
}

// Prompt returns the path of the prompt name ("demo-congrats", with or
// without ".wav"), failing t when it is missing.
func Prompt(t testing.TB, name string) string {
	t.Helper()
	if filepath.Ext(name) != ".wav" {
		name += ".wav"
	}
	p := filepath.Join(NeedDir(t), name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("wavtest: %v (apt-get install %s)", err, Package)
	}
	return p
}

// Prompts returns the paths of the top-level prompts (not the digits,
// letters and other subdirectories), sorted, failing t when there are
// fewer than atLeast.
func Prompts(t testing.TB, atLeast int) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(NeedDir(t), "*.wav"))
	if err != nil || len(names) < atLeast {
		t.Fatalf("wavtest: %d prompts, want at least %d (apt-get install %s): %v", len(names), atLeast, Package, err)
	}
	sort.Strings(names)
	return names
}
