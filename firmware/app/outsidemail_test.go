package app

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"callbox/firmware/mail/mailtest"
	"callbox/firmware/store"
	"callbox/telephony/voicemail"
)

// attachmentOf finds the attachment called name in a mail as the SMTP
// server got it, decoded, with its content type.
func attachmentOf(t *testing.T, raw []byte, name string) ([]byte, string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("content type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			t.Fatalf("no attachment %s in:\n%s", name, raw)
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.FileName() != name {
			continue
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			body, err = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(body)))
			if err != nil {
				t.Fatal(err)
			}
		}
		return body, p.Header.Get("Content-Type")
	}
}

// A voicemail message left in the running box is mailed, through the
// box's own mail settings (the voicemail has no SMTP server of its own
// set), to the box's address with the recording attached byte for byte.
// Before the voicemail used the box's mail, nothing was sent.
func TestVoicemailMailedThroughTheBoxMail(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	a := bootCC(t, 27000, ccTestPBX(), ccTestConfig(t))
	admin := newWebAdmin(t, a)
	srv := &mailtest.Server{}
	port := srv.Start(t, false)
	admin.doJSON(http.MethodPut, "/api/v1/mail/settings", map[string]any{"host": "127.0.0.1", "port": port,
		"security": "none", "from": "callbox@example.com"}, http.StatusOK)
	vm := a.mediaServices().vm
	if _, err := vm.PutBox(voicemail.BoxInput{PIN: "1234", Box: voicemail.Box{Number: "8001", Name: "Sales",
		Kind: voicemail.KindAgent, Email: "owner@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if err := vm.Deposit(wavCall{hz: 700}, "8001", voicemail.Caller{Number: "13800138000"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the message mailed", func() bool { return len(srv.Received()) > 0 })
	got := srv.Received()
	if len(got) != 1 || len(got[0].Rcpt) != 1 || got[0].Rcpt[0] != "owner@example.com" {
		t.Fatalf("the SMTP server got %+v", got)
	}
	msgs, err := vm.Messages("8001")
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages %v, %v", msgs, err)
	}
	f, _, err := vm.OpenMessage("8001", msgs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	wav, ctype := attachmentOf(t, got[0].Data, msgs[0].ID+".wav")
	if !bytes.Equal(wav, want) || !strings.HasPrefix(ctype, "audio/wav") {
		t.Errorf("attachment %s: %d bytes, want the message's %d", ctype, len(wav), len(want))
	}
	if !bytes.Contains(got[0].Data, []byte("13800138000")) {
		t.Errorf("the mail does not name the caller:\n%s", got[0].Data[:min(len(got[0].Data), 800)])
	}
}

// One mail configuration on the box: a mail server an older voicemail kept
// in its own settings becomes the box's mail settings at the next start
// (and is gone from the voicemail's), the web API's voicemail settings
// show and edit the box's mail settings, and a new message is mailed
// through them. Before, the voicemail had an SMTP client and settings of
// its own beside the box's.
func TestVoicemailOldMailSettingsBecomeTheBoxs(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	a := bootCC(t, 32800, ccTestPBX(), ccTestConfig(t))
	srv := &mailtest.Server{}
	port := srv.Start(t, false)
	old := fmt.Sprintf(`{"smtp":{"host":"127.0.0.1","port":%d,"tls":"none","from":"vm@example.com"}}`, port)
	if err := a.withDB(func(db *store.DB) error { return bucketKV{db, store.Voicemail}.Put([]byte("c"), []byte(old)) }); err != nil {
		t.Fatal(err)
	}
	before := a.mediaServices()
	if err := (consoleHost{a}).Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the box restarted", func() bool {
		m := a.mediaServices()
		return m != nil && m != before && a.WebAddr() != ""
	})
	admin := newWebAdmin(t, a)
	var set map[string]any
	admin.do(http.MethodGet, "/api/v1/mail/settings", "", nil, http.StatusOK, &set)
	if set["host"] != "127.0.0.1" || set["port"] != float64(port) || set["security"] != "none" || set["from"] != "vm@example.com" {
		t.Fatalf("the box's mail settings after the start: %v", set)
	}
	if err := a.withDB(func(db *store.DB) error {
		_, found, err := bucketKV{db, store.Voicemail}.Get([]byte("c"))
		if found {
			return errors.New("the voicemail's own mail settings are still stored")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The voicemail settings are the box's mail settings.
	var vset map[string]any
	admin.do(http.MethodGet, "/api/v1/voicemail-settings", "", nil, http.StatusOK, &vset)
	if vset["smtp_host"] != "127.0.0.1" || vset["smtp_port"] != float64(port) || vset["from"] != "vm@example.com" {
		t.Fatalf("the voicemail settings: %v", vset)
	}
	admin.doJSON(http.MethodPut, "/api/v1/voicemail-settings", map[string]any{"smtp_host": "127.0.0.1", "smtp_port": port,
		"smtp_tls": "none", "from": "callbox@example.com"}, http.StatusOK)
	admin.do(http.MethodGet, "/api/v1/mail/settings", "", nil, http.StatusOK, &set)
	if set["from"] != "callbox@example.com" {
		t.Fatalf("the voicemail settings' edit did not reach the box's mail settings: %v", set)
	}
	admin.doJSON(http.MethodPut, "/api/v1/voicemail-settings", map[string]any{"smtp_host": "127.0.0.1", "smtp_port": port,
		"smtp_tls": "sometimes", "from": "callbox@example.com"}, http.StatusBadRequest)
	vm := a.mediaServices().vm
	if _, err := vm.PutBox(voicemail.BoxInput{PIN: "1234", Box: voicemail.Box{Number: "8001", Name: "Sales",
		Kind: voicemail.KindAgent, Email: "owner@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if err := vm.Deposit(wavCall{hz: 700}, "8001", voicemail.Caller{Number: "13800138000"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the message mailed", func() bool { return len(srv.Received()) > 0 })
	if got := srv.Received(); len(got) != 1 || got[0].Rcpt[0] != "owner@example.com" || !bytes.Contains(got[0].Data, []byte("callbox@example.com")) {
		t.Fatalf("the SMTP server got %+v", got)
	}
}
