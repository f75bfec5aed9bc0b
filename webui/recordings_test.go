package webui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// memRecordings keeps recordings and their audio in memory.
type memRecordings struct {
	recs  []Recording
	audio map[string][]byte
	set   RecordingSettings
	gone  map[string]bool
}

func (m *memRecordings) SearchRecordings(_ context.Context, q RecordingQuery) ([]Recording, error) {
	var out []Recording
	for i := len(m.recs) - 1; i >= 0; i-- {
		r := m.recs[i]
		if (q.Agent == "" || r.Agent == q.Agent) && (q.Service == "" || r.ServiceID == q.Service) &&
			(q.Customer == "" || strings.Contains(r.Customer, q.Customer)) && (q.Limit == 0 || len(out) < q.Limit) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memRecordings) Recording(_ context.Context, id string) (Recording, []Recording, error) {
	for _, r := range m.recs {
		if r.ID == id {
			var legs []Recording
			for _, l := range m.recs {
				if l.ServiceID == r.ServiceID {
					legs = append(legs, l)
				}
			}
			return r, legs, nil
		}
	}
	return Recording{}, nil, fmt.Errorf("%w: %s", ErrNotFound, id)
}

func (m *memRecordings) OpenRecording(_ context.Context, id string, asPCM bool) (RecordingFile, error) {
	if m.gone[id] {
		return nil, fmt.Errorf("%w: %s", ErrGone, id)
	}
	b := m.audio[id]
	if !asPCM {
		b = append([]byte("KEPT"), b...)
	}
	return nopCloser{bytes.NewReader(b)}, nil
}

func (m *memRecordings) DeleteRecording(_ context.Context, id, _ string) error {
	for i, r := range m.recs {
		if r.ID == id {
			m.recs = append(m.recs[:i], m.recs[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("%w: %s", ErrNotFound, id)
}

func (m *memRecordings) RecordingSettings(context.Context) (RecordingSettings, error) {
	return m.set, nil
}
func (m *memRecordings) SetRecordingSettings(_ context.Context, s RecordingSettings) error {
	m.set = s
	return nil
}

// TestRecordingsAPI: agents find and hear only their own recordings (and
// of their service only their own legs), supervisors everyone's; the
// audio is served with Range requests; deleting and the settings are for
// administrators; bad queries and settings are refused naming the field.
func TestRecordingsAPI(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	mr := &memRecordings{audio: map[string][]byte{}, gone: map[string]bool{"r3": true}}
	for i, a := range []string{"ag", "other", "ag", "ag"} {
		id := fmt.Sprintf("r%d", i)
		svc := id
		if i == 1 {
			svc = "r0" // a transfer of r0 to another agent
		}
		mr.recs = append(mr.recs, Recording{ID: id, CallID: id, ServiceID: svc, Agent: a, Customer: "1380013800" + fmt.Sprint(i),
			Start: t0.Add(time.Duration(i) * time.Minute), Duration: 90 * time.Second, State: "done"})
		mr.audio[id] = bytes.Repeat([]byte{byte(i)}, 1000)
	}
	e := newEnv(t, Config{Recordings: mr})
	for _, u := range [][2]string{{"root", RoleAdmin}, {"sup", RoleSupervisor}, {"ag", RoleAgent}} {
		e.users.add(t, u[0], u[1], u[0]+"-password")
	}
	ag, sup, root := e.client(t), e.client(t), e.client(t)
	ag.login("ag", "ag-password")
	sup.login("sup", "sup-password")
	root.login("root", "root-password")
	ids := func(m map[string]any, key string) (s []string) {
		list, _ := m[key].([]any)
		for _, r := range list {
			s = append(s, r.(map[string]any)["id"].(string))
		}
		return s
	}

	st, m := ag.api(http.MethodGet, "/api/v1/recordings?agent=other", nil)
	wantStatus(t, "agent search", st, http.StatusOK, m)
	if got := ids(m, "recordings"); fmt.Sprint(got) != "[r3 r2 r0]" {
		t.Fatalf("an agent's search: %v", got)
	}
	st, m = sup.api(http.MethodGet, "/api/v1/recordings?customer=13800138001", nil)
	wantStatus(t, "supervisor search", st, http.StatusOK, m)
	if got := ids(m, "recordings"); fmt.Sprint(got) != "[r1]" {
		t.Fatalf("a supervisor's search by customer: %v", got)
	}
	if m["recordings"].([]any)[0].(map[string]any)["seconds"] != 90.0 {
		t.Fatalf("duration: %v", m)
	}
	// The service's legs: the supervisor sees both, the agent theirs.
	st, m = sup.api(http.MethodGet, "/api/v1/recordings/r0", nil)
	wantStatus(t, "legs", st, http.StatusOK, m)
	if got := ids(m, "legs"); fmt.Sprint(got) != "[r0 r1]" {
		t.Fatalf("a supervisor's legs: %v", got)
	}
	st, m = ag.api(http.MethodGet, "/api/v1/recordings/r0", nil)
	if st != http.StatusOK || fmt.Sprint(ids(m, "legs")) != "[r0]" {
		t.Fatalf("an agent's legs: %d %v", st, m)
	}
	st, m = ag.api(http.MethodGet, "/api/v1/recordings/r1", nil)
	wantStatus(t, "someone else's", st, http.StatusNotFound, m)
	if rec := ag.get("/api/v1/recordings/r1/audio"); rec.Code != http.StatusNotFound {
		t.Fatalf("an agent heard someone else's recording: %d", rec.Code)
	}

	// Audio with ranges.
	req := httptest.NewRequest(http.MethodGet, "http://callbox.test/api/v1/recordings/r2/audio", nil)
	req.Header.Set("Range", "bytes=100-199")
	rec := ag.do(req)
	if rec.Code != http.StatusPartialContent || rec.Body.Len() != 100 || rec.Header().Get("Content-Range") != "bytes 100-199/1000" ||
		rec.Header().Get("Content-Type") != "audio/wav" {
		t.Fatalf("range: %d %v %d bytes", rec.Code, rec.Header(), rec.Body.Len())
	}
	rec = sup.get("/api/v1/recordings/r1/audio")
	if rec.Code != http.StatusOK || rec.Body.Len() != 1000 || !strings.HasPrefix(rec.Header().Get("Content-Disposition"), "inline") {
		t.Fatalf("whole: %d %v", rec.Code, rec.Header())
	}
	rec = sup.getURL("/api/v1/recordings/r1/audio?download=1")
	if body, _ := io.ReadAll(rec.Body); rec.Code != http.StatusOK || !bytes.HasPrefix(body, []byte("KEPT")) ||
		!strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %v", rec.Code, rec.Header())
	}
	if rec := ag.get("/api/v1/recordings/r3/audio"); rec.Code != http.StatusGone {
		t.Fatalf("a vanished file: %d %s", rec.Code, rec.Body)
	}

	// Deleting and settings: administrators only.
	st, m = sup.api(http.MethodDelete, "/api/v1/recordings/r2", nil)
	wantStatus(t, "supervisor delete", st, http.StatusForbidden, m)
	if st, m = root.api(http.MethodDelete, "/api/v1/recordings/r2", nil); st != http.StatusNoContent {
		t.Fatalf("admin delete: %d %v", st, m)
	}
	st, m = sup.api(http.MethodGet, "/api/v1/recording-settings", nil)
	wantStatus(t, "supervisor settings", st, http.StatusForbidden, m)
	want := RecordingSettings{Encoding: "pcm16", MaxAgeDays: 90, QuotaMB: 4096, MinFreeMB: 256, Consent: "consent"}
	st, m = root.api(http.MethodPut, "/api/v1/recording-settings", want)
	wantStatus(t, "admin settings", st, http.StatusOK, m)
	if mr.set != want {
		t.Fatalf("settings stored as %+v", mr.set)
	}
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"encoding": "mp3"}, "encoding"},
		{map[string]any{"encoding": "alaw", "max_age_days": -1}, "max_age_days"},
		{map[string]any{"encoding": "alaw", "quota_mb": -5}, "quota_mb"},
		{map[string]any{"encoding": "alaw", "min_free_mb": -5}, "min_free_mb"},
		{map[string]any{"encoding": "alaw", "colour": "red"}, ""},
	} {
		st, m = root.api(http.MethodPut, "/api/v1/recording-settings", tc.body)
		if st != http.StatusBadRequest || (tc.field != "" && m["field"] != tc.field) {
			t.Errorf("settings %v: %d %v", tc.body, st, m)
		}
	}
	st, m = sup.api(http.MethodGet, "/api/v1/recordings?limit=5000", nil)
	if st != http.StatusBadRequest || m["field"] != "limit" {
		t.Fatalf("a bad limit: %d %v", st, m)
	}

	none := newEnv(t, Config{})
	none.users.add(t, "root", RoleAdmin, "root-password")
	c := none.client(t)
	c.login("root", "root-password")
	st, m = c.api(http.MethodGet, "/api/v1/recordings", nil)
	wantStatus(t, "no recorder", st, http.StatusServiceUnavailable, m)
}

// An agent account whose login is not its work number ("li" at desk 1088)
// hears the recordings that name 1088, and only those. Before, the login
// was compared with the recording's agent: li got 404 on its own calls
// (the work order page showed a player that could not play).
func TestRecordingsByWorkNumber(t *testing.T) {
	mr := &memRecordings{audio: map[string][]byte{}}
	for i, a := range []string{"1088", "1099"} {
		id := fmt.Sprintf("w%d", i)
		mr.recs = append(mr.recs, Recording{ID: id, CallID: id, ServiceID: id, Agent: a, State: "done",
			Start: time.Date(2026, 11, 21, 9, i, 0, 0, time.UTC), Duration: time.Minute})
		mr.audio[id] = []byte("RIFF")
	}
	e := newEnv(t, Config{Recordings: mr})
	e.users.add(t, "li", RoleAgent, "li-password")
	li, _ := e.users.Get(context.Background(), "li")
	li.Agent = "1088"
	if err := e.users.Update(context.Background(), li); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	c.login("li", "li-password")
	st, m := c.api(http.MethodGet, "/api/v1/recordings", nil)
	wantStatus(t, "li's search", st, http.StatusOK, m)
	if list, _ := m["recordings"].([]any); len(list) != 1 || list[0].(map[string]any)["id"] != "w0" {
		t.Fatalf("li's recordings: %v", m)
	}
	if rec := c.get("/api/v1/recordings/w0/audio"); rec.Code != http.StatusOK {
		t.Fatalf("li's own recording: %d", rec.Code)
	}
	if rec := c.get("/api/v1/recordings/w1/audio"); rec.Code != http.StatusNotFound {
		t.Fatalf("1099's recording to li: %d", rec.Code)
	}
}
