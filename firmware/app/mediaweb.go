package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"callbox/firmware/store"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/conference"
	"callbox/telephony/recording"
	"callbox/telephony/voicemail"
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

// RecordingUsage implements webui.RecordingUsageSource.
func (w recordingsWeb) RecordingUsage(context.Context) (webui.RecordingUsage, error) {
	r, err := w.rec()
	if err != nil {
		return webui.RecordingUsage{}, err
	}
	u, err := r.Usage()
	if err != nil {
		return webui.RecordingUsage{}, recordingErr(err)
	}
	out := webui.RecordingUsage{Count: u.Count, Bytes: u.Bytes, FreeBytes: u.Free, TotalBytes: u.Total}
	if a, ok := r.Alarm(); ok {
		out.Alarm, out.AlarmSince = a.Code, a.Since.Format(time.RFC3339)
	}
	out.Purges = purgeRecords(u.Purges)
	return out, nil
}

// RecordingPurges implements webui.RecordingPurgeSource.
func (w recordingsWeb) RecordingPurges(_ context.Context, q webui.PurgeQuery) (webui.PurgePage, error) {
	r, err := w.rec()
	if err != nil {
		return webui.PurgePage{}, err
	}
	log, more, err := r.Purges(recording.PurgeQuery{Reason: q.Reason, Before: q.Before, Limit: q.Limit})
	if err != nil {
		return webui.PurgePage{}, recordingErr(err)
	}
	p := webui.PurgePage{Purges: purgeRecords(log)}
	if more {
		p.Next = log[len(log)-1].Key
	}
	return p, nil
}

func purgeRecords(log []recording.PurgeEntry) []webui.PurgeRecord {
	out := make([]webui.PurgeRecord, 0, len(log))
	for _, p := range log {
		out = append(out, webui.PurgeRecord{Key: p.Key, ID: p.ID, CallID: p.CallID, File: p.File, Start: p.Start.Format(time.RFC3339),
			At: p.At.Format(time.RFC3339), Bytes: p.Bytes, Reason: p.Reason, Who: p.Who})
	}
	return out
}

// voicemailWeb adapts the voicemail service to webui.Voicemail.
type voicemailWeb struct{ a *App }

func (w voicemailWeb) vm() (*voicemail.Service, error) {
	m := w.a.mediaServices()
	if m == nil {
		return nil, errMediaDown
	}
	return m.vm, nil
}

// mediaErr maps the media services' errors onto webui's sentinels; their
// field errors stay in the chain for the API's "field".
func mediaErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, voicemail.ErrNotFound), errors.Is(err, conference.ErrNotFound):
		return fmt.Errorf("%w: %w", webui.ErrNotFound, err)
	case errors.Is(err, voicemail.ErrInvalid), errors.Is(err, conference.ErrInvalid):
		return fmt.Errorf("%w: %w", webui.ErrInvalid, err)
	case errors.Is(err, store.ErrNoSpace):
		return fmt.Errorf("%w: %w", webui.ErrNoSpace, err)
	}
	return err
}

func boxView(vm *voicemail.Service, b voicemail.Box) webui.VoiceBox {
	n, sv, _ := vm.Counts(b.Number)
	return webui.VoiceBox{Number: b.Number, Kind: string(b.Kind), Name: b.Name, Owner: b.Owner,
		MaxMessageS: int(b.MaxMessage / time.Second), MaxMessages: b.MaxMessages, Extensions: b.Extensions,
		UnsolicitedMWI: b.UnsolicitedMWI, NotifyNumber: b.NotifyNumber, Email: b.Email, Greeting: b.Greeting,
		New: n, Saved: sv}
}

// Boxes implements webui.Voicemail.
func (w voicemailWeb) Boxes(context.Context) ([]webui.VoiceBox, error) {
	vm, err := w.vm()
	if err != nil {
		return nil, err
	}
	boxes, err := vm.Boxes()
	out := make([]webui.VoiceBox, 0, len(boxes))
	for _, b := range boxes {
		out = append(out, boxView(vm, b))
	}
	return out, mediaErr(err)
}

// Box implements webui.Voicemail.
func (w voicemailWeb) Box(_ context.Context, n string) (webui.VoiceBox, error) {
	vm, err := w.vm()
	if err != nil {
		return webui.VoiceBox{}, err
	}
	b, err := vm.Box(n)
	if err != nil {
		return webui.VoiceBox{}, mediaErr(err)
	}
	return boxView(vm, b), nil
}

// PutBox implements webui.Voicemail.
func (w voicemailWeb) PutBox(_ context.Context, in webui.VoiceBox, pin string) (webui.VoiceBox, error) {
	vm, err := w.vm()
	if err != nil {
		return webui.VoiceBox{}, err
	}
	b, err := vm.PutBox(voicemail.BoxInput{PIN: pin, Box: voicemail.Box{Number: in.Number, Kind: voicemail.Kind(in.Kind),
		Name: in.Name, Owner: in.Owner, MaxMessage: time.Duration(in.MaxMessageS) * time.Second, MaxMessages: in.MaxMessages,
		Extensions: in.Extensions, UnsolicitedMWI: in.UnsolicitedMWI, NotifyNumber: in.NotifyNumber, Email: in.Email}})
	if err != nil {
		return webui.VoiceBox{}, mediaErr(err)
	}
	return boxView(vm, b), nil
}

