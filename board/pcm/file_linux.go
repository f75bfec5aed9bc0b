package pcm

import (
	"syscall"
	"unsafe"
)

// fdFile is a device node opened for blocking I/O: the ALSA highway's
// goroutine sleeps in READI_FRAMES until the hardware has a period.
type fdFile struct{ fd int }

func openDevice(path string) (deviceFile, error) {
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return &fdFile{fd: fd}, nil
}

func (f *fdFile) ioctl(req uintptr, arg unsafe.Pointer) error {
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(f.fd), req, uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}

func (f *fdFile) close() error { return syscall.Close(f.fd) }
