package webui

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// browser drives one headless Chromium page through the DevTools protocol
// over --remote-debugging-pipe: JSON messages ending in a NUL byte, read by
// Chromium on its fd 3 and written on its fd 4. No websocket and no
// library: the tests need to navigate, fill a form, submit it and read back
// where the page landed and which cookies it holds.
type browser struct {
	t       *testing.T
	cmd     *exec.Cmd
	toB     *os.File
	session string

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan cdpMessage
	events  chan cdpMessage
	done    chan struct{}
	stderr  strings.Builder
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// startBrowser launches Chromium with extra flags and attaches to a blank
// page; it is killed when the test ends.
func startBrowser(t *testing.T, flags ...string) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s not found: install the Debian package chromium", chromiumPath)
	}
	inR, inW, err := os.Pipe() // we write, Chromium reads (its fd 3)
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe() // Chromium writes (its fd 4), we read
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
		"--remote-debugging-pipe", "--user-data-dir=" + t.TempDir()}, flags...)
	b := &browser{t: t, toB: inW, waiting: map[int]chan cdpMessage{}, events: make(chan cdpMessage, 256), done: make(chan struct{})}
	b.cmd = exec.Command(chromiumPath, append(args, "about:blank")...)
	b.cmd.ExtraFiles = []*os.File{inR, outW}
	b.cmd.Stderr = &lockedWriter{b: &b.stderr, mu: &b.mu}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	inR.Close()
	outW.Close()
	go b.read(outR)
	t.Cleanup(func() {
		inW.Close()
		_ = b.cmd.Process.Kill()
		_ = b.cmd.Wait()
		<-b.done
	})
	var created struct {
		TargetID string `json:"targetId"`
	}
	b.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &created)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	b.call("", "Target.attachToTarget", map[string]any{"targetId": created.TargetID, "flatten": true}, &attached)
	b.session = attached.SessionID
	b.call(b.session, "Page.enable", nil, nil)
	b.call(b.session, "Network.enable", nil, nil)
	return b
}

type lockedWriter struct {
	b  *strings.Builder
	mu *sync.Mutex
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() < 64<<10 {
		w.b.Write(p)
	}
	return len(p), nil
}

func (b *browser) read(r *os.File) {
	defer close(b.done)
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.waiting[m.ID]
			delete(b.waiting, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		select {
		case b.events <- m:
		default: // nobody waits for this many events; drop
		}
	}
}

// call sends one command and decodes its result into out (if not nil).
func (b *browser) call(session, method string, params any, out any) {
	b.t.Helper()
	if err := b.callErr(session, method, params, out); err != nil {
		b.t.Fatal(err)
	}
}

// callErr is call that returns the browser's refusal (e.g. an evaluation
// while the page navigates away) instead of failing the test.
func (b *browser) callErr(session, method string, params any, out any) error {
	b.t.Helper()
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	raw, _ := json.Marshal(msg)
	if _, err := b.toB.Write(append(raw, 0)); err != nil {
		b.t.Fatalf("cdp %s: %v\n%s", method, err, b.stderrText())
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("cdp %s: %s", method, m.Error.Message)
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				b.t.Fatalf("cdp %s: result %s: %v", method, m.Result, err)
			}
		}
	case <-time.After(30 * time.Second):
		b.t.Fatalf("cdp %s: no answer in 30 s\n%s", method, b.stderrText())
	}
	return nil
}

// location is the page's path, or "" while it navigates (the browser then
// refuses to evaluate in the page it is leaving).
func (b *browser) location() string {
	b.t.Helper()
	var res struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
	}
	if err := b.callErr(b.session, "Runtime.evaluate", map[string]any{"expression": "location.pathname", "returnByValue": true}, &res); err != nil {
		return ""
	}
	return res.Result.Value
}

func (b *browser) stderrText() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stderr.String()
}

// drainEvents forgets the events seen so far.
func (b *browser) drainEvents() {
	for {
		select {
		case <-b.events:
		default:
			return
		}
	}
}

// waitLoad waits for a navigation to start and then for the page to load,
// or for its frame to stop loading without a load (a navigation the
// browser refused, e.g. by CSP). Events of the previous page's load that
// arrive late are not taken for this one.
func (b *browser) waitLoad() {
	b.t.Helper()
	timeout := time.After(30 * time.Second)
	started := false
	for {
		select {
		case m := <-b.events:
			if m.SessionID != b.session {
				continue
			}
			switch m.Method {
			case "Page.frameStartedNavigating":
				started = true
			case "Page.loadEventFired", "Page.frameStoppedLoading":
				if started {
					return
				}
			}
		case <-timeout:
			b.t.Fatalf("page did not load within 30 s\n%s", b.stderrText())
		}
	}
}

// navigate loads url and waits until it has loaded.
func (b *browser) navigate(url string) {
	b.t.Helper()
	b.drainEvents()
	var res struct {
		ErrorText string `json:"errorText"`
	}
	b.call(b.session, "Page.navigate", map[string]any{"url": url}, &res)
	if res.ErrorText != "" {
		b.t.Fatalf("navigate %s: %s", url, res.ErrorText)
	}
	b.waitLoad()
}

// eval runs a JavaScript expression in the page and returns its value as
// JSON.
func (b *browser) eval(expr string) json.RawMessage {
	b.t.Helper()
	return b.evaluate(expr, false)
}

// evaluate runs expr; with await, a promise's resolved value is returned.
func (b *browser) evaluate(expr string, await bool) json.RawMessage {
	b.t.Helper()
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	b.call(b.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": await}, &res)
	if res.ExceptionDetails != nil {
		b.t.Fatalf("eval %q: %s", expr, res.ExceptionDetails.Text)
	}
	return res.Result.Value
}

// evalString is eval for an expression whose value is a string.
func (b *browser) evalString(expr string) string {
	b.t.Helper()
	var s string
	if err := json.Unmarshal(b.eval(expr), &s); err != nil {
		b.t.Fatalf("eval %q: not a string: %v", expr, err)
	}
	return s
}

// submitForm fills the named fields of the form posting to action, submits
// it and waits for the page it leads to.
func (b *browser) submitForm(action string, fields map[string]string) {
	b.t.Helper()
	var js strings.Builder
	fmt.Fprintf(&js, "(() => { const f = document.querySelector('form[action=%q]'); if (!f) throw new Error('no form %s');", action, action)
	for k, v := range fields {
		kj, _ := json.Marshal(k)
		vj, _ := json.Marshal(v)
		fmt.Fprintf(&js, " f.elements[%s].value = %s;", kj, vj)
	}
	js.WriteString(" f.submit(); return 'ok'; })()")
	b.drainEvents()
	b.eval(js.String())
	b.waitLoad()
}

// cookie is a cookie as the browser holds it.
type cookie struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Domain   string `json:"domain"`
	Path     string `json:"path"`
	Secure   bool   `json:"secure"`
	HTTPOnly bool   `json:"httpOnly"`
	SameSite string `json:"sameSite"`
}

// cookies returns the browser's cookies for urls.
func (b *browser) cookies(urls ...string) []cookie {
	b.t.Helper()
	var res struct {
		Cookies []cookie `json:"cookies"`
	}
	b.call(b.session, "Network.getCookies", map[string]any{"urls": urls}, &res)
	return res.Cookies
}
