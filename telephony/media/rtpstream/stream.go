// Package rtpstream is one RTP audio stream of a call: a UDP port pair
// picked at random from a configurable range (Ports, the box's one RTP
// port allocator), G.711 (PCMU or PCMA) packetised at 10, 20 or 30 ms
// with github.com/pion/rtp headers, media only with the peer signalling
// named (its SDP address; for a phone behind NAT, symmetric RTP latched
// once to a port of its signalling address), an adaptive jitter buffer with
// loss concealment, RFC 4733 telephone-events both ways, and RTCP sender
// and receiver reports whose figures a Stats snapshot gives per call.
//
// A Stream is a media.Endpoint: the media clock calls ReadFrame and
// WriteFrame every 10 ms. A reader goroutine per socket owns the sockets'
// receive side; the RTP reader hands packets to the clock through a
// lock-free ring, so neither side waits for the other, and Close stops both
// and waits. Nothing on the per-frame path allocates.
package rtpstream

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"callbox/dsp/g711"
	"callbox/telephony/media"
	"callbox/telephony/media/jitter"
	"callbox/telephony/media/rfc4733"
	"callbox/telephony/media/rtcp"
)

// Static payload types of G.711.
const (
	PCMU = 0
	PCMA = 8
)

const (
	// ringTime is how much audio the packet ring between the reader and the
	// clock holds (at least minRing packets): the clock drains it every
	// 10 ms, and runs at most 5 ticks late before it skips.
	ringTime = 160 // ms
	minRing  = 8
	// slotSize is the room for one packet: 30 ms of G.711 (252 bytes with the
	// header) plus 132 for CSRCs, header extensions and padding; a larger
	// datagram is counted invalid.
	slotSize = 384
	maxPtime = 30
)

// Config sets up a Stream.
type Config struct {
	// PayloadType is PCMU (0) or PCMA (8).
	PayloadType uint8
	// EventPT is the telephone-event payload type (96-127, usually 101);
	// 0 means the peer did not negotiate RFC 4733.
	EventPT uint8
	// Ptime is the packetisation in ms: 10, 20 or 30 (0 means 20).
	Ptime int
	// Remote is the peer's RTP address from its SDP: the stream sends
	// there and takes RTP from there only; RemoteRTCP (default Remote's
	// port + 1) likewise for RTCP. Packets from anywhere else are dropped
	// and counted (Stats.Foreign): whoever sends first, or after a silence,
	// gets nothing and hears nothing.
	Remote, RemoteRTCP netip.AddrPort
	// NAT, when set, is the IP address the peer signals from: a phone
	// behind NAT, whose SDP names an address it cannot be reached at. The
	// stream then also takes the first packet from that IP, whatever its
	// port, and latches to that source for good (symmetric RTP: it sends
	// there too); RTCP latches the same way. Never to another IP, and not
	// again until SetRemote.
	NAT netip.Addr
	// CNAME is the RTCP canonical name (default "callbox").
	CNAME string
	// RTCPInterval is the mean time between reports (default 5 s, RFC
	// 3550's minimum); each interval is randomised by 0.5 to 1.5.
	RTCPInterval time.Duration
}

// check validates cfg and fills in defaults.
func (cfg *Config) check() error {
	if cfg.PayloadType != PCMU && cfg.PayloadType != PCMA {
		return fmt.Errorf("rtpstream: payload type %d is not G.711", cfg.PayloadType)
	}
	if cfg.EventPT != 0 && (cfg.EventPT < 96 || cfg.EventPT > 127) {
		return fmt.Errorf("rtpstream: telephone-event payload type %d is not dynamic", cfg.EventPT)
	}
	switch cfg.Ptime {
	case 0:
		cfg.Ptime = 20
	case 10, 20, 30:
	default:
		return fmt.Errorf("rtpstream: ptime %d ms (want 10, 20 or 30)", cfg.Ptime)
	}
	if cfg.CNAME == "" {
		cfg.CNAME = "callbox"
	}
	if cfg.RTCPInterval == 0 {
		cfg.RTCPInterval = 5 * time.Second
	}
	return nil
}

