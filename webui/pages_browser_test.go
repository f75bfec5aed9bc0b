package webui

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"callbox/telephony/cc/ccevent"
	"callbox/telephony/pbxconf"
)

// samplePBX is a small box's configuration for the page tests.
func samplePBX() pbxconf.Config {
	c := pbxconf.Default(4)
	c.Extensions = append(c.Extensions,
		pbxconf.Extension{Number: "301", Name: "王芳 前台", Kind: "sip", Secret: "Hx7-kettle-drum-9", CallerIDNumber: "02512345678",
			Forward: pbxconf.Forward{Busy: "201", NoAnswer: "202", NoAnswerS: 25}},
		pbxconf.Extension{Number: "302", Name: "Li Lei (remote)", Kind: "sip", Secret: "password", NAT: true, DND: true})
	c.Trunks = []pbxconf.Trunk{
		{Name: "provider", Kind: "sip", Host: "sip.example.net", Transport: "udp", Username: "02587654321",
			Secret: "provider-secret", Register: true, DIDs: map[string]string{"02587654321": "201", "02587654322": "301"}, Codecs: []string{"PCMA", "PCMU"}},
		{Name: "pstn1", Kind: "fxo", Port: 1, CallerID: "bellcore", Default: "202"},
	}
	c.Routes = []pbxconf.Route{
		{Name: "local", Patterns: []string{"NXXXXXXX"}, Trunks: []string{"pstn1", "provider"}},
		{Name: "mobile", Patterns: []string{"1XXXXXXXXXX"}, Trunks: []string{"provider"}, CallerID: "02587654321", Allowed: []string{"201", "301"}},
	}
	return c
}

// pagesEnv is a server on a socket with every role's user, the sample
// configuration and a live event bus; with changes the configuration
// before the server starts.
type pagesEnv struct {
	*env
	bus  *ccevent.Bus
	desk *memDesk
	srv  *httptest.Server
	url  string
}

func newPagesEnv(t *testing.T, with ...func(*Config)) *pagesEnv {
	t.Helper()
	bus := ccevent.New(64, nil)
	pbx := samplePBX()
	desk := newMemDesk(bus, "1001", "1002", "2001")
	cfg := Config{PBX: newDocPBX(pbx), CallCentre: newDocCC(t, &pbx), Events: busEvents{bus}, Heartbeat: time.Second, Desk: desk}
	for _, f := range with {
		f(&cfg)
	}
	e := newEnv(t, cfg)
	e.s.now = time.Now
	for _, u := range []struct{ login, role, name, agent string }{
		{"root", RoleAdmin, "系统管理员", ""}, {"sue", RoleSupervisor, "苏班长", "2001"}, {"ann", RoleAgent, "安娜", "1001"},
		{"zhang.wei", RoleAgent, "张伟 Zhang Wei (night shift, long display name)", "1002"},
	} {
		e.users.add(t, u.login, u.role, u.login+"-password")
		usr, _ := e.users.Get(context.Background(), u.login)
		usr.DisplayName, usr.Agent = u.name, u.agent
		_ = e.users.Update(context.Background(), usr)
	}
	srv := httptest.NewServer(e.s.Handler())
	t.Cleanup(srv.Close)
	return &pagesEnv{env: e, bus: bus, desk: desk, srv: srv, url: srv.URL}
}

// pagePaths are the pages of the admin, each looked at as root.
var pagePaths = []string{"/", "/desk", "/board", "/wallboard", "/users", "/users/ann", "/extensions", "/extensions/new", "/extensions/301",
	"/trunks", "/trunks/provider", "/routes", "/routes/mobile",
	"/groups", "/groups/1", "/agents", "/agents/1088", "/customer-types", "/customer-types/1", "/blacklist", "/blacklist/new",
	"/inbound-routes", "/inbound-routes/main", "/calendars", "/calendars/main", "/bindings", "/bindings/192.168.1.23",
	"/caller-ids", "/caller-ids/02155550199"}

// weightPaths are pages TestPageWeights weighs besides pagePaths: the
// logs, reports, flows, the agent's own pages and the outside interfaces.
var weightPaths = []string{"/logs/status", "/logs/service", "/logs/calls", "/reports", "/flows",
	"/my/status", "/my/calls", "/my/recordings", "/my/voicemail", "/outside"}

// weightOutside answers the outside page's reads with empty lists.
type weightOutside struct{ Outside }

