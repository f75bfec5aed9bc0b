package console

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/tarm/serial"
)

// uartPoll bounds how long a Read blocks in the kernel, so that Close is
// noticed: tarm/serial reads in blocking mode, which closing the file does
// not interrupt.
const uartPoll = 100 * time.Millisecond

// uart is a serial port opened 8N1 with tarm/serial.
type uart struct {
	port     *serial.Port
	closed   atomic.Bool
	deadline atomic.Int64 // UnixNano; 0 for none
}

func openUART(path string, baud int) (*uart, error) {
	p, err := serial.OpenPort(&serial.Config{Name: path, Baud: baud, Size: 8,
		Parity: serial.ParityNone, StopBits: serial.Stop1, ReadTimeout: uartPoll})
	if err != nil {
		return nil, fmt.Errorf("console: open %s at %d baud: %w", path, baud, err)
	}
	return &uart{port: p}, nil
}

// Read waits for input. A poll interval without any comes back from the
// port as io.EOF, which here only means "nothing yet".
func (u *uart) Read(b []byte) (int, error) {
	for {
		if u.closed.Load() {
			return 0, os.ErrClosed
		}
		if d := u.deadline.Load(); d != 0 && time.Now().UnixNano() >= d {
			return 0, os.ErrDeadlineExceeded
		}
		n, err := u.port.Read(b)
		if n > 0 || (err != nil && !errors.Is(err, io.EOF)) {
			return n, err
		}
	}
}

func (u *uart) Write(b []byte) (int, error) { return u.port.Write(b) }

// SetReadDeadline makes Read give up at t (within one poll interval); the
// zero time means no deadline.
func (u *uart) SetReadDeadline(t time.Time) error {
	if t.IsZero() {
		u.deadline.Store(0)
	} else {
		u.deadline.Store(t.UnixNano())
	}
	return nil
}

func (u *uart) Close() error {
	if u.closed.Swap(true) {
		return nil
	}
	return u.port.Close()
}
