package sip

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// udpPeer is a bare UDP socket for feeding raw datagrams to the box.
type udpPeer struct {
	conn *net.UDPConn
	box  *net.UDPAddr
}

func newUDPPeer(t testing.TB, box netip.AddrPort) *udpPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &udpPeer{conn: c, box: net.UDPAddrFromAddrPort(box)}
}

var pingSeq int

// exchange sends data, then an OPTIONS ping, and collects what comes back
// until the ping's 200 arrives. The box reads datagrams in order, so a
// stateless 400 to data comes before the 200; other replies may come
// later and are then seen by the next exchange. It fails when the box no
// longer answers the ping.
func (p *udpPeer) exchange(data []byte) ([][]byte, error) {
	if data != nil {
		p.conn.WriteToUDP(data, p.box)
	}
	pingSeq++
	id := fmt.Sprintf("ping-%d", pingSeq)
	ping := fmt.Sprintf("OPTIONS sip:box@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%s\r\n"+
		"From: <sip:t@127.0.0.1>;tag=p\r\nTo: <sip:box@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\n"+
		"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", p.box, p.conn.LocalAddr(), id, id)
	p.conn.WriteToUDP([]byte(ping), p.box)
	var got [][]byte
	buf := make([]byte, 65535)
	p.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		n, _, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			return got, fmt.Errorf("no 200 to OPTIONS %s: %w", id, err)
		}
		r := bytes.Clone(buf[:n])
		if bytes.HasPrefix(r, []byte("SIP/2.0 200")) && bytes.Contains(r, []byte(id)) {
			return got, nil
		}
		got = append(got, r)
	}
}

// request sends data and returns the first final response carrying callID.
func (p *udpPeer) request(data []byte, callID string) ([]byte, error) {
	p.conn.WriteToUDP(data, p.box)
	buf := make([]byte, 65535)
	p.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		n, _, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			return nil, err
		}
		r := buf[:n]
		if bytes.Contains(r, []byte(callID)) && !bytes.HasPrefix(r, []byte("SIP/2.0 1")) {
			return bytes.Clone(r), nil
		}
	}
}

// checkReplies asserts every datagram the box sent back is a SIP response.
func checkReplies(replies [][]byte) error {
	for _, r := range replies {
		msg, err := sipmsg.NewParser().ParseSIP(r)
		if err != nil {
			return fmt.Errorf("box sent an unparsable reply %q: %w", r, err)
		}
		res, ok := msg.(*sipmsg.Response)
		if !ok || res.StatusCode < 100 || res.StatusCode > 699 {
			return fmt.Errorf("box sent %q", r)
		}
	}
	return nil
}

// unanswerable are the unparsable RFC 4475 requests that get no 400, and why.
var unanswerable = map[string]string{
	"badinv01": "its only Via is malformed, so the sender could not match a reply",
	"test":     "it has no Via at all",
}

// TestTorture feeds the RFC 4475 torture messages to a running box over
// UDP: it must keep serving, answer only with well-formed responses, answer
// unparsable requests with 400 when they have a Via, and register nothing.
func TestTorture(t *testing.T) {
	if testing.Short() {
		t.Skip("opens sockets")
	}
	// The torture test is about parsing: lift the strangers' message rate.
	box := startBox(t, Config{AuthenticateCalls: true, Limits: Limits{Rate: -1}}, directory{"user": "pw", "j.user": "pw"}, answering)
	peer := newUDPPeer(t, box.UDPAddr())
	files, _ := filepath.Glob("testdata/rfc4475/*/*.dat")
	if len(files) < 40 {
		t.Fatalf("only %d torture messages", len(files))
	}
	parser := sipmsg.NewParser()
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".dat")
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		replies, alive := peer.exchange(data)
		if alive != nil {
			t.Fatalf("after %s: %v", name, alive)
		}
		if err := checkReplies(replies); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		_, perr := parser.ParseSIP(data)
		if perr != nil && !bytes.HasPrefix(data, []byte("SIP/")) && unanswerable[name] == "" {
			if len(replies) == 0 || !bytes.HasPrefix(replies[0], []byte("SIP/2.0 400")) {
				t.Errorf("%s: unparsable request (%v) not answered 400: %q", name, perr, replies)
			}
		}
	}
	if n := len(box.Registrations()); n != 0 {
		t.Errorf("torture messages registered %d contacts", n)
	}
	for _, ev := range box.rec.drain() {
		if ev.kind == "offered" || ev.kind == "registered" {
			t.Errorf("torture message produced %s", ev.kind)
		}
	}
}

