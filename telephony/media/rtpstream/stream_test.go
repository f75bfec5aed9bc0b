package rtpstream

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"callbox/dsp/g711"
	"callbox/telephony/media"
	"callbox/telephony/media/jitter"
)

// capture is a writer that keeps what is sent.
type capture struct {
	pkts [][]byte
	to   []netip.AddrPort
}

func (c *capture) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	c.pkts = append(c.pkts, append([]byte(nil), b...))
	c.to = append(c.to, addr)
	return len(b), nil
}

// discard is an allocation-free writer for benchmarks.
type discard struct{ n int }

func (d *discard) WriteToUDPAddrPort(b []byte, _ netip.AddrPort) (int, error) {
	d.n++
	return len(b), nil
}

var (
	peer    = netip.MustParseAddrPort("192.0.2.10:40000")
	sdpAddr = netip.MustParseAddrPort("192.0.2.10:30000")
	// Their RTCP addresses: the next port.
	peerRTCP = netip.MustParseAddrPort("192.0.2.10:40001")
	sdpRTCP  = netip.MustParseAddrPort("192.0.2.10:30001")
)

func testStream(t testing.TB, cfg Config) (*Stream, *capture) {
	t.Helper()
	if err := cfg.check(); err != nil {
		t.Fatal(err)
	}
	s := newStream(cfg)
	c := &capture{}
	s.out, s.rtcpOut = c, c
	return s, c
}

func sine(n int, hz float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/8000))
	}
	return s
}

// TestSendPionParses checks what the stream sends with pion/rtp's own
// parser: header fields, sequence and timestamp steps, the marker, and the
// payload against the reference G.711 encoding.
func TestSendPionParses(t *testing.T) {
	for _, tc := range []struct {
		pt    uint8
		ptime int
	}{{PCMU, 20}, {PCMA, 10}, {PCMU, 30}} {
		t.Run(fmt.Sprintf("pt%d/%dms", tc.pt, tc.ptime), func(t *testing.T) {
			s, c := testStream(t, Config{PayloadType: tc.pt, Ptime: tc.ptime, Remote: sdpAddr, RTCPInterval: -1})
			sig := sine(8000, 440)
			for i := 0; i+80 <= len(sig); i += 80 {
				s.WriteFrame(sig[i : i+80])
			}
			spp := tc.ptime * 8
			if len(c.pkts) != len(sig)/spp {
				t.Fatalf("%d packets for %d samples at %d per packet", len(c.pkts), len(sig), spp)
			}
			var first rtp.Packet
			for i, b := range c.pkts {
				var p rtp.Packet
				if err := p.Unmarshal(b); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = p
				}
				if p.Version != 2 || p.PayloadType != tc.pt || p.SSRC != first.SSRC ||
					p.SequenceNumber != first.SequenceNumber+uint16(i) ||
					p.Timestamp != first.Timestamp+uint32(i*spp) || p.Marker != (i == 0) ||
					len(p.Payload) != spp || p.Padding || len(p.CSRC) != 0 || p.Extension {
					t.Fatalf("packet %d: %v", i, p.Header)
				}
				want := make([]byte, spp)
				if tc.pt == PCMA {
					g711.EncodeAlaw(want, sig[i*spp:(i+1)*spp])
				} else {
					g711.EncodeUlaw(want, sig[i*spp:(i+1)*spp])
				}
				if string(p.Payload) != string(want) {
					t.Fatalf("packet %d payload differs", i)
				}
				if c.to[i] != sdpAddr {
					t.Fatalf("sent to %v before any packet came back", c.to[i])
				}
			}
		})
	}
}

// pkt marshals an RTP packet with pion/rtp.
func pkt(t testing.TB, pt uint8, seq uint16, ts uint32, marker bool, payload []byte) []byte {
	t.Helper()
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts,
		SSRC: 0xdecafbad, Marker: marker}, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// latchRig drives a stream with packets from chosen sources and records
