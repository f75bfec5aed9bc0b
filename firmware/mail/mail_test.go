package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"callbox/firmware/mail/mailtest"
)

func TestSendThroughTLS(t *testing.T) {
	cert, pool := mailtest.SelfSigned(t)
	attachment := make([]byte, 50000)
	_, _ = rand.Read(attachment)
	msg := Message{
		To:      []string{"王经理 <wang@example.com>", "ops@example.com"},
		Subject: "语音留言 from 13800138000",
		Text:    "您有一条新的语音留言。\nA new voicemail, 42 s.\n.leading dot line\n",
		Attachments: []Attachment{
			{Name: "voicemail-0042.wav", Data: attachment},
			{Name: "报表.csv", ContentType: "text/csv", Data: []byte("a,b\n1,2\n")},
		},
	}
	for _, mode := range []Security{StartTLS, TLS} {
		t.Run(string(mode), func(t *testing.T) {
			srv := &mailtest.Server{Cert: cert, StartTLS: true, User: "box", Password: "s3cret"}
			port := srv.Start(t, mode == TLS)
			m := &Mailer{
				Settings: func() (Settings, error) {
					return Settings{Host: "127.0.0.1", Port: port, Security: mode, User: "box", Password: "s3cret", From: "Call centre <callbox@example.com>"}, nil
				},
				TLSConfig: &tls.Config{RootCAs: pool},
			}
			if err := m.Send(t.Context(), msg); err != nil {
				t.Fatal(err)
			}
			got := srv.Received()
			if len(got) != 1 || !got[0].TLS || got[0].User != "box" || got[0].From != "callbox@example.com" ||
				strings.Join(got[0].Rcpt, ",") != "wang@example.com,ops@example.com" {
				t.Fatalf("server got %+v", got)
			}
			checkMessage(t, got[0].Data, msg)
		})
	}
}

// checkMessage parses what the server got with the standard library's MIME
// readers and compares it with what was sent.
func checkMessage(t *testing.T, data []byte, sent Message) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var dec mime.WordDecoder
	if subj, err := dec.DecodeHeader(m.Header.Get("Subject")); err != nil || subj != sent.Subject {
		t.Errorf("subject %q (%v)", subj, err)
	}
	to, err := m.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Name != "王经理" {
		t.Errorf("To: %v (%v)", to, err)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var parts [][]byte
	var names []string
	for {
		p, err := mr.NextPart() // decodes quoted-printable itself
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p)
		if p.Header.Get("Content-Transfer-Encoding") == "base64" {
			body, err = base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\r\n", ""))
			if err != nil {
				t.Fatal(err)
			}
		}
		parts = append(parts, body)
		names = append(names, p.FileName())
	}
	if len(parts) != 1+len(sent.Attachments) {
		t.Fatalf("%d parts", len(parts))
	}
	if got := strings.ReplaceAll(string(parts[0]), "\r\n", "\n"); got != sent.Text {
		t.Errorf("text %q", got)
	}
	for i, a := range sent.Attachments {
		if names[i+1] != a.Name || !bytes.Equal(parts[i+1], a.Data) {
			t.Errorf("attachment %d: %q, %d bytes", i, names[i+1], len(parts[i+1]))
		}
	}
}

func TestSendRefusals(t *testing.T) {
	cert, pool := mailtest.SelfSigned(t)
	settings := func(port int, sec Security, pw string) func() (Settings, error) {
		return func() (Settings, error) {
			return Settings{Host: "127.0.0.1", Port: port, Security: sec, User: "box", Password: pw, From: "callbox@example.com"}, nil
		}
	}
	msg := Message{To: []string{"a@example.com"}, Subject: "x", Text: "y"}
	cases := []struct {
		name     string
		startTLS bool
		silent   bool
		tlsFirst bool
		sec      Security
		pw       string
		roots    bool
		want     string
	}{
		{"starttls not offered", false, false, false, StartTLS, "s3cret", true, "does not offer STARTTLS"},
		{"untrusted certificate", true, false, false, StartTLS, "s3cret", false, "certificate"},
		{"wrong password", true, false, false, StartTLS, "guess", true, "login as box"},
		{"server never answers", false, true, false, StartTLS, "s3cret", true, "mail:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := &mailtest.Server{Cert: cert, User: "box", Password: "s3cret", StartTLS: c.startTLS, Silent: c.silent}
			port := srv.Start(t, c.tlsFirst)
			m := &Mailer{Settings: settings(port, c.sec, c.pw), Timeout: 500 * time.Millisecond}
			if c.roots {
				m.TLSConfig = &tls.Config{RootCAs: pool}
			}
			err := m.Send(context.Background(), msg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one with %q", err, c.want)
			}
			if n := len(srv.Received()); n != 0 {
				t.Errorf("the server got %d messages", n)
			}
		})
	}
}

func TestBuildRefusesInjection(t *testing.T) {
	now := time.Now()
	for _, m := range []Message{
		{To: []string{"a@example.com"}, Subject: "hi\r\nBcc: evil@example.com"},
		{To: []string{"a@example.com\r\nBcc: evil@example.com"}},
		{To: []string{"not an address"}},
		{},
		{To: []string{"a@example.com"}, Attachments: []Attachment{{Name: "a\r\nb.txt"}}},
		{To: []string{"a@example.com"}, Attachments: []Attachment{{Name: "x.bin", ContentType: "text/"}}},
	} {
		if b, _, err := Build("box@example.com", m, now); err == nil {
			t.Errorf("built %q", b)
		}
	}
}

func TestSettingsCheck(t *testing.T) {
	good := Settings{Host: "smtp.example.com", Port: 587, Security: StartTLS, User: "u", Password: "p", From: "box@example.com"}
	if err := good.Check(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Settings){
		"no host":          func(s *Settings) { s.Host = "" },
		"host with a path": func(s *Settings) { s.Host = "smtp/x" },
		"port 0":           func(s *Settings) { s.Port = 0 },
		"port 70000":       func(s *Settings) { s.Port = 70000 },
		"security":         func(s *Settings) { s.Security = "ssl3" },
		"from":             func(s *Settings) { s.From = "nobody" },
		"password no user": func(s *Settings) { s.User = "" },
	} {
		s := good
		mod(&s)
		if err := s.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
