package console

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// pty is a pseudo-terminal: we serve the master side; a peer (screen,
// picocom) opens the slave as it would a serial port.
type pty struct {
	master, slave *os.File
	name          string
	once          sync.Once
}

// openPTY creates a pseudo-terminal with /dev/ptmx and two ioctls.
//
// It keeps a slave descriptor open itself, so that a peer closing the
// slave does not hang up the master (reads would fail with EIO until
// someone reopened it); the next peer simply continues the session.
func openPTY() (*pty, error) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	var n uint32
	err = control(master, func(fd uintptr) error {
		unlock := int32(0)
		if err := ioctl(fd, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
			return fmt.Errorf("unlock pty: %w", err)
		}
		if err := ioctl(fd, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
			return fmt.Errorf("pty number: %w", err)
		}
		return nil
	})
	if err != nil {
		master.Close()
		return nil, fmt.Errorf("console: %w", err)
	}
	name := "/dev/pts/" + strconv.FormatUint(uint64(n), 10)
	slave, err := os.OpenFile(name, os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		return nil, fmt.Errorf("console: %w", err)
	}
	if err := makeRaw(slave); err != nil {
		slave.Close()
		master.Close()
		return nil, fmt.Errorf("console: %s: %w", name, err)
	}
	return &pty{master: master, slave: slave, name: name}, nil
}

func (p *pty) Read(b []byte) (int, error)  { return p.master.Read(b) }
func (p *pty) Write(b []byte) (int, error) { return p.master.Write(b) }

// SetReadDeadline bounds a pending and future Reads, for the idle logout.
func (p *pty) SetReadDeadline(t time.Time) error { return p.master.SetReadDeadline(t) }

// Close closes both sides; a Read blocked on the master returns.
func (p *pty) Close() error {
	var err error
	p.once.Do(func() {
		err = p.master.Close()
		if serr := p.slave.Close(); err == nil {
			err = serr
		}
	})
	return err
}

// makeRaw sets the terminal to pass bytes through untouched, as a serial
// line does: no echo or line editing by the kernel (the shell does its
// own), no CR/NL translation, no signals from ^C.
func makeRaw(f *os.File) error {
	return control(f, func(fd uintptr) error {
		var t syscall.Termios
		if err := ioctl(fd, syscall.TCGETS, unsafe.Pointer(&t)); err != nil {
			return err
		}
		t.Iflag &^= syscall.IGNBRK | syscall.BRKINT | syscall.PARMRK | syscall.ISTRIP |
			syscall.INLCR | syscall.IGNCR | syscall.ICRNL | syscall.IXON
		t.Oflag &^= syscall.OPOST
		t.Lflag &^= syscall.ECHO | syscall.ECHONL | syscall.ICANON | syscall.ISIG | syscall.IEXTEN
		t.Cflag &^= syscall.CSIZE | syscall.PARENB
		t.Cflag |= syscall.CS8
		t.Cc[syscall.VMIN] = 1
		t.Cc[syscall.VTIME] = 0
		return ioctl(fd, syscall.TCSETS, unsafe.Pointer(&t))
	})
}

// control runs f on f's descriptor without switching it to blocking mode
// (as File.Fd would), so Close still interrupts a pending Read.
func control(file *os.File, f func(fd uintptr) error) error {
	rc, err := file.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(fd) }); err != nil {
		return err
	}
	return ferr
}

func ioctl(fd, req uintptr, arg unsafe.Pointer) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg)); e != 0 {
		return e
	}
	return nil
}
