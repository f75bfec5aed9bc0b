package app

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/firmware/webhook"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/sms"
	"callbox/telephony/sms/modemsim"
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
