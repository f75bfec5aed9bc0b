package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"callbox/firmware/cli/installcli"
	"callbox/firmware/installer"
	"callbox/firmware/store"
	"callbox/webui"
)

// The installer's settings live in the store under one key, as JSON.
const installerKey = "installer.settings"

// factoryResetMarker asks the next start to erase the data first.
const factoryResetMarker = "factory-reset.pending"

func (a *App) installerSettings() (s installer.Settings, err error) {
	s = installer.Defaults()
	err = a.withDB(func(db *store.DB) error {
		return db.View(func(tx *store.Tx) error {
			doc, err := tx.String(installerKey, "")
			if err != nil || doc == "" {
				return err
			}
			return json.Unmarshal([]byte(doc), &s)
		})
	})
	return s, err
}

// saveInstallerSettings validates and stores s; on a real box it also
// writes the files the image's init scripts read.
func (a *App) saveInstallerSettings(s installer.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	doc, _ := json.Marshal(s)
	if err := a.withDB(func(db *store.DB) error {
		return db.Update(func(tx *store.Tx) error { return tx.SetSetting(installerKey, string(doc)) })
	}); err != nil {
		return err
	}
	if !a.boardSim() || a.realSlots() {
		if err := installer.WriteSystemFiles(filepath.Join(a.cfg.DataDir, "system"), s); err != nil {
			return err
		}
	}
	a.log.Info("installer settings saved", "network", s.Network.Mode, "zone", s.Time.Zone, "ntp", s.Time.NTP)
	if sy := a.syncer(); sy != nil {
		sy.Kick()
	}
	return nil
}

// ntpRun is the NTP client and its goroutine.
type ntpRun struct {
	s    *installer.Syncer
	task *task
}

func (a *App) startNTP(ctx context.Context) error {
	s := &installer.Syncer{
		Servers: func() []string {
			st, err := a.installerSettings()
			if err != nil {
				return nil
			}
			return st.Time.NTP
		},
		SetClock: !a.boardSim() || a.realSlots(),
		Log:      a.log.With("component", "ntp"),
	}
	run := &ntpRun{s: s, task: startTask(ctx, s.Run)}
	a.mu.Lock()
	a.ntp = run
	a.mu.Unlock()
	return nil
}

func (a *App) stopNTP(ctx context.Context) error {
	a.mu.Lock()
	run := a.ntp
	a.ntp = nil
	a.mu.Unlock()
	if run == nil {
		return nil
	}
	return run.task.stop(ctx, "ntp")
}

func (a *App) syncer() *installer.Syncer {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ntp == nil {
		return nil
	}
	return a.ntp.s
}

func (a *App) syncState() installer.SyncState {
	if s := a.syncer(); s != nil {
		return s.State()
	}
	return installer.SyncState{Err: "the NTP client is not running"}
}

// factoryReset leaves the marker and restarts; the next start erases.
func (a *App) factoryReset() error {
	if err := os.WriteFile(filepath.Join(a.cfg.DataDir, factoryResetMarker), nil, 0o600); err != nil {
		return fmt.Errorf("app: factory reset: %w", err)
	}
	a.log.Warn("factory reset requested; the box restarts and erases its data")
	a.requestRestart()
	return nil
}

// applyFactoryReset erases what a factory reset erases, before the store
// opens, if one was asked for. The update slots are left as they are.
func (a *App) applyFactoryReset() error {
	marker := filepath.Join(a.cfg.DataDir, factoryResetMarker)
	if _, err := os.Stat(marker); err != nil {
		return nil
	}
	for _, name := range []string{"callbox.db", "prompts", "recordings", "system", "restore.pending", "restore.previous", "restore.staging"} {
		if err := os.RemoveAll(filepath.Join(a.cfg.DataDir, name)); err != nil {
			return fmt.Errorf("factory reset: %w", err)
		}
	}
	if err := os.Remove(marker); err != nil {
		return fmt.Errorf("factory reset: %w", err)
	}
	a.log.Warn("factory reset done: the box starts as new")
	return nil
}

func (a *App) installerCommands() installcli.Daemon {
	return installcli.Daemon{
		Settings: a.installerSettings,
		Save:     a.saveInstallerSettings,
		Sync:     a.syncState,
		SyncNow: func(ctx context.Context) installer.SyncState {
			if s := a.syncer(); s != nil {
				return s.SyncOnce(ctx)
			}
			return a.syncState()
		},
		Interfaces:   consoleHost{a}.Network,
		FactoryReset: a.factoryReset,
	}
}

// installerWeb adapts the settings to the web admin's Installer.
type installerWeb struct{ a *App }

type installerDoc struct {
	installer.Settings
	Sync installer.SyncState `json:"sync"`
}

func (w installerWeb) GetInstaller(ctx context.Context) (json.RawMessage, error) {
	s, err := w.a.installerSettings()
	if err != nil {
		return nil, err
	}
	return json.Marshal(installerDoc{Settings: s, Sync: w.a.syncState()})
}

func (w installerWeb) PutInstaller(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var s installer.Settings
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%w: %w", webui.ErrInvalid, &installer.FieldError{Field: "", Reason: err.Error()})
	}
	if err := w.a.saveInstallerSettings(s); err != nil {
		var fe *installer.FieldError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("%w: %w", webui.ErrInvalid, err)
		}
		return nil, err
	}
	return w.GetInstaller(ctx)
}

func (w installerWeb) FactoryReset(ctx context.Context) error { return w.a.factoryReset() }
