package rtpstream

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
)

// ErrNoPorts is returned (wrapped, with the range) when no port pair of
// the range can be had: every pair is in use, or the ones left could not be
// bound.
var ErrNoPorts = errors.New("rtpstream: no free RTP port pair")

// maxBindFailures bounds the pairs one Reserve tries to bind when other
// programs hold ports of the range, so that a crowded range fails quickly.
const maxBindFailures = 32

// Ports hands out RTP/RTCP port pairs (an even port and the next one) from
// a range on one local address, at random, so that the port of a call is
// not the previous call's plus a known step; it never hands out a pair in
// use, and takes pairs back when their stream closes or their reservation
// is released. It is the one port allocator of the box: a SIP leg reserves
// a pair (Reserve) for its SDP before its codec is known, and the stream
// opens on that very pair (OpenPair).
type Ports struct {
	ip       netip.Addr
	min, max int // the lowest and highest RTP (even) port
	mu       sync.Mutex
	used     map[int]bool
}

// NewPorts returns an allocator for the pairs within ports min to max
// inclusive on ip: even RTP ports whose RTCP port, the next one, is in the
// range too.
func NewPorts(ip netip.Addr, min, max int) (*Ports, error) {
	lo := min + min&1
	hi := max - 1
	hi -= hi & 1
	if lo <= 0 || max > 65535 || lo > hi || !ip.IsValid() {
		return nil, fmt.Errorf("rtpstream: port range %d-%d on %v holds no RTP/RTCP port pair", min, max, ip)
	}
	return &Ports{ip: ip, min: lo, max: hi, used: map[int]bool{}}, nil
}

// InUse returns how many pairs are reserved or carry a stream.
func (p *Ports) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.used)
}

// Pair is a reserved port pair: both sockets are bound and held until a
// stream takes them (OpenPair) or the reservation is released.
type Pair struct {
	ports *Ports
	port  int

	mu        sync.Mutex
	rtp, rtcp *net.UDPConn // nil once taken or released
}

// Port returns the RTP port (RTCP is the next one).
func (r *Pair) Port() int { return r.port }

// Addr returns the RTP address the pair is bound to.
func (r *Pair) Addr() netip.AddrPort { return netip.AddrPortFrom(r.ports.ip, uint16(r.port)) }

// Release gives the pair back to the range, unless a stream has taken it
// (the stream's Close gives it back then). It may be called more than once.
func (r *Pair) Release() {
	r.mu.Lock()
	a, b := r.rtp, r.rtcp
	r.rtp, r.rtcp = nil, nil
	r.mu.Unlock()
	if a == nil {
		return
	}
	a.Close()
	b.Close()
	r.ports.release(r.port)
}

// take hands the sockets over to a stream; false if the pair was released
// or taken before.
func (r *Pair) take() (rtpConn, rtcpConn *net.UDPConn, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, b := r.rtp, r.rtcp
	r.rtp, r.rtcp = nil, nil
	return a, b, a != nil
}

// Reserve binds a free pair of the range, picked at random, and holds it.
// A pair another program holds is skipped (the next candidate is tried at
// once, up to maxBindFailures of them); when none can be had the error
// wraps ErrNoPorts and says why.
func (p *Ports) Reserve() (*Pair, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := (p.max-p.min)/2 + 1
	if len(p.used) >= n {
		return nil, fmt.Errorf("%w: all %d pairs of %d-%d on %v are in use", ErrNoPorts, n, p.min, p.max+1, p.ip)
	}
	// Visit every pair once in an order of its own: a random start and a
	// random step prime to n. math/rand/v2's global source is ChaCha8,
	// seeded by the runtime from the system: earlier ports tell nothing of
	// the next.
	start, step := rand.IntN(n), 1
	if n > 2 {
		for step = 1 + rand.IntN(n-1); gcd(step, n) != 1; step = 1 + rand.IntN(n-1) {
		}
	}
	var fails int
	var lastErr error
	for i := range n {
		port := p.min + 2*((start+i*step)%n)
		if p.used[port] {
			continue
		}
		a, b, err := p.bind(port)
		if err != nil {
			fails++
			lastErr = err
			if fails == maxBindFailures {
				break
			}
			continue
		}
		p.used[port] = true
		return &Pair{ports: p, port: port, rtp: a, rtcp: b}, nil
	}
	return nil, fmt.Errorf("%w: %d of %d pairs of %d-%d on %v in use, %d could not be bound: %w",
		ErrNoPorts, len(p.used), n, p.min, p.max+1, p.ip, fails, lastErr)
}

// bind opens both sockets of a pair.
func (p *Ports) bind(port int) (rtpConn, rtcpConn *net.UDPConn, err error) {
	a, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port))))
	if err != nil {
		return nil, nil, err
	}
	b, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port+1))))
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}

func (p *Ports) release(port int) {
	p.mu.Lock()
	delete(p.used, port)
	p.mu.Unlock()
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