// DeleteBox implements webui.Voicemail.
func (w voicemailWeb) DeleteBox(_ context.Context, n string) error {
	vm, err := w.vm()
	if err != nil {
		return err
	}
	return mediaErr(vm.DeleteBox(n))
}

func messageView(m voicemail.Message) webui.VoiceMessage {
	return webui.VoiceMessage{ID: m.ID, Box: m.Box, Caller: m.Caller, CallerName: m.CallerName, Received: m.Received,
		Seconds: m.Duration.Seconds(), Heard: m.State == voicemail.StateSaved}
}

// Messages implements webui.Voicemail.
func (w voicemailWeb) Messages(_ context.Context, box string) ([]webui.VoiceMessage, error) {
	vm, err := w.vm()
	if err != nil {
		return nil, err
	}
	msgs, err := vm.Messages(box)
	out := make([]webui.VoiceMessage, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, messageView(m))
	}
	return out, mediaErr(err)
}

// OpenMessage implements webui.Voicemail.
func (w voicemailWeb) OpenMessage(_ context.Context, box, id string) (webui.RecordingFile, webui.VoiceMessage, error) {
	vm, err := w.vm()
	if err != nil {
		return nil, webui.VoiceMessage{}, err
	}
	p, m, err := vm.OpenMessage(box, id)
	if err != nil {
		return nil, webui.VoiceMessage{}, mediaErr(err)
	}
	return p, messageView(m), nil
}

// SetHeard implements webui.Voicemail.
func (w voicemailWeb) SetHeard(_ context.Context, box, id string, heard bool) error {
	vm, err := w.vm()
	if err != nil {
		return err
	}
	st := voicemail.StateNew
	if heard {
		st = voicemail.StateSaved
	}
	return mediaErr(vm.SetState(box, id, st))
}

// DeleteMessage implements webui.Voicemail.
func (w voicemailWeb) DeleteMessage(_ context.Context, box, id string) error {
	vm, err := w.vm()
	if err != nil {
		return err
	}
	return mediaErr(vm.DeleteMessage(box, id))
}

// CallBack implements webui.Voicemail: the user's phone rings, then the
// caller is dialled (the call centre's click to call).
func (w voicemailWeb) CallBack(ctx context.Context, box, id, ext string) error {
	vm, err := w.vm()
	if err != nil {
		return err
	}
	m, err := vm.Message(box, id)
	if err != nil {
		return mediaErr(err)
	}
	if m.Caller == "" {
		return fmt.Errorf("%w: %w", webui.ErrInvalid, &voicemail.FieldError{Field: "caller", Reason: "the message has no number to call back"})
	}
	return w.a.clickToCall(ctx, ext, m.Caller)
}

// PutGreeting implements webui.Voicemail.
func (w voicemailWeb) PutGreeting(_ context.Context, box string, file []byte) error {
	vm, err := w.vm()
	if err != nil {
		return err
	}
	return mediaErr(vm.UploadGreeting(box, file))
}

// DeleteGreeting implements webui.Voicemail.
func (w voicemailWeb) DeleteGreeting(_ context.Context, box string) error {
	vm, err := w.vm()
	if err != nil {
		return err
	}
	return mediaErr(vm.DeleteGreeting(box))
}

// VoicemailSettings implements webui.Voicemail: the box's mail settings,
// which voicemail mails through.
func (w voicemailWeb) VoicemailSettings(context.Context) (webui.VoicemailSettings, error) {
	if _, err := w.vm(); err != nil {
		return webui.VoicemailSettings{}, err
	}
	var set webui.VoicemailSettings
	err := w.a.withDB(func(db *store.DB) (err error) { set, err = voicemailMailSettings(db); return err })
	return set, err
}

// SetVoicemailSettings implements webui.Voicemail: the box's mail
// settings.
func (w voicemailWeb) SetVoicemailSettings(_ context.Context, in webui.VoicemailSettings) error {
	if _, err := w.vm(); err != nil {
		return err
	}
	return w.a.withDB(func(db *store.DB) error { return setVoicemailMailSettings(db, in) })
}

// conferenceWeb adapts the conference rooms to webui.Conferences.
type conferenceWeb struct{ a *App }

func (w conferenceWeb) conf() (*conference.Service, error) {
	m := w.a.mediaServices()
	if m == nil {
		return nil, errMediaDown
	}
	return m.conf, nil
}

func roomView(r conference.Room) webui.ConfRoom {
	return webui.ConfRoom{Number: r.Number, Name: r.Name, MaxParties: r.MaxParties, Quiet: r.Quiet, NoMusic: r.NoMusic,
		Record: r.Record, PIN: r.PINHash != "", ModeratorPIN: r.ModeratorPINHash != ""}
}

