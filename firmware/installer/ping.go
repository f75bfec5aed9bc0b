package installer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// resolve looks host names up (a variable for tests).
var resolve = net.DefaultResolver.LookupNetIP

// Ping sends count ICMP echo requests to host, one a second, and returns
// each round trip (0 for a lost one). It uses an unprivileged ICMP socket
// where the kernel allows one, a raw one as root otherwise (the image's
// init script runs callboxd as root); with neither it says what is
// missing.
func Ping(ctx context.Context, host string, count int, each func(seq int, rtt time.Duration, err error)) error {
	addrs, err := resolve(ctx, "ip4", host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("installer: ping %s: %w", host, errors.Join(err, errors.New("no IPv4 address")))
	}
	dst := addrs[0].Unmap()
	c, network, err := listenICMP()
	if err != nil {
		return err
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

// pingGroupRange is where the kernel says which groups may open
// unprivileged ICMP sockets ("1 0", no group, is the kernel's default).
const pingGroupRange = "/proc/sys/net/ipv4/ping_group_range"

// listenICMP opens an unprivileged ICMP socket ("udp4") when the process's
// group is in net.ipv4.ping_group_range, a raw one ("ip4:icmp", root or
// CAP_NET_RAW) otherwise.
func listenICMP() (*icmp.PacketConn, string, error) {
	c, errDgram := icmp.ListenPacket("udp4", "0.0.0.0")
	if errDgram == nil {
		return c, "udp4", nil
	}
	c, errRaw := icmp.ListenPacket("ip4:icmp", "0.0.0.0")
	if errRaw == nil {
		return c, "ip4:icmp", nil
	}
	if notPermitted(errDgram) && notPermitted(errRaw) {
		groups := "unreadable"
		if r, err := os.ReadFile(pingGroupRange); err == nil {
			groups = strings.Join(strings.Fields(string(r)), " ")
			var lo, hi int
			if _, err := fmt.Sscan(groups, &lo, &hi); err == nil && lo > hi {
				groups += ", no group"
			}
		}
		return nil, "", fmt.Errorf("installer: ping is not permitted: callboxd needs root (or CAP_NET_RAW), "+
			"or group %d in sysctl net.ipv4.ping_group_range (now %s)", os.Getgid(), groups)
	}
	return nil, "", fmt.Errorf("installer: ping: %w", errors.Join(errDgram, errRaw))
}

func notPermitted(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES)
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
