package cc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"callbox/dsp/wav"
	"callbox/telephony/ivr"
	"callbox/telephony/media"
	"callbox/telephony/prompt"
	"callbox/telephony/recording"
	callswitch "callbox/telephony/switch"
	"callbox/telephony/voicemail"
)

// The media services on the service's calls: voicemail (deposit from a
// flow, a route, a group's overflow or an extension's forward to *96;
// retrieval by feature code), the recording index's details of each
// recording, and the recording of agents' outbound calls.

// RecordingInfo is what a recording is of, for the recording index: the
// service's call id links the legs of one service.
type RecordingInfo struct {
	Call, Service, Kind           string
	Agent, Group, Customer, Where string // Where: "in", "out"
}

// InfoRecorder is a Recorder that files the details of what it records;
// the service gives them when its Recorder implements it.
type InfoRecorder interface {
	StartInfo(RecordingInfo) (Recording, error)
}

// recordingInfo describes a session's recording.
func (s *Service) recordingInfo(ses *session, kind string) RecordingInfo {
	info := RecordingInfo{Call: ses.id, Service: ses.id, Kind: kind, Agent: string(ses.agent), Customer: ses.number, Where: "in"}
	if ses.kind == kindOutbound {
		info.Where, info.Kind = "out", "outbound"
		if ses.cb != nil {
			info.Agent = string(ses.cb.agent)
		}
	}
	if ses.group != 0 {
		info.Group = strconv.Itoa(ses.group)
		if g, ok := groupConf(s.cfg.Load(), ses.group); ok && g.Name != "" {
			info.Group = g.Name
		}
	}
	return info
}

// startRecorder starts a recording through the Recorder, with the
// session's details when it takes them.
func (s *Service) startRecorder(ses *session, kind string) (Recording, error) {
	if ir, ok := s.opts.Recorder.(InfoRecorder); ok {
		return ir.StartInfo(s.recordingInfo(ses, kind))
	}
	return s.opts.Recorder.Start(ses.id, kind)
}

// vmCall is voicemail.Call over a dialogue.
type vmCall struct{ d *dialog }

var _ voicemail.Call = vmCall{}

// vmErr gives voicemail the hang-up it knows.
func vmErr(err error) error {
	if errors.Is(err, ivr.ErrHangup) {
		return fmt.Errorf("%w: %w", voicemail.ErrHangup, err)
	}
	return err
}

// Say implements voicemail.Call.
func (c vmCall) Say(p voicemail.Prompt, cut bool) error {
	d := c.d
	switch {
	case p.Name != "":
		return vmErr(d.sayNames(cut, p.Name))
	case p.File != "":
		src, err := fileSource(p.File)
		if err != nil {
			d.s.log.Warn("voicemail audio not played", "file", p.File, "call", d.id, "err", err)
			return nil
		}
		return vmErr(d.play(src, cut))
	case p.Number != "":
		n, _ := strconv.Atoi(p.Number)
		return vmErr(d.sayNames(cut, prompt.Count(n, d.lang)...))
	case p.Digits != "":
		return vmErr(d.sayNames(cut, prompt.Digits(p.Digits, d.lang)...))
	}
	return nil
}

// Collect implements voicemail.Call.
func (c vmCall) Collect(max int, term string, first, inter time.Duration) (string, error) {
	k, err := c.d.collect(ivr.CollectRequest{Max: max, Terminator: term, FirstTimeout: first, InterDigit: inter})
	return k, vmErr(err)
}

// Record implements voicemail.Call.
func (c vmCall) Record(spec voicemail.RecordSpec) (voicemail.Recorded, error) {
	res, key, err := c.d.take(recording.TakeConfig{Path: spec.Path, Max: spec.Max, Silence: spec.Silence}, spec.Beep, spec.Term)
	return voicemail.Recorded{Duration: res.Duration, Spoken: res.Spoken, Key: key}, vmErr(err)
}

// CallBack implements voicemail.Call: a blind transfer to the number.
func (c vmCall) CallBack(number string) error {
	c.d.ac.Handoff(c.d.leg, number, "")
	c.d.gone = true
	return nil
}

