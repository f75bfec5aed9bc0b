package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"callbox/firmware/backup"
	"callbox/firmware/store"
	"callbox/telephony/recording"
	"callbox/webui"
)

// mediaRun is the running media services.
type mediaRun struct {
	rec *recording.Recorder
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

// startMedia starts the media services after the store.
func (a *App) startMedia(ctx context.Context) error {
	a.mu.Lock()
	db := a.db
	a.mu.Unlock()
	rec, err := openRecorder(ctx, a.cfg.DataDir, db, a.log)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.media = &mediaRun{rec: rec}
	a.mu.Unlock()
	return nil
}

// stopMedia finishes the recordings in progress and stops retention.
func (a *App) stopMedia(context.Context) error {
	a.mu.Lock()
	m := a.media
	a.media = nil
	a.mu.Unlock()
	if m == nil {
		return nil
	}
	return m.rec.Close()
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
