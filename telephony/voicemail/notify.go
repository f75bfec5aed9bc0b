package voicemail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Dialer places notification calls: the call-centre service dials number
// as an outside call from the box and, once it is answered, runs run over
// it; Dial returns when the call is over, with an error when nobody
// answered (busy, no answer, a failed route).
type Dialer interface {
	Dial(ctx context.Context, number string, run func(Call) error) error
}

// Mailer sends a message with one attachment through the box's mail
// service (firmware/app's, whose SMTP settings the whole box shares).
type Mailer interface {
	Mail(ctx context.Context, to, subject, text, name, contentType string, attachment []byte) error
}

// LegacySMTP is the mail server an older voicemail kept in its own
// settings, before the box had one mail configuration; MoveLegacySMTP
// hands it over once.
type LegacySMTP struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	// TLS is "starttls", "tls" or "none" ("" was starttls).
	TLS      string `json:"tls"`
	From     string `json:"from"`
	User     string `json:"user,omitempty"`
	Password string `json:"password,omitempty"`
}

// legacySettings is the shape of those stored settings.
type legacySettings struct {
	SMTP LegacySMTP `json:"smtp"`
}

// MoveLegacySMTP hands a mail server stored by an older voicemail to
// adopt (firmware/app puts it into the box's mail settings) and forgets
// it once adopt returns nil; a box without one does nothing. Mail goes
// through the Mailer only.
func (s *Service) MoveLegacySMTP(adopt func(LegacySMTP) error) error {
	set, ok, err := s.idx.legacy()
	if err != nil || !ok {
		return err
	}
	if set.SMTP.Host != "" {
		if err := adopt(set.SMTP); err != nil {
			return fmt.Errorf("voicemail: moving the old mail settings: %w", err)
		}
	}
	return s.idx.delLegacy()
}

// jobKind is a kind of notification.
type jobKind uint8

const (
	jobCall jobKind = iota + 1
	jobMail
)

// job is one notification to make, maybe again later.
type job struct {
	kind    jobKind
	box     string
	msg     Message
	attempt int
	due     time.Time
}

// notify queues a new message's notifications; a full queue (hundreds of
// messages at once) loses them, with a log line.
func (s *Service) notify(b Box, m Message) {
	var jobs []job
	if b.NotifyNumber != "" && s.cfg.Dialer != nil {
		jobs = append(jobs, job{kind: jobCall, box: b.Number, msg: m})
	}
	if b.Email != "" && s.cfg.Mailer != nil {
		jobs = append(jobs, job{kind: jobMail, box: b.Number, msg: m})
	}
	for _, j := range jobs {
		select {
		case s.jobs <- j:
		default:
			s.log.Warn("voicemail notification dropped: too many at once", "box", b.Number, "id", m.ID)
		}
	}
}

// notifier is the notification goroutine: it makes each notification,
// keeps the ones to try again until they are due, and stops with the
// service.
func (s *Service) notifier() {
	defer s.wg.Done()
	var (
		later []job
		timer = time.NewTimer(time.Hour)
	)
	defer timer.Stop()
	for {
		next := time.Hour
		if len(later) > 0 {
			next = max(time.Until(later[0].due), 0)
		}
		timer.Reset(next)
		select {
		case <-s.ctx.Done():
			return
		case j := <-s.jobs:
			if again, ok := s.run(j); ok {
				later = insertJob(later, again)
			}
		case <-timer.C:
			now := time.Now()
			for len(later) > 0 && !later[0].due.After(now) {
				j := later[0]
				later = later[1:]
				if again, ok := s.run(j); ok {
					later = insertJob(later, again)
				}
			}
		}
	}
}

// insertJob keeps later ordered by due time.
func insertJob(later []job, j job) []job {
	i := len(later)
	for i > 0 && later[i-1].due.After(j.due) {
		i--
	}
	return append(later[:i], append([]job{j}, later[i:]...)...)
}

