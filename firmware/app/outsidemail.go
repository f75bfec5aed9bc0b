package app

import (
	"context"

	"callbox/firmware/mail"
)

// outsidemail.go: the box's parts that mail (voicemail, received faxes)
// send through App.SendMail, the one SMTP server of the mail settings.

// vmMailer is voicemail.Mailer over the box's mail.
type vmMailer struct{ a *App }

func (m vmMailer) Mail(ctx context.Context, to, subject, text, name, contentType string, attachment []byte) error {
	return m.a.SendMail(ctx, mail.Message{To: []string{to}, Subject: subject, Text: text,
		Attachments: []mail.Attachment{{Name: name, ContentType: contentType, Data: attachment}}})
}
