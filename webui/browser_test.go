package webui

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	shots := os.Getenv("CALLBOX_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
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
