package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"callbox/firmware/backup"
	"callbox/firmware/cli/backupcli"
	"callbox/firmware/cli/configcli"
	"callbox/firmware/store"
	"callbox/webui"
)

// applyRestore swaps in a restore that was checked and left pending, before
// the store opens.
func (a *App) applyRestore() error {
	applied, err := backup.ApplyPending(a.cfg.DataDir)
	if applied {
		a.log.Warn("restored the box from a backup; the replaced data is in restore.previous")
	}
	return err
}

func (a *App) backupCommands() backupcli.Daemon {
	return backupcli.Daemon{Backup: a.writeBackup, Restore: a.restoreBackup, Reboot: a.requestRestart}
}

func (a *App) writeBackup(w io.Writer, recordings bool) (m backup.Manifest, err error) {
	err = a.withDB(func(db *store.DB) error {
		m, err = backup.Write(w, backup.Source{Store: db, DataDir: a.cfg.DataDir, Recordings: recordings, Version: a.runningVersion()})
		return err
	})
	if err == nil {
		a.log.Info("backup written", "files", len(m.Files), "recordings", recordings)
	}
	return m, err
}

// restoreBackup checks a backup completely and leaves it pending; the
// caller restarts the box into it.
func (a *App) restoreBackup(r io.Reader) (backup.Manifest, error) {
	m, err := backup.Restore(r, a.cfg.DataDir, checkStoreFile)
	if err != nil {
		a.log.Error("restore refused", "err", err)
		return m, err
	}
	a.log.Warn("restore checked; the box restarts into it", "files", len(m.Files), "created", m.Created)
	return m, nil
}

// checkStoreFile opens a store file as the daemon would (schema, every
// page and record) and reads its PBX configuration.
func checkStoreFile(path string) error {
	db, err := store.Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *store.Tx) error {
		if _, err := configcli.Load(tx); err != nil && !errors.Is(err, configcli.ErrNone) {
			return err
		}
		return nil
	})
}

// backupsWeb adapts backups to the web admin's Backups.
type backupsWeb struct{ a *App }

func (w backupsWeb) WriteBackup(ctx context.Context, out io.Writer, recordings bool) error {
	_, err := w.a.writeBackup(out, recordings)
	return err
}

func (w backupsWeb) RestoreBackup(ctx context.Context, r io.Reader, restart bool) (webui.BackupInfo, error) {
	m, err := w.a.restoreBackup(r)
	if errors.Is(err, backup.ErrInvalid) {
		return webui.BackupInfo{}, fmt.Errorf("%w: %w", webui.ErrInvalid, err)
	}
	if err != nil {
		return webui.BackupInfo{}, err
	}
	if restart {
		go w.a.requestRestart()
	}
	return backupInfo(m), nil
}

func (w backupsWeb) PendingRestore(ctx context.Context) (*webui.BackupInfo, error) {
	m, err := backup.PendingManifest(w.a.cfg.DataDir)
	if m == nil || err != nil {
		return nil, err
	}
	info := backupInfo(*m)
	return &info, nil
}

func (w backupsWeb) DiscardRestore(ctx context.Context) error {
	if err := backup.Discard(w.a.cfg.DataDir); err != nil {
		return err
	}
	w.a.log.Warn("the pending restore was discarded")
	return nil
}

func (w backupsWeb) ApplyRestore(ctx context.Context) error {
	if !backup.Pending(w.a.cfg.DataDir) {
		return fmt.Errorf("%w: no restore is waiting", webui.ErrNotFound)
	}
	// Answer first: the restart stops the web admin.
	go func() {
		time.Sleep(200 * time.Millisecond)
		w.a.requestRestart()
	}()
	return nil
}

// backupInfo sums up what a backup holds for the web admin.
func backupInfo(m backup.Manifest) webui.BackupInfo {
	info := webui.BackupInfo{Created: m.Created, Version: m.Version, Recordings: m.Recordings, Files: len(m.Files)}
	for _, f := range m.Files {
		info.Bytes += f.Size
		switch {
		case f.Path == backup.DBName:
			info.StoreBytes = f.Size
		case strings.HasPrefix(f.Path, backup.PromptsDir+"/"):
			info.Prompts++
		case strings.HasPrefix(f.Path, backup.RecordingDir+"/"):
			info.RecordingFiles++
		}
	}
	return info
}
