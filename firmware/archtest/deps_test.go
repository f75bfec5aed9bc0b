package archtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// pkg is one package of the module as `go list` describes it.
type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

// rule constrains the direct imports of the packages under Scope. A test
// file's imports are not checked: tests may reach for references.
type rule struct {
	Scope string // a package path; the rule covers it and everything below
	// Allowed, when set, lists the only non-standard import prefixes.
	Allowed []string
	// Forbidden lists import prefixes the scope must never use.
	Forbidden []string
	Why       string
}

// importedOnlyBy says who alone may import a package.
type importedOnlyBy struct {
	Target  string
	Callers []string
	Why     string
}

// The rules of ARCHITECTURE.md, section "Import rules".
var rules = []rule{
	{Scope: "callbox/dsp", Allowed: []string{"callbox/dsp"}, Why: "dsp is standard library only"},
	{Scope: "callbox/board", Allowed: []string{"callbox/board", "callbox/dsp", "periph.io/x/"}, Why: "board imports periph.io and dsp at most"},
	{Scope: "callbox/telephony", Forbidden: []string{"callbox/board", "callbox/firmware", "callbox/webui", "github.com/gin-gonic/", "go.etcd.io/bbolt"}, Why: "telephony defines the interfaces it consumes"},
	{Scope: "callbox/webui", Forbidden: []string{"go.etcd.io/bbolt", "callbox/firmware", "callbox/board"}, Why: "webui consumes interfaces it defines itself"},
	{Scope: "callbox/webui/internal/htmlpage", Allowed: []string{"callbox/webui/internal/htmlpage"}, Why: "the page renderer is standard library only"},
	{Scope: "callbox/flash", Allowed: []string{"callbox/flash", "golang.org/x/crypto/"}, Why: "flash is formats and signatures"},
	{Scope: "callbox/firmware/store", Forbidden: []string{"callbox/telephony", "callbox/webui", "callbox/board", "callbox/firmware/app"}, Why: "the store offers generic records; firmware/app adapts them"},
	{Scope: "callbox/firmware/mail", Forbidden: []string{"callbox/firmware/store", "callbox/firmware/app", "callbox/webui", "callbox/board", "go.etcd.io/bbolt"}, Why: "the outside interfaces define the stores they use; firmware/app adapts them"},
	{Scope: "callbox/firmware/webhook", Forbidden: []string{"callbox/firmware/store", "callbox/firmware/app", "callbox/webui", "callbox/board", "go.etcd.io/bbolt"}, Why: "the outside interfaces define the stores they use; firmware/app adapts them"},
	{Scope: "callbox/firmware/export", Forbidden: []string{"callbox/firmware/store", "callbox/firmware/app", "callbox/webui", "callbox/board", "go.etcd.io/bbolt"}, Why: "the outside interfaces define the stores they use; firmware/app adapts them"},
}

var wiring = []importedOnlyBy{
	{Target: "callbox/firmware/app", Callers: []string{"callbox/firmware/cmd/callboxd", "callbox/firmware/internal/sipbench", "callbox/firmware/internal/ccbench"}, Why: "the daemon's main (and the SIP and call-centre benchmarks driving the same wiring) are the only users of the wiring"},
	{Target: "callbox/webui", Callers: []string{"callbox/webui", "callbox/firmware/app"}, Why: "only firmware/app wires the web admin"},
	{Target: "callbox/firmware/store", Callers: []string{"callbox/firmware/store", "callbox/firmware/app", "callbox/firmware/cli"}, Why: "the store is reached through interfaces elsewhere"},
	{Target: "go.etcd.io/bbolt", Callers: []string{"callbox/firmware/store", "go.etcd.io/bbolt"}, Why: "bbolt stays inside firmware/store"},
	{Target: "github.com/lib/pq", Callers: []string{"callbox/firmware/export", "github.com/lib/pq"}, Why: "the database drivers stay inside firmware/export"},
	{Target: "github.com/go-sql-driver/mysql", Callers: []string{"callbox/firmware/export", "github.com/go-sql-driver/mysql"}, Why: "the database drivers stay inside firmware/export"},
}

func under(path, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(path, prefix)
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

func anyUnder(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if under(path, p) {
			return true
		}
	}
	return false
}

