package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// TestAnonymousFloodLeavesLoginWorking: a client requesting the login page
// in a loop without cookies must not make a real administrator's login
// fail. Before the signed double-submit token, every cookieless GET took a
// slot in a pool of 1024 anonymous sessions, so 1,100 of them between the
// administrator's GET and POST dropped the administrator's session and the
// login failed on its CSRF token (4/4 here).
func TestAnonymousFloodLeavesLoginWorking(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	flood := func(n int) (limited int) {
		for range n { // about 1,000 requests a second, as the probe sent
			e.clock.advance(time.Millisecond)
			if rec := e.rawGet("198.51.100.7:40000", "/login"); rec.Code == http.StatusTooManyRequests {
				limited++
			}
		}
		return limited
	}
	for i := range 4 {
		admin := e.client(t)
		admin.addr = fmt.Sprintf("192.0.2.%d:5000", 20+i)
		rec := admin.get("/login")
		wantStatus(t, "login page", rec.Code, http.StatusOK, rec.Body)
		admin.csrf = csrfFromPage(t, rec.Body.String())
		if limited := flood(1100); limited < 900 {
			t.Errorf("flood %d: only %d of 1100 requests refused with 429", i, limited)
		}
		rec = admin.form("/login", url.Values{"login": {"root"}, "password": {"root-password"}, "next": {"/users"}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/users" {
			t.Fatalf("login %d/4 during the flood = %d %q:\n%s", i+1, rec.Code, rec.Header().Get("Location"), rec.Body)
		}
		e.clock.advance(10 * time.Second)
	}
	if n := e.s.sess.len(); n != 4 {
		t.Fatalf("%d sessions stored; want only the 4 logins'", n)
	}
	if n := e.s.limit.len(); n > 5 {
		t.Fatalf("rate table holds %d addresses", n)
	}
}

// TestRateLimit: requests without a session are limited per address (IPv6
// per /64), logged-in users are not, the bucket refills with time and the
// table stays bounded whatever the number of addresses.
func TestRateLimit(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	admin := e.client(t)
	admin.addr = "192.0.2.50:1"
	admin.login("root", "root-password")

	get := func(addr string) *recorder { return e.rawGet(addr, "/api/v1/health") }
	for i := range anonBurst - 2 { // the administrator's login took two
		if rec := get("192.0.2.50:2"); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst = %d", i, rec.Code)
		}
	}
	rec := get("192.0.2.50:3")
	wantStatus(t, "past the burst", rec.Code, http.StatusTooManyRequests, rec.Body)
	if rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
	// The logged-in administrator on the same address is not limited.
	for range 20 {
		st, m := admin.api(http.MethodGet, "/api/v1/system", nil)
		wantStatus(t, "admin on a limited address", st, http.StatusOK, m)
	}
	if rec := get("192.0.2.51:1"); rec.Code != http.StatusOK {
		t.Fatalf("another address = %d", rec.Code)
	}
	e.clock.advance(time.Second)
	for range anonRate {
		if rec := get("192.0.2.50:4"); rec.Code != http.StatusOK {
			t.Fatalf("after a second's refill = %d", rec.Code)
		}
	}
	if rec := get("192.0.2.50:4"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("beyond the refill = %d", rec.Code)
	}
	// IPv6 addresses of one /64 share a bucket.
	for i := range anonBurst {
		get(fmt.Sprintf("[2001:db8:1:2::%x]:5", i+1))
	}
	if rec := get("[2001:db8:1:2:ffff::1]:5"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("a fresh address in a drained /64 = %d", rec.Code)
	}
	// Many addresses: the table stays bounded.
	for i := range maxRateKeys + 500 {
		get(fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255))
	}
	if n := e.s.limit.len(); n > maxRateKeys {
		t.Fatalf("rate table grew to %d, bound %d", n, maxRateKeys)
	}
}

