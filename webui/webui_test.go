package webui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestNewRequiresInterfaces(t *testing.T) {
	if _, err := New(Config{System: fakeSystem{}}); err == nil {
		t.Error("New without Users succeeded")
	}
	if _, err := New(Config{Users: newMemUsers()}); err == nil {
		t.Error("New without System succeeded")
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t, Config{})
	code, m := e.client(t).api(http.MethodGet, "/api/v1/health", nil)
	wantStatus(t, "health", code, http.StatusOK, m)
	if m["status"] != "ok" {
		t.Fatalf("health = %v", m)
	}
}

// TestSetupPage walks the first-boot setup through the pages: a wrong code,
// a right code with a bad password, then success, then reuse of the code.
func TestSetupPage(t *testing.T) {
	e := newEnv(t, Config{})
	code, err := e.s.IssueSetupCode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != 9 || code[4] != '-' || normalizeCode(code) == "" {
		t.Fatalf("setup code %q is not ####-####", code)
	}
	if need, err := e.s.NeedsSetup(context.Background()); !need || err != nil {
		t.Fatalf("NeedsSetup on first boot = %v, %v", need, err)
	}
	c := e.client(t)
	if rec := c.get("/login"); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/setup" {
		t.Fatalf("GET /login on first boot = %d %s, want redirect to /setup", rec.Code, rec.Header().Get("Location"))
	}
	rec := c.get("/setup")
	wantStatus(t, "GET /setup", rec.Code, http.StatusOK, "")
	if !strings.Contains(rec.Body.String(), "First-time setup") {
		t.Fatalf("setup page lacks its title:\n%s", rec.Body)
	}
	c.csrf = c.session()["csrf_token"].(string)
	form := func(code, pw, pw2 string) url.Values {
		return url.Values{"code": {code}, "login": {"admin"}, "display_name": {"Chief"}, "password": {pw}, "password2": {pw2}}
	}
	wrong := "0000-0000"
	if wrong == code {
		wrong = "1111-1111"
	}
	rec = c.form("/setup", form(wrong, "s3cret-pass", "s3cret-pass"))
	wantStatus(t, "wrong code", rec.Code, http.StatusForbidden, rec.Body)
	if !strings.Contains(rec.Body.String(), "setup code is wrong") {
		t.Fatalf("wrong code page lacks the message:\n%s", rec.Body)
	}
	rec = c.form("/setup", form(code, "short", "short"))
	wantStatus(t, "short password", rec.Code, http.StatusBadRequest, rec.Body)
	rec = c.form("/setup", form(code, "s3cret-pass", "s3cret-pazz"))
	wantStatus(t, "mismatch", rec.Code, http.StatusBadRequest, rec.Body)
	if n, _ := e.users.Count(context.Background()); n != 0 {
		t.Fatalf("%d users after failed setups", n)
	}
	// The code survives validation errors, and spaces instead of the dash
	// are accepted.
	rec = c.form("/setup", form(strings.ReplaceAll(code, "-", " "), "s3cret-pass", "s3cret-pass"))
	wantStatus(t, "right code", rec.Code, http.StatusSeeOther, rec.Body)
	if loc := rec.Header().Get("Location"); loc != "/login?done=setup" {
		t.Fatalf("after setup redirect to %q", loc)
	}
	u, err := e.users.Get(context.Background(), "admin")
	if err != nil || u.Role != RoleAdmin || u.DisplayName != "Chief" || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("admin after setup: %+v, %v", u, err)
	}
	rec = c.form("/setup", form(code, "an0ther-pass", "an0ther-pass"))
	wantStatus(t, "reused code", rec.Code, http.StatusForbidden, rec.Body)
	if need, err := e.s.NeedsSetup(context.Background()); need || err != nil {
		t.Fatalf("NeedsSetup after setup = %v, %v", need, err)
	}
	rec = c.getURL("/login?done=setup")
	if !strings.Contains(rec.Body.String(), "administrator password is set") {
		t.Fatalf("login page after setup lacks the notice:\n%s", rec.Body)
	}
	c.login("admin", "s3cret-pass")
}