// what it hears and where it sends.
type latchRig struct {
	t     *testing.T
	s     *Stream
	c     *capture
	seq   uint16
	heard map[int16]bool
}

// fill bytes of the phone's and the attacker's packets, and what they
// decode to.
const phoneFill, attackerFill = 0x20, 0xa0

func decoded(fill byte) int16 {
	var out [1]int16
	g711.DecodeUlaw(out[:], []byte{fill})
	return out[0]
}

// step runs ticks frames; from sends a 20 ms packet every other one
// (nothing if invalid).
func (r *latchRig) step(ticks int, from netip.AddrPort, fill byte) {
	frame := make([]int16, 80)
	payload := bytes.Repeat([]byte{fill}, 160)
	for i := range ticks {
		if i%2 == 0 && from.IsValid() {
			r.s.inject(pkt(r.t, PCMU, r.seq, uint32(r.seq)*160, false, payload), from, 0)
			r.seq++
		}
		r.s.ReadFrame(frame)
		for _, v := range frame {
			r.heard[v] = true
		}
		r.s.WriteFrame(frame)
	}
}

// check says where the stream sends now, how many packets it took and
// dropped so far, and that it never played the attacker's audio.
func (r *latchRig) check(what string, to netip.AddrPort, received, foreign uint64) {
	r.t.Helper()
	r.step(2, netip.AddrPort{}, 0) // a packet goes out
	st := r.s.Stats()
	if last := r.c.to[len(r.c.to)-1]; last != to || st.Remote != to {
		r.t.Errorf("%s: sending to %v (stats %v), want %v", what, last, st.Remote, to)
	}
	if st.PacketsReceived != received || st.Foreign != foreign {
		r.t.Errorf("%s: %d packets taken, %d dropped as foreign; want %d and %d",
			what, st.PacketsReceived, st.Foreign, received, foreign)
	}
	if r.heard[decoded(attackerFill)] {
		r.t.Fatalf("%s: the stream played the attacker's audio", what)
	}
}

// Media come only from the peer signalling named: an attacker who sends
// first, or while the phone is silent for more than 2 s, is dropped and
// counted, never sent to and never heard; a re-INVITE moves the stream.
func TestLatchOnlyToSignalledPeer(t *testing.T) {
	attacker := netip.MustParseAddrPort("198.51.100.7:5004")
	moved := netip.MustParseAddrPort("192.0.2.20:31000")
	s, c := testStream(t, Config{PayloadType: PCMU, Remote: sdpAddr, RTCPInterval: -1})
	r := &latchRig{t: t, s: s, c: c, heard: map[int16]bool{}}
	r.step(10, attacker, attackerFill)
	r.check("attacker first", sdpAddr, 0, 5)
	r.step(20, sdpAddr, phoneFill)
	r.check("the phone", sdpAddr, 10, 5)
	if !r.heard[decoded(phoneFill)] {
		t.Fatal("the phone's audio was not played")
	}
	r.step(250, netip.AddrPort{}, 0) // 2.5 s of silence from the phone
	r.step(20, attacker, attackerFill)
	r.check("attacker after a silence", sdpAddr, 10, 15)
	r.step(10, peer, phoneFill) // the phone's IP, another port: not what SDP said
	r.check("another port of the phone's IP", sdpAddr, 10, 20)
	r.step(10, sdpAddr, phoneFill)
	r.check("the phone again", sdpAddr, 15, 20)
	// RTCP likewise: from the SDP's RTCP address only.
	sr := []byte{0x80, 200, 0, 6, 0xde, 0xca, 0xfb, 0xad, 0, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}
	s.mu.Lock()
	s.report(sr, netip.AddrPortFrom(attacker.Addr(), attacker.Port()+1), time.Now())
	s.report(sr, sdpRTCP, time.Now())
	s.mu.Unlock()
	if st := s.Stats(); st.RTCPReceived != 1 || st.Foreign != 21 {
		t.Errorf("rtcp: %d taken, foreign %d; want the phone's only", st.RTCPReceived, st.Foreign)
	}
	// A re-INVITE's new address: the old one is foreign now.
	s.SetRemote(moved, netip.AddrPort{})
	r.step(10, sdpAddr, phoneFill)
	r.check("the old address after a re-INVITE", moved, 15, 26)
	r.step(10, moved, phoneFill)
	r.check("the new address", moved, 20, 26)
}

