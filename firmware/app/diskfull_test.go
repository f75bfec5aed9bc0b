package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"callbox/firmware/internal/smallfs"
)

// TestDiskFull runs the box on a small tmpfs and fills it: a change through
// the web API answers 507 saying the storage is full (it answered 500
// "Internal error" before), the alarm shows on the console's status, the
// system API and the home page, and once space is freed the next change
// succeeds and the alarm clears.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	dir := smallfs.Mount(t, 8<<20)
	a, out := newApp(t, Config{Board: "sim", DataDir: dir})
	start(t, a)
	c := adminClient(t, a, out)
	c.lang = "en" // the box speaks zh-CN unless asked

	filler := smallfs.Fill(t, dir)
	name := strings.Repeat("n", 60)
	var full map[string]any
	for i := 0; i < 500 && full == nil; i++ {
		st, body := c.try("POST", "/api/v1/extensions", map[string]any{"number": fmt.Sprint(3000 + i), "name": name, "kind": "sip", "generate_secret": true})
		switch st {
		case http.StatusCreated:
		case http.StatusInsufficientStorage:
			full = body
		default:
			t.Fatalf("create on a filling disk: %d %v", st, body)
		}
	}
	if full == nil {
		t.Fatal("the disk never filled")
	}
	if full["code"] != "err.storage_full" || !strings.HasPrefix(full["error"].(string), "The box's storage is full: ") {
		t.Fatalf("507 answer %v", full)
	}
	alarmed := func() bool {
		_, sys := c.try("GET", "/api/v1/system", nil)
		alarms, _ := sys["alarms"].([]any)
		status := strings.Join(consoleHost{a}.Status(), "\n")
		home := c.page("/")
		api := len(alarms) == 1 && alarms[0].(map[string]any)["code"] == "storage_full"
		if api != strings.Contains(status, "ALARM: storage full since ") || api != strings.Contains(home, "The box&#39;s storage is full (since") {
			t.Fatalf("alarm shown inconsistently: api %v\nstatus:\n%s\nhome:\n%s", sys, status, home)
		}
		return api
	}
	if !alarmed() {
		t.Fatal("no alarm while the disk is full")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if st, body := c.try("POST", "/api/v1/extensions", map[string]any{"number": "2999", "kind": "sip", "generate_secret": true}); st != http.StatusCreated {
		t.Fatalf("create after freeing space: %d %v", st, body)
	}
	if alarmed() {
		t.Fatal("alarm still raised after a successful write")
	}
}

// adminClient creates the administrator "boss" on a started box with its
// setup code and returns a client logged in as it.
func adminClient(t *testing.T, a *App, out *syncBuffer) *webClient {
	t.Helper()
	codeRE := regexp.MustCompile(`setup code ([0-9]{4}-[0-9]{4})`)
	deadline := time.Now().Add(5 * time.Second)
	for codeRE.FindStringSubmatch(out.String()) == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	m := codeRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no setup code:\n%s", out)
	}
	c := newWebClient(t, "http://"+a.WebAddr())
	c.call("GET", "/api/v1/session", nil, http.StatusOK)
	c.call("POST", "/api/v1/setup", map[string]any{"code": m[1], "login": "boss", "password": "Kettle-Drum-42"}, http.StatusOK)
	c.call("POST", "/api/v1/login", map[string]any{"login": "boss", "password": "Kettle-Drum-42"}, http.StatusOK)
	return c
}

// webClient is a cookie-keeping JSON client of the daemon's web API.
type webClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
	lang string // Accept-Language, when set
}

func newWebClient(t *testing.T, base string) *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

func (w *webClient) try(method, path string, body any) (int, map[string]any) {
	w.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, w.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", w.csrf)
	if w.lang != "" {
		req.Header.Set("Accept-Language", w.lang)
	}
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	m := map[string]any{}
	json.NewDecoder(resp.Body).Decode(&m)
	if tok, ok := m["csrf_token"].(string); ok {
		w.csrf = tok
	}
	return resp.StatusCode, m
}

func (w *webClient) call(method, path string, body any, want int) map[string]any {
	w.t.Helper()
	st, m := w.try(method, path, body)
	if st != want {
		w.t.Fatalf("%s %s = %d %v, want %d", method, path, st, m, want)
	}
	return m
}

func (w *webClient) page(path string) string {
	w.t.Helper()
	_, body := w.get(path)
	return body
}
