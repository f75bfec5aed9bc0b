package rtpstream

import (
	"net"
	"net/netip"
	"syscall"
)

// udpSender sends datagrams without ever parking the caller: net.UDPConn
// would wait for the socket to become writable when its send buffer is full,
// and the media clock must not wait, so a full buffer drops the packet
// (counted by the stream) instead. It allocates nothing per packet.
type udpSender struct {
	rc  syscall.RawConn
	v4  bool // the socket is AF_INET
	sa4 syscall.SockaddrInet4
	sa6 syscall.SockaddrInet6
	to  syscall.Sockaddr
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
	s.fn = s.send
	return s, nil
}

func (s *udpSender) send(fd uintptr) bool {
	s.err = syscall.Sendto(int(fd), s.buf, syscall.MSG_DONTWAIT, s.to)
	return true // never wait for writability
}

// WriteToUDPAddrPort implements writer.
func (s *udpSender) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	ip := addr.Addr().Unmap()
	if s.v4 {
		if !ip.Is4() {
			return 0, syscall.EAFNOSUPPORT
		}
		s.sa4.Port, s.sa4.Addr = int(addr.Port()), ip.As4()
		s.to = &s.sa4
	} else {
		s.sa6.Port, s.sa6.Addr = int(addr.Port()), ip.As16()
		s.to = &s.sa6
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
