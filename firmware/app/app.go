// Package app wires callbox together and runs its lifecycle: it loads the
// board, opens the store, applies the PBX configuration, opens the prompt
// catalogue (prompts.go), starts the telephony (the switch and media engine on the board's PCM clock, the
// analog lines, SIP on --sip, CDRs into the store; telephony.go), the
// control socket, the web admin, the serial console and the watchdog in
// order, and stops them in reverse order when the root context ends. It is
// the only package that imports every layer.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"callbox/board"
	"callbox/board/ports"
	"callbox/firmware/console"
	"callbox/firmware/logbuf"
	"callbox/firmware/ota"
	"callbox/firmware/store"
	"callbox/telephony/prompt"
	"callbox/webui"
)

// Config is what callboxd's flags decide.
type Config struct {
	DataDir  string // store and media files
	Board    string // "sim" or a board description file
	HTTPAddr string // web admin listen address (plain HTTP)
	// HTTPSAddr is the web admin's HTTPS address; empty: no HTTPS. The
	// certificate lives in DataDir/tls. On hardware plain HTTP then only
	// redirects to HTTPS, and HTTPS sends HSTS; the simulation keeps
	// plain HTTP usable.
	HTTPSAddr  string
	SIPAddr    string // SIP listen address (UDP and TCP); empty: no SIP
	Console    string // "pty", a UART device, or "none"
	NoWatchdog bool   // do not pet /dev/watchdog even when it exists
	Watchdog   string // watchdog device; "/dev/watchdog" when empty
	// RTPMin and RTPMax bound the RTP ports of SIP calls (even ports for
	// RTP, the next odd one for RTCP); both zero take 10000-19999.
	RTPMin, RTPMax int
	// SystemPrompts is the directory of the system prompts (LANG/NAME.wav,
	// as callboxctl prompts generate makes them); empty means
	// DataDir/prompts/system. The image ships them read-only in its root
	// file system, so that updates bring new ones.
	SystemPrompts string
	// Import is a configuration file (configcli's document: the PBX part,
	// telephony/pbxconf, and the call centre's, telephony/ccconf, either
	// optional) loaded into the store at boot, before the telephony
	// starts; an invalid file stops the boot with the field named and the
	// store unchanged.
	Import string
	// OTAKey is a file with the update public key (PEM or base64), used
	// instead of the one compiled in (development and tests).
	OTAKey string
	// OTABoard names the flash layout on hardware; empty takes
	// callbox.board= from the kernel command line.
	OTABoard string
	// OTAFloor is the oldest version this box may install; empty: none.
	OTAFloor string
	// EventStreamAddr is the TCP event stream's listen address (JSON lines
	// after an API token with events:read); empty: no stream.
	EventStreamAddr string
	// Out receives the few lines a person at the terminal must see (the
	// web address and the first-boot setup code), besides the log.
	Out io.Writer
	// StopTimeout bounds the whole stop (0: the StopTimeout constant, the
	// box's own). Tests of daemons with calls in flight on a loaded
	// machine give more, so a missed stop there means a hang, not load.
	StopTimeout time.Duration
}

// StopTimeout bounds a clean shutdown: every component gets its share.
const StopTimeout = 2 * time.Second

// errRestart asks Run to stop everything and start again (console "restart").
var errRestart = errors.New("app: restart requested")

// App is one running box.
type App struct {
	cfg     Config
	log     *slog.Logger
	logs    *logbuf.Buffer
	started time.Time

	restart chan struct{} // console asks for a restart (sim) or reboot (hardware)
	// orderCalls: calls placed from work orders (recordsdial.go).
	orderCalls orderCalls
	// conDev is the console's device, kept across restarts (console.go);
	// only Run's goroutine touches it.
	conDev *console.Device

	// Set while running; read by the console and the web admin.
	mu         sync.Mutex
	board      board.Board
	ports      *ports.Board // the running ports (board/ports)
	ctl        *controlRun  // the control socket
	db         *store.DB
	web        *webui.Server
	webStop    func(context.Context) error
	webAddr    string
	webTLSAddr string
	con        *consoleRun
	dog        *watchdog
	tel        *telephonyRun     // switch, lines, SIP (telephony.go)
	media      *mediaRun         // recording, voicemail, conference rooms (media.go)
	ota        *ota.Updater      // A/B slots (ota.go)
	health     *task             // marks the booted slot good (ota.go)
	ntp        *ntpRun           // the NTP client (installer.go)
	check      *checkRun         // the scheduled update check (ota.go)
	prompts    *prompt.Catalogue // prompts.go
	cc         *callCentre       // the call-centre configuration in force (callcentre.go)
	rec        *recordsRun       // customers, knowledge base, work orders (records.go)
	ccSvc      *ccRun            // the call-centre service (cc.go)
	rooms      roomNumbers       // the conference rooms' numbers in the dial plan (conference.go)
	fax        *faxRun           // the fax service (fax.go)
	outside    *outsideRun       // SMS, email, webhooks, the push (outsideif.go)

	// lineEvents routes the board's driver events to the running line
	// adapters; nil while the telephony is not running.
	lineEvents atomic.Pointer[lineRouter]
}

// New checks the configuration; nothing is started until Run.
func New(cfg Config, log *slog.Logger, logs *logbuf.Buffer) (*App, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("app: data directory: not set")
	}
	if cfg.Board == "" {
		cfg.Board = "sim"
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Watchdog == "" {
		cfg.Watchdog = "/dev/watchdog"
	}
	if logs == nil {
		logs = logbuf.New(1)
	}
	return &App{cfg: cfg, log: log, logs: logs, started: time.Now(), restart: make(chan struct{}, 1)}, nil
}

