package app

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"callbox/telephony/media"
	"callbox/telephony/media/rtpstream"
	"callbox/telephony/sip"
	callswitch "callbox/telephony/switch"
)

// Default RTP port range: even ports for RTP, the next odd one for RTCP.
const (
	DefaultRTPMin = 10000
	DefaultRTPMax = 19999
)

// rtpPorts connects telephony/sip's RTPAllocator to rtpstream. The SIP
// endpoint needs a local address for its SDP before the codec is agreed,
// while a Stream is opened only once it is (its codec is fixed at Open).
// So AllocRTP reserves a pair by binding both sockets and keeping them;
// OpenMedia, once the leg has its media, closes the reservation and opens
// the stream on that very pair (a one-pair rtpstream.Ports), so the address
// in the SDP is the one the stream listens on.
type rtpPorts struct {
	bind      netip.Addr // address the sockets listen on (may be 0.0.0.0)
	advertise netip.Addr // address put in SDP
	min, max  int

	mu      sync.Mutex
	next    int
	held    map[int][2]*net.UDPConn // reserved, no stream yet
	inUse   map[int]bool            // allocated to a leg (reserved or streaming)
	streams map[*rtpstream.Stream]bool
	// ended keeps the figures of the last streams closed (loss, jitter,
	// packets each way), newest last, for status and tests.
	ended []rtpstream.Stats
	total RTPTotals
}

// RTPTotals sums the figures of every RTP stream closed since the start.
type RTPTotals struct {
	Streams                    uint64
	PacketsIn, PacketsOut      uint64
	Lost                       int64
	Concealed, Late, RingDrops uint64
	SendDrops                  uint64
	// MaxJitterDelay is the deepest jitter buffer any stream had, in ms.
	MaxJitterDelay float64
}

// maxEnded bounds rtpPorts.ended.
const maxEnded = 32

// newRTPPorts hands out the pairs within ports min to max inclusive: even
// RTP ports whose RTCP port (the next one) is in the range too.
func newRTPPorts(bind, advertise netip.Addr, min, max int) (*rtpPorts, error) {
	lo := min + min&1
	hi := max - 1
	hi -= hi & 1
	if lo <= 0 || max > 65535 || lo > hi {
		return nil, fmt.Errorf("app: rtp port range %d-%d holds no port pair", min, max)
	}
	min, max = lo, hi
	return &rtpPorts{bind: bind, advertise: advertise, min: min, max: max, next: min,
		held: map[int][2]*net.UDPConn{}, inUse: map[int]bool{}, streams: map[*rtpstream.Stream]bool{}}, nil
}

// AllocRTP implements sip.RTPAllocator.
func (r *rtpPorts) AllocRTP() (netip.AddrPort, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for range (r.max-r.min)/2 + 1 {
		port := r.next
		r.next += 2
		if r.next > r.max {
			r.next = r.min
		}
		if r.inUse[port] {
			continue
		}
		a, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.bind, uint16(port))))
		if err != nil {
			continue // another program (or a closing stream) has it
		}
		b, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.bind, uint16(port+1))))
		if err != nil {
			a.Close()
			continue
		}
		r.held[port] = [2]*net.UDPConn{a, b}
		r.inUse[port] = true
		return netip.AddrPortFrom(r.advertise, uint16(port)), nil
	}
	return netip.AddrPort{}, rtpstream.ErrNoPorts
}

// ReleaseRTP implements sip.RTPAllocator: the leg ended. A stream still
// open on the pair keeps its sockets until the switch closes it; a later
// AllocRTP skips the pair while they are bound.
func (r *rtpPorts) ReleaseRTP(a netip.AddrPort) {
	port := int(a.Port())
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unhold(port)
	delete(r.inUse, port)
}

func (r *rtpPorts) unhold(port int) {
	if c, ok := r.held[port]; ok {
		c[0].Close()
		c[1].Close()
		delete(r.held, port)
	}
}

// InUse reports how many pairs legs hold.
func (r *rtpPorts) InUse() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.inUse)
}

var errNoMedia = errors.New("app: sip leg has no negotiated media")

// open is the switch's OpenMedia: an RTP stream on the leg's reserved pair
// with the negotiated codec, ptime and telephone-event type.
func (r *rtpPorts) open(l callswitch.SIPLeg) (media.Endpoint, func(), error) {
	leg, ok := l.(*sip.Leg)
	if !ok {
		return nil, nil, fmt.Errorf("app: sip leg %T is not a telephony/sip leg", l)
	}
	m, ok := leg.Media()
	if !ok {
		return nil, nil, errNoMedia
	}
	port := int(leg.LocalRTP().Port())
	r.mu.Lock()
	r.unhold(port)
	r.mu.Unlock()
	one, err := rtpstream.NewPorts(r.bind, port, port+1)
	if err != nil {
		return nil, nil, err
	}
	st, err := rtpstream.Open(one, rtpstream.Config{
		PayloadType: m.Codec.PT,
		EventPT:     m.DTMFPT,
		Ptime:       m.Ptime,
		Remote:      m.Remote,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("app: rtp on %d: %w", port, err)
	}
	r.mu.Lock()
	r.streams[st] = true
	r.mu.Unlock()
	return st, func() {
		stats := st.Stats()
		_ = st.Close()
		r.mu.Lock()
		delete(r.streams, st)
		if len(r.ended) == maxEnded {
			r.ended = append(r.ended[:0], r.ended[1:]...)
		}
		r.ended = append(r.ended, stats)
		t := &r.total
		t.Streams++
		t.PacketsIn += stats.PacketsReceived
		t.PacketsOut += stats.PacketsSent
		t.Lost += int64(max(stats.Lost, 0))
		t.Concealed += stats.Buffer.Concealed
		t.Late += stats.Buffer.Late
		t.RingDrops += stats.RingDrops
		t.SendDrops += stats.SendDrops
		t.MaxJitterDelay = max(t.MaxJitterDelay, float64(stats.Buffer.Delay)/8)
		r.mu.Unlock()
	}, nil
}

// closeAll closes the streams and reservations still open once the
// switch has stopped ticking (calls in progress at shutdown), so that a
// restart in the same process finds their ports free.
func (r *rtpPorts) closeAll() {
	r.mu.Lock()
	streams := make([]*rtpstream.Stream, 0, len(r.streams))
	for st := range r.streams {
		streams = append(streams, st)
	}
	clear(r.streams)
	for port := range r.held {
		r.unhold(port)
	}
	clear(r.inUse)
	r.mu.Unlock()
	for _, st := range streams {
		_ = st.Close()
	}
}

// totals returns the sums over the streams closed so far.
func (r *rtpPorts) totals() RTPTotals {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// endedStats returns the figures of the last streams closed, oldest first.
func (r *rtpPorts) endedStats() []rtpstream.Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rtpstream.Stats(nil), r.ended...)
}