// Hangup implements voicemail.Call.
func (c vmCall) Hangup() { c.d.hangup() }

// sayNames says catalogue prompts in turn; one the box cannot play is
// logged and skipped, so a missing prompt never stops a dialogue.
func (d *dialog) sayNames(cut bool, names ...string) error {
	for _, n := range names {
		err := d.say(ivr.Prompt{File: n}, cut)
		switch {
		case errors.Is(err, ivr.ErrHangup), d.ctx.Err() != nil:
			return err
		case err != nil:
			d.s.log.Warn("prompt not played", "prompt", n, "call", d.id, "err", err)
		}
		if cut && len(d.ahead) > 0 {
			return nil
		}
	}
	return nil
}

// fileSource plays a WAV file of 8 kHz mono (a message, a greeting), read
// whole here, off the media clock.
func fileSource(path string) (callswitch.Source, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	x, err := wav.Decode(b)
	if err != nil {
		return nil, err
	}
	return media.NewPlayer(x), nil
}

// take records what the dialogue's leg says into cfg.Path (see
// recording.Take): after a beep, until the take ends by itself, a key of
// term (returned) or a hang-up (ivr.ErrHangup, with what was kept).
func (d *dialog) take(cfg recording.TakeConfig, beep bool, term string) (recording.TakeResult, byte, error) {
	if beep {
		if err := d.play(callswitch.Beep(1000, 300*time.Millisecond), false); err != nil {
			return recording.TakeResult{}, 0, err
		}
	}
	d.ahead = d.ahead[:0]
	tap := media.NewTap(100)
	tk, err := recording.StartTake(cfg, tap)
	if err != nil {
		return recording.TakeResult{}, 0, err
	}
	d.setTap(tap)
	t := d.token()
	stop := make(chan struct{})
	ended := make(chan struct{})
	go func() { // tells the dialogue the take ended by itself; ends with it
		defer close(ended)
		select {
		case <-tk.Done():
			d.push(msg{kind: msgTimer, token: t})
		case <-stop:
		}
	}()
	var key byte
	var werr error
wait:
	for {
		m, err := d.next()
		switch {
		case err != nil:
			werr = err
			break wait
		case m.kind == msgTimer && m.token == t:
			break wait
		case m.kind == msgDigit && term != "" && strings.IndexByte(term, m.digit) >= 0:
			key = m.digit
			break wait
		case m.kind == msgGone:
			d.gone = true
			werr = ivr.ErrHangup
			break wait
		}
	}
	close(stop)
	<-ended
	if werr != nil && d.ctx.Err() != nil {
		// The call ended under the take (the leg's end reached the
		// session before the dialogue): a hang-up, what was said is kept.
		d.gone, werr = true, ivr.ErrHangup
	}
	d.setTap(nil)
	d.switchTurn()
	res, err := tk.Stop()
	if werr == nil {
		werr = err
	}
	return res, key, werr
}

// switchTurn waits, in the dialogue's loop (a simulated switch turns only
// when the service is idle), until the switch has done what the dialogue
// asked of it so far: a tap taken off a leg is off then. A hang-up meanwhile
// is noted.
func (d *dialog) switchTurn() {
	t := d.token()
	d.s.sw.Do(func() { d.push(msg{kind: msgReply, token: t}) })
	for {
		m, err := d.next()
		if err != nil || (m.kind == msgReply && m.token == t) {
			return
		}
		if m.kind == msgGone {
			d.gone = true
		}
	}
}

// depositVoicemail lets the caller leave a message in box.
func (d *dialog) depositVoicemail(box string) error {
	err := d.s.opts.Voicemail.Deposit(vmCall{d}, box, voicemail.Caller{Number: d.number})
	switch {
	case errors.Is(err, voicemail.ErrHangup), errors.Is(err, ivr.ErrHangup):
		return ivr.ErrHangup
	case err != nil:
		d.s.log.Info("voicemail deposit refused", "mailbox", box, "call", d.id, "err", err)
	}
	return nil
}

