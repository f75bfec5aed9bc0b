package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// memBoxes is memVoicemail that also keeps boxes' PINs, for the box
// forms: PutBox creates or changes, "" keeps the PIN.
type memBoxes struct {
	*memVoicemail
	pins map[string]string
}

func newMemBoxes() *memBoxes {
	return &memBoxes{memVoicemail: &memVoicemail{
		boxes: []VoiceBox{{Number: "8001", Kind: "agent", Name: "安娜", Owner: "ann", NotifyNumber: "13800138000", New: 2, Saved: 1}},
		msgs:  map[string][]VoiceMessage{},
	}, pins: map[string]string{"8001": "4321"}}
}

func (m *memBoxes) PutBox(_ context.Context, b VoiceBox, pin string) (VoiceBox, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b.Kind != "agent" && b.Kind != "group" && b.Kind != "general" {
		return VoiceBox{}, fieldRefusal{"kind", "voicemail: invalid: kind must be agent, group or general"}
	}
	if pin != "" {
		m.pins[b.Number] = pin
	}
	i := slices.IndexFunc(m.boxes, func(x VoiceBox) bool { return x.Number == b.Number })
	if i < 0 {
		m.boxes = append(m.boxes, b)
		return b, nil
	}
	b.New, b.Saved = m.boxes[i].New, m.boxes[i].Saved
	m.boxes[i] = b
	return b, nil
}

func (m *memBoxes) DeleteBox(_ context.Context, n string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.boxes, func(x VoiceBox) bool { return x.Number == n })
	if i < 0 {
		return fmt.Errorf("%w: box %s", ErrNotFound, n)
	}
	m.boxes = slices.Delete(m.boxes, i, i+1)
	return nil
}

// fieldRefusal is a media service's refusal naming its field.
type fieldRefusal struct{ field, msg string }

func (f fieldRefusal) Error() string     { return f.msg }
func (f fieldRefusal) Unwrap() error     { return ErrInvalid }
func (f fieldRefusal) JSONField() string { return f.field }

// memConf is conference rooms and their live conferences in memory.
type memConf struct {
	mu    sync.Mutex
	rooms []ConfRoom
	pins  map[string]string
	live  []ConfLive
}

func newMemConf() *memConf {
	joined := time.Now().Add(-3 * time.Minute)
	return &memConf{
		rooms: []ConfRoom{{Number: "7001", Name: "周会 Weekly", MaxParties: 50, PIN: true}},
		pins:  map[string]string{"7001": "1234"},
		live: []ConfLive{{Room: "7001", Parties: []ConfParty{
			{ID: 1, Number: "201", Name: "王芳", Joined: joined, Moderator: true},
			{ID: 2, Number: "13800138000", Joined: joined.Add(time.Minute)},
		}}},
	}
}

func (m *memConf) Rooms(context.Context) ([]ConfRoom, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.rooms), nil
}

func (m *memConf) PutRoom(_ context.Context, r ConfRoom, pin, modPIN string, clearPIN bool) (ConfRoom, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.MaxParties < 0 || r.MaxParties > 50 {
		return ConfRoom{}, fieldRefusal{"max_parties", "conference: invalid: max_parties must be 0 to 50"}
	}
	switch {
	case clearPIN:
		delete(m.pins, r.Number)
	case pin != "":
		m.pins[r.Number] = pin
	}
	if modPIN != "" {
		m.pins[r.Number+"/mod"] = modPIN
	}
	r.PIN, r.ModeratorPIN = m.pins[r.Number] != "", m.pins[r.Number+"/mod"] != ""
	if i := slices.IndexFunc(m.rooms, func(x ConfRoom) bool { return x.Number == r.Number }); i >= 0 {
		m.rooms[i] = r
	} else {
		m.rooms = append(m.rooms, r)
	}
	return r, nil
}

func (m *memConf) DeleteRoom(_ context.Context, n string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.rooms, func(x ConfRoom) bool { return x.Number == n })
	if i < 0 {
		return fmt.Errorf("%w: room %s", ErrNotFound, n)
	}
	m.rooms = slices.Delete(m.rooms, i, i+1)
	return nil
}

