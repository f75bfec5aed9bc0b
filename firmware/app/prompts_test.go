package app

import (
	"bytes"
	"context"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"callbox/dsp/wav"
	"callbox/telephony/prompt"
)

// uploadPrompt PUTs a file as a multipart upload of a prompt, wanting
// the status want, and decodes the JSON answer.
func (w *webAdmin) uploadPrompt(path string, file []byte, want int) map[string]any {
	w.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "upload.wav")
	fw.Write(file)
	mw.Close()
	m := map[string]any{}
	w.do(http.MethodPut, path, mw.FormDataContentType(), &body, want, &m)
	return m
}

// fetch GETs a path with an optional Range and returns the answer.
func (w *webAdmin) fetch(path, rng string) (*http.Response, []byte) {
	w.t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, w.base+path, nil)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func sox(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("sox", args...).CombinedOutput(); err != nil {
		t.Fatalf("sox %v: %v\n%s (apt-get install sox)", args, err, out)
	}
}

// toneLevel is a 1 kHz tone's amplitude in 8 kHz samples (Goertzel).
func toneLevel(s []int16) float64 {
	c := 2 * math.Cos(2*math.Pi*1000/8000)
	var s1, s2 float64
	for _, v := range s {
		s1, s2 = float64(v)+c*s1-s2, s1
	}
	return 2 * math.Sqrt(max(s1*s1+s2*s2-c*s1*s2, 0)) / float64(len(s))
}

// TestPromptsThroughTheDaemon uploads a 44.1 kHz stereo 24-bit file made by
// sox through the running daemon's web server, plays it back converted,
// lists, refuses a bad file without losing the good one, speaks text with
// espeak-ng, and deletes.
func TestPromptsThroughTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets, runs sox and espeak-ng")
	}
	for _, tool := range []string{"sox", "espeak-ng"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (apt-get install %s): %v", tool, tool, err)
		}
	}
	data := t.TempDir()
	// A generated system prompt, as make prompts leaves it.
	sys := filepath.Join(prompt.DirIn(data), prompt.SystemDir, prompt.Chinese, "welcome.wav")
	os.MkdirAll(filepath.Dir(sys), 0o750)
	file, _ := wav.Encode(make([]int16, 800))
	os.WriteFile(sys, file, 0o640)
	src := filepath.Join(t.TempDir(), "tone.wav")
	sox(t, "-D", "-n", "-r", "44100", "-c", "2", "-b", "24", src, "synth", "1", "sine", "1000", "vol", "0.5")
	up, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}

	a, _ := newApp(t, Config{Board: "sim", DataDir: data})
	start(t, a)
	c := newWebAdmin(t, a)

	info := c.uploadPrompt("/api/v1/prompts/en/ivr/welcome", up, http.StatusCreated)
	if info["source"] != "PCM, 44100 Hz, 2 channel(s), 24 bits" || info["duration_ms"] != 1000.0 || info["by"] != "admin" {
		t.Fatalf("upload: %v", info)
	}
	resp, body := c.fetch("/api/v1/prompts/en/ivr/welcome", "")
	s, err := wav.Decode(body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/wav" || err != nil || len(s) != 8000 {
		t.Fatalf("play: %s %v, %d samples, %v", resp.Status, resp.Header, len(s), err)
	}
	if d := 20 * math.Log10(toneLevel(s[800:7200])/16384); math.Abs(d) > 0.1 {
		t.Fatalf("the uploaded tone plays at %+.2f dB", d)
	}
	resp, head := c.fetch("/api/v1/prompts/en/ivr/welcome", "bytes=0-11")
	if resp.StatusCode != http.StatusPartialContent || string(head) != string(body[:12]) {
		t.Fatalf("range: %s %q", resp.Status, head)
	}
	// The catalogue the call centre plays from shares what was uploaded.
	clip, err := a.Prompts().Load("ivr/welcome", prompt.Chinese)
	if err != nil || clip.Lang != prompt.English || len(clip.Samples) != 8000 {
		t.Fatalf("load in zh-CN (falls back to en): %v %v", clip.Lang, err)
	}

	// A refused file changes nothing.
	bad := filepath.Join(t.TempDir(), "bad.wav")
	sox(t, "-n", "-r", "96000", "-c", "1", bad, "synth", "0.1", "sine", "440")
	badFile, _ := os.ReadFile(bad)
	m := c.uploadPrompt("/api/v1/prompts/en/ivr/welcome", badFile, http.StatusBadRequest)
	if m["reason"] != "prompt.rate" || !strings.Contains(m["error"].(string), "96000 Hz") {
		t.Fatalf("a 96 kHz upload: %v", m)
	}
	if _, again := c.fetch("/api/v1/prompts/en/ivr/welcome", ""); !bytes.Equal(again, body) {
		t.Fatal("the refused upload changed the prompt")
	}

	var list map[string]any
	c.do("GET", "/api/v1/prompts?lang=zh-CN", "", nil, http.StatusOK, &list)
	seen := map[string]map[string]any{}
	for _, p := range list["prompts"].([]any) {
		p := p.(map[string]any)
		seen[p["name"].(string)] = p
	}
	if w := seen["welcome"]; w["system"] != true || w["missing"] == true || w["text"] != "您好，欢迎致电。" {
		t.Fatalf("welcome in the list: %v", w)
	}
	if g := seen["goodbye"]; g["missing"] != true {
		t.Fatalf("goodbye (not generated) in the list: %v", g)
	}

	// Text spoken by espeak-ng into a named prompt.
	c.do("PUT", "/api/v1/prompts/zh-CN/promo/spring", "application/json", strings.NewReader(`{"text": "春季促销，欢迎选购。"}`), http.StatusCreated, &m)
	if m["kind"] != "speech" || m["duration_ms"].(float64) < 500 {
		t.Fatalf("speech: %v", m)
	}

	c.doJSON("DELETE", "/api/v1/prompts/zh-CN/welcome", nil, http.StatusConflict)
	c.doJSON("DELETE", "/api/v1/prompts/en/ivr/welcome", nil, http.StatusNoContent)
	if resp, _ := c.fetch("/api/v1/prompts/en/ivr/welcome", ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("play after delete: %s", resp.Status)
	}
}

// TestPromptsWithoutSpeech: on a box without espeak-ng the daemon runs,
// and speaking text answers 503 saying the engine is missing.
func TestPromptsWithoutSpeech(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	t.Setenv("PATH", t.TempDir())
	a, _ := newApp(t, Config{Board: "sim"})
	start(t, a)
	c := newWebAdmin(t, a)
	var m map[string]any
	c.do("PUT", "/api/v1/prompts/en/promo", "application/json", strings.NewReader(`{"text": "Spring sale"}`), http.StatusServiceUnavailable, &m)
	if m["code"] != "err.prompt.no_speech" {
		t.Fatalf("speech without an engine: %v", m)
	}
	if _, err := a.Prompts().Speak(context.Background(), "hello", prompt.English); err == nil {
		t.Fatal("the call centre could speak without an engine")
	}
}
