package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"time"

	"callbox/firmware/store"
	"callbox/firmware/version"
	"callbox/webui"
)

func (a *App) startWeb(ctx context.Context) error {
	hardware := !a.boardSim()
	srv, err := webui.New(webui.Config{
		Addr:         a.cfg.HTTPAddr,
		HTTPSAddr:    a.cfg.HTTPSAddr,
		TLSDir:       filepath.Join(a.cfg.DataDir, "tls"),
		RedirectHTTP: hardware,
		HSTS:         hardware,
		Users:        storeUsers{a},
		System:       systemInfo{a},
		PBX:          pbxStore{a},
		CallCentre:   ccStore{a},
		Live:         &ccLive{a: a, desk: map[string]bool{}},
		CallLog:      callLog{a},
		Logs:         ccLogs{a},
		Recordings:   recordingsWeb{a},
		Voicemail:    voicemailWeb{a},
		Conferences:  conferenceWeb{a},
		Sim:          a.webSim(),
		Records:      a.webRecords(),
		Prompts:      webPrompts{a},
		Fax:          webFax{a},
		Updates:      updatesWeb{a},
		Backups:      backupsWeb{a},
		Installer:    installerWeb{a},
		Events:       eventsWeb{a.eventBus},
		Desk:         deskWeb{a},
		Outside:      outsideWeb{a},
		Tokens:       &tokenStore{db: a.db},
		Logger:       a.log.With("component", "web"),
	})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	select {
	case err := <-done:
		cancel()
		return err
	case <-srv.Ready():
	case <-ctx.Done():
		cancel()
		<-done
		return ctx.Err()
	}
	a.mu.Lock()
	a.web, a.webAddr, a.webTLSAddr = srv, srv.Addr(), srv.TLSAddr()
	a.webStop = func(stopCtx context.Context) error {
		// Run gives requests in flight a second, within the app's stop budget.
		cancel()
		select {
		case err := <-done:
			return err
		case <-stopCtx.Done():
			return fmt.Errorf("web admin did not stop: %w", stopCtx.Err())
		}
	}
	a.mu.Unlock()
	if hardware && srv.TLSAddr() != "" {
		a.log.Info("web admin listening", "url", "https://"+srv.TLSAddr()+"/", "http", "redirects to https")
	} else {
		a.log.Info("web admin listening", "url", "http://"+srv.Addr()+"/")
		fmt.Fprintf(a.cfg.Out, "callbox: web admin on http://%s/\n", srv.Addr())
	}
	if cert, ok := srv.Certificate(); ok {
		// The installer compares this with what the browser shows before
		// trusting the box's self-made certificate.
		a.log.Info("web admin HTTPS certificate", "url", "https://"+srv.TLSAddr()+"/", "sha256", cert.Fingerprint,
			"self_made", cert.SelfMade, "not_after", cert.NotAfter.Format(time.DateOnly))
		fmt.Fprintf(a.cfg.Out, "callbox: web admin on https://%s/ (certificate SHA-256 %s)\n", srv.TLSAddr(), cert.Fingerprint)
	}
	return nil
}

func (a *App) stopWeb(ctx context.Context) error {
	a.mu.Lock()
	stop := a.webStop
	a.web, a.webStop, a.webAddr, a.webTLSAddr = nil, nil, "", ""
	a.mu.Unlock()
	return stop(ctx)
}

// webStatus is the console's view of the web admin: its URLs, the
// certificate's fingerprint, and the raised alarms.
func (a *App) webStatus() []string {
	a.mu.Lock()
	web, addr, tlsAddr := a.web, a.webAddr, a.webTLSAddr
	a.mu.Unlock()
	var lines []string
	if addr != "" {
		lines = append(lines, "web: http://"+addr+"/")
	}
	if web != nil {
		if cert, ok := web.Certificate(); ok {
			lines = append(lines, fmt.Sprintf("https: https://%s/ certificate SHA-256 %s (valid to %s)",
				tlsAddr, cert.Fingerprint, cert.NotAfter.Format(time.DateOnly)))
		}
	}
	for _, al := range a.alarms() {
		switch al.Code {
		case webui.AlarmStorageFull:
			lines = append(lines, fmt.Sprintf("ALARM: storage full since %s: store writes fail; free space in %s",
				al.Since.Format(time.DateTime), a.cfg.DataDir))
		default:
			lines = append(lines, recordingAlarmLine(a.mediaServices(), al))
		}
	}
	return lines
}

// alarms lists the raised alarms.
func (a *App) alarms() []webui.Alarm {
	var out []webui.Alarm
	_ = a.withDB(func(db *store.DB) error {
		if since, full := db.NoSpaceSince(); full {
			out = append(out, webui.Alarm{Code: webui.AlarmStorageFull, Since: since})
		}
		return nil
	})
	if m := a.mediaServices(); m != nil {
		if al, ok := m.rec.Alarm(); ok {
			out = append(out, webui.Alarm{Code: al.Code, Since: al.Since})
		}
	}
	return out
}

// WebAddr is the address the web admin listens on, once started.
func (a *App) WebAddr() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.webAddr
}