func (m *memConf) Live(context.Context) ([]ConfLive, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.live)
	for i := range out {
		out[i].Parties = slices.Clone(out[i].Parties)
	}
	return out, nil
}

// conf runs f on the live conference of room.
func (m *memConf) conf(room string, f func(*ConfLive) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.live {
		if m.live[i].Room == room {
			return f(&m.live[i])
		}
	}
	return fmt.Errorf("%w: conference %s", ErrNotFound, room)
}

func (m *memConf) party(room string, id uint64, f func(c *ConfLive, i int)) error {
	return m.conf(room, func(c *ConfLive) error {
		i := slices.IndexFunc(c.Parties, func(p ConfParty) bool { return p.ID == id })
		if i < 0 {
			return fmt.Errorf("%w: party %d", ErrNotFound, id)
		}
		f(c, i)
		return nil
	})
}

func (m *memConf) Mute(_ context.Context, room string, id uint64, muted bool) error {
	return m.party(room, id, func(c *ConfLive, i int) { c.Parties[i].Muted = muted })
}

func (m *memConf) Kick(_ context.Context, room string, id uint64) error {
	return m.party(room, id, func(c *ConfLive, i int) { c.Parties = slices.Delete(c.Parties, i, i+1) })
}

func (m *memConf) Lock(_ context.Context, room string, locked bool) error {
	return m.conf(room, func(c *ConfLive) error { c.Locked = locked; return nil })
}

func (m *memConf) End(_ context.Context, room string) error {
	if err := m.conf(room, func(*ConfLive) error { return nil }); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.live = slices.DeleteFunc(m.live, func(c ConfLive) bool { return c.Room == room })
	return nil
}

// memUsageRecordings is memRecordings that reports its use.
type memUsageRecordings struct {
	*memRecordings
	usage RecordingUsage
}

func (m *memUsageRecordings) RecordingUsage(context.Context) (RecordingUsage, error) {
	return m.usage, nil
}

// RecordingPurges pages the usage's purges (Key is the ID here).
func (m *memUsageRecordings) RecordingPurges(_ context.Context, q PurgeQuery) (PurgePage, error) {
	var p PurgePage
	older := q.Before == ""
	for _, e := range m.usage.Purges {
		switch {
		case !older:
			older = e.ID == q.Before
		case q.Reason != "" && e.Reason != q.Reason:
		case len(p.Purges) == q.Limit:
			p.Next = p.Purges[len(p.Purges)-1].ID
			return p, nil
		default:
			p.Purges = append(p.Purges, e)
		}
	}
	return p, nil
}

func newMemUsageRecordings() *memUsageRecordings {
	return &memUsageRecordings{
		memRecordings: &memRecordings{audio: map[string][]byte{}, set: RecordingSettings{Encoding: "alaw", MaxAgeDays: 90, MinFreeMB: 256}},
		usage: RecordingUsage{Count: 12, Bytes: 30 << 20, FreeBytes: 700 << 20, TotalBytes: 4 << 30,
			Alarm: "recording_low", AlarmSince: "2026-12-02T03:00:00Z", Purges: []PurgeRecord{
				{ID: "rec-old", CallID: "c1", Start: "2026-09-01T10:00:00Z", At: "2026-12-01T03:00:00Z", Bytes: 2 << 20, Reason: "age"},
				{ID: "rec-big", CallID: "c2", Start: "2026-11-01T10:00:00Z", At: "2026-12-02T03:00:00Z", Bytes: 5 << 20, Reason: "quota"},
				{ID: "rec-gone", CallID: "c3", Start: "2026-11-02T10:00:00Z", At: "2026-12-02T04:00:00Z", Bytes: 1 << 20, Reason: "deleted", Who: "root"},
			}},
	}
}

// withMedia gives a pages environment every media service.
func withMedia(cfg *Config) {
	p := newMemPrompts()
	p.speech = true
	p.files["zh-CN/moh/jazz"] = []byte("RIFF....WAVEjazz")
	p.files["en/welcome"] = []byte("RIFF....WAVEwelcome-en")
	p.system["en/welcome"] = true
	cfg.Prompts, cfg.Voicemail, cfg.Conferences, cfg.Recordings = p, newMemBoxes(), newMemConf(), newMemUsageRecordings()
}