// Stats is a snapshot of a stream's figures.
type Stats struct {
	Local, Remote    netip.AddrPort // Remote: where the stream sends (SDP, or the NAT latch)
	SSRC, RemoteSSRC uint32

	PacketsSent, OctetsSent         uint64
	PacketsReceived, OctetsReceived uint64
	EventsSent, EventsReceived      uint64 // RFC 4733 packets
	RTCPSent, RTCPReceived          uint64

	// Reception per RFC 3550 (our view of the peer's stream).
	Expected     uint32
	Lost         int32   // cumulative
	FractionLost float64 // in the last reporting interval, 0..1
	Jitter       time.Duration

	// The peer's view of our stream, from its last receiver report.
	RemoteFractionLost float64
	RemoteLost         int32
	RemoteJitter       time.Duration
	RTT                time.Duration // latest round trip
	RTTSamples         uint64        // reports that referred to one of our SRs

	Invalid uint64 // not RTP, wrong payload type, bad padding
	// Foreign counts the RTP and RTCP packets dropped because they came
	// from a source other than the peer's (not its SDP address, nor with
	// NAT the latched source), and RTCP reports about another SSRC.
	Foreign    uint64
	RingDrops  uint64 // packets the clock did not take in time
	SendDrops  uint64 // packets the socket would not take at once
	SSRCChange uint64
	ByeSeen    bool

	Buffer jitter.Stats
}

type slot struct {
	buf  [slotSize]byte
	n    int
	from netip.AddrPort
	at   int64 // ns since the stream's epoch
}

