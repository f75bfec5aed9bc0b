// Package mail sends email through the company's SMTP server: voicemail,
// reports and work-order notices with their attachments. It builds the
// MIME message itself (UTF-8 subjects and bodies, base64 attachments) and
// speaks SMTP with the standard library, over STARTTLS, implicit TLS
// (SMTPS) or, for a relay on the LAN, plain TCP.
//
// Other packages do not import this one: they define a small interface
// ("send this with these attachments") that firmware/app satisfies with a
// Mailer.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// Security is how the connection to the server is protected.
type Security string

// Security modes.
const (
	StartTLS Security = "starttls" // plain connect, then STARTTLS (port 587); refused if the server lacks it
	TLS      Security = "tls"      // TLS from the first byte (SMTPS, port 465)
	None     Security = "none"     // no encryption: a relay on the LAN only
)

// Settings are the SMTP settings the administrator enters.
type Settings struct {
	Host     string   `json:"host"`
	Port     int      `json:"port"`
	Security Security `json:"security"`
	User     string   `json:"user,omitempty"`
	Password string   `json:"password,omitempty"`
	// From is the sender, "Name <addr>" or a bare address.
	From string `json:"from"`
}

// ErrNotConfigured is returned when no server is set.
var ErrNotConfigured = errors.New("mail: no SMTP server configured")

// Check validates settings, naming the field at fault.
func (s Settings) Check() error {
	if s.Host == "" {
		return ErrNotConfigured
	}
	if strings.ContainsAny(s.Host, " \r\n/") {
		return fmt.Errorf("mail: host %q is not a host name or address", s.Host)
	}
	if s.Port < 1 || s.Port > 65535 {
		return fmt.Errorf("mail: port %d: must be 1-65535", s.Port)
	}
	switch s.Security {
	case StartTLS, TLS, None:
	default:
		return fmt.Errorf("mail: security %q: must be starttls, tls or none", s.Security)
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		return fmt.Errorf("mail: from %q: %w", s.From, err)
	}
	if s.Password != "" && s.User == "" {
		return errors.New("mail: a password without a user")
	}
	return nil
}

// Attachment is a file sent with a message.
type Attachment struct {
	Name string
	// ContentType is the MIME type; empty guesses from Name's extension.
	ContentType string
	Data        []byte
}

// Message is one email.
type Message struct {
	To          []string
	Subject     string
	Text        string
	Attachments []Attachment
}

// Mailer sends messages with the settings it is given at each send, so an
// edit applies to the next message.
type Mailer struct {
	// Settings returns the current settings.
	Settings func() (Settings, error)
	// TLSConfig, when set, verifies the server (tests give their own
	// roots); nil uses the system's roots and the host name.
	TLSConfig *tls.Config
	// Timeout bounds one whole send (zero: 30 s).
	Timeout time.Duration
	// Now stamps the Date header (nil: time.Now).
	Now func() time.Time
}

// Send delivers msg to every recipient.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	s, err := m.Settings()
	if err != nil {
		return fmt.Errorf("mail: settings: %w", err)
	}
	if err := s.Check(); err != nil {
		return err
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	body, rcpts, err := Build(s.From, msg, now())
	if err != nil {
		return err
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return m.deliver(ctx, s, rcpts, body)
}

func (m *Mailer) tlsConfig(host string) *tls.Config {
	if m.TLSConfig != nil {
		c := m.TLSConfig.Clone()
		if c.ServerName == "" {
			c.ServerName = host
		}
		return c
	}
	return &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
}

func (m *Mailer) deliver(ctx context.Context, s Settings, rcpts []string, body []byte) error {
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("mail: connect %s: %w", addr, err)
	}
	// The deadline covers every read and write, so a server that stops
	// answering cannot hold the caller past the timeout.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if s.Security == TLS {
		tc := tls.Client(conn, m.tlsConfig(s.Host))
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fmt.Errorf("mail: TLS with %s: %w", addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail: %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Hello(helloName()); err != nil {
		return fmt.Errorf("mail: EHLO: %w", err)
	}
	if s.Security == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("mail: %s does not offer STARTTLS; choose tls, or none for a LAN relay", addr)
		}
		if err := c.StartTLS(m.tlsConfig(s.Host)); err != nil {
			return fmt.Errorf("mail: STARTTLS: %w", err)
		}
	}
	if s.User != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fmt.Errorf("mail: %s offers no authentication", addr)
		}
		// PlainAuth itself refuses to send the password unencrypted to
		// anything but localhost.
		if err := c.Auth(smtp.PlainAuth("", s.User, s.Password, s.Host)); err != nil {
			return fmt.Errorf("mail: login as %s: %w", s.User, err)
		}
	}
	from, _ := mail.ParseAddress(s.From)
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("mail: MAIL FROM: %w", err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return fmt.Errorf("mail: RCPT TO %s: %w", r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: the server refused the message: %w", err)
	}
	return c.Quit()
}

func helloName() string {
	// The box's name on the LAN is no business of the server's; a fixed
	// literal keeps EHLO valid wherever it runs.
	return "callbox.localdomain"
}

// Build returns the message as sent (CRLF line ends) and its recipients'
// bare addresses. Headers are checked, so no field can inject another.
func Build(from string, msg Message, date time.Time) ([]byte, []string, error) {
	f, err := mail.ParseAddress(from)
	if err != nil {
		return nil, nil, fmt.Errorf("mail: from %q: %w", from, err)
	}
	if len(msg.To) == 0 {
		return nil, nil, errors.New("mail: no recipient")
	}
	var rcpts, to []string
	for _, t := range msg.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return nil, nil, fmt.Errorf("mail: recipient %q: %w", t, err)
		}
		rcpts = append(rcpts, a.Address)
		to = append(to, a.String())
	}
	if strings.ContainsAny(msg.Subject, "\r\n") {
		return nil, nil, errors.New("mail: subject has a line break")
	}
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", f.String())
	hdr("To", strings.Join(to, ", "))
	hdr("Subject", mime.BEncoding.Encode("utf-8", msg.Subject))
	hdr("Date", date.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+randomHex(16)+"@callbox>")
	hdr("MIME-Version", "1.0")
	boundary := "callbox-" + randomHex(12)
	if len(msg.Attachments) > 0 {
		hdr("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
		b.WriteString("\r\n--" + boundary + "\r\n")
	}
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(msg.Text, "\r\n", "\n"), "\n", "\r\n")))
	_ = qp.Close()
	b.WriteString("\r\n")
	for _, a := range msg.Attachments {
		if a.Name == "" || strings.ContainsAny(a.Name, "\r\n\"/\\") {
			return nil, nil, fmt.Errorf("mail: attachment name %q", a.Name)
		}
		ct := a.ContentType
		if ct == "" {
			ct = mime.TypeByExtension(extension(a.Name))
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		if _, _, err := mime.ParseMediaType(ct); err != nil {
			return nil, nil, fmt.Errorf("mail: attachment %s: content type %q: %w", a.Name, ct, err)
		}
		b.WriteString("--" + boundary + "\r\n")
		hdr("Content-Type", mime.FormatMediaType(ct, map[string]string{"name": a.Name}))
		hdr("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
		hdr("Content-Transfer-Encoding", "base64")
		b.WriteString("\r\n")
		enc := base64.StdEncoding.EncodeToString(a.Data)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	if len(msg.Attachments) > 0 {
		b.WriteString("--" + boundary + "--\r\n")
	}
	return b.Bytes(), rcpts, nil
}

func extension(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i:]
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