func (weightOutside) Status(context.Context, string) (any, error) { return map[string]any{}, nil }
func (weightOutside) SMSMessages(context.Context, string, int) (any, error) {
	return map[string]any{"messages": []any{}}, nil
}
func (weightOutside) Webhooks(context.Context) (any, error) {
	return map[string]any{"webhooks": []any{}}, nil
}
func (weightOutside) Settings(context.Context, string) (any, error) { return map[string]any{}, nil }

// TestPageWeights: every page with its style sheet and every script it
// loads (the modules' imports included) stays under 150 KB compressed.
func TestPageWeights(t *testing.T) {
	pbx := samplePBX()
	cfg := Config{PBX: newDocPBX(pbx), CallCentre: newFlowsCC(t, newDocCC(t, &pbx)), Events: busEvents{ccevent.New(8, nil)},
		Live: &csvLive{}, Logs: newMemLogs(time.Now()), CallLog: &memCallLog{}, Outside: weightOutside{}}
	withMedia(&cfg)
	e := newEnv(t, cfg)
	e.users.add(t, "root", RoleAdmin, "root-password")
	root, _ := e.users.Get(context.Background(), "root")
	root.Agent = "1001" // the agent's own pages show rows
	_ = e.users.Update(context.Background(), root)
	e.users.add(t, "ann", RoleAgent, "ann-password")
	c := e.client(t)
	c.lang = "zh-CN"
	c.login("root", "root-password")
	gz := func(b []byte) int {
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w.Write(b)
		w.Close()
		return buf.Len()
	}
	ref := regexp.MustCompile(`(?:href|src)="(/static/[^"?]+)[^"]*"|from "\./([a-z]+\.js)"|import\("\./([a-z]+\.js)"\)`)
	anon := e.client(t)
	for _, path := range slices.Concat(pagePaths, weightPaths, mediaPagePaths, []string{"/login"}) {
		c := c
		if path == "/login" {
			c = anon
		}
		rec := c.getURL(path)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %.300s", path, rec.Code, rec.Body)
		}
		total, raw := gz(rec.Body.Bytes()), rec.Body.Len()
		seen := map[string]bool{}
		queue := []string{rec.Body.String()}
		for len(queue) > 0 {
			text := queue[0]
			queue = queue[1:]
			for _, m := range ref.FindAllStringSubmatch(text, -1) {
				name := m[1]
				if name == "" {
					name = "/static/" + m[2] + m[3]
				}
				if seen[name] {
					continue
				}
				seen[name] = true
				r := c.get(name)
				if r.Code != http.StatusOK {
					t.Fatalf("%s loads %s: %d", path, name, r.Code)
				}
				total += gz(r.Body.Bytes())
				raw += r.Body.Len()
				queue = append(queue, r.Body.String())
			}
		}
		t.Logf("%-18s %6d bytes compressed (%d raw, %d files)", path, total, raw, len(seen)+1)
		if total > 150<<10 {
			t.Errorf("%s weighs %d bytes compressed, over the 150 KB budget", path, total)
		}
		if len(seen) < 2 {
			t.Errorf("%s: found only %v; the scan is broken", path, seen)
		}
	}
}

// TestStaticCaching: a static file asked for with its current hash is
// kept for a year; without, it is revalidated by its ETag.
func TestStaticCaching(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	rec := c.getURL("/static/app.css?v=" + e.s.static["app.css"])
	if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
		t.Fatalf("hashed URL: %d %v", rec.Code, rec.Header())
	}
	etag := rec.Header().Get("ETag")
	req := httptest.NewRequest(http.MethodGet, "http://callbox.test/static/live.js", nil)
	req.Header.Set("If-None-Match", `"`+e.s.static["live.js"]+`"`)
	if r := c.do(req); r.Code != http.StatusNotModified || r.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("revalidation: %d %v", r.Code, r.Header())
	}
	if etag == "" || !strings.Contains(c.get("/login").Body.String(), "/static/app.css?v="+e.s.static["app.css"]) {
		t.Fatal("pages do not link the hashed URL")
	}
}