// retrieveVoicemail runs the retrieval dialogue: the box whose phones
// include ext (own), or any box after its number (box "").
func (d *dialog) retrieveVoicemail(ext string, own bool) {
	vm := d.s.opts.Voicemail
	box := ""
	if own {
		b, err := vm.OwnBox(ext)
		if err != nil {
			d.s.log.Info("no voicemail box for the extension", "extension", ext, "err", err)
			_ = d.sayNames(false, voicemail.PromptUnavailable)
			return
		}
		box = b.Number
	}
	if err := vm.Retrieve(vmCall{d}, box); err != nil && !errors.Is(err, voicemail.ErrHangup) {
		d.s.log.Warn("voicemail retrieval", "extension", ext, "err", err)
	}
}

// mediaCode runs the voicemail feature codes; false for others.
func (d *dialog) mediaCode(k Codes, code, arg, ext string) bool {
	if d.s.opts.Voicemail == nil || code == "" {
		return false
	}
	switch code {
	case k.Voicemail:
		d.retrieveVoicemail(ext, true)
	case k.VoicemailBox:
		d.retrieveVoicemail(ext, false)
	case k.Deposit:
		_ = d.depositVoicemail(arg)
	default:
		return false
	}
	return true
}

// VoicemailDialer returns the service's dialer of voicemail notification
// calls: an outside call through the routes, whose answer runs the
// notification dialogue.
func (s *Service) VoicemailDialer() voicemail.Dialer { return notifyDialer{s} }

type notifyDialer struct{ s *Service }

// errNotAnswered: a notification call nobody answered.
var errNotAnswered = errors.New("cc: the notification call was not answered")

// Dial implements voicemail.Dialer.
func (n notifyDialer) Dial(ctx context.Context, number string, run func(voicemail.Call) error) error {
	s := n.s
	done := make(chan error, 1)
	err := s.call(ctx, func() error {
		cfg := s.cfg.Load()
		if cfg.BlockedOut(number) {
			return fmt.Errorf("%w: %s is blacklisted", ErrRefused, number)
		}
		ac := s.sw.NewAppCall(&handler{s: s}, callswitch.Party{Number: hotline(cfg)}, number)
		ses := s.newSession(ac, kindNotify)
		ses.number = number
		ses.notify = &notifyState{run: run, done: done}
		return nil
	})
	if err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// notifyState is a notification call's: what runs once it is answered,
// and where the outcome goes.
type notifyState struct {
	run      func(voicemail.Call) error
	done     chan error
	answered bool
	reported bool
}

// report gives Dial its answer, once.
func (ns *notifyState) report(err error) {
	if !ns.reported {
		ns.reported = true
		ns.done <- err
	}
}

// notifyStarted dials the number.
func (s *Service) notifyStarted(ses *session) {
	leg := ses.ac.Originate(callswitch.Originate{Number: s.dialOut(ses.number, ""),
		CallerID: callswitch.Party{Number: hotline(s.cfg.Load())}, RingTimeout: 40 * time.Second, Mode: callswitch.ModeAlone})
	ses.caller = leg
	ses.legs[leg] = &legInfo{id: leg, role: roleCaller, party: ses.number}
}

// notifyAnswered runs the notification dialogue on the answered leg.
func (s *Service) notifyAnswered(ses *session) {
	ns := ses.notify
	ns.answered = true
	s.startDialog(ses, func(d *dialog) {
		err := ns.run(vmCall{d})
		d.hangup()
		s.post(func() { ns.report(err) })
	})
}

// notifyGone: the notification leg ended (answered or not).
func (s *Service) notifyGone(ses *session, cause callswitch.Cause) {
	if ses.dlg != nil {
		ses.dlg.push(msg{kind: msgGone})
	}
	if !ses.notify.answered {
		ses.notify.report(fmt.Errorf("%w (%s)", errNotAnswered, cause))
	}
	ses.ac.End(callswitch.CauseNormal)
}

// notifyEnded makes sure Dial hears back when the call ends.
func (ses *session) notifyEnded() {
	if ses.notify != nil {
		ses.notify.report(fmt.Errorf("%w (the call ended)", errNotAnswered))
	}
}