// TestSetupAPIReset covers the console's passwd-reset: only the latest code
// works, it resets an existing admin's password and ends its sessions.
func TestSetupAPIReset(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "old-password")
	e.users.add(t, "ann", RoleAgent, "agent-password")
	logged := e.client(t)
	logged.login("root", "old-password")

	ctx := context.Background()
	old, _ := e.s.IssueSetupCode(ctx)
	code, _ := e.s.IssueSetupCode(ctx)
	c := e.client(t)
	c.addr = "192.0.2.99:1"
	c.session()
	if m := c.session(); m["setup_required"] != false {
		t.Fatalf("setup_required with users present: %v", m)
	}
	body := func(code, login string) map[string]string {
		return map[string]string{"code": code, "login": login, "password": "new-password"}
	}
	if old != code {
		st, m := c.api(http.MethodPost, "/api/v1/setup", body(old, "root"))
		wantStatus(t, "superseded code", st, http.StatusForbidden, m)
		wantField(t, "superseded code", m, "code")
	}
	st, m := c.api(http.MethodPost, "/api/v1/setup", body(code, "ann"))
	wantStatus(t, "reset of an agent", st, http.StatusBadRequest, m)
	wantField(t, "reset of an agent", m, "login")
	st, m = c.api(http.MethodPost, "/api/v1/setup", body(code, "root"))
	wantStatus(t, "reset", st, http.StatusOK, m)
	if st, m := logged.api(http.MethodGet, "/api/v1/system", nil); st != http.StatusUnauthorized {
		t.Fatalf("session survived a password reset: %d %v", st, m)
	}
	st, m = c.api(http.MethodPost, "/api/v1/login", map[string]string{"login": "root", "password": "old-password"})
	wantStatus(t, "old password", st, http.StatusUnauthorized, m)
	c.login("root", "new-password")
	st, m = c.api(http.MethodPost, "/api/v1/setup", body(code, "root"))
	wantStatus(t, "code reuse", st, http.StatusForbidden, m)
}

func TestSetupThrottle(t *testing.T) {
	e := newEnv(t, Config{})
	code, _ := e.s.IssueSetupCode(context.Background())
	c := e.client(t)
	c.session()
	bad := map[string]string{"code": "9999-999", "login": "admin", "password": "amber-cloud-walk"}
	for i := range loginFree {
		st, m := c.api(http.MethodPost, "/api/v1/setup", bad)
		wantStatus(t, fmt.Sprint("wrong code ", i), st, http.StatusForbidden, m)
	}
	good := map[string]string{"code": code, "login": "admin", "password": "amber-cloud-walk"}
	st, m := c.api(http.MethodPost, "/api/v1/setup", good)
	wantStatus(t, "right code while throttled", st, http.StatusTooManyRequests, m)
	e.clock.advance(time.Second)
	st, m = c.api(http.MethodPost, "/api/v1/setup", good)
	wantStatus(t, "right code after the delay", st, http.StatusOK, m)
}

