package rtpstream

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"callbox/telephony/media"
)

// BenchmarkTickCalls is one media tick of N bridged RTP<->RTP calls on
// real loopback sockets (issue 16's 500 and 800): every leg drains its
// ring into the jitter buffer, decodes, is bridged, encodes and sends its
// 20 ms packet with one sendto every other tick, on the engine's workers.
// The incoming packets are put in the legs' rings directly (what the
// reader goroutines would do), so ns/tick is the clock's own work and
// allocs/op must stay 0; cpu-ns/tick (the process's CPU time, all threads,
// kernel included) is the figure to compare on a loaded machine and %core
// the share of one core's 10 ms it is. Run it A/B with
//
//	go test -run '^$' -bench TickCalls -benchtime 400x -count 6 ./telephony/media/rtpstream/
func BenchmarkTickCalls(b *testing.B) {
	for _, calls := range []int{500, 800} {
		b.Run(fmt.Sprint(calls), func(b *testing.B) { tickCalls(b, calls) })
	}
}

func tickCalls(b *testing.B, calls int) {
	ports, err := NewPorts(loopback, 20000, 29998)
	if err != nil {
		b.Fatal(err)
	}
	// The far ends: one socket nobody reads, so that the box's sends cost
	// what they cost without a reader's CPU in the figure.
	sink, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	far := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	e := media.NewEngine(media.Config{})
	defer e.Close()
	streams := make([]*Stream, 0, 2*calls)
	defer func() {
		for _, s := range streams {
			s.Close()
		}
	}()
	for range calls {
		var ch [2]*media.Channel
		for j := range ch {
			s, err := Open(ports, Config{PayloadType: PCMU, RTCPInterval: -1, Remote: far})
			if err != nil {
				b.Fatal(err)
			}
			streams = append(streams, s)
			ch[j], _ = e.NewChannel("leg", s, media.ChannelOptions{})
		}
		if _, err := e.Bridge(ch[0], ch[1]); err != nil {
			b.Fatal(err)
		}
	}
	p := newPacket(7, 0x55)
	tick := func(i int) {
		if i%2 == 0 {
			seq := uint16(i / 2)
			at := time.Duration(i) * media.FrameDuration
			p.set(seq, uint32(seq)*160)
			for _, s := range streams {
				s.inject(p[:], far, at)
			}
		}
		e.Tick()
	}
	for i := range 20 { // the jitter buffers fill, the workers start
		tick(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := range b.N {
		tick(20 + i)
	}
	cpu := processCPU() - cpu0
	b.StopTimer()
	// On a loaded machine wall time waits for the cores; the CPU time the
	// process spent (every thread: the workers and the kernel's sendto)
	// is the work a tick costs.
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/tick")
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/tick")
	b.ReportMetric(float64(cpu)/float64(b.N)/float64(media.FrameDuration.Nanoseconds())*100, "%core")
	var sent, drops uint64
	for _, s := range streams {
		st := s.Stats()
		sent += st.PacketsSent
		drops += st.SendDrops
	}
	if sent == 0 || drops > 0 {
		b.Errorf("%d packets sent, %d send drops", sent, drops)
	}
}
