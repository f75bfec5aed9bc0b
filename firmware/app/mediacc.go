package app

import (
	"context"
	"errors"

	"callbox/telephony/cc"
	"callbox/telephony/recording"
	"callbox/telephony/voicemail"
)

// The media services on the call centre's calls: its recordings go to the
// recorder (two channels, indexed, kept under retention), its voicemail to
// the voicemail service, whose notification calls the call centre places.

// ccRecorder is cc.Recorder (and cc.InfoRecorder) over the media
// recorder; orders names the work order a call was placed from.
type ccRecorder struct {
	rec    *recording.Recorder
	orders *orderCalls
}

var _ cc.InfoRecorder = ccRecorder{}

// Start implements cc.Recorder.
func (r ccRecorder) Start(call, kind string) (cc.Recording, error) {
	return r.StartInfo(cc.RecordingInfo{Call: call, Service: call, Kind: kind, Where: string(recording.Inbound)})
}

// StartInfo implements cc.InfoRecorder.
func (r ccRecorder) StartInfo(in cc.RecordingInfo) (cc.Recording, error) {
	s, err := r.rec.Begin(recording.Meta{CallID: in.Call, ServiceID: in.Service, Agent: in.Agent, Group: in.Group,
		Customer: in.Customer, Direction: recording.Direction(in.Where), Kind: in.Kind, WorkOrder: r.workOrder(in.Service)})
	if err != nil {
		return nil, err
	}
	return ccRecording{s}, nil
}

// workOrder is the work-order reference of the service's call, if it was
// placed from one.
func (r ccRecorder) workOrder(service string) string {
	if r.orders == nil {
		return ""
	}
	return r.orders.ref(service)
}

// ccRecording is cc.Recording over a recording session.
type ccRecording struct{ *recording.Session }

// Stop implements cc.Recording.
func (r ccRecording) Stop() (string, error) {
	rec, err := r.Session.Stop()
	return rec.ID, err
}

// ccRecorderOr is the call centre's recorder: the media recorder when it
// runs, else the plain WAV files of fallback.
func (a *App) ccRecorderOr(fallback cc.Recorder) cc.Recorder {
	if m := a.mediaServices(); m != nil {
		return ccRecorder{rec: m.rec, orders: &a.orderCalls}
	}
	return fallback
}

// ccVoicemail is the voicemail service for the call centre, nil when the
// media services are not running.
func (a *App) ccVoicemail() *voicemail.Service {
	if m := a.mediaServices(); m != nil {
		return m.vm
	}
	return nil
}

// errCallCentreDown: a notification call while the call centre is not
// running (voicemail tries again later).
var errCallCentreDown = errors.New("app: call centre not running")

// ccDialer places voicemail notification calls through the call centre
// running at the time (it starts after voicemail and restarts on its own).
type ccDialer struct{ a *App }

// Dial implements voicemail.Dialer.
func (d ccDialer) Dial(ctx context.Context, number string, run func(voicemail.Call) error) error {
	svc, _ := d.a.CallCentre()
	if svc == nil {
		return errCallCentreDown
	}
	return svc.VoicemailDialer().Dial(ctx, number, run)
}

// recordingConsent is the consent prompt of the recording settings in
// force ("" : none).
func (a *App) recordingConsent() string {
	if m := a.mediaServices(); m != nil {
		return m.rec.Settings().Consent
	}
	return ""
}
