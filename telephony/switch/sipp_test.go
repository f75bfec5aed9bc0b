package callswitch_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
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

// IndependentEndpoint: like an RTP stream, silence touches no shared
// state, so the engine may share a tick's legs among its workers.
func (silence) IndependentEndpoint() {}

// sippBox is the rig with telephony/sip in front of the switch: extension
// 205 is a softphone with password secret205.
func sippBox(t *testing.T) (*rig, *sip.Endpoint, string) {
	t.Helper()
	pc := defaultPlan()
	pc.Extensions = append(pc.Extensions, "205")
	exts := append(defaultExts(), callswitch.Extension{Number: "205", Name: "SOFT 205"})
	return sippBoxWith(t, rigOpt{plan: pc, exts: exts}, func(callswitch.SIPLeg) (media.Endpoint, func(), error) {
		return silence{}, func() {}, nil
	})
}

// sippBoxWith is sippBox with the rig's options (which must have 205 as a
// SIP extension) and the function giving each leg its media endpoint.
func sippBoxWith(t *testing.T, o rigOpt, open func(callswitch.SIPLeg) (media.Endpoint, func(), error)) (*rig, *sip.Endpoint, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts sipp and opens sockets")
	}
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatal("sipp not found: install the Debian package sip-tester")
	}
	r := newRig(t, o)
	ep, err := sip.New(sip.Config{UDP: "127.0.0.1:0", AuthenticateCalls: true, KeepaliveInterval: -1},
		sip.Deps{Directory: directory{"205": "secret205"}, Handler: r.sw.SIPHandler(), RTP: &rtpPorts{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close(); r.sw.Close() })
	r.sw.SetSIP(callswitch.NewSIPDialer(ep, open))
	return r, ep, bin
}

func freePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// startSipp runs a scenario of testdata from a local port; the channel
// gets its result (with its output on failure).
func startSipp(t *testing.T, bin string, port int, scenario string, args ...string) <-chan error {
	t.Helper()
	return startSippFile(t, bin, port, filepath.Join("testdata", scenario), args...)
}

// startSippFile is startSipp with the scenario file's path.
func startSippFile(t *testing.T, bin string, port int, scenario string, args ...string) <-chan error {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	full := append([]string{"-sf", scenario,
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-m", "1", "-timeout", "25s", "-timeout_error", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "err.log")}, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		defer cancel()
		err := cmd.Wait()
		if err != nil {
			errlog, _ := os.ReadFile(filepath.Join(dir, "err.log"))
			err = fmt.Errorf("sipp %s: %w\n%s\n%s", scenario, err, out.String(), errlog)
		}
		done <- err
	}()
	return done
}

// A real softphone (sipp, registered as extension 205 with digest
// authentication) calls analog 201 through telephony/sip and the switch:
// 180 while 201 rings with caller ID 205, 200 when 201 answers, and the
// softphone's BYE leaves 201 with busy tone and one answered CDR.
func TestSippSoftphoneCallsAnalog(t *testing.T) {
	r, ep, bin := sippBox(t)
	done := startSipp(t, bin, freePort(t), "softphone_call.xml", "-s", "201", "-au", "205", "-ap", "secret205",
		"-auth_uri", "201@"+ep.UDPAddr().String(), ep.UDPAddr().String())

	// Run the board about in real time until sipp is done; answer 201
	// once it rings.
	answered := false
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
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

// Analog 201 calls softphone 205 (sipp registered at another port): the
// INVITE carries 201's caller ID, the answer bridges, 201's flashes hold
// (sendonly re-INVITE) and resume (sendrecv), and its hang-up sends BYE.
func TestSippAnalogCallsSoftphone(t *testing.T) {
	r, ep, bin := sippBox(t)
	uas := freePort(t)
	phone := startSipp(t, bin, uas, "softphone_answer.xml")
	reg := startSipp(t, bin, freePort(t), "register_contact.xml", "-s", "205", "-au", "205", "-ap", "secret205",
		"-key", "contact_port", strconv.Itoa(uas), ep.UDPAddr().String())
	if err := <-reg; err != nil {
		t.Fatal(err)
	}
	// live runs the board about in real time, so signalling can happen.
	live := func(what string, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); {
			if cond() {
				return
			}
			r.run(10 * time.Millisecond)
			time.Sleep(time.Millisecond)
		}
		t.Fatalf("gave up waiting for %s", what)
	}
	r.dial("201", "205")
	live("the answer", func() bool { return r.sw.FXS("fxs1").State() == line.FXSConnected })
	r.flash()
	live("second dial tone", func() bool { return r.sw.FXS("fxs1").Held() })
	r.run(time.Second)
	for range 200 { // real time for the hold re-INVITE
		r.run(10 * time.Millisecond)
		time.Sleep(time.Millisecond)
	}
	r.flash()
	live("the resumed call", func() bool {
		return r.sw.FXS("fxs1").State() == line.FXSConnected && !r.sw.FXS("fxs1").Held()
	})
	for range 200 {
		r.run(10 * time.Millisecond)
		time.Sleep(time.Millisecond)
	}
	r.phone("201").OnHook()
	var err error
	live("the softphone's end", func() bool {
		select {
		case err = <-phone:
			return true
		default:
			return false
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	r.run(time.Second)
	recs := r.cdr()
	if len(recs) != 1 || recs[0].Disposition != cdr.Answered || recs[0].From != "201" || recs[0].To != "205" ||
		len(recs[0].Legs) != 2 || recs[0].Legs[1].Kind != "sip" {
		t.Fatalf("CDRs %+v", recs)
	}
}
