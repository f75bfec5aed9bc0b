package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// memFax is a fax box of one received fax ("f1", one page) that takes
// documents starting "II*" for numbers of digits.
type memFax struct {
	sent     []string
	settings json.RawMessage
	busy     bool
	docs     []string
}

func (m *memFax) FaxList(ctx context.Context, direction, call string, limit int) ([]json.RawMessage, error) {
	if direction == "out" || (call != "" && call != "c1") {
		return nil, nil
	}
	return []json.RawMessage{json.RawMessage(`{"id":"f1","direction":"in","pages":1}`)}, nil
}

func (m *memFax) FaxGet(ctx context.Context, id string) (json.RawMessage, error) {
	if id != "f1" {
		return nil, fmt.Errorf("%w: fax %q", ErrNotFound, id)
	}
	return json.RawMessage(`{"id":"f1","direction":"in","pages":1}`), nil
}

func (m *memFax) FaxTIFF(ctx context.Context, id string) ([]byte, error) {
	if id != "f1" {
		return nil, ErrNotFound
	}
	return []byte("II*\x00tiff"), nil
}

func (m *memFax) FaxPagePNG(ctx context.Context, id string, page int) ([]byte, error) {
	if id != "f1" || page != 1 {
		return nil, ErrNotFound
	}
	return []byte("\x89PNG"), nil
}

func (m *memFax) FaxSend(ctx context.Context, number string, doc []byte, by string) (json.RawMessage, error) {
	switch {
	case m.busy:
		return nil, fmt.Errorf("%w: too many", ErrConflict)
	case number == "" || strings.Trim(number, "0123456789") != "":
		return nil, fmt.Errorf("%w: number %q", ErrInvalid, number)
	case !bytes.HasPrefix(doc, []byte("II*")):
		return nil, fmt.Errorf("%w: not a TIFF, PNG or JPEG image", ErrInvalid)
	}
	m.sent = append(m.sent, number+" by "+by)
	return json.RawMessage(`{"id":"o1","direction":"out","status":"active"}`), nil
}

func (m *memFax) FaxJobs(ctx context.Context) ([]json.RawMessage, error) {
	return []json.RawMessage{json.RawMessage(`{"id":"j1"}`)}, nil
}

func (m *memFax) FaxAddJob(ctx context.Context, j FaxJob, doc []byte, by string) (json.RawMessage, error) {
	if len(j.Numbers) == 0 {
		return nil, fmt.Errorf("%w: no numbers", ErrInvalid)
	}
	m.sent = append(m.sent, fmt.Sprintf("job %v at %s retries %d backoff %v by %s", j.Numbers, j.At.Format(time.RFC3339), j.Retries, j.Backoff, by))
	return json.RawMessage(`{"id":"j2"}`), nil
}

func (m *memFax) FaxSettings(ctx context.Context) (json.RawMessage, error) {
	if m.settings == nil {
		return json.RawMessage(`{"ident":""}`), nil
	}
	return m.settings, nil
}

func (m *memFax) FaxSetSettings(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	if bytes.Contains(raw, []byte("bad")) {
		return nil, fmt.Errorf("%w: ident %q", ErrInvalid, "bad")
	}
	m.settings = raw
	return raw, nil
}

func (m *memFax) FaxDocuments(ctx context.Context) ([]string, error) { return m.docs, nil }

func (m *memFax) FaxPutDocument(ctx context.Context, name string, doc []byte, by string) error {
	if !bytes.HasPrefix(doc, []byte("II*")) {
		return fmt.Errorf("%w: not a TIFF, PNG or JPEG image", ErrInvalid)
	}
	m.docs = append(m.docs, name+" by "+by)
	return nil
}

