package app

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"callbox/firmware/cli/otacli"
	"callbox/firmware/ota"
	"callbox/firmware/store"
	"callbox/firmware/version"
	"callbox/flash"
	"callbox/webui"
)

// Health checking before the booted slot is marked good.
const (
	healthEvery   = time.Second
	healthTimeout = 2 * time.Minute
)

// startOTA opens the updater. In simulation this is the boot: the
// simulated bootloader picks the slot (firmware/ota).
func (a *App) startOTA(ctx context.Context) error {
	// The simulated board on a box booted from a slot (the qemu image)
	// updates its real slots.
	_, slot := ota.Cmdline()
	u, err := ota.Open(ota.Config{
		DataDir: a.cfg.DataDir,
		Sim:     a.boardSim() && slot == "",
		Board:   a.cfg.OTABoard,
		Running: version.Version,
		Floor:   a.cfg.OTAFloor,
		KeyFile: a.cfg.OTAKey,
		Log:     a.log.With("component", "ota"),
	})
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.ota = u
	a.mu.Unlock()
	return nil
}

func (a *App) updater() *ota.Updater {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ota
}

// runningVersion is the booted slot's version: in simulation the version
// its bundle carried, otherwise the firmware's.
func (a *App) runningVersion() string {
	if u := a.updater(); u != nil {
		return u.Version()
	}
	return version.Version
}

// realSlots reports whether the box booted from a real A/B slot, so a
// restart must be a reboot through the bootloader even on the simulated
// board.
func (a *App) realSlots() bool {
	u := a.updater()
	return u != nil && !u.Simulated() && u.Booted() != ""
}

// requestRestart asks Run to restart the box: in process in simulation (a
// simulated reboot), a reboot on hardware.
func (a *App) requestRestart() {
	select {
	case a.restart <- struct{}{}:
	default: // one is already pending
	}
}

// otaCommand is the console's and the control socket's update command.
func (a *App) otaCommand() otacli.Daemon {
	return otacli.Daemon{Updater: a.updater, Reboot: a.requestRestart,
		CheckSettings: a.checkSettings, SaveCheckSettings: a.saveCheckSettings}
}

// The scheduled check's settings live in the store under one key, as
// JSON: they are the box's configuration (backed up, erased by a factory
// reset), unlike the version floor, which firmware/ota keeps beside the
// slots.
const checkSettingsKey = "ota.check"

func (a *App) checkSettings() (s ota.CheckSettings, err error) {
	s = ota.DefaultCheckSettings()
	err = a.withDB(func(db *store.DB) error {
		return db.View(func(tx *store.Tx) error {
			doc, err := tx.String(checkSettingsKey, "")
			if err != nil || doc == "" {
				return err
			}
			return json.Unmarshal([]byte(doc), &s)
		})
	})
	return s, err
}

// saveCheckSettings validates and stores s and runs the check now when it
// is on.
func (a *App) saveCheckSettings(s ota.CheckSettings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	doc, _ := json.Marshal(s)
	if err := a.withDB(func(db *store.DB) error {
		return db.Update(func(tx *store.Tx) error { return tx.SetSetting(checkSettingsKey, string(doc)) })
	}); err != nil {
		return err
	}
	a.log.Info("update check settings saved", "enabled", s.Enabled, "url", s.URL, "hours", s.IntervalHours)
	if c := a.checker(); c != nil && s.Enabled {
		c.Kick()
	}
	return nil
}

// checkRun is the scheduled update check and its goroutine.
type checkRun struct {
	c    *ota.Checker
	task *task
}

func (a *App) startUpdateCheck(ctx context.Context) error {
	u := a.updater()
	if u == nil {
		return nil
	}
	c := &ota.Checker{Updater: u, Settings: a.checkSettings, Log: a.log.With("component", "updatecheck")}
	run := &checkRun{c: c, task: startTask(ctx, c.Run)}
	a.mu.Lock()
	a.check = run
	a.mu.Unlock()
	return nil
}

func (a *App) stopUpdateCheck(ctx context.Context) error {
	a.mu.Lock()
	run := a.check
	a.check = nil
	a.mu.Unlock()
	if run == nil {
		return nil
	}
	return run.task.stop(ctx, "update check")
}

func (a *App) checker() *ota.Checker {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.check == nil {
		return nil
	}
	return a.check.c
}

// versionLines say which version runs: the slot's (in simulation, the
// version its bundle carried) and the binary's own build.
func (a *App) versionLines() []string {
	build := version.String("callboxd")
	u := a.updater()
	if u == nil || u.Booted() == "" {
		return []string{"version: " + version.Version, "build: " + build}
	}
	st := u.Status()
	where := "slot " + st.Booted
	if st.Sim {
		where += ", simulated: the version its bundle carried"
	}
	lines := []string{fmt.Sprintf("version: %s (%s)", st.Version, where), "build: " + build}
	if st.Check.Available {
		lines = append(lines, fmt.Sprintf("update available: version %s (update fetch installs it)", st.Check.Manifest.Version))
	}
	return lines
}

