package app

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
)

// postForm posts a page's form as a browser does (the session's CSRF
// token in it) and returns the status and page after redirects.
func (w *webClient) postForm(path string, vals url.Values) (int, string) {
	w.t.Helper()
	vals.Set("csrf_token", w.csrf)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, w.base+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if w.lang != "" {
		req.Header.Set("Accept-Language", w.lang)
	}
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The IVR flow editor on the running daemon: the flow list, a flow drawn
// as an SVG graph beside its JSON; a version with a branch to no node is
// refused with the validator's words, the node marked in the graph and
// nothing saved; a good version is saved as version 2 and the next call
// follows it (the new entry hangs up at once, where version 1 held the
// caller in its menu).
func TestFlowEditor(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	a, out := bootCCOut(t, 27800, ccTestPBX(), ccTestConfig(t))
	admin := adminClient(t, a, out)
	admin.lang = "en"
	admin.call("POST", "/api/v1/users", map[string]any{"login": "sup", "role": "supervisor", "password": "Kettle-Drum-43"}, http.StatusCreated)

	if st, body := admin.get("/flows"); st != http.StatusOK || !strings.Contains(body, `href="/flows/main"`) {
		t.Fatalf("flow list: %d\n%s", st, body)
	}
	st, body := admin.get("/flows/main")
	if st != http.StatusOK || !strings.Contains(body, `<svg`) || !strings.Contains(body, `data-node="menu"`) ||
		!strings.Contains(body, `data-node="sales"`) || !strings.Contains(body, `&#34;options&#34;`) || strings.Contains(body, "node bad") {
		t.Fatalf("flow page: %d\n%s", st, body)
	}

	// A branch to a node that is not there: refused, the node marked.
	bad := `{"id": "main", "entry": "menu", "nodes": [
 {"id": "menu", "type": "menu", "prompt": "main-menu", "options": {"1": "nowhere"}, "timeout": "8s", "fallback": "sales"},
 {"id": "sales", "type": "queue", "group": 1}]}`
	st, body = admin.postForm("/flows/main", url.Values{"json": {bad}})
	if st != http.StatusBadRequest || !strings.Contains(body, `class="node bad" data-node="menu"`) ||
		!strings.Contains(body, "nowhere") || strings.Contains(body, `class="node bad" data-node="sales"`) {
		t.Fatalf("a bad version: %d\n%s", st, body)
	}
	if st, body := admin.postForm("/flows/main", url.Values{"json": {`{"id": "main", "nodes": [`}}); st != http.StatusBadRequest || !strings.Contains(body, "not valid JSON") {
		t.Fatalf("broken JSON: %d\n%s", st, body)
	}
	if vs := admin.call("GET", "/api/v1/flows/main/versions", nil, http.StatusOK); len(vs["versions"].([]any)) != 1 {
		t.Fatalf("a refused version was saved: %v", vs)
	}

	// A supervisor reads but does not save.
	sup := loginAs(t, admin.base, "sup", "Kettle-Drum-43")
	if st, body := sup.get("/flows/main"); st != http.StatusOK || strings.Contains(body, "Save as a new version") && !strings.Contains(body, "readonly") {
		t.Fatalf("the supervisor's flow page: %d", st)
	}
	if st, _ := sup.postForm("/flows/main", url.Values{"json": {bad}}); st != http.StatusForbidden {
		t.Fatalf("a supervisor saving a flow: %d", st)
	}

	// Version 2: the caller is sent away at once.
	good := `{"id": "main", "name": "closed", "entry": "bye", "nodes": [{"id": "bye", "type": "hangup"}]}`
	st, body = admin.postForm("/flows/main", url.Values{"json": {good}})
	if st != http.StatusOK || !strings.Contains(body, "Saved as version 2") || !strings.Contains(body, `data-node="bye"`) {
		t.Fatalf("saving version 2: %d\n%s", st, body)
	}
	co := a.livePorts().Sim().CO("fxo1")
	if err := co.Ring(si3050sim.Call{CallerID: &callerid.Message{Format: callerid.MDMF, Number: "02588886666"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the box answering the line", co.Answered)
	// Version 1 would hold the caller in its menu for 8 s a try; version 2
	// hangs up as soon as the flow starts.
	eventually(t, 5*time.Second, "the box hanging up (version 2)", func() bool { return !co.BoxOffHook() })
}
