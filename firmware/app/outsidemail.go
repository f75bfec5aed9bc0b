package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"callbox/firmware/mail"
	"callbox/firmware/store"
	"callbox/telephony/fax"
	"callbox/telephony/voicemail"
	"callbox/webui"
)

// outsidemail.go: the box's parts that mail (voicemail, received faxes)
// send through App.SendMail, the one SMTP server of the mail settings.

// vmMailer is voicemail.Mailer over the box's mail.
type vmMailer struct{ a *App }

func (m vmMailer) Mail(ctx context.Context, to, subject, text, name, contentType string, attachment []byte) error {
	return m.a.SendMail(ctx, mail.Message{To: []string{to}, Subject: subject, Text: text,
		Attachments: []mail.Attachment{{Name: name, ContentType: contentType, Data: attachment}}})
}

// The voicemail settings' mail server is the box's one (the web API's
// voicemail settings read and write the mail settings): voicemail has no
// SMTP client of its own.

// securityOr is the mail security of a voicemail TLS word ("" was
// STARTTLS), and portOr the port a security implies when none is given.
func securityOr(tls string) mail.Security {
	if tls == "" {
		return mail.StartTLS
	}
	return mail.Security(tls)
}

func portOr(port int, sec mail.Security) int {
	if port != 0 {
		return port
	}
	switch sec {
	case mail.TLS:
		return 465
	case mail.None:
		return 25
	}
	return 587
}

// voicemailMailSettings are the box's mail settings in the voicemail
// settings' shape.
func voicemailMailSettings(db *store.DB) (webui.VoicemailSettings, error) {
	var s mail.Settings
	if err := getSetting(db, settingMail, &s); err != nil {
		return webui.VoicemailSettings{}, err
	}
	return webui.VoicemailSettings{SMTPHost: s.Host, SMTPPort: s.Port, SMTPTLS: string(s.Security), From: s.From,
		User: s.User, Password: s.Password}, nil
}

// setVoicemailMailSettings stores the voicemail settings' mail server as
// the box's mail settings, checked as they are.
func setVoicemailMailSettings(db *store.DB, in webui.VoicemailSettings) error {
	sec := securityOr(in.SMTPTLS)
	s := mail.Settings{Host: in.SMTPHost, Port: portOr(in.SMTPPort, sec), Security: sec, From: in.From, User: in.User, Password: in.Password}
	if err := s.Check(); err != nil {
		return refused(err)
	}
	return putSetting(db, settingMail, s)
}

// adoptVoicemailSMTP moves the mail server an older voicemail kept of its
// own into the box's mail settings, unless the box already has one (which
// then serves voicemail too).
func adoptVoicemailSMTP(db *store.DB, log *slog.Logger, l voicemail.LegacySMTP) error {
	var cur mail.Settings
	if err := getSetting(db, settingMail, &cur); err != nil {
		return err
	}
	if cur.Host != "" {
		log.Info("voicemail's own mail server dropped: the box's mail settings serve voicemail", "dropped", l.Host, "kept", cur.Host)
		return nil
	}
	sec := securityOr(l.TLS)
	s := mail.Settings{Host: l.Host, Port: portOr(l.Port, sec), Security: sec, From: l.From, User: l.User, Password: l.Password}
	if err := s.Check(); err != nil {
		log.Warn("voicemail's old mail server not adopted: it does not check", "host", l.Host, "err", err)
		return nil
	}
	if err := putSetting(db, settingMail, s); err != nil {
		return err
	}
	log.Info("voicemail's mail server is now the box's mail settings", "host", l.Host)
	return nil
}

// faxMailer mails received faxes to the address the fax settings give
// their number (fax.Settings.MailTo), the TIFF attached, on its one
// goroutine: the fax's own goroutine only queues it. A fax not mailed
// (no mail settings, the server refusing it) stays in the inbox.
type faxMailer struct {
	a      *App
	store  *faxStore
	queue  chan fax.Record
	cancel context.CancelFunc
	done   chan struct{}
}

// faxMailTries and faxMailEvery: a refused mail is tried this many times
// in all, this far apart.
const (
	faxMailTries = 3
	faxMailEvery = 30 * time.Second
)

func startFaxMailer(a *App, fs *faxStore) *faxMailer {
	ctx, cancel := context.WithCancel(context.Background())
	m := &faxMailer{a: a, store: fs, queue: make(chan fax.Record, 64), cancel: cancel, done: make(chan struct{})}
	go m.run(ctx)
	return m
}

// received queues a finished received fax for its mail, if its number has
// an address; it never blocks the fax.
func (m *faxMailer) received(r fax.Record) {
	if r.Direction != fax.In || r.Status == fax.StatusActive || r.Pages == 0 {
		return
	}
	select {
	case m.queue <- r:
	default:
		m.a.log.Warn("fax not mailed: too many at once", "id", r.ID)
	}
}

// close stops the mailer; faxes still queued stay unmailed (kept in the
// inbox).
func (m *faxMailer) close() {
	m.cancel()
	<-m.done
}

func (m *faxMailer) run(ctx context.Context) {
	defer close(m.done)
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-m.queue:
			m.mail(ctx, r)
		}
	}
}

// mail sends one fax, trying again a few times.
func (m *faxMailer) mail(ctx context.Context, r fax.Record) {
	st, err := loadFaxSettings(m.store.db)
	if err != nil {
		m.a.log.Warn("fax not mailed", "id", r.ID, "err", err)
		return
	}
	to := st.MailTo(r)
	if to == "" {
		return
	}
	doc, err := m.store.tiff(r.ID)
	if err != nil {
		m.a.log.Warn("fax not mailed", "id", r.ID, "to", to, "err", err)
		return
	}
	from := r.Number
	if from == "" {
		from = "unknown"
	}
	if r.Ident != "" {
		from += " (" + r.Ident + ")"
	}
	msg := mail.Message{To: []string{to},
		Subject: fmt.Sprintf("Fax from %s to %s, %d pages / 传真", from, r.To, r.Pages),
		Text: fmt.Sprintf("A fax came in for %s.\r\nFrom: %s\r\nPages: %d\r\nReceived: %s\r\nStatus: %s %s\r\n\r\n"+
			"%s 收到一份传真。\r\n发送方: %s\r\n页数: %d\r\n时间: %s\r\n",
			r.To, from, r.Pages, r.Start.Local().Format(time.DateTime), r.Status, r.Error,
			r.To, from, r.Pages, r.Start.Local().Format(time.DateTime)),
		Attachments: []mail.Attachment{{Name: "fax-" + r.ID + ".tif", ContentType: "image/tiff", Data: doc}}}
	for try := 1; ; try++ {
		err := m.a.SendMail(ctx, msg)
		if err == nil {
			m.a.log.Info("fax mailed", "id", r.ID, "to", to)
			return
		}
		m.a.log.Warn("fax not mailed", "id", r.ID, "to", to, "attempt", try, "err", err)
		if try == faxMailTries {
			return
		}
		t := time.NewTimer(faxMailEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