func TestLoginLogoutAPI(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	st, m := c.api(http.MethodGet, "/api/v1/system", nil)
	wantStatus(t, "system without session", st, http.StatusUnauthorized, m)
	s := c.session()
	if s["authenticated"] != false || s["csrf_token"] == "" {
		t.Fatalf("anonymous session = %v", s)
	}
	// An anonymous visitor gets a signed token in a cookie, no session.
	if c.cookie(sessionCookie) != nil || c.cookie(csrfCookie) == nil || e.s.sess.len() != 0 {
		t.Fatalf("anonymous visit: session cookie %v, csrf cookie %v, %d sessions stored",
			c.cookie(sessionCookie), c.cookie(csrfCookie), e.s.sess.len())
	}
	st, m = c.api(http.MethodPost, "/api/v1/login", map[string]string{"login": "root", "password": "wrong-password"})
	wantStatus(t, "wrong password", st, http.StatusUnauthorized, m)
	st, m = c.api(http.MethodPost, "/api/v1/login", map[string]string{"login": "nobody", "password": "root-password"})
	wantStatus(t, "unknown user", st, http.StatusUnauthorized, m)
	st, m = c.api(http.MethodPost, "/api/v1/login", map[string]string{"login": "root", "password": "root-password"})
	wantStatus(t, "login", st, http.StatusOK, m)
	if m["authenticated"] != true || m["user"].(map[string]any)["role"] != "admin" {
		t.Fatalf("login answer %v", m)
	}
	if after := c.cookie(sessionCookie); after == nil || len(after.Value) != 43 || e.s.sess.len() != 1 {
		t.Fatalf("login did not start one session with a 256-bit id: %v, %d stored", after, e.s.sess.len())
	}
	c.csrf = m["csrf_token"].(string)
	st, m = c.api(http.MethodGet, "/api/v1/system", nil)
	wantStatus(t, "system", st, http.StatusOK, m)
	board := m["board"].(map[string]any)
	if m["version"] != "v0.1.0-test" || m["uptime_s"] != float64(93784) || m["store_bytes"] != float64(32768) ||
		m["data_free_bytes"] != float64(5<<30) || m["media_clock_lost"] != float64(0) || board["name"] != "sim" || len(board["ports"].([]any)) != 3 {
		t.Fatalf("system = %v", m)
	}
	if p := board["ports"].([]any)[1].(map[string]any); p["name"] != "fxo1" || p["kind"] != "fxo" || p["chip"] != "si3050-sim" || p["state"] != "ok, on-hook, battery" {
		t.Fatalf("port = %v", p)
	}
	st, m = c.api(http.MethodPost, "/api/v1/logout", nil)
	wantStatus(t, "logout", st, http.StatusOK, m)
	st, m = c.api(http.MethodGet, "/api/v1/system", nil)
	wantStatus(t, "system after logout", st, http.StatusUnauthorized, m)
	if n := e.s.sess.len(); n != 0 {
		t.Fatalf("%d sessions left after logout", n)
	}
}

