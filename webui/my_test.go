package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// memVoicemail is mailboxes in memory: what the agent's voicemail page
// reads and deletes.
type memVoicemail struct {
	Voicemail // the rest is not used by the pages under test
	mu        sync.Mutex
	boxes     []VoiceBox
	msgs      map[string][]VoiceMessage
}

func (m *memVoicemail) Boxes(context.Context) ([]VoiceBox, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.boxes), nil
}

func (m *memVoicemail) Box(_ context.Context, n string) (VoiceBox, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.boxes {
		if b.Number == n {
			return b, nil
		}
	}
	return VoiceBox{}, fmt.Errorf("%w: box %s", ErrNotFound, n)
}

func (m *memVoicemail) Messages(_ context.Context, box string) ([]VoiceMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.msgs[box]), nil
}

func (m *memVoicemail) DeleteMessage(_ context.Context, box, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.msgs[box], func(v VoiceMessage) bool { return v.ID == id })
	if i < 0 {
		return fmt.Errorf("%w: message %s", ErrNotFound, id)
	}
	m.msgs[box] = slices.Delete(m.msgs[box], i, i+1)
	return nil
}

// TestMyRecordings: an agent's recordings page lists only its own, each
// playable from the API (which answers a Range request with 206) and
// downloadable; the agent and group filters are a supervisor's, who sees
// everyone's; a bad date is refused with a message.
func TestMyRecordings(t *testing.T) {
	t0 := time.Now().Add(-time.Hour)
	mr := &memRecordings{audio: map[string][]byte{}}
	for i, a := range []string{"ag", "other", "ag"} {
		id := fmt.Sprintf("r%d", i)
		mr.recs = append(mr.recs, Recording{ID: id, CallID: id, ServiceID: id, Agent: a, Customer: "1380013800" + fmt.Sprint(i),
			Start: t0.Add(time.Duration(i) * time.Minute), Duration: 90 * time.Second, State: "done"})
		mr.audio[id] = bytes.Repeat([]byte{byte(i)}, 1000)
	}
	e := newEnv(t, Config{Recordings: mr})
	e.users.add(t, "ag", RoleAgent, "ag-password")
	e.users.add(t, "sup", RoleSupervisor, "sup-password")
	ag, sup := e.client(t), e.client(t)
	ag.login("ag", "ag-password")
	sup.login("sup", "sup-password")
	rows := func(body string) (ids []string) {
		for _, part := range strings.Split(body, `data-recording="`)[1:] {
			ids = append(ids, part[:strings.IndexByte(part, '"')])
		}
		return ids
	}
	r := ag.getURL("/my/recordings")
	if r.Code != http.StatusOK || !slices.Equal(rows(r.Body.String()), []string{"r2", "r0"}) {
		t.Fatalf("an agent's recordings: %d %v\n%s", r.Code, rows(r.Body.String()), r.Body)
	}
	b := r.Body.String()
	if !strings.Contains(b, `<audio controls preload="none" src="/api/v1/recordings/r2/audio">`) ||
		!strings.Contains(b, `href="/api/v1/recordings/r2/audio?download=1"`) || strings.Contains(b, `name="agent"`) ||
		!strings.Contains(b, `href="/my/recordings"`) {
		t.Fatalf("the agent's page (player, download, no agent filter, nav link):\n%s", b)
	}
	if r := ag.getURL("/my/recordings?agent=other"); !slices.Equal(rows(r.Body.String()), []string{"r2", "r0"}) {
		t.Fatalf("an agent asking for another's: %v", rows(r.Body.String()))
	}
	if r := ag.getURL("/my/recordings?customer=13800138002"); !slices.Equal(rows(r.Body.String()), []string{"r2"}) {
		t.Fatalf("by customer: %v", rows(r.Body.String()))
	}
	if r := ag.getURL("/my/recordings?from=yesterday"); r.Code != http.StatusBadRequest || !strings.Contains(r.Body.String(), "year-month-day") {
		t.Fatalf("a bad date: %d\n%s", r.Code, r.Body)
	}
	req := newGetRequest("/api/v1/recordings/r2/audio")
	req.Header.Set("Range", "bytes=100-199")
	if r := ag.do(req); r.Code != http.StatusPartialContent || r.Body.Len() != 100 {
		t.Fatalf("a range of the player's source: %d, %d bytes", r.Code, r.Body.Len())
	}
	r = sup.getURL("/my/recordings")
	if !slices.Equal(rows(r.Body.String()), []string{"r2", "r1", "r0"}) || !strings.Contains(r.Body.String(), `name="agent"`) {
		t.Fatalf("a supervisor's recordings: %v\n%s", rows(r.Body.String()), r.Body)
	}
	if r := sup.getURL("/my/recordings?agent=other"); !slices.Equal(rows(r.Body.String()), []string{"r1"}) {
		t.Fatalf("a supervisor's search by agent: %v", rows(r.Body.String()))
	}
}