// run makes one notification and says whether (and when) to try again.
func (s *Service) run(j job) (job, bool) {
	b, err := s.idx.box(j.box)
	if err != nil {
		return j, false // the box is gone
	}
	m, err := s.idx.message(j.box, j.msg.ID)
	if err != nil {
		return j, false // the message is gone
	}
	switch j.kind {
	case jobCall:
		if m.State != StateNew {
			return j, false // heard meanwhile
		}
		listened, err := s.callOwner(b, m)
		switch {
		case listened:
			s.log.Info("voicemail notification heard", "box", b.Number, "id", m.ID, "number", b.NotifyNumber)
			return j, false
		case s.ctx.Err() != nil:
			return j, false
		}
		s.log.Info("voicemail notification call not heard", "box", b.Number, "id", m.ID, "number", b.NotifyNumber,
			"attempt", j.attempt+1, "err", err)
	case jobMail:
		err = s.mail(b, m)
		if err == nil {
			s.log.Info("voicemail mailed", "box", b.Number, "id", m.ID, "to", b.Email)
			return j, false
		}
		s.log.Warn("voicemail mail not sent", "box", b.Number, "id", m.ID, "to", b.Email, "attempt", j.attempt+1, "err", err)
	}
	j.attempt++
	if j.attempt > s.cfg.NotifyRetries {
		s.log.Warn("voicemail notification given up", "box", b.Number, "id", m.ID, "attempts", j.attempt)
		return j, false
	}
	j.due = time.Now().Add(s.cfg.NotifyEvery)
	return j, true
}

// callOwner calls the box's notification number: "you have a new
// message, press 1 to listen"; 1 plays the message (which is then heard).
func (s *Service) callOwner(b Box, m Message) (listened bool, err error) {
	err = s.cfg.Dialer.Dial(s.ctx, b.NotifyNumber, func(c Call) error {
		for range 2 {
			if err := c.Say(Prompt{Name: PromptNotify}, true); err != nil {
				return err
			}
			k, err := c.Collect(1, "", 8*time.Second, 0)
			if err != nil {
				return err
			}
			if k != "1" {
				continue
			}
			if err := c.Say(Prompt{File: s.messagePath(b.Number, m.ID)}, false); err != nil {
				return err
			}
			listened = true
			if err := s.SetState(b.Number, m.ID, StateSaved); err != nil {
				s.log.Warn("voicemail message not marked heard", "box", b.Number, "id", m.ID, "err", err)
			}
			break
		}
		if err := c.Say(Prompt{Name: PromptGoodbye}, false); err != nil {
			return err
		}
		c.Hangup()
		return nil
	})
	if errors.Is(err, ErrHangup) {
		err = nil
	}
	return listened, err
}

// mail sends a message to the box's address with the audio attached.
func (s *Service) mail(b Box, m Message) error {
	audio, err := os.ReadFile(s.messagePath(b.Number, m.ID))
	if err != nil {
		return fmt.Errorf("voicemail: %w", err)
	}
	from := m.Caller
	if from == "" {
		from = "unknown"
	}
	if m.CallerName != "" {
		from = m.CallerName + " <" + from + ">"
	}
	subject := fmt.Sprintf("New voicemail from %s (box %s) / 新留言", from, b.Number)
	body := fmt.Sprintf("Box %s %s has a new message.\r\nFrom: %s\r\nReceived: %s\r\nLength: %s\r\n\r\n"+
		"信箱 %s 有一条新留言。\r\n来电: %s\r\n时间: %s\r\n时长: %s\r\n",
		b.Number, b.Name, from, m.Received.Local().Format(time.DateTime), m.Duration.Round(time.Second),
		b.Number, from, m.Received.Local().Format(time.DateTime), m.Duration.Round(time.Second))
	ctx, cancel := context.WithTimeout(s.ctx, time.Minute)
	defer cancel()
	return s.cfg.Mailer.Mail(ctx, b.Email, subject, body, m.ID+".wav", "audio/wav", audio)
}
