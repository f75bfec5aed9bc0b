package rtpstream

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

// udpSender sends datagrams without ever parking the caller: net.UDPConn
// would wait for the socket to become writable when its send buffer is full,
// and the media clock must not wait, so a full buffer drops the packet
// (counted by the stream) instead. It allocates nothing per packet.
//
// The sendto is a raw system call: with MSG_DONTWAIT it never blocks, and
// on loopback or a busy box it can take long enough that the runtime's
// syscall bookkeeping (sysmon handing the worker's P to another thread,
// that thread spinning, the futex wake-ups back) costs more than the send
// itself; a raw call keeps the P, which is what a media worker wants.
type udpSender struct {
	rc  syscall.RawConn
	v4  bool // the socket is AF_INET
	sa4 syscall.RawSockaddrInet4
	sa6 syscall.RawSockaddrInet6
	to  unsafe.Pointer // &sa4 or &sa6
	len uintptr        // its size
	buf []byte
	err error
	fn  func(fd uintptr) bool
}

func newSender(c *net.UDPConn) (writer, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	local, _ := netip.ParseAddrPort(c.LocalAddr().String())
	s := &udpSender{rc: rc, v4: local.Addr().Is4()}
	s.sa4.Family, s.sa6.Family = syscall.AF_INET, syscall.AF_INET6
	s.fn = s.send
	return s, nil
}

func (s *udpSender) send(fd uintptr) bool {
	s.err = nil
	if len(s.buf) == 0 {
		return true
	}
	_, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&s.buf[0])), uintptr(len(s.buf)),
		syscall.MSG_DONTWAIT, uintptr(s.to), s.len)
	if errno != 0 {
		s.err = errno
	}
	return true // never wait for writability
}

// setPort sets a sockaddr's port field, which is in network byte order.
func setPort(p *uint16, v uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(v>>8), byte(v)
}

// WriteToUDPAddrPort implements writer.
func (s *udpSender) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	ip := addr.Addr().Unmap()
	if s.v4 {
		if !ip.Is4() {
			return 0, syscall.EAFNOSUPPORT
		}
		setPort(&s.sa4.Port, addr.Port())
		s.sa4.Addr = ip.As4()
		s.to, s.len = unsafe.Pointer(&s.sa4), syscall.SizeofSockaddrInet4
	} else {
		setPort(&s.sa6.Port, addr.Port())
		s.sa6.Addr = ip.As16()
		s.to, s.len = unsafe.Pointer(&s.sa6), syscall.SizeofSockaddrInet6
	}
	s.buf = b
	if err := s.rc.Write(s.fn); err != nil {
		return 0, err
	}
	s.buf = nil
	if s.err != nil {
		return 0, s.err
	}
	return len(b), nil
}
