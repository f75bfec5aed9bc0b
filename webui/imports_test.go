package webui

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps webui on its side of the layering: it consumes
// interfaces and never reaches into the store, the firmware, the board or
// the telephony code (the repository-wide rule test checks the transitive
// graph; this one names the file that breaks the rule). The one exception
// is telephony/sip/secret, the box's password strength rule, a leaf over
// the standard library that the users API shares with the SIP secrets;
// and the customer-service record packages (telephony/crm and below),
// pure rules over storage they define, which webui serves as they are
// rather than copying every type of theirs. Tests may import what they
// need as references.
func TestImports(t *testing.T) {
	forbidden := []string{"go.etcd.io/bbolt", "callbox/firmware", "callbox/board", "callbox/telephony"}
	allowed := map[string]bool{"callbox/telephony/sip/secret": true}
	fset := token.NewFileSet()
	n := 0
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		n++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				records := path == "callbox/telephony/crm" || strings.HasPrefix(path, "callbox/telephony/crm/")
				if (path == bad || strings.HasPrefix(path, bad+"/")) && !allowed[path] && !records {
					t.Errorf("%s imports %s: webui must consume interfaces it defines instead", p, path)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("checked only %d files; the walk is broken", n)
	}
}