// With NAT allowed (a remote phone whose SDP names its private address)
// the stream latches once to the first source from the phone's
// signalling IP, any port, and sends there; never to another IP, and not
// to another port of that IP later.
func TestLatchNAT(t *testing.T) {
	private := netip.MustParseAddrPort("10.0.0.5:30000")
	public := netip.MustParseAddrPort("203.0.113.9:40000")
	attacker := netip.MustParseAddrPort("198.51.100.7:5004")
	s, c := testStream(t, Config{PayloadType: PCMU, Remote: private, NAT: public.Addr(), RTCPInterval: -1})
	r := &latchRig{t: t, s: s, c: c, heard: map[int16]bool{}}
	r.step(10, attacker, attackerFill)
	r.check("attacker first", private, 0, 5)
	r.step(20, public, phoneFill)
	r.check("the phone through its NAT", public, 10, 5)
	r.step(10, netip.AddrPortFrom(public.Addr(), 40002), attackerFill)
	r.check("another port of the phone's IP once latched", public, 10, 10)
	r.step(10, private, attackerFill)
	r.check("the SDP address once latched", public, 10, 15)
	r.step(250, netip.AddrPort{}, 0)
	r.step(20, attacker, attackerFill)
	r.check("attacker after a silence", public, 10, 25)
	// RTCP latches on its own: the first from the phone's IP.
	rr := []byte{0x80, 201, 0, 1, 0xde, 0xca, 0xfb, 0xad}
	s.mu.Lock()
	s.report(rr, netip.AddrPortFrom(attacker.Addr(), 5005), time.Now())
	s.report(rr, netip.AddrPortFrom(public.Addr(), 40001), time.Now())
	s.report(rr, netip.AddrPortFrom(public.Addr(), 40003), time.Now())
	to := s.destRTCP()
	s.mu.Unlock()
	if st := s.Stats(); st.RTCPReceived != 1 || st.Foreign != 27 || to != netip.AddrPortFrom(public.Addr(), 40001) {
		t.Errorf("rtcp: %d taken, foreign %d, sent to %v", st.RTCPReceived, st.Foreign, to)
	}
	// A re-INVITE forgets the latch: the phone's new mapping latches.
	s.SetRemote(netip.MustParseAddrPort("10.0.0.5:30010"), netip.AddrPort{})
	moved := netip.AddrPortFrom(public.Addr(), 40100)
	r.step(10, moved, phoneFill)
	r.check("after a re-INVITE", moved, 15, 27)
}

// An IPv4 peer heard on a socket bound to every interface comes as an
// IPv4-mapped IPv6 address: it is the SDP's IPv4 address all the same.
func TestLatchMappedAddress(t *testing.T) {
	s, c := testStream(t, Config{PayloadType: PCMU, Remote: sdpAddr, RTCPInterval: -1})
	r := &latchRig{t: t, s: s, c: c, heard: map[int16]bool{}}
	mapped := netip.AddrPortFrom(netip.AddrFrom16(sdpAddr.Addr().As16()), sdpAddr.Port())
	r.step(10, mapped, phoneFill)
	r.check("mapped source", sdpAddr, 5, 0)
}

