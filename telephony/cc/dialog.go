package cc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/fax"
	"callbox/telephony/ivr"
	callswitch "callbox/telephony/switch"
)

// A dialogue is what the service says to and collects from one leg (a
// caller in an IVR flow, an agent logging in by feature code): it runs on
// a goroutine of its own, blocking on its mailbox, which the loop (digits,
// the leg's end, queue outcomes) and the switch (a prompt finished) feed.

// msgKind says what a dialogue's message is.
type msgKind uint8

const (
	msgDigit  msgKind = iota + 1 // the leg sent a digit
	msgGone                      // the leg ended
	msgPlayed                    // a prompt finished (ok) or was stopped
	msgTimer                     // a timer fired
	msgQueue                     // a queue outcome (queueResult)
	msgStop                      // the dialogue is cancelled
	msgReply                     // the loop answered a request (err)
	msgLeg                       // a leg the dialogue waits for answered (err nil) or failed (token: the leg)
	msgFax                       // the fax on the leg is over (fax.go)
)

type msg struct {
	kind  msgKind
	digit byte
	token uint64
	ok    bool
	queue queueResult
	err   error
}

// mailbox is an unbounded queue of messages for one dialogue; pushing
// never blocks, so the switch's goroutine may push.
type mailbox struct {
	mu     sync.Mutex
	q      []msg
	c      chan struct{}
	closed bool // the dialogue is over: messages are dropped
}

// dialog is one dialogue. Its fields are the goroutine's, except box.
type dialog struct {
	s      *Service
	ses    *session // for its identity only: the loop owns its fields
	id     string
	ac     *callswitch.AppCall
	leg    callswitch.LegID
	lang   string
	number string // the caller's
	called string
	ctx    context.Context
	cancel context.CancelCauseFunc
	box    mailbox
	tok    uint64
	ahead  []byte // digits typed ahead, for the next collect
	gone   bool
	done   chan struct{} // closed when the dialogue's goroutine ends
	cng    *fax.Detector // the fax detector listening on the leg, if any (fax.go)
	// consented: the recording consent prompt was played.
	consented bool
}

// startDialog runs fn on a goroutine as the session's dialogue on its
// caller's leg.
func (s *Service) startDialog(ses *session, fn func(d *dialog)) *dialog {
	return s.startDialogOn(ses, ses.caller, fn)
}

// startDialogOn runs fn as the session's dialogue on leg.
func (s *Service) startDialogOn(ses *session, leg callswitch.LegID, fn func(d *dialog)) *dialog {
	if ses.dlg != nil {
		ses.dlg.stop(nil)
	}
	ctx, cancel := context.WithCancelCause(s.ctx)
	d := &dialog{s: s, ses: ses, id: ses.id, ac: ses.ac, leg: leg, lang: language(s.cfg.Load()),
		number: ses.number, called: ses.in.To, ctx: ctx, cancel: cancel, box: mailbox{c: make(chan struct{}, 1)},
		done: make(chan struct{})}
	if ses.cng != nil && leg == ses.caller {
		d.cng = ses.cng
	}
	ses.dlg = d
	s.busy.Add(1) // running
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.busy.Add(-1)
		defer close(d.done)
		defer cancel(nil)
		defer d.close()
		fn(d)
		s.post(func() {
			if ses.dlg == d {
				ses.dlg = nil
			}
		})
	}()
	return d
}

// push gives the dialogue a message; it never blocks.
func (d *dialog) push(m msg) {
	d.box.mu.Lock()
	if d.box.closed {
		d.box.mu.Unlock()
		return
	}
	d.s.busy.Add(1)
	d.box.q = append(d.box.q, m)
	d.box.mu.Unlock()
	select {
	case d.box.c <- struct{}{}:
	default:
	}
}

// close drops the messages left when the dialogue ends, and those to come.
func (d *dialog) close() {
	d.box.mu.Lock()
	d.box.closed = true
	d.s.busy.Add(-int64(len(d.box.q)))
	d.box.q = nil
	d.box.mu.Unlock()
}

// stop cancels the dialogue (cause ivr.ErrResume: the agent takes the
// caller back).
func (d *dialog) stop(cause error) {
	d.cancel(cause)
	d.push(msg{kind: msgStop})
}

// next waits for the next message. It fails with the dialogue's
// cancellation cause once cancelled.
func (d *dialog) next() (msg, error) {
	for {
		d.box.mu.Lock()
		if len(d.box.q) > 0 {
			m := d.box.q[0]
			d.box.q = d.box.q[1:]
			d.box.mu.Unlock()
			d.s.busy.Add(-1)
			if m.kind == msgStop || d.ctx.Err() != nil {
				return msg{}, d.err()
			}
			return m, nil
		}
		d.box.mu.Unlock()
		if d.ctx.Err() != nil {
			return msg{}, d.err()
		}
		d.s.busy.Add(-1) // waiting
		select {
		case <-d.box.c:
		case <-d.ctx.Done():
		}
		d.s.busy.Add(1)
	}
}

// err is why the dialogue cannot go on.
func (d *dialog) err() error {
	if d.gone {
		return ivr.ErrHangup
	}
	if c := context.Cause(d.ctx); c != nil {
		return c
	}
	return context.Canceled
}