// TestMyVoicemail: the agent's voicemail page shows its own boxes only,
// each message playable from the API; the agent deletes its own message,
// and is refused (as if it did not exist) deleting one of another's box.
func TestMyVoicemail(t *testing.T) {
	vm := &memVoicemail{boxes: []VoiceBox{{Number: "8001", Kind: "agent", Owner: "ag"}, {Number: "8002", Kind: "agent", Owner: "other"}},
		msgs: map[string][]VoiceMessage{
			"8001": {{ID: "m1", Box: "8001", Caller: "13800138000", Received: time.Now(), Seconds: 12}},
			"8002": {{ID: "m2", Box: "8002", Caller: "13900139000", Received: time.Now(), Seconds: 5}},
		}}
	e := newEnv(t, Config{Voicemail: vm})
	e.users.add(t, "ag", RoleAgent, "ag-password")
	ag := e.client(t)
	ag.login("ag", "ag-password")
	b := ag.getURL("/my/voicemail").Body.String()
	if !strings.Contains(b, `src="/api/v1/voicemail/boxes/8001/messages/m1/audio"`) || !strings.Contains(b, "13800138000") ||
		strings.Contains(b, "13900139000") || !strings.Contains(b, `href="/my/voicemail"`) {
		t.Fatalf("the agent's voicemail:\n%s", b)
	}
	if r := ag.form("/my/voicemail/8002/m2/delete", url.Values{}); r.Code != http.StatusNotFound {
		t.Fatalf("deleting another's message: %d", r.Code)
	}
	if r := ag.form("/my/voicemail/8001/m1/delete", url.Values{}); r.Code != http.StatusSeeOther {
		t.Fatalf("deleting one's own message: %d\n%s", r.Code, r.Body)
	}
	if len(vm.msgs["8001"]) != 0 || len(vm.msgs["8002"]) != 1 {
		t.Fatalf("after the deletes: %+v", vm.msgs)
	}
	if r := ag.form("/my/voicemail/8001/m1/delete", url.Values{"csrf_token": {"forged"}}); r.Code != http.StatusForbidden {
		t.Fatalf("without the CSRF token: %d", r.Code)
	}
}

func newGetRequest(path string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://callbox.test"+path, nil)
	return r
}

// csvLive answers the exports with fixed rows of two agents.
type csvLive struct {
	fakeLive
	from, to time.Time
}

func (l *csvLive) CCExport(_ context.Context, w io.Writer, what string, from, to time.Time) error {
	l.from, l.to = from, to
	if what == "status" {
		_, err := io.WriteString(w, "agent,at,from,to,reason,call\n"+
			"1001,2026-12-07T08:00:00Z,offline,idle,login,\n"+
			"1002,2026-12-07T08:01:00Z,offline,idle,login,\n"+
			"1001,2026-12-07T08:30:00Z,idle,break,meal,\n"+
			"1001,2026-12-07T09:00:00Z,break,idle,,\n")
		return err
	}
	_, err := io.WriteString(w, "call,group,number,customer_type,queued,answered,agent,ended,disposition,wait_seconds,talk_seconds\n"+
		"c1,1,13800138000,,2026-12-07T08:10:00Z,2026-12-07T08:10:05Z,1001,2026-12-07T08:12:05Z,answered,5.0,120.0\n"+
		"c2,1,13900139000,,2026-12-07T08:11:00Z,2026-12-07T08:11:04Z,1002,2026-12-07T08:13:00Z,answered,4.0,116.0\n")
	return err
}

// myCallLog is a call log of three calls: one in to 1001's phone 202, one
// out from it over a trunk, and one in to another phone.
type myCallLog struct{}

