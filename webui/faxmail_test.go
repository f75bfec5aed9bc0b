package webui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const faxMailSettings = `{"ident":"+86 25 8456","numbers":["7001","7002"],"trunks":["pstn"],"mail":{"7001":"sales@example.com"}}`

// The fax mail map page: administrators see a line per fax number, fax
// trunk and "every other fax" with its address, and saving changes only
// the settings' mail map (an empty address drops its line); a bad address
// is refused beside its field and nothing is saved; a supervisor, who
// may read faxes but not change their settings, gets 403.
func TestFaxMailPage(t *testing.T) {
	m := &memFax{settings: json.RawMessage(faxMailSettings)}
	e := newEnv(t, Config{Fax: m})
	e.users.add(t, "root", RoleAdmin, "root-password")
	e.users.add(t, "sup", RoleSupervisor, "sup-password")
	sup := e.client(t)
	sup.login("sup", "sup-password")
	if r := sup.get("/fax/mail"); r.Code != http.StatusForbidden {
		t.Fatalf("supervisor GET: %d", r.Code)
	}
	if r := sup.form("/fax/mail", url.Values{"mail.*": {"x@example.com"}}); r.Code != http.StatusForbidden {
		t.Fatalf("supervisor POST: %d", r.Code)
	}
	if r := sup.get("/fax"); r.Code != http.StatusOK || strings.Contains(r.Body.String(), `href="/fax/mail"`) {
		t.Fatalf("the supervisor's fax page links the mail map: %d", r.Code)
	}
	root := e.client(t)
	root.login("root", "root-password")
	if r := root.get("/fax"); !strings.Contains(r.Body.String(), `href="/fax/mail"`) {
		t.Fatal("the administrator's fax page does not link the mail map")
	}
	r := root.get("/fax/mail")
	body := r.Body.String()
	for _, want := range []string{`name="mail.7001" value="sales@example.com"`, `name="mail.7002" value=""`, `name="mail.pstn" value=""`,
		`name="mail.*" value=""`, "Sent to 7002", "Coming in on pstn", "Every other fax"} {
		if r.Code != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("the page lacks %s: %d\n%s", want, r.Code, body)
		}
	}
	r = root.form("/fax/mail", url.Values{"mail.7001": {""}, "mail.7002": {" fax2@example.com "}, "mail.pstn": {"line@example.com"},
		"mail.*": {"all@example.com"}, "mail.9999": {"ignored@example.com"}})
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/fax/mail?msg=saved" {
		t.Fatalf("save: %d %s", r.Code, r.Body)
	}
	var got map[string]any
	if err := json.Unmarshal(m.settings, &got); err != nil {
		t.Fatal(err)
	}
	want := `{"ident":"+86 25 8456","mail":{"*":"all@example.com","7002":"fax2@example.com","pstn":"line@example.com"},"numbers":["7001","7002"],"trunks":["pstn"]}`
	if b, _ := json.Marshal(got); string(b) != want {
		t.Fatalf("saved %s\nwant  %s", b, want)
	}
	saved := string(m.settings)
	r = root.form("/fax/mail", url.Values{"mail.7001": {"not an address"}, "mail.7002": {"fax2@example.com"}})
	body = r.Body.String()
	if r.Code != http.StatusBadRequest || !strings.Contains(body, "not an address is not an e-mail address") ||
		!strings.Contains(body, `<td class="bad"><input type="email" name="mail.7001" value="not an address"`) {
		t.Fatalf("a bad address: %d\n%s", r.Code, body)
	}
	if string(m.settings) != saved {
		t.Fatalf("a refused form changed the settings: %s", m.settings)
	}
	// The service's own refusal (here: any address holding "bad") shows too.
	r = root.form("/fax/mail", url.Values{"mail.*": {"bad@example.com"}})
	if r.Code != http.StatusBadRequest || !strings.Contains(r.Body.String(), "The fax was refused") || string(m.settings) != saved {
		t.Fatalf("refused by the service: %d %s", r.Code, r.Body)
	}
	// Without fax the page answers 503, after the permission check.
	e2 := newEnv(t, Config{})
	e2.users.add(t, "root", RoleAdmin, "root-password")
	e2.users.add(t, "sup", RoleSupervisor, "sup-password")
	root2, sup2 := e2.client(t), e2.client(t)
	root2.login("root", "root-password")
	sup2.login("sup", "sup-password")
	if r := root2.get("/fax/mail"); r.Code != http.StatusServiceUnavailable {
		t.Fatalf("no fax, administrator: %d", r.Code)
	}
	if r := sup2.get("/fax/mail"); r.Code != http.StatusForbidden {
		t.Fatalf("no fax, supervisor: %d", r.Code)
	}
}

// TestBrowserFaxMail: an administrator follows the fax page's link to the
// mail map in the box's default language, fills it in Chromium and saves;
// the page says so and the settings hold the map; a bad address is shown
// refused.
func TestBrowserFaxMail(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	m := &memFax{settings: json.RawMessage(faxMailSettings)}
	e := newEnv(t, Config{Fax: m, Addr: "127.0.0.1:0"})
	e.users.add(t, "root", RoleAdmin, "root-password")
	box := startServer(t, e)
	b := startBrowser(t, "--lang=zh-CN", "--accept-lang=zh-CN")
	b.navigate(box + "/lang/zh-CN?next=/login")
	b.submitForm("/login", map[string]string{"login": "root", "password": "root-password"})
	b.navigate(box + "/fax")
	b.eval(`document.querySelector('a[href="/fax/mail"]').click()`)
	b.waitLoad()
	if got := b.evalString("document.querySelector('h1').textContent"); got != "传真转邮件" {
		t.Fatalf("the mail map page's title: %q (at %s)", got, b.evalString("location.pathname"))
	}
	if got := b.evalString(`document.querySelector('tbody tr:last-child td').textContent.trim()`); got != "其他所有传真" {
		t.Fatalf("the last line: %q", got)
	}
	b.submitForm("/fax/mail", map[string]string{"mail.7002": "fax2@example.com", "mail.*": "all@example.com"})
	if got := b.evalString(`(document.querySelector('p.notice') || {textContent: ''}).textContent`); got != "传真邮件设置已保存。" {
		t.Fatalf("after saving: %q", got)
	}
	if got := b.evalString(`document.querySelector('input[name="mail.*"]').value`); got != "all@example.com" {
		t.Fatalf("the saved address shows as %q", got)
	}
	var st struct{ Mail map[string]string }
	json.Unmarshal(m.settings, &st)
	if len(st.Mail) != 3 || st.Mail["7002"] != "fax2@example.com" || st.Mail["*"] != "all@example.com" || st.Mail["7001"] != "sales@example.com" {
		t.Fatalf("the settings' map: %v", st.Mail)
	}
	b.submitForm("/fax/mail", map[string]string{"mail.pstn": "line at example"})
	if got := b.evalString(`(document.querySelector('p.error') || {textContent: ''}).textContent`); !strings.Contains(got, "不是有效的邮件地址") {
		t.Fatalf("a bad address: %q", got)
	}
}
