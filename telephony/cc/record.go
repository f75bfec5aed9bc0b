package cc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/ivr"
	"callbox/telephony/media"
	callswitch "callbox/telephony/switch"
)

// Recorder records calls: firmware/app writes the tap's frames to a WAV
// file in the data directory (until the media-services issue brings the
// recording store proper).
type Recorder interface {
	// Start begins a recording of call; kind says what it is ("service",
	// "ivr").
	Start(call, kind string) (Recording, error)
}

// Recording is one recording in progress.
type Recording interface {
	// Tap is where the media engine puts the recorded leg's frames.
	Tap() *media.Tap
	// Stop ends the recording once the tap is off the leg; it returns the
	// recording's id.
	Stop() (id string, err error)
}

// startRecording records a service from the caller's leg: what the caller
// says and what they hear (the agent, a third party).
func (s *Service) startRecording(ses *session) {
	if ses.rec != nil || ses.caller == 0 {
		return
	}
	if s.opts.Recorder == nil {
		s.log.Info("the group records its calls, but recording is not available on this box", "call", ses.id)
		return
	}
	r, err := s.startRecorder(ses, "service")
	if err != nil {
		s.log.Warn("recording did not start", "call", ses.id, "err", err)
		s.publish(ccevent.Event{Type: ccevent.Notice, Call: ses.id, Reason: "recording failed: " + err.Error()})
		return
	}
	ses.rec = r
	s.callerTap(ses, r.Tap())
}

// stopRecording ends a service's recording and keeps its id with the
// call's facts.
func (s *Service) stopRecording(ses *session) {
	r := ses.rec
	if r == nil {
		return
	}
	ses.rec = nil
	s.callerTap(ses, nil)
	// The tap comes off on the switch's next turn: stop once it has.
	s.sw.Do(func() {
		s.post(func() {
			id, err := r.Stop()
			if err != nil {
				s.log.Warn("recording not kept", "call", ses.id, "err", err)
				return
			}
			s.publish(ccevent.Event{Type: ccevent.Notice, Call: ses.id, Reason: "recorded", Detail: map[string]string{"recording": id}})
		})
	})
}

// toggleRecording starts or stops recording a service (*6).
func (s *Service) toggleRecording(ses *session) error {
	if err := inService(ses); err != nil {
		return err
	}
	if ses.rec != nil {
		s.stopRecording(ses)
		return nil
	}
	if s.opts.Recorder == nil {
		return errNoRecorder
	}
	s.startRecording(ses)
	if ses.rec == nil {
		return errNoRecorder
	}
	return nil
}

// PromptSaver is Prompts that keeps prompts recorded by phone (*57):
// firmware/app writes them to the catalogue of the data directory, by the
// supervisor's work number.
type PromptSaver interface {
	SavePrompt(ctx context.Context, name, lang, by string, samples []int16) error
}

// Limits of a prompt recorded by phone.
const (
	maxPhonePrompt = 2 * time.Minute
	minPhonePrompt = 500 * time.Millisecond
)

// recordPrompt records a prompt by phone (*57 and its number): a
// supervisor's phone only; the prompt is "custom-<number>" in the box's
// language, played back once saved.
func (d *dialog) recordPrompt(ext, number string) (ivr.Prompt, error) {
	s := d.s
	saver, ok := s.opts.Prompts.(PromptSaver)
	if !ok {
		return promptRefused, errors.New("cc: this box cannot keep recorded prompts")
	}
	if number == "" || len(number) > 8 || strings.Trim(number, "0123456789") != "" {
		return promptRefused, fmt.Errorf("%w: prompt number %q", ErrRefused, number)
	}
	var allowed bool
	var by acd.AgentID
	if err := d.ask(func() error {
		sup, ok := s.agentOn(ext)
		a, known := agentConf(s.cfg.Load(), sup)
		allowed = ok && known && a.Supervisor
		by = sup
		return nil
	}); err != nil {
		return promptRefused, err
	}
	if !allowed {
		return promptNotAllowed, fmt.Errorf("%w: extension %s is no supervisor's", ErrRefused, ext)
	}
	if err := d.say(promptRecordPrompt, false); err != nil && !errors.Is(err, ivr.ErrPromptMissing) {
		return promptRefused, err
	}
	if err := d.play(callswitch.Beep(1000, 300*time.Millisecond), false); err != nil {
		return promptRefused, err
	}
	buf := newTapBuffer(int(maxPhonePrompt / time.Second * media.SampleRate))
	d.ac.SetTap(d.leg, buf.tap)
	d.ahead = d.ahead[:0]
	t, tm := d.timer(maxPhonePrompt)
	var werr error
	for {
		m, err := d.next()
		if err != nil {
			werr = err
			break
		}
		if (m.kind == msgTimer && m.token == t) || (m.kind == msgDigit && m.digit == '#') {
			break
		}
		if m.kind == msgGone {
			d.gone = true
			werr = ivr.ErrHangup
			break
		}
	}
	tm.Stop()
	d.ac.SetTap(d.leg, nil)
	x := buf.stop()
	if werr != nil {
		return ivr.Prompt{}, werr // hung up: nothing kept
	}
	if len(x) < int(minPhonePrompt/time.Second*media.SampleRate) {
		return promptRefused, fmt.Errorf("%w: the recording is too short", ErrRefused)
	}
	name := "custom-" + number
	if err := saver.SavePrompt(d.ctx, name, d.lang, string(by), x); err != nil {
		return promptRefused, fmt.Errorf("cc: save prompt %s: %w", name, err)
	}
	s.log.Info("prompt recorded by phone", "prompt", name, "extension", ext, "seconds", len(x)/media.SampleRate)
	if err := d.say(ivr.Prompt{File: name}, false); err != nil {
		return promptRefused, err
	}
	return promptRecorded, nil
}

// tapBuffer keeps what a leg says (the tap's Rx), up to max samples.
type tapBuffer struct {
	tap   *media.Tap
	max   int
	x     []int16
	stopc chan struct{}
	done  chan struct{}
}

func newTapBuffer(max int) *tapBuffer {
	b := &tapBuffer{tap: media.NewTap(100), max: max, stopc: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

func (b *tapBuffer) run() {
	defer close(b.done)
	var f media.TapFrame
	drain := func() {
		for b.tap.Read(&f) {
			if len(b.x) < b.max {
				b.x = append(b.x, f.Rx[:]...)
			}
		}
	}
	for {
		select {
		case <-b.tap.Ready():
			drain()
		case <-b.stopc:
			drain()
			return
		}
	}
}

// stop ends the buffer and returns what it kept.
func (b *tapBuffer) stop() []int16 {
	close(b.stopc)
	<-b.done
	return b.x
}
