package installer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// resolve looks host names up (a variable for tests).
var resolve = net.DefaultResolver.LookupNetIP

// Ping sends count ICMP echo requests to host, one a second, and returns
// each round trip (0 for a lost one). It uses an unprivileged ICMP socket
// where the kernel allows one, a raw one as root otherwise.
func Ping(ctx context.Context, host string, count int, each func(seq int, rtt time.Duration, err error)) error {
	addrs, err := resolve(ctx, "ip4", host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("installer: ping %s: %w", host, errors.Join(err, errors.New("no IPv4 address")))
	}
	dst := addrs[0].Unmap()
	network, laddr := "udp4", "0.0.0.0"
	c, err := icmp.ListenPacket(network, laddr)
	if err != nil {
		network = "ip4:icmp"
		if c, err = icmp.ListenPacket(network, laddr); err != nil {
			return fmt.Errorf("installer: ping: %w", err)
		}
	}
	defer c.Close()
	var to net.Addr = &net.UDPAddr{IP: dst.AsSlice()}
	if network == "ip4:icmp" {
		to = &net.IPAddr{IP: dst.AsSlice()}
	}
	id := os.Getpid() & 0xffff
	buf := make([]byte, 1500)
	for seq := 1; seq <= count; seq++ {
		msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("callbox ping")}}
		b, _ := msg.Marshal(nil)
		t0 := time.Now()
		_, err := c.WriteTo(b, to)
		var rtt time.Duration
		for err == nil {
			_ = c.SetReadDeadline(t0.Add(time.Second))
			var n int
			var from net.Addr
			n, from, err = c.ReadFrom(buf)
			if err != nil {
				break
			}
			rm, perr := icmp.ParseMessage(1, buf[:n])

			echo, ok := rm.Body.(*icmp.Echo)
			if perr != nil || rm.Type != ipv4.ICMPTypeEchoReply || !ok || echo.Seq != seq || !sameHost(from, dst) {
				continue // someone else's reply
			}
			rtt = time.Since(t0)
			break
		}
		each(seq, rtt, err)
		if seq < count {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Until(t0.Add(time.Second))):
			}
		}
	}
	return nil
}

func sameHost(a net.Addr, want netip.Addr) bool {
	var ip net.IP
	switch x := a.(type) {
	case *net.UDPAddr:
		ip = x.IP
	case *net.IPAddr:
		ip = x.IP
	}
	got, ok := netip.AddrFromSlice(ip)
	return ok && got.Unmap() == want.Unmap()
}
