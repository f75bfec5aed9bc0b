package voicemail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// SMTP is a mail server of the voicemail's own; empty, messages go
// through Config.Mailer, the box's mail service.
type SMTP struct {
	// Host empty turns mail off.
	Host string `json:"host"`
	Port int    `json:"port"`
	// TLS is "starttls" (the default: required, on port 587), "tls"
	// (implicit, port 465) or "none" (a relay on the LAN, port 25; no
	// password is sent over it).
	TLS      string `json:"tls"`
	From     string `json:"from"`
	User     string `json:"user,omitempty"`
	Password string `json:"password,omitempty"`
}

func (c *SMTP) check() error {
	if c.Host == "" {
		*c = SMTP{}
		return nil
	}
	if len(c.Host) > 253 || strings.ContainsAny(c.Host, " /:@") {
		return invalid("smtp.host", "%q is not a host name", c.Host)
	}
	switch c.TLS {
	case "":
		c.TLS = "starttls"
	case "starttls", "tls", "none":
	default:
		return invalid("smtp.tls", "%q: starttls, tls or none", c.TLS)
	}
	if c.Port == 0 {
		c.Port = map[string]int{"starttls": 587, "tls": 465, "none": 25}[c.TLS]
	}
	if c.Port < 1 || c.Port > 65535 {
		return invalid("smtp.port", "%d", c.Port)
	}
	if a, err := mail.ParseAddress(c.From); err != nil || a.Address != c.From {
		return invalid("smtp.from", "%q is not a mail address", c.From)
	}
	if c.Password != "" && c.TLS == "none" {
		return invalid("smtp.tls", "a password is only sent over TLS")
	}
	if len(c.User) > 254 || len(c.Password) > 254 {
		return invalid("smtp.user", "at most 254 bytes")
	}
	return nil
}

// Send mails text to to with one attachment, through the server.
func (c SMTP) Send(ctx context.Context, to, subject, text, name string, attachment []byte) error {
	msg, err := compose(c.From, to, subject, text, name, attachment)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	d := net.Dialer{Timeout: 30 * time.Second}
	var conn net.Conn
	if c.TLS == "tls" {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: &tls.Config{ServerName: c.Host}}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("voicemail: smtp %s: %w", addr, err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	conn.SetDeadline(deadline)
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("voicemail: smtp %s: %w", addr, err)
	}
	defer cl.Close()
	if c.TLS == "starttls" {
		if err := cl.StartTLS(&tls.Config{ServerName: c.Host}); err != nil {
			return fmt.Errorf("voicemail: smtp %s: starttls: %w", addr, err)
		}
	}
	if c.User != "" {
		if err := cl.Auth(smtp.PlainAuth("", c.User, c.Password, c.Host)); err != nil {
			return fmt.Errorf("voicemail: smtp %s: %w", addr, err)
		}
	}
	if err := cl.Mail(c.From); err != nil {
		return fmt.Errorf("voicemail: smtp %s: %w", addr, err)
	}
	if err := cl.Rcpt(to); err != nil {
		return fmt.Errorf("voicemail: smtp %s: %w", addr, err)
	}
	w, err := cl.Data()
	if err != nil {
		return fmt.Errorf("voicemail: smtp %s: %w", addr, err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("voicemail: smtp %s: %w", addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("voicemail: smtp %s: %w", addr, err)
	}
	return cl.Quit()
}

// compose builds a MIME message: a UTF-8 text part and the attachment.
func compose(from, to, subject, text, name string, attachment []byte) ([]byte, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	var id [12]byte
	_, _ = rand.Read(id[:])
	hdr := []string{
		"From: " + from,
		"To: " + to,
		"Subject: " + mime.QEncoding.Encode("utf-8", oneLine(subject)),
		"Date: " + time.Now().Format(time.RFC1123Z),
		"Message-ID: <" + hex.EncodeToString(id[:]) + "@callbox>",
		"MIME-Version: 1.0",
		"Content-Type: multipart/mixed; boundary=" + mw.Boundary(),
	}
	b.WriteString(strings.Join(hdr, "\r\n") + "\r\n\r\n")
	tp, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return nil, err
	}
	writeBase64(tp, []byte(text))
	ap, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"audio/wav; name=" + strconv.Quote(name)},
		"Content-Disposition":       {"attachment; filename=" + strconv.Quote(name)},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return nil, err
	}
	writeBase64(ap, attachment)
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// oneLine replaces control characters (a caller's name comes from the
// network) so a header stays one header.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// writeBase64 writes data in base64 lines of 76 characters.
func writeBase64(w interface{ Write([]byte) (int, error) }, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		w.Write([]byte(enc[:76] + "\r\n"))
		enc = enc[76:]
	}
	w.Write([]byte(enc + "\r\n"))
}
