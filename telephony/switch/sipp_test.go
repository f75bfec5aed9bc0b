package callswitch_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"callbox/dsp/tone"
	"callbox/telephony/line"
	"callbox/telephony/media"
	"callbox/telephony/sip"
	callswitch "callbox/telephony/switch"
	"callbox/telephony/switch/cdr"
)

type directory map[string]string

func (d directory) Extension(user string) (sip.Extension, bool) {
	p, ok := d[user]
	return sip.Extension{Number: user, Password: p}, ok
}

// rtpPorts hands out loopback RTP addresses.
type rtpPorts struct {
	mu   sync.Mutex
	next uint16
}

func (p *rtpPorts) AllocRTP() (netip.AddrPort, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next += 2
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 41000+p.next), nil
}

func (p *rtpPorts) ReleaseRTP(netip.AddrPort) {}

// silence is the media of a leg in a signalling test.
type silence struct{}

func (silence) ReadFrame(f []int16) { clear(f) }
func (silence) WriteFrame([]int16)  {}

// A real softphone (sipp, registered as extension 205 with digest
// authentication) calls analog 201 through telephony/sip and the switch:
// 180 while 201 rings with caller ID 205, 200 when 201 answers, and the
// softphone's BYE leaves 201 with busy tone and one answered CDR.
func TestSippSoftphoneCallsAnalog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sipp and opens sockets")
	}
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatal("sipp not found: install the Debian package sip-tester")
	}
	pc := defaultPlan()
	pc.Extensions = append(pc.Extensions, "205")
	exts := append(defaultExts(), callswitch.Extension{Number: "205", Name: "SOFT 205"})
	r := newRig(t, rigOpt{plan: pc, exts: exts})
	ep, err := sip.New(sip.Config{UDP: "127.0.0.1:0", AuthenticateCalls: true, KeepaliveInterval: -1},
		sip.Deps{Directory: directory{"205": "secret205"}, Handler: r.sw.SIPHandler(), RTP: &rtpPorts{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close(); r.sw.Close() })
	r.sw.SetSIP(callswitch.NewSIPDialer(ep, func(callswitch.SIPLeg) (media.Endpoint, func(), error) {
		return silence{}, func() {}, nil
	}))

	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-sf", filepath.Join("testdata", "softphone_call.xml"),
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin",
		"-s", "201", "-au", "205", "-ap", "secret205", "-trace_err", "-error_file", filepath.Join(dir, "err.log"),
		ep.UDPAddr().String())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	// Run the board about in real time until sipp is done; answer 201
	// once it rings.
	answered := false
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("sipp: %v\n%s", err, out.String())
			}
			finished = true
		default:
			r.run(10 * time.Millisecond)
			time.Sleep(2 * time.Millisecond)
			if !answered && r.sw.FXS("fxs1").State() == line.FXSAlerting && len(r.phone("201").Rings()) > 0 {
				r.run(6 * time.Second) // the caller ID comes after the first ring
				r.phone("201").OffHook()
				answered = true
			}
		}
	}
	if !answered {
		t.Fatal("201 never rang")
	}
	if cid := r.phone("201").CallerID(); len(cid) != 1 || cid[0].Number != "205" || cid[0].Name != "SOFT 205" {
		t.Fatalf("201 read caller ID %+v", cid)
	}
	r.hearsTone("201", tone.Busy)
	r.hangup("201")
	recs := r.cdr()
	if len(recs) != 1 {
		t.Fatalf("CDRs %+v", recs)
	}
	got := recs[0]
	if got.Disposition != cdr.Answered || got.From != "205" || got.To != "201" || len(got.Legs) != 2 ||
		got.Legs[0].Kind != "sip" || got.Legs[1].Channel != "fxs1" || got.Cause != "normal" {
		t.Fatalf("CDR %s", fmt.Sprintf("%+v", got))
	}
}