// violations checks a package graph against the rules.
func violations(pkgs []pkg, rules []rule, wiring []importedOnlyBy) []string {
	std := map[string]bool{}
	for _, p := range pkgs {
		std[p.ImportPath] = p.Standard
	}
	var out []string
	for _, p := range pkgs {
		if p.Standard {
			continue
		}
		for _, imp := range p.Imports {
			for _, r := range rules {
				if !under(p.ImportPath, r.Scope) {
					continue
				}
				if anyUnder(imp, r.Forbidden) || (r.Allowed != nil && !std[imp] && !anyUnder(imp, r.Allowed)) {
					out = append(out, fmt.Sprintf("%s imports %s: %s", p.ImportPath, imp, r.Why))
				}
			}
			for _, w := range wiring {
				if under(imp, w.Target) && !anyUnder(p.ImportPath, w.Callers) {
					out = append(out, fmt.Sprintf("%s imports %s: %s", p.ImportPath, imp, w.Why))
				}
			}
		}
	}
	return out
}

// TestImportRules checks the real module against the rules.
func TestImportRules(t *testing.T) {
	if testing.Short() {
		t.Skip("archtest: runs the go command")
	}
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Imports,Standard", "callbox/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, v := range violations(pkgs, rules, wiring) {
		t.Error(v)
	}
}

// TestRulesCatchForbiddenGraphs proves the checker fails on broken rules.
func TestRulesCatchForbiddenGraphs(t *testing.T) {
	base := []pkg{
		{ImportPath: "fmt", Standard: true},
		{ImportPath: "go.etcd.io/bbolt"},
		{ImportPath: "github.com/gin-gonic/gin"},
		{ImportPath: "periph.io/x/conn/v3/spi"},
		{ImportPath: "callbox/dsp/g711", Imports: []string{"fmt"}},
		{ImportPath: "callbox/board/proslic", Imports: []string{"periph.io/x/conn/v3/spi", "callbox/dsp/g711"}},
		{ImportPath: "callbox/firmware/store", Imports: []string{"go.etcd.io/bbolt"}},
		{ImportPath: "callbox/firmware/app", Imports: []string{"callbox/firmware/store", "callbox/webui"}},
		{ImportPath: "callbox/webui", Imports: []string{"github.com/gin-gonic/gin"}},
		{ImportPath: "callbox/firmware/cmd/callboxd", Imports: []string{"callbox/firmware/app"}},
	}
	if v := violations(base, rules, wiring); len(v) != 0 {
		t.Fatalf("a lawful graph was refused: %q", v)
	}
	tests := []struct {
		name string
		add  pkg
		want string
	}{
		{"dsp imports a module", pkg{ImportPath: "callbox/dsp/dtmf", Imports: []string{"periph.io/x/conn/v3/spi"}}, "dsp is standard library only"},
		{"dsp imports board", pkg{ImportPath: "callbox/dsp/tone", Imports: []string{"callbox/board/proslic"}}, "dsp is standard library only"},
		{"board imports telephony", pkg{ImportPath: "callbox/board/sim", Imports: []string{"callbox/telephony/line"}}, "board imports periph.io and dsp at most"},
		{"telephony imports board", pkg{ImportPath: "callbox/telephony/line", Imports: []string{"callbox/board/proslic"}}, "telephony defines"},
		{"telephony imports bbolt", pkg{ImportPath: "callbox/telephony/acd", Imports: []string{"go.etcd.io/bbolt"}}, "telephony defines"},
		{"telephony imports gin", pkg{ImportPath: "callbox/telephony/sip", Imports: []string{"github.com/gin-gonic/gin"}}, "telephony defines"},
		{"telephony imports firmware", pkg{ImportPath: "callbox/telephony/acd", Imports: []string{"callbox/firmware/store"}}, "telephony defines"},
		{"webui imports bbolt", pkg{ImportPath: "callbox/webui/api", Imports: []string{"go.etcd.io/bbolt"}}, "webui consumes"},
		{"webui imports the store", pkg{ImportPath: "callbox/webui/api", Imports: []string{"callbox/firmware/store"}}, "webui consumes"},
		{"console wires the web admin", pkg{ImportPath: "callbox/firmware/console", Imports: []string{"callbox/webui"}}, "only firmware/app wires"},
		{"store imports an engine", pkg{ImportPath: "callbox/firmware/store", Imports: []string{"go.etcd.io/bbolt", "callbox/telephony/acd"}}, "generic records"},
		{"ctl uses the app", pkg{ImportPath: "callbox/firmware/cmd/callboxctl", Imports: []string{"callbox/firmware/app"}}, "only users of the wiring"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := violations(append(append([]pkg(nil), base...), tt.add), rules, wiring)
			if len(v) == 0 || !strings.Contains(strings.Join(v, "\n"), tt.want) {
				t.Fatalf("violations %q, want one saying %q", v, tt.want)
			}
		})
	}
}
