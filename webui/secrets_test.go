package webui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/telephony/ccconf"
	"callbox/telephony/pbxconf"
	"callbox/telephony/sip/secret"
	"callbox/webui/i18n"
)

// confPBX is a PBX over the real configuration code (pbxconf's decoding,
// validation and secret rule), holding extensions only, so the API's
// answers are tested against the errors the box really gives.
type confPBX struct {
	mu   sync.Mutex
	exts []pbxconf.Extension
}

func (p *confPBX) find(number string) int {
	return slices.IndexFunc(p.exts, func(e pbxconf.Extension) bool { return e.Number == number })
}

func (p *confPBX) PBXList(ctx context.Context, kind string) ([]json.RawMessage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []json.RawMessage
	for _, e := range p.exts {
		b, _ := json.Marshal(e)
		out = append(out, b)
	}
	return out, nil
}

func (p *confPBX) PBXGet(ctx context.Context, kind, key string) (json.RawMessage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.find(key)
	if i < 0 {
		return nil, fmt.Errorf("conf: %w", ErrNotFound)
	}
	b, _ := json.Marshal(p.exts[i])
	return b, nil
}

func (p *confPBX) put(key string, obj json.RawMessage) (json.RawMessage, error) {
	e, err := pbxconf.DecodeExtension(obj)
	if err == nil {
		err = e.ValidateObject()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.find(e.Number)
	if key == "" && i >= 0 {
		return nil, fmt.Errorf("%w: %w", ErrConflict, &pbxconf.FieldError{Object: "extension", Field: "number",
			Reason: "taken", Code: pbxconf.ReasonKeyTaken, Args: []any{e.Number}, Kind: pbxconf.ObjExtension, Key: e.Number})
	}
	if i < 0 || p.exts[i].Secret != e.Secret {
		if err := e.CheckSecret(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	if i < 0 {
		p.exts = append(p.exts, e)
	} else {
		p.exts[i] = e
	}
	b, _ := json.Marshal(e)
	return b, nil
}

func (p *confPBX) PBXCreate(ctx context.Context, kind string, obj json.RawMessage) (json.RawMessage, error) {
	return p.put("", obj)
}

func (p *confPBX) PBXUpdate(ctx context.Context, kind, key string, obj json.RawMessage) (json.RawMessage, error) {
	if _, err := p.PBXGet(ctx, kind, key); err != nil {
		return nil, err
	}
	return p.put(key, obj)
}

func (p *confPBX) PBXDelete(ctx context.Context, kind, key string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.find(key)
	if i < 0 {
		return fmt.Errorf("conf: %w", ErrNotFound)
	}
	p.exts = slices.Delete(p.exts, i, i+1)
	return nil
}

func newConfEnv(t *testing.T) (*env, *confPBX, *client) {
	t.Helper()
	p := &confPBX{}
	e := newEnv(t, Config{PBX: p})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	c.login("root", "root-password")
	return e, p, c
}

// TestPBXErrorsTranslated: an API validation error names the object, the
// field and the reason in the request's language. Before, a zh-CN answer
// was a Chinese prefix around pbxconf's English words ("字段 secret 无效
// （pbxconf: extension "201": secret: a SIP extension needs ...）").
func TestPBXErrorsTranslated(t *testing.T) {
	_, _, c := newConfEnv(t)
	for _, tc := range []struct {
		body          string
		lang          string
		status        int
		field, reason string
		want          string
	}{
		{`{"number":"201","kind":"sip","secret":"short-12"}`, "zh-CN", 400, "secret", "secret.too_short",
			"分机 201 的 密码：太短（至少 10 个字符）。"},
		{`{"number":"201","kind":"sip","secret":"short-12"}`, "en", 400, "secret", "secret.too_short",
			"Extension 201: secret: too short (at least 10 characters)."},
		{`{"number":"201","kind":"sip","secret":"password123"}`, "zh-CN", 400, "secret", "secret.common",
			"分机 201 的 密码：是常见密码，容易被猜中。"},
		{`{"number":"201","kind":"sip","secret":"ext-201-secret"}`, "zh-CN", 400, "secret", "secret.contains_user",
			"分机 201 的 密码：包含了用户名或号码。"},
		{`{"number":"01","kind":"fxs","port":1}`, "zh-CN", 400, "number", "number.format",
			"分机 01 的 号码：须为 2 到 8 位数字，不能以 0 开头。"},
		{`{"number":"201","kind":"fax"}`, "zh-CN", 400, "kind", "kind.extension",
			`分机 201 的 类型："fax" 不是 sip 或 fxs。`},
		{`{"number":201}`, "zh-CN", 400, "number", "json.want_string",
			"分机 的 号码：须为字符串，而不是 JSON number。"},
		{`{"number":"201","Kind":"sip"}`, "zh-CN", 400, "Kind", "json.field_case",
			"分机 的 Kind：未知字段（字段名须为小写）。"},
	} {
		c.lang = tc.lang
		st, m := c.api(http.MethodPost, "/api/v1/extensions", tc.body)
		wantStatus(t, tc.body, st, tc.status, m)
		if m["field"] != tc.field || m["reason"] != tc.reason || m["error"] != tc.want {
			t.Errorf("%s in %s:\n got %v\nwant error %q field %q reason %q", tc.body, tc.lang, m, tc.want, tc.field, tc.reason)
		}
		if tc.lang == "zh-CN" && strings.Contains(m["error"].(string), "pbxconf") {
			t.Errorf("zh error carries English words: %v", m["error"])
		}
	}
	c.lang = "zh-CN"
	st, m := c.api(http.MethodPost, "/api/v1/extensions", `{"number":"202","kind":"sip","secret":"Kx7mQ2pZw9"}`)
	wantStatus(t, "create", st, http.StatusCreated, m)
	st, m = c.api(http.MethodPost, "/api/v1/extensions", `{"number":"202","kind":"sip","secret":"Kx7mQ2pZw9"}`)
	wantStatus(t, "create twice", st, http.StatusConflict, m)
	if m["error"] != `与 分机 202 的 号码 冲突："202" 已被使用。` {
		t.Errorf("conflict: %v", m)
	}
}

// TestExtensionSecretHelp: a stored weak secret is flagged (and keeps
// working); a GET's answer sent back is accepted; the box generates a
// strong secret on request and shows it once.
func TestExtensionSecretHelp(t *testing.T) {
	_, p, c := newConfEnv(t)
	p.exts = append(p.exts, pbxconf.Extension{Number: "301", Kind: pbxconf.KindSIP, Secret: "password1"})
	c.lang = "zh-CN"
	st, m := c.api(http.MethodGet, "/api/v1/extensions/301", nil)
	wantStatus(t, "get", st, http.StatusOK, m)
	w, _ := m["secret_warning"].(map[string]any)
	if m["secret"] != SecretMask || w["reason"] != "secret.too_short" || !strings.Contains(w["message"].(string), "太短") {
		t.Fatalf("weak stored secret: %v", m)
	}
	// The object as shown, sent back with a change, keeps the secret.
	m["name"] = "李"
	st, m2 := c.api(http.MethodPut, "/api/v1/extensions/301", m)
	wantStatus(t, "put back", st, http.StatusOK, m2)
	if p.exts[0].Secret != "password1" || p.exts[0].Name != "李" {
		t.Fatalf("after put back: %+v", p.exts[0])
	}
	// Generate a new one.
	st, m = c.api(http.MethodPut, "/api/v1/extensions/301", map[string]any{"kind": "sip", "secret": "", "generate_secret": true})
	wantStatus(t, "generate", st, http.StatusOK, m)
	gen, _ := m["secret"].(string)
	if gen == SecretMask || gen != p.exts[0].Secret || len(gen) != secret.GeneratedLen || m["secret_warning"] != nil {
		t.Fatalf("generated: answer %v, stored %q", m, p.exts[0].Secret)
	}
	if err := secret.Check(gen, secret.SIP, "301"); err != nil {
		t.Fatalf("generated %q: %v", gen, err)
	}
	st, m = c.api(http.MethodGet, "/api/v1/extensions/301", nil)
	if st != http.StatusOK || m["secret"] != SecretMask {
		t.Fatalf("the generated secret is shown again: %v", m)
	}
	st, m = c.api(http.MethodPost, "/api/v1/extensions", map[string]any{"number": "302", "kind": "sip", "generate_secret": true})
	wantStatus(t, "create with a generated secret", st, http.StatusCreated, m)
	if s, _ := m["secret"].(string); len(s) != secret.GeneratedLen {
		t.Fatalf("created: %v", m)
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"number": "303", "kind": "sip", "secret": "Kx7mQ2pZw9", "generate_secret": true}, "generate_secret"},
		{map[string]any{"number": "303", "kind": "sip", "generate_secret": "yes"}, "generate_secret"},
	} {
		st, m := c.api(http.MethodPost, "/api/v1/extensions", tc.body)
		wantStatus(t, fmt.Sprint(tc.body), st, http.StatusBadRequest, m)
		wantField(t, fmt.Sprint(tc.body), m, tc.field)
	}
}

// TestPasswordStrength: the users API and the setup page refuse weak
// passwords with the rule of telephony/sip/secret, translated. Before,
// "password123" was a fine administrator password.
func TestPasswordStrength(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	c.login("root", "root-password")
	for _, tc := range []struct {
		role, login, pw string
		key             string
		zh              string
	}{
		{"admin", "boss", "password123", "err.password.weak", "该密码不可用：是常见密码，容易被猜中。"},
		{"admin", "boss", "Kx7mQ2pZ9", "err.password.too_short", "密码至少需要 10 个字符。"},
		{"admin", "boss", "boss-of-all-7", "err.password.weak", "该密码不可用：包含了用户名或号码。"},
		{"agent", "ann", "12345678", "err.password.weak", "该密码不可用：是常见密码，容易被猜中。"},
		{"agent", "ann", "Kx7mQ2p", "err.password.too_short", "密码至少需要 8 个字符。"},
		{"supervisor", "sue", "abcdefgh", "err.password.weak", ""},
		{"agent", "ann", "Kx7mQ2pZ", "", ""},
		{"admin", "boss", "Kx7mQ2pZw9", "", ""},
	} {
		c.lang = "zh-CN"
		st, m := c.api(http.MethodPost, "/api/v1/users", map[string]any{"login": tc.login, "role": tc.role, "password": tc.pw})
		if tc.key == "" {
			wantStatus(t, tc.pw, st, http.StatusCreated, m)
			continue
		}
		wantStatus(t, tc.pw, st, http.StatusBadRequest, m)
		wantField(t, tc.pw, m, "password")
		if m["code"] != tc.key || tc.zh != "" && m["error"] != tc.zh {
			t.Errorf("%s as %s: %v, want %s %q", tc.pw, tc.role, m, tc.key, tc.zh)
		}
	}
	// A new password on update follows the user's role after the change.
	st, m := c.api(http.MethodPut, "/api/v1/users/ann", map[string]any{"role": "admin", "password": "Kx7mQ2pZ"})
	wantStatus(t, "promote with a staff-length password", st, http.StatusBadRequest, m)
	// Setup: the administrator's rule.
	code, _ := e.s.IssueSetupCode(context.Background())
	s := e.client(t)
	s.addr = "192.0.2.33:1"
	s.csrf = csrfFromPage(t, s.get("/setup").Body.String())
	rec := s.form("/setup", url.Values{"code": {code}, "login": {"root"}, "password": {"qwertyuiop"}, "password2": {"qwertyuiop"}})
	wantStatus(t, "setup with a common password", rec.Code, http.StatusBadRequest, rec.Body)
	if !strings.Contains(rec.Body.String(), "common password") {
		t.Fatalf("setup page lacks the reason:\n%s", rec.Body)
	}
}

// TestCatalogueCoversReasons: every reason pbxconf, ccconf and the secret
// rule can give, every field of both configurations and every object kind
// has a text in every language; and every message of every catalogue formats with
// the arguments its English text takes, without fmt's %! complaints.
func TestCatalogueCoversReasons(t *testing.T) {
	cs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range pbxconf.Reasons() {
		keys = append(keys, "reason."+string(r))
	}
	for _, c := range secret.Codes() {
		keys = append(keys, "reason.secret."+c)
	}
	for _, r := range ccconf.Reasons() {
		keys = append(keys, "reason."+string(r))
	}
	for _, k := range append([]string{pbxconf.ObjConfiguration, pbxconf.ObjExtension, pbxconf.ObjTrunk, pbxconf.ObjRoute}, ccconf.Objects()...) {
		keys = append(keys, "object."+k, "object."+k+".bare")
	}
	var fields func(t reflect.Type)
	fields = func(typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Anonymous {
				fields(f.Type) // an embedded struct's fields are the object's
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			keys = append(keys, "field."+name)
			ft := f.Type
			for ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map || ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft.PkgPath() != "time" {
				fields(ft)
			}
		}
	}
	fields(reflect.TypeFor[pbxconf.Config]())
	fields(reflect.TypeFor[ccconf.Config]())
	if len(keys) < 100 {
		t.Fatalf("only %d keys", len(keys))
	}
	for _, k := range keys {
		for _, lang := range cs.Langs() {
			if _, ok := cs[lang][k]; !ok {
				t.Errorf("%q missing in the %s catalogue", k, lang)
			}
		}
	}
	// Arguments: what the English text takes, by verb.
	verb := regexp.MustCompile(`%(\[(\d+)\])?[-+# 0]*\d*(\.\d+)?([a-zA-Z%])`)
	for key, en := range cs["en"] {
		var args []any
		n := 0
		for _, m := range verb.FindAllStringSubmatch(en, -1) {
			if m[4] == "%" {
				continue
			}
			if m[2] != "" {
				n, _ = strconv.Atoi(m[2])
				n--
			}
			for len(args) <= n {
				args = append(args, nil)
			}
			switch m[4] {
			case "d":
				args[n] = 7
			default:
				args[n] = "x"
			}
			n++
		}
		if len(args) == 0 {
			continue
		}
		for i := range args {
			if args[i] == nil {
				args[i] = "x" // an argument only another language uses
			}
		}
		for _, lang := range cs.Langs() {
			if got := cs.T(lang, key, args...); strings.Contains(got, "%!") {
				t.Errorf("%s %q with %v: %q", lang, key, args, got)
			}
		}
	}
}

// TestNoSpaceAnswers507: an implementation's out-of-space error becomes
// 507 with a translated message, for users and for the PBX.
func TestNoSpaceAnswers507(t *testing.T) {
	e := newEnv(t, Config{PBX: fullPBX{&confPBX{}}})
	e.users.add(t, "root", RoleAdmin, "root-password")
	e.users.full = fmt.Errorf("mem: %w: write user: no space left on device", ErrNoSpace)
	c := e.client(t)
	c.login("root", "root-password")
	c.lang = "zh-CN"
	st, m := c.api(http.MethodPost, "/api/v1/users", map[string]any{"login": "ann", "role": "agent", "password": "Kx7mQ2pZ"})
	wantStatus(t, "create user on a full disk", st, http.StatusInsufficientStorage, m)
	if m["code"] != "err.storage_full" || !strings.HasPrefix(m["error"].(string), "设备存储空间已满") {
		t.Fatalf("answer %v", m)
	}
	c.lang = "en"
	st, m = c.api(http.MethodPost, "/api/v1/extensions", map[string]any{"number": "201", "kind": "fxs", "port": 1})
	wantStatus(t, "create extension on a full disk", st, http.StatusInsufficientStorage, m)
	if !strings.HasPrefix(m["error"].(string), "The box's storage is full: ") {
		t.Fatalf("answer %v", m)
	}
	rec := c.form("/users", url.Values{"login": {"ann"}, "role": {"agent"}, "password": {"Kx7mQ2pZ"}, "password2": {"Kx7mQ2pZ"}})
	if rec.Code != http.StatusInsufficientStorage || !strings.Contains(rec.Body.String(), "storage is full") {
		t.Fatalf("users page on a full disk: %d\n%s", rec.Code, rec.Body)
	}
}

// fullPBX fails every write for lack of space.
type fullPBX struct{ *confPBX }

func (fullPBX) PBXCreate(ctx context.Context, kind string, obj json.RawMessage) (json.RawMessage, error) {
	return nil, fmt.Errorf("conf: %w", errors.Join(ErrNoSpace, errors.New("no space left on device")))
}

// alarmSystem reports a full disk.
type alarmSystem struct{}

func (alarmSystem) Info(ctx context.Context) SystemInfo {
	i := fakeSystem{}.Info(ctx)
	i.Alarms = []Alarm{{Code: AlarmStorageFull, Since: time.Date(2026, 11, 21, 11, 30, 0, 0, time.Local)}}
	return i
}

// TestHomeShowsAlarms: a raised alarm is on the home page of every role
// and in /api/v1/system, in the user's language.
func TestHomeShowsAlarms(t *testing.T) {
	e := newEnv(t, Config{})
	e.s.cfg.System = alarmSystem{}
	e.users.add(t, "ann", RoleAgent, "ann-password")
	c := e.client(t)
	c.login("ann", "ann-password")
	if home := c.get("/").Body.String(); !strings.Contains(home, `class="card alarm" role="alert"`) ||
		!strings.Contains(home, "The box&#39;s storage is full (since 2026-11-21 11:30)") {
		t.Fatalf("home page lacks the alarm:\n%s", home)
	}
	c.lang = "zh-CN"
	st, m := c.api(http.MethodGet, "/api/v1/system", nil)
	wantStatus(t, "system", st, http.StatusOK, m)
	a := m["alarms"].([]any)[0].(map[string]any)
	if a["code"] != AlarmStorageFull || !strings.HasPrefix(a["message"].(string), "设备存储空间已满（自 2026-11-21 11:30 起）") {
		t.Fatalf("alarms %v", m["alarms"])
	}
	e.s.cfg.System = fakeSystem{}
	if home := c.get("/").Body.String(); strings.Contains(home, "alarm") {
		t.Fatal("alarm shown with none raised")
	}
	if st, m := c.api(http.MethodGet, "/api/v1/system", nil); st != 200 || len(m["alarms"].([]any)) != 0 {
		t.Fatalf("alarms without any: %v", m)
	}
}