// task is a goroutine a component started, and the cancel that ends it.
type task struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startTask runs fn in a goroutine until ctx ends or stop is called.
func startTask(ctx context.Context, fn func(context.Context)) *task {
	ctx, cancel := context.WithCancel(ctx)
	t := &task{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		fn(ctx)
	}()
	return t
}

// stop ends the goroutine and waits for it, until ctx ends; nil is a task
// that never started.
func (t *task) stop(ctx context.Context, name string) error {
	if t == nil {
		return nil
	}
	t.cancel()
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s did not stop: %w", name, ctx.Err())
	}
}

// startHealth checks, once everything has started, that the box is
// healthy (store open, web and SIP answering) and then marks the booted
// slot good. A slot on trial that does not become healthy in time is
// rebooted, so the bootloader's attempts run out and it falls back.
func (a *App) startHealth(ctx context.Context) error {
	u := a.updater()
	if u == nil || u.Booted() == "" {
		return nil
	}
	run := startTask(ctx, func(ctx context.Context) { a.watchHealth(ctx, u) })
	a.mu.Lock()
	a.health = run
	a.mu.Unlock()
	return nil
}

func (a *App) stopHealth(ctx context.Context) error {
	a.mu.Lock()
	run := a.health
	a.health = nil
	a.mu.Unlock()
	return run.stop(ctx, "health check")
}

func (a *App) watchHealth(ctx context.Context, u *ota.Updater) {
	deadline := time.Now().Add(healthTimeout)
	t := time.NewTicker(healthEvery)
	defer t.Stop()
	var err error
	for {
		if err = a.healthy(ctx); err == nil {
			if err := u.MarkGood(); err != nil {
				a.log.Error("cannot mark the booted slot good", "err", err)
			}
			return
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	onTrial := false
	for _, s := range u.Status().Slots {
		onTrial = onTrial || s.Booted && s.State == "trying"
	}
	if !onTrial {
		a.log.Error("the box is not healthy; its slot was good before, so it stays", "err", err)
		return
	}
	a.log.Error("the updated slot did not become healthy; rebooting so the bootloader falls back", "slot", u.Booted(), "err", err)
	a.requestRestart()
}

// healthy checks the store, the web admin and SIP from the inside, as a
// client would reach them.
func (a *App) healthy(ctx context.Context) error {
	if err := a.withDB(func(db *store.DB) error {
		return db.View(func(tx *store.Tx) error { return nil })
	}); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	web := a.WebAddr()
	if web == "" {
		return errors.New("web: not listening")
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+loopback(web)+"/api/v1/health", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("web: health answered %s", resp.Status)
	}
	if a.cfg.SIPAddr == "" {
		return nil
	}
	sip := a.TelephonyStatus().SIPUDP
	if sip == "" {
		return errors.New("sip: not listening")
	}
	if err := sipOptions(ctx, loopback(sip)); err != nil {
		return fmt.Errorf("sip: %w", err)
	}
	return nil
}

// loopback turns a listen address into one to dial from this host.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port)
}

// sipOptions sends one OPTIONS over UDP to addr; any SIP response means
// the SIP stack answers.
func sipOptions(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	id := hex.EncodeToString(rnd[:])
	local := c.LocalAddr().String()
	msg := "OPTIONS sip:" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK" + id + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:health@" + local + ">;tag=" + id[:8] + "\r\n" +
		"To: <sip:" + addr + ">\r\n" +
		"Call-ID: " + id + "@callbox-health\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Content-Length: 0\r\n\r\n"
	if _, err := io.WriteString(c, msg); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "SIP/2.0 ") {
		return fmt.Errorf("answered %q", strings.TrimSpace(line))
	}
	return nil
}

// updatesWeb adapts the updater to the web admin's Updates.
type updatesWeb struct{ a *App }

func (w updatesWeb) UpdateStatus(ctx context.Context) webui.UpdateStatus {
	u := w.a.updater()
	if u == nil {
		return webui.UpdateStatus{Reason: "the updater is not running"}
	}
	st := u.Status()
	out := webui.UpdateStatus{Available: st.Available, Reason: st.Reason, Board: st.Board, Simulated: st.Sim,
		Booted: st.Booted, Version: st.Version, Build: st.Build, Floor: st.Floor, BootOrder: st.Order, Installing: st.Installing,
		Done: st.Done, Total: st.Total, LastError: st.LastError, MarkedGood: st.MarkedGood}
	if !st.Check.At.IsZero() {
		c := webCheck(st.Check)
		out.Check = &c
	}
	for _, s := range st.Slots {
		out.Slots = append(out.Slots, webui.UpdateSlot{Name: s.Name, Booted: s.Booted, Version: s.Version, State: s.State, AttemptsLeft: s.Left})
	}
	if st.Pending != nil {
		m := webManifest(*st.Pending)
		out.Pending = &m
	}
	return out
}

