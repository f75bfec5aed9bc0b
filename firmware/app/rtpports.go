package app

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"

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

// rtpPorts connects telephony/sip's RTPAllocator to rtpstream's one port
// allocator. The SIP endpoint needs a local address for its SDP before the
// codec is agreed, while a Stream is opened only once it is (its codec is
// fixed at Open). So AllocRTP reserves a pair (both sockets bound and
// held) and OpenMedia, once the leg has its media, opens the stream on
// that very reservation: the address in the SDP is the one the stream
// listens on, with no moment where another program could take it.
type rtpPorts struct {
	ports     *rtpstream.Ports
	advertise netip.Addr // address put in SDP
	nat       atomic.Pointer[natPeers]

	mu      sync.Mutex
	held    map[int]*rtpstream.Pair // by port: reserved for a leg, stream or not
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
	// Foreign counts the packets dropped for coming from another source
	// than the call's peer (someone spraying the RTP ports, or a phone
	// behind NAT without its extension's nat option).
	Foreign uint64
	// MaxJitterDelay is the deepest jitter buffer any stream had, in ms.
	MaxJitterDelay float64
}

// maxEnded bounds rtpPorts.ended.
const maxEnded = 32

// newRTPPorts hands out the pairs within ports min to max inclusive
// (rtpstream.NewPorts), bound on bind and announced as advertise.
func newRTPPorts(bind, advertise netip.Addr, min, max int) (*rtpPorts, error) {
	ports, err := rtpstream.NewPorts(bind, min, max)
	if err != nil {
		return nil, err
	}
	return &rtpPorts{ports: ports, advertise: advertise,
		held: map[int]*rtpstream.Pair{}, streams: map[*rtpstream.Stream]bool{}}, nil
}

// setNAT sets which extensions and trunks may send media through NAT,
// for the streams opened from now on.
func (r *rtpPorts) setNAT(n natPeers) { r.nat.Store(&n) }

// AllocRTP implements sip.RTPAllocator: a pair reserved at random.
func (r *rtpPorts) AllocRTP() (netip.AddrPort, error) {
	pair, err := r.ports.Reserve()
	if err != nil {
		return netip.AddrPort{}, err
	}
	r.mu.Lock()
	r.held[pair.Port()] = pair
	r.mu.Unlock()
	return netip.AddrPortFrom(r.advertise, uint16(pair.Port())), nil
}

// ReleaseRTP implements sip.RTPAllocator: the leg ended. A stream still
// open on the pair keeps it until the switch closes the stream.
func (r *rtpPorts) ReleaseRTP(a netip.AddrPort) {
	r.mu.Lock()
	pair := r.held[int(a.Port())]
	delete(r.held, int(a.Port()))
	r.mu.Unlock()
	if pair != nil {
		pair.Release()
	}
}

// InUse reports how many pairs are reserved for legs or carry a stream.
func (r *rtpPorts) InUse() int { return r.ports.InUse() }

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
	pair := r.held[port]
	r.mu.Unlock()
	if pair == nil {
		return nil, nil, fmt.Errorf("app: rtp port %d is not reserved for leg %s", port, leg.ID())
	}
	cfg := rtpstream.Config{
		PayloadType: m.Codec.PT,
		EventPT:     m.DTMFPT,
		Ptime:       m.Ptime,
		Remote:      m.Remote,
	}
	if n := r.nat.Load(); n != nil && n.allows(leg.Extension(), leg.Trunk()) {
		cfg.NAT = leg.SignalAddr().Addr()
	}
	st, err := rtpstream.OpenPair(pair, cfg)
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
		t.Foreign += stats.Foreign
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
	pairs := make([]*rtpstream.Pair, 0, len(r.held))
	for _, p := range r.held {
		pairs = append(pairs, p)
	}
	clear(r.held)
	r.mu.Unlock()
	for _, st := range streams {
		_ = st.Close()
	}
	for _, p := range pairs {
		p.Release()
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