func (m *memFax) FaxDeleteDocument(ctx context.Context, name, by string) error {
	if name == "price-list" {
		return fmt.Errorf("app: %w", &FaxDocumentInUse{Document: name, Flow: "main", Node: "prices"})
	}
	for i, d := range m.docs {
		if strings.HasPrefix(d, name+" by ") {
			m.docs = append(m.docs[:i], m.docs[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("%w: fax document %q", ErrNotFound, name)
}

// The fax documents (fax on demand): supervisors list, upload (the raw
// body, as the outbox takes it) and delete them; agents may not.
func TestFaxDocumentsAPI(t *testing.T) {
	m := &memFax{}
	e := newEnv(t, Config{Fax: m})
	e.users.add(t, "sup", RoleSupervisor, "sup-password")
	e.users.add(t, "ag", RoleAgent, "ag-password")
	ag := e.client(t)
	ag.login("ag", "ag-password")
	st, body := ag.api(http.MethodGet, "/api/v1/fax/documents", nil)
	wantStatus(t, "agent", st, http.StatusForbidden, body)
	sup := e.client(t)
	sup.login("sup", "sup-password")
	put := func(name, ctype string, doc []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPut, "http://callbox.test/api/v1/fax/documents/"+name, bytes.NewReader(doc))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set(csrfHeader, sup.csrf)
		return sup.do(req)
	}
	if r := put("prices", "image/tiff", []byte("II*\x00doc")); r.Code != http.StatusNoContent {
		t.Fatalf("put: %d %s", r.Code, r.Body)
	}
	if r := put("prices", "image/png", []byte("hello")); r.Code != http.StatusBadRequest || !strings.Contains(r.Body.String(), `"field":"file"`) {
		t.Fatalf("a bad document: %d %s", r.Code, r.Body)
	}
	if r := put("big", "image/tiff", make([]byte, FaxUploadMax+1)); r.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: %d", r.Code)
	}
	st, body = sup.api(http.MethodGet, "/api/v1/fax/documents", nil)
	if l, _ := body["documents"].([]any); st != http.StatusOK || len(l) != 1 || l[0] != "prices by sup" {
		t.Fatalf("list: %d %v", st, body)
	}
	st, body = sup.api(http.MethodDelete, "/api/v1/fax/documents/prices", nil)
	wantStatus(t, "delete", st, http.StatusNoContent, body)
	st, body = sup.api(http.MethodDelete, "/api/v1/fax/documents/prices", nil)
	wantStatus(t, "delete again", st, http.StatusNotFound, body)
	// A document a flow sends stays, and the answer names the flow (in
	// the user's language).
	st, body = sup.api(http.MethodDelete, "/api/v1/fax/documents/price-list", nil)
	if msg, _ := body["error"].(string); st != http.StatusConflict || !strings.Contains(msg, `"main"`) || !strings.Contains(msg, `"prices"`) {
		t.Fatalf("deleting a document a flow sends: %d %v", st, body)
	}
}

// post sends body with a content type and the client's CSRF token.
func (c *client) post(path, ctype string, body []byte) *httptest.ResponseRecorder {
	c.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://callbox.test"+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set(csrfHeader, c.csrf)
	return c.do(req)
}

// The fax API: supervisors and administrators read faxes and send
// documents, only administrators change the settings, agents and
// strangers get nothing; refusals answer 400 naming what was refused,
// 404, 409, 413 and 415; a box without fax answers 503.
func TestFaxAPI(t *testing.T) {
	m := &memFax{}
	e := newEnv(t, Config{Fax: m})
	for _, u := range [][2]string{{"root", RoleAdmin}, {"sup", RoleSupervisor}, {"ag", RoleAgent}} {
		e.users.add(t, u[0], u[1], u[0]+"-password")
	}
	anon := e.client(t)
	anon.session()
	st, body := anon.api(http.MethodGet, "/api/v1/fax", nil)
	wantStatus(t, "anonymous", st, http.StatusUnauthorized, body)
	ag := e.client(t)
	ag.login("ag", "ag-password")
	st, body = ag.api(http.MethodGet, "/api/v1/fax", nil)
	wantStatus(t, "agent", st, http.StatusForbidden, body)

	sup := e.client(t)
	sup.login("sup", "sup-password")
	st, body = sup.api(http.MethodGet, "/api/v1/fax?direction=in", nil)
	wantStatus(t, "list", st, http.StatusOK, body)
	if l, _ := body["faxes"].([]any); len(l) != 1 {
		t.Fatalf("list %v", body)
	}
	st, body = sup.api(http.MethodGet, "/api/v1/fax?direction=out", nil)
	if l, ok := body["faxes"].([]any); st != http.StatusOK || !ok || len(l) != 0 {
		t.Fatalf("empty list: %d %v", st, body)
	}
	// A call's faxes (the service record follows its call id).
	for q, want := range map[string]int{"?call=c1": 1, "?call=c2": 0} {
		st, body = sup.api(http.MethodGet, "/api/v1/fax"+q, nil)
		if l, ok := body["faxes"].([]any); st != http.StatusOK || !ok || len(l) != want {
			t.Fatalf("%s: %d %v", q, st, body)
		}
	}
	for _, q := range []string{"?direction=sideways", "?limit=0", "?limit=x", "?call=" + strings.Repeat("x", 129)} {
		st, body = sup.api(http.MethodGet, "/api/v1/fax"+q, nil)
		wantStatus(t, q, st, http.StatusBadRequest, body)
	}
	st, body = sup.api(http.MethodGet, "/api/v1/fax/f1", nil)
	if st != http.StatusOK || body["id"] != "f1" {
		t.Fatalf("record: %d %v", st, body)
	}
	st, body = sup.api(http.MethodGet, "/api/v1/fax/nope", nil)
	wantStatus(t, "unknown fax", st, http.StatusNotFound, body)
	if r := sup.get("/api/v1/fax/f1/tiff"); r.Code != http.StatusOK || r.Header().Get("Content-Type") != "image/tiff" ||
		!strings.Contains(r.Header().Get("Content-Disposition"), "fax-f1.tif") {
		t.Fatalf("tiff: %d %v", r.Code, r.Header())
	}
	if r := sup.get("/api/v1/fax/f1/pages/1.png"); r.Code != http.StatusOK || r.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("page: %d %v", r.Code, r.Header())
	}
	for _, p := range []string{"2.png", "1.gif", "x.png", "0.png"} {
		if r := sup.get("/api/v1/fax/f1/pages/" + p); r.Code != http.StatusNotFound {
			t.Errorf("page %s: %d", p, r.Code)
		}
	}

	if r := sup.post("/api/v1/fax/outbox?to=7001", "image/tiff", []byte("II*\x00doc")); r.Code != http.StatusAccepted {
		t.Fatalf("send: %d %s", r.Code, r.Body)
	}
	if len(m.sent) != 1 || m.sent[0] != "7001 by sup" {
		t.Fatalf("sent %v", m.sent)
	}
	for _, tc := range []struct {
		name, to, ctype string
		doc             []byte
		want            int
	}{
		{"not a document", "7001", "image/png", []byte("hello"), http.StatusBadRequest},
		{"bad number", "70a1", "image/tiff", []byte("II*\x00"), http.StatusBadRequest},
		{"a form", "7001", "application/x-www-form-urlencoded", []byte("a=b"), http.StatusUnsupportedMediaType},
		{"too large", "7001", "image/tiff", make([]byte, FaxUploadMax+1), http.StatusRequestEntityTooLarge},
	} {
		r := sup.post("/api/v1/fax/outbox?to="+tc.to, tc.ctype, tc.doc)
		if r.Code != tc.want {
			t.Errorf("%s: %d, want %d: %s", tc.name, r.Code, tc.want, r.Body)
		}
		if tc.want == http.StatusBadRequest && !strings.Contains(r.Body.String(), `"field":"file"`) {
			t.Errorf("%s: %s names no field", tc.name, r.Body)
		}
	}
	r := sup.post("/api/v1/fax/jobs?numbers=7001,+7002&at=2026-12-08T09:00:00Z&retries=2&backoff=10m", "image/tiff", []byte("II*\x00doc"))
	if r.Code != http.StatusCreated || m.sent[1] != "job [7001 7002] at 2026-12-08T09:00:00Z retries 2 backoff 10m0s by sup" {
		t.Fatalf("job: %d %s %v", r.Code, r.Body, m.sent)
	}
	for _, q := range []string{"numbers=", "numbers=7001&at=tomorrow", "numbers=7001&retries=x", "numbers=7001&backoff=5"} {
		if r := sup.post("/api/v1/fax/jobs?"+q, "image/tiff", []byte("II*\x00")); r.Code != http.StatusBadRequest {
			t.Errorf("job %s: %d", q, r.Code)
		}
	}
	if st, body := sup.api(http.MethodGet, "/api/v1/fax/jobs", nil); st != http.StatusOK || len(body["jobs"].([]any)) != 1 {
		t.Errorf("jobs: %d %v", st, body)
	}
	m.busy = true
	if r := sup.post("/api/v1/fax/outbox?to=7001", "image/tiff", []byte("II*\x00")); r.Code != http.StatusConflict {
		t.Errorf("busy: %d", r.Code)
	}

	st, body = sup.api(http.MethodPut, "/api/v1/fax/settings", map[string]any{"ident": "1"})
	wantStatus(t, "supervisor's settings", st, http.StatusForbidden, body)
	root := e.client(t)
	root.login("root", "root-password")
	st, body = root.api(http.MethodPut, "/api/v1/fax/settings", map[string]any{"ident": "+86 1"})
	if st != http.StatusOK || body["ident"] != "+86 1" {
		t.Fatalf("settings: %d %v", st, body)
	}
	st, body = root.api(http.MethodPut, "/api/v1/fax/settings", map[string]any{"ident": "bad"})
	wantStatus(t, "bad settings", st, http.StatusBadRequest, body)
	if !strings.Contains(fmt.Sprint(body["error"]), `ident "bad"`) {
		t.Errorf("refusal %v does not say what", body)
	}
	st, body = sup.api(http.MethodGet, "/api/v1/fax/settings", nil)
	if st != http.StatusOK || body["ident"] != "+86 1" {
		t.Fatalf("settings read: %d %v", st, body)
	}

	none := newEnv(t, Config{})
	none.users.add(t, "root", RoleAdmin, "root-password")
	c := none.client(t)
	c.login("root", "root-password")
	st, body = c.api(http.MethodGet, "/api/v1/fax", nil)
	wantStatus(t, "no fax", st, http.StatusServiceUnavailable, body)
}

// The fax page lists the received faxes with their page previews and
// sends the document of its form; a refused one shows the form again
// with the reason; agents do not see it.
func TestFaxPage(t *testing.T) {
	m := &memFax{}
	e := newEnv(t, Config{Fax: m})
	e.users.add(t, "sup", RoleSupervisor, "sup-password")
	e.users.add(t, "ag", RoleAgent, "ag-password")
	ag := e.client(t)
	ag.login("ag", "ag-password")
	if r := ag.get("/fax"); r.Code != http.StatusForbidden {
		t.Fatalf("agent: %d", r.Code)
	}
	sup := e.client(t)
	sup.login("sup", "sup-password")
	r := sup.get("/fax")
	if r.Code != http.StatusOK || !strings.Contains(r.Body.String(), `src="/api/v1/fax/f1/pages/1.png"`) ||
		!strings.Contains(r.Body.String(), `href="/fax"`) {
		t.Fatalf("page: %d\n%s", r.Code, r.Body)
	}
	csrf := csrfFromPage(t, r.Body.String())
	send := func(to string, doc []byte) *httptest.ResponseRecorder {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		w.WriteField("csrf_token", csrf)
		w.WriteField("to", to)
		fw, _ := w.CreateFormFile("file", "doc.tif")
		fw.Write(doc)
		w.Close()
		req := httptest.NewRequest(http.MethodPost, "http://callbox.test/fax", &b)
		req.Header.Set("Content-Type", w.FormDataContentType())
		return sup.do(req)
	}
	if r := send("7001", []byte("II*\x00doc")); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/fax?msg=sent" {
		t.Fatalf("send: %d %v", r.Code, r.Header())
	}
	if len(m.sent) != 1 {
		t.Fatalf("sent %v", m.sent)
	}
	r = send("7001", []byte("hello"))
	if r.Code != http.StatusBadRequest || !strings.Contains(r.Body.String(), "not a TIFF") || !strings.Contains(r.Body.String(), `value="7001"`) {
		t.Fatalf("refused: %d\n%s", r.Code, r.Body)
	}
	schedule := func(fields map[string]string) *httptest.ResponseRecorder {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		w.WriteField("csrf_token", csrf)
		for k, v := range fields {
			w.WriteField(k, v)
		}
		fw, _ := w.CreateFormFile("file", "doc.tif")
		fw.Write([]byte("II*\x00doc"))
		w.Close()
		req := httptest.NewRequest(http.MethodPost, "http://callbox.test/fax/jobs", &b)
		req.Header.Set("Content-Type", w.FormDataContentType())
		return sup.do(req)
	}
	r = schedule(map[string]string{"numbers": "7001\r\n7002, 7003", "at": "2026-12-08T09:30", "retries": "3"})
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/fax?msg=scheduled" {
		t.Fatalf("schedule: %d %s", r.Code, r.Body)
	}
	want := "job [7001 7002 7003] at " + time.Date(2026, 12, 8, 9, 30, 0, 0, time.Local).Format(time.RFC3339) + " retries 3 backoff 0s by sup"
	if m.sent[1] != want {
		t.Fatalf("scheduled %q, want %q", m.sent[1], want)
	}
	if r := schedule(map[string]string{"numbers": "", "retries": "1"}); r.Code != http.StatusBadRequest {
		t.Errorf("a job with no numbers: %d", r.Code)
	}
	if r := schedule(map[string]string{"numbers": "7001", "at": "tomorrow"}); r.Code != http.StatusBadRequest {
		t.Errorf("a job at no time: %d", r.Code)
	}
}
