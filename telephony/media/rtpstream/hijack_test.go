package rtpstream

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"callbox/telephony/media"
)

// udpPeer is a party on the wire: a UDP socket that sends 20 ms PCMU
// packets of one fill byte to the box while told to (send), and counts
// the packets it gets back.
type udpPeer struct {
	conn    *net.UDPConn
	to      atomic.Pointer[netip.AddrPort]
	fill    byte
	sending atomic.Bool
	sent    atomic.Int64
	got     atomic.Int64
}

// startPeer binds ip (port 0) and runs its sender and receiver until the
// test ends.
func startPeer(t *testing.T, ip netip.Addr, fill byte) *udpPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		t.Fatal(err)
	}
	p := &udpPeer{conn: c, fill: fill}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // receiver
		defer wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
			p.got.Add(1)
		}
	}()
	go func() { // sender
		defer wg.Done()
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		h := rtp.Header{Version: 2, PayloadType: PCMU, SSRC: uint32(fill) << 24}
		payload := bytes.Repeat([]byte{fill}, 160)
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
			if !p.sending.Load() {
				continue
			}
			b, _ := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
			if _, err := c.WriteToUDPAddrPort(b, *p.to.Load()); err == nil {
				p.sent.Add(1)
			}
			h.SequenceNumber++
			h.Timestamp += 160
		}
	}()
	t.Cleanup(func() {
		cancel()
		c.Close()
		wg.Wait()
	})
	return p
}

func (p *udpPeer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// send starts sending to to.
func (p *udpPeer) send(to netip.AddrPort) {
	p.to.Store(&to)
	p.sending.Store(true)
}

// hijackCall is a box stream on loopback, bridged in a real-time engine to
// a listener that records what the box hears (and plays a tone to send).
type hijackCall struct {
	box      *Stream
	listener *leg
	e        *media.Engine
}

func startCall(t *testing.T, ports *Ports, cfg Config) *hijackCall {
	t.Helper()
	cfg.PayloadType, cfg.RTCPInterval = PCMU, -1
	box, err := Open(ports, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &hijackCall{box: box, listener: &leg{src: sine(8*8000, 700)}, e: media.NewEngine(media.Config{})}
	cb, _ := h.e.NewChannel("box", box, media.ChannelOptions{})
	cl, _ := h.e.NewChannel("listener", h.listener, media.ChannelOptions{})
	if _, err := h.e.Bridge(cb, cl); err != nil {
		t.Fatal(err)
	}
	if err := h.e.Start(context.Background(), &media.Ticker{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.e.Close()
		h.e.Remove(cb)
		box.Close()
	})
	return h
}

// end stops the clock and returns the box's figures and whether the
// listener heard each fill's audio.
func (h *hijackCall) end(t *testing.T, fills ...byte) (Stats, []bool) {
	t.Helper()
	if err := h.e.Close(); err != nil {
		t.Fatal(err)
	}
	heard := make([]bool, len(fills))
	for i, f := range fills {
		v := decoded(f)
		for _, x := range h.listener.sent {
			if x == v {
				heard[i] = true
				break
			}
		}
	}
	return h.box.Stats(), heard
}

// The RTP hijack over real sockets, in its two forms: an attacker who
// sends to the call's port before the phone does, and one who sends while
// the phone is silent for more than 2 s. The box hears only the phone and
// sends only to it; the attacker gets not one packet. Then the same with
// NAT allowed: the phone's packets come from another port than its SDP
// names (on 127.0.0.1, its signalling IP), the attacker's from 127.0.0.2.
func TestHijackRefusedOnTheWire(t *testing.T) {
	if testing.Short() {
		t.Skip("opens UDP sockets")
	}
	ports, err := NewPorts(loopback, 32400, 32499)
	if err != nil {
		t.Fatal(err)
	}
	// The attack's two forms, as the attacker and the phone act in time.
	attackerFirst := func(phone, attacker *udpPeer, box netip.AddrPort) {
		attacker.send(box)
		time.Sleep(300 * time.Millisecond)
		phone.send(box)
		time.Sleep(time.Second)
	}
	afterSilence := func(phone, attacker *udpPeer, box netip.AddrPort) {
		phone.send(box)
		time.Sleep(500 * time.Millisecond)
		phone.sending.Store(false)
		time.Sleep(2500 * time.Millisecond)
		attacker.send(box)
		time.Sleep(700 * time.Millisecond)
		phone.send(box)
		time.Sleep(500 * time.Millisecond)
	}
	for _, tc := range []struct {
		name     string
		attack   func(phone, attacker *udpPeer, box netip.AddrPort)
		attacker netip.Addr
		// nat: the phone's SDP names an address nobody reaches, and NAT is
		// allowed from its signalling IP (127.0.0.1).
		nat bool
	}{
		{"attacker first", attackerFirst, loopback, false},
		{"attacker after 2.5 s of silence", afterSilence, loopback, false},
		{"NAT, attacker first from another IP", attackerFirst, netip.MustParseAddr("127.0.0.2"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			phone := startPeer(t, loopback, phoneFill)
			cfg := Config{Remote: phone.addr()}
			if tc.nat {
				cfg = Config{Remote: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.3"), 9), NAT: loopback}
			}
			h := startCall(t, ports, cfg)
			attacker := startPeer(t, tc.attacker, attackerFill)
			tc.attack(phone, attacker, h.box.Stats().Local)
			// Both stop; the box's clock takes what is in flight.
			phone.sending.Store(false)
			attacker.sending.Store(false)
			time.Sleep(200 * time.Millisecond)
			st, heard := h.end(t, phoneFill, attackerFill)
			t.Logf("phone sent %d got %d; attacker sent %d got %d; box took %d, dropped %d as foreign, sends to %v",
				phone.sent.Load(), phone.got.Load(), attacker.sent.Load(), attacker.got.Load(), st.PacketsReceived, st.Foreign, st.Remote)
			if !heard[0] || heard[1] {
				t.Errorf("the box heard the phone: %v, the attacker: %v", heard[0], heard[1])
			}
			if n := attacker.got.Load(); n != 0 {
				t.Errorf("the attacker got %d packets of the call", n)
			}
			// Every packet the box sent reached the phone (with NAT, those
			// after the latch: the first went to the SDP's address).
			if n := uint64(phone.got.Load()); n == 0 || (!tc.nat && n < st.PacketsSent*9/10) {
				t.Errorf("the phone got %d of the box's %d packets", n, st.PacketsSent)
			}
			if st.Foreign < uint64(attacker.sent.Load())*9/10 {
				t.Errorf("%d foreign packets counted of the attacker's %d", st.Foreign, attacker.sent.Load())
			}
			if tc.nat && st.Remote != phone.addr() {
				t.Errorf("sending to %v, want the phone's NAT mapping %v", st.Remote, phone.addr())
			}
		})
	}
}
