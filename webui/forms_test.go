package webui

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"callbox/board/proslic"
	"callbox/telephony/acd"
	"callbox/telephony/ccconf"
	"callbox/telephony/pbxconf"
)

// TestFormDecode: posted values become the API's object by the form's
// fields: types, nested paths, lists, pairs, fields that do not apply to
// the chosen kind left out, an empty secret left out (the stored one
// stays), bad numbers and pairs refused naming the field.
func TestFormDecode(t *testing.T) {
	ext, trunk, route := pbxForms[0], pbxForms[1], pbxForms[2]
	for _, tc := range []struct {
		name    string
		fk      *formKind
		vals    url.Values
		editing bool
		want    string // JSON
		field   string // refused field
	}{
		{"sip extension", ext, url.Values{"number": {"205"}, "name": {" Wang "}, "kind": {"sip"}, "port": {"3"},
			"secret": {"Hx7-kettle-drum"}, "nat": {"on"}, "forward.busy": {"300"}, "forward.no_answer_s": {"25"}},
			false, `{"number":"205","name":"Wang","kind":"sip","secret":"Hx7-kettle-drum","nat":true,"voicemail":false,"dnd":false,
			"forward":{"busy":"300","no_answer_s":25}}`, ""},
		{"fxs extension drops SIP fields", ext, url.Values{"number": {"201"}, "kind": {"fxs"}, "port": {"1"},
			"secret": {"x"}, "nat": {"on"}, "secret.generate": {"on"}},
			false, `{"number":"201","kind":"fxs","port":1,"secret":"","voicemail":false,"dnd":false}`, ""}, // a SIP secret cleared
		{"edit keeps the key out and the secret when empty", ext, url.Values{"number": {"999"}, "kind": {"sip"}, "secret": {""}},
			true, `{"kind":"sip","nat":false,"voicemail":false,"dnd":false}`, ""},
		{"generate", ext, url.Values{"number": {"206"}, "kind": {"sip"}, "secret.generate": {"on"}},
			false, `{"number":"206","kind":"sip","generate_secret":true,"nat":false,"voicemail":false,"dnd":false}`, ""},
		{"bad number", ext, url.Values{"number": {"207"}, "kind": {"sip"}, "forward.no_answer_s": {"twenty"}}, false, "", "no_answer_s"},
		{"sip trunk", trunk, url.Values{"name": {"carrier"}, "kind": {"sip"}, "host": {"sip.example.net"},
			"codecs": {"PCMA", "PCMU"}, "dids": {"02512345678=201\r\n 02587654321 = 202 \n\n"}, "rings": {"2"}},
			false, `{"name":"carrier","kind":"sip","host":"sip.example.net","codecs":["PCMA","PCMU"],
			"dids":{"02512345678":"201","02587654321":"202"},"register":false,"nat":false}`, ""},
		{"bad pair", trunk, url.Values{"name": {"c"}, "kind": {"sip"}, "dids": {"02512345678 201"}}, false, "", "dids"},
		{"route", route, url.Values{"name": {"mobile"}, "patterns": {"1XXXXXXXXXX\n0., 9."}, "trunks": {"b\na"},
			"strip": {"0"}, "allowed": {""}}, false,
			`{"name":"mobile","patterns":["1XXXXXXXXXX","0.","9."],"trunks":["b","a"],"strip":0}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, f := tc.fk.decode(formValues(tc.vals), tc.editing)
			if tc.field != "" {
				if f == nil || f.field != tc.field {
					t.Fatalf("decode = %v, %v; want a refusal of %s", o, f, tc.field)
				}
				return
			}
			if f != nil {
				t.Fatal(f)
			}
			got, _ := json.Marshal(o)
			var g, w any
			_ = json.Unmarshal(got, &g)
			if err := json.Unmarshal([]byte(tc.want), &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("decode = %s\nwant %s", got, tc.want)
			}
		})
	}
	// And back: an object's values fill the form as they were typed.
	o, _ := parseObject(json.RawMessage(`{"name":"c","kind":"sip","dids":{"2":"202","1":"201"},"codecs":["PCMA"],"port":5062,"register":true}`))
	v := trunk.values(decodeObject(o))
	if !slices.Equal(v["dids"], []string{"1=201", "2=202"}) || v.first("port") != "5062" || v.first("register") != "true" ||
		!slices.Equal(v["codecs"], []string{"PCMA"}) {
		t.Errorf("values = %v", v)
	}
}

// TestFormChoicesMatchTheConfiguration keeps webui's copies of the
// configuration's choices equal to telephony/pbxconf's, and every field,
// option and page of the forms worded in every language.
func TestFormChoicesMatchTheConfiguration(t *testing.T) {
	if !slices.Equal(sipCodecs, pbxconf.Codecs) || !slices.Equal(callerIDSchemes, pbxconf.CallerIDSchemes) ||
		!slices.Equal(extensionKinds, []string{pbxconf.KindSIP, pbxconf.KindFXS}) ||
		!slices.Equal(trunkKinds, []string{pbxconf.KindSIP, pbxconf.KindFXO}) ||
		!slices.Equal(sipTransports, []string{pbxconf.TransportUDP, pbxconf.TransportTCP}) || pbxNameMax != pbxconf.MaxNameLen {
		t.Error("webui's PBX choices differ from telephony/pbxconf's")
	}
	cs := newEnv(t, Config{}).s.cat
	need := func(key string) {
		for _, l := range cs.Langs() {
			if _, ok := cs[l][key]; !ok {
				t.Errorf("%s lacks %q", l, key)
			}
		}
	}
	if !slices.Equal(groupRules, ccconf.Rules) || !slices.Equal(joinRules, []string{ccconf.JoinAlways, ccconf.JoinIfLoggedIn, ccconf.JoinIfAvailable}) ||
		!slices.Equal(leaveRules, []string{ccconf.LeaveNever, ccconf.LeaveNoLoggedIn, ccconf.LeaveNoAvail}) ||
		!slices.Equal(agentModes, []string{ccconf.ModeExtension, ccconf.ModeSoftphone, ccconf.ModeOutside}) ||
		!slices.Equal(groupConsents, ccconf.Consents) ||
		!slices.Equal(targetKinds, []string{ccconf.TargetFlow, ccconf.TargetGroup, ccconf.TargetExtension, ccconf.TargetVoicemail, ccconf.TargetHangup}) ||
		!slices.Equal(routeKinds, []string{ccconf.TargetFlow, ccconf.TargetGroup, ccconf.TargetExtension, ccconf.TargetVoicemail, ccconf.TargetFax, ccconf.TargetRoom}) ||
		!slices.Equal(directions, []string{ccconf.DirIn, ccconf.DirOut, ccconf.DirBoth}) ||
		!slices.Equal(routeSources, []string{ccconf.SourceTrunk, ccconf.SourceLine, ccconf.SourceInternal}) ||
		ccNameMax != ccconf.MaxNameLen || ccDescMax != ccconf.MaxDescLen || ccNoteMax != ccconf.MaxNoteLen ||
		ccBlacklistNumMax != ccconf.MaxBlacklistNumber {
		t.Error("webui's call-centre choices differ from telephony/ccconf's")
	}
	for i, fk := range ccForms {
		if fk.Kind != ccconf.Kinds()[i] || fk.Key != ccconf.KeyField(fk.Kind) || fk.Key != ccKeyField[fk.Kind] {
			t.Errorf("form %s: kind or key %s differs from ccconf's %s %s", fk.Kind, fk.Key, ccconf.Kinds()[i], ccconf.KeyField(fk.Kind))
		}
	}
	for _, fk := range append(slices.Clone(pbxForms), ccForms...) {
		need(fk.Nav)
		need(fk.Intro)
		need("obj.new." + fk.Object)
		need("object." + fk.Object)
		for _, ff := range fk.Fields {
			if !cs.Has("label." + fk.Object + "." + ff.Name) {
				need("label." + ff.leaf())
			}
			if ff.Type == ftSelect {
				for _, o := range ff.Options {
					need("opt." + ff.leaf() + "." + o.Value)
				}
			}
		}
		for _, col := range fk.Columns {
			if col.Label != "" {
				need(col.Label)
			} else {
				need("label." + col.Field[strings.LastIndexByte(col.Field, '.')+1:])
			}
		}
	}
}

// TestExtensionPages: an administrator lists, creates, edits and deletes
// extensions through the pages; a refused value comes back beside its
// field, in the user's language, with what was typed, and nothing is
// saved; a generated secret is shown once; a supervisor may not see them.
func TestExtensionPages(t *testing.T) {
	pbx := &confPBX{}
	e := newEnv(t, Config{PBX: pbx})
	e.users.add(t, "root", RoleAdmin, "root-password")
	e.users.add(t, "sue", RoleSupervisor, "sue-password")
	c := e.client(t)
	c.lang = "zh-CN"
	c.login("root", "root-password")

	rec := c.get("/extensions")
	wantStatus(t, "list", rec.Code, http.StatusOK, rec.Body)
	if !strings.Contains(rec.Body.String(), "新建分机") || !strings.Contains(rec.Body.String(), `aria-current="page"`) {
		t.Fatalf("list page:\n%s", rec.Body)
	}
	// A weak secret: refused beside the secret field, nothing saved.
	rec = c.form("/extensions", url.Values{"number": {"205"}, "name": {"王芳"}, "kind": {"sip"}, "secret": {"password"}})
	wantStatus(t, "weak secret", rec.Code, http.StatusBadRequest, rec.Body)
	body := rec.Body.String()
	if !regexp.MustCompile(`(?s)<label for="f-secret" class=" bad".*?<span class="field-error" role="alert">分机 205 的 密码`).MatchString(body) {
		t.Fatalf("the refusal is not beside the secret field:\n%s", body)
	}
	if !strings.Contains(body, `value="王芳"`) || !strings.Contains(body, "未保存") {
		t.Fatalf("the form lost what was typed or does not say nothing was saved:\n%s", body)
	}
	if _, err := pbx.PBXGet(context.Background(), PBXExtensions, "205"); err == nil {
		t.Fatal("a refused extension was saved")
	}
	// A generated secret is shown once, on the answer itself.
	rec = c.form("/extensions", url.Values{"number": {"205"}, "name": {"王芳"}, "kind": {"sip"}, "secret.generate": {"on"}})
	wantStatus(t, "create with a generated secret", rec.Code, http.StatusOK, rec.Body)
	raw, err := pbx.PBXGet(context.Background(), PBXExtensions, "205")
	if err != nil {
		t.Fatal(err)
	}
	var stored pbxconf.Extension
	_ = json.Unmarshal(raw, &stored)
	if stored.Secret == "" || !strings.Contains(rec.Body.String(), `<span class="secret-once">`+stored.Secret+`</span>`) {
		t.Fatalf("generated secret %q not shown once:\n%s", stored.Secret, rec.Body)
	}
	if p := c.get("/extensions/205").Body.String(); strings.Contains(p, stored.Secret) || !strings.Contains(p, `value="205" maxlength="16" disabled`) {
		t.Fatalf("the edit page shows the secret or lets the number change:\n%s", p)
	}
	// An edit that leaves the secret empty keeps it.
	rec = c.form("/extensions/205", url.Values{"name": {"王芳 (夜班)"}, "kind": {"sip"}, "secret": {""}, "dnd": {"on"}})
	wantStatus(t, "edit", rec.Code, http.StatusSeeOther, rec.Body)
	raw, _ = pbx.PBXGet(context.Background(), PBXExtensions, "205")
	var edited pbxconf.Extension
	_ = json.Unmarshal(raw, &edited)
	if edited.Secret != stored.Secret || !edited.DND || edited.Name != "王芳 (夜班)" {
		t.Fatalf("after the edit: %+v", edited)
	}
	// A bad number beside its field, in English for an English user.
	c.lang = "en"
	c.api(http.MethodPut, "/api/v1/me", map[string]any{"lang": "en"})
	rec = c.form("/extensions/205", url.Values{"kind": {"sip"}, "forward.no_answer_s": {"soon"}})
	wantStatus(t, "bad number", rec.Code, http.StatusBadRequest, rec.Body)
	if !regexp.MustCompile(`(?s)<label for="f-forward-no_answer_s" class=" bad".*?field-error" role="alert">Enter a whole number.`).MatchString(rec.Body.String()) {
		t.Fatalf("the number refusal is not beside its field:\n%s", rec.Body)
	}
	// The list shows the extension; delete removes it.
	if p := c.getURL("/extensions?msg=saved&key=205").Body.String(); !strings.Contains(p, "205 was saved.") || !strings.Contains(p, `href="/extensions/205"`) {
		t.Fatalf("list after the edit:\n%s", p)
	}
	rec = c.form("/extensions/205/delete", nil)
	wantStatus(t, "delete", rec.Code, http.StatusSeeOther, rec.Body)
	if _, err := pbx.PBXGet(context.Background(), PBXExtensions, "205"); err == nil {
		t.Fatal("not deleted")
	}
	// A supervisor has no telephone configuration: neither pages nor posts.
	s := e.client(t)
	s.login("sue", "sue-password")
	for _, path := range []string{"/extensions", "/extensions/new", "/trunks", "/routes/x"} {
		if rec := s.get(path); rec.Code != http.StatusForbidden {
			t.Errorf("supervisor GET %s = %d", path, rec.Code)
		}
	}
	if rec := s.form("/extensions", url.Values{"number": {"209"}, "kind": {"fxs"}, "port": {"1"}}); rec.Code != http.StatusForbidden {
		t.Errorf("supervisor POST = %d", rec.Code)
	}
	if p := s.get("/").Body.String(); strings.Contains(p, `href="/extensions"`) {
		t.Error("the supervisor's navigation links to the extensions")
	}
}

// TestEngineWordsTranslated: every state word the board's ports and the
// ACD's agents can show has a label in every language, so a page never
// shows an engine's English word in a Chinese page.
func TestEngineWordsTranslated(t *testing.T) {
	cs := newEnv(t, Config{}).s.cat
	need := func(key string) {
		for _, l := range cs.Langs() {
			if _, ok := cs[l][key]; !ok {
				t.Errorf("%s lacks %q", l, key)
			}
		}
	}
	words := []string{"ok", "failed", "described", "on-hook", "off-hook", "ringing", "battery", "no battery"}
	for l := proslic.Linefeed(0); l < 8; l++ {
		words = append(words, l.String())
	}
	for _, w := range words {
		need("port.st." + strings.ReplaceAll(w, " ", "_"))
	}
	n := 0
	for st := acd.State(0); !strings.HasPrefix(st.String(), "state("); st++ {
		need("ev.state." + st.String())
		n++
	}
	if n < 7 {
		t.Fatalf("only %d agent states", n)
	}
	for _, k := range []string{"fxs", "fxo"} {
		need("port.kind." + k)
		need("port.label." + k)
	}
	p := &pageData{s: newEnv(t, Config{}).s, Lang: "zh-CN"}
	if got := p.PortState("ok, off-hook, reverse on-hook transmission, ringing"); got != "正常，摘机，反向挂机传输，振铃" {
		t.Errorf("PortState = %q", got)
	}
	if got := p.PortName("fxo2"); got != "外线口 2" {
		t.Errorf("PortName = %q", got)
	}
}