func TestLoginLogoutPages(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	rec := c.get("/users")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login?next=%2Fusers" {
		t.Fatalf("GET /users without session = %d %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = c.getURL("/login?next=%2Fusers")
	wantStatus(t, "login page", rec.Code, http.StatusOK, rec.Body)
	c.csrf = c.session()["csrf_token"].(string)
	rec = c.form("/login", url.Values{"login": {"root"}, "password": {"nope-nope"}, "next": {"/users"}})
	wantStatus(t, "wrong password", rec.Code, http.StatusUnauthorized, rec.Body)
	if !strings.Contains(rec.Body.String(), "Wrong login name or password.") {
		t.Fatalf("failed login page lacks the message:\n%s", rec.Body)
	}
	rec = c.form("/login", url.Values{"login": {"root"}, "password": {"root-password"}, "next": {"//evil.example/"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Fatalf("login with a foreign next = %d %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = c.get("/")
	wantStatus(t, "dashboard", rec.Code, http.StatusOK, rec.Body)
	for _, want := range []string{"System overview", "v0.1.0-test", "1d 02:03:04", "FXO 1", "working, on hook, line voltage present", "out of service: si3050: fxo2", "si3050-sim", "5.0 GiB", `href="/users"`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	c.csrf = c.session()["csrf_token"].(string)
	rec = c.form("/logout", nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
		t.Fatalf("logout = %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := c.get("/"); rec.Code != http.StatusSeeOther {
		t.Fatalf("GET / after logout = %d", rec.Code)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	c.login("root", "root-password")
	other := e.client(t)
	other.session()
	newUser := map[string]any{"login": "bob", "role": "agent", "password": "Kettle-Drum-42"}
	for _, tc := range []struct {
		name, token string
	}{
		{"missing", ""},
		{"wrong", "AAAA" + c.csrf[4:]},
		{"another session's", other.csrf},
	} {
		saved := c.csrf
		c.csrf = tc.token
		st, m := c.api(http.MethodPost, "/api/v1/users", newUser)
		wantStatus(t, tc.name+" token, API", st, http.StatusForbidden, m)
		st, m = c.api(http.MethodDelete, "/api/v1/users/root", nil)
		wantStatus(t, tc.name+" token, API delete", st, http.StatusForbidden, m)
		rec := c.form("/users", url.Values{"login": {"bob"}, "role": {"agent"}, "password": {"Kettle-Drum-42"},
			"password2": {"Kettle-Drum-42"}, csrfField: {tc.token}})
		wantStatus(t, tc.name+" token, page", rec.Code, http.StatusForbidden, rec.Body)
		rec = c.form("/logout", url.Values{csrfField: {tc.token}})
		wantStatus(t, tc.name+" token, logout", rec.Code, http.StatusForbidden, rec.Body)
		c.csrf = saved
	}
	// Logging in needs a token too (login CSRF).
	anon := e.client(t)
	st, m := anon.api(http.MethodPost, "/api/v1/login", map[string]string{"login": "root", "password": "root-password"})
	wantStatus(t, "login without session", st, http.StatusForbidden, m)
	if n, _ := e.users.Count(context.Background()); n != 1 {
		t.Fatalf("a refused request changed the users: %d", n)
	}
	st, m = c.api(http.MethodPost, "/api/v1/users", newUser)
	wantStatus(t, "right token", st, http.StatusCreated, m)
}

// TestLoginThrottle: five failures are free, then the delay doubles, and a
// success clears it.
func TestLoginThrottle(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	c.session()
	try := func(pw string) (int, map[string]any) {
		return c.api(http.MethodPost, "/api/v1/login", map[string]string{"login": "root", "password": pw})
	}
	for i := range loginFree {
		st, m := try("bad-password")
		wantStatus(t, fmt.Sprint("failure ", i+1), st, http.StatusUnauthorized, m)
	}
	for _, delay := range []int{1, 2, 4, 8} {
		req := httptestLogin(c, "root-password")
		wantStatus(t, fmt.Sprint("during the ", delay, " s delay"), req.Code, http.StatusTooManyRequests, req.Body)
		if ra := req.Header().Get("Retry-After"); ra != fmt.Sprint(delay) {
			t.Fatalf("Retry-After %q, want %d", ra, delay)
		}
		e.clock.advance(time.Duration(delay)*time.Second - time.Millisecond)
		st, m := try("root-password")
		wantStatus(t, "just before the delay ends", st, http.StatusTooManyRequests, m)
		e.clock.advance(time.Millisecond)
		st, m = try("bad-password")
		wantStatus(t, "after the delay", st, http.StatusUnauthorized, m)
	}
	// Another address is not affected.
	o := e.client(t)
	o.addr = "192.0.2.11:5"
	o.login("root", "root-password")
	// The cap: never more than throttleLimit.
	for range 10 {
		e.clock.advance(throttleLimit)
		try("bad-password")
	}
	if d := e.s.loginThr.wait("192.0.2.10"); d > throttleLimit || d < throttleLimit/2 {
		t.Fatalf("delay after many failures %v, want capped at %v", d, throttleLimit)
	}
	e.clock.advance(throttleLimit)
	st, m := try("root-password")
	wantStatus(t, "login after the capped delay", st, http.StatusOK, m)
	c.session()
	st, m = try("bad-password")
	wantStatus(t, "first failure after a success", st, http.StatusUnauthorized, m)
}

func httptestLogin(c *client, pw string) *recorder {
	c.t.Helper()
	req := newJSONRequest(http.MethodPost, "/api/v1/login", fmt.Sprintf(`{"login":"root","password":%q}`, pw))
	req.Header.Set(csrfHeader, c.csrf)
	return c.do(req)
}

func TestRoles(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	e.users.add(t, "sue", RoleSupervisor, "sue-password")
	e.users.add(t, "ann", RoleAgent, "ann-password")
	anon := e.client(t)
	st, m := anon.api(http.MethodGet, "/api/v1/users", nil)
	wantStatus(t, "anonymous users list", st, http.StatusUnauthorized, m)
	for _, tc := range []struct{ login, pw, text string }{
		{"sue", "sue-password", "Supervisor desk"},
		{"ann", "ann-password", "Agent desk"},
	} {
		c := e.client(t)
		c.login(tc.login, tc.pw)
		for _, r := range []struct{ method, path string }{
			{http.MethodGet, "/api/v1/users"},
			{http.MethodPost, "/api/v1/users"},
			{http.MethodGet, "/api/v1/users/root"},
			{http.MethodPut, "/api/v1/users/" + tc.login},
			{http.MethodDelete, "/api/v1/users/root"},
		} {
			st, m := c.api(r.method, r.path, map[string]any{"role": "admin"})
			wantStatus(t, tc.login+" "+r.method+" "+r.path, st, http.StatusForbidden, m)
		}
		if rec := c.get("/users"); rec.Code != http.StatusForbidden {
			t.Fatalf("%s GET /users page = %d", tc.login, rec.Code)
		}
		rec := c.form("/users/root/delete", nil)
		wantStatus(t, tc.login+" delete page", rec.Code, http.StatusForbidden, rec.Body)
		st, m := c.api(http.MethodGet, "/api/v1/system", nil)
		wantStatus(t, tc.login+" system", st, http.StatusOK, m)
		rec = c.get("/")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), tc.text) || strings.Contains(rec.Body.String(), `href="/users"`) {
			t.Fatalf("%s home page: %d, want %q and no users link:\n%s", tc.login, rec.Code, tc.text, rec.Body)
		}
	}
	if u, _ := e.users.Get(context.Background(), "root"); u.Role != RoleAdmin {
		t.Fatal("a refused request changed root")
	}
	// A role change applies to existing sessions at once.
	c := e.client(t)
	c.login("ann", "ann-password")
	a := e.client(t)
	a.login("root", "root-password")
	st, m = a.api(http.MethodPut, "/api/v1/users/ann", map[string]any{"role": "admin"})
	wantStatus(t, "promote ann", st, http.StatusOK, m)
	st, m = c.api(http.MethodGet, "/api/v1/users", nil)
	wantStatus(t, "ann after promotion", st, http.StatusOK, m)
	st, m = a.api(http.MethodPut, "/api/v1/users/ann", map[string]any{"disabled": true})
	wantStatus(t, "disable ann", st, http.StatusOK, m)
	st, m = c.api(http.MethodGet, "/api/v1/system", nil)
	wantStatus(t, "disabled ann", st, http.StatusUnauthorized, m)
	st, m = c.api(http.MethodPost, "/api/v1/login", map[string]string{"login": "ann", "password": "ann-password"})
	if st != http.StatusForbidden && st != http.StatusUnauthorized {
		t.Fatalf("disabled user logged in: %d %v", st, m)
	}
}

func TestUsersCRUDAndValidation(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	c.login("root", "root-password")
	ok := map[string]any{"login": "bob", "display_name": "鲍勃", "role": "agent", "password": "Kettle-Drum-42"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		body  any
		code  int
		field string
	}{
		{"no login", with("login", nil), 400, "login"},
		{"empty login", with("login", ""), 400, "login"},
		{"upper case login", with("login", "Bob"), 400, "login"},
		{"login with space", with("login", "bo b"), 400, "login"},
		{"login starting with a dot", with("login", ".bob"), 400, "login"},
		{"long login", with("login", strings.Repeat("b", 33)), 400, "login"},
		{"control in name", with("display_name", "a\x07b"), 400, "display_name"},
		{"long name", with("display_name", strings.Repeat("名", 65)), 400, "display_name"},
		{"no role", with("role", nil), 400, "role"},
		{"bad role", with("role", "boss"), 400, "role"},
		{"no password", with("password", nil), 400, "password"},
		{"short password", with("password", "1234567"), 400, "password"},
		{"long password", with("password", strings.Repeat("p", 129)), 400, "password"},
		{"unknown field", with("admin", true), 400, "admin"},
		{"wrong type", with("disabled", "yes"), 400, "disabled"},
		{"duplicate", with("login", "root"), 409, "login"},
	} {
		st, m := c.api(http.MethodPost, "/api/v1/users", tc.body)
		wantStatus(t, tc.name, st, tc.code, m)
		wantField(t, tc.name, m, tc.field)
	}
	st, m := c.api(http.MethodPost, "/api/v1/users", "{not json")
	wantStatus(t, "broken JSON", st, http.StatusBadRequest, m)
	st, m = c.api(http.MethodPost, "/api/v1/users", ok)
	wantStatus(t, "create", st, http.StatusCreated, m)
	if m["login"] != "bob" || m["display_name"] != "鲍勃" || m["role"] != "agent" || m["disabled"] != false {
		t.Fatalf("created %v", m)
	}
	st, m = c.api(http.MethodGet, "/api/v1/users/bob", nil)
	wantStatus(t, "get", st, http.StatusOK, m)
	st, m = c.api(http.MethodGet, "/api/v1/users/nobody", nil)
	wantStatus(t, "get missing", st, http.StatusNotFound, m)
	st, m = c.api(http.MethodPut, "/api/v1/users/bob", map[string]any{"login": "robert"})
	wantStatus(t, "rename", st, http.StatusBadRequest, m)
	wantField(t, "rename", m, "login")
	st, m = c.api(http.MethodPut, "/api/v1/users/bob", map[string]any{"role": "supervisor", "password": "short"})
	wantStatus(t, "short new password", st, http.StatusBadRequest, m)
	wantField(t, "short new password", m, "password")
	st, m = c.api(http.MethodPut, "/api/v1/users/bob", map[string]any{"role": "supervisor", "password": "Kettle-Drum-43"})
	wantStatus(t, "update", st, http.StatusOK, m)
	if m["role"] != "supervisor" || m["display_name"] != "鲍勃" {
		t.Fatalf("updated %v", m)
	}
	b := e.client(t)
	b.login("bob", "Kettle-Drum-43")
	rec := c.do(newJSONRequest(http.MethodGet, "/api/v1/users", ""))
	if strings.Contains(rec.Body.String(), "argon2") || strings.Contains(strings.ToLower(rec.Body.String()), "hash") {
		t.Fatalf("user list leaks password hashes: %s", rec.Body)
	}
	st, m = c.api(http.MethodGet, "/api/v1/users", nil)
	if list := m["users"].([]any); st != 200 || len(list) != 2 {
		t.Fatalf("list = %d %v", st, m)
	}
	st, m = c.api(http.MethodDelete, "/api/v1/users/bob", nil)
	wantStatus(t, "delete", st, http.StatusNoContent, m)
	st, m = b.api(http.MethodGet, "/api/v1/system", nil)
	wantStatus(t, "deleted user's session", st, http.StatusUnauthorized, m)
	oldToken := b.csrf
	if s := b.session(); s["authenticated"] != false || b.csrf == oldToken {
		t.Fatalf("deleted user's client got %v, want a fresh anonymous session", s)
	}
	st, m = c.api(http.MethodDelete, "/api/v1/users/bob", nil)
	wantStatus(t, "delete again", st, http.StatusNotFound, m)
}

// TestStoreErrors checks that sentinels wrapped by an adapter become the
// right status and field.
func TestStoreErrors(t *testing.T) {
	for _, tc := range []struct {
		err   error
		code  int
		field string
	}{
		{fmt.Errorf("store: %w: login: taken", ErrConflict), 409, "login"},
		{fmt.Errorf("store: %w: display_name: too long", ErrInvalid), 400, "display_name"},
		{fmt.Errorf("store: %w", ErrInvalid), 400, ""},
		{fmt.Errorf("store: %w: role", ErrInvalid), 400, "role"},
		{fmt.Errorf("%w: login \"x\"", ErrNotFound), 404, "login"},
		// The firmware adapter's shape: webui sentinel, then the store's text.
		{fmt.Errorf("%w: %w", ErrInvalid, errors.New("store: invalid user: display_name: must be at most 64 characters")), 400, "display_name"},
		{fmt.Errorf("%w: %w", ErrInvalid, errors.New("store: invalid user: password_hash: must be a non-empty encoded hash")), 400, "password"},
		{fmt.Errorf("%w: %w", ErrConflict, errors.New(`store: user "bob" already exists: conflict`)), 409, "login"},
		{errors.New("disk on fire"), 500, ""},
	} {
		f := storeFailure(tc.err)
		if f.status != tc.code || f.field != tc.field {
			t.Errorf("storeFailure(%v) = %d %q, want %d %q", tc.err, f.status, f.field, tc.code, tc.field)
		}
	}
}

func TestLastAdmin(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	e.users.add(t, "off", RoleAdmin, "off-password")
	off, _ := e.users.Get(context.Background(), "off")
	off.Disabled = true
	e.users.Update(context.Background(), off)
	c := e.client(t)
	c.login("root", "root-password")
	for _, tc := range []struct {
		method string
		body   any
		field  string
	}{
		{http.MethodDelete, nil, "login"},
		{http.MethodPut, map[string]any{"role": "agent"}, "role"},
		{http.MethodPut, map[string]any{"disabled": true}, "disabled"},
	} {
		st, m := c.api(tc.method, "/api/v1/users/root", tc.body)
		wantStatus(t, tc.method+" last admin", st, http.StatusConflict, m)
		wantField(t, tc.method+" last admin", m, tc.field)
	}
	rec := c.form("/users/root/delete", nil)
	wantStatus(t, "delete page last admin", rec.Code, http.StatusConflict, rec.Body)
	// A disabled admin does not count; once enabled, root may step down.
	st, m := c.api(http.MethodPut, "/api/v1/users/off", map[string]any{"disabled": false})
	wantStatus(t, "enable second admin", st, http.StatusOK, m)
	st, m = c.api(http.MethodPut, "/api/v1/users/root", map[string]any{"role": "supervisor"})
	wantStatus(t, "demote with another admin", st, http.StatusOK, m)
}

func TestUsersPages(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	c.login("root", "root-password")
	rec := c.get("/users")
	wantStatus(t, "users page", rec.Code, http.StatusOK, rec.Body)
	if !strings.Contains(rec.Body.String(), ">root</a>") {
		t.Fatalf("users page lacks root:\n%s", rec.Body)
	}
	create := url.Values{"login": {"Bad Name"}, "display_name": {"Bob"}, "role": {"agent"},
		"password": {"Kettle-Drum-42"}, "password2": {"Kettle-Drum-42"}}
	rec = c.form("/users", create)
	wantStatus(t, "create with a bad login", rec.Code, http.StatusBadRequest, rec.Body)
	if !strings.Contains(rec.Body.String(), `<label class="bad">Login name`) || !strings.Contains(rec.Body.String(), `value="Bob"`) {
		t.Fatalf("form does not mark the login field or lost the input:\n%s", rec.Body)
	}
	create.Set("login", "bob")
	rec = c.form("/users", create)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/users?msg=created" {
		t.Fatalf("create = %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	rec = c.get("/users/bob")
	wantStatus(t, "edit page", rec.Code, http.StatusOK, rec.Body)
	rec = c.form("/users/bob", url.Values{"display_name": {"Bobby"}, "role": {"supervisor"}})
	wantStatus(t, "edit", rec.Code, http.StatusSeeOther, rec.Body)
	rec = c.form("/users/bob/disable", nil)
	wantStatus(t, "disable", rec.Code, http.StatusSeeOther, rec.Body)
	u, _ := e.users.Get(context.Background(), "bob")
	if u.DisplayName != "Bobby" || u.Role != RoleSupervisor || !u.Disabled {
		t.Fatalf("bob after edits: %+v", u)
	}
	rec = c.form("/users/bob/enable", nil)
	wantStatus(t, "enable", rec.Code, http.StatusSeeOther, rec.Body)
	rec = c.form("/users/root", url.Values{"display_name": {"R"}, "role": {"agent"}})
	wantStatus(t, "demote last admin by page", rec.Code, http.StatusConflict, rec.Body)
	rec = c.form("/users/bob/delete", nil)
	wantStatus(t, "delete", rec.Code, http.StatusSeeOther, rec.Body)
	if _, err := e.users.Get(context.Background(), "bob"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob after delete: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, Config{SessionIdle: 10 * time.Minute, SessionMax: time.Hour})
	e.users.add(t, "root", RoleAdmin, "root-password")
	c := e.client(t)
	c.login("root", "root-password")
	for range 5 { // used every 9 minutes: stays alive by idle rules
		e.clock.advance(9 * time.Minute)
		st, m := c.api(http.MethodGet, "/api/v1/system", nil)
		wantStatus(t, "active session", st, http.StatusOK, m)
	}
	e.clock.advance(9 * time.Minute) // 54 min
	st, _ := c.api(http.MethodGet, "/api/v1/system", nil)
	wantStatus(t, "at 54 min", st, http.StatusOK, nil)
	e.clock.advance(7 * time.Minute) // 61 min: past the absolute limit
	st, m := c.api(http.MethodGet, "/api/v1/system", nil)
	wantStatus(t, "past the absolute limit", st, http.StatusUnauthorized, m)
	c.login("root", "root-password")
	e.clock.advance(10*time.Minute + time.Second)
	st, m = c.api(http.MethodGet, "/api/v1/system", nil)
	wantStatus(t, "idle too long", st, http.StatusUnauthorized, m)
}

func TestHeadersAndCookies(t *testing.T) {
	for _, secure := range []bool{false, true} {
		e := newEnv(t, Config{})
		e.users.add(t, "root", RoleAdmin, "root-password")
		c := e.client(t)
		c.tls = secure
		rec := c.get("/login")
		h := rec.Header()
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("CSP %q", csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("frame/nosniff headers: %v", h)
		}
		prefix := ""
		if secure {
			prefix = "__Host-"
		}
		cookieOf := func(rec *recorder, name string) *http.Cookie {
			for _, k := range rec.Result().Cookies() {
				if k.Name == prefix+name {
					return k
				}
			}
			t.Fatalf("no cookie %s%s (TLS %v) in %v", prefix, name, secure, rec.Result().Cookies())
			return nil
		}
		ck := cookieOf(rec, csrfCookie)
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure != secure || ck.Domain != "" {
			t.Errorf("csrf cookie %+v (TLS %v)", ck, secure)
		}
		c.csrf = csrfFromPage(t, rec.Body.String())
		rec = c.form("/login", url.Values{"login": {"root"}, "password": {"root-password"}})
		wantStatus(t, "login", rec.Code, http.StatusSeeOther, rec.Body)
		ck = cookieOf(rec, sessionCookie)
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure != secure || ck.Domain != "" {
			t.Errorf("session cookie %+v (TLS %v)", ck, secure)
		}
		for _, p := range []string{"/static/app.css", "/static/app.js"} {
			rec := c.get(p)
			if rec.Code != http.StatusOK || rec.Body.Len() == 0 || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s = %d, %d bytes", p, rec.Code, rec.Body.Len())
			}
		}
		if rec := c.get("/static/"); rec.Code != http.StatusNotFound {
			t.Errorf("GET /static/ = %d, want 404 (no listing)", rec.Code)
		}
		if rec := c.get("/no/such/page"); rec.Code != http.StatusNotFound {
			t.Errorf("unknown page = %d", rec.Code)
		}
		if st, m := c.api(http.MethodGet, "/api/v1/nothing", nil); st != http.StatusNotFound || m["error"] == nil {
			t.Errorf("unknown API path = %d %v", st, m)
		}
	}
}

// FuzzErrField checks that whatever an adapter writes, errField yields ""
// or one of the API's field names, and finds a field placed right after the
// sentinel.
func FuzzErrField(f *testing.F) {
	for _, s := range []string{"login: too long", "store: invalid user: role: bad", "", ":::", "password_hash", "x: disabled y"} {
		f.Add(s)
	}
	api := map[string]bool{"": true}
	for _, v := range userFields {
		api[v] = true
	}
	f.Fuzz(func(t *testing.T, text string) {
		err := fmt.Errorf("%w: %s", ErrInvalid, text)
		got := errField(err, ErrInvalid)
		if !api[got] {
			t.Fatalf("errField(%q) = %q, not an API field", err, got)
		}
		if got := errField(fmt.Errorf("%w: role: %s", ErrInvalid, text), ErrInvalid); got != "role" {
			t.Fatalf("errField with role first = %q", got)
		}
		if got := errField(errors.New(text), ErrInvalid); got != "" && strings.Contains(text, ErrInvalid.Error()) == false {
			t.Fatalf("errField without the sentinel = %q", got)
		}
	})
}