// shotDir is where screenshots go: $CALLBOX_SCREENSHOTS, or the test's
// temporary directory.
func shotDir(t *testing.T) string {
	if d := os.Getenv("CALLBOX_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// viewport sets the page's size as a device would.
func (b *browser) viewport(w, h int, mobile bool) {
	b.t.Helper()
	b.call(b.session, "Emulation.setDeviceMetricsOverride", map[string]any{"width": w, "height": h,
		"deviceScaleFactor": 1, "mobile": mobile}, nil)
	// A scroll bar would narrow the full-page screenshot, not the page.
	b.call(b.session, "Emulation.setScrollbarsHidden", map[string]any{"hidden": true}, nil)
}

// screenshot saves the whole page as a PNG.
func (b *browser) screenshot(path string) {
	b.t.Helper()
	var res struct {
		Data string `json:"data"`
	}
	b.call(b.session, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true}, &res)
	raw, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// evalJSON evaluates expr and decodes its value into out.
func (b *browser) evalJSON(expr string, out any) {
	b.t.Helper()
	if err := json.Unmarshal(b.eval(expr), out); err != nil {
		b.t.Fatalf("eval %q: %v", expr, err)
	}
}

// layoutProblems lists what a person would see wrong on the page: the page
// wider than the screen, a control cut off at the right edge, a catalogue
// key instead of its text.
const layoutProblems = `(() => {
  const out = [];
  const w = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > w + 1) out.push("page scrolls sideways: " + document.documentElement.scrollWidth + " > " + w);
  for (const el of document.querySelectorAll("button, a.button, input:not([type=hidden]), select, textarea, nav a, td.actions a")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || el.closest("[hidden]") || getComputedStyle(el).visibility === "hidden") continue;
    if (el.closest(".table-wrap") && !el.closest("table.reflow")) continue;
    if (el.closest("nav.side") && getComputedStyle(el.closest("nav.side")).display === "none") continue;
    if (r.right > w + 1 || r.left < -1) out.push("cut off: " + el.outerHTML.slice(0, 90));
  }
  const keys = document.body.innerText.match(/\b(err|obj|nav|field|perm|opt|label|hint|port|live|ev|form|users|user|home|desk)\.[a-z_]+(\.[a-z_]+)*\b/g);
  if (keys) out.push("untranslated: " + keys.join(", "));
  return out;
})()`

// pageViewports are the screens a page is looked at on: a 1366x768
// laptop and a 390 px phone.
var pageViewports = []struct {
	name   string
	w, h   int
	mobile bool
}{{"laptop", 1366, 768, false}, {"phone", 390, 844, true}}

// lookAt checks the page open in b as a person would see it
// (layoutProblems: nothing cut off or scrolling sideways), reporting
// each problem under what, and keeps its screenshot at shot.
func lookAt(t *testing.T, b *browser, what, shot string) {
	t.Helper()
	var problems []string
	b.evalJSON(layoutProblems, &problems)
	for _, p := range problems {
		t.Errorf("%s: %s", what, p)
	}
	b.screenshot(shot)
	checkPNG(t, shot)
}

// TestBrowserPages looks at every page as an administrator in both
// languages on a 1366x768 laptop and a 390 px phone: screenshots for a
// person to look at, nothing cut off or sideways-scrolling, no catalogue
// key left untranslated. It logs the first contentful paint of each page
// as Chromium measured it.
func TestBrowserPages(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	// Without a CJK font Chromium draws the Chinese pages as boxes.
	if out, err := exec.Command("fc-list", ":lang=zh").Output(); err != nil || len(out) == 0 {
		t.Fatal("no Chinese font for the screenshots: install the Debian package fonts-wqy-microhei")
	}
	pe := newPagesEnv(t)
	dir := shotDir(t)
	b := startBrowser(t)
	b.navigate(pe.url + "/login")
	b.submitForm("/login", map[string]string{"login": "root", "password": "root-password"})
	for _, lang := range []string{"zh-CN", "en"} {
		b.navigate(pe.url + "/")
		b.submitForm("/lang/"+lang, nil)
		for _, vp := range pageViewports {
			b.viewport(vp.w, vp.h, vp.mobile)
			for _, path := range pagePaths {
				b.navigate(pe.url + path)
				var lang2 string
				b.evalJSON("document.documentElement.lang", &lang2)
				if lang2 != lang {
					t.Fatalf("%s is in %s, want %s", path, lang2, lang)
				}
				fcp := -1.0
				for range 50 { // the paint entry may come just after the load event
					if b.evalJSON(`(performance.getEntriesByName("first-contentful-paint")[0] || {startTime: -1}).startTime`, &fcp); fcp >= 0 {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				if vp.name == "laptop" {
					t.Logf("%s %-16s first contentful paint %.0f ms", lang, path, fcp)
				}
				name := fmt.Sprintf("%s-%s-%s.png", strings.Trim(strings.ReplaceAll(path, "/", "_"), "_"), lang, vp.name)
				if path == "/" {
					name = fmt.Sprintf("home-%s-%s.png", lang, vp.name)
				}
				lookAt(t, b, lang+" "+vp.name+" "+path, filepath.Join(dir, name))
			}
		}
	}
	// A refused form, as the user sees it: the message beside the field.
	b.viewport(1366, 768, false)
	b.navigate(pe.url + "/extensions/new")
	b.submitForm("/extensions", map[string]string{"number": "305", "name": "前台 2", "kind": "sip", "secret": "12345678"})
	var msg string
	b.evalJSON(`(document.querySelector("label.bad .field-error") || {textContent: ""}).textContent`, &msg)
	if !strings.Contains(msg, "Extension 305") {
		t.Errorf("the refusal beside the field reads %q", msg)
	}
	b.screenshot(filepath.Join(dir, "extensions_new-refused-en-laptop.png"))
	// The drawer opens on a phone.
	b.viewport(390, 844, true)
	b.navigate(pe.url + "/users")
	var shown bool
	b.evalJSON(`(() => { document.querySelector(".nav-toggle").click(); return getComputedStyle(document.querySelector("nav.side")).display !== "none"; })()`, &shown)
	if !shown {
		t.Error("the menu does not open on a phone")
	}
	b.screenshot(filepath.Join(dir, "menu-en-phone.png"))
	t.Logf("screenshots in %s", dir)
}

// TestBrowserLive: the dashboard's live activity shows bus events worded
// in the page's language; when the connection drops the page says so,
// reconnects by itself and gets what was published meanwhile (resumed
// from its last id); a resume the bus cannot honour reloads the page.
// It logs the time from Publish to the event on the page.
func TestBrowserLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	pe := newPagesEnv(t)
	b := startBrowser(t)
	b.navigate(pe.url + "/login")
	b.submitForm("/login", map[string]string{"login": "sue", "password": "sue-password"})
	b.navigate(pe.url + "/")
	b.submitForm("/lang/zh-CN", nil)
	// Record the badge's states as they change.
	b.eval(`window.states = []; new MutationObserver(() => window.states.push(document.getElementById("live").dataset.state))
	  .observe(document.getElementById("live"), {attributes: true}); window.marker = 1`)
	waitFor(t, func() bool { return pe.bus.Subscribers() == 1 })
	logText := func() string {
		var s string
		b.evalJSON(`document.querySelector(".live-log").innerText`, &s)
		return s
	}
	var lat []time.Duration
	for i := range 5 {
		start := time.Now()
		pe.bus.Publish(ccevent.Event{Type: ccevent.AgentState, Agent: "1001", State: "break", Reason: fmt.Sprint("午饭 ", i)})
		for !strings.Contains(logText(), fmt.Sprint("午饭 ", i)) {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("event %d not on the page: %q", i, logText())
			}
			time.Sleep(2 * time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	t.Logf("Publish to the page's DOM (polled every 2 ms): median %v, max %v", lat[len(lat)/2], lat[len(lat)-1])
	if s := logText(); !strings.Contains(s, "座席状态") || !strings.Contains(s, "小休") {
		t.Errorf("the live log is not in Chinese: %q", s)
	}
	// Drop the connection: the badge shows it, the page reconnects and
	// resumes with what was published while it was away.
	pe.srv.CloseClientConnections()
	pe.bus.Publish(ccevent.Event{Type: ccevent.CallQueued, Call: "c9", Number: "13800138000", Group: 2})
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(logText(), "13800138000") {
		if time.Now().After(deadline) {
			t.Fatalf("the event published during the outage never arrived: %q", logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var states []string
	b.evalJSON("window.states", &states)
	if !slices.Contains(states, "lost") || states[len(states)-1] != "ok" {
		t.Errorf("badge states %v, want lost then ok", states)
	}
	// Too much missed: the bus answers the resume with a reset and the
	// page reloads its lists.
	pe.srv.CloseClientConnections()
	for range 100 {
		pe.bus.Publish(ccevent.Event{Type: ccevent.CallQueued})
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		var marker any
		b.evalJSON(`window.marker === undefined ? null : 1`, &marker)
		if marker == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the page did not reload after a reset")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
