package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"callbox/firmware/store"
	"callbox/telephony/recording"
	"callbox/webui"
)

// errMediaDown: the media services are not running (a restart).
var errMediaDown = errors.New("app: media services not running")

// recordingsWeb adapts the recorder to webui.Recordings.
type recordingsWeb struct{ a *App }

func (w recordingsWeb) rec() (*recording.Recorder, error) {
	m := w.a.mediaServices()
	if m == nil {
		return nil, errMediaDown
	}
	return m.rec, nil
}

func recordingView(r recording.Record) webui.Recording {
	return webui.Recording{ID: r.ID, CallID: r.CallID, ServiceID: r.ServiceID, Agent: r.Agent, Group: r.Group,
		Customer: r.Customer, Direction: string(r.Direction), Kind: r.Kind, WorkOrder: r.WorkOrder, Start: r.Start,
		Duration: r.Duration, Size: r.Size, Encoding: r.Encoding, State: string(r.State), Error: r.Error}
}

func recordingViews(list []recording.Record) []webui.Recording {
	out := make([]webui.Recording, len(list))
	for i, r := range list {
		out[i] = recordingView(r)
	}
	return out
}

// recordingErr maps the recorder's errors onto webui's sentinels.
func recordingErr(err error) error {
	switch {
	case errors.Is(err, recording.ErrNotFound):
		return fmt.Errorf("%w: %w", webui.ErrNotFound, err)
	case errors.Is(err, recording.ErrFileMissing):
		return fmt.Errorf("%w: %w", webui.ErrGone, err)
	case errors.Is(err, store.ErrNoSpace):
		return fmt.Errorf("%w: %w", webui.ErrNoSpace, err)
	}
	return err
}

// SearchRecordings implements webui.Recordings.
func (w recordingsWeb) SearchRecordings(_ context.Context, q webui.RecordingQuery) ([]webui.Recording, error) {
	r, err := w.rec()
	if err != nil {
		return nil, err
	}
	list, err := r.Search(recording.Query{From: q.From, To: q.To, Agent: q.Agent, Group: q.Group,
		Customer: q.Customer, Service: q.Service, Limit: q.Limit})
	return recordingViews(list), recordingErr(err)
}

// Recording implements webui.Recordings.
func (w recordingsWeb) Recording(_ context.Context, id string) (webui.Recording, []webui.Recording, error) {
	r, err := w.rec()
	if err != nil {
		return webui.Recording{}, nil, err
	}
	rec, err := r.Get(id)
	if err != nil {
		return webui.Recording{}, nil, recordingErr(err)
	}
	legs, err := r.Legs(rec)
	return recordingView(rec), recordingViews(legs), recordingErr(err)
}

// OpenRecording implements webui.Recordings.
func (w recordingsWeb) OpenRecording(_ context.Context, id string, asPCM bool) (webui.RecordingFile, error) {
	r, err := w.rec()
	if err != nil {
		return nil, err
	}
	p, _, err := r.Open(id, asPCM)
	if err != nil {
		return nil, recordingErr(err)
	}
	return p, nil
}

// DeleteRecording implements webui.Recordings.
func (w recordingsWeb) DeleteRecording(_ context.Context, id, by string) error {
	r, err := w.rec()
	if err != nil {
		return err
	}
	err = r.Delete(id, by)
	if errors.Is(err, recording.ErrBusy) {
		return fmt.Errorf("%w: %w", webui.ErrConflict, err)
	}
	return recordingErr(err)
}

const mib = 1 << 20

// RecordingSettings implements webui.Recordings.
func (w recordingsWeb) RecordingSettings(context.Context) (webui.RecordingSettings, error) {
	r, err := w.rec()
	if err != nil {
		return webui.RecordingSettings{}, err
	}
	s := r.Settings()
	return webui.RecordingSettings{Encoding: s.Encoding.String(), MaxAgeDays: int(s.MaxAge / (24 * time.Hour)),
		QuotaMB: s.Quota / mib, MinFreeMB: s.MinFree / mib, Consent: s.Consent}, nil
}

// SetRecordingSettings implements webui.Recordings.
func (w recordingsWeb) SetRecordingSettings(_ context.Context, in webui.RecordingSettings) error {
	r, err := w.rec()
	if err != nil {
		return err
	}
	enc, err := recording.ParseEncoding(in.Encoding)
	if err != nil {
		return fmt.Errorf("%w: encoding: %w", webui.ErrInvalid, err)
	}
	return recordingErr(r.SetSettings(recording.Settings{Encoding: enc, MaxAge: time.Duration(in.MaxAgeDays) * 24 * time.Hour,
		Quota: in.QuotaMB * mib, MinFree: in.MinFreeMB * mib, Consent: in.Consent}))
}
