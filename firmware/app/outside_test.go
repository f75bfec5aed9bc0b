package app

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/firmware/export/dbtest"
	"callbox/firmware/mail/mailtest"
	"callbox/firmware/webhook"
	"callbox/telephony/cc"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/sms"
	"callbox/telephony/sms/modemsim"
	"callbox/telephony/switch/cdr"
)

// tokenCall calls the API with a bearer token, as another system would.
func tokenCall(t *testing.T, base, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestOutsideThroughTheDaemon drives the outside interfaces as a company
// would: an administrator sets the modem, makes an API token and a
// webhook; a system sends SMS with the token and reads the outbox and
// inbox; the webhook gets signed events; the console shows the modem.
func TestOutsideThroughTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the daemon")
	}
	modem, err := modemsim.Start(modemsim.Config{Reports: true})
	if err != nil {
		t.Fatal(err)
	}
	defer modem.Close()
	a, out := newApp(t, Config{})
	start(t, a)
	admin := adminClient(t, a, out)
	base := "http://" + a.WebAddr()

	// Settings: the PIN is never served back, and kept when left out.
	admin.call("PUT", "/api/v1/sms/settings", map[string]any{"port": modem.Path(), "pin": "1234"}, http.StatusOK)
	m := admin.call("PUT", "/api/v1/sms/settings", map[string]any{"port": modem.Path()}, http.StatusOK)
	if m["pin_set"] != true || m["pin"] != nil {
		t.Errorf("sms settings served as %v", m)
	}
	admin.call("PUT", "/api/v1/sms/settings", map[string]any{"port": "COM1"}, http.StatusBadRequest)
	admin.call("PUT", "/api/v1/sms/settings", map[string]any{"port": modem.Path(), "pin": ""}, http.StatusOK)
	eventually(t, 20*time.Second, "the modem ready", func() bool { return a.SMSStatus().State == sms.ModemReady })
	if l := strings.Join(consoleHost{a}.Status(), "\n"); !strings.Contains(l, "sms: modem ready on "+modem.Path()+" (CHINA MOBILE, signal 21)") {
		t.Errorf("console status:\n%s", l)
	}
	m = admin.call("PUT", "/api/v1/mail/settings", map[string]any{"host": "smtp.example.com", "port": 587, "security": "starttls",
		"user": "box", "password": "pw", "from": "box@example.com"}, http.StatusOK)
	if m["password_set"] != true || m["password"] != nil {
		t.Errorf("mail settings served as %v", m)
	}

	// A token for a system: shown once, scoped.
	tok := admin.call("POST", "/api/v1/tokens", map[string]any{"name": "crm", "scopes": []string{"sms:send", "sms:read"}}, http.StatusCreated)
	text, _ := tok["token"].(string)
	if !strings.HasPrefix(text, "cbx_") {
		t.Fatalf("token answer %v", tok)
	}
	list := admin.call("GET", "/api/v1/tokens", nil, http.StatusOK)
	if b, _ := json.Marshal(list); bytes.Contains(b, []byte(text[21:])) || bytes.Contains(b, []byte(`"hash"`)) {
		t.Errorf("token list shows the secret or its hash: %s", b)
	}
	admin.call("PUT", "/api/v1/sms/templates/repair", map[string]any{"text": "您好{name}，工单{order}已派工。"}, http.StatusOK)

	if st, _ := tokenCall(t, base, text, "POST", "/api/v1/sms/send", map[string]any{"to": []string{"13800138000", "+8613900139000"},
		"template": "repair", "vars": map[string]string{"name": "张先生", "order": "1024"}}); st != http.StatusCreated {
		t.Fatalf("send with a token: %d", st)
	}
	for _, c := range []struct {
		method, path, token string
		body                any
		want                int
	}{
		{"GET", "/api/v1/users", text, nil, http.StatusForbidden},
		{"GET", "/api/v1/tokens", text, nil, http.StatusForbidden},
		{"GET", "/api/v1/sms/settings", text, nil, http.StatusForbidden},
		{"GET", "/api/v1/cdr", text, nil, http.StatusForbidden},
		{"POST", "/api/v1/sms/send", "cbx_0011223344556677_" + strings.Repeat("A", 43), map[string]any{"to": []string{"1"}, "text": "x"}, http.StatusUnauthorized},
		{"POST", "/api/v1/sms/send", text, map[string]any{"to": []string{"13800138000"}, "template": "repair"}, http.StatusBadRequest},
		{"GET", "/api/v1/sms/outbox", text, nil, http.StatusOK},
	} {
		if st, m := tokenCall(t, base, c.token, c.method, c.path, c.body); st != c.want {
			t.Errorf("%s %s with a token: %d %v, want %d", c.method, c.path, st, m, c.want)
		}
	}
	eventually(t, 20*time.Second, "both messages delivered", func() bool {
		_, m := tokenCall(t, base, text, "GET", "/api/v1/sms/outbox", nil)
		msgs, _ := m["messages"].([]any)
		n := 0
		for _, x := range msgs {
			if x.(map[string]any)["state"] == "delivered" {
				n++
			}
		}
		return n == 2
	})
	if sub := modem.Submitted(); len(sub) != 2 || sub[0].Msg.Text != "您好张先生，工单1024已派工。" {
		t.Errorf("the network got %+v", sub)
	}
	if err := modem.Receive("+8613900139000", strings.Repeat("收到，谢谢。", 20), 5); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the reply in the inbox", func() bool {
		_, m := tokenCall(t, base, text, "GET", "/api/v1/sms/inbox", nil)
		msgs, _ := m["messages"].([]any)
		return len(msgs) == 1 && msgs[0].(map[string]any)["text"] == strings.Repeat("收到，谢谢。", 20)
	})

	// A revoked token is refused at once.
	admin.call("DELETE", "/api/v1/tokens/"+tok["id"].(string), nil, http.StatusOK)
	if st, _ := tokenCall(t, base, text, "GET", "/api/v1/sms/outbox", nil); st != http.StatusUnauthorized {
		t.Errorf("revoked token: %d", st)
	}

	// A webhook gets the call centre's events, signed.
	var mu sync.Mutex
	var got []ccevent.Event
	var secret string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := webhook.Verify(secret, r.Header, body, time.Now(), time.Minute); err != nil {
			t.Errorf("webhook: %v", err)
		}
		var e ccevent.Event
		_ = json.Unmarshal(body, &e)
		got = append(got, e)
	}))
	defer srv.Close()
	mu.Lock()
	hook := admin.call("POST", "/api/v1/webhooks", map[string]any{"url": srv.URL, "types": []string{"call.answered"}}, http.StatusCreated)
	secret, _ = hook["secret"].(string)
	mu.Unlock()
	if len(secret) < 32 {
		t.Fatalf("webhook answer %v", hook)
	}
	if l := admin.call("GET", "/api/v1/webhooks", nil, http.StatusOK); strings.Contains(toJSON(l), secret) {
		t.Error("the webhook list shows the secret")
	}
	publish := func(e ccevent.Event) {
		if _, bus := a.CallCentre(); bus != nil {
			bus.Publish(e)
		} else if err := a.outsideOf().hooks.Publish(e); err != nil {
			t.Fatal(err)
		}
	}
	publish(ccevent.Event{Type: ccevent.CallOffered, Call: "c1"})
	publish(ccevent.Event{Type: ccevent.CallAnswered, Call: "c1", Agent: "1001"})
	eventually(t, 20*time.Second, "the webhook's event", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
	if got[0].Type != ccevent.CallAnswered || got[0].Agent != "1001" {
		t.Errorf("webhook got %+v", got)
	}
	eventually(t, 20*time.Second, "the delivery logged", func() bool {
		d := admin.call("GET", "/api/v1/webhooks/"+hook["id"].(string)+"/deliveries", nil, http.StatusOK)
		ds, _ := d["deliveries"].([]any)
		return len(ds) == 1
	})
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestMailAndEventStreamThroughTheDaemon: the email settings' test button
// sends through an SMTP server the test runs (and a certificate the box
// does not trust is refused with the reason), and a system holding a
// token with events:read reads the call centre's events as JSON lines on
// the TCP event stream, resuming after the last one it took.
func TestMailAndEventStreamThroughTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the daemon")
	}
	a, out := newApp(t, Config{EventStreamAddr: "127.0.0.1:0"})
	start(t, a)
	admin := adminClient(t, a, out)

	cert, _ := mailtest.SelfSigned(t)
	plain := &mailtest.Server{User: "box", Password: "s3cret"}
	port := plain.Start(t, false)
	admin.call("POST", "/api/v1/mail/test", map[string]any{"to": "ops@example.com"}, http.StatusBadRequest) // no settings yet
	admin.call("PUT", "/api/v1/mail/settings", map[string]any{"host": "127.0.0.1", "port": port, "security": "none",
		"user": "box", "password": "s3cret", "from": "Call centre <callbox@example.com>"}, http.StatusOK)
	admin.call("POST", "/api/v1/mail/test", map[string]any{"to": "ops@example.com"}, http.StatusOK)
	got := plain.Received()
	if len(got) != 1 || got[0].User != "box" || got[0].From != "callbox@example.com" || len(got[0].Rcpt) != 1 || got[0].Rcpt[0] != "ops@example.com" {
		t.Fatalf("the SMTP server got %+v", got)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); !strings.Contains(subj, "测试邮件") {
		t.Errorf("subject %q", subj)
	}
	// STARTTLS to a server whose certificate no authority signed: refused,
	// nothing sent, the reason in the answer.
	tlsSrv := &mailtest.Server{Cert: cert, StartTLS: true, User: "box", Password: "s3cret"}
	port = tlsSrv.Start(t, false)
	admin.call("PUT", "/api/v1/mail/settings", map[string]any{"host": "127.0.0.1", "port": port, "security": "starttls",
		"user": "box", "from": "callbox@example.com"}, http.StatusOK)
	if st, m := admin.try("POST", "/api/v1/mail/test", map[string]any{"to": "ops@example.com"}); st != http.StatusBadRequest ||
		!strings.Contains(toJSON(m), "certificate") || len(tlsSrv.Received()) != 0 {
		t.Errorf("an untrusted certificate: %d %v, %d sent", st, m, len(tlsSrv.Received()))
	}

	// The event stream, with a token that may read events and one that may not.
	addr := a.EventStreamAddr()
	if addr == "" {
		t.Fatal("no event stream")
	}
	reader := admin.call("POST", "/api/v1/tokens", map[string]any{"name": "wallboard", "scopes": []string{"events:read"}}, http.StatusCreated)
	sender := admin.call("POST", "/api/v1/tokens", map[string]any{"name": "crm", "scopes": []string{"sms:send"}}, http.StatusCreated)
	dial := func(token string, after *uint64) (net.Conn, *bufio.Scanner, map[string]any) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		hello, _ := json.Marshal(webhook.StreamHello{Token: token, After: after})
		if _, err := c.Write(append(hello, '\n')); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(c)
		if !sc.Scan() {
			t.Fatalf("no answer to the hello: %v", sc.Err())
		}
		m := map[string]any{}
		_ = json.Unmarshal(sc.Bytes(), &m)
		return c, sc, m
	}
	if _, _, m := dial(sender["token"].(string), nil); m["ok"] != false {
		t.Errorf("a token without events:read: %v", m)
	}
	_, sc, m := dial(reader["token"].(string), nil)
	if m["ok"] != true {
		t.Fatalf("hello answered %v", m)
	}
	publish := func(e ccevent.Event) {
		if _, bus := a.CallCentre(); bus != nil {
			bus.Publish(e)
		} else if err := a.outsideOf().hooks.Publish(e); err != nil {
			t.Fatal(err)
		}
	}
	type line struct {
		Pos   uint64        `json:"pos"`
		Event ccevent.Event `json:"event"`
	}
	next := func(sc *bufio.Scanner) line {
		t.Helper()
		for sc.Scan() {
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("line %q: %v", sc.Bytes(), err)
			}
			if l.Pos != 0 {
				return l
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return line{}
	}
	publish(ccevent.Event{Type: ccevent.CallOffered, Call: "c7", Number: "13800138000"})
	publish(ccevent.Event{Type: ccevent.CallAnswered, Call: "c7", Agent: "1001"})
	first, second := next(sc), next(sc)
	if first.Event.Type != ccevent.CallOffered || first.Event.Number != "13800138000" || second.Event.Type != ccevent.CallAnswered || second.Pos <= first.Pos {
		t.Fatalf("stream gave %+v then %+v", first, second)
	}
	// A receiver that restarts resumes after the last position it took.
	_, sc, _ = dial(reader["token"].(string), &first.Pos)
	if again := next(sc); again.Pos != second.Pos || again.Event.Agent != "1001" {
		t.Errorf("resumed at %+v, want position %d", again, second.Pos)
	}
}

