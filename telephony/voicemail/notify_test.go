package voicemail

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	boxmail "callbox/firmware/mail"
	"callbox/firmware/mail/mailtest"
)

// dialer answers notification calls from a script: each entry is what
// the owner does on one call ("" = no answer, else the keys they press).
type dialer struct {
	mu      sync.Mutex
	script  []string
	calls   []string
	callers []*caller
	t       *testing.T
	done    chan struct{}
}

func (d *dialer) Dial(ctx context.Context, number string, run func(Call) error) error {
	d.mu.Lock()
	d.calls = append(d.calls, number)
	n := len(d.calls)
	var act string
	if n <= len(d.script) {
		act = d.script[n-1]
	}
	d.mu.Unlock()
	defer func() {
		if n == len(d.script) {
			close(d.done)
		}
	}()
	if act == "" {
		return errors.New("no answer")
	}
	c := &caller{t: d.t, keys: strings.Split(act, ",")}
	d.mu.Lock()
	d.callers = append(d.callers, c)
	d.mu.Unlock()
	return run(c)
}

// TestNotifyCall: a new message calls the owner's number; unanswered, it
// is tried again later; answered, "you have a new message, press 1 to
// listen", and 1 plays the message, which is then heard.
func TestNotifyCall(t *testing.T) {
	d := &dialer{t: t, script: []string{"", "", "1"}, done: make(chan struct{})}
	s := newService(t, Config{Dialer: d, NotifyEvery: 20 * time.Millisecond})
	addBox(t, s, Box{Number: "8001", NotifyNumber: "13900000000"})
	c := &caller{t: t, takes: []take{{dur: 2 * time.Second, spoken: true}}}
	if err := s.Deposit(c, "8001", Caller{Number: "02584000000"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		t.Fatalf("notification calls: %v", d.calls)
	}
	msgs, _ := s.Messages("8001")
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.calls) != 3 || d.calls[2] != "13900000000" {
		t.Fatalf("calls %v", d.calls)
	}
	if got := said(d.callers[0]); got != "vm/notify file:"+msgs[0].ID+".wav vm/goodbye hangup" {
		t.Fatalf("the owner heard %q", got)
	}
	if msgs[0].State != StateSaved {
		t.Fatalf("the message after the owner heard it: %+v", msgs[0])
	}
}

// TestNotifyGivesUp: an owner who never answers is called 1 + retries
// times; a message heard meanwhile stops the calls.
func TestNotifyGivesUp(t *testing.T) {
	d := &dialer{t: t, script: []string{"", "", ""}, done: make(chan struct{})}
	s := newService(t, Config{Dialer: d, NotifyEvery: 10 * time.Millisecond, NotifyRetries: 2})
	addBox(t, s, Box{Number: "8001", NotifyNumber: "13900000000"})
	c := &caller{t: t, takes: []take{{dur: 2 * time.Second, spoken: true}}}
	s.Deposit(c, "8001", Caller{})
	<-d.done
	time.Sleep(50 * time.Millisecond)
	d.mu.Lock()
	if len(d.calls) != 3 {
		t.Fatalf("calls %v", d.calls)
	}
	d.mu.Unlock()

	d2 := &dialer{t: t, script: []string{"", "1"}, done: make(chan struct{})}
	s2 := newService(t, Config{Dialer: d2, NotifyEvery: 200 * time.Millisecond})
	addBox(t, s2, Box{Number: "8001", NotifyNumber: "13900000000"})
	s2.Deposit(&caller{t: t, takes: []take{{dur: 2 * time.Second, spoken: true}}}, "8001", Caller{})
	time.Sleep(50 * time.Millisecond)
	msgs, _ := s2.Messages("8001")
	s2.SetState("8001", msgs[0].ID, StateSaved) // heard on the web
	time.Sleep(400 * time.Millisecond)
	d2.mu.Lock()
	defer d2.mu.Unlock()
	if len(d2.calls) != 1 {
		t.Fatalf("calls after the message was heard: %v", d2.calls)
	}
}

// boxMail is the Mailer firmware/app gives voicemail: the box's one mail
// sender (firmware/mail) and its settings.
type boxMail struct{ m *boxmail.Mailer }