// announceSetup issues the first-boot setup code when no admin exists yet,
// and shows it on the terminal and in the log: there is no default password.
func (a *App) announceSetup(ctx context.Context) error {
	hasAdmin, err := a.hasAdmin()
	if err != nil || hasAdmin {
		return err
	}
	code, err := a.issueSetupCode(ctx)
	if err != nil {
		return err
	}
	a.log.Warn("first boot: no admin account yet; open the web admin and enter the setup code", "setup_code", code)
	fmt.Fprintf(a.cfg.Out, "callbox: first boot: setup code %s (enter it on the web admin to create the admin account)\n", code)
	return nil
}

func (a *App) issueSetupCode(ctx context.Context) (string, error) {
	a.mu.Lock()
	web := a.web
	a.mu.Unlock()
	if web == nil {
		return "", errors.New("app: web admin is not running")
	}
	return web.IssueSetupCode(ctx)
}

func (a *App) hasAdmin() (bool, error) {
	found := false
	err := a.withDB(func(db *store.DB) error {
		return db.View(func(tx *store.Tx) error {
			users, err := tx.Users()
			for _, u := range users {
				found = found || (u.Role == store.RoleAdmin && !u.Disabled)
			}
			return err
		})
	})
	return found, err
}

func (a *App) withDB(fn func(*store.DB) error) error {
	a.mu.Lock()
	db := a.db
	a.mu.Unlock()
	if db == nil {
		return errors.New("app: store is not open")
	}
	return fn(db)
}

// storeUsers adapts the store to the web admin's Users interface.
type storeUsers struct{ a *App }

func (s storeUsers) Count(ctx context.Context) (n int, err error) {
	err = s.a.withDB(func(db *store.DB) error {
		return db.View(func(tx *store.Tx) error { n, err = tx.CountUsers(); return err })
	})
	return n, webErr(err)
}

func (s storeUsers) Get(ctx context.Context, login string) (u webui.User, err error) {
	err = s.a.withDB(func(db *store.DB) error {
		return db.View(func(tx *store.Tx) error {
			su, err := tx.User(login)
			u = toWeb(su)
			return err
		})
	})
	return u, webErr(err)
}

func (s storeUsers) List(ctx context.Context) (list []webui.User, err error) {
	err = s.a.withDB(func(db *store.DB) error {
		return db.View(func(tx *store.Tx) error {
			users, err := tx.Users()
			for _, su := range users {
				list = append(list, toWeb(su))
			}
			return err
		})
	})
	return list, webErr(err)
}

func (s storeUsers) Create(ctx context.Context, u webui.User) error {
	return webErr(s.a.withDB(func(db *store.DB) error {
		return db.Update(func(tx *store.Tx) error { return tx.CreateUser(toStore(u)) })
	}))
}

func (s storeUsers) Update(ctx context.Context, u webui.User) error {
	return webErr(s.a.withDB(func(db *store.DB) error {
		return db.Update(func(tx *store.Tx) error { return tx.UpdateUser(toStore(u)) })
	}))
}

func (s storeUsers) Delete(ctx context.Context, login string) error {
	return webErr(s.a.withDB(func(db *store.DB) error {
		return db.Update(func(tx *store.Tx) error { return tx.DeleteUser(login) })
	}))
}

func toWeb(u store.User) webui.User {
	return webui.User{Login: u.Login, DisplayName: u.DisplayName, Role: string(u.Role), PasswordHash: u.PasswordHash,
		Disabled: u.Disabled, Lang: u.Lang, Agent: u.Agent, Permissions: u.Permissions, Created: u.Created, Updated: u.Updated}
}

func toStore(u webui.User) store.User {
	return store.User{Login: u.Login, DisplayName: u.DisplayName, Role: store.Role(u.Role), PasswordHash: u.PasswordHash,
		Disabled: u.Disabled, Lang: u.Lang, Agent: u.Agent, Permissions: u.Permissions, Created: u.Created, Updated: u.Updated}
}

// webErr maps the store's sentinels onto the web admin's, keeping the
// message that names the field.
func webErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", webui.ErrNotFound, err)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: %w", webui.ErrConflict, err)
	case errors.Is(err, store.ErrInvalid):
		return fmt.Errorf("%w: %w", webui.ErrInvalid, err)
	case errors.Is(err, store.ErrNoSpace):
		return fmt.Errorf("%w: %w", webui.ErrNoSpace, err)
	}
	return err
}

// systemInfo answers the web admin's /system.
type systemInfo struct{ a *App }

func (s systemInfo) Info(ctx context.Context) webui.SystemInfo {
	a := s.a
	info := webui.SystemInfo{Version: a.runningVersion(), Build: version.String("callboxd"), Uptime: time.Since(a.started).Round(time.Second)}
	if u := a.updater(); u != nil {
		info.Slot = u.Booted()
	}
	a.mu.Lock()
	b := a.board
	a.mu.Unlock()
	info.Board.Name = b.Name
	for _, p := range a.portStates() {
		info.Board.Ports = append(info.Board.Ports, webui.PortInfo{Name: p.Name, Kind: string(p.Kind), Chip: p.Chip, State: p.State})
	}
	_ = a.withDB(func(db *store.DB) error {
		n, err := db.Size()
		info.StoreBytes = n
		return err
	})
	var st syscall.Statfs_t
	if syscall.Statfs(a.cfg.DataDir, &st) == nil {
		info.DataFreeBytes = st.Bavail * uint64(st.Bsize)
	}
	if t := a.telephony(); t != nil {
		info.MediaClockLost = t.clock.lost()
	}
	info.Alarms = a.alarms()
	return info
}
