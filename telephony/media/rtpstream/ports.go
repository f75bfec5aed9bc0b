package rtpstream

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// ErrNoPorts is returned when every port pair of the range is in use.
var ErrNoPorts = errors.New("rtpstream: no free RTP port pair")

// Ports hands out RTP/RTCP port pairs (an even port and the next one) from
// a range on one local address and takes them back when streams close.
type Ports struct {
	ip       netip.Addr
	min, max int
	mu       sync.Mutex
	next     int
	used     map[int]bool
}

// NewPorts returns an allocator for the even ports from min to max
// (inclusive; odd bounds are rounded inwards) on ip.
func NewPorts(ip netip.Addr, min, max int) (*Ports, error) {
	min += min & 1
	max -= max & 1
	if min <= 0 || max > 65534 || min > max || !ip.IsValid() {
		return nil, fmt.Errorf("rtpstream: bad port range %d-%d on %v", min, max, ip)
	}
	return &Ports{ip: ip, min: min, max: max, next: min, used: map[int]bool{}}, nil
}

// InUse returns how many pairs are allocated.
func (p *Ports) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.used)
}

// open binds the next free pair, skipping ports other programs hold.
func (p *Ports) open() (rtpConn, rtcpConn *net.UDPConn, port int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := (p.max-p.min)/2 + 1
	for range n {
		port := p.next
		p.next += 2
		if p.next > p.max {
			p.next = p.min
		}
		if p.used[port] {
			continue
		}
		a, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port))))
		if err != nil {
			continue
		}
		b, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port+1))))
		if err != nil {
			a.Close()
			continue
		}
		p.used[port] = true
		return a, b, port, nil
	}
	return nil, nil, 0, ErrNoPorts
}

func (p *Ports) release(port int) {
	p.mu.Lock()
	delete(p.used, port)
	p.mu.Unlock()
}
