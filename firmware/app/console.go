package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"callbox/board"
	"callbox/firmware/console"
	"callbox/firmware/store"
	"callbox/webui/passwd"
)

// consoleRun is the running serial console and the goroutine that serves it.
type consoleRun struct {
	c    *console.Console
	done chan error
}

func (a *App) startConsole(ctx context.Context) error {
	if a.cfg.Console == "" || a.cfg.Console == "none" {
		return nil
	}
	requirePassword := false
	if err := a.withDB(func(db *store.DB) error {
		return db.View(func(tx *store.Tx) (err error) {
			requirePassword, err = tx.Bool("console.require_password", false)
			return err
		})
	}); err != nil {
		return err
	}
	dev, err := a.consoleDevice()
	if err != nil {
		return err
	}
	c, err := console.NewOn(dev, console.Config{
		RequirePassword: requirePassword,
		CheckPassword:   a.checkAdminPassword,
		Extra:           a.maintenanceCommands(),
	}, consoleHost{a}, a.log.With("component", "console"))
	if err != nil {
		return err
	}
	run := &consoleRun{c: c, done: make(chan error, 1)}
	go func() { run.done <- c.Run(ctx) }()
	a.mu.Lock()
	a.con = run
	a.mu.Unlock()
	return nil
}

// consoleLink is the name, in the data directory, of the link to the
// simulated console's pseudo-terminal.
const consoleLink = "console"

// consoleDevice opens the console device on the first start and keeps it
// until Run returns, so that a restart in simulation leaves whoever is on
// the console connected. A pseudo-terminal gets a new /dev/pts/N with each
// daemon, so a link in the data directory (var/console) names it
// steadily; that is the path printed.
func (a *App) consoleDevice() (*console.Device, error) {
	if a.conDev != nil {
		return a.conDev, nil
	}
	dev, err := console.OpenDevice(a.cfg.Console, 0)
	if err != nil {
		return nil, err
	}
	a.conDev = dev
	p := dev.Path()
	if a.cfg.Console == "pty" {
		link := filepath.Join(a.cfg.DataDir, consoleLink)
		if err := dev.Link(link); err != nil {
			a.log.Warn("no stable link to the console", "err", err)
		} else {
			fmt.Fprintf(a.cfg.Out, "callbox: serial console on %s (%s): screen %s, or picocom %s\n", link, p, link, link)
			return dev, nil
		}
	}
	fmt.Fprintf(a.cfg.Out, "callbox: serial console on %s: screen %s, or picocom %s\n", p, p, p)
	return dev, nil
}

// closeConsoleDevice closes the console device when Run ends.
func (a *App) closeConsoleDevice() {
	if a.conDev != nil {
		if err := a.conDev.Close(); err != nil {
			a.log.Warn("console device", "err", err)
		}
		a.conDev = nil
	}
}

func (a *App) stopConsole(ctx context.Context) error {
	a.mu.Lock()
	run := a.con
	a.con = nil
	a.mu.Unlock()
	if run == nil {
		return nil
	}
	// Run returns once ctx (already cancelled) ends its goroutines.
	select {
	case err := <-run.done:
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	case <-ctx.Done():
		return fmt.Errorf("console did not stop: %w", ctx.Err())
	}
}

// checkAdminPassword accepts the password of any enabled admin.
func (a *App) checkAdminPassword(pw string) bool {
	ok := false
	_ = a.withDB(func(db *store.DB) error {
		return db.View(func(tx *store.Tx) error {
			users, err := tx.Users()
			for _, u := range users {
				if u.Role == store.RoleAdmin && !u.Disabled {
					if match, _ := passwd.Verify(u.PasswordHash, pw); match {
						ok = true
					}
				}
			}
			return err
		})
	})
	return ok
}

// portState is a port as shown to installers.
type portState struct {
	board.Port
	State string
}