// TestPushThroughTheDaemon: an administrator points the box at the
// company's PostgreSQL (a real server the test runs); the call records the
// box's CDR writer stores and the call centre's fact rows arrive there,
// and a restart of the box resumes from the stored cursor: every record
// once, none missing.
func TestPushThroughTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the daemon and PostgreSQL")
	}
	pg := dbtest.StartPostgres(t)
	dir := t.TempDir()
	a, out := newApp(t, Config{DataDir: dir})
	stop := start(t, a)
	admin := adminClient(t, a, out)
	tele := a.telephony()
	if tele == nil {
		t.Fatal("telephony not running")
	}
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	calls := func(from, n int) {
		for i := from; i < from+n; i++ {
			r := cdr.Record{ID: fmt.Sprintf("call-%04d", i), From: "13800138000", To: "201", Start: t0.Add(time.Duration(i) * time.Minute),
				Answer: t0.Add(time.Duration(i)*time.Minute + 5*time.Second), End: t0.Add(time.Duration(i)*time.Minute + 65*time.Second),
				Disposition: cdr.Answered, Trunk: "fxo1", Cause: "normal"}
			r.Finish()
			tele.cdrs.Write(r)
		}
	}
	calls(0, 300)
	a.mu.Lock()
	facts := &factStore{db: a.db}
	a.mu.Unlock()
	for i := range 5 {
		if err := facts.PutFact(cc.Fact{Call: fmt.Sprintf("q-%d", i), Group: 1, Number: "13800138000", Queued: t0,
			Answered: t0.Add(9 * time.Second), Agent: "1001", Disposition: "answered", WaitSeconds: 9}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "the CDRs stored", func() bool {
		list, _, _ := a.CDRs(time.Time{}, time.Time{}, 1000)
		return len(list) == 300
	})

	settings := map[string]any{"enabled": true, "driver": "postgres", "host": "127.0.0.1", "port": pg.Port(),
		"database": "postgres", "user": dbtest.PostgresUser, "password": "unused-by-trust", "tls": "disable"}
	admin.call("PUT", "/api/v1/export/settings", map[string]any{"enabled": true, "driver": "oracle"}, http.StatusBadRequest)
	m := admin.call("PUT", "/api/v1/export/settings", settings, http.StatusOK)
	if m["password_set"] != true || m["password"] != nil {
		t.Errorf("export settings served as %v", m)
	}
	pushed := func(c *webClient, cdrs, facts float64) func() bool {
		return func() bool {
			st := c.call("GET", "/api/v1/export/status", nil, http.StatusOK)
			p, _ := st["pushed"].(map[string]any)
			n := func(table string) float64 { v, _ := p[table].(float64); return v }
			return st["state"] == "ok" && n("cdr") == cdrs && n("queue_call") == facts
		}
	}
	eventually(t, 30*time.Second, "300 CDRs and 5 facts pushed", pushed(admin, 300, 5))

	// More calls end, and the box restarts before its next push: the new
	// box pushes them from the stored cursor, and nothing twice.
	calls(300, 200)
	eventually(t, 20*time.Second, "the new CDRs stored", func() bool {
		list, _, _ := a.CDRs(time.Time{}, time.Time{}, 1000)
		return len(list) == 500
	})
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	b, _ := newApp(t, Config{DataDir: dir})
	start(t, b)
	again := newWebClient(t, "http://"+b.WebAddr())
	again.call("GET", "/api/v1/session", nil, http.StatusOK)
	again.call("POST", "/api/v1/login", map[string]any{"login": "boss", "password": "Kettle-Drum-42"}, http.StatusOK)
	eventually(t, 30*time.Second, "the 200 CDRs after the restart", pushed(again, 200, 0))

	db, err := sql.Open("postgres", fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable", dbtest.PostgresUser, pg.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, distinct, billable int
	if err := db.QueryRow("SELECT COUNT(*), COUNT(DISTINCT id), SUM(billable_s) FROM callbox_cdr").Scan(&n, &distinct, &billable); err != nil {
		t.Fatal(err)
	}
	if n != 500 || distinct != 500 || billable != 500*60 {
		t.Errorf("callbox_cdr: %d rows, %d distinct, %d billable seconds; want 500, 500, %d", n, distinct, billable, 500*60)
	}
	var agent string
	if err := db.QueryRow("SELECT COUNT(*), MIN(agent) FROM callbox_queue_call").Scan(&n, &agent); err != nil || n != 5 || agent != "1001" {
		t.Errorf("callbox_queue_call: %d rows, agent %q, %v", n, agent, err)
	}
}

// form posts a page's form as a browser would, without following the
// redirect, and returns the status, the Location and the body.
func (w *webClient) form(path string, v url.Values) (int, string, string) {
	w.t.Helper()
	v.Set("csrf_token", w.csrf)
	c := *w.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.PostForm(w.base+path, v)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// TestOutsidePageThroughTheDaemon: the /outside page as an administrator
// uses it: the modem's state, an SMS sent from the form reaching the
// emulated modem and listed in the outbox, a refusal shown on the page,
// an API token made (its text shown once) and revoked from the page.
func TestOutsidePageThroughTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the daemon")
	}
	modem, a, admin := modemBox(t)
	if p := admin.page("/outside"); !strings.Contains(p, `id="modem-state">disabled`) || !strings.Contains(p, `action="/outside/tokens"`) {
		t.Fatalf("the page before the modem:\n%s", p)
	}
	// The modem set from the settings form, its PIN stored but never shown.
	if st, loc, _ := admin.form("/outside/settings/sms", url.Values{"port": {modem.Path()}, "baud": {"115200"}, "pin": {"4321"}}); st != http.StatusSeeOther || loc != "/outside?msg=saved" {
		t.Fatalf("settings form: %d %s", st, loc)
	}
	if st, _, body := admin.form("/outside/settings/mail", url.Values{"host": {"smtp.example.com"}, "port": {"five"}}); st != http.StatusBadRequest || !strings.Contains(body, "port is a whole number") {
		t.Errorf("a bad mail port: %d", st)
	}
	if st, _, _ := admin.form("/outside/settings/modem", url.Values{}); st != http.StatusNotFound {
		t.Errorf("an unknown part: %d", st)
	}
	eventually(t, 20*time.Second, "the modem ready", func() bool { return strings.Contains(admin.page("/outside"), `id="modem-state">ready`) })
	if p := admin.page("/outside"); strings.Contains(p, "4321") || !strings.Contains(p, `value="115200"`) || strings.Contains(p, `name="pin" placeholder=""`) {
		t.Errorf("the settings form shows the PIN or not the port:\n%s", p)
	}
	if m := admin.call("GET", "/api/v1/sms/settings", nil, http.StatusOK); m["pin_set"] != true || m["baud"] != float64(115200) {
		t.Errorf("sms settings %v", m)
	}

	st, loc, _ := admin.form("/outside/sms", url.Values{"to": {"13800138000, 13900139000"}, "text": {"您的工单已派工 / your order is dispatched"}})
	if st != http.StatusSeeOther || loc != "/outside?msg=queued" {
		t.Fatalf("send form: %d %s", st, loc)
	}
	eventually(t, 20*time.Second, "both at the modem", func() bool { return len(modem.Submitted()) == 2 })
	if p := admin.page("/outside?msg=queued"); strings.Count(p, "您的工单已派工") != 2 || !strings.Contains(p, `role="status"`) {
		t.Errorf("the outbox on the page:\n%s", p)
	}
	if st, _, body := admin.form("/outside/sms", url.Values{"to": {"13800138000"}, "text": {""}}); st != http.StatusBadRequest ||
		!strings.Contains(body, `role="alert"`) || !strings.Contains(body, "13800138000</textarea>") {
		t.Errorf("an empty text: %d\n%s", st, body)
	}

	st, _, body := admin.form("/outside/tokens", url.Values{"name": {"erp"}, "scopes": {"sms:read", "cdr:read"}})
	m := regexp.MustCompile(`<code id="new-token">(cbx_[^<]+)</code>`).FindStringSubmatch(body)
	if st != http.StatusCreated || m == nil {
		t.Fatalf("token form: %d\n%s", st, body)
	}
	base := "http://" + a.WebAddr()
	if st, _ := tokenCall(t, base, m[1], "GET", "/api/v1/sms/outbox", nil); st != http.StatusOK {
		t.Errorf("the new token: %d", st)
	}
	p := admin.page("/outside")
	if strings.Contains(p, m[1]) {
		t.Error("the token's text shown again")
	}
	id := regexp.MustCompile(`action="/outside/tokens/([0-9a-f]+)/revoke"`).FindStringSubmatch(p)
	if id == nil {
		t.Fatalf("no revoke button:\n%s", p)
	}
	if st, loc, _ := admin.form("/outside/tokens/"+id[1]+"/revoke", url.Values{}); st != http.StatusSeeOther || loc != "/outside?msg=revoked" {
		t.Errorf("revoke: %d %s", st, loc)
	}
	if st, _ := tokenCall(t, base, m[1], "GET", "/api/v1/sms/outbox", nil); st != http.StatusUnauthorized {
		t.Errorf("the revoked token: %d", st)
	}

	// A webhook added from the page (its secret shown once), then deleted.
	if st, _, body := admin.form("/outside/webhooks", url.Values{"url": {"ftp://crm.example.com/"}}); st != http.StatusBadRequest || !strings.Contains(body, "ftp://crm.example.com/") {
		t.Errorf("a webhook to ftp: %d", st)
	}
	st, _, body = admin.form("/outside/webhooks", url.Values{"url": {"http://127.0.0.1:9/hook"}, "types": {"call.answered, call.ended"}})
	secret := regexp.MustCompile(`<code id="new-secret">([^<]+)</code>`).FindStringSubmatch(body)
	if st != http.StatusCreated || secret == nil || len(secret[1]) < 32 {
		t.Fatalf("webhook form: %d\n%s", st, body)
	}
	p = admin.page("/outside")
	hook := regexp.MustCompile(`action="/outside/webhooks/([^/"]+)/delete"`).FindStringSubmatch(p)
	if strings.Contains(p, secret[1]) || hook == nil || !strings.Contains(p, "call.answered, call.ended") {
		t.Fatalf("the webhook list:\n%s", p)
	}
	if st, loc, _ := admin.form("/outside/webhooks/"+hook[1]+"/delete", url.Values{}); st != http.StatusSeeOther || loc != "/outside?msg=deleted" {
		t.Errorf("delete: %d %s", st, loc)
	}
	l := admin.call("GET", "/api/v1/webhooks", nil, http.StatusOK)
	if hs, ok := l["webhooks"].([]any); !ok || len(hs) != 0 {
		t.Errorf("webhooks left: %v", l)
	}
}
