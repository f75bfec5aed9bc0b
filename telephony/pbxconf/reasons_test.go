package pbxconf

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"callbox/telephony/sip/secret"
)

// TestEveryReasonIsACode reads the package's source: every problem the
// validator records and every FieldError it makes names a ReasonCode
// constant, never a literal text, so each can be translated; and every
// constant has an English text.
func TestEveryReasonIsACode(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	consts := map[string]bool{}
	type call struct {
		pos  token.Pos
		name string
		arg  ast.Expr
	}
	var calls []call
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
				if n.Name.Name == "newFieldError" {
					return false // the one place that builds them
				}
			case *ast.ValueSpec:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "ReasonCode" {
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
				// The code is the 4th argument of add and newFieldError.
				if (name == "add" || name == "newFieldError") && len(n.Args) >= 4 {
					calls = append(calls, call{n.Pos(), name, n.Args[3]})
				}
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "FieldError" {
					t.Errorf("%s: a FieldError literal; use newFieldError so it has a code", fset.Position(n.Pos()))
				}
			}
			return true
		})
	}
	if len(consts) < 50 || len(calls) < 60 {
		t.Fatalf("found %d codes and %d calls: the scan is broken", len(consts), len(calls))
	}
	for _, c := range calls {
		switch a := c.arg.(type) {
		case *ast.Ident:
			if !consts[a.Name] && a.Name != "code" {
				t.Errorf("%s: %s with %s, not a ReasonCode constant", fset.Position(c.pos), c.name, a.Name)
			}
		case *ast.CallExpr: // wantType(...), SecretReason(...): functions returning codes
		default:
			t.Errorf("%s: %s with a reason that is not a ReasonCode constant", fset.Position(c.pos), c.name)
		}
	}
	if len(consts) != len(reasonTexts) {
		t.Errorf("%d ReasonCode constants, %d texts", len(consts), len(reasonTexts))
	}
	for _, c := range Reasons() {
		if strings.HasPrefix(string(c), "secret.") {
			if ReasonText(c, 10) == string(c) {
				t.Errorf("reason %q renders as its code", c)
			}
			continue
		}
		if reasonTexts[c] == "" {
			t.Errorf("reason %q has no text", c)
		}
		if ReasonText(c) == string(c) {
			t.Errorf("reason %q renders as its code", c)
		}
	}
	for _, c := range secret.Codes() {
		if !slices.Contains(Reasons(), SecretReason(c)) {
			t.Errorf("Reasons lacks the secret reason %q", c)
		}
	}
}

