package rtpstream

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"net"
	"net/netip"
	"os/exec"
	"slices"
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
// side to the other, tones back, digits as RFC 4733, RTCP both ways; each
// side knows the other's address as SDP would give it.
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
	b.SetRemote(netip.AddrPortFrom(loopback, uint16(a.LocalPort())), netip.AddrPort{})
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
	// Count the call's length in packets, not in wall time: a loaded
	// machine gives the clock fewer ticks a second.
	sent := func(n uint64) {
		for deadline := time.Now().Add(20 * time.Second); a.Stats().PacketsSent < n && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}
	sent(50)
	if err := e.SendDigits(ca, "159#", 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	sent(100)
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

	if sb.Foreign+sa.Foreign != 0 {
		t.Errorf("foreign packets: a %d, b %d", sa.Foreign, sb.Foreign)
	}
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
	// On a loaded machine late ticks make the jitter buffer grow (the lag
	// moves) and conceal a few frames: judge the speech by 125 ms windows,
	// each at its own lag from the first, and by their median.
	const win = 1000
	var cs []float64
	for w := 0; w+win <= n; w += win {
		_, cw := bestLag(ref[w:], listener.sent[w+max(lag-800, 0):], win, 1600)
		cs = append(cs, cw)
	}
	slices.Sort(cs)
	if med := cs[len(cs)/2]; med < 0.95 {
		t.Errorf("speech correlation by window %.3f (median %.3f; over the first second %.3f at lag %d)", cs, med, c, lag)
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

// TestPortsExhaust checks the range of pairs, their release, and the
// error once every pair is in use.
func TestPortsExhaust(t *testing.T) {
	if testing.Short() {
		t.Skip("opens UDP sockets")
	}
	if _, err := NewPorts(loopback, 10, 5); err == nil {
		t.Error("inverted range accepted")
	}
	if _, err := NewPorts(loopback, 40000, 40000); err == nil {
		t.Error("a range without an RTP/RTCP pair accepted")
	}
	ports, err := NewPorts(loopback, 32001, 32007) // pairs 32002, 32004, 32006
	if err != nil {
		t.Fatal(err)
	}
	var ss []*Stream
	for {
		s, err := Open(ports, Config{PayloadType: PCMU})
		if err != nil {
			if !errors.Is(err, ErrNoPorts) || !strings.Contains(err.Error(), "all 3 pairs of 32002-32007") {
				t.Fatalf("exhausted range: %v", err)
			}
			break
		}
		if s.LocalPort()%2 != 0 || s.LocalPort() < 32002 || s.LocalPort() > 32006 {
			t.Errorf("port %d", s.LocalPort())
		}
		ss = append(ss, s)
	}
	if len(ss) != 3 {
		t.Fatalf("%d streams from 3 pairs", len(ss))
	}
	ss[0].Close()
	if err := ss[0].Close(); err != ErrClosed {
		t.Errorf("second close: %v", err)
	}
	s, err := Open(ports, Config{PayloadType: PCMU})
	if err != nil || s.LocalPort() != ss[0].LocalPort() {
		t.Fatalf("after a release: %v (port %d, freed %d)", err, s.LocalPort(), ss[0].LocalPort())
	}
	s.Close()
	for _, s := range ss[1:] {
		s.Close()
	}
	if ports.InUse() != 0 {
		t.Errorf("%d in use", ports.InUse())
	}
}

// TestPortsRandom: the pairs of successive calls are spread over the range
// at random, not a step apart, and none is handed out twice while held.
func TestPortsRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("opens UDP sockets")
	}
	const lo, hi, calls = 34000, 35999, 100 // 1000 pairs
	ports, err := NewPorts(loopback, lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	seen := map[int]bool{}
	for range calls {
		r, err := ports.Reserve()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Release()
		p := r.Port()
		if p%2 != 0 || p < lo || p+1 > hi || seen[p] {
			t.Fatalf("port %d (even, in %d-%d, not held already)", p, lo, hi)
		}
		seen[p] = true
		got = append(got, p)
	}
	// Sequential allocation steps by 2 (or by a constant); random picks
	// land a small step after the previous one about 1 time in 250.
	small, low := 0, 0
	for i, p := range got {
		if i > 0 && p-got[i-1] > 0 && p-got[i-1] <= 8 {
			small++
		}
		if p < (lo+hi)/2 {
			low++
		}
	}
	if small > 5 || low < 25 || low > 75 || slices.IsSorted(got) {
		t.Errorf("ports look sequential: %d small steps up, %d of %d in the lower half: %v", small, low, calls, got)
	}
	if ports.InUse() != calls {
		t.Errorf("%d in use", ports.InUse())
	}
}

// TestPortsBindFailure: a pair another program holds part of is skipped
// at once, and a range with none left says why.
func TestPortsBindFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("opens UDP sockets")
	}
	other, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 32205)))
	if err != nil {
		t.Skip("port 32205 is taken on this machine")
	}
	defer other.Close()
	ports, err := NewPorts(loopback, 32200, 32205) // pairs 32200, 32202, 32204 (held)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ports.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	b, err := ports.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	if a.Port() == 32204 || b.Port() == 32204 || a.Port() == b.Port() {
		t.Fatalf("reserved %d and %d", a.Port(), b.Port())
	}
	_, err = ports.Reserve()
	if !errors.Is(err, ErrNoPorts) || !strings.Contains(err.Error(), "1 could not be bound") {
		t.Fatalf("a range left with a pair another program holds: %v", err)
	}
	// A stream takes a reservation over: releasing it then is a no-op,
	// and the pair comes back when the stream closes.
	s, err := OpenPair(b, Config{PayloadType: PCMU})
	if err != nil {
		t.Fatal(err)
	}
	b.Release()
	if ports.InUse() != 2 {
		t.Fatalf("%d in use with a stream on a released reservation", ports.InUse())
	}
	if _, err := OpenPair(b, Config{PayloadType: PCMU}); err == nil {
		t.Fatal("a second stream opened on one pair")
	}
	s.Close()
	a.Release()
	if ports.InUse() != 0 {
		t.Fatalf("%d in use after close and release", ports.InUse())
	}
	if _, err := OpenPair(a, Config{PayloadType: PCMU}); err == nil {
		t.Fatal("a stream opened on a released pair")
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
