package main

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPackageOf(t *testing.T) {
	for _, tc := range []struct{ sym, want string }{
		{"runtime.mallocgc", "runtime"},
		{"github.com/gin-gonic/gin.(*Context).JSON", "github.com/gin-gonic/gin"},
		{"github.com/gin-gonic/gin/binding.init", "github.com/gin-gonic/gin/binding"},
		{"callbox/telephony/sip.(*leg).run.func1", "callbox/telephony/sip"},
		{"type:*callbox/flash.Manifest", "callbox/flash"},
		{"type:.eq.callbox/flash.Image", "callbox/flash"},
		{"type:.eq.[2]interface {}", ""},
		{"slices.SortFunc[go.shape.[]string,go.shape.string]", "slices"},
		{"callbox/dsp/mix.Sum[go.shape.int16]", "callbox/dsp/mix"},
		{"vendor/golang.org/x/net/idna.idnaValues", "vendor/golang.org/x/net/idna"},
		{"go:string.*", ""},
		{"go:itab.*net/http.conn,io.Reader", ""},
		{"type:map[string]int", ""},
		{"type:func(int) error", ""},
		{"_start", ""},
		{"", ""},
	} {
		if got := packageOf(tc.sym); got != tc.want {
			t.Errorf("packageOf(%q) = %q, want %q", tc.sym, got, tc.want)
		}
	}
}

func TestModuleOf(t *testing.T) {
	mods := []string{"callbox", "github.com/gin-gonic/gin", "periph.io/x/host/v3", "golang.org/x/net"}
	for _, tc := range []struct{ pkg, want string }{
		{"callbox/webui", "callbox"},
		{"github.com/gin-gonic/gin/render", "github.com/gin-gonic/gin"},
		{"periph.io/x/host/v3/rpi", "periph.io/x/host/v3"},
		{"net/http", "std"},
		{"vendor/golang.org/x/net/idna", "std"},
		{"golang.org/x/net/http2", "golang.org/x/net"},
		{"example.com/unlisted/pkg", "example.com/unlisted/pkg"},
		{"callboxing/x", "std"}, // not the callbox module: no dot, so a standard path
	} {
		if got := moduleOf(tc.pkg, mods); got != tc.want {
			t.Errorf("moduleOf(%q) = %q, want %q", tc.pkg, got, tc.want)
		}
	}
}

func FuzzPackageOf(f *testing.F) {
	for _, s := range []string{"runtime.x", "type:*a/b.C", "slices.F[go.shape.[]a/b.c]", "type:.eq.a/b.T", "a/b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sym string) {
		p := packageOf(sym)
		if p == "" {
			return
		}
		// A package is a piece of the name, ends before a dot, and holds
		// none of the characters that start a type argument.
		if !strings.Contains(sym, p+".") || strings.ContainsAny(p, "[({ ") || strings.HasPrefix(p, "go:") {
			t.Fatalf("packageOf(%q) = %q", sym, p)
		}
	})
}

// TestReport measures binsize itself, built with its symbols (go test
// links without them): within a large budget, over a tiny one, with the
// runtime among the packages.
func TestReport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	self := filepath.Join(t.TempDir(), "binsize")
	if out, err := exec.Command("go", "build", "-o", self, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		max      int64
		wantOver bool
		word     string
	}{{1 << 40, false, "within the budget"}, {1 << 10, true, "OVER the budget"}} {
		var out strings.Builder
		over, err := report(&out, self, self, tc.max, 10)
		if err != nil {
			t.Fatal(err)
		}
		if over != tc.wantOver || !strings.Contains(out.String(), tc.word) || !strings.Contains(out.String(), "  runtime\n") ||
			!strings.Contains(out.String(), "  std\n") {
			t.Errorf("max %d: over %v\n%s", tc.max, over, out.String())
		}
	}
	if _, err := report(&strings.Builder{}, self, "/nonexistent", 1, 1); err == nil {
		t.Error("a missing binary measured")
	}
}

func TestReflectMethodCallers(t *testing.T) {
	for _, tc := range []struct {
		name, dump string
		want       []string
	}{
		{"none", "# callbox/x\n_ -> _rt0_arm_linux\nmain.main -> fmt.Println\n", []string{}},
		{"template and wrappers", "# callbox/x\n" +
			"text/template.(*state).evalFieldChain -> text/template.(*state).evalField <ReflectMethod>\n" +
			"text/template.(*state).evalField <ReflectMethod> -> reflect.Value.MethodByName\n" +
			"type:reflect.Value <UsedInIface> -> reflect.(*Value).Method <ReflectMethod>\n" +
			"a.f -> b.(*T).g <UsedInIface><ReflectMethod>\n" +
			"a.f -> b.h <UsedInIface>\n",
			[]string{"b.(*T).g", "text/template.(*state).evalField"}},
	} {
		got, err := reflectMethodCallers(strings.NewReader(tc.dump))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
