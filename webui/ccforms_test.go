package webui

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"callbox/telephony/ccconf"
)

// TestCallCentrePages: the call centre's forms through the pages, against
// the real validation (telephony/ccconf over a document, as the daemon
// stores it): the seed's 20 and 50 character limits of the blacklist
// refused beside their fields and nothing saved; an agent with groups and
// skill levels; a group edit keeps what its form does not show (relax
// steps); a group still used cannot go; a supervisor reads but cannot
// change.
func TestCallCentrePages(t *testing.T) {
	pbx := samplePBX()
	cc := newDocCC(t, &pbx)
	e := newEnv(t, Config{PBX: newDocPBX(pbx), CallCentre: cc})
	e.users.add(t, "root", RoleAdmin, "root-password")
	e.users.add(t, "sue", RoleSupervisor, "sue-password")
	c := e.client(t)
	c.lang = "zh-CN"
	c.login("root", "root-password")
	beside := func(what, body, field, text string) {
		t.Helper()
		re := regexp.MustCompile(`(?s)<label for="f-` + field + `" class="[^"]* bad".*?<span class="field-error" role="alert">([^<]*)</span>`)
		m := re.FindStringSubmatch(body)
		if m == nil || !strings.Contains(m[1], text) {
			t.Fatalf("%s: no refusal with %q beside %s:\n%s", what, text, field, body)
		}
	}
	count := func(kind string) int {
		list, _ := cc.CCList(context.Background(), kind)
		return len(list)
	}
	n := count(CCBlacklist)
	rec := c.form("/blacklist", url.Values{"number": {"1380013800013800138000"}, "direction": {"in"}, "note": {"骚扰"}})
	wantStatus(t, "21-character number", rec.Code, http.StatusBadRequest, rec.Body)
	beside("21-character number", rec.Body.String(), "number", "黑名单")
	rec = c.form("/blacklist", url.Values{"number": {"13800138000"}, "direction": {"in"}, "note": {strings.Repeat("骚", 51)}})
	wantStatus(t, "51-character note", rec.Code, http.StatusBadRequest, rec.Body)
	beside("51-character note", rec.Body.String(), "note", "50")
	if !strings.Contains(rec.Body.String(), `value="13800138000"`) {
		t.Fatal("the refused form lost the number")
	}
	if count(CCBlacklist) != n {
		t.Fatal("a refused entry was saved")
	}
	rec = c.form("/blacklist", url.Values{"number": {"13800138000"}, "direction": {"both"}, "note": {strings.Repeat("骚", 50)}})
	wantStatus(t, "valid entry", rec.Code, http.StatusSeeOther, rec.Body)
	if count(CCBlacklist) != n+1 {
		t.Fatal("the entry was not saved")
	}

	// An agent in two groups with skill levels.
	rec = c.form("/agents", url.Values{"id": {"1200"}, "name": {"赵敏"}, "mode": {"softphone"}, "device": {"302"},
		"pin": {"2468"}, "groups": {"1", "3"}, "groups.skill.1": {"7"}, "groups.skill.2": {"9"}, "groups.skill.3": {""}})
	wantStatus(t, "agent", rec.Code, http.StatusSeeOther, rec.Body)
	raw, _ := cc.CCGet(context.Background(), CCAgents, "1200")
	var a ccconf.Agent
	_ = json.Unmarshal(raw, &a)
	if len(a.Groups) != 2 || a.Groups[0] != (ccconf.Membership{Group: 1, Skill: 7}) || a.Groups[1] != (ccconf.Membership{Group: 3}) || a.PINHash == "" && a.PIN == "" {
		t.Fatalf("stored agent %+v", a)
	}
	page := c.get("/agents/1200").Body.String()
	if !strings.Contains(page, `name="groups" value="1" checked`) || !strings.Contains(page, `name="groups.skill.1" value="7"`) || strings.Contains(page, "2468") {
		t.Fatalf("agent page:\n%s", page)
	}
	// A skill out of range comes back beside the groups.
	rec = c.form("/agents/1200", url.Values{"name": {"赵敏"}, "mode": {"softphone"}, "device": {"302"},
		"groups": {"1"}, "groups.skill.1": {"700"}})
	wantStatus(t, "skill 700", rec.Code, http.StatusBadRequest, rec.Body)
	if !regexp.MustCompile(`(?s)<fieldset class="wide bad">\s*<legend>座席组</legend>.*?field-error`).MatchString(rec.Body.String()) {
		t.Fatalf("skill refusal not beside the groups:\n%s", rec.Body)
	}

	// Group 2 has relax steps, which its form does not show: an edit
	// keeps them.
	vals := url.Values{"name": {"VIP 大客户"}, "rule": {"agent_level"}, "enabled": {"on"}, "recording": {"on"}, "consent": {"on"},
		"overflow.kind": {"group"}, "overflow.group": {"1"}, "max_wait_s": {"60"}, "min_skill": {"5"}}
	rec = c.form("/groups/2", vals)
	wantStatus(t, "group edit", rec.Code, http.StatusSeeOther, rec.Body)
	raw, _ = cc.CCGet(context.Background(), CCGroups, "2")
	var g ccconf.Group
	_ = json.Unmarshal(raw, &g)
	if g.Name != "VIP 大客户" || len(g.Relax) != 2 || g.Overflow.Group != 1 || g.Recording == nil || !*g.Recording || g.Consent != ccconf.ConsentOn {
		t.Fatalf("group after the edit: %+v", g)
	}
	// The recording notice per group, in the box's language.
	if page := c.get("/groups/2").Body.String(); !strings.Contains(page, "录音提示") || !strings.Contains(page, `<option value="on" selected>播放“您的通话可能会被录音”</option>`) {
		t.Fatalf("the group page does not show its recording notice:\n%s", page)
	}
	// A group agents still serve cannot be deleted.
	rec = c.form("/groups/1/delete", nil)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), `class="error"`) {
		t.Fatalf("deleting a used group: %d\n%s", rec.Code, rec.Body)
	}
	if _, err := cc.CCGet(context.Background(), CCGroups, "1"); err != nil {
		t.Fatal("the used group was deleted")
	}

	// A supervisor reads the forms but cannot change anything.
	s := e.client(t)
	s.login("sue", "sue-password")
	page = s.get("/groups/1").Body.String()
	if strings.Contains(page, `type="submit">`) || !strings.Contains(page, `name="name" value="Sales" maxlength="64" disabled`) {
		t.Fatalf("supervisor's group page is not read-only:\n%s", page)
	}
	if rec := s.form("/groups/1", vals); rec.Code != http.StatusForbidden {
		t.Fatalf("supervisor's edit = %d", rec.Code)
	}
	if rec := s.get("/groups/new"); rec.Code != http.StatusForbidden {
		t.Fatalf("supervisor's new form = %d", rec.Code)
	}
}

