package cc

import (
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/media"
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
	r, err := s.opts.Recorder.Start(ses.id, "service")
	if err != nil {
		s.log.Warn("recording did not start", "call", ses.id, "err", err)
		s.publish(ccevent.Event{Type: ccevent.Notice, Call: ses.id, Reason: "recording failed: " + err.Error()})
		return
	}
	ses.rec = r
	ses.ac.SetTap(ses.caller, r.Tap())
}

// stopRecording ends a service's recording and keeps its id with the
// call's facts.
func (s *Service) stopRecording(ses *session) {
	r := ses.rec
	if r == nil {
		return
	}
	ses.rec = nil
	ses.ac.SetTap(ses.caller, nil)
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
