// Package console is the box's serial maintenance shell: a line-oriented
// command prompt for installers on the board's UART, or on a
// pseudo-terminal in simulation (reach it with screen or picocom).
//
// The shell works on any io.ReadWriter (Serve); Run serves the configured
// device until its context ends. What the shell reports and does comes
// from a Host, which firmware/app implements. A Device opened apart (NewOn)
// outlives the consoles served on it, so the daemon's in-process restart
// keeps the person at the terminal connected.
package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"callbox/firmware/cli"
)

// Config selects the device and the console's policy.
type Config struct {
	// Device is "pty" for a new pseudo-terminal, or the path of a UART
	// such as /dev/ttyS0.
	Device string
	// Baud is the UART speed (8N1); 0 means 115200. Ignored for "pty".
	Baud int
	// RequirePassword makes the console ask for a password (checked by
	// CheckPassword) before any command. The console is trusted otherwise.
	RequirePassword bool
	CheckPassword   func(pw string) bool
	// Extra are further commands, run exactly as callboxctl runs them.
	Extra []cli.Command
	// FailDelay is the pause after a wrong password; it doubles with each
	// further failure, up to 16 times. 0 means one second.
	FailDelay time.Duration
	// IdleLogout ends a password session after this long without input,
	// since neither a UART nor the pty tells when the person walked away.
	// 0 means ten minutes; negative, never. It needs a device with read
	// deadlines (the pty, the UART, a net.Conn); others never time out.
	IdleLogout time.Duration
}

// Host is what the console asks of the box.
type Host interface {
	// Status returns lines such as uptime, board ports and store size.
	Status() []string
	// Version is the firmware identity.
	Version() string
	// Logs returns up to the last n log lines.
	Logs(n int) []string
	// Network returns the interfaces and their addresses, one per line.
	Network() ([]string, error)
	// ResetAdmin issues a new one-time setup code with which the web admin
	// password can be set again.
	ResetAdmin() (code string, err error)
	// Restart reboots the board on hardware, restarts the daemon in sim.
	Restart() error
}

// Console is a configured shell on its device.
type Console struct {
	cfg  Config
	host Host
	log  *slog.Logger
	cmds []command

	dev   *Device
	owned bool // New opened dev, so Run and Close close it

	closeOnce sync.Once
	closeErr  error
}

// New validates cfg and opens the device: for "pty" it creates the
// pseudo-terminal, whose slave path Path then returns.
func New(cfg Config, host Host, logger *slog.Logger) (*Console, error) {
	c, err := newConsole(cfg, host, logger)
	if err != nil {
		return nil, err
	}
	dev, err := OpenDevice(cfg.Device, c.cfg.Baud)
	if err != nil {
		return nil, err
	}
	c.dev, c.owned = dev, true
	c.logDevice()
	return c, nil
}

// NewOn is New on a device the caller opened and keeps: Run leaves it
// open, and another console may serve it afterwards. cfg.Device and Baud
// are not used.
func NewOn(dev *Device, cfg Config, host Host, logger *slog.Logger) (*Console, error) {
	if dev == nil {
		return nil, errors.New("console: nil device")
	}
	c, err := newConsole(cfg, host, logger)
	if err != nil {
		return nil, err
	}
	c.dev = dev
	c.logDevice()
	return c, nil
}

func (c *Console) logDevice() {
	if _, ok := c.dev.f.(*uart); ok {
		c.log.Info("console on "+c.dev.path, "baud", c.cfg.Baud)
		return
	}
	c.log.Info("console on " + c.dev.path)
}

// newConsole is New without the device, for Serve.
func newConsole(cfg Config, host Host, logger *slog.Logger) (*Console, error) {
	if host == nil {
		return nil, errors.New("console: nil host")
	}
	if cfg.RequirePassword && cfg.CheckPassword == nil {
		return nil, errors.New("console: password required but no CheckPassword")
	}
	if cfg.Baud == 0 {
		cfg.Baud = 115200
	}
	if cfg.FailDelay <= 0 {
		cfg.FailDelay = time.Second
	}
	if cfg.IdleLogout == 0 {
		cfg.IdleLogout = 10 * time.Minute
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Console{cfg: cfg, host: host, log: logger}
	cmds, err := c.commands()
	if err != nil {
		return nil, err
	}
	c.cmds = cmds
	return c, nil
}

// Path is the device to connect to: the pseudo-terminal's slave
// (/dev/pts/N) or the UART path.
func (c *Console) Path() string {
	if c.dev == nil {
		return ""
	}
	return c.dev.path
}

// Run serves the device until ctx is done, then closes the device (unless
// it came from NewOn) and returns once its goroutines have ended: nil after
// ctx ended, else the device error that stopped it. A peer that closes and
// reopens the pseudo-terminal is served again.
func (c *Console) Run(ctx context.Context) error {
	if c.dev == nil {
		return errors.New("console: Run without a device")
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		// Closing the device, or halting one that is not ours, is what
		// unblocks a Read in Serve.
		select {
		case <-ctx.Done():
		case <-stop:
		}
		if c.owned {
			c.Close()
		} else {
			c.dev.halt()
		}
	})
	err := c.Serve(ctx, c.dev)
	close(stop)
	wg.Wait()
	if !c.owned {
		c.dev.resume()
	}
	if ctx.Err() != nil {
		return nil
	}
	if err == nil {
		err = io.EOF
	}
	return fmt.Errorf("console: %s: %w", c.dev.path, err)
}

// Close closes the device New opened; Run does so itself when it returns.
// Use Close for a Console that never ran. A device from NewOn stays open.
func (c *Console) Close() error {
	c.closeOnce.Do(func() {
		if c.dev != nil && c.owned {
			c.closeErr = c.dev.Close()
		}
	})
	return c.closeErr
}