// TestGroupFormMusic: the group form's music on hold is a choice of the
// box's music (the prompts named moh/...), with the built-in tune as the
// empty choice; a name that is no music is refused with 400 beside the
// field (form) or naming it (API), nothing saved; music that was deleted
// after a group chose it stays selected, shown as missing, so that saving
// the form does not silently replace it.
func TestGroupFormMusic(t *testing.T) {
	pbx := samplePBX()
	cc := newDocCC(t, &pbx)
	p := newMemPrompts()
	p.files["zh-CN/moh/jazz"] = []byte("RIFF....WAVEjazz")
	p.files["en/moh/rain"] = []byte("RIFF....WAVErain")
	e := newEnv(t, Config{PBX: newDocPBX(pbx), CallCentre: cc, Prompts: p})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	c.login("root", "root-password")
	page := c.get("/groups/1").Body.String()
	if !regexp.MustCompile(`<select id="f-moh" name="moh"><option value=""></option><option value="moh/jazz">moh/jazz</option><option value="moh/rain">moh/rain</option></select>`).MatchString(page) {
		t.Fatalf("the group form's music is not a choice of the box's music:\n%s", page)
	}
	vals := url.Values{"name": {"Sales"}, "rule": {"longest_idle"}, "enabled": {"on"}, "recording": {"on"}, "consent": {"default"}}
	vals.Set("moh", "moh/none")
	rec := c.form("/groups/1", vals)
	wantStatus(t, "unknown music", rec.Code, http.StatusBadRequest, rec.Body)
	if !regexp.MustCompile(`(?s)<label for="f-moh" class="[^"]* bad".*?<span class="field-error" role="alert">moh/none is not music on hold`).MatchString(rec.Body.String()) {
		t.Fatalf("the refusal is not beside the music:\n%s", rec.Body)
	}
	raw, _ := cc.CCGet(context.Background(), CCGroups, "1")
	if strings.Contains(string(raw), "moh/none") {
		t.Fatalf("refused music saved: %s", raw)
	}
	st, m := c.api(http.MethodPut, "/api/v1/groups/1", map[string]any{"id": 1, "name": "Sales", "rule": "longest_idle", "moh": "moh/none"})
	wantStatus(t, "API: unknown music", st, http.StatusBadRequest, m)
	wantField(t, "API: unknown music", m, "moh")
	vals.Set("moh", "moh/rain")
	rec = c.form("/groups/1", vals)
	wantStatus(t, "music", rec.Code, http.StatusSeeOther, rec.Body)
	raw, _ = cc.CCGet(context.Background(), CCGroups, "1")
	if !strings.Contains(string(raw), `"moh":"moh/rain"`) {
		t.Fatalf("group 1 after choosing music: %s", raw)
	}
	p.mu.Lock()
	delete(p.files, "en/moh/rain")
	p.mu.Unlock()
	page = c.get("/groups/1").Body.String()
	if !strings.Contains(page, `<option value="moh/rain" selected>moh/rain (missing)</option>`) {
		t.Fatalf("deleted music is not kept as missing:\n%s", page)
	}
}