// handle deals with a message any wait may receive: digits are typed
// ahead, the leg's end ends every wait.
func (d *dialog) handle(m msg) error {
	switch m.kind {
	case msgDigit:
		if len(d.ahead) < 64 {
			d.ahead = append(d.ahead, m.digit)
		}
	case msgGone:
		d.gone = true
		return ivr.ErrHangup
	}
	return nil
}

func (d *dialog) token() uint64 { d.tok++; return d.tok }

// timer delivers a msgTimer with token after dur.
func (d *dialog) timer(dur time.Duration) (uint64, acd.Timer) {
	t := d.token()
	return t, d.s.clock.AfterFunc(dur, func() { d.push(msg{kind: msgTimer, token: t}) })
}

// play plays src to the end; with cut, a digit stops it (the digit is
// typed ahead). Digits typed earlier cut it at once.
func (d *dialog) play(src callswitch.Source, cut bool) error {
	if d.gone {
		return ivr.ErrHangup
	}
	if cut && len(d.ahead) > 0 {
		return nil
	}
	t := d.token()
	d.ac.Play(d.leg, src, func(ok bool) { d.push(msg{kind: msgPlayed, token: t, ok: ok}) })
	stopped := false
	for {
		m, err := d.next()
		if err != nil {
			d.ac.StopPlay(d.leg)
			return err
		}
		if m.kind == msgPlayed && m.token == t {
			return nil
		}
		if err := d.handle(m); err != nil {
			return err
		}
		if cut && m.kind == msgDigit && !stopped {
			stopped = true
			d.ac.StopPlay(d.leg)
		}
	}
}

// source resolves a prompt in the dialogue's language.
func (d *dialog) source(p ivr.Prompt) (callswitch.Source, error) {
	return d.s.opts.Prompts.Source(d.ctx, p, d.lang)
}

// say plays a prompt (its text when the file is missing); with cut a
// digit stops it.
func (d *dialog) say(p ivr.Prompt, cut bool) error {
	src, err := d.source(p)
	if errors.Is(err, ivr.ErrPromptMissing) && p.File != "" && p.Text != "" {
		src, err = d.source(ivr.Prompt{Text: p.Text})
	}
	if err != nil {
		return err
	}
	return d.play(src, cut)
}

// sayQuiet says a system prompt; a prompt the box cannot play is logged,
// not fatal (the dialogue goes on without it).
func (d *dialog) sayQuiet(p ivr.Prompt) error {
	err := d.say(p, false)
	if err != nil && !errors.Is(err, ivr.ErrHangup) && d.ctx.Err() == nil {
		d.s.log.Warn("prompt not played", "prompt", p.File, "call", d.id, "err", err)
		return nil
	}
	return err
}

// collect plays req.Prompt (a key cuts it) and collects keys as an IVR
// collect does: up to Max, ended by Terminator, FirstTimeout for the first
// key and InterDigit for each next.
func (d *dialog) collect(req ivr.CollectRequest) (string, error) {
	if !req.Prompt.IsZero() {
		if err := d.say(req.Prompt, true); err != nil {
			return "", err
		}
	}
	var got []byte
	take := func() (done bool) {
		for len(d.ahead) > 0 {
			k := d.ahead[0]
			d.ahead = d.ahead[1:]
			if req.Terminator != "" && strings.IndexByte(req.Terminator, k) >= 0 {
				return true
			}
			got = append(got, k)
			if req.Max > 0 && len(got) >= req.Max {
				return true
			}
		}
		return false
	}
	if take() {
		return string(got), nil
	}
	wait := req.FirstTimeout
	if len(got) > 0 {
		wait = req.InterDigit
	}
	if wait <= 0 {
		wait = 5 * time.Second
	}
	t, tm := d.timer(wait)
	defer func() { tm.Stop() }()
	for {
		m, err := d.next()
		if err != nil {
			return "", err
		}
		if m.kind == msgTimer {
			if m.token == t {
				return string(got), nil
			}
			continue
		}
		if err := d.handle(m); err != nil {
			return "", err
		}
		if m.kind == msgDigit {
			if take() {
				return string(got), nil
			}
			tm.Stop()
			inter := req.InterDigit
			if inter <= 0 {
				inter = 3 * time.Second
			}
			t, tm = d.timer(inter)
		}
	}
}

// ask posts f to the loop and waits for its answer.
func (d *dialog) ask(f func() error) error {
	t := d.token()
	d.s.post(func() { d.push(msg{kind: msgReply, token: t, err: f()}) })
	for {
		m, err := d.next()
		if err != nil {
			return err
		}
		if m.kind == msgReply && m.token == t {
			return m.err
		}
		if err := d.handle(m); err != nil {
			return err
		}
	}
}

// hangup hangs up the dialogue's leg.
func (d *dialog) hangup() {
	if !d.gone {
		d.ac.Hangup(d.leg, callswitch.CauseNormal)
	}
}

// voicemail lets the caller leave a message in box through the voicemail
// service; without one the caller is told, honestly, that voicemail is not
// available, and the box logs it.
func (d *dialog) voicemail(box string) error {
	if d.s.opts.Voicemail != nil {
		return d.depositVoicemail(box)
	}
	d.s.log.Warn("voicemail is not available yet: the caller was told and hung up", "mailbox", box, "call", d.id, "number", d.number)
	d.s.notice(d.id, "", fmt.Sprintf("voicemail %s is not available yet", box))
	if err := d.sayQuiet(promptNoVoicemail); err != nil {
		return err
	}
	return nil
}
