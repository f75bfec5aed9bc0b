package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// besideField returns the message shown inside the form label holding
// the input named name ("" when none).
func besideField(page, name string) string {
	re := regexp.MustCompile(`(?s)<label class="bad">[^<]*<(?:input|select) name="` + name + `".*?<span class="why">([^<]*)</span>`)
	m := re.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// TestUpdateSettingsAndCheck: the update settings through the API and
// the Firmware page's form (bad input refused beside its field, in the
// user's language), the check on demand, the home page's notice, and the
// download only when asked.
func TestUpdateSettingsAndCheck(t *testing.T) {
	e, u := newUpdateEnv(t)
	for _, login := range []string{"sup", "ag"} {
		c := e.client(t)
		c.login(login, login+"-password")
		for _, p := range []string{"/api/v1/update/settings", "/api/v1/update/check", "/api/v1/update/fetch"} {
			st, m := c.api(http.MethodPost, p, nil)
			if st != http.StatusForbidden && st != http.StatusNotFound && st != http.StatusMethodNotAllowed {
				t.Fatalf("%s POST %s: %d %v", login, p, st, m)
			}
		}
		if rec := c.form("/update/check", nil); rec.Code != http.StatusForbidden {
			t.Fatalf("%s form /update/check: %d", login, rec.Code)
		}
	}
	c := e.client(t)
	c.login("root", "root-password")
	st, m := c.api(http.MethodPut, "/api/v1/update/settings", map[string]any{"check": map[string]any{"enabled": true, "url": "ftp://x", "interval_hours": 24}})
	wantStatus(t, "bad url", st, http.StatusBadRequest, m)
	wantField(t, "bad url", m, "check.url")
	if !strings.Contains(m["error"].(string), `"ftp://x": give an http:// or https:// address`) {
		t.Fatalf("the reason is not the catalogue's: %v", m)
	}
	good := map[string]any{"check": map[string]any{"enabled": true, "url": "https://updates.example.com/latest.cbx", "interval_hours": 12}, "floor": "1.0.0"}
	st, m = c.api(http.MethodPut, "/api/v1/update/settings", good)
	wantStatus(t, "settings", st, http.StatusOK, m)
	if m["check"].(map[string]any)["interval_hours"] != 12.0 || m["floor"] != "1.0.0" {
		t.Fatalf("settings answered %v", m)
	}
	st, m = c.api(http.MethodPut, "/api/v1/update/settings", map[string]any{"bogus": 1})
	wantStatus(t, "unknown field", st, http.StatusBadRequest, m)

	// The form, in Chinese: the reason beside the interval's field, what
	// was typed kept.
	c.lang = "zh-CN"
	rec := c.form("/update/settings", url.Values{"enabled": {"on"}, "url": {"https://u.example/latest.cbx"}, "interval_hours": {"zero"}, "floor": {"1.0.0"}})
	if rec.Code != http.StatusBadRequest || besideField(rec.Body.String(), "interval_hours") != "请填写 1 到 720 小时" ||
		!strings.Contains(rec.Body.String(), `value="https://u.example/latest.cbx"`) {
		t.Fatalf("bad interval: %d\n%s", rec.Code, rec.Body)
	}
	rec = c.form("/update/settings", url.Values{"url": {"https://u.example/latest.cbx"}, "interval_hours": {"6"}, "floor": {"latest"}})
	if rec.Code != http.StatusBadRequest || besideField(rec.Body.String(), "floor") != `"latest" 不是版本号（例如 1.4.0）` {
		t.Fatalf("bad floor: %d\n%s", rec.Code, rec.Body)
	}
	rec = c.form("/update/settings", url.Values{"enabled": {"on"}, "url": {"https://u.example/latest.cbx"}, "interval_hours": {"6"}, "floor": {""}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/update?msg=saved" {
		t.Fatalf("good settings: %d %v", rec.Code, rec.Header())
	}
	if s := u.settings; !s.Check.Enabled || s.Check.IntervalHours != 6 || s.Floor != "" {
		t.Fatalf("stored %+v", s)
	}
	c.lang = "en"

	// Nothing fetched before a check finds something.
	st, m = c.api(http.MethodPost, "/api/v1/update/fetch", nil)
	wantStatus(t, "fetch before a check", st, http.StatusBadRequest, m)
	if home := c.get("/").Body.String(); strings.Contains(home, "update-available") {
		t.Fatal("the home page announces an update nobody found")
	}
	rec = c.form("/update/check", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Update available: version 1.1.0") ||
		!strings.Contains(rec.Body.String(), `action="/update/fetch"`) {
		t.Fatalf("check: %d\n%s", rec.Code, rec.Body)
	}
	if home := c.get("/").Body.String(); !strings.Contains(home, "Update available: version 1.1.0") || !strings.Contains(home, "faster") {
		t.Fatalf("the home page does not say so:\n%s", home)
	}
	if u.fetched {
		t.Fatal("downloaded before anyone asked")
	}
	rec = c.form("/update/fetch", nil)
	if rec.Code != http.StatusOK || !u.fetched || !strings.Contains(rec.Body.String(), `id="update-pending"`) {
		t.Fatalf("fetch: %d %v\n%s", rec.Code, u.fetched, rec.Body)
	}
	// Supervisors are not told.
	sup := e.client(t)
	sup.login("sup", "sup-password")
	if home := sup.get("/").Body.String(); strings.Contains(home, "update-available") {
		t.Fatal("a supervisor is shown the update")
	}
	page := c.get("/update").Body.String()
	for _, want := range []string{`href="/backup"`, `href="/installer"`, "dev (commit x)"} {
		if !strings.Contains(page, want) {
			t.Errorf("the Firmware page lacks %q", want)
		}
	}
}

// TestBackupPage: a restore uploaded from the page is staged, shown with
// what it holds, and applied only by a restart (or discarded); the API
// keeps restarting right away unless told not to.
func TestBackupPage(t *testing.T) {
	mb := &memBackups{}
	e := newEnv(t, Config{Backups: mb})
	c := adminAfterRefusal(t, e, RoleSupervisor, "/backup")
	page := c.get("/backup").Body.String()
	if !strings.Contains(page, `action="/api/v1/backup"`) || !strings.Contains(page, `name="recordings" value="true"`) || strings.Contains(page, "restore-pending") {
		t.Fatalf("backup page:\n%s", page)
	}
	restore := func(query string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "http://callbox.test"+restorePath+query, strings.NewReader("good backup"))
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set(csrfHeader, c.csrf)
		return c.do(req)
	}
	rec := restore("?restart=false")
	var answer struct {
		Restored   BackupInfo `json:"restored"`
		Restarting bool       `json:"restarting"`
	}
	json.Unmarshal(rec.Body.Bytes(), &answer)
	if rec.Code != http.StatusOK || answer.Restarting || answer.Restored.Files != 42 || mb.restarts != 0 {
		t.Fatalf("staged restore: %d %s (%d restarts)", rec.Code, rec.Body, mb.restarts)
	}
	c.lang = "zh-CN"
	page = c.get("/backup").Body.String()
	for _, want := range []string{`id="restore-pending"`, "等待下次启动时恢复", "42 个文件，3.0 MiB", "1 个文件（替换设备上的录音和传真）", `action="/backup/apply"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the pending restore page lacks %q", want)
		}
	}
	if rec := c.form("/backup/discard", nil); rec.Code != http.StatusSeeOther || !mb.discarded || mb.pending != nil {
		t.Fatalf("discard: %d", rec.Code)
	}
	if rec := c.form("/backup/apply", nil); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "没有待恢复的备份") {
		t.Fatalf("apply with nothing staged: %d\n%s", rec.Code, rec.Body)
	}
	restore("?restart=false")
	if st, m := c.api(http.MethodGet, restorePath, nil); st != http.StatusOK || m["pending"] == nil {
		t.Fatalf("pending through the API: %d %v", st, m)
	}
	if rec := c.form("/backup/apply", nil); rec.Code != http.StatusOK || mb.restarts != 1 || !strings.Contains(rec.Body.String(), "设备正在重启") {
		t.Fatalf("apply: %d (%d restarts)\n%s", rec.Code, mb.restarts, rec.Body)
	}
	if st, _ := c.api(http.MethodDelete, restorePath, nil); st != http.StatusNoContent || mb.pending != nil {
		t.Fatalf("discard through the API: %d", st)
	}
	if st, m := c.api(http.MethodPost, restorePath+"/apply", nil); st != http.StatusConflict {
		t.Fatalf("API apply with nothing staged: %d %v", st, m)
	}
	if rec := restore(""); rec.Code != http.StatusOK || mb.restarts != 2 {
		t.Fatalf("restore with the restart: %d (%d restarts)", rec.Code, mb.restarts)
	}
}

// installerErr is a refused installer setting with a reason code, as
// firmware/installer's.
type installerErr struct {
	field, code string
	args        []any
}

func (e *installerErr) Error() string { return "installer: " + e.field + ": refused" }
func (e *installerErr) JSONField() string {
	return e.field
}
func (e *installerErr) ReasonCode() (string, []any) { return e.code, e.args }

// checkedInstaller validates as firmware/installer does for the fields
// the page test uses.
type checkedInstaller struct {
	memInstaller
	puts int
}

func (m *checkedInstaller) PutInstaller(ctx context.Context, doc json.RawMessage) (json.RawMessage, error) {
	var d installerDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	switch {
	case d.Network.Mode == "dhcp" && (d.Network.Address != "" || len(d.Network.DNS) > 0):
		return nil, fmt.Errorf("%w: %w", ErrInvalid, &installerErr{"network.mode", "installer.dhcp.static", nil})
	case d.Network.Mode == "static" && !strings.Contains(d.Network.Address, "/"):
		return nil, fmt.Errorf("%w: %w", ErrInvalid, &installerErr{"network.address", "installer.address.format", []any{d.Network.Address}})
	case d.Time.Zone == "Mars/Olympus":
		return nil, fmt.Errorf("%w: %w", ErrInvalid, &installerErr{"time.zone", "installer.zone.unknown", []any{d.Time.Zone}})
	}
	m.puts++
	m.doc = doc
	return doc, nil
}

// TestInstallerPage: the network and time form keeps what was typed and
// shows the reason beside the field, in the user's language; DHCP sends
// no static fields; the factory reset needs the typed word.
func TestInstallerPage(t *testing.T) {
	mi := &checkedInstaller{memInstaller: memInstaller{doc: json.RawMessage(
		`{"network":{"mode":"dhcp"},"time":{"zone":"UTC","ntp":[]},"sync":{"error":"no NTP server set"}}`)}}
	e := newEnv(t, Config{Installer: mi})
	c := adminAfterRefusal(t, e, RoleAgent, "/installer")
	c.lang = "zh-CN"
	page := c.get("/installer").Body.String()
	if !strings.Contains(page, "网络与时间") || !strings.Contains(page, `<option value="dhcp" selected>`) {
		t.Fatalf("installer page:\n%s", page)
	}
	static := url.Values{"mode": {"static"}, "address": {"192.168.1.20"}, "gateway": {"192.168.1.1"}, "dns": {"192.168.1.1, 223.5.5.5"},
		"zone": {"Asia/Shanghai"}, "ntp": {"ntp.aliyun.com cn.pool.ntp.org"}}
	rec := c.form("/installer", static)
	if rec.Code != http.StatusBadRequest || besideField(rec.Body.String(), "address") != `"192.168.1.20"：请填写带前缀的 IPv4 地址，例如 192.168.1.20/24` ||
		!strings.Contains(rec.Body.String(), `value="192.168.1.1, 223.5.5.5"`) || mi.puts != 0 {
		t.Fatalf("address without prefix: %d\n%s", rec.Code, rec.Body)
	}
	static.Set("address", "192.168.1.20/24")
	if rec := c.form("/installer", static); rec.Code != http.StatusSeeOther {
		t.Fatalf("static: %d\n%s", rec.Code, rec.Body)
	}
	var d installerDoc
	json.Unmarshal(mi.doc, &d)
	if d.Network.Address != "192.168.1.20/24" || strings.Join(d.Network.DNS, " ") != "192.168.1.1 223.5.5.5" ||
		strings.Join(d.Time.NTP, " ") != "ntp.aliyun.com cn.pool.ntp.org" || d.Time.Zone != "Asia/Shanghai" {
		t.Fatalf("stored %s", mi.doc)
	}
	// Back to DHCP with the static fields still filled in: they are not sent.
	static.Set("mode", "dhcp")
	static.Set("zone", "Mars/Olympus")
	rec = c.form("/installer", static)
	if rec.Code != http.StatusBadRequest || besideField(rec.Body.String(), "zone") != `"Mars/Olympus"：未知时区` {
		t.Fatalf("unknown zone: %d\n%s", rec.Code, rec.Body)
	}
	static.Set("zone", "UTC")
	if rec := c.form("/installer", static); rec.Code != http.StatusSeeOther {
		t.Fatalf("dhcp: %d\n%s", rec.Code, rec.Body)
	}
	if page := c.getURL("/installer?msg=saved").Body.String(); !strings.Contains(page, "已保存") || !strings.Contains(page, "未同步") {
		t.Fatalf("after saving:\n%s", page)
	}
	rec = c.form("/installer/factory-reset", url.Values{"confirm": {"erase"}})
	if rec.Code != http.StatusBadRequest || besideField(rec.Body.String(), "confirm") != "请准确输入 ERASE 才能清除设备。" || mi.reset {
		t.Fatalf("reset with the wrong word: %d\n%s", rec.Code, rec.Body)
	}
	if rec := c.form("/installer/factory-reset", url.Values{"confirm": {"ERASE"}}); rec.Code != http.StatusOK || !mi.reset {
		t.Fatalf("reset: %d", rec.Code)
	}
}

// adminAfterRefusal adds an administrator and a user of role, sees the
// latter refused path, and returns the administrator's logged-in client.
func adminAfterRefusal(t *testing.T, e *env, role, path string) *client {
	t.Helper()
	e.users.add(t, "root", RoleAdmin, "root-password")
	e.users.add(t, "other", role, "other-password")
	other := e.client(t)
	other.login("other", "other-password")
	if rec := other.get(path); rec.Code != http.StatusForbidden {
		t.Fatalf("%s on %s: %d, want 403", role, path, rec.Code)
	}
	c := e.client(t)
	c.login("root", "root-password")
	return c
}
