package ccconf

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryReasonIsACode: every problem this package reports carries a
// ReasonCode constant (so the web admin can translate it), every constant
// is used, and every code has an English text without fmt complaints.
func TestEveryReasonIsACode(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	consts := map[string]bool{}
	used := map[string]bool{}
	calls := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Name.Name == "newFieldError" || n.Name.Name == "add" {
					return false // the places that build them
				}
			case *ast.ValueSpec:
				isCode := false
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "ReasonCode" {
					isCode = true
				}
				for _, v := range n.Values {
					if c, ok := v.(*ast.CallExpr); ok {
						if id, ok := c.Fun.(*ast.Ident); ok && id.Name == "ReasonCode" {
							isCode = true
						}
					}
				}
				if isCode {
					for _, name := range n.Names {
						consts[name.Name] = true
					}
				}
			case *ast.CallExpr:
				var name string
				switch fn := n.Fun.(type) {
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				case *ast.Ident:
					name = fn.Name
				}
				if (name == "add" || name == "newFieldError") && len(n.Args) >= 4 {
					calls++
					switch a := n.Args[3].(type) {
					case *ast.Ident:
						if !strings.HasPrefix(a.Name, "Reason") && a.Name != "code" {
							t.Errorf("%s: %s with %s, not a ReasonCode constant", fset.Position(n.Pos()), name, a.Name)
						}
						used[a.Name] = true
					case *ast.CallExpr: // calendarReason(...), ReasonCode(pe.Code): codes made from others
					default:
						t.Errorf("%s: %s with a code that is not a constant", fset.Position(n.Pos()), name)
					}
				}
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "FieldError" {
					t.Errorf("%s: a FieldError literal; use newFieldError so it has a code", fset.Position(n.Pos()))
				}
			}
			return true
		})
	}
	if len(consts) < 40 || calls < 80 {
		t.Fatalf("found %d codes and %d calls: the scan is broken", len(consts), calls)
	}
	for c := range consts {
		if !used[c] {
			t.Errorf("%s is never reported", c)
		}
	}
	codes := Reasons()
	for _, c := range codes {
		if txt := ReasonText(c, "x", "y", "z"); txt == string(c) || strings.Contains(txt, "%!(NOVERB)") {
			t.Errorf("%s has no text: %q", c, txt)
		}
	}
	for c := range reasonTexts {
		if !strings.HasPrefix(string(c), "cc.") {
			t.Errorf("%s: the call centre's own codes start with cc.", c)
		}
	}
}