func (b boxMail) Mail(ctx context.Context, to, subject, text, name, contentType string, attachment []byte) error {
	return b.m.Send(ctx, boxmail.Message{To: []string{to}, Subject: subject, Text: text,
		Attachments: []boxmail.Attachment{{Name: name, ContentType: contentType, Data: attachment}}})
}

// TestMail: a new message is mailed to the box's address with the audio
// attached, through the box's mail sender to a real SMTP server, as a
// mail reader parses it.
func TestMail(t *testing.T) {
	srv := &mailtest.Server{}
	port := srv.Start(t, false)
	set := boxmail.Settings{Host: "127.0.0.1", Port: port, Security: boxmail.None, From: "box@callbox.example"}
	s := newService(t, Config{Mailer: boxMail{&boxmail.Mailer{Settings: func() (boxmail.Settings, error) { return set, nil }}}})
	addBox(t, s, Box{Number: "8001", Name: "张三", Email: "zhang@example.com"})
	if err := s.Deposit(&caller{t: t, takes: []take{{dur: 2 * time.Second, spoken: true}}}, "8001", Caller{Number: "13800138000"}); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(30 * time.Second); len(srv.Received()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("no mail")
		}
	}
	got := srv.Received()[0]
	if len(got.Rcpt) != 1 || got.Rcpt[0] != "zhang@example.com" {
		t.Fatalf("mailed to %v", got.Rcpt)
	}
	m, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if to, err := mail.ParseAddress(m.Header.Get("To")); err != nil || to.Address != "zhang@example.com" || !strings.Contains(subj, "13800138000") || !strings.Contains(subj, "新留言") {
		t.Fatalf("headers %v, subject %q", m.Header, subj)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var text string
	var audio []byte
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = part // quoted-printable is decoded by the reader
		if part.Header.Get("Content-Transfer-Encoding") == "base64" {
			r = decodeB64(part)
		}
		b, _ := io.ReadAll(r)
		if part.FileName() != "" {
			audio = b
		} else {
			text = string(b)
		}
	}
	msgs, _ := s.Messages("8001")
	want, _ := os.ReadFile(s.messagePath("8001", msgs[0].ID))
	if !bytes.Equal(audio, want) || !strings.Contains(text, "13800138000") {
		t.Fatalf("attachment %d bytes (want %d), text %q", len(audio), len(want), text)
	}
}

func decodeB64(r io.Reader) io.Reader {
	b, _ := io.ReadAll(r)
	return base64Reader(b)
}

func base64Reader(b []byte) io.Reader {
	out := make([]byte, len(b))
	n, _ := b64std.Decode(out, bytes.ReplaceAll(b, []byte("\r\n"), nil))
	return bytes.NewReader(out[:n])
}

var b64std = base64.StdEncoding

// TestMoveLegacySMTP: the mail server an older voicemail kept in its own
// settings is handed over once (firmware/app puts it into the box's mail
// settings) and then forgotten; a refused hand-over keeps it for the next
// start; a box without one hands over nothing.
func TestMoveLegacySMTP(t *testing.T) {
	st := newMemStore()
	old := []byte(`{"smtp":{"host":"mail.example.com","port":587,"tls":"starttls","from":"vm@example.com","user":"vm","password":"pw"}}`)
	if err := st.Put([]byte(keySettings), old); err != nil {
		t.Fatal(err)
	}
	s := newService(t, Config{Store: st})
	var got []LegacySMTP
	adopt := func(l LegacySMTP) error { got = append(got, l); return nil }
	if err := s.MoveLegacySMTP(func(LegacySMTP) error { return errors.New("store full") }); err == nil {
		t.Fatal("a refused hand-over succeeded")
	}
	if err := s.MoveLegacySMTP(adopt); err != nil {
		t.Fatal(err)
	}
	if err := s.MoveLegacySMTP(adopt); err != nil {
		t.Fatal(err)
	}
	want := LegacySMTP{Host: "mail.example.com", Port: 587, TLS: "starttls", From: "vm@example.com", User: "vm", Password: "pw"}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("handed over %+v, want once %+v", got, want)
	}
	if v, ok, err := st.Get([]byte(keySettings)); err != nil || ok {
		t.Fatalf("the old settings are still stored: %q %v", v, err)
	}
}
