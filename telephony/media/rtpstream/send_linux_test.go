package rtpstream

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestSenderAddresses sends through the raw sender from IPv4 and IPv6
// sockets and checks each datagram arrives whole at the port it was sent
// to (the sockaddr's port is in network byte order), from the sender.
func TestSenderAddresses(t *testing.T) {
	if testing.Short() {
		t.Skip("opens sockets")
	}
	for _, ip := range []string{"127.0.0.1", "::1"} {
		t.Run(ip, func(t *testing.T) {
			addr := netip.MustParseAddr(ip)
			from, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, 0)))
			if err != nil {
				if addr.Is6() {
					t.Skipf("no IPv6 loopback: %v", err)
				}
				t.Fatal(err)
			}
			defer from.Close()
			to, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, 0)))
			if err != nil {
				t.Fatal(err)
			}
			defer to.Close()
			w, err := newSender(from)
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("rtp\x00\xff payload")
			if n, err := w.WriteToUDPAddrPort(msg, to.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil || n != len(msg) {
				t.Fatalf("send: %d, %v", n, err)
			}
			to.SetReadDeadline(time.Now().Add(30 * time.Second))
			buf := make([]byte, 100)
			n, src, err := to.ReadFromUDPAddrPort(buf)
			if err != nil || string(buf[:n]) != string(msg) || src != from.LocalAddr().(*net.UDPAddr).AddrPort() {
				t.Fatalf("received %q from %v (%v), want %q from %v", buf[:n], src, err, msg, from.LocalAddr())
			}
		})
	}
}