func (myCallLog) CallLog(ctx context.Context, from, to time.Time, limit int) ([]json.RawMessage, time.Time, error) {
	return []json.RawMessage{
		json.RawMessage(`{"id":"c1","from":"13800138000","to":"202","start":"2026-12-07T08:10:00Z","end":"2026-12-07T08:12:05Z","disposition":"answered","duration_s":125,"legs":[{"kind":"fxo","party":"13800138000"},{"kind":"fxs","party":"202"}]}`),
		json.RawMessage(`{"id":"c2","from":"202","to":"13900139000","start":"2026-12-07T09:00:00Z","end":"2026-12-07T09:01:00Z","disposition":"answered","trunk":"provider","duration_s":60,"legs":[{"kind":"fxs","party":"202"},{"kind":"sip","party":"13900139000","trunk":"provider"}]}`),
		json.RawMessage(`{"id":"c3","from":"13700137000","to":"203","start":"2026-12-07T09:30:00Z","end":"2026-12-07T09:31:00Z","disposition":"answered","duration_s":60,"legs":[{"kind":"fxo","party":"13700137000"},{"kind":"fxs","party":"203"}]}`),
	}, time.Time{}, nil
}

// TestMyLogs: the agent's status log and call log show its own rows only
// (a state lasting until its next one, with the reason worded), for the
// dates asked (the export is asked for exactly those days); the call log
// is the call log's page and query: the agent's phone's calls in and out,
// with the direction filter, a supervisor's own too; a bad date is refused
// with a message; they need the desk permission.
func TestMyLogs(t *testing.T) {
	live := &csvLive{}
	desk := newMemDesk(nil, "1001", "2001")
	e := newEnv(t, Config{Live: live, CallLog: myCallLog{}, Desk: desk})
	_ = desk.Login(context.Background(), "1001", "202")
	_ = desk.Login(context.Background(), "2001", "203")
	e.users.add(t, "ann", RoleAgent, "ann-password")
	e.users.add(t, "sue", RoleSupervisor, "sue-password")
	u, _ := e.users.Get(context.Background(), "ann")
	u.Agent = "1001"
	_ = e.users.Update(context.Background(), u)
	su, _ := e.users.Get(context.Background(), "sue")
	su.Permissions = map[string]bool{"desk": false}
	_ = e.users.Update(context.Background(), su)
	ann := e.client(t)
	ann.login("ann", "ann-password")
	r := ann.getURL("/my/status?from=2026-12-07&to=2026-12-07")
	b := r.Body.String()
	if r.Code != http.StatusOK || strings.Count(b, "data-state=") != 3 || !strings.Contains(b, ">meal<") || !strings.Contains(b, "30:00") {
		t.Fatalf("my status log: %d\n%s", r.Code, b)
	}
	if want := time.Date(2026, 12, 7, 0, 0, 0, 0, time.Local); !live.from.Equal(want) || !live.to.Equal(want.AddDate(0, 0, 1)) {
		t.Fatalf("the export asked for [%v, %v)", live.from, live.to)
	}
	b = ann.getURL("/my/calls?from=2026-12-07T00:00&to=2026-12-08T00:00").Body.String()
	if !strings.Contains(b, "13800138000") || !strings.Contains(b, "13900139000") || strings.Contains(b, "13700137000") ||
		!strings.Contains(b, `action="/my/calls"`) || strings.Contains(b, `href="/logs/status"`) {
		t.Fatalf("my calls, in and out:\n%s", b)
	}
	b = ann.getURL("/my/calls?from=2026-12-07T00:00&to=2026-12-08T00:00&direction=out").Body.String()
	if strings.Contains(b, "13800138000") || !strings.Contains(b, "13900139000") {
		t.Fatalf("my calls out:\n%s", b)
	}
	if r := ann.getURL("/my/calls?from=12/07/2026"); r.Code != http.StatusBadRequest || !strings.Contains(r.Body.String(), `class="bad"`) {
		t.Fatalf("a bad date: %d", r.Code)
	}
	// A supervisor sees its own phone's calls here (2001 on 203), not
	// everyone's as on /logs/calls.
	boss := e.client(t)
	e.users.add(t, "zhao", RoleSupervisor, "zhao-password")
	zu, _ := e.users.Get(context.Background(), "zhao")
	zu.Agent = "2001"
	_ = e.users.Update(context.Background(), zu)
	boss.login("zhao", "zhao-password")
	b = boss.getURL("/my/calls?from=2026-12-07T00:00&to=2026-12-08T00:00").Body.String()
	if !strings.Contains(b, "13700137000") || strings.Contains(b, "13800138000") {
		t.Fatalf("a supervisor's own calls:\n%s", b)
	}
	sue := e.client(t)
	sue.login("sue", "sue-password")
	if r := sue.getURL("/my/status"); r.Code != http.StatusForbidden {
		t.Fatalf("without the desk permission: %d", r.Code)
	}
}

