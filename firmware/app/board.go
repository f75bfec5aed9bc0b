package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"callbox/board"
	"callbox/board/ports"
	"callbox/board/sim"
	"callbox/firmware/cli"
	"callbox/firmware/cli/backupcli"
	"callbox/firmware/cli/boardcli"
	"callbox/firmware/cli/configcli"
	"callbox/firmware/cli/installcli"
	"callbox/firmware/cli/otacli"
	"callbox/firmware/cli/simcli"
	"callbox/firmware/control"
	"callbox/telephony/pbxconf"
	"callbox/webui"
)

// openBoard loads the board description and brings every port up through
// its driver (on emulated chips for "sim"). A port that fails is logged and
// shown failed; it does not stop the boot.
func (a *App) openBoard(ctx context.Context) error {
	b, err := board.Load(a.cfg.Board)
	if err != nil {
		return err
	}
	// The real clock; driver events go to the telephony's line adapters.
	pb, err := ports.OpenWith(ctx, b, ports.Options{Log: a.log.With("component", "board"), Events: a.boardEvent})
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.board = pb.Description()
	a.ports = pb
	a.mu.Unlock()
	return nil
}

// stopBoard halts every chip at once (a seized PSTN line goes on-hook, a
// ringing phone stops: a few register writes, so a stuck goroutine cannot
// keep a line busy), then stops the ports' goroutines and the highways.
func (a *App) stopBoard(ctx context.Context) error {
	a.mu.Lock()
	pb := a.ports
	a.ports = nil
	a.mu.Unlock()
	if pb == nil {
		return nil
	}
	if err := pb.Halt(); err != nil {
		a.log.Warn("board: halting the chips", "err", err)
	} else {
		a.log.Info("board halted: lines on-hook, ringing stopped")
	}
	done := make(chan error, 1)
	go func() { done <- pb.Close() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("board did not stop: %w", ctx.Err())
	}
}

// livePorts returns the running board, or nil.
func (a *App) livePorts() *ports.Board {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ports
}

// maintenanceCommands are the commands the serial console and the control
// socket serve, against the live board.
func (a *App) maintenanceCommands() []cli.Command {
	return append([]cli.Command{boardcli.Live(a.livePorts), configcli.Live(a.pbxConfigCommand()),
		simcli.Live(a.simBoard, a.portExtensions), otacli.Live(a.otaCommand())},
		append(backupcli.Live(a.backupCommands()), installcli.Live(a.installerCommands())...)...)
}

// simBoard returns the running simulated board, or nil (on hardware, or
// while the box restarts).
func (a *App) simBoard() *sim.Board {
	if pb := a.livePorts(); pb != nil {
		return pb.Sim()
	}
	return nil
}

// webSim is the web admin's /sim page on a simulated board, nil on
// hardware.
func (a *App) webSim() webui.Sim {
	a.mu.Lock()
	simulated := a.board.Sim
	a.mu.Unlock()
	if !simulated {
		return nil
	}
	return simPage{a}
}

// simPage runs the sim commands for the web admin (webui.Sim).
type simPage struct{ a *App }

// Ports implements webui.Sim.
func (p simPage) Ports() []string {
	if sb := p.a.simBoard(); sb != nil {
		return sb.Ports()
	}
	return nil
}

// Run implements webui.Sim: the command the console and callboxctl run.
func (p simPage) Run(ctx context.Context, args []string) (out, errOut string, code int) {
	var o, e bytes.Buffer
	code = simcli.Live(p.a.simBoard, p.a.portExtensions).Run(ctx, args, cli.IO{In: strings.NewReader(""), Out: &o, Err: &e})
	return o.String(), e.String(), code
}

// portExtensions maps each FXS port to its extension number in the stored
// PBX configuration ("fxs1": "201"), for the sim commands' output.
func (a *App) portExtensions() map[string]string {
	conf, err := a.loadPBX()
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for _, e := range conf.Extensions {
		if e.Kind == pbxconf.KindFXS {
			m[fxsName(e.Port)] = e.Number
		}
	}
	return m
}

// controlRun is the control socket's server and the goroutine serving it.
type controlRun struct {
	srv  *control.Server
	done chan error
}

// startControl serves the maintenance commands on the control socket in
// the data directory, for callboxctl.
func (a *App) startControl(ctx context.Context) error {
	srv, err := control.Listen(control.Path(a.cfg.DataDir), a.maintenanceCommands(), a.log.With("component", "control"))
	if err != nil {
		return err
	}
	run := &controlRun{srv: srv, done: make(chan error, 1)}
	go func() { run.done <- srv.Serve() }()
	a.mu.Lock()
	a.ctl = run
	a.mu.Unlock()
	a.log.Info("control socket listening", "path", srv.Path())
	return nil
}

func (a *App) stopControl(ctx context.Context) error {
	a.mu.Lock()
	run := a.ctl
	a.ctl = nil
	a.mu.Unlock()
	if run == nil {
		return nil
	}
	err := run.srv.Close(ctx)
	select {
	case serr := <-run.done:
		return errors.Join(err, serr)
	case <-ctx.Done():
		return errors.Join(err, fmt.Errorf("control socket did not stop: %w", ctx.Err()))
	}
}
