package voicemail

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
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

// smtpSink is a minimal SMTP server that keeps the messages it receives.
type smtpSink struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs [][]byte
	got  chan struct{}
}

func newSMTPSink(t *testing.T) *smtpSink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpSink{ln: ln, got: make(chan struct{}, 8)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpSink) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(l string) { io.WriteString(c, l+"\r\n") }
	say("220 sink ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 sink")
		case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"), strings.HasPrefix(cmd, "RSET"):
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			var msg bytes.Buffer
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				msg.WriteString(strings.TrimPrefix(l, "."))
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, msg.Bytes())
			s.mu.Unlock()
			say("250 queued")
			s.got <- struct{}{}
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 no")
		}
	}
}

// TestMail: with SMTP set up, a new message is mailed to the box's
// address with the audio attached, as a mail reader parses it.
func TestMail(t *testing.T) {
	sink := newSMTPSink(t)
	s := newService(t, Config{})
	host, port, _ := net.SplitHostPort(sink.ln.Addr().String())
	p := 0
	for _, ch := range port {
		p = p*10 + int(ch-'0')
	}
	if err := s.SetSettings(Settings{SMTP: SMTP{Host: host, Port: p, TLS: "none", From: "box@callbox.example"}}); err != nil {
		t.Fatal(err)
	}
	addBox(t, s, Box{Number: "8001", Name: "张三", Email: "zhang@example.com"})
	if err := s.Deposit(&caller{t: t, takes: []take{{dur: 2 * time.Second, spoken: true}}}, "8001", Caller{Number: "13800138000"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sink.got:
	case <-time.After(5 * time.Second):
		t.Fatal("no mail")
	}
	sink.mu.Lock()
	raw := sink.msgs[0]
	sink.mu.Unlock()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if m.Header.Get("To") != "zhang@example.com" || !strings.Contains(subj, "13800138000") || !strings.Contains(subj, "新留言") {
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
		b, _ := io.ReadAll(decodeB64(part))
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
