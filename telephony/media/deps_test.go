package media

import (
	"go/build"
	"strings"
	"testing"
)

// TestDependencies enforces the layering: the media engine and its
// subpackages never reach board, firmware, webui, gin or bbolt, directly or
// through another callbox package.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("go/build runs the go command in module mode")
	}
	forbidden := []string{"callbox/board", "callbox/firmware", "callbox/webui", "github.com/gin-gonic", "go.etcd.io/bbolt"}
	seen := map[string]bool{}
	var walk func(path, from string)
	walk = func(path, from string) {
		if seen[path] {
			return
		}
		seen[path] = true
		for _, f := range forbidden {
			if strings.HasPrefix(path, f) {
				t.Errorf("%s imports %s", from, path)
			}
		}
		if !strings.HasPrefix(path, "callbox/") {
			return
		}
		pkg, err := build.Import(path, ".", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range pkg.Imports {
			walk(imp, path)
		}
	}
	for _, p := range []string{"jitter", "rfc4733", "rtcp", "rtpstream"} {
		walk("callbox/telephony/media/"+p, "test")
	}
	walk("callbox/telephony/media", "test")
}
