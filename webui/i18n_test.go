package webui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"callbox/webui/i18n"
)

// usedKeys collects the catalogue keys the package uses: {{.T "key"}} in
// templates, string literals shaped like keys in the Go source, and the
// keys built from roles at run time.
func usedKeys(t *testing.T) map[string]string {
	t.Helper()
	keys := map[string]string{}
	tre := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	err := fs.WalkDir(assets, "assets/templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets, p)
		for _, m := range tre.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]] = p
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	kre := regexp.MustCompile(`^(err|warn|users|login|setup|home|role|nav|form|user|lang|port|error|footer|brand|alarm|tls|obj|live|list|perm)\.[a-z0-9_.]*[a-z0-9_]$`)
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == token.STRING {
				if s, err := strconv.Unquote(bl.Value); err == nil && kre.MatchString(s) {
					keys[s] = f
				}
			}
			return true
		})
	}
	keys["alarm."+AlarmStorageFull] = "Alarm codes"
	for _, code := range []string{AlarmRecordingFull, AlarmRecordingLow, AlarmRecordingDir} {
		keys["alarm."+code] = "Alarm codes"
	}
	for _, r := range Roles {
		keys["role."+r] = "Roles"
		keys["home.role_title."+r] = "home.html"
		keys["home.role_text."+r] = "home.html"
	}
	if len(keys) < 50 {
		t.Fatalf("found only %d keys; the scan is broken", len(keys))
	}
	return keys
}

// TestKeysInEveryCatalogue fails when the code or a template uses a key
// that a catalogue lacks.
func TestKeysInEveryCatalogue(t *testing.T) {
	cs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for key, where := range usedKeys(t) {
		for _, lang := range cs.Langs() {
			if _, ok := cs[lang][key]; !ok {
				t.Errorf("%s uses %q, missing in the %s catalogue", where, key, lang)
			}
		}
	}
}

func TestLanguageSelection(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	page := func() string { return c.get("/login").Body.String() }
	c.lang = "zh-CN,zh;q=0.9,en;q=0.8"
	if p := page(); !strings.Contains(p, `<html lang="zh-CN">`) || !strings.Contains(p, "忘记管理员密码") {
		t.Fatalf("zh-CN Accept-Language gave:\n%s", p)
	}
	c.lang = "en-GB"
	if p := page(); !strings.Contains(p, `<html lang="en">`) || !strings.Contains(p, "Forgot the administrator password?") {
		t.Fatalf("en Accept-Language gave:\n%s", p)
	}
	// The switch: a cookie that beats Accept-Language, and a safe redirect.
	rec := c.getURL("/lang/zh-CN?next=%2Flogin")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
		t.Fatalf("language switch = %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if p := page(); !strings.Contains(p, "忘记管理员密码") || !strings.Contains(p, `href="/lang/en?next=%2Flogin"`) {
		t.Fatalf("after switching to zh-CN:\n%s", p)
	}
	if rec := c.getURL("/lang/fr"); rec.Code != http.StatusNotFound {
		t.Fatalf("unsupported language switch = %d", rec.Code)
	}
	// API errors follow the language too.
	c.session()
	st, m := c.api(http.MethodPost, "/api/v1/login", map[string]string{"login": "root", "password": "wrong-pass"})
	wantStatus(t, "zh login failure", st, http.StatusUnauthorized, m)
	if m["error"] != "登录名或密码错误。" || m["code"] != "err.login.failed" {
		t.Fatalf("zh API error %v", m)
	}
	c.getURL("/lang/en")
	c.login("root", "root-password")
	st, m = c.api(http.MethodPost, "/api/v1/users", map[string]any{"login": "x y", "role": "agent", "password": "12345678"})
	wantStatus(t, "en validation", st, http.StatusBadRequest, m)
	if !strings.HasPrefix(m["error"].(string), "Use 1 to 32 lower-case letters") {
		t.Fatalf("en API error %v", m)
	}
}