// mediaPagePaths are the media pages, each looked at by the page tests.
var mediaPagePaths = []string{"/prompts", "/prompts?lang=en", "/moh", "/retention", "/voicemail-boxes", "/voicemail-boxes/new",
	"/voicemail-boxes/8001", "/conference-rooms", "/conference-rooms/new", "/conference-rooms/7001", "/conference"}

// TestMediaPagesByRole: each media page answers its permission as the REST
// behind it does (administrators everything; supervisors read prompts and
// music and run live conferences; agents nothing), shows the write forms
// only to those who may write, and each link is in the side navigation
// of those who may open it.
func TestMediaPagesByRole(t *testing.T) {
	pe := newPagesEnv(t, withMedia)
	clients := map[string]*client{}
	for _, login := range []string{"root", "sue", "ann"} {
		c := pe.client(t)
		c.login(login, login+"-password")
		clients[login] = c
	}
	want := map[string][3]int{ // root, sue, ann
		"/prompts": {200, 200, 403}, "/moh": {200, 200, 403}, "/retention": {200, 403, 403},
		"/voicemail-boxes": {200, 403, 403}, "/voicemail-boxes/new": {200, 403, 403}, "/conference-rooms/7001": {200, 403, 403},
		"/conference": {200, 200, 403},
	}
	for path, codes := range want {
		for i, login := range []string{"root", "sue", "ann"} {
			if r := clients[login].get(path); r.Code != codes[i] {
				t.Errorf("%s as %s: %d, want %d", path, login, r.Code, codes[i])
			}
		}
	}
	home := clients["sue"].get("/").Body.String()
	for _, href := range []string{`href="/prompts"`, `href="/moh"`, `href="/conference"`} {
		if !strings.Contains(home, href) {
			t.Errorf("a supervisor's navigation lacks %s", href)
		}
	}
	for _, href := range []string{`href="/retention"`, `href="/voicemail-boxes"`, `href="/conference-rooms"`} {
		if strings.Contains(home, href) {
			t.Errorf("a supervisor's navigation offers %s", href)
		}
	}
	if strings.Contains(clients["ann"].get("/").Body.String(), `href="/prompts"`) {
		t.Error("an agent's navigation offers the prompts")
	}
	// A supervisor hears the prompts (in the page's language first) but is
	// offered no upload or delete.
	b := clients["sue"].get("/prompts").Body.String()
	if !strings.Contains(b, `<audio controls preload="none" src="/api/v1/prompts/en/welcome">`) || strings.Contains(b, `data-method="PUT"`) {
		t.Errorf("a supervisor's prompts page (player, no upload):\n%s", b)
	}
	// The REST behind the forms refuses the supervisor too.
	if code, _ := clients["sue"].api(http.MethodDelete, "/api/v1/prompts/zh-CN/moh/jazz", nil); code != http.StatusForbidden {
		t.Errorf("a supervisor deleting music: %d", code)
	}
	if code, _ := clients["sue"].api(http.MethodGet, "/api/v1/recording-usage", nil); code != http.StatusForbidden {
		t.Errorf("a supervisor reading the disk use: %d", code)
	}
	if code, m := clients["root"].api(http.MethodGet, "/api/v1/recording-usage", nil); code != http.StatusOK || m["count"] != 12.0 {
		t.Errorf("the disk use: %d %v", code, m)
	}
	// Without the services: 503 for those allowed, 403 still for others.
	bare := newPagesEnv(t)
	root, ann := bare.client(t), bare.client(t)
	root.login("root", "root-password")
	ann.login("ann", "ann-password")
	for _, path := range []string{"/prompts", "/moh", "/retention", "/voicemail-boxes", "/conference-rooms", "/conference"} {
		if r := root.get(path); r.Code != http.StatusServiceUnavailable {
			t.Errorf("%s without its service: %d", path, r.Code)
		}
		if r := ann.get(path); r.Code != http.StatusForbidden {
			t.Errorf("%s as an agent without the service: %d", path, r.Code)
		}
	}
	if strings.Contains(root.get("/").Body.String(), `href="/prompts"`) {
		t.Error("the navigation offers prompts on a box without them")
	}
}

