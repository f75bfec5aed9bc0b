package rtpstream

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"callbox/dsp/g711"
	"callbox/dsp/wav/wavtest"
	"callbox/telephony/media"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// leg is a media endpoint playing src and recording what it hears.
type leg struct {
	src  []int16
	pos  int
	sent []int16
}

func (l *leg) ReadFrame(f []int16) {
	for i := range f {
		f[i] = 0
		if l.pos < len(l.src) {
			f[i] = l.src[l.pos]
		}
		l.pos++
	}
}

func (l *leg) WriteFrame(f []int16) { l.sent = append(l.sent, f...) }

// soxSpeech returns an Asterisk prompt as 8 kHz samples, converted by sox:
// an independent source of real speech.
func soxSpeech(t *testing.T, name string) []int16 {
	t.Helper()
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Fatal("sox is missing: apt-get install sox")
	}
	path := wavtest.Prompt(t, name)
	var out, stderr bytes.Buffer
	cmd := exec.Command(sox, path, "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1", "-L", "-")
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sox %s: %v: %s", path, err, stderr.String())
	}
	b := out.Bytes()
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

// bestLag returns the lag of b behind a (0..maxLag) with the highest
// normalised correlation over a's first n samples, and that correlation.
func bestLag(a, b []int16, n, maxLag int) (int, float64) {
	best, bestC := -1, -2.0
	for lag := 0; lag <= maxLag && lag+n <= len(b); lag++ {
		var ab, aa, bb float64
		for i := range n {
			x, y := float64(a[i]), float64(b[i+lag])
			ab += x * y
			aa += x * x
			bb += y * y
		}
		if c := ab / math.Sqrt(aa*bb+1e-9); c > bestC {
			best, bestC = lag, c
		}
	}
	return best, bestC
}