// TestAnonymousCSRF: the anonymous token must come back both in the cookie
// and in the form or header, carry this boot's signature and be unexpired.
func TestAnonymousCSRF(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	other := newEnv(t, Config{}) // another boot: another key
	creds := map[string]string{"login": "root", "password": "root-password"}
	try := func(cookie, header string) int {
		req := newJSONRequest(http.MethodPost, "/api/v1/login", `{"login":"root","password":"root-password"}`)
		req.RemoteAddr = "192.0.2.60:1"
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: csrfCookie, Value: cookie})
		}
		if header != "" {
			req.Header.Set(csrfHeader, header)
		}
		rec := httptest.NewRecorder()
		e.s.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	good := e.s.csrf.mint()
	foreign := other.s.csrf.mint()
	tampered := []byte(good)
	tampered[3] ^= 1
	for _, tc := range []struct {
		name           string
		cookie, header string
	}{
		{"no cookie", "", good},
		{"no header", good, ""},
		{"cookie and header differ", good, e.s.csrf.mint()},
		{"another boot's key", foreign, foreign},
		{"tampered", string(tampered), string(tampered)},
		{"not a token", "x", "x"},
	} {
		if st := try(tc.cookie, tc.header); st != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tc.name, st)
		}
	}
	if st := try(good, good); st != http.StatusOK {
		t.Fatalf("matching signed pair = %d", st)
	}
	// Expiry: a page shown now keeps working for hours, not for ever.
	old := e.s.csrf.mint()
	e.clock.advance(anonCSRFTTL - time.Minute)
	if st := try(old, old); st != http.StatusOK {
		t.Fatalf("token near its end = %d", st)
	}
	e.clock.advance(2 * time.Minute)
	if st := try(old, old); st != http.StatusForbidden {
		t.Fatalf("expired token = %d", st)
	}
	// A page renews a token that is about to expire.
	c := e.client(t)
	c.session()
	first := c.csrf
	c.session()
	if c.csrf != first {
		t.Fatal("a fresh token was replaced on the next page")
	}
	e.clock.advance(anonCSRFTTL - anonCSRFRenew/2)
	c.session()
	if c.csrf == first {
		t.Fatal("a token about to expire was not renewed")
	}
	st, m := c.api(http.MethodPost, "/api/v1/login", creds)
	wantStatus(t, "login with the renewed token", st, http.StatusOK, m)
}

// TestSetupNotHeldOutByOthers: wrong setup codes from other addresses do
// not delay the installer. Before, a budget shared by all addresses was
// exhausted by a guesser and the installer's right code got 429 (25/25).
func TestSetupNotHeldOutByOthers(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	for round := range 5 {
		code, _ := e.s.IssueSetupCode(ctx)
		for i := range 60 {
			attacker := e.client(t)
			attacker.addr = fmt.Sprintf("203.0.113.%d:1", i%4)
			attacker.session()
			st, _ := attacker.api(http.MethodPost, "/api/v1/setup",
				map[string]string{"code": "0000-0001", "login": "admin", "password": "whatever-password"})
			if st != http.StatusForbidden && st != http.StatusTooManyRequests {
				t.Fatalf("attacker's guess = %d", st)
			}
		}
		installer := e.client(t)
		installer.addr = "192.0.2.70:1"
		installer.session()
		st, m := installer.api(http.MethodPost, "/api/v1/setup",
			map[string]string{"code": code, "login": "admin", "password": fmt.Sprintf("installer-pass-%d", round)})
		wantStatus(t, fmt.Sprintf("installer's right code, round %d", round+1), st, http.StatusOK, m)
		e.clock.advance(10 * time.Second)
	}
}

// TestSetupCodeBudget: a code takes maxCodeGuesses wrong guesses from all
// addresses together, then is withdrawn even for the right guess; the
// console's passwd-reset (IssueSetupCode) always gives a working new one.
func TestSetupCodeBudget(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	code, _ := e.s.IssueSetupCode(ctx)
	in := setupInput{Code: "0000-0001", Login: "admin", Password: "whatever-password"}
	if code == in.Code {
		in.Code = "0000-0002"
	}
	for i := range maxCodeGuesses {
		addr := fmt.Sprintf("10.1.%d.%d", i/200, i%200)
		if f := e.s.setup(ctx, addr, in); f == nil || f.status != http.StatusForbidden {
			t.Fatalf("wrong guess %d = %v", i, f)
		}
	}
	in.Code = code
	if f := e.s.setup(ctx, "192.0.2.80", in); f == nil || f.key != "err.setup.code" {
		t.Fatalf("right code after the budget = %v, want it withdrawn", f)
	}
	code, _ = e.s.IssueSetupCode(ctx)
	in.Code = code
	if f := e.s.setup(ctx, "192.0.2.80", in); f != nil {
		t.Fatalf("new code from the console = %v", f)
	}
}