// wav8k is n samples of a 440 Hz tone as a 16-bit 8 kHz mono WAV file.
func wav8k(n int) []byte {
	var b bytes.Buffer
	le := func(v uint32, size int) {
		for i := range size {
			b.WriteByte(byte(v >> (8 * i)))
		}
	}
	b.WriteString("RIFF")
	le(uint32(36+2*n), 4)
	b.WriteString("WAVEfmt ")
	le(16, 4)
	le(1, 2)
	le(1, 2)
	le(8000, 4)
	le(16000, 4)
	le(2, 2)
	le(16, 2)
	b.WriteString("data")
	le(uint32(2*n), 4)
	for i := range n {
		// A triangle wave is enough for the player to decode.
		v := int16((i%18)*1000 - 9000)
		le(uint32(uint16(v)), 2)
	}
	return b.Bytes()
}

// TestBrowserMyPages: the agent's own pages in Chromium at a laptop's and
// a phone's width, nothing cut off; a recording's and a voice message's
// players load and decode their audio from the API (2 s long).
func TestBrowserMyPages(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	mr := &memRecordings{audio: map[string][]byte{"r1": wav8k(16000)},
		recs: []Recording{{ID: "r1", CallID: "c1", ServiceID: "c1", Agent: "1001", Customer: "13800138000", Start: time.Now().Add(-time.Hour),
			Duration: 2 * time.Second, State: "done"}}}
	vm := &memVoicemailAudio{memVoicemail: memVoicemail{boxes: []VoiceBox{{Number: "8001", Kind: "agent", Owner: "ann"}},
		msgs: map[string][]VoiceMessage{"8001": {{ID: "m1", Box: "8001", Caller: "13800138000", Received: time.Now(), Seconds: 2}}}},
		audio: wav8k(16000)}
	e := newEnv(t, Config{Recordings: mr, Voicemail: vm, Live: &csvLive{}})
	e.s.now = time.Now
	e.users.add(t, "ann", RoleAgent, "ann-password")
	u, _ := e.users.Get(context.Background(), "ann")
	u.Agent = "1001"
	_ = e.users.Update(context.Background(), u)
	srv := httptest.NewServer(e.s.Handler())
	t.Cleanup(srv.Close)
	dir := shotDir(t)
	b := startBrowser(t)
	b.navigate(srv.URL + "/login")
	b.submitForm("/login", map[string]string{"login": "ann", "password": "ann-password"})
	for _, path := range []string{"/my/recordings", "/my/voicemail"} {
		b.navigate(srv.URL + path)
		// Headless Chromium may refuse to play without a gesture: loading
		// and decoding the audio (its duration known, data at hand) is
		// what the page owes.
		b.eval(`(() => { const a = document.querySelector("audio"); a.preload = "auto"; a.load(); return 1 })()`)
		waitFor(t, func() bool {
			return string(b.eval(`(() => { const a = document.querySelector("audio"); return a.readyState >= 2 && Math.abs(a.duration - 2) < 0.01 })()`)) == "true"
		})
	}
	for _, lang := range []string{"zh-CN", "en"} {
		b.navigate(srv.URL + "/my/status")
		b.submitForm("/lang/"+lang, nil)
		for _, vp := range pageViewports {
			b.viewport(vp.w, vp.h, vp.mobile)
			for _, path := range []string{"/my/status?from=2026-12-07", "/my/calls?from=2026-12-07", "/my/recordings", "/my/voicemail"} {
				b.navigate(srv.URL + path)
				name := strings.ReplaceAll(strings.TrimPrefix(strings.Split(path, "?")[0], "/"), "/", "-")
				lookAt(t, b, lang+" "+vp.name+" "+path, filepath.Join(dir, fmt.Sprintf("%s-%s-%s.png", name, lang, vp.name)))
			}
		}
	}
	t.Logf("screenshots in %s", dir)
}

// memVoicemailAudio adds the messages' audio to memVoicemail.
type memVoicemailAudio struct {
	memVoicemail
	audio []byte
}

func (m *memVoicemailAudio) OpenMessage(ctx context.Context, box, id string) (RecordingFile, VoiceMessage, error) {
	msgs, _ := m.Messages(ctx, box)
	for _, v := range msgs {
		if v.ID == id {
			return nopCloser{bytes.NewReader(m.audio)}, v, nil
		}
	}
	return nil, VoiceMessage{}, fmt.Errorf("%w: message %s", ErrNotFound, id)
}
