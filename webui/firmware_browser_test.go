package webui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkedShot saves the whole page as PNG at path and checks it is not
// blank.
func (b *browser) checkedShot(path string) {
	b.t.Helper()
	b.screenshot(path)
	checkPNG(b.t, path)
}

// setFile puts path into the file input matched by selector.
func (b *browser) setFile(selector, path string) {
	b.t.Helper()
	var doc struct {
		Root struct {
			NodeID int `json:"nodeId"`
		} `json:"root"`
	}
	b.call(b.session, "DOM.getDocument", map[string]any{"depth": 0}, &doc)
	var q struct {
		NodeID int `json:"nodeId"`
	}
	b.call(b.session, "DOM.querySelector", map[string]any{"nodeId": doc.Root.NodeID, "selector": selector}, &q)
	if q.NodeID == 0 {
		b.t.Fatalf("no %s on the page", selector)
	}
	b.call(b.session, "DOM.setFileInputFiles", map[string]any{"nodeId": q.NodeID, "files": []string{path}}, nil)
}

// TestBrowserFirmwarePages drives the Firmware, backup and network pages
// in Chromium, in both languages and at phone width: a refused setting
// shows its reason beside its field, a backup uploaded through the page's
// script is checked and shown before anything is applied, and the update
// check says what it found. Screenshots go to $CALLBOX_SCREENSHOTS when
// set.
func TestBrowserFirmwarePages(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	mb := &memBackups{}
	mi := &checkedInstaller{memInstaller: memInstaller{doc: json.RawMessage(
		`{"network":{"mode":"dhcp"},"time":{"zone":"UTC","ntp":[]}}`)}}
	u := &memUpdates{settings: UpdateSettings{Check: UpdateCheckSettings{IntervalHours: 24}}}
	e := newEnv(t, Config{Addr: "127.0.0.1:0", Updates: u, Backups: mb, Installer: mi})
	e.users.add(t, "root", RoleAdmin, "root-password")
	box := startServer(t, e)
	shots := os.Getenv("CALLBOX_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	b := startBrowser(t)
	b.viewport(1366, 768, false)
	b.navigate(box + "/lang/zh-CN?next=/login")
	b.submitForm("/login", map[string]string{"login": "root", "password": "root-password"})

	// Network and time: a static address without its prefix.
	b.navigate(box + "/installer")
	b.submitForm("/installer", map[string]string{"mode": "static", "address": "192.168.1.20", "gateway": "192.168.1.1",
		"dns": "192.168.1.1", "zone": "Asia/Shanghai"})
	why := b.evalString(`(() => { const i = document.querySelector('label.bad input[name=address]'); return i ? i.parentElement.querySelector('.why').textContent : 'no field marked'; })()`)
	if why != `"192.168.1.20"：请填写带前缀的 IPv4 地址，例如 192.168.1.20/24` {
		t.Fatalf("beside the address: %q", why)
	}
	b.checkedShot(filepath.Join(shots, "installer-error-zh.png"))

	// Backup and restore: the upload goes through upload.js, the page
	// then shows what the file holds and waits.
	b.navigate(box + "/backup")
	file := filepath.Join(t.TempDir(), "callbox-backup.tar.gz")
	os.WriteFile(file, []byte("good backup"), 0o600)
	b.setFile("#restore-upload input[type=file]", file)
	b.drainEvents()
	b.eval(`document.getElementById('restore-upload').requestSubmit(), 'ok'`)
	b.waitLoad()
	if got := b.evalString(`(document.getElementById('restore-pending') || {textContent: 'not shown'}).textContent`); !strings.Contains(got, "42 个文件，3.0 MiB") {
		t.Fatalf("the staged restore: %q", got)
	}
	if mb.restarts != 0 || mb.restored != "good backup" {
		t.Fatalf("the page's restore restarted the box (%d) or lost the file (%q)", mb.restarts, mb.restored)
	}
	b.checkedShot(filepath.Join(shots, "backup-pending-zh.png"))
	// A file that is not a backup: the reason on the page, nothing changed.
	os.WriteFile(file, []byte("junk"), 0o600)
	b.setFile("#restore-upload input[type=file]", file)
	b.eval(`document.getElementById('restore-upload').requestSubmit(), 'ok'`)
	var msg string
	for range 100 {
		if msg = b.evalString(`document.querySelector('#restore-upload [role=status]').textContent`); msg != "" {
			break
		}
		b.eval(`new Promise(r => setTimeout(() => r('ok'), 50))`)
	}
	if !strings.Contains(msg, "恢复被拒绝") || !strings.Contains(msg, "nothing was changed") {
		t.Fatalf("a junk file: %q", msg)
	}

	// The update check's settings: hours of 0 refused beside the field;
	// then the check finds 1.1.0.
	b.navigate(box + "/update")
	b.submitForm("/update/settings", map[string]string{"url": "https://u.example/latest.cbx", "interval_hours": "0"})
	why = b.evalString(`(() => { const i = document.querySelector('label.bad input[name=interval_hours]'); return i ? i.parentElement.querySelector('.why').textContent : 'no field marked'; })()`)
	if why != "请填写 1 到 720 小时" {
		t.Fatalf("beside the hours: %q", why)
	}
	b.submitForm("/update/settings", map[string]string{"url": "https://u.example/latest.cbx", "interval_hours": "24"})
	b.submitForm("/update/check", nil)
	if got := b.evalString(`document.getElementById('check-result').textContent`); !strings.Contains(got, "有可用更新：版本 1.1.0") {
		t.Fatalf("after the check: %q", got)
	}
	b.checkedShot(filepath.Join(shots, "update-check-zh.png"))

	// English, and a phone's width: nothing wider than the screen.
	for _, tc := range []struct {
		lang, path string
		width      int
	}{{"en", "/installer", 1366}, {"en", "/backup", 1366}, {"en", "/update", 1366}, {"zh-CN", "/installer", 390}, {"zh-CN", "/backup", 390}, {"zh-CN", "/update", 390}} {
		b.viewport(tc.width, 844, tc.width < 500)
		b.navigate(box + "/lang/" + tc.lang + "?next=" + tc.path)
		if tc.lang == "en" && !strings.Contains(b.evalString(`document.body.textContent`), map[string]string{
			"/installer": "Network and time", "/backup": "Backup and restore", "/update": "Firmware update"}[tc.path]) {
			t.Errorf("%s in English: %s", tc.path, b.evalString(`document.body.textContent`))
		}
		if over := b.evalString(`String(Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth))`); over != "0" {
			t.Errorf("%s at %d px: the page is %s px wider than the screen", tc.path, tc.width, over)
		}
		b.checkedShot(filepath.Join(shots, strings.TrimPrefix(tc.path, "/")+"-"+tc.lang+"-"+map[bool]string{true: "phone", false: "desk"}[tc.width < 500]+".png"))
	}
}