// TestLoginAccountDelay: guesses at one account from many addresses are
// limited too. Before, each of 120 addresses had its own five free
// failures, so all 600 guesses were checked; now the account allows
// accountFree and then delays, without locking its owner out.
func TestLoginAccountDelay(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	owner := e.client(t)
	owner.addr = "192.0.2.90:1"
	owner.login("root", "root-password") // the owner's usual desk

	checked, delayed := 0, 0
	for i := range 120 {
		c := e.client(t)
		c.addr = fmt.Sprintf("198.51.100.%d:1", i)
		c.session()
		for range loginFree {
			st, m := c.api(http.MethodPost, "/api/v1/login", map[string]string{"login": "root", "password": "guess-guess"})
			switch {
			case st == http.StatusUnauthorized:
				checked++
			case st == http.StatusTooManyRequests && m["code"] == "err.login.account_wait":
				delayed++
			default:
				t.Fatalf("guess = %d %v", st, m)
			}
		}
	}
	if checked != accountFree || delayed != 600-accountFree {
		t.Fatalf("600 guesses from 120 addresses: %d checked, %d delayed; want %d checked", checked, delayed, accountFree)
	}
	// Unknown names answer the same way.
	for i := range accountFree + 1 {
		c := e.client(t)
		c.addr = fmt.Sprintf("198.51.101.%d:1", i)
		c.session()
		st, m := c.api(http.MethodPost, "/api/v1/login", map[string]string{"login": "nobody", "password": "guess-guess"})
		if want := http.StatusUnauthorized; i == accountFree {
			if st != http.StatusTooManyRequests || m["code"] != "err.login.account_wait" {
				t.Fatalf("unknown name past its budget = %d %v", st, m)
			}
		} else if st != want {
			t.Fatalf("unknown name guess %d = %d", i, st)
		}
	}
	// From a new address the owner waits out the delay, then gets in; the
	// success clears the account's count.
	laptop := e.client(t)
	laptop.addr = "192.0.2.91:1"
	laptop.session()
	rec := httptestLogin(laptop, "root-password")
	wantStatus(t, "owner from a new address during the delay", rec.Code, http.StatusTooManyRequests, rec.Body)
	secs, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > throttleLimit {
		t.Fatalf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
	e.clock.advance(time.Duration(secs) * time.Second)
	laptop.login("root", "root-password")
	guess := func(addr string) (int, map[string]any) {
		c := e.client(t)
		c.addr = addr
		c.session()
		return c.api(http.MethodPost, "/api/v1/login", map[string]string{"login": "root", "password": "guess-guess"})
	}
	st, m := guess("198.51.102.1:1")
	wantStatus(t, "first guess after the owner's success", st, http.StatusUnauthorized, m)
	// Another attack: the owner at the usual desk gets in at once.
	for i := range accountFree {
		guess(fmt.Sprintf("198.51.103.%d:1", i))
	}
	if st, m := guess("198.51.104.1:1"); st != http.StatusTooManyRequests {
		t.Fatalf("account not delayed after the second attack: %d %v", st, m)
	}
	again := e.client(t)
	again.addr = owner.addr
	again.login("root", "root-password")
}

// TestSafeNext: only local paths survive, judged as a browser reads them
// (the WHATWG URL parser strips tabs and newlines, reads backslashes as
// slashes, and takes "//" as another host).
func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/users", "/users"},
		{"/users?x=1", "/users?x=1"},
		{"/users/bob#top", "/users/bob#top"},
		{"/a/b/../c", "/a/b/../c"},
		{"/%2F/evil.example", "/%2F/evil.example"}, // stays a path: browsers do not decode %2F there
		{"/%5Cevil.example", "/%5Cevil.example"},
		{"/lang/zh-CN?next=//evil.example", "/lang/zh-CN?next=//evil.example"}, // checked again there
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"/\\/evil.example", "/"},
		{"\\/evil.example", "/"},
		{"/\t/evil.example", "/"}, // next=/%09/evil.example
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/\t\\evil.example", "/"},
		{"\t//evil.example", "/"},
		{" //evil.example", "/"},
		{"/ /evil.example", "/"},
		{"/\x00/evil.example", "/"},
		{"/\x1f/evil.example", "/"},
		{"/\x7f/evil.example", "/"},
		{"https://evil.example", "/"},
		{"http:evil.example", "/"},
		{"https:/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"JaVaScRiPt:alert(1)", "/"},
		{"data:text/html,x", "/"},
		{"evil.example", "/"},
		{"users", "/"},
		{"%2F%2Fevil.example", "/"},
		{"/a\r\nSet-Cookie: x=1", "/"},
		{"/" + string(make([]byte, 3000)), "/"},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzSafeNext: whatever comes in, what goes out is "/" or a path a
// browser resolves on this host.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/users", "//x", "/\t/x", "/\\x", "http://x", "/%09/x", "/.//x"} {
		f.Add(s)
	}
	boxURL, _ := url.Parse("http://callbox.test/login")
	f.Fuzz(func(t *testing.T, in string) {
		out := safeNext(in)
		if out != "/" && out != in {
			t.Fatalf("safeNext(%q) = %q: changed but not the default", in, out)
		}
		// The browser's view: drop what the WHATWG parser drops, then
		// resolve against the page.
		browser := []byte{}
		for i := 0; i < len(out); i++ {
			switch b := out[i]; b {
			case '\t', '\n', '\r':
			case '\\':
				browser = append(browser, '/')
			default:
				browser = append(browser, b)
			}
		}
		ref, err := url.Parse(string(browser))
		if err != nil {
			t.Fatalf("safeNext(%q) = %q, which does not parse: %v", in, out, err)
		}
		if got := boxURL.ResolveReference(ref); got.Host != boxURL.Host || got.Scheme != boxURL.Scheme {
			t.Fatalf("safeNext(%q) = %q leads to %s", in, out, got)
		}
	})
}