// writer is the send side of a socket (a seam for benchmarks).
type writer interface {
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

// Stream is one RTP stream.
type Stream struct {
	cfg      Config
	ports    *Ports
	port     int
	rtpConn  *net.UDPConn
	rtcpConn *net.UDPConn
	out      writer // RTP
	rtcpOut  writer
	epoch    time.Time
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	closed   atomic.Bool

	ring       []slot // ringTime of packets at the ptime
	head, tail atomic.Uint64
	ringDrops  atomic.Uint64

	mu sync.Mutex // everything below; the clock holds it once per read and write

	// receive side
	hdr        rtp.Header
	jb         *jitter.Buffer
	rx         rtcp.Receiver
	evRx       *rfc4733.Receiver
	evs        []rfc4733.Event
	digits     []media.DigitEvent
	remoteSSRC uint32
	haveSSRC   bool
	recv       bool
	ahead      [media.FrameSamples]int16 // the next frame, played a tick early
	haveAhead  bool

	// send side
	ssrc      uint32
	seq       uint16
	ts        uint32
	marker    bool
	send      bool
	spp       int // samples per packet
	fill      int
	pkt       [12 + maxPtime*8]byte
	evPkt     [12 + rfc4733.PayloadLen]byte
	evTx      *rfc4733.Sender
	tick      uint64
	rtcpDue   uint64
	rtcpBuf   [512]byte   // our reports: SR, one block, SDES, BYE
	rtcpRep   rtcp.Report // for sending (clock)
	rtcpIn    rtcp.Report // for receiving (reader)
	rtcpInBuf [1500]byte

	remote, remoteRTCP netip.AddrPort // from SDP
	nat                netip.Addr     // the peer's signalling IP, if NAT is allowed
	latched            netip.AddrPort // NAT: the source RTP latched to
	latchedRTCP        netip.AddrPort // NAT: the source RTCP latched to
	st                 Stats
}

// Open reserves a port pair from ports and starts a stream on it.
func Open(ports *Ports, cfg Config) (*Stream, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	pair, err := ports.Reserve()
	if err != nil {
		return nil, err
	}
	s, err := OpenPair(pair, cfg)
	if err != nil {
		pair.Release()
	}
	return s, err
}

// OpenPair starts a stream on a reserved pair, which it then owns: Close
// gives the pair back to its range. It fails if the pair was released.
func OpenPair(pair *Pair, cfg Config) (*Stream, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	a, b, ok := pair.take()
	if !ok {
		return nil, fmt.Errorf("rtpstream: port pair %d was released or is in use by another stream", pair.port)
	}
	ports, port := pair.ports, pair.port
	fail := func(err error) (*Stream, error) {
		a.Close()
		b.Close()
		ports.release(port)
		return nil, fmt.Errorf("rtpstream: %w", err)
	}
	wa, err := newSender(a)
	if err != nil {
		return fail(err)
	}
	wb, err := newSender(b)
	if err != nil {
		return fail(err)
	}
	s := newStream(cfg)
	s.ports, s.port, s.rtpConn, s.rtcpConn, s.out, s.rtcpOut = ports, port, a, b, wa, wb
	s.st.Local = pair.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(2)
	go s.readRTP(ctx)
	go s.readRTCP(ctx)
	return s, nil
}

// newStream builds a stream without sockets from a checked config.
func newStream(cfg Config) *Stream {
	s := &Stream{
		cfg:    cfg,
		epoch:  time.Now(),
		jb:     jitter.New(jitter.Codec(cfg.PayloadType)),
		evRx:   rfc4733.NewReceiver(0),
		evTx:   rfc4733.NewSender(0),
		evs:    make([]rfc4733.Event, 0, 8),
		digits: make([]media.DigitEvent, 0, 8),
		ssrc:   rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(),
		marker: true, send: true, recv: true,
		spp: cfg.Ptime * 8,
	}
	s.ring = make([]slot, max(minRing, ringTime/cfg.Ptime))
	s.hdr.CSRC = make([]uint32, 0, 15)
	s.hdr.Extensions = make([]rtp.Extension, 0, 8)
	s.setRemote(cfg.Remote, cfg.RemoteRTCP)
	if cfg.NAT.IsValid() && !cfg.NAT.IsUnspecified() {
		s.nat = cfg.NAT.Unmap()
	}
	s.st.SSRC = s.ssrc
	s.scheduleRTCP()
	return s
}

// LocalPort returns the RTP port (RTCP is the next one).
func (s *Stream) LocalPort() int { return s.port }

// SetRemote moves the stream to the peer's new SDP address (a re-INVITE):
// it sends there and takes packets from there from now on, and forgets
// the NAT latch, so that the peer's next packets from its signalling IP
// latch again.
func (s *Stream) SetRemote(rtpAddr, rtcpAddr netip.AddrPort) {
	s.mu.Lock()
	s.setRemote(rtpAddr, rtcpAddr)
	s.latched, s.latchedRTCP = netip.AddrPort{}, netip.AddrPort{}
	s.mu.Unlock()
}

func (s *Stream) setRemote(rtpAddr, rtcpAddr netip.AddrPort) {
	rtpAddr, rtcpAddr = unmap(rtpAddr), unmap(rtcpAddr)
	if !rtcpAddr.IsValid() && rtpAddr.IsValid() {
		rtcpAddr = netip.AddrPortFrom(rtpAddr.Addr(), rtpAddr.Port()+1)
	}
	s.remote, s.remoteRTCP = rtpAddr, rtcpAddr
}

// unmap turns an IPv4-mapped IPv6 address (what a socket bound to every
// interface reports for an IPv4 peer) into the IPv4 address SDP names.
func unmap(a netip.AddrPort) netip.AddrPort {
	if !a.IsValid() {
		return a
	}
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// SetDirection sets whether the stream sends and receives media (SDP
// sendrecv, sendonly, recvonly, inactive); RTCP goes on either way.
func (s *Stream) SetDirection(send, recv bool) {
	s.mu.Lock()
	s.send, s.recv = send, recv
	s.mu.Unlock()
}

// SetFixedDelay fixes the jitter buffer's delay at d (at least its current
// delay) for a fax or modem call, with lost audio played as silence; 0
// returns it to the adaptive delay (jitter.Buffer.SetFixed).
func (s *Stream) SetFixedDelay(d time.Duration) {
	s.mu.Lock()
	s.jb.SetFixed(int(d * media.SampleRate / time.Second))
	s.mu.Unlock()
}

// ErrClosed is returned by methods of a closed stream.
var ErrClosed = errors.New("rtpstream: stream closed")

// Close sends an RTCP BYE, stops the readers, waits for them and returns
// the port pair to the range. The stream must be out of the media engine.
func (s *Stream) Close() error {
	if s.closed.Swap(true) {
		return ErrClosed
	}
	s.mu.Lock()
	s.sendRTCP(time.Now(), true)
	s.mu.Unlock()
	if s.cancel == nil {
		return nil // built without sockets
	}
	s.cancel()
	err := errors.Join(s.rtpConn.Close(), s.rtcpConn.Close())
	s.wg.Wait()
	s.ports.release(s.port)
	return err
}

// readRTP moves datagrams from the socket to the ring.
func (s *Stream) readRTP(ctx context.Context) {
	defer s.wg.Done()
	var scratch [slotSize]byte
	for ctx.Err() == nil {
		h, t := s.head.Load(), s.tail.Load()
		if h-t >= uint64(len(s.ring)) {
			// The clock is behind: drop rather than overwrite what it reads.
			if _, _, err := s.rtpConn.ReadFromUDPAddrPort(scratch[:]); err != nil {
				return
			}
			s.ringDrops.Add(1)
			continue
		}
		sl := &s.ring[h%uint64(len(s.ring))]
		n, from, err := s.rtpConn.ReadFromUDPAddrPort(sl.buf[:])
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		sl.n, sl.from, sl.at = n, from, int64(time.Since(s.epoch))
		s.head.Store(h + 1)
	}
}

// inject queues a packet as if it had arrived at at (for tests and
// benchmarks that bypass the socket).
func (s *Stream) inject(b []byte, from netip.AddrPort, at time.Duration) bool {
	h, t := s.head.Load(), s.tail.Load()
	if h-t >= uint64(len(s.ring)) {
		s.ringDrops.Add(1)
		return false
	}
	sl := &s.ring[h%uint64(len(s.ring))]
	sl.n = copy(sl.buf[:], b)
	sl.from, sl.at = from, int64(at)
	s.head.Store(h + 1)
	return true
}

// IndependentEndpoint implements media.Independent: a stream's frames touch
// only its own state, so the engine may run streams on several goroutines.
func (s *Stream) IndependentEndpoint() {}

// ReadFrame implements media.Endpoint: it takes the packets that arrived
// since the last tick into the jitter buffer and plays out 10 ms.
func (s *Stream) ReadFrame(frame []int16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drain()
	if s.haveAhead {
		copy(frame, s.ahead[:])
		s.haveAhead = false
	} else {
		s.jb.Get(frame)
	}
	s.evs = s.evRx.Advance(media.FrameSamples, s.evs)
	s.digitEvents()
}

// drain takes the packets that arrived into the jitter buffer; s.mu held.
func (s *Stream) drain() {
	for t := s.tail.Load(); t != s.head.Load(); t++ {
		sl := &s.ring[t%uint64(len(s.ring))]
		s.handle(sl.buf[:sl.n], sl.from, sl.at)
		s.tail.Store(t + 1)
	}
}

// ReadAhead implements media.AheadReader: when the jitter buffer already
// holds the whole next frame (the second half of a 20 ms packet, say) it
// plays it now into frame, and the next ReadFrame returns it again instead
// of playing another. The playout schedule is unchanged; the frame only
// leaves the buffer a tick sooner.
func (s *Stream) ReadAhead(frame []int16) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.haveAhead {
		return false
	}
	s.drain()
	if !s.jb.Ready() {
		return false
	}
	s.jb.Get(s.ahead[:])
	s.haveAhead = true
	copy(frame, s.ahead[:])
	return true
}

// PacketRoom implements media.PacketWriter: the frames the packet being
// filled still takes, or 0 at ptime 10, where every frame is a packet.
func (s *Stream) PacketRoom() int {
	if s.spp == media.FrameSamples {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return (s.spp - s.fill) / media.FrameSamples
}

func (s *Stream) handle(b []byte, from netip.AddrPort, at int64) {
	from = unmap(from)
	n, err := s.hdr.Unmarshal(b)
	if err != nil || s.hdr.Version != 2 || len(b) == slotSize {
		s.st.Invalid++
		return
	}
	payload := b[n:]
	if s.hdr.Padding {
		pad := int(b[len(b)-1])
		if pad == 0 || pad > len(payload) {
			s.st.Invalid++
			return
		}
		payload = payload[:len(payload)-pad]
	}
	pt := s.hdr.PayloadType
	isEvent := s.cfg.EventPT != 0 && pt == s.cfg.EventPT
	if (pt != s.cfg.PayloadType && !isEvent) || (isEvent && len(payload) < rfc4733.PayloadLen) {
		s.st.Invalid++
		return
	}
	if !s.accept(from) {
		s.st.Foreign++
		return
	}
	if !s.haveSSRC || s.hdr.SSRC != s.remoteSSRC {
		if s.haveSSRC {
			// The peer restarted its stream (or a new one replaced it).
			s.st.SSRCChange++
			s.jb.Reset()
			s.rx = rtcp.Receiver{}
		}
		s.haveSSRC, s.remoteSSRC = true, s.hdr.SSRC
		s.rx.SSRC = s.hdr.SSRC
	}
	s.st.PacketsReceived++
	s.st.OctetsReceived += uint64(len(payload))
	if isEvent {
		s.st.EventsReceived++
		s.rx.Sequence(s.hdr.SequenceNumber)
		s.evs, _ = s.evRx.Packet(s.hdr.Timestamp, payload, s.evs) // length checked above
		return
	}
	// Arrival in timestamp units: ns * 8000 / 1e9.
	s.rx.Packet(s.hdr.SequenceNumber, s.hdr.Timestamp, uint32(at/125000))
	if s.recv {
		s.jb.Put(s.hdr.Timestamp, s.hdr.Marker, payload)
	}
}

// accept reports whether an RTP packet from from is the peer's: from its
// SDP address, or with NAT allowed from the source latched to, which is
// the first one heard from the SDP address or the signalling IP. Nothing
// else takes the call over: not a sender that is first, nor one that
// waits for a silence.
func (s *Stream) accept(from netip.AddrPort) bool {
	return acceptFrom(from, s.remote, s.nat, &s.latched)
}

// acceptFrom is accept for RTP or RTCP: want is the SDP's address, latch
// the NAT latch to keep.
func acceptFrom(from, want netip.AddrPort, nat netip.Addr, latch *netip.AddrPort) bool {
	if !nat.IsValid() {
		return from == want && want.IsValid()
	}
	if latch.IsValid() {
		return from == *latch
	}
	if (from == want && want.IsValid()) || from.Addr() == nat {
		*latch = from
		return true
	}
	return false
}

// maxDigits bounds the digit events waiting for ReadDigits.
const maxDigits = 32

func (s *Stream) digitEvents() {
	for _, e := range s.evs {
		if len(s.digits) == maxDigits {
			break // nobody reads them: drop rather than grow
		}
		d := media.DigitEvent{Kind: media.DigitStart, Digit: e.Digit, OutOfBand: true}
		if e.Kind == rfc4733.End {
			d.Kind = media.DigitEnd
			d.Duration = time.Duration(e.Duration) * time.Second / media.SampleRate
		}
		s.digits = append(s.digits, d)
	}
	s.evs = s.evs[:0]
}

// ReadDigits implements media.DigitReader (clock goroutine only).
func (s *Stream) ReadDigits(dst []media.DigitEvent) []media.DigitEvent {
	dst = append(dst, s.digits...)
	s.digits = s.digits[:0]
	return dst
}

// SendDigit implements media.DigitWriter: the digit goes out as RFC 4733
// events, or media.ErrInBand if the peer did not negotiate them.
func (s *Stream) SendDigit(digit byte, dur time.Duration) error {
	if s.cfg.EventPT == 0 {
		return media.ErrInBand
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.evTx.Send(digit, uint32(dur*media.SampleRate/time.Second))
}

// WriteFrame implements media.Endpoint: 10 ms to send, packetised every
// ptime.
func (s *Stream) WriteFrame(frame []int16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick++
	dst := s.pkt[12+s.fill : 12+s.fill+media.FrameSamples]
	if s.cfg.PayloadType == PCMA {
		g711.EncodeAlaw(dst, frame)
	} else {
		g711.EncodeUlaw(dst, frame)
	}
	s.fill += media.FrameSamples
	if s.fill == s.spp {
		s.fill = 0
		s.packet()
	}
	if s.tick >= s.rtcpDue {
		s.sendRTCP(time.Now(), false)
		s.scheduleRTCP()
	}
}

// dest is where RTP goes: the NAT latch, else the SDP's address.
func (s *Stream) dest() netip.AddrPort {
	if s.latched.IsValid() {
		return s.latched
	}
	return s.remote
}

// destRTCP is where RTCP goes: its NAT latch, else next to the RTP latch
// (a guess: the NAT may map RTCP elsewhere, until its packets tell), else
// the SDP's.
func (s *Stream) destRTCP() netip.AddrPort {
	switch {
	case s.latchedRTCP.IsValid():
		return s.latchedRTCP
	case s.latched.IsValid() && s.latched != s.remote:
		return netip.AddrPortFrom(s.latched.Addr(), s.latched.Port()+1)
	}
	return s.remoteRTCP
}

// packet sends the audio gathered in s.pkt, or a telephone-event instead.
func (s *Stream) packet() {
	ts := s.ts
	s.ts += uint32(s.spp)
	if !s.send || !s.closedOK() {
		return
	}
	to := s.dest()
	if !to.IsValid() || s.out == nil {
		return
	}
	h := rtp.Header{Version: 2, SequenceNumber: s.seq, SSRC: s.ssrc}
	var buf []byte
	if p, evTS, marker, ok := s.evTx.Next(ts, uint32(s.spp)); ok && s.cfg.EventPT != 0 {
		h.PayloadType, h.Timestamp, h.Marker = s.cfg.EventPT, evTS, marker
		p.MarshalTo(s.evPkt[12:])
		buf = s.evPkt[:]
		s.st.EventsSent++
	} else {
		h.PayloadType, h.Timestamp, h.Marker = s.cfg.PayloadType, ts, s.marker
		s.marker = false
		buf = s.pkt[:12+s.spp]
	}
	if _, err := h.MarshalTo(buf[:12]); err != nil {
		return
	}
	s.seq++
	if _, err := s.out.WriteToUDPAddrPort(buf, to); err != nil {
		s.st.SendDrops++ // a full socket buffer: never wait for it
		return
	}
	s.st.PacketsSent++
	s.st.OctetsSent += uint64(len(buf) - 12)
}

func (s *Stream) closedOK() bool { return !s.closed.Load() }

func (s *Stream) scheduleRTCP() {
	if s.cfg.RTCPInterval < 0 {
		s.rtcpDue = ^uint64(0)
		return
	}
	ticks := float64(s.cfg.RTCPInterval/media.FrameDuration) * (0.5 + rand.Float64())
	s.rtcpDue = s.tick + max(uint64(ticks), 1)
}

// sendRTCP sends an SR (or an RR before we have sent anything) with a report
// block on the peer's stream once there is one; s.mu held.
func (s *Stream) sendRTCP(now time.Time, bye bool) {
	to := s.destRTCP()
	if !to.IsValid() {
		return
	}
	r := &s.rtcpRep
	r.SSRC, r.Bye, r.NBlocks = s.ssrc, bye, 0
	r.Sender = s.st.PacketsSent > 0
	if r.Sender {
		r.Info = rtcp.SenderInfo{
			NTP:     rtcp.NTP(now),
			RTPTime: s.ts, // the next packet's timestamp is now
			Packets: uint32(s.st.PacketsSent),
			Octets:  uint32(s.st.OctetsSent),
		}
	}
	if s.haveSSRC {
		r.Blocks[0] = s.rx.Block(now)
		r.NBlocks = 1
		s.st.FractionLost = float64(r.Blocks[0].FractionLost) / 256
	}
	n, err := r.MarshalTo(s.rtcpBuf[:], s.cfg.CNAME)
	if err != nil {
		return
	}
	if s.rtcpOut == nil {
		return
	}
	if _, err := s.rtcpOut.WriteToUDPAddrPort(s.rtcpBuf[:n], to); err == nil {
		s.st.RTCPSent++
	}
}

// readRTCP takes the peer's reports.
func (s *Stream) readRTCP(ctx context.Context) {
	defer s.wg.Done()
	for ctx.Err() == nil {
		n, from, err := s.rtcpConn.ReadFromUDPAddrPort(s.rtcpInBuf[:])
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		now := time.Now()
		s.mu.Lock()
		s.report(s.rtcpInBuf[:n], from, now)
		s.mu.Unlock()
	}
}

// report handles one RTCP compound packet; s.mu held.
func (s *Stream) report(b []byte, from netip.AddrPort, now time.Time) {
	r := &s.rtcpIn
	if err := r.Unmarshal(b); err != nil {
		s.st.Invalid++
		return
	}
	// Only the peer's reports count: from its RTCP address (SDP, or with
	// NAT the latched source) and about its media source once known.
	if !acceptFrom(unmap(from), s.remoteRTCP, s.nat, &s.latchedRTCP) {
		s.st.Foreign++
		return
	}
	if s.haveSSRC && r.SSRC != s.remoteSSRC {
		s.st.Foreign++
		return
	}
	s.st.RTCPReceived++
	if r.Sender {
		s.rx.SenderReport(r.Info.NTP, now)
	}
	if blk, ok := r.Block(s.ssrc); ok {
		s.st.RemoteFractionLost = float64(blk.FractionLost) / 256
		s.st.RemoteLost = blk.TotalLost
		s.st.RemoteJitter = time.Duration(blk.Jitter) * time.Second / media.SampleRate
		if rtt, ok := rtcp.RTT(blk, rtcp.NTP(now)); ok {
			s.st.RTT = rtt
			s.st.RTTSamples++
		}
	}
	if r.Bye {
		s.st.ByeSeen = true
	}
}

// Stats returns a snapshot of the stream's figures.
func (s *Stream) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	st.Remote = s.dest()
	st.RemoteSSRC = s.remoteSSRC
	rs := s.rx.Stats()
	st.Expected, st.Lost = rs.Expected, rs.Lost
	st.Jitter = time.Duration(rs.Jitter) * time.Second / media.SampleRate
	st.RingDrops = s.ringDrops.Load()
	st.Buffer = s.jb.Stats()
	return st
}
