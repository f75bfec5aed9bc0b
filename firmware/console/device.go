package console

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// deviceFile is what a console device offers: a pty or a UART.
type deviceFile interface {
	io.ReadWriteCloser
	SetReadDeadline(t time.Time) error
}

// Device is an open console device: a new pseudo-terminal or a UART. It
// may outlive the consoles served on it (NewOn), so that an in-process
// restart keeps the terminal, and the person at it, connected: the peer's
// screen or picocom stays on the same pseudo-terminal.
type Device struct {
	f    deviceFile
	path string

	mu     sync.Mutex
	halted bool   // a console stopped: reads fail at once until resume
	link   string // the link Link made, removed by Close
	closed bool
}

// OpenDevice opens "pty" (a new pseudo-terminal) or the UART at a path
// (baud 0 means 115200, 8N1).
func OpenDevice(device string, baud int) (*Device, error) {
	switch device {
	case "":
		return nil, errors.New("console: no device (want \"pty\" or a UART path)")
	case "pty":
		p, err := openPTY()
		if err != nil {
			return nil, err
		}
		return &Device{f: p, path: p.name}, nil
	}
	if baud == 0 {
		baud = 115200
	}
	u, err := openUART(device, baud)
	if err != nil {
		return nil, err
	}
	return &Device{f: u, path: device}, nil
}

// Path is where a peer connects: the pseudo-terminal's slave (/dev/pts/N)
// or the UART path.
func (d *Device) Path() string { return d.path }

// Link makes path a symbolic link to the device, replacing what was there
// in one rename, so that a peer always finds the console at one place
// although each start of the daemon gets a new /dev/pts/N. Close removes
// the link if it still points here.
func (d *Device) Link(path string) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".new")
	_ = os.Remove(tmp) // left by a crash; Symlink reports anything else
	if err := os.Symlink(d.path, tmp); err != nil {
		return fmt.Errorf("console: link %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("console: link %s: %w", path, err)
	}
	d.mu.Lock()
	d.link = path
	d.mu.Unlock()
	return nil
}

func (d *Device) Read(b []byte) (int, error)  { return d.f.Read(b) }
func (d *Device) Write(b []byte) (int, error) { return d.f.Write(b) }

// SetReadDeadline bounds Reads (the idle logout). While halted every
// deadline is already past, so a console being stopped cannot extend it.
func (d *Device) SetReadDeadline(t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		t = time.Unix(1, 0)
	}
	return d.f.SetReadDeadline(t)
}

// halt makes a pending and every further Read fail with
// os.ErrDeadlineExceeded: how a console on a borrowed device stops its
// session without closing the device.
func (d *Device) halt() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.halted = true
	_ = d.f.SetReadDeadline(time.Unix(1, 0))
}

// resume undoes halt for the next console.
func (d *Device) resume() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.halted = false
	_ = d.f.SetReadDeadline(time.Time{})
}

// Close closes the device (a pseudo-terminal disappears, and its peer sees
// a hang-up) and removes the link to it.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if d.link != "" {
		if target, err := os.Readlink(d.link); err == nil && target == d.path {
			_ = os.Remove(d.link)
		}
	}
	return d.f.Close()
}
