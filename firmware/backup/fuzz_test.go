package backup

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRestore: whatever the file, Restore either refuses it leaving no
// staging folder and nothing pending, or accepts one whose manifest
// accounts for every staged file; it never writes outside the data
// directory.
func FuzzRestore(f *testing.F) {
	src := f.TempDir()
	os.WriteFile(filepath.Join(src, DBName), []byte("db"), 0o600)
	var good bytes.Buffer
	Write(&good, Source{Store: fakeStore("db"), DataDir: src})
	f.Add(good.Bytes())
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, b []byte) {
		parent := t.TempDir()
		dst := filepath.Join(parent, "data")
		os.MkdirAll(dst, 0o700)
		m, err := Restore(bytes.NewReader(b), dst, nil)
		if ents, _ := os.ReadDir(parent); len(ents) != 1 {
			t.Fatalf("wrote outside the data directory: %v", ents)
		}
		if _, serr := os.Stat(filepath.Join(dst, stagingDir)); serr == nil {
			t.Fatal("staging left behind")
		}
		if err != nil {
			if Pending(dst) {
				t.Fatal("refused but pending")
			}
			return
		}
		for _, fl := range m.Files {
			if _, err := os.Stat(filepath.Join(dst, pendingDir, filepath.FromSlash(fl.Path))); err != nil {
				t.Fatalf("manifest file %s not staged", fl.Path)
			}
		}
	})
}
