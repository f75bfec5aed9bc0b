package rtpstream

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"

	"callbox/dsp/g711"
	"callbox/dsp/plc"
	"callbox/telephony/media"
	"callbox/telephony/media/jitter"
)

// bridged builds an RTP<->RTP call: two streams bridged in one engine.
func bridged(t testing.TB, wa, wb writer) (*media.Engine, *Stream, *Stream) {
	t.Helper()
	a, _ := testStream(t, Config{PayloadType: PCMU, EventPT: 101, Remote: peer, RTCPInterval: -1})
	b, _ := testStream(t, Config{PayloadType: PCMU, EventPT: 101, Remote: sdpAddr, RTCPInterval: -1})
	a.out, b.out = wa, wb
	e := media.NewEngine(media.Config{})
	ca, _ := e.NewChannel("a", a, media.ChannelOptions{})
	cb, _ := e.NewChannel("b", b, media.ChannelOptions{})
	if _, err := e.Bridge(ca, cb); err != nil {
		t.Fatal(err)
	}
	return e, a, b
}

// rtpPacket is a reusable 20 ms PCMU packet whose header fields are
// rewritten in place.
type rtpPacket [12 + 160]byte

func newPacket(ssrc uint32, fill byte) *rtpPacket {
	var p rtpPacket
	p[0], p[1] = 0x80, PCMU
	binary.BigEndian.PutUint32(p[8:], ssrc)
	for i := 12; i < len(p); i++ {
		p[i] = fill
	}
	return &p
}

func (p *rtpPacket) set(seq uint16, ts uint32) []byte {
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	return p[:]
}

// TestAddedLatency measures what the engine adds between an RTP packet in
// and the RTP packet carrying its audio out, beyond the jitter buffer's
// depth, for both phases of the incoming 20 ms packets against the
// outgoing ones. The outgoing packet does not wait a tick for its second
// frame (the incoming stream hands it over a tick early, since its packet
// brought it), so nothing is added; once a packet has been lost the
// concealer's 3.75 ms (G.711 Appendix I) is.
func TestAddedLatency(t *testing.T) {
	silence := g711.EncodeUlawSample(0)
	for _, loss := range []bool{false, true} {
		for phase := range 2 {
			wb := &capture{}
			e, a, _ := bridged(t, &discard{}, wb)
			in := newPacket(1, silence)
			click := newPacket(1, silence)
			click[12] = g711.EncodeUlawSample(20000) // an impulse on the packet's first sample
			const clickAt, lostAt = 20, 8
			inTick, outTick, offset := -1, -1, -1
			for tick := range 60 {
				if seq := uint16(tick / 2); tick%2 == phase && !(loss && seq == lostAt) {
					p := in
					if tick/2 == clickAt {
						p, inTick = click, tick
					}
					a.inject(p.set(seq, uint32(seq)*160), peer, time.Duration(tick)*media.FrameDuration)
				}
				before := len(wb.pkts)
				e.Tick()
				for _, b := range wb.pkts[before:] {
					var p rtp.Packet
					if err := p.Unmarshal(b); err != nil {
						t.Fatal(err)
					}
					for i, c := range p.Payload {
						if outTick < 0 && g711.DecodeUlawSample(c) > 10000 {
							outTick, offset = tick, i
						}
					}
				}
			}
			if outTick < 0 {
				t.Fatal("impulse never came out")
			}
			depth := a.Stats().Buffer.Delay
			packetWait := (outTick-inTick)*media.FrameSamples - depth
			added := float64(packetWait+offset) / 8 // ms of audio delay beyond the buffer
			t.Logf("loss %v, phase %d: in at tick %d, out at tick %d (sample %d of the packet); buffer %d ms; added %.2f ms",
				loss, phase, inTick, outTick, offset, depth/8, added)
			plcDelay := 0
			if loss {
				plcDelay = plc.Delay
			}
			if offset%media.FrameSamples != plcDelay || packetWait+offset != plcDelay {
				t.Errorf("loss %v, phase %d: offset %d, wait %d samples", loss, phase, offset, packetWait)
			}
		}
	}
}

// BenchmarkBridgedCall is one bridged G.711 call RTP<->RTP without the
// sockets: packets in, jitter buffers, frames, the bridge, packetising and
// the hand-off to the socket, both directions, per 10 ms tick.
func BenchmarkBridgedCall(b *testing.B) {
	e, sa, sb := bridged(b, &discard{}, &discard{})
	pa, pb := newPacket(1, 0x55), newPacket(2, 0xd5)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			seq := uint16(i / 2)
			at := time.Duration(i) * media.FrameDuration
			sa.inject(pa.set(seq, uint32(seq)*160), peer, at)
			sb.inject(pb.set(seq, uint32(seq)*160), sdpAddr, at)
		}
		e.Tick()
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/frame")
	b.ReportMetric(float64(media.FrameDuration.Nanoseconds())/ns, "calls/core")
}