func FuzzBadRequest(f *testing.F) {
	files, _ := filepath.Glob("testdata/rfc4475/invalid/*.dat")
	for _, fn := range files[:min(8, len(files))] {
		data, _ := os.ReadFile(fn)
		f.Add(data)
	}
	f.Add([]byte("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\nCSeq: x\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out := badRequest(data)
		if out == nil {
			return
		}
		// Whatever we answer must itself be a parsable 400 with a Via.
		msg, err := sipmsg.NewParser().ParseSIP(out)
		if err != nil {
			t.Fatalf("unparsable reply %q: %v", out, err)
		}
		res, ok := msg.(*sipmsg.Response)
		if !ok || res.StatusCode != 400 || res.Via() == nil {
			t.Fatalf("reply %q", out)
		}
	})
}

var (
	fuzzBoxOnce sync.Once
	fuzzBox     *Endpoint
	fuzzErr     error
)

// FuzzServerDatagram sends arbitrary datagrams to one running box; after
// each the box must still answer OPTIONS and only ever reply with SIP
// responses. Seeds are the RFC 4475 messages.
func FuzzServerDatagram(f *testing.F) {
	if testing.Short() {
		f.Skip("opens sockets")
	}
	files, _ := filepath.Glob("testdata/rfc4475/*/*.dat")
	for _, fn := range files {
		data, _ := os.ReadFile(fn)
		f.Add(data)
	}
	fuzzBoxOnce.Do(func() {
		fuzzBox, fuzzErr = New(Config{UDP: "127.0.0.1:0", AuthenticateCalls: true, KeepaliveInterval: -1, Limits: Limits{Rate: -1}},
			Deps{Directory: directory{"user": "pw"}, Handler: newRecorder(answering), RTP: newPorts()})
		if fuzzErr == nil {
			fuzzErr = fuzzBox.Start(contextBackground())
		}
	})
	if fuzzErr != nil {
		f.Fatal(fuzzErr)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		peer := newUDPPeer(t, fuzzBox.UDPAddr())
		replies, err := peer.exchange(data)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkReplies(replies); err != nil {
			t.Fatal(err)
		}
		if n := len(fuzzBox.Registrations()); n != 0 {
			t.Fatalf("a datagram registered %d contacts", n)
		}
	})
}

// TestInviteChecks sends raw INVITEs that must be refused before anything
// else happens: loops (Max-Forwards 0) and required extensions.
func TestInviteChecks(t *testing.T) {
	box := startBox(t, Config{}, directory{}, answering)
	peer := newUDPPeer(t, box.UDPAddr())
	invite := func(id int, extra string) []byte {
		return []byte(fmt.Sprintf("INVITE sip:202@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%d\r\n"+
			"From: <sip:201@127.0.0.1>;tag=a\r\nTo: <sip:202@127.0.0.1>\r\nCall-ID: chk-%d\r\nCSeq: 1 INVITE\r\n"+
			"%s\r\nContent-Length: 0\r\n\r\n", box.UDPAddr(), peer.conn.LocalAddr(), id, id, extra))
	}
	tests := []struct {
		extra, want string
	}{
		{"Max-Forwards: 0", "SIP/2.0 483"},
		{"Max-Forwards: 70\r\nRequire: 100rel, timer", "SIP/2.0 420"},
	}
	for i, tt := range tests {
		reply, err := peer.request(invite(i, tt.extra), fmt.Sprintf("chk-%d\r\n", i))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(reply, []byte(tt.want)) {
			t.Errorf("%q: got %q", tt.extra, reply)
			continue
		}
		if tt.want == "SIP/2.0 420" && !bytes.Contains(reply, []byte("Unsupported: 100rel, timer")) {
			t.Errorf("420 without Unsupported: %q", reply)
		}
	}
	for _, ev := range box.rec.drain() {
		t.Errorf("unexpected %s", ev.kind)
	}
}
