package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"time"

	"callbox/firmware/backup"
	"callbox/firmware/store"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/conference"
	"callbox/telephony/recording"
	"callbox/telephony/sip"
	"callbox/telephony/voicemail"
	"callbox/webui"
)

// VoicemailDir is where the voicemail boxes keep their audio under the
// data directory.
const VoicemailDir = "voicemail"

// mediaRun is the running media services.
type mediaRun struct {
	rec  *recording.Recorder
	vm   *voicemail.Service
	conf *conference.Service
}

// defaultRecording is the recording settings of a new box: A-law, kept
// until the quota or the floor needs the room, with 256 MiB of the data
// partition (which the store shares) kept free.
var defaultRecording = recording.Settings{Encoding: recording.ALaw, MinFree: 256 << 20}

// openRecorder builds and starts the recorder over the store's recordings
// bucket; a crash's unfinished recordings are repaired here.
func openRecorder(ctx context.Context, dataDir string, db *store.DB, log *slog.Logger) (*recording.Recorder, error) {
	r, err := recording.New(recording.Config{
		Dir:      filepath.Join(dataDir, backup.RecordingDir),
		Store:    bucketKV{db, store.Recordings},
		Settings: defaultRecording,
		Log:      log.With("component", "recording"),
	})
	if err != nil {
		return nil, err
	}
	if err := r.Start(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// startMedia starts the media services after the store: the recorder,
// voicemail (its lamps lit once the telephony is up: startMWI) and the
// conference rooms.
func (a *App) startMedia(ctx context.Context) error {
	a.mu.Lock()
	db := a.db
	a.mu.Unlock()
	rec, err := openRecorder(ctx, a.cfg.DataDir, db, a.log)
	if err != nil {
		return err
	}
	vm, err := voicemail.New(voicemail.Config{
		Dir:    filepath.Join(a.cfg.DataDir, VoicemailDir),
		Store:  bucketKV{db, store.Voicemail},
		Log:    a.log.With("component", "voicemail"),
		MWI:    mwiSink{a},
		Dialer: ccDialer{a},
		Mailer: vmMailer{a},
	})
	if err == nil {
		err = vm.Start(ctx)
	}
	if err != nil {
		rec.Close()
		return err
	}
	vmLog := a.log.With("component", "voicemail")
	if err := vm.MoveLegacySMTP(func(l voicemail.LegacySMTP) error { return adoptVoicemailSMTP(db, vmLog, l) }); err != nil {
		vmLog.Warn("voicemail's old mail settings not moved; tried again at the next start", "err", err)
	}
	conf, err := conference.New(conference.Config{Store: bucketKV{db, store.Conference}, Recorder: rec,
		Log: a.log.With("component", "conference"), OnEvent: a.publishConference})
	if err != nil {
		vm.Close()
		rec.Close()
		return err
	}
	a.mu.Lock()
	a.media = &mediaRun{rec: rec, vm: vm, conf: conf}
	a.mu.Unlock()
	return nil
}

// confEventPrefix starts the bus's types of live conference changes:
// "conference.joined", "conference.left", "conference.muted",
// "conference.locked", "conference.ended" (Target is the room, Number and
// Detail "party" the party, Detail "parties" the count, State "muted" or
// "locked" when so). The live conference page follows them.
const confEventPrefix = "conference."

// publishConference puts a live conference's change on the call centre's
// event bus (none while the call centre is not running). It is called
// under the conference service's lock: the bus never waits.
func (a *App) publishConference(e conference.Event) {
	bus := a.eventBus()
	if bus == nil {
		return
	}
	ev := ccevent.Event{Time: time.Now(), Type: ccevent.Type(confEventPrefix + string(e.Type)), Target: e.Room, Number: e.Number,
		Detail: map[string]string{"parties": strconv.Itoa(e.Parties)}}
	if e.Party != 0 {
		ev.Detail["party"] = strconv.FormatUint(uint64(e.Party), 10)
	}
	switch {
	case e.Type == conference.EventMuted && e.Muted:
		ev.State = "muted"
	case e.Type == conference.EventLocked && e.Locked:
		ev.State = "locked"
	}
	bus.Publish(ev)
}

// stopMedia finishes the recordings in progress, the notifications and the
// conferences' recordings.
func (a *App) stopMedia(context.Context) error {
	a.mu.Lock()
	m := a.media
	a.media = nil
	a.mu.Unlock()
	if m == nil {
		return nil
	}
	return errors.Join(m.conf.Close(), m.vm.Close(), m.rec.Close())
}

// startMWI lights the message-waiting indicators once the lines and SIP
// are up.
func (a *App) startMWI(context.Context) error {
	if m := a.mediaServices(); m != nil {
		if err := m.vm.Refresh(); err != nil {
			a.log.Warn("message waiting not refreshed", "err", err)
		}
	}
	return nil
}

// mwiSink passes a box's counts to the phones that show it: the FXS lines
// of its analog extensions (stutter dial tone, the lamp by FSK) and SIP
// message summaries for the others.
type mwiSink struct{ a *App }

// MessageWaiting implements voicemail.MessageWaiting; it never blocks.
func (s mwiSink) MessageWaiting(b voicemail.Box, newMsgs, saved int) {
	t := s.a.telephony()
	if t == nil || len(b.Extensions) == 0 {
		return
	}
	sum := sip.MessageSummary{New: newMsgs, Old: saved, Account: "sip:" + b.Number + "@" + t.sipAddr(true)}
	t.sw.Do(func() {
		for _, ext := range b.Extensions {
			if e, ok := t.sw.ExtensionState(ext); ok && e.Port != "" {
				if ch := t.sw.FXS(e.Port); ch != nil {
					ch.MessageWaiting(newMsgs > 0, newMsgs)
				}
				continue
			}
			if t.ep != nil {
				t.ep.SetMessageWaiting(ext, sum, b.UnsolicitedMWI)
			}
		}
	})
}

// recordingAlarmLine is the console's line for a recording alarm.
func recordingAlarmLine(m *mediaRun, al webui.Alarm) string {
	detail := al.Code
	if m != nil {
		if ra, ok := m.rec.Alarm(); ok && ra.Code == al.Code {
			detail = ra.Detail
		}
	}
	return fmt.Sprintf("ALARM: %s since %s: calls are not being recorded: %s", al.Code, al.Since.Format(time.DateTime), detail)
}

// mediaServices returns the running media services, or nil.
func (a *App) mediaServices() *mediaRun {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.media
}
