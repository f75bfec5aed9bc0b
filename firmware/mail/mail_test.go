package mail

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpServer is a small SMTP server for the tests: EHLO, STARTTLS, AUTH
// PLAIN, MAIL, RCPT, DATA, QUIT; implicit TLS when tlsFirst.
type smtpServer struct {
	ln       net.Listener
	cert     tls.Certificate
	startTLS bool // offer STARTTLS
	user     string
	password string
	silent   bool // accept, then never answer

	mu   sync.Mutex
	got  []received
	wg   sync.WaitGroup
	tlsd bool
}

type received struct {
	from string
	rcpt []string
	data []byte
	tls  bool
	user string
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func startSMTP(t *testing.T, srv *smtpServer, tlsFirst bool) int {
	t.Helper()
	if testing.Short() {
		t.Skip("opens sockets")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tlsFirst {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{srv.cert}})
		srv.tlsd = true
	}
	srv.ln = ln
	srv.wg.Add(1)
	go func() {
		defer srv.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			srv.wg.Add(1)
			go func() {
				defer srv.wg.Done()
				defer c.Close()
				srv.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		srv.wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr).Port
}

func (s *smtpServer) serve(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if s.silent {
		_, _ = io.Copy(io.Discard, c)
		return
	}
	isTLS := s.tlsd
	r, w := bufio.NewReader(c), c
	say := func(l string) { _, _ = io.WriteString(w, l+"\r\n") }
	say("220 test ESMTP")
	var cur received
	user := ""
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ext := []string{"250-test"}
			if s.startTLS && !isTLS {
				ext = append(ext, "250-STARTTLS")
			}
			ext = append(ext, "250 AUTH PLAIN")
			for _, e := range ext {
				say(e)
			}
		case "STARTTLS":
			say("220 go ahead")
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{s.cert}})
			if tc.Handshake() != nil {
				return
			}
			c, r, w, isTLS = tc, bufio.NewReader(tc), tc, true
		case "AUTH":
			mech, b64, _ := strings.Cut(arg, " ")
			raw, _ := base64.StdEncoding.DecodeString(b64)
			f := strings.Split(string(raw), "\x00")
			if mech != "PLAIN" || len(f) != 3 || f[1] != s.user || f[2] != s.password {
				say("535 authentication failed")
				continue
			}
			user = f[1]
			say("235 ok")
		case "MAIL":
			cur = received{from: strings.Trim(strings.TrimPrefix(arg, "FROM:"), "<>"), tls: isTLS, user: user}
			say("250 ok")
		case "RCPT":
			cur.rcpt = append(cur.rcpt, strings.Trim(strings.TrimPrefix(arg, "TO:"), "<>"))
			say("250 ok")
		case "DATA":
			say("354 end with .")
			var data bytes.Buffer
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			cur.data = data.Bytes()
			s.mu.Lock()
			s.got = append(s.got, cur)
			s.mu.Unlock()
			say("250 queued")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (s *smtpServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

func TestSendThroughTLS(t *testing.T) {
	cert, pool := selfSigned(t)
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
			srv := &smtpServer{cert: cert, startTLS: true, user: "box", password: "s3cret"}
			port := startSMTP(t, srv, mode == TLS)
			m := &Mailer{
				Settings: func() (Settings, error) {
					return Settings{Host: "127.0.0.1", Port: port, Security: mode, User: "box", Password: "s3cret", From: "Call centre <callbox@example.com>"}, nil
				},
				TLSConfig: &tls.Config{RootCAs: pool},
			}
			if err := m.Send(t.Context(), msg); err != nil {
				t.Fatal(err)
			}
			got := srv.received()
			if len(got) != 1 || !got[0].tls || got[0].user != "box" || got[0].from != "callbox@example.com" ||
				strings.Join(got[0].rcpt, ",") != "wang@example.com,ops@example.com" {
				t.Fatalf("server got %+v", got)
			}
			checkMessage(t, got[0].data, msg)
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
	cert, pool := selfSigned(t)
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
			srv := &smtpServer{cert: cert, user: "box", password: "s3cret", startTLS: c.startTLS, silent: c.silent}
			port := startSMTP(t, srv, c.tlsFirst)
			m := &Mailer{Settings: settings(port, c.sec, c.pw), Timeout: 500 * time.Millisecond}
			if c.roots {
				m.TLSConfig = &tls.Config{RootCAs: pool}
			}
			err := m.Send(context.Background(), msg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one with %q", err, c.want)
			}
			if n := len(srv.received()); n != 0 {
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
