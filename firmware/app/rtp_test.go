package app

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"callbox/dsp/dtmf"
	"callbox/dsp/g711"
	"callbox/telephony/media/rtpstream"
)

// A SIP phone behind NAT (its SDP names an address it cannot be reached
// at, its RTP comes from elsewhere) is heard only when its extension has
// the nat option: then the box latches to its RTP from its signalling IP
// and sends there; without it the box drops and counts those packets.
func TestSIPPhoneBehindNAT(t *testing.T) {
	needSipp(t)
	for _, tc := range []struct {
		nat    bool
		rtpMin int
	}{{false, 25000}, {true, 25400}} {
		t.Run("nat="+strconv.FormatBool(tc.nat), func(t *testing.T) {
			t.Parallel() // each has its own daemon, ports and RTP range
			conf := testPBX()
			for i := range conf.Extensions {
				if conf.Extensions[i].Number == "301" {
					conf.Extensions[i].NAT = tc.nat
				}
			}
			a := bootTelephonyWith(t, tc.rtpMin, conf)
			tel := a.telephony()
			box := tel.sipAddr(true)
			callee := echoPhone302(t, box)
			mp := freeUDP(t) &^ 1
			caller := startSipp(t, box, freeUDP(t), "call_nat.xml", "-s", "302", "-key", "caller", "301",
				"-au", "301", "-ap", "phone-a-7kq2m", "-auth_uri", "302@"+box, "-mp", strconv.Itoa(mp))
			if err := caller.wait(); err != nil {
				t.Fatalf("caller: %v", err)
			}
			if err := callee.wait(); err != nil {
				t.Fatalf("callee: %v", err)
			}
			var st []rtpstream.Stats
			eventually(t, 3*time.Second, "both RTP streams closed", func() bool {
				st = tel.rtp.endedStats()
				return len(st) >= 2
			})
			// The caller's leg is the one whose packets sipp does not echo.
			var in *rtpstream.Stats
			for i := range st {
				if st[i].SSRC != st[i].RemoteSSRC {
					in = &st[i]
				}
			}
			if in == nil {
				t.Fatalf("no caller leg among %+v", st)
			}
			t.Logf("caller leg: %d packets in, %d foreign, %d out to %v", in.PacketsReceived, in.Foreign, in.PacketsSent, in.Remote)
			phone := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(mp))
			if tc.nat {
				if in.PacketsReceived < 60 || in.Foreign != 0 || in.Remote != phone {
					t.Errorf("with nat: %d packets in, %d foreign, sending to %v; want the phone's audio, and to send to %v",
						in.PacketsReceived, in.Foreign, in.Remote, phone)
				}
				return
			}
			if in.PacketsReceived != 0 || in.Foreign < 60 || in.Remote.Addr() != netip.MustParseAddr("198.51.100.5") {
				t.Errorf("without nat: %d packets in, %d foreign, sending to %v; want none taken and the SDP's address",
					in.PacketsReceived, in.Foreign, in.Remote)
			}
			if tot := a.TelephonyStatus().RTP; tot.Foreign < 60 {
				t.Errorf("status counts %d foreign packets", tot.Foreign)
			}
		})
	}
}

// reservedPort returns the RTP port reserved for a SIP leg, if any.
func reservedPort(tel *telephonyRun) (int, bool) {
	tel.rtp.mu.Lock()
	defer tel.rtp.mu.Unlock()
	for port := range tel.rtp.held {
		return port, true
	}
	return 0, false
}

// The RTP hijack through the daemon: analog phone 201 calls SIP phone
// 302 (sipp, echoing), and an attacker sends in-band DTMF 9 as PCMA to
// the RTP port the box reserved for the call from the moment it is
// reserved, before 302 answers. 201 never hears the 9, the attacker gets
// none of the call's packets, and 302's audio flows.
func TestRTPHijackThroughTheDaemon(t *testing.T) {
	needSipp(t)
	t.Parallel() // its own daemon, ports and RTP range
	a := bootTelephony(t, 25800)
	tel := a.telephony()
	box := tel.sipAddr(true)
	sb := a.livePorts().Sim()
	callee := echoPhone302(t, box)

	attacker, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var got atomic.Int64
	done := make(chan struct{})
	go func() { // counts what reaches the attacker
		defer close(done)
		buf := make([]byte, 1500)
		for {
			if _, _, err := attacker.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
			got.Add(1)
		}
	}()
	stop := make(chan struct{})
	sent := make(chan int)
	go func() { // the attacker: DTMF 9 at the reserved port, 50 packets/s
		n := 0
		defer func() { sent <- n }()
		cfg := dtmf.DefaultGeneratorConfig()
		cfg.On, cfg.Off = 200*time.Millisecond, 40*time.Millisecond
		tone, err := dtmf.Synthesize("9", cfg)
		if err != nil {
			t.Error(err)
			return
		}
		tone = tone[:len(tone)/160*160]
		h := rtp.Header{Version: 2, PayloadType: 8, SSRC: 0x0bad0bad}
		payload := make([]byte, 160)
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		port := 0 // once found, sprayed for good
		for pos := 0; ; pos = (pos + 160) % len(tone) {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			if port == 0 {
				if port, _ = reservedPort(tel); port == 0 {
					continue
				}
			}
			g711.EncodeAlaw(payload, tone[pos:pos+160])
			b, _ := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
			if _, err := attacker.WriteToUDPAddrPort(b, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))); err == nil {
				n++
			}
			h.SequenceNumber++
			h.Timestamp += 160
		}
	}()

	p201 := analogCalls302(t, a, sb)
	time.Sleep(2 * time.Second)
	close(stop)
	nSent := <-sent
	heard := p201.HeardDigits()
	p201.OnHook()
	if err := callee.wait(); err != nil {
		t.Fatalf("sip callee of 201: %v", err)
	}
	var st []rtpstream.Stats
	eventually(t, 3*time.Second, "the RTP stream closed", func() bool {
		st = tel.rtp.endedStats()
		return len(st) == 1
	})
	attacker.Close()
	<-done
	s := st[0]
	t.Logf("attacker sent %d, got %d; box took %d from 302, dropped %d; 201 heard digits %q", nSent, got.Load(), s.PacketsReceived, s.Foreign, heard)
	if strings.Contains(heard, "9") {
		t.Errorf("201 heard the attacker's 9 (digits %q)", heard)
	}
	if got.Load() != 0 {
		t.Errorf("the attacker got %d packets of the call", got.Load())
	}
	// (Those sent before the stream opened may be lost with the socket's
	// queue; the rest are counted.)
	if s.PacketsReceived < 20 || s.Foreign < uint64(nSent)/2 || nSent < 20 {
		t.Errorf("302's leg took %d packets and dropped %d of the attacker's %d", s.PacketsReceived, s.Foreign, nSent)
	}
}