// component is one part of the box with a start that returns once it is
// serving and a stop that returns once its goroutines have ended.
type component struct {
	name  string
	start func(ctx context.Context) error
	stop  func(ctx context.Context) error
}

// Run starts the box and serves until ctx ends, then stops every component
// within StopTimeout. A component that fails to start stops the boot with an
// error naming it. A restart from the console stops and starts everything
// again in this process.
func (a *App) Run(ctx context.Context) error {
	defer a.closeConsoleDevice()
	for {
		err := a.runOnce(ctx)
		if !errors.Is(err, errRestart) {
			return err
		}
		if a.rebootsOnRestart() {
			return rebootNow(a.log)
		}
		a.log.Info("restarting")
	}
}

func (a *App) runOnce(ctx context.Context) error {
	comps := []component{
		{name: "board", start: a.startBoard, stop: a.stopBoard},
		{name: "store", start: a.startStore, stop: a.stopStore},
		{name: "ota", start: a.startOTA},
		{name: "pbxconf", start: a.startPBXConf},
		{name: "records", start: a.startRecords, stop: a.stopRecords},
		{name: "media", start: a.startMedia, stop: a.stopMedia},
		{name: "prompts", start: a.startPrompts, stop: a.stopPrompts},
		{name: "callcentre", start: a.startCallCentre, stop: a.stopCallCentre},
		{name: "telephony", start: a.startTelephony, stop: a.stopTelephony},
		{name: "cc", start: a.startCC, stop: a.stopCC},
		{name: "mwi", start: a.startMWI},
		{name: "fax", start: a.startFax, stop: a.stopFax},
		{name: "outside", start: a.startOutside, stop: a.stopOutside},
		{name: "control", start: a.startControl, stop: a.stopControl},
		{name: "web", start: a.startWeb, stop: a.stopWeb},
		{name: "console", start: a.startConsole, stop: a.stopConsole},
		{name: "watchdog", start: a.startWatchdog, stop: a.stopWatchdog},
		{name: "ntp", start: a.startNTP, stop: a.stopNTP},
		{name: "updatecheck", start: a.startUpdateCheck, stop: a.stopUpdateCheck},
		{name: "setup", start: a.announceSetup},
		{name: "health", start: a.startHealth, stop: a.stopHealth},
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var started []component
	var bootErr error
	for _, c := range comps {
		t0 := time.Now()
		if err := c.start(runCtx); err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				// Stopped while booting (or restarting): a clean stop,
				// not a failed component.
				break
			}
			bootErr = fmt.Errorf("app: start %s: %w", c.name, err)
			break
		}
		a.log.Debug("started", "component", c.name, "took", time.Since(t0))
		started = append(started, c)
	}
	var stopReason error
	if bootErr == nil {
		a.log.Info("callbox running", "board", a.board.Name, "data", a.cfg.DataDir)
		select {
		case <-ctx.Done():
		case <-a.restart:
			stopReason = errRestart
		}
	}
	cancel()
	limit := a.cfg.StopTimeout
	if limit <= 0 {
		limit = StopTimeout
	}
	stopCtx, stopCancel := context.WithTimeout(context.Background(), limit)
	defer stopCancel()
	var stopErrs []error
	for i := len(started) - 1; i >= 0; i-- {
		c := started[i]
		if c.stop == nil {
			continue
		}
		if err := c.stop(stopCtx); err != nil {
			stopErrs = append(stopErrs, fmt.Errorf("app: stop %s: %w", c.name, err))
		}
	}
	if bootErr != nil {
		return errors.Join(append([]error{bootErr}, stopErrs...)...)
	}
	if stopReason == nil && len(stopErrs) == 0 {
		a.log.Info("callbox stopped")
	}
	return afterStop(a.log, stopReason, stopErrs, a.rebootsOnRestart())
}

// rebootsOnRestart: a restart is a reboot through the bootloader (on
// hardware, and on a simulated board booted from real slots), not a new
// start in this process.
func (a *App) rebootsOnRestart() bool {
	return !a.boardSim() || a.realSlots()
}

// afterStop is what Run hears once the components are stopped: the stop
// errors, except when a reboot was asked for (an applied update, the
// console's restart): a part that did not stop in time must not keep the
// box on this slot, and the reboot ends it anyway. (Under load in qemu the
// board once missed StopTimeout after an update was applied, callboxd
// exited instead of rebooting, and its supervisor started it again on the
// old slot.)
func afterStop(log *slog.Logger, reason error, stopErrs []error, reboots bool) error {
	if len(stopErrs) == 0 {
		return reason
	}
	err := errors.Join(stopErrs...)
	if errors.Is(reason, errRestart) && reboots {
		log.Error("rebooting although a part did not stop", "err", err)
		return reason
	}
	return err
}

// startBoard brings the board's ports up (board.go); each port's bring-up
// is logged by board/ports.
func (a *App) startBoard(ctx context.Context) error {
	return a.openBoard(ctx)
}

func (a *App) boardSim() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.board.Sim
}

func (a *App) startStore(ctx context.Context) error {
	if err := os.MkdirAll(a.cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := a.applyFactoryReset(); err != nil {
		return err
	}
	if err := a.applyRestore(); err != nil {
		return err
	}
	db, err := store.Open(filepath.Join(a.cfg.DataDir, "callbox.db"))
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.db = db
	a.mu.Unlock()
	a.log.Info("store open", "path", db.Path())
	return nil
}

func (a *App) stopStore(ctx context.Context) error {
	a.mu.Lock()
	db := a.db
	a.db = nil
	a.mu.Unlock()
	return db.Close()
}
