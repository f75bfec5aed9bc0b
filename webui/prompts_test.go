package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/telephony/prompt"
	"callbox/webui/i18n"
)

// memPrompts is an in-memory Prompts following the contract: sentinels
// wrapped, refusals with a reason code.
type memPrompts struct {
	mu     sync.Mutex
	files  map[string][]byte // "lang/name"
	system map[string]bool
	speech bool
}

// refusal is a refused input with its reason code.
type refusal struct {
	code string
	args []any
}

func (r refusal) Error() string               { return "mem: " + r.code }
func (r refusal) Unwrap() error               { return ErrInvalid }
func (r refusal) ReasonCode() (string, []any) { return r.code, r.args }

func newMemPrompts() *memPrompts {
	p := &memPrompts{files: map[string][]byte{}, system: map[string]bool{}}
	p.files["zh-CN/welcome"] = []byte("RIFF....WAVEsystem-welcome")
	p.system["zh-CN/welcome"] = true
	return p
}

func (p *memPrompts) PromptLanguages() []string { return []string{"zh-CN", "en"} }

func (p *memPrompts) check(lang, name string) error {
	if lang != "zh-CN" && lang != "en" {
		return refusal{code: "prompt.lang"}
	}
	if name == "" || strings.Contains(name, "..") || strings.Contains(name, " ") {
		return refusal{code: "prompt.name"}
	}
	return nil
}

func (p *memPrompts) info(lang, name string) PromptInfo {
	k := lang + "/" + name
	return PromptInfo{Name: name, Lang: lang, Kind: map[bool]string{true: "system", false: "upload"}[p.system[k]],
		System: p.system[k], Custom: !p.system[k], Bytes: int64(len(p.files[k])), DurationMS: 1000,
		Modified: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (p *memPrompts) PromptList(ctx context.Context, lang string) ([]PromptInfo, error) {
	if err := p.check(lang, "x"); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []PromptInfo
	for k := range p.files {
		if l, n, _ := strings.Cut(k, "/"); l == lang {
			out = append(out, p.info(l, n))
		}
	}
	return out, nil
}

func (p *memPrompts) PromptOpen(ctx context.Context, lang, name string) (PromptFile, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.files[lang+"/"+name]
	if !ok {
		return PromptFile{}, fmt.Errorf("mem: %w: %s", ErrNotFound, name)
	}
	return PromptFile{ReadSeekCloser: nopCloser{bytes.NewReader(b)}, Info: p.info(lang, name)}, nil
}

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }

func (p *memPrompts) PromptUpload(ctx context.Context, lang, name string, file []byte, by string) (PromptInfo, error) {
	if err := p.check(lang, name); err != nil {
		return PromptInfo{}, err
	}
	if !bytes.HasPrefix(file, []byte("RIFF")) {
		return PromptInfo{}, refusal{code: "prompt.not_wav"}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	k := lang + "/" + name
	p.files[k], p.system[k] = file, false
	info := p.info(lang, name)
	info.By = by
	return info, nil
}

func (p *memPrompts) PromptSynthesize(ctx context.Context, lang, name, text, by string) (PromptInfo, error) {
	if !p.speech {
		return PromptInfo{}, fmt.Errorf("mem: %w", ErrNoEngine)
	}
	if text == "" {
		return PromptInfo{}, refusal{code: "prompt.text", args: []any{1000}}
	}
	info, err := p.PromptUpload(ctx, lang, name, []byte("RIFF"+text), by)
	info.Kind, info.Text = "speech", text
	return info, err
}

func (p *memPrompts) PromptDelete(ctx context.Context, lang, name string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := lang + "/" + name
	switch {
	case p.system[k]:
		return fmt.Errorf("mem: %w", ErrReadOnly)
	case p.files[k] == nil:
		return fmt.Errorf("mem: %w", ErrNotFound)
	}
	delete(p.files, k)
	return nil
}

// uploadPrompt sends a multipart upload of file in the field named field.
func (c *client) uploadPrompt(path, field string, file []byte) (int, map[string]any) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("note", "ignored")
	w, _ := mw.CreateFormFile(field, "upload.wav")
	w.Write(file)
	mw.Close()
	req := httptest.NewRequest(http.MethodPut, "http://callbox.test"+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set(csrfHeader, c.csrf)
	rec := c.do(req)
	return rec.Code, decodeMap(c.t, rec)
}

func decodeMap(t testing.TB, rec *httptest.ResponseRecorder) map[string]any {
	m := map[string]any{}
	if rec.Body.Len() > 0 && strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("answer is not a JSON object: %v: %s", err, rec.Body)
		}
	}
	return m
}