// portStates lists the board's ports with their live state from the
// drivers ("ok, on-hook, forward active", "failed: ..."), or "described"
// while the board is not running.
func (a *App) portStates() []portState {
	a.mu.Lock()
	b, pb := a.board, a.ports
	a.mu.Unlock()
	out := make([]portState, 0, len(b.Ports))
	for _, p := range b.Ports {
		st := "described"
		if pb != nil {
			if lp := pb.Port(p.Name); lp != nil {
				st = lp.State().String()
			}
		}
		out = append(out, portState{Port: p, State: st})
	}
	return out
}

// consoleHost is what the console asks of the box.
type consoleHost struct{ a *App }

func (h consoleHost) Status() []string {
	a := h.a
	a.mu.Lock()
	b := a.board
	a.mu.Unlock()
	lines := append(a.versionLines(),
		"uptime: "+time.Since(a.started).Round(time.Second).String())
	lines = append(lines,
		fmt.Sprintf("board: %s (%d FXS, %d FXO)", b.Name, b.Count(board.FXS), b.Count(board.FXO)))
	for _, p := range a.portStates() {
		lines = append(lines, fmt.Sprintf("  %-6s %s %-7s %s", p.Name, p.Kind, p.Chip, p.State))
	}
	_ = a.withDB(func(db *store.DB) error {
		n, err := db.Size()
		lines = append(lines, fmt.Sprintf("store: %s (%d bytes)", db.Path(), n))
		return err
	})
	lines = append(lines, a.webStatus()...)
	if st := a.SMSStatus(); st != nil {
		lines = append(lines, smsStatusLine(*st))
	}
	if t := a.TelephonyStatus(); t.Running {
		sip := "sip: off"
		if t.SIPUDP != "" {
			sip = fmt.Sprintf("sip: udp %s, tcp %s, %d registrations", t.SIPUDP, t.SIPTCP, t.Registrations)
			if t.RTP.Foreign > 0 {
				sip += fmt.Sprintf(", %d RTP packets from strangers dropped", t.RTP.Foreign)
			}
		}
		lines = append(lines, fmt.Sprintf("calls: %d active, %d RTP streams, %d CDRs stored since boot", t.ActiveCalls, t.RTPInUse, t.CDRsWritten))
		if t.ClockLost > 0 {
			lines = append(lines, fmt.Sprintf("media clock: fell behind, %d frames skipped for every call (overloaded)", t.ClockLost))
		}
		for _, c := range t.Calls {
			state := "ringing"
			if !c.Answer.IsZero() {
				state = "up " + time.Since(c.Answer).Round(time.Second).String()
			}
			var legs []string
			for _, l := range c.Legs {
				legs = append(legs, l.Channel)
			}
			lines = append(lines, fmt.Sprintf("  %s -> %s %s (%s)", c.From, c.To, state, strings.Join(legs, ", ")))
		}
		lines = append(lines, sip)
	}
	return lines
}

// Version is the console's version command, --version's equivalent:
// the slot's version and the build's.
func (h consoleHost) Version() string { return strings.Join(h.a.versionLines()[:2], "\n") }

func (h consoleHost) Logs(n int) []string { return h.a.logs.Last(n) }

func (h consoleHost) Network() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("app: network: %w", err)
	}
	var lines []string
	for _, ifc := range ifs {
		addrs, _ := ifc.Addrs()
		var list []string
		for _, ad := range addrs {
			list = append(list, ad.String())
		}
		state := "down"
		if ifc.Flags&net.FlagUp != 0 {
			state = "up"
		}
		lines = append(lines, fmt.Sprintf("%-10s %-4s %s %s", ifc.Name, state, ifc.HardwareAddr, strings.Join(list, " ")))
	}
	return lines, nil
}

func (h consoleHost) ResetAdmin() (string, error) {
	code, err := h.a.issueSetupCode(context.Background())
	if err == nil {
		h.a.log.Warn("admin password reset requested on the console; a new setup code was issued")
	}
	return code, err
}

func (h consoleHost) Restart() error {
	h.a.requestRestart()
	return nil
}