// BenchmarkCapacity runs calls bridged RTP<->RTP calls over loopback UDP
// in real time (the Ticker clock, a peer goroutine sending every stream a
// 20 ms packet on time) for one second per iteration, and reports the
// process's CPU time per call: all threads, so the peer's own sending is
// charged to the box too, which makes calls/core an underestimate.
func BenchmarkCapacity(b *testing.B) {
	for _, calls := range []int{100, 300, 500} {
		b.Run(fmt.Sprint(calls), func(b *testing.B) { capacity(b, calls) })
	}
}

func capacity(b *testing.B, calls int) {
	ports, err := NewPorts(loopback, 34000, 36998)
	if err != nil {
		b.Fatal(err)
	}
	peerConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		b.Fatal(err)
	}
	defer peerConn.Close()
	peerConn.SetReadBuffer(4 << 20)
	e := media.NewEngine(media.Config{})
	var streams []*Stream
	var dests []netip.AddrPort
	mem0 := inUse()
	for range calls {
		var ch [2]*media.Channel
		for j := range ch {
			// Every far end is the one peer socket, as its SDP would say.
			s, err := Open(ports, Config{PayloadType: PCMU, RTCPInterval: time.Second, Remote: peerConn.LocalAddr().(*net.UDPAddr).AddrPort()})
			if err != nil {
				b.Fatal(err)
			}
			streams = append(streams, s)
			dests = append(dests, netip.AddrPortFrom(loopback, uint16(s.LocalPort())))
			ch[j], _ = e.NewChannel("leg", s, media.ChannelOptions{})
		}
		e.Bridge(ch[0], ch[1])
	}
	perCall := float64(inUse()-mem0) / float64(calls)
	go func() { // drain what the box sends
		buf := make([]byte, 1500)
		for {
			if _, _, err := peerConn.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	peerDone := make(chan struct{})
	go func() { // the peers: every stream gets a packet every 20 ms
		defer close(peerDone)
		p := newPacket(7, 0x55)
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for seq := uint16(0); ; seq++ {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
			for _, d := range dests {
				peerConn.WriteToUDPAddrPort(p.set(seq, uint32(seq)*160), d)
			}
		}
	}()
	clk := &media.Ticker{}
	if err := e.Start(ctx, clk); err != nil {
		b.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // past the start-up (first packets and reports)
	b.ResetTimer()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	ticks0 := e.Stats().Ticks
	cpu0, t0 := processCPU(), time.Now()
	time.Sleep(time.Duration(b.N) * time.Second)
	cpu, wall := processCPU()-cpu0, time.Since(t0)
	runtime.ReadMemStats(&m1)
	ticks := e.Stats().Ticks - ticks0
	b.StopTimer()
	cancel()
	e.Close()
	<-peerDone
	var rcvd, drops uint64
	for _, s := range streams {
		st := s.Stats()
		rcvd += st.PacketsReceived
		drops += st.RingDrops + st.Buffer.Late
		s.Close()
	}
	load := float64(cpu) / float64(wall) // cores busy
	b.ReportMetric(load*100, "%cpu")
	b.ReportMetric(perCall, "bytes/call")
	// Everything in the process, the peer goroutine and timers included.
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(ticks), "mallocs/tick")
	b.ReportMetric(float64(calls)/load, "calls/core")
	est := e.Stats()
	b.ReportMetric(float64(est.MaxTick.Microseconds()), "max-tick-us")
	b.ReportMetric(float64(est.TickTime.Microseconds())/float64(est.Ticks), "mean-tick-us")
	b.ReportMetric(float64(clk.Late()), "late-ticks")
	b.ReportMetric(float64(drops), "drops+late")
	if rcvd == 0 {
		b.Error("nothing received")
	}
}

// BenchmarkStreamReceive is the receive side alone: header parse, RTCP
// statistics, jitter buffer and concealment, per 10 ms frame.
func BenchmarkStreamReceive(b *testing.B) {
	s, _ := testStream(b, Config{PayloadType: PCMU, Remote: peer, RTCPInterval: -1})
	p := newPacket(1, 0x55)
	frame := make([]int16, jitter.Frame)
	b.ReportAllocs()
	for i := range b.N {
		if i%2 == 0 {
			seq := uint16(i / 2)
			s.inject(p.set(seq, uint32(seq)*160), peer, time.Duration(i)*media.FrameDuration)
		}
		s.ReadFrame(frame)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}

// processCPU returns the process's user and system CPU time in ns.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkCallSetup adds a bridged RTP<->RTP call (two streams without
// their sockets, two channels, the bridge) to a running engine and removes
// it: B/op is the memory a call holds, the kernel's socket buffers aside.
func BenchmarkCallSetup(b *testing.B) {
	e := media.NewEngine(media.Config{})
	b.ReportAllocs()
	for range b.N {
		sa, _ := testStream(b, Config{PayloadType: PCMU, EventPT: 101, Remote: peer})
		sb, _ := testStream(b, Config{PayloadType: PCMU, EventPT: 101, Remote: sdpAddr})
		ca, _ := e.NewChannel("a", sa, media.ChannelOptions{})
		cb, _ := e.NewChannel("b", sb, media.ChannelOptions{})
		e.Bridge(ca, cb)
		e.Remove(ca)
		e.Remove(cb)
	}
}

// inUse returns the heap and goroutine stack memory in use after a GC.
func inUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}