func TestReceivePath(t *testing.T) {
	sig := sine(16000, 700)
	enc := make([]byte, len(sig))
	g711.EncodeAlaw(enc, sig)
	// 20 ms packets; lose #10, swap #20/#21, duplicate #30, garbage between.
	s, _ := testStream(t, Config{PayloadType: PCMA, Remote: peer, RTCPInterval: -1})
	var order []int
	for i := range len(sig) / 160 {
		switch i {
		case 10:
		case 20:
			order = append(order, 21, 20)
		case 21:
		case 30:
			order = append(order, 30, 30)
		default:
			order = append(order, i)
		}
	}
	frame := make([]int16, 80)
	var out []int16
	k := 0
	for tick := range len(sig)/80 + 2 {
		if tick%2 == 0 && k < len(order) {
			i := order[k]
			k++
			s.inject(pkt(t, PCMA, uint16(1000+i), uint32(5000+i*160), i == 0, enc[i*160:(i+1)*160]), peer, time.Duration(tick)*media.FrameDuration)
			if k == 2 {
				s.inject([]byte("not rtp at all"), peer, 0)
				s.inject(pkt(t, 18, 1, 1, false, enc[:20]), peer, 0) // G.729: not negotiated
			}
		}
		s.ReadFrame(frame)
		out = append(out, frame...)
	}
	st := s.Stats()
	// RFC 3550 A.1: the first packet is probation; 99 packets 1..99 expected
	// from then, one lost and one duplicate received: cumulative loss 0.
	if st.Expected != 99 || st.Lost != 0 || st.Invalid != 2 || st.Buffer.Duplicate != 1 ||
		st.Buffer.Reordered != 1 || st.Buffer.Concealed != 2 || st.PacketsReceived != 100 {
		t.Errorf("stats %+v", st)
	}
	// Outside the concealed packet the output is the A-law audio, delayed.
	dec := make([]int16, len(enc))
	g711.DecodeAlaw(dec, enc)
	d := 160 + 30 // jitter buffer and concealer
	for i := 40 * 160; i < 90*160; i++ {
		if out[i+d] != dec[i] {
			t.Fatalf("sample %d: got %d want %d", i, out[i+d], dec[i])
		}
	}
}

func digitString(evs []media.DigitEvent) string {
	var b strings.Builder
	for _, e := range evs {
		if e.Kind == media.DigitStart {
			fmt.Fprintf(&b, "+%c", e.Digit)
		} else {
			fmt.Fprintf(&b, "-%c%d ", e.Digit, e.Duration.Milliseconds())
		}
	}
	return strings.TrimSpace(b.String())
}

