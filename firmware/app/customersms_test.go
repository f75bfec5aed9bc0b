package app

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"callbox/telephony/sms"
	"callbox/telephony/sms/modemsim"
)

// modemBox starts the modem emulator and a running box with its
// administrator's web client.
func modemBox(t *testing.T) (*modemsim.Modem, *App, *webClient) {
	t.Helper()
	modem, err := modemsim.Start(modemsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { modem.Close() })
	a, out := newApp(t, Config{})
	start(t, a)
	return modem, a, adminClient(t, a, out)
}

// An SMS to a customer from the card, through the running box: the
// customer's mobile number is chosen over the office one, a number that
// is not the customer's is refused, and the message reaches the modem.
func TestCustomerSMSThroughTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the daemon")
	}
	modem, a, admin := modemBox(t)
	admin.call("PUT", "/api/v1/sms/settings", map[string]any{"port": modem.Path()}, http.StatusOK)
	eventually(t, 20*time.Second, "the modem ready", func() bool { return a.SMSStatus().State == sms.ModemReady })
	cat := admin.call("POST", "/api/v1/customer-categories", map[string]any{"name": "居民"}, http.StatusCreated)
	cu := admin.call("POST", "/api/v1/customers", map[string]any{"name": "张先生", "category": cat["id"], "numbers": []map[string]string{
		{"number": "021 5555 0100", "label": "office"}, {"number": "13800138000", "label": "mobile"}}}, http.StatusCreated)
	path := fmt.Sprintf("/api/v1/customers/%v/sms", cu["id"])
	admin.call("POST", path, map[string]any{"text": "您好", "number": "13900139000"}, http.StatusBadRequest)
	admin.call("POST", "/api/v1/customers/999999/sms", map[string]any{"text": "您好"}, http.StatusNotFound)
	admin.call("POST", path, map[string]any{"text": "您好张先生，您的工单已派工。"}, http.StatusCreated)
	eventually(t, 20*time.Second, "the SMS at the modem", func() bool { return len(modem.Submitted()) == 1 })
	if m := modem.Submitted()[0].Msg; m.Number != "13800138000" || m.Text != "您好张先生，您的工单已派工。" {
		t.Errorf("the modem got %+v", m)
	}
	// The card's button: to the office number chosen in its form.
	card := fmt.Sprintf("/customers/%v", cu["id"])
	if p := admin.page(card); !strings.Contains(p, `id="customer-sms"`) || !strings.Contains(p, `value="13800138000" selected`) {
		t.Fatalf("the card has no SMS form:\n%s", p)
	}
	office := cu["numbers"].([]any)[0].(map[string]any)["number"].(string)
	if st, loc, _ := admin.form(card+"/sms", url.Values{"number": {office}, "text": {"回电请拨 021"}}); st != http.StatusSeeOther || loc != card+"?msg=sms_queued" {
		t.Fatalf("the card's SMS form: %d %s", st, loc)
	}
	eventually(t, 20*time.Second, "the second SMS at the modem", func() bool { return len(modem.Submitted()) == 2 })
	if m := modem.Submitted()[1].Msg; m.Number != office || m.Text != "回电请拨 021" {
		t.Errorf("the modem got %+v", m)
	}
}