func (w updatesWeb) InstallUpdate(ctx context.Context, r io.Reader, size int64) (webui.UpdateManifest, error) {
	u := w.a.updater()
	if u == nil {
		return webui.UpdateManifest{}, fmt.Errorf("%w: the updater is not running", webui.ErrInvalid)
	}
	return webInstallResult(u.Install(ctx, r, size))
}

// webInstallResult maps an install's outcome onto the web admin's errors.
func webInstallResult(m flash.Manifest, err error) (webui.UpdateManifest, error) {
	switch {
	case errors.Is(err, flash.ErrRefused):
		return webui.UpdateManifest{}, fmt.Errorf("%w: %w", webui.ErrInvalid, err)
	case errors.Is(err, ota.ErrBusy):
		return webui.UpdateManifest{}, fmt.Errorf("%w: %w", webui.ErrConflict, err)
	case err != nil:
		return webui.UpdateManifest{}, err
	}
	return webManifest(m), nil
}

func (w updatesWeb) ApplyUpdate(ctx context.Context) (webui.UpdateManifest, error) {
	u := w.a.updater()
	if u == nil {
		return webui.UpdateManifest{}, errors.New("app: the updater is not running")
	}
	m, err := u.Apply()
	if err != nil {
		return webui.UpdateManifest{}, err
	}
	// Answer first: the restart stops the web admin, which gives this
	// request its second to finish.
	go func() {
		time.Sleep(200 * time.Millisecond)
		w.a.requestRestart()
	}()
	return webManifest(m), nil
}

func (w updatesWeb) UpdateSettings(ctx context.Context) (webui.UpdateSettings, error) {
	cs, err := w.a.checkSettings()
	if err != nil {
		return webui.UpdateSettings{}, err
	}
	out := webui.UpdateSettings{Check: webui.UpdateCheckSettings(cs)}
	if u := w.a.updater(); u != nil {
		_, out.Floor = u.Floor()
	}
	return out, nil
}

// SetUpdateSettings checks both settings before storing either.
func (w updatesWeb) SetUpdateSettings(ctx context.Context, s webui.UpdateSettings) error {
	u := w.a.updater()
	if u == nil {
		return errors.New("app: the updater is not running")
	}
	cs := ota.CheckSettings(s.Check)
	if err := cs.Validate(); err != nil {
		var se *ota.SettingError
		if errors.As(err, &se) {
			se.Field = "check." + se.Field
			return fmt.Errorf("%w: %w", webui.ErrInvalid, se)
		}
		return err
	}
	if _, stored := u.Floor(); stored != s.Floor {
		if err := u.SetFloor(s.Floor); err != nil {
			var se *ota.SettingError
			if errors.As(err, &se) {
				return fmt.Errorf("%w: %w", webui.ErrInvalid, err)
			}
			return err
		}
	}
	return w.a.saveCheckSettings(cs)
}

func (w updatesWeb) CheckUpdate(ctx context.Context) webui.UpdateCheck {
	u := w.a.updater()
	if u == nil {
		return webui.UpdateCheck{Error: "the updater is not running"}
	}
	cs, err := w.a.checkSettings()
	switch {
	case err != nil:
		return webui.UpdateCheck{Error: err.Error()}
	case cs.URL == "":
		return webui.UpdateCheck{Error: "no update URL is set"}
	}
	return webCheck(u.Check(ctx, cs.URL))
}

func (w updatesWeb) FetchUpdate(ctx context.Context) (webui.UpdateManifest, error) {
	u := w.a.updater()
	if u == nil {
		return webui.UpdateManifest{}, fmt.Errorf("%w: the updater is not running", webui.ErrInvalid)
	}
	m, err := u.InstallChecked(ctx)
	return webInstallResult(m, err)
}

// webCheck is a check's result for the web admin.
func webCheck(r ota.CheckResult) webui.UpdateCheck {
	out := webui.UpdateCheck{URL: r.URL, At: r.At, Available: r.Available, Refused: r.Refused, Error: r.Err}
	if r.Manifest != nil {
		out.Version, out.Notes = r.Manifest.Version, r.Manifest.Notes
	}
	return out
}

func webManifest(m flash.Manifest) webui.UpdateManifest {
	out := webui.UpdateManifest{Version: m.Version, MinVersion: m.MinVersion, Compatible: m.Compatible, Created: m.Created, Notes: m.Notes}
	for _, im := range m.Images {
		out.Images = append(out.Images, webui.UpdateImage{Name: im.Name, Size: im.Size, SHA256: im.SHA256})
	}
	return out
}
