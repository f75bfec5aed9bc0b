package webui

import (
	"bytes"
	"context"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const chromiumPath = "/usr/bin/chromium"

// chromium runs headless Chromium with args after the isolating flags and
// returns its standard output.
func chromium(t *testing.T, args ...string) []byte {
	t.Helper()
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromiumPath, append(flags, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.Bytes()
}

// TestBrowser loads the setup and login pages in a real browser, through the
// language switch, and checks the translated text in the rendered DOM; it
// leaves screenshots in $CALLBOX_SCREENSHOTS when that is set.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s not found: install the Debian package chromium", chromiumPath)
	}
	e := newEnv(t, Config{Addr: "127.0.0.1:0"})
	if _, err := e.s.IssueSetupCode(context.Background()); err != nil {
		t.Fatal(err)
	}
	url := startServer(t, e)
	shots := shotDir(t)
	for _, tc := range []struct {
		name, path string
		want       []string
		shot       bool
	}{
		{"setup-zh", "/lang/zh-CN?next=/setup", []string{"首次设置", "设置码", "创建管理员", `lang="zh-CN"`}, true},
	} {
		dom := string(chromium(t, "--dump-dom", url+tc.path))
		for _, w := range tc.want {
			if !strings.Contains(dom, w) {
				t.Errorf("%s: rendered DOM lacks %q:\n%s", tc.name, w, dom)
			}
		}
		if tc.shot {
			shot := filepath.Join(shots, tc.name+".png")
			chromium(t, "--screenshot="+shot, "--window-size=1100,800", "--hide-scrollbars", url+tc.path)
			checkPNG(t, shot)
		}
	}

	// After setup the login page, in Chinese.
	e.users.add(t, "root", RoleAdmin, "root-password")
	dom := string(chromium(t, "--dump-dom", url+"/lang/zh-CN?next=/login"))
	for _, w := range []string{"登录名", "忘记管理员密码", `name="csrf_token"`} {
		if !strings.Contains(dom, w) {
			t.Errorf("login page lacks %q:\n%s", w, dom)
		}
	}
	shot := filepath.Join(shots, "login-zh.png")
	chromium(t, "--screenshot="+shot, "--window-size=1100,800", "--hide-scrollbars", url+"/lang/zh-CN?next=/login")
	checkPNG(t, shot)
}

// checkPNG checks that a screenshot decodes and is not one flat colour.
func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	b := img.Bounds()
	first := img.At(b.Min.X, b.Min.Y)
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			if img.At(x, y) != first {
				return
			}
		}
	}
	t.Fatalf("screenshot %s is blank", path)
}

// TestBrowserLoginStaysOnBox follows next= values that browsers read as
// another host (the WHATWG parser strips tabs and newlines and reads
// backslashes as slashes) in a real browser: through the login form,
// through the login page of a user already logged in, and through the
// language switch. evil.example resolves to a local server that counts
// visits. Before the fix, next=/%09/evil.example took the browser there
// after the GETs (the form's redirect is also stopped by the CSP's
// form-action, which is not enough: the GET redirects are not forms).
func TestBrowserLoginStaysOnBox(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	var evilHits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/favicon.ico" { // fetched after the check visit
			evilHits.Add(1)
		}
		w.Write([]byte("<!doctype html><title>evil</title>evil"))
	}))
	defer evil.Close()
	_, evilPort, _ := net.SplitHostPort(evil.Listener.Addr().String())

	e := newEnv(t, Config{Addr: "127.0.0.1:0"})
	e.users.add(t, "root", RoleAdmin, "root-password")
	box := startServer(t, e)
	boxURL, _ := url.Parse(box)
	b := startBrowser(t, "--host-resolver-rules=MAP evil.example 127.0.0.1:"+evilPort)

	// The resolver rule works: the browser reaches the counting server.
	b.navigate("http://evil.example/")
	if evilHits.Load() != 1 || b.evalString("document.title") != "evil" {
		t.Fatalf("the stand-in for evil.example was not reached (%d hits)", evilHits.Load())
	}
	evilHits.Store(0)

	at := func(what, rawNext, wantPath string) {
		t.Helper()
		got, err := url.Parse(b.evalString("location.href"))
		if err != nil {
			t.Fatal(err)
		}
		if got.Host != boxURL.Host || got.Path != wantPath || evilHits.Load() != 0 {
			t.Fatalf("next=%s, %s: the browser is at %s (%d visits to evil.example), want %s%s",
				rawNext, what, got, evilHits.Load(), box, wantPath)
		}
	}
	for _, tc := range []struct{ rawNext, wantPath string }{
		{"/%09/evil.example", "/"},
		{"/%0A/evil.example", "/"},
		{"/%0D%0A/evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/%5C/evil.example", "/"},
		{"%5C%5Cevil.example", "/"},
		{"/%09%5Cevil.example", "/"},
		{"%09//evil.example", "/"},
		{"//evil.example", "/"},
		{"http://evil.example/", "/"},
		{"%2Fusers", "/users"},
	} {
		b.navigate(box + "/login?next=" + tc.rawNext)
		b.submitForm("/login", map[string]string{"login": "root", "password": "root-password"})
		at("after the login form", tc.rawNext, tc.wantPath)
		b.navigate(box + "/login?next=" + tc.rawNext)
		at("on the login page when logged in", tc.rawNext, tc.wantPath)
		b.navigate(box + "/lang/en?next=" + tc.rawNext)
		at("after the language switch", tc.rawNext, tc.wantPath)
		b.navigate(box + "/")
		b.submitForm("/logout", nil)
	}
}