// Rooms implements webui.Conferences.
func (w conferenceWeb) Rooms(context.Context) ([]webui.ConfRoom, error) {
	cs, err := w.conf()
	if err != nil {
		return nil, err
	}
	rooms, err := cs.Rooms()
	out := make([]webui.ConfRoom, 0, len(rooms))
	for _, r := range rooms {
		out = append(out, roomView(r))
	}
	return out, mediaErr(err)
}

// PutRoom implements webui.Conferences.
func (w conferenceWeb) PutRoom(_ context.Context, in webui.ConfRoom, pin, modPIN string, clearPIN bool) (webui.ConfRoom, error) {
	cs, err := w.conf()
	if err != nil {
		return webui.ConfRoom{}, err
	}
	if t := w.a.telephony(); t != nil && t.sw.IsExtension(in.Number) {
		return webui.ConfRoom{}, mediaErr(&conference.FieldError{Field: "number", Reason: "an extension has that number"})
	}
	r, err := cs.PutRoom(conference.RoomInput{PIN: pin, ModeratorPIN: modPIN, ClearPIN: clearPIN, Room: conference.Room{
		Number: in.Number, Name: in.Name, MaxParties: in.MaxParties, Quiet: in.Quiet, NoMusic: in.NoMusic, Record: in.Record}})
	if err != nil {
		return webui.ConfRoom{}, mediaErr(err)
	}
	w.a.pbxChanged() // the dial plan takes the room's number
	return roomView(r), nil
}

// DeleteRoom implements webui.Conferences.
func (w conferenceWeb) DeleteRoom(_ context.Context, n string) error {
	cs, err := w.conf()
	if err != nil {
		return err
	}
	if err := cs.DeleteRoom(n); err != nil {
		return mediaErr(err)
	}
	w.a.pbxChanged()
	return nil
}

// Live implements webui.Conferences.
func (w conferenceWeb) Live(context.Context) ([]webui.ConfLive, error) {
	cs, err := w.conf()
	if err != nil {
		return nil, err
	}
	var out []webui.ConfLive
	for _, st := range cs.Status() {
		l := webui.ConfLive{Room: st.Room, Locked: st.Locked, Recording: st.Recording, Parties: []webui.ConfParty{}}
		for _, p := range st.Parties {
			l.Parties = append(l.Parties, webui.ConfParty{ID: uint64(p.ID), Number: p.Number, Name: p.Name, Joined: p.Joined,
				Muted: p.Muted, Moderator: p.Moderator})
		}
		out = append(out, l)
	}
	return out, nil
}

// Mute implements webui.Conferences.
func (w conferenceWeb) Mute(_ context.Context, room string, id uint64, muted bool) error {
	cs, err := w.conf()
	if err != nil {
		return err
	}
	return mediaErr(cs.Mute(room, conference.PartyID(id), muted))
}

// Kick implements webui.Conferences.
func (w conferenceWeb) Kick(_ context.Context, room string, id uint64) error {
	cs, err := w.conf()
	if err != nil {
		return err
	}
	return mediaErr(cs.Kick(room, conference.PartyID(id)))
}

// Lock implements webui.Conferences.
func (w conferenceWeb) Lock(_ context.Context, room string, locked bool) error {
	cs, err := w.conf()
	if err != nil {
		return err
	}
	return mediaErr(cs.Lock(room, locked))
}

// End implements webui.Conferences.
func (w conferenceWeb) End(_ context.Context, room string) error {
	cs, err := w.conf()
	if err != nil {
		return err
	}
	return mediaErr(cs.End(room, "ended on the web"))
}

// clickToCall rings the phone of ext (an agent's work number or the
// extension an agent works at), then dials number: the call centre's
// click to dial, so the call is the agent's outbound call (recorded, the
// agent busy while it lasts).
func (a *App) clickToCall(ctx context.Context, ext, number string) error {
	svc, _ := a.CallCentre()
	if svc == nil {
		return fmt.Errorf("%w: the call centre is not running", webui.ErrConflict)
	}
	var agent acd.AgentID
	for _, ag := range svc.Config().ACD().Agents {
		if string(ag.ID) == ext || (ag.Device == ext && ag.Mode != acd.ModeOutside) {
			agent = ag.ID
			break
		}
	}
	if agent == "" {
		return fmt.Errorf("%w: %w", webui.ErrInvalid, &voicemail.FieldError{Field: "extension", Reason: "no agent works at " + ext})
	}
	_, err := svc.Dial(ctx, agent, number, "")
	switch {
	case errors.Is(err, cc.ErrRefused), errors.Is(err, cc.ErrUnknownAgent):
		return fmt.Errorf("%w: %w", webui.ErrConflict, err)
	case err != nil:
		return fmt.Errorf("app: call back: %w", err)
	}
	return nil
}