// TestRFC4733RoundTrip sends digits from one stream and feeds its packets
// into another.
func TestRFC4733RoundTrip(t *testing.T) {
	a, ca := testStream(t, Config{PayloadType: PCMU, EventPT: 101, Remote: sdpAddr, RTCPInterval: -1})
	b, _ := testStream(t, Config{PayloadType: PCMU, EventPT: 101, Remote: peer, RTCPInterval: -1})
	for _, d := range []byte("5#") {
		if err := a.SendDigit(d, 120*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	frame := make([]int16, 80)
	var got []media.DigitEvent
	for range 100 {
		a.WriteFrame(frame)
		for _, p := range ca.pkts {
			b.inject(p, peer, 0)
		}
		ca.pkts = ca.pkts[:0]
		b.ReadFrame(frame)
		got = b.ReadDigits(got)
	}
	if s := digitString(got); s != "+5-5120 +#-#120" {
		t.Errorf("digits %q", s)
	}
	if st := a.Stats(); st.EventsSent != 2*(6+2) {
		// 120 ms at 20 ms: 6 packets, the last with E, then 2 more E.
		t.Errorf("sent %d event packets", st.EventsSent)
	}
	noEv, _ := testStream(t, Config{PayloadType: PCMU})
	if err := noEv.SendDigit('1', 0); err != media.ErrInBand {
		t.Errorf("without telephone-event: %v", err)
	}
}

// TestEventWire checks the event packets byte by byte (RFC 4733 2.3 and
// 2.5.1): same timestamp for one event, marker on the first, E on the last
// three, audio timestamps running on underneath.
func TestEventWire(t *testing.T) {
	s, c := testStream(t, Config{PayloadType: PCMU, EventPT: 101, Remote: sdpAddr, RTCPInterval: -1})
	frame := make([]int16, 80)
	s.WriteFrame(frame)
	s.WriteFrame(frame) // one audio packet
	s.SendDigit('9', 60*time.Millisecond)
	for range 16 {
		s.WriteFrame(frame)
	}
	var ps []rtp.Packet
	for _, b := range c.pkts {
		var p rtp.Packet
		if err := p.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	audioTS := ps[0].Timestamp
	var desc []string
	for i, p := range ps {
		if p.SequenceNumber != ps[0].SequenceNumber+uint16(i) {
			t.Fatalf("sequence gap at %d", i)
		}
		if p.PayloadType == 101 {
			if p.Timestamp != audioTS+160 {
				t.Errorf("event timestamp %d, want %d", p.Timestamp, audioTS+160)
			}
			desc = append(desc, fmt.Sprintf("ev%x m%v", p.Payload, p.Marker))
		} else {
			if p.Timestamp != audioTS+uint32(i*160) {
				t.Errorf("audio packet %d timestamp %d", i, p.Timestamp)
			}
			desc = append(desc, "audio")
		}
	}
	want := "audio ev090a00a0 mtrue ev090a0140 mfalse ev098a01e0 mfalse ev098a01e0 mfalse ev098a01e0 mfalse audio audio audio"
	if got := strings.Join(desc, " "); got != want {
		t.Errorf("packets\n got %s\nwant %s", got, want)
	}
}

// TestRTCPExchange runs two streams' reports through each other by hand:
// the loss one sees is the loss the other hears of.
func TestRTCPExchange(t *testing.T) {
	a, ca := testStream(t, Config{PayloadType: PCMU, Remote: sdpAddr, RTCPInterval: time.Second})
	// b reports when the test says, so each interval is known.
	b, cb := testStream(t, Config{PayloadType: PCMU, Remote: peer, RTCPInterval: -1})
	frame := make([]int16, 80)
	sent := 0
	for tick := range 300 {
		a.WriteFrame(frame)
		b.WriteFrame(frame)
		for _, p := range ca.pkts {
			if len(p) >= 8 && p[1] >= 200 && p[1] <= 204 { // RTCP
				b.mu.Lock()
				b.report(p, peerRTCP, time.Now())
				b.mu.Unlock()
				continue
			}
			sent++
			if sent%10 == 5 { // 10 % loss from a to b
				continue
			}
			b.inject(p, peer, time.Duration(tick)*media.FrameDuration)
		}
		for _, p := range cb.pkts {
			if len(p) >= 8 && p[1] >= 200 && p[1] <= 204 {
				a.mu.Lock()
				a.report(p, sdpRTCP, time.Now())
				a.mu.Unlock()
				continue
			}
			a.inject(p, sdpAddr, time.Duration(tick)*media.FrameDuration)
		}
		ca.pkts, cb.pkts = ca.pkts[:0], cb.pkts[:0]
		a.ReadFrame(frame)
		b.ReadFrame(frame)
		if tick%150 == 149 {
			b.mu.Lock()
			b.sendRTCP(time.Now(), false)
			b.mu.Unlock()
		}
	}
	for _, p := range cb.pkts { // the final report
		a.mu.Lock()
		a.report(p, sdpRTCP, time.Now())
		a.mu.Unlock()
	}
	sa, sb := a.Stats(), b.Stats()
	// The last report went out after the last packet: both sides agree.
	if sb.Lost < 13 || sb.Lost > 15 || sa.RemoteLost != sb.Lost {
		t.Errorf("b counts %d lost, a hears of %d", sb.Lost, sa.RemoteLost)
	}
	if sa.RemoteFractionLost < 0.05 || sa.RemoteFractionLost > 0.15 {
		t.Errorf("a hears of a fraction lost of %.3f", sa.RemoteFractionLost)
	}
	if sa.RTCPReceived == 0 || sb.RTCPReceived == 0 || sa.RTTSamples == 0 || sa.RTT > 50*time.Millisecond {
		t.Errorf("rtcp a %+v", sa)
	}
	// Packets were injected on a perfect 20 ms grid: no interarrival jitter.
	if sa.Jitter != 0 || sb.Jitter != 0 {
		t.Errorf("jitter %v %v", sa.Jitter, sb.Jitter)
	}
}

// FuzzReceive injects arbitrary datagrams (RTP, RFC 4733 and RTCP paths):
// no panic, every datagram is counted once, and the state stays bounded.
func FuzzReceive(f *testing.F) {
	f.Add(pkt(f, PCMU, 1, 160, true, make([]byte, 160)), false)
	f.Add(pkt(f, 101, 2, 320, true, []byte{5, 0x8a, 3, 0x20}), false)
	f.Add([]byte{0x80, 200, 0, 6, 0xde, 0xca, 0xfb, 0xad, 0, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, true)
	f.Add([]byte{0xb0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 9}, false)
	f.Fuzz(func(t *testing.T, b []byte, isRTCP bool) {
		s, _ := testStream(t, Config{PayloadType: PCMU, EventPT: 101, Remote: peer})
		frame := make([]int16, 80)
		for i := range 3 {
			if isRTCP {
				s.mu.Lock()
				s.report(b, peerRTCP, time.Now())
				s.mu.Unlock()
			} else {
				// Vary the sequence/timestamp so repeats are not all duplicates.
				c := append([]byte(nil), b...)
				if len(c) >= 12 {
					binary.BigEndian.PutUint16(c[2:], binary.BigEndian.Uint16(c[2:])+uint16(i))
				}
				s.inject(c, peer, time.Duration(i)*media.FrameDuration)
			}
			s.ReadFrame(frame)
			s.WriteFrame(frame)
		}
		st := s.Stats()
		if isRTCP {
			if st.RTCPReceived+st.Invalid+st.Foreign != 3 {
				t.Fatalf("rtcp counted %d+%d+%d of 3", st.RTCPReceived, st.Invalid, st.Foreign)
			}
			return
		}
		if st.PacketsReceived+st.Invalid+st.Foreign != 3 {
			t.Fatalf("rtp counted %d+%d+%d of 3", st.PacketsReceived, st.Invalid, st.Foreign)
		}
		if d := st.Buffer.Delay; d < jitter.MinDelay || d > jitter.MaxDelay {
			t.Fatalf("jitter delay %d", d)
		}
		if len(s.digits) > maxDigits || cap(s.evs) > 64 {
			t.Fatalf("digit state grew: %d %d", len(s.digits), cap(s.evs))
		}
	})
}

func TestConfigChecks(t *testing.T) {
	for _, cfg := range []Config{{PayloadType: 18}, {PayloadType: PCMU, Ptime: 40}, {PayloadType: PCMA, EventPT: 13}} {
		if err := cfg.check(); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	cfg := Config{PayloadType: PCMA}
	if err := cfg.check(); err != nil || cfg.Ptime != 20 || cfg.RTCPInterval != 5*time.Second {
		t.Errorf("defaults: %+v %v", cfg, err)
	}
}

// TestHoldDirection: a sendonly/inactive stream sends no audio while its
// timestamps run on, and resumes where the clock is.
func TestHoldDirection(t *testing.T) {
	s, c := testStream(t, Config{PayloadType: PCMU, Remote: sdpAddr, RTCPInterval: -1})
	frame := make([]int16, 80)
	for range 4 {
		s.WriteFrame(frame)
	}
	s.SetDirection(false, false)
	for range 10 {
		s.WriteFrame(frame)
		s.inject(pkt(t, PCMU, 1, 160, false, make([]byte, 160)), sdpAddr, 0)
		s.ReadFrame(frame)
	}
	if len(c.pkts) != 2 || s.Stats().Buffer.Received != 0 {
		t.Fatalf("%d packets sent on hold, %d taken in", len(c.pkts), s.Stats().Buffer.Received)
	}
	s.SetDirection(true, true)
	s.WriteFrame(frame)
	s.WriteFrame(frame)
	var p0, p2 rtp.Packet
	p0.Unmarshal(c.pkts[0])
	p2.Unmarshal(c.pkts[2])
	if p2.Timestamp-p0.Timestamp != 7*160 || p2.SequenceNumber != p0.SequenceNumber+2 {
		t.Errorf("after hold: ts +%d, seq +%d", p2.Timestamp-p0.Timestamp, p2.SequenceNumber-p0.SequenceNumber)
	}
}

// TestPacketRoom: the frames the packet being filled still takes, at each
// ptime; none at ptime 10, where every frame is a packet.
func TestPacketRoom(t *testing.T) {
	for _, tc := range []struct {
		ptime int
		rooms []int // before each of the first writes
	}{
		{10, []int{0, 0, 0, 0}},
		{20, []int{2, 1, 2, 1}},
		{30, []int{3, 2, 1, 3}},
	} {
		s, c := testStream(t, Config{PayloadType: PCMU, Ptime: tc.ptime, Remote: peer, RTCPInterval: -1})
		frame := make([]int16, media.FrameSamples)
		for i, want := range tc.rooms {
			if got := s.PacketRoom(); got != want {
				t.Errorf("ptime %d, before write %d: room %d, want %d", tc.ptime, i, got, want)
			}
			s.WriteFrame(frame)
		}
		if want := len(tc.rooms) * 10 / tc.ptime; len(c.pkts) != want {
			t.Errorf("ptime %d: %d packets after %d frames, want %d", tc.ptime, len(c.pkts), len(tc.rooms), want)
		}
	}
}

// TestFixedDelayForFax: a stream switched to a fax call's fixed delay
// plays every sample exactly 60 ms after the first packet's time and a
// lost packet as silence; the adaptive path concealed it instead.
func TestFixedDelayForFax(t *testing.T) {
	sig := sine(16000, 1700)
	enc := make([]byte, len(sig))
	g711.EncodeAlaw(enc, sig)
	s, _ := testStream(t, Config{PayloadType: PCMA, Remote: peer, RTCPInterval: -1})
	s.SetFixedDelay(60 * time.Millisecond)
	frame := make([]int16, 80)
	var out []int16
	for tick := range len(sig)/80 + 6 { // the audio and the delay
		if i := tick / 2; tick%2 == 0 && i < len(sig)/160 && i != 10 {
			s.inject(pkt(t, PCMA, uint16(1000+i), uint32(5000+i*160), i == 0, enc[i*160:(i+1)*160]), peer, time.Duration(tick)*media.FrameDuration)
		}
		s.ReadFrame(frame)
		out = append(out, frame...)
	}
	st := s.Stats()
	if st.Buffer.Concealed != 0 || st.Buffer.Silenced != 2 || !st.Buffer.Fixed || st.Buffer.Delay != 480 {
		t.Errorf("buffer stats %+v", st.Buffer)
	}
	dec := make([]int16, len(enc))
	g711.DecodeAlaw(dec, enc)
	for i := range dec {
		want := dec[i]
		if i/160 == 10 {
			want = 0
		}
		if out[i+480] != want {
			t.Fatalf("sample %d: got %d want %d", i, out[i+480], want)
		}
	}
	s.SetFixedDelay(0)
	if s.Stats().Buffer.Fixed {
		t.Error("still fixed after SetFixedDelay(0)")
	}
}