func TestPromptsAPI(t *testing.T) {
	mp := newMemPrompts()
	e := newEnv(t, Config{Prompts: mp})
	e.users.add(t, "root", RoleAdmin, "root-password")
	e.users.add(t, "boss", RoleSupervisor, "boss-password")
	e.users.add(t, "ann", RoleAgent, "ann-password")

	admin := e.client(t)
	admin.login("root", "root-password")
	file := []byte("RIFF\x24\x00\x00\x00WAVE-the-audio-bytes")
	st, m := admin.uploadPrompt("/api/v1/prompts/en/ivr/sales/menu", "file", file)
	wantStatus(t, "upload", st, http.StatusCreated, m)
	if m["name"] != "ivr/sales/menu" || m["lang"] != "en" || m["by"] != "root" || m["custom"] != true {
		t.Fatalf("upload answer %v", m)
	}
	st, m = admin.api(http.MethodGet, "/api/v1/prompts?lang=en", nil)
	wantStatus(t, "list", st, http.StatusOK, m)
	if ps := m["prompts"].([]any); len(ps) != 1 || m["lang"] != "en" || len(m["languages"].([]any)) != 2 {
		t.Fatalf("list %v", m)
	}
	if _, m = admin.api(http.MethodGet, "/api/v1/prompts", nil); m["lang"] != "zh-CN" {
		t.Fatalf("the default language: %v", m)
	}

	// Supervisors list and play, with ranges, and may not change.
	boss := e.client(t)
	boss.login("boss", "boss-password")
	rec := boss.get("/api/v1/prompts/en/ivr/sales/menu")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "audio/wav" || !bytes.Equal(rec.Body.Bytes(), file) ||
		rec.Header().Get("Accept-Ranges") != "bytes" || rec.Header().Get("Content-Language") != "en" {
		t.Fatalf("play: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	req := httptest.NewRequest(http.MethodGet, "http://callbox.test/api/v1/prompts/en/ivr/sales/menu?download=1", nil)
	req.Header.Set("Range", "bytes=4-7")
	rec = boss.do(req)
	if rec.Code != http.StatusPartialContent || rec.Body.String() != "\x24\x00\x00\x00" ||
		rec.Header().Get("Content-Range") != fmt.Sprintf("bytes 4-7/%d", len(file)) ||
		rec.Header().Get("Content-Disposition") != `attachment; filename=ivr-sales-menu.en.wav` {
		t.Fatalf("range: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	st, m = boss.uploadPrompt("/api/v1/prompts/en/x", "file", file)
	wantStatus(t, "supervisor upload", st, http.StatusForbidden, m)
	st, m = boss.api(http.MethodDelete, "/api/v1/prompts/en/ivr/sales/menu", nil)
	wantStatus(t, "supervisor delete", st, http.StatusForbidden, m)

	// Agents see none of it.
	ann := e.client(t)
	ann.login("ann", "ann-password")
	st, m = ann.api(http.MethodGet, "/api/v1/prompts", nil)
	wantStatus(t, "agent list", st, http.StatusForbidden, m)
	if rec := ann.get("/api/v1/prompts/zh-CN/welcome"); rec.Code != http.StatusForbidden {
		t.Fatalf("agent play: %d", rec.Code)
	}

	// Refusals, worded in the user's language.
	admin.lang = "zh-CN"
	st, m = admin.uploadPrompt("/api/v1/prompts/en/bad", "file", []byte("ID3 an mp3"))
	wantStatus(t, "mp3 upload", st, http.StatusBadRequest, m)
	if m["code"] != "err.prompt.invalid" || m["reason"] != "prompt.not_wav" || m["field"] != "file" || m["error"] != "提示音被拒绝：不是 WAV 文件。" {
		t.Fatalf("mp3 upload: %v", m)
	}
	st, m = admin.uploadPrompt("/api/v1/prompts/fr/bad", "file", file)
	wantStatus(t, "bad language", st, http.StatusBadRequest, m)
	wantField(t, "bad language", m, "lang")
	st, m = admin.uploadPrompt("/api/v1/prompts/en/bad", "audio", file)
	wantStatus(t, "no file field", st, http.StatusBadRequest, m)
	if m["code"] != "err.prompt.no_file" {
		t.Fatalf("no file field: %v", m)
	}
	st, m = admin.uploadPrompt("/api/v1/prompts/en/big", "file", make([]byte, PromptUploadMax+1))
	wantStatus(t, "too large", st, http.StatusRequestEntityTooLarge, m)
	st, m = admin.uploadPrompt("/api/v1/prompts/en/huge", "file", make([]byte, PromptUploadMax+2<<20))
	wantStatus(t, "over the body bound", st, http.StatusRequestEntityTooLarge, m)
	admin.lang = "en"
	st, m = admin.api(http.MethodPut, "/api/v1/prompts/en/promo", map[string]string{"text": "Spring sale"})
	wantStatus(t, "speech without an engine", st, http.StatusServiceUnavailable, m)
	if !strings.Contains(m["error"].(string), "no speech engine") {
		t.Fatalf("no engine: %v", m)
	}
	mp.speech = true
	st, m = admin.api(http.MethodPut, "/api/v1/prompts/en/promo", map[string]string{"text": "Spring sale"})
	wantStatus(t, "speech", st, http.StatusCreated, m)
	if m["kind"] != "speech" || m["text"] != "Spring sale" {
		t.Fatalf("speech: %v", m)
	}
	st, m = admin.api(http.MethodPut, "/api/v1/prompts/en/promo", map[string]string{"text": ""})
	wantStatus(t, "empty text", st, http.StatusBadRequest, m)
	wantField(t, "empty text", m, "text")
	st, m = admin.api(http.MethodPut, "/api/v1/prompts/en/promo", map[string]string{"words": "x"})
	wantStatus(t, "unknown field", st, http.StatusBadRequest, m)
	req = httptest.NewRequest(http.MethodPut, "http://callbox.test/api/v1/prompts/en/promo", strings.NewReader("RIFF"))
	req.Header.Set("Content-Type", "audio/wav")
	req.Header.Set(csrfHeader, admin.csrf)
	if rec := admin.do(req); rec.Code != http.StatusUnsupportedMediaType {
		t.Fatalf("raw body: %d %s", rec.Code, rec.Body)
	}
	// A large upload must carry its token in the header: read as a form
	// field, it would make the CSRF check parse megabytes first.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField(csrfField, admin.csrf)
	w, _ := mw.CreateFormFile("file", "big.wav")
	w.Write(append([]byte("RIFF"), make([]byte, 200<<10)...))
	mw.Close()
	req = httptest.NewRequest(http.MethodPut, "http://callbox.test/api/v1/prompts/en/formtoken", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if rec := admin.do(req); rec.Code != http.StatusForbidden {
		t.Fatalf("an upload with the token in the form: %d %s", rec.Code, rec.Body)
	}
	// The CSRF token is needed as for every change.
	req = httptest.NewRequest(http.MethodDelete, "http://callbox.test/api/v1/prompts/en/promo", nil)
	if rec := admin.do(req); rec.Code != http.StatusForbidden {
		t.Fatalf("delete without a CSRF token: %d", rec.Code)
	}

	// Delete: the admin's own only.
	st, m = admin.api(http.MethodDelete, "/api/v1/prompts/zh-CN/welcome", nil)
	wantStatus(t, "delete system", st, http.StatusConflict, m)
	st, _ = admin.api(http.MethodDelete, "/api/v1/prompts/en/ivr/sales/menu", nil)
	wantStatus(t, "delete", st, http.StatusNoContent, nil)
	st, m = admin.api(http.MethodDelete, "/api/v1/prompts/en/ivr/sales/menu", nil)
	wantStatus(t, "delete again", st, http.StatusNotFound, m)
	if rec := admin.get("/api/v1/prompts/en/ivr/sales/menu"); rec.Code != http.StatusNotFound {
		t.Fatalf("play after delete: %d", rec.Code)
	}
}

func TestPromptsUnavailable(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	c.login("root", "root-password")
	st, m := c.api(http.MethodGet, "/api/v1/prompts", nil)
	wantStatus(t, "no catalogue", st, http.StatusServiceUnavailable, m)
}

// TestCatalogueCoversPromptReasons: every reason telephony/prompt gives has
// a text in every language.
func TestCatalogueCoversPromptReasons(t *testing.T) {
	cs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range prompt.Reasons() {
		for _, lang := range cs.Langs() {
			if _, ok := cs[lang]["reason."+r]; !ok {
				t.Errorf("reason.%s missing in the %s catalogue", r, lang)
			}
		}
	}
}
