// Package mailtest runs a small SMTP server for tests (EHLO, STARTTLS,
// AUTH PLAIN, MAIL, RCPT, DATA, QUIT; implicit TLS on request), so the
// mail package's tests and the daemon's end-to-end tests check what a
// server really receives.
package mailtest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is the test's SMTP server; set its fields, then Start it.
type Server struct {
	Cert     tls.Certificate // for STARTTLS and implicit TLS
	StartTLS bool            // offer STARTTLS
	User     string          // AUTH PLAIN credentials it accepts
	Password string
	Silent   bool // accept, then never answer

	ln   net.Listener
	mu   sync.Mutex
	got  []Received
	wg   sync.WaitGroup
	tlsd bool
}

// Received is one message the server took.
type Received struct {
	From string
	Rcpt []string
	Data []byte
	TLS  bool   // the message travelled encrypted
	User string // the login it authenticated with, if any
}

// SelfSigned makes a certificate for 127.0.0.1 and localhost and the pool
// that trusts it.
func SelfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
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

// Start listens on a free loopback port (TLS from the first byte when
// tlsFirst) until the test ends, and returns the port. It skips the test
// under -short, which opens no sockets.
func (s *Server) Start(t testing.TB, tlsFirst bool) int {
	t.Helper()
	if testing.Short() {
		t.Skip("mailtest: opens sockets")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tlsFirst {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{s.Cert}})
		s.tlsd = true
	}
	s.ln = ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr).Port
}

func (s *Server) serve(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if s.Silent {
		_, _ = io.Copy(io.Discard, c)
		return
	}
	isTLS := s.tlsd
	r, w := bufio.NewReader(c), c
	say := func(l string) { _, _ = io.WriteString(w, l+"\r\n") }
	say("220 test ESMTP")
	var cur Received
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
			if s.StartTLS && !isTLS {
				ext = append(ext, "250-STARTTLS")
			}
			ext = append(ext, "250 AUTH PLAIN")
			for _, e := range ext {
				say(e)
			}
		case "STARTTLS":
			say("220 go ahead")
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{s.Cert}})
			if tc.Handshake() != nil {
				return
			}
			c, r, w, isTLS = tc, bufio.NewReader(tc), tc, true
		case "AUTH":
			mech, b64, _ := strings.Cut(arg, " ")
			raw, _ := base64.StdEncoding.DecodeString(b64)
			f := strings.Split(string(raw), "\x00")
			if mech != "PLAIN" || len(f) != 3 || f[1] != s.User || f[2] != s.Password {
				say("535 authentication failed")
				continue
			}
			user = f[1]
			say("235 ok")
		case "MAIL":
			cur = Received{From: strings.Trim(strings.TrimPrefix(arg, "FROM:"), "<>"), TLS: isTLS, User: user}
			say("250 ok")
		case "RCPT":
			cur.Rcpt = append(cur.Rcpt, strings.Trim(strings.TrimPrefix(arg, "TO:"), "<>"))
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
			cur.Data = data.Bytes()
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

// Received returns the messages taken so far.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.got...)
}