// TestFieldErrorsCarryCodes: the errors Validate, Parse and the decoders
// give name a known code, the object's kind and key, and render the same
// English text from the code as before.
func TestFieldErrorsCarryCodes(t *testing.T) {
	known := map[ReasonCode]bool{}
	for _, c := range Reasons() {
		known[c] = true
	}
	bad := sample()
	bad.Extensions[4].Secret = "short"
	bad.Trunks[0].Codecs = []string{"G729"}
	bad.Routes[0].Patterns = []string{"9.X"}
	bad.Emergency = nil
	var errs []error
	errs = append(errs, bad.Validate(), bad.CheckPorts(1, 0))
	for _, doc := range []string{`{"version": 2}`, `{"version": 1, "Extensions": []}`, `{"version": "x"}`, `{`, `{} {}`, `{"version":1,"colour":1}`} {
		_, err := Parse([]byte(doc))
		errs = append(errs, err)
	}
	_, err := DecodeExtension([]byte(`{"number": 201}`))
	errs = append(errs, err)
	n := 0
	for _, err := range errs {
		var list []error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			list = j.Unwrap()
		} else {
			list = []error{err}
		}
		for _, e := range list {
			var fe *FieldError
			if !errors.As(e, &fe) {
				t.Fatalf("%v is not a FieldError", e)
			}
			n++
			if !known[fe.Code] || fe.Kind == "" {
				t.Errorf("%v: code %q kind %q", fe, fe.Code, fe.Kind)
			}
			if fe.Reason != ReasonText(fe.Code, fe.Args...) || strings.Contains(fe.Reason, "%!") {
				t.Errorf("%v: reason %q does not render from its code", fe, fe.Reason)
			}
			if code, args := fe.ReasonCode(); code != string(fe.Code) || len(args) != len(fe.Args) {
				t.Errorf("%v: ReasonCode() = %q %v", fe, code, args)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d errors", n)
	}
	var fe *FieldError
	errors.As(bad.Validate(), &fe)
	if kind, key := fe.ObjectRef(); kind != ObjConfiguration || key != "" || fe.Object != "configuration" {
		t.Errorf("first error %v: object %q %q", fe, kind, key)
	}
	if _, err := DecodeExtension([]byte(`{"number": 201}`)); !errors.As(err, &fe) || fe.Code != ReasonJSONWantString || fe.Object != "extension" {
		t.Errorf("decode error %v", err)
	}
}

// TestSecrets: new or changed SIP extension secrets must be strong; stored
// weak ones keep working and are listed; fxs extensions and trunks are not
// judged.
func TestSecrets(t *testing.T) {
	stored := sample()
	stored.Extensions[4].Secret = "password1" // weak, from before this rule
	stored.Trunks[0].Secret = "12345678"      // the provider's choice
	if err := stored.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := stored.CheckNewSecrets(&stored); err != nil {
		t.Fatalf("unchanged stored secrets refused: %v", err)
	}
	weak := stored.WeakSecrets()
	if len(weak) != 1 || weak[0].Key != "301" || weak[0].Path != "extensions[4].secret" || weak[0].Code != SecretReason(secret.TooShort) {
		t.Fatalf("WeakSecrets = %v", weak)
	}
	for _, tc := range []struct {
		secret, code string
	}{
		{"password12", secret.Common},
		{"301-secret-x", secret.ContainsUser},
		{"short-1", secret.TooShort},
		{"abcdefghijk", secret.Sequence},
		{"Kx7mQ2pZw9", ""},
	} {
		c := stored.Clone()
		c.Extensions[4].Secret = tc.secret
		err := c.CheckNewSecrets(&stored)
		var fe *FieldError
		if tc.code == "" {
			if err != nil {
				t.Errorf("%q refused: %v", tc.secret, err)
			}
			continue
		}
		if !errors.As(err, &fe) || fe.Code != SecretReason(tc.code) || fe.Path != "extensions[4].secret" || fe.Field != "secret" {
			t.Errorf("changed secret %q: %v, want code %s", tc.secret, err, tc.code)
		}
		if want := `pbxconf: extension "301" (extensions[4].secret): secret: `; err != nil && !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error text %q", err)
		}
	}
	// A new extension with a weak secret, and everything against nothing.
	c := stored.Clone()
	c.Extensions = append(c.Extensions, Extension{Number: "302", Kind: KindSIP, Secret: "qwertyuiop"})
	if err := c.CheckNewSecrets(&stored); err == nil {
		t.Error("new extension with a weak secret accepted")
	}
	if err := stored.CheckNewSecrets(nil); err == nil {
		t.Error("a weak secret imported onto a fresh box accepted")
	}
	// Moving a secret to another number makes it new there.
	c = stored.Clone()
	c.Extensions[4].Number = "305"
	if err := c.CheckNewSecrets(&stored); err == nil {
		t.Error("a weak secret moved to a new number accepted")
	}
}

// TestDocSecretsAreStrong: the secrets the documentation shows as examples
// pass the rule a reader will meet.
func TestDocSecretsAreStrong(t *testing.T) {
	for _, s := range []string{"s3cret-pass-x7"} {
		if err := (Extension{Number: "301", Kind: KindSIP, Secret: s}).CheckSecret(); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
}