// TestLoopbackCall runs a real call over UDP on 127.0.0.1, paced by the
// real-time clock: speech (an Asterisk prompt through sox) goes from one
// side to the other, tones back, digits as RFC 4733, RTCP both ways, and the
// answering side learns where to send from the packets (symmetric RTP).
func TestLoopbackCall(t *testing.T) {
	if testing.Short() {
		t.Skip("opens UDP sockets")
	}
	speech := soxSpeech(t, "hello-world.wav")
	ports, err := NewPorts(loopback, 31000, 31998)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(ports, Config{PayloadType: PCMA, EventPT: 101, RTCPInterval: 300 * time.Millisecond, CNAME: "b"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(ports, Config{PayloadType: PCMA, EventPT: 101, RTCPInterval: 300 * time.Millisecond, CNAME: "a",
		Remote: netip.AddrPortFrom(loopback, uint16(b.LocalPort()))})
	if err != nil {
		t.Fatal(err)
	}
	if a.LocalPort()%2 != 0 || a.LocalPort() == b.LocalPort() || ports.InUse() != 2 {
		t.Fatalf("ports %d and %d, %d in use", a.LocalPort(), b.LocalPort(), ports.InUse())
	}
	e := media.NewEngine(media.Config{})
	talker := &leg{src: speech}
	listener := &leg{src: sine(3*8000, 1000)}
	ct, _ := e.NewChannel("talker", talker, media.ChannelOptions{})
	ca, _ := e.NewChannel("rtp-a", a, media.ChannelOptions{})
	cb, _ := e.NewChannel("rtp-b", b, media.ChannelOptions{})
	cl, _ := e.NewChannel("listener", listener, media.ChannelOptions{})
	e.Bridge(ct, ca)
	e.Bridge(cb, cl)
	clk := &media.Ticker{}
	if err := e.Start(context.Background(), clk); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := e.SendDigits(ca, "159#", 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e.Remove(ca)
	e.Remove(cb)
	sa := a.Stats()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// a's BYE reaches b.
	for i := 0; i < 100 && !b.Stats().ByeSeen; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	sb := b.Stats()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if !sb.ByeSeen {
		t.Error("b saw no RTCP BYE from a")
	}
	if ports.InUse() != 0 {
		t.Errorf("%d port pairs still in use after close", ports.InUse())
	}
	t.Logf("a: sent %d rcvd %d rtcp %d/%d lost %d jitter %v rtt %v (%d) buffer %+v", sa.PacketsSent, sa.PacketsReceived,
		sa.RTCPSent, sa.RTCPReceived, sa.Lost, sa.Jitter, sa.RTT, sa.RTTSamples, sa.Buffer)
	t.Logf("b: sent %d rcvd %d rtcp %d/%d lost %d jitter %v buffer %+v; late ticks %d", sb.PacketsSent, sb.PacketsReceived,
		sb.RTCPSent, sb.RTCPReceived, sb.Lost, sb.Jitter, sb.Buffer, clk.Late())

	// b had no address: it latched on a's packets, and a on b's.
	if sb.Remote != netip.AddrPortFrom(loopback, uint16(a.LocalPort())) || sa.Remote != netip.AddrPortFrom(loopback, uint16(b.LocalPort())) {
		t.Errorf("remotes: a sends to %v, b to %v", sa.Remote, sb.Remote)
	}
	if sa.PacketsSent < 80 || sb.PacketsReceived < 80 || sa.PacketsReceived < 80 {
		t.Errorf("packets a->b %d/%d, b->a %d", sa.PacketsSent, sb.PacketsReceived, sa.PacketsReceived)
	}
	if sa.RTCPReceived == 0 || sb.RTCPReceived == 0 || sa.RTTSamples == 0 || sa.RTT > 100*time.Millisecond {
		t.Errorf("rtcp: a got %d, b got %d, rtt %v", sa.RTCPReceived, sb.RTCPReceived, sa.RTT)
	}
	// The speech arrived: the A-law round trip of the prompt, delayed.
	ref := make([]int16, len(speech))
	enc := make([]byte, len(speech))
	g711.EncodeAlaw(enc, speech)
	g711.DecodeAlaw(ref, enc)
	n := min(len(ref), 8000)
	lag, c := bestLag(ref, listener.sent, n, 8000)
	t.Logf("speech at the far end: lag %d samples (%.1f ms), correlation %.4f", lag, float64(lag)/8, c)
	if c < 0.95 {
		t.Errorf("speech correlation %.3f at lag %d", c, lag)
	}
	// The tone came back the other way.
	if _, c := bestLag(sine(4000, 1000), talker.sent[8000:], 800, 400); c < 0.9 {
		t.Errorf("return tone correlation %.3f", c)
	}
	// The digits arrived as RFC 4733 events.
	var got strings.Builder
	for {
		select {
		case ev := <-e.Events():
			if ev.Channel == cb && ev.Kind == media.DigitStart && ev.OutOfBand {
				got.WriteByte(ev.Digit)
			}
			continue
		default:
		}
		break
	}
	if got.String() != "159#" {
		t.Errorf("digits at b: %q", got.String())
	}
}

// TestPortsExhaust checks the even-port range and its release.
func TestPortsExhaust(t *testing.T) {
	if testing.Short() {
		t.Skip("opens UDP sockets")
	}
	if _, err := NewPorts(loopback, 10, 5); err == nil {
		t.Error("inverted range accepted")
	}
	ports, err := NewPorts(loopback, 32001, 32006) // rounds to 32002..32006
	if err != nil {
		t.Fatal(err)
	}
	var ss []*Stream
	for {
		s, err := Open(ports, Config{PayloadType: PCMU})
		if err != nil {
			if err != ErrNoPorts {
				t.Fatal(err)
			}
			break
		}
		if s.LocalPort()%2 != 0 || s.LocalPort() < 32002 || s.LocalPort() > 32006 {
			t.Errorf("port %d", s.LocalPort())
		}
		ss = append(ss, s)
	}
	if len(ss) == 0 || len(ss) > 3 {
		t.Fatalf("%d streams from 3 pairs", len(ss))
	}
	ss[0].Close()
	if err := ss[0].Close(); err != ErrClosed {
		t.Errorf("second close: %v", err)
	}
	s, err := Open(ports, Config{PayloadType: PCMU})
	if err != nil {
		t.Fatalf("no port after a release: %v", err)
	}
	s.Close()
	for _, s := range ss[1:] {
		s.Close()
	}
	if ports.InUse() != 0 {
		t.Errorf("%d in use", ports.InUse())
	}
}

// TestSenderNoAlloc: the non-blocking send path allocates nothing and
// reports what it cannot send instead of waiting.
func TestSenderNoAlloc(t *testing.T) {
	if testing.Short() {
		t.Skip("opens UDP sockets")
	}
	ports, err := NewPorts(loopback, 32100, 32198)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := Open(ports, Config{PayloadType: PCMU})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	s, err := Open(ports, Config{PayloadType: PCMU, RTCPInterval: -1,
		Remote: netip.AddrPortFrom(loopback, uint16(sink.LocalPort()))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	frame := make([]int16, 80)
	if n := testing.AllocsPerRun(200, func() { s.WriteFrame(frame) }); n != 0 {
		t.Errorf("%.1f allocations per frame sent", n)
	}
	if st := s.Stats(); st.PacketsSent < 100 || st.SendDrops != 0 {
		t.Errorf("sent %d, drops %d", st.PacketsSent, st.SendDrops)
	}
	// An IPv6 destination on an IPv4 socket cannot be sent to: counted.
	s.SetRemote(netip.MustParseAddrPort("[::1]:9"), netip.AddrPort{})
	s.WriteFrame(frame)
	s.WriteFrame(frame)
	if st := s.Stats(); st.SendDrops != 1 {
		t.Errorf("drops %d", st.SendDrops)
	}
}