// TestVoicemailBoxForms: an administrator creates a box through the form
// (its PIN set, never shown again), sees its message counts, edits it
// without retyping the PIN (the PIN stays), is refused a second box of
// the same number and a bad kind beside the field, and deletes it.
func TestVoicemailBoxForms(t *testing.T) {
	pe := newPagesEnv(t, withMedia)
	vm := pe.s.cfg.Voicemail.(*memBoxes)
	c := pe.client(t)
	c.lang = "zh-CN"
	c.login("root", "root-password")
	r := c.form("/voicemail-boxes", url.Values{"number": {"8002"}, "kind": {"group"}, "name": {"售后组"}, "pin": {"2468"},
		"email": {"after-sales@example.com"}, "notify_number": {"13900139000"}, "extensions": {"201\n202"}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", r.Code, r.Body)
	}
	if vm.pins["8002"] != "2468" {
		t.Fatalf("the PIN set: %q", vm.pins["8002"])
	}
	list := c.get("/voicemail-boxes").Body.String()
	if !strings.Contains(list, "售后组") || !strings.Contains(list, `<td data-label="新留言">2</td>`) || strings.Contains(list, "2468") {
		t.Fatalf("the list (new box, counts, no PIN):\n%s", list)
	}
	if page := c.get("/voicemail-boxes/8002").Body.String(); strings.Contains(page, "2468") || !strings.Contains(page, "13900139000") {
		t.Fatalf("the edit form shows the PIN or lacks the notify number:\n%s", page)
	}
	r = c.form("/voicemail-boxes/8002", url.Values{"kind": {"group"}, "name": {"售后"}, "email": {"a@example.com"}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", r.Code, r.Body)
	}
	b, _ := vm.Box(context.Background(), "8002")
	if vm.pins["8002"] != "2468" || b.Name != "售后" || b.NotifyNumber != "" || !slices.Equal(b.Extensions, nil) {
		t.Fatalf("after the edit: pin %q, box %+v", vm.pins["8002"], b)
	}
	r = c.form("/voicemail-boxes", url.Values{"number": {"8002"}, "kind": {"general"}})
	if r.Code != http.StatusConflict || !strings.Contains(r.Body.String(), "信箱 8002 已存在") {
		t.Fatalf("a second box 8002: %d\n%s", r.Code, r.Body)
	}
	r = c.form("/voicemail-boxes", url.Values{"number": {"8003"}, "kind": {"robot"}})
	if r.Code != http.StatusBadRequest || !strings.Contains(r.Body.String(), `field-error`) {
		t.Fatalf("a bad kind: %d\n%s", r.Code, r.Body)
	}
	if _, err := vm.Box(context.Background(), "8003"); err == nil {
		t.Fatal("a refused box was saved")
	}
	if r := c.form("/voicemail-boxes/8002/delete", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.Code)
	}
	if _, err := vm.Box(context.Background(), "8002"); err == nil {
		t.Fatal("the deleted box is still there")
	}
}

// TestConferenceRoomForms: rooms are created with their PINs (shown only
// as set or not), a refused size is shown beside its field with nothing
// saved, the PIN is removed on request, and a room is deleted.
func TestConferenceRoomForms(t *testing.T) {
	pe := newPagesEnv(t, withMedia)
	cf := pe.s.cfg.Conferences.(*memConf)
	c := pe.client(t)
	c.lang = "zh-CN"
	c.login("root", "root-password")
	if r := c.form("/conference-rooms", url.Values{"number": {"7002"}, "name": {"Sales"}, "max_parties": {"30"}, "pin": {"5555"}, "moderator_pin": {"9999"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", r.Code, r.Body)
	}
	if cf.pins["7002"] != "5555" || cf.pins["7002/mod"] != "9999" {
		t.Fatalf("PINs: %v", cf.pins)
	}
	r := c.form("/conference-rooms", url.Values{"number": {"7003"}, "max_parties": {"80"}})
	if r.Code != http.StatusBadRequest || !strings.Contains(r.Body.String(), "max_parties must be 0 to 50") {
		t.Fatalf("80 parties: %d\n%s", r.Code, r.Body)
	}
	if rooms, _ := cf.Rooms(context.Background()); len(rooms) != 2 {
		t.Fatalf("a refused room was saved: %v", rooms)
	}
	if r := c.form("/conference-rooms/7002", url.Values{"name": {"Sales"}, "max_parties": {"30"}, "clear_pin": {"on"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("clear the PIN: %d\n%s", r.Code, r.Body)
	}
	if _, ok := cf.pins["7002"]; ok || cf.pins["7002/mod"] != "9999" {
		t.Fatalf("after clearing the PIN: %v", cf.pins)
	}
	if r := c.form("/conference-rooms/7002/delete", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.Code)
	}
	if r := c.get("/conference-rooms/7002"); r.Code != http.StatusNotFound {
		t.Fatalf("the deleted room: %d", r.Code)
	}
}

// TestGroupMusic: the music page sets a group's music through the call
// centre's own update, which refuses a name that is no prompt; the page
// then shows the group's choice.
func TestGroupMusic(t *testing.T) {
	pe := newPagesEnv(t, withMedia)
	c := pe.client(t)
	c.lang = "zh-CN"
	c.login("root", "root-password")
	if r := c.form("/moh/groups/1", url.Values{"moh": {"moh/jazz"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("set: %d\n%s", r.Code, r.Body)
	}
	raw, _ := pe.s.cfg.CallCentre.CCGet(context.Background(), CCGroups, "1")
	if !strings.Contains(string(raw), `"moh":"moh/jazz"`) {
		t.Fatalf("group 1 after the form: %s", raw)
	}
	page := c.get("/moh").Body.String()
	if !strings.Contains(page, `<option value="moh/jazz" selected>`) {
		t.Fatalf("the page does not show the choice:\n%s", page)
	}
	if r := c.form("/moh/groups/1", url.Values{"moh": {""}}); r.Code != http.StatusSeeOther {
		t.Fatalf("back to the default: %d\n%s", r.Code, r.Body)
	}
	raw, _ = pe.s.cfg.CallCentre.CCGet(context.Background(), CCGroups, "1")
	if strings.Contains(string(raw), `"moh"`) {
		t.Fatalf("group 1 after choosing the default: %s", raw)
	}
	sue := pe.client(t)
	sue.login("sue", "sue-password")
	if r := sue.form("/moh/groups/1", url.Values{"moh": {"moh/jazz"}}); r.Code != http.StatusForbidden {
		t.Fatalf("a supervisor setting music: %d", r.Code)
	}
}

// TestRetentionPage: the retention page shows the settings, the disk's use
// and the last purges with their reasons in the viewer's language.
func TestRetentionPage(t *testing.T) {
	pe := newPagesEnv(t, withMedia)
	c := pe.client(t)
	c.lang = "zh-CN"
	c.login("root", "root-password")
	b := c.get("/retention").Body.String()
	for _, want := range []string{`name="max_age_days" type="number" min="0" max="36500" value="90"`, `value="256"`,
		`<dd data-usage="count">12</dd>`, `data-purge="rec-old"`, "超过最长保留", "超出配额", "数据分区的剩余空间低于下限（自 2026-12-0"} {
		if !strings.Contains(b, want) {
			t.Errorf("the retention page lacks %s", want)
		}
	}
	// Filtered by reason: only the removal by hand, and who did it.
	b = c.getURL("/retention?reason=deleted").Body.String()
	if !strings.Contains(b, `data-purge="rec-gone"`) || strings.Contains(b, `data-purge="rec-old"`) || !strings.Contains(b, "手动删除（操作人 root）") && !strings.Contains(b, "手动删除 (操作人 root)") {
		t.Errorf("the retention page filtered by hand:\n%s", b)
	}
	// Unfiltered: every removal.
	b = c.get("/retention").Body.String()
	if !strings.Contains(b, `data-purge="rec-big"`) {
		t.Errorf("the retention page lacks the second removal")
	}
}

// TestRecordingPurgesAPI: GET /api/v1/recording-purges filters by reason,
// pages with before and limit, and refuses an unknown reason.
func TestRecordingPurgesAPI(t *testing.T) {
	pe := newPagesEnv(t, withMedia)
	c := pe.client(t)
	c.login("root", "root-password")
	for _, tc := range []struct {
		query string
		code  int
		ids   string
		next  string
	}{
		{"", 200, "rec-old rec-big rec-gone", ""},
		{"?reason=quota", 200, "rec-big", ""},
		{"?limit=1", 200, "rec-old", "rec-old"},
		{"?before=rec-old&limit=1", 200, "rec-big", "rec-big"},
		{"?reason=nonsense", 400, "", ""},
	} {
		r := c.getURL("/api/v1/recording-purges" + tc.query)
		if r.Code != tc.code {
			t.Errorf("%s: %d, want %d: %s", tc.query, r.Code, tc.code, r.Body)
			continue
		}
		if tc.code != 200 {
			continue
		}
		var p PurgePage
		if err := json.Unmarshal(r.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range p.Purges {
			ids = append(ids, e.ID)
		}
		if strings.Join(ids, " ") != tc.ids || p.Next != tc.next {
			t.Errorf("%s: %v next %q, want %s next %q", tc.query, ids, p.Next, tc.ids, tc.next)
		}
	}
}

// apiSubmit fills the fields of the form sel (by name; a file input gets
// the file at that path), submits it as a person would (so apiforms.js
// sends it) and, when reload is set, waits for the page to be drawn
// again.
func (b *browser) apiSubmit(sel string, fields map[string]string, reload bool) {
	b.t.Helper()
	var js strings.Builder
	fmt.Fprintf(&js, "(() => { const f = document.querySelector(%q); if (!f) throw new Error('no form %s'); window.confirm = () => true;", sel, sel)
	for k, v := range fields {
		if strings.HasPrefix(v, "file:") {
			var res struct {
				Result struct {
					ObjectID string `json:"objectId"`
				} `json:"result"`
			}
			b.call(b.session, "Runtime.evaluate", map[string]any{"expression": fmt.Sprintf("document.querySelector(%q).elements[%q]", sel, k)}, &res)
			b.call(b.session, "DOM.setFileInputFiles", map[string]any{"files": []string{strings.TrimPrefix(v, "file:")}, "objectId": res.Result.ObjectID}, nil)
			continue
		}
		fmt.Fprintf(&js, " f.elements[%q].value = %q;", k, v)
	}
	js.WriteString(" f.requestSubmit(); return 'ok'; })()")
	b.drainEvents()
	b.eval(js.String())
	if reload {
		b.waitLoad()
	}
}

// waitText waits (up to 30 s) for expr to give a string other than "" and
// "…" and returns it.
func (b *browser) waitText(expr string) string {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if s := b.evalString(expr); s != "" && s != "…" {
			return s
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s stayed empty for 30 s", expr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBrowserMediaPages looks at every media page as an administrator in
// both languages at 1366x768 and 390 px (nothing cut off or scrolling
// sideways, nothing untranslated; screenshots kept), then works them in
// Chromium: uploads a WAV prompt, synthesizes one, deletes one, sees a
// refused upload's reason in the form, saves the retention settings,
// mutes a conference party and locks its room, each through the REST
// API and each shown on the page drawn again.
func TestBrowserMediaPages(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	if out, err := exec.Command("fc-list", ":lang=zh").Output(); err != nil || len(out) == 0 {
		t.Fatal("no Chinese font for the screenshots: install the Debian package fonts-wqy-microhei")
	}
	pe := newPagesEnv(t, withMedia)
	dir := shotDir(t)
	b := startBrowser(t)
	b.navigate(pe.url + "/login")
	b.submitForm("/login", map[string]string{"login": "root", "password": "root-password"})
	for _, lang := range []string{"en", "zh-CN"} {
		b.navigate(pe.url + "/")
		b.submitForm("/lang/"+lang, nil)
		for _, vp := range pageViewports {
			b.viewport(vp.w, vp.h, vp.mobile)
			for _, path := range mediaPagePaths {
				b.navigate(pe.url + path)
				if strings.Contains(b.evalString(`document.body.innerText`), "media.") {
					t.Errorf("%s %s %s: an untranslated media key", lang, vp.name, path)
				}
				name := strings.NewReplacer("/", "_", "?", "_", "=", "_").Replace(strings.Trim(path, "/"))
				lookAt(t, b, lang+" "+vp.name+" "+path, filepath.Join(dir, fmt.Sprintf("%s-%s-%s.png", name, lang, vp.name)))
			}
		}
	}
	b.viewport(1366, 768, false)
	// Upload: a WAV file becomes a prompt the page lists and plays.
	wav := filepath.Join(t.TempDir(), "hello.wav")
	if err := os.WriteFile(wav, []byte("RIFF....WAVEfmt hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.navigate(pe.url + "/prompts?lang=zh-CN")
	upload := `form[data-body=file]`
	b.apiSubmit(upload, map[string]string{"name": "ivr/hello", "file": "file:" + wav}, true)
	if n := b.evalString(`(document.querySelector('tr[data-prompt="ivr/hello"] audio') || {src: ""}).src`); !strings.HasSuffix(n, "/api/v1/prompts/zh-CN/ivr/hello") {
		t.Fatalf("the uploaded prompt's player: %q", n)
	}
	// Synthesize from text.
	b.apiSubmit(`form[data-body=json]`, map[string]string{"name": "ivr/bye", "text": "再见"}, true)
	if s := b.evalString(`(document.querySelector('tr[data-prompt="ivr/bye"]') || {innerText: ""}).innerText`); !strings.Contains(s, "ivr/bye") {
		t.Fatalf("the synthesized prompt's row: %q", s)
	}
	// Delete.
	b.apiSubmit(`tr[data-prompt="ivr/hello"] form[data-method=DELETE]`, nil, true)
	if b.evalString(`String(!!document.querySelector('tr[data-prompt="ivr/hello"]'))`) != "false" {
		t.Fatal("the deleted prompt is still listed")
	}
	// A file that is not WAV: the reason in the form, nothing saved.
	bad := filepath.Join(t.TempDir(), "notes.wav")
	if err := os.WriteFile(bad, []byte("hello, not audio"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.apiSubmit(upload, map[string]string{"name": "ivr/bad", "file": "file:" + bad}, false)
	msg := b.waitText(`document.querySelector("form[data-body=file] [role=status]").textContent`)
	t.Logf("a file that is not WAV: %q", msg)
	if !strings.Contains(b.evalString(`document.querySelector("form[data-body=file] [role=status]").className`), "error") {
		t.Fatalf("the refusal %q is not shown as an error", msg)
	}
	b.navigate(pe.url + "/prompts?lang=zh-CN")
	if b.evalString(`String(!!document.querySelector('tr[data-prompt="ivr/bad"]'))`) != "false" {
		t.Fatal("a refused upload is listed")
	}
	// Retention settings.
	b.navigate(pe.url + "/retention")
	b.apiSubmit(`form[data-api="/api/v1/recording-settings"]`, map[string]string{"max_age_days": "30", "quota_mb": "2048"}, true)
	if v := b.evalString(`document.querySelector("input[name=max_age_days]").value + "/" + document.querySelector("input[name=quota_mb]").value`); v != "30/2048" {
		t.Fatalf("retention after saving: %s", v)
	}
	b.apiSubmit(`form[data-api="/api/v1/recording-settings"]`, map[string]string{"quota_mb": "2000000000"}, false)
	msg = b.waitText(`document.querySelector("form[data-api] [role=status]").textContent`)
	if !strings.Contains(b.evalString(`document.querySelector("input[name=quota_mb]").closest("label").className`), "bad") {
		t.Fatalf("a quota over the limit: %q, the field not marked", msg)
	}
	// The live conference: mute party 2, lock the room.
	b.navigate(pe.url + "/conference")
	b.apiSubmit(`tr[data-party="2"] form[data-method=PUT]`, nil, true)
	if s := b.evalString(`document.querySelector('tr[data-party="2"]').innerText`); !strings.Contains(s, "已静音") {
		t.Fatalf("party 2 after muting: %q", s)
	}
	b.apiSubmit(`div[data-room="7001"] form[data-method=PUT]`, nil, true)
	if s := b.evalString(`document.querySelector('div[data-room="7001"] h2').innerText`); !strings.Contains(s, "已锁定") {
		t.Fatalf("room 7001 after locking: %q", s)
	}
	b.apiSubmit(`tr[data-party="2"] form[data-method=DELETE]`, nil, true)
	if b.evalString(`String(!!document.querySelector('tr[data-party="2"]'))`) != "false" {
		t.Fatal("the removed party is still listed")
	}
}
