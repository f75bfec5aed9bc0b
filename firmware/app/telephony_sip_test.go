package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"callbox/board/sim"
	"callbox/board/sim/proslicsim"
	"callbox/dsp/tone"
	"callbox/telephony/media/rfc4733"
	"callbox/telephony/media/rtpstream"
	"callbox/telephony/pbxconf"
)

// needSipp returns sipp's path; without -short a missing sipp fails the
// test naming its Debian package.
func needSipp(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("app: sipp tests start processes and open sockets")
	}
	p, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatal("sipp not found: install the Debian package sip-tester")
	}
	if _, err := os.Stat("/usr/share/sip-tester/g711a.pcap"); err != nil {
		t.Fatal("sipp's pcap files not found: install the Debian package sip-tester")
	}
	return p
}

// freeUDP returns a loopback UDP port nobody holds right now (and whose
// next port is free too, for sipp's media).
func freeUDP(t *testing.T) int {
	t.Helper()
	for range 50 {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		if port < 65000 {
			return port
		}
	}
	t.Fatal("no free udp port")
	return 0
}

// farUDP returns a free UDP port on 127.0.0.2, where sipp plays a SIP
// trunk's provider: the box tells it from the extensions on 127.0.0.1.
func farUDP(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatalf("loopback 127.0.0.2: %v", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// sippRun is one running sipp.
type sippRun struct {
	cmd    *exec.Cmd
	out    bytes.Buffer
	dir    string
	cancel context.CancelFunc
	ctx    context.Context
}

// startSipp runs scenario (testdata) on local port against the box,
// bounded to one call and 20 s.
func startSipp(t *testing.T, box string, port int, scenario string, args ...string) *sippRun {
	t.Helper()
	bin := needSipp(t)
	r := &sippRun{dir: t.TempDir()}
	if !filepath.IsAbs(scenario) { // a test's own scenario is written elsewhere
		scenario = filepath.Join("testdata", scenario)
	}
	full := append([]string{
		"-sf", scenario,
		"-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(r.dir, "err.log"),
	}, args...)
	full = append(full, box)
	r.ctx, r.cancel = context.WithTimeout(context.Background(), 25*time.Second)
	r.cmd = exec.CommandContext(r.ctx, bin, full...)
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		r.cancel()
		t.Fatal(err)
	}
	t.Cleanup(r.cancel)
	return r
}

// wait returns sipp's result; the error carries its output and error log.
func (r *sippRun) wait() error {
	defer r.cancel()
	err := r.cmd.Wait()
	if errors.Is(r.ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("sipp did not finish: %w", r.ctx.Err())
	}
	if err != nil {
		errlog, _ := os.ReadFile(filepath.Join(r.dir, "err.log"))
		return fmt.Errorf("%w\n%s\n--- sipp errors ---\n%s", err, r.out.String(), errlog)
	}
	return nil
}

// registerPhone registers ext at the box with a contact on uasPort, where
// another sipp waits for calls.
func registerPhone(t *testing.T, box, ext, secret string, uasPort int) {
	t.Helper()
	r := startSipp(t, box, freeUDP(t), "register_at.xml", "-s", ext, "-au", ext, "-ap", secret,
		"-key", "uas_port", strconv.Itoa(uasPort))
	if err := r.wait(); err != nil {
		t.Fatalf("register %s: %v", ext, err)
	}
}

// echoPhone302 starts sipp as extension 302, registered with digest,
// answering every call and echoing its RTP (and RFC 4733 events) back.
func echoPhone302(t *testing.T, box string) *sippRun {
	t.Helper()
	uas := freeUDP(t)
	callee := startSipp(t, box, uas, "answer_echo.xml", "-rtp_echo", "-mp", strconv.Itoa(freeUDP(t)&^1))
	registerPhone(t, box, "302", "phone-b-8wr3n", uas)
	return callee
}

// oneCallAnswered: the box has one call, answered, with its RTP stream.
// A call still ringing counts as active with its port already taken, and
// audio or a digit sent then is lost (a peer under load may take seconds
// to answer).
func oneCallAnswered(a *App) bool {
	s := a.TelephonyStatus()
	return s.ActiveCalls == 1 && s.RTPInUse == 1 && !s.Calls[0].Answer.IsZero()
}

// analogCalls302 takes phone 201 off hook on the sim board, checks its dial
// tone and dials 302, returning once the call is up with its RTP stream.
func analogCalls302(t *testing.T, a *App, sb *sim.Board) *proslicsim.Phone {
	t.Helper()
	p201 := sb.Phone("fxs1")
	p201.OffHook()
	eventually(t, 3*time.Second, "dial tone at 201", func() bool {
		tones, err := p201.HeardTones("CN")
		return err == nil && slices.Contains(tones, tone.Dial)
	})
	if err := p201.Dial("302"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "302 answering 201", func() bool { return oneCallAnswered(a) })
	return p201
}

// Two sipp phones through the daemon: 302 registers with digest, 301
// (authenticated by 407) calls it; PCMA flows both ways (sipp's echo sends
// the box's audio back), 301's RFC 4733 digit and its INFO digit (200)
// both reach 302 as RFC 4733; the BYE leaves an answered CDR. Then a
// second call is cancelled while 302 rings: a cancelled CDR.
func TestSIPCallsThroughTheDaemon(t *testing.T) {
	needSipp(t)
	t.Parallel() // each test has its own daemon, ports and RTP range
	a := bootTelephony(t, 22200)
	tel := a.telephony()
	box := tel.sipAddr(true)

	// The answered call.
	callee := echoPhone302(t, box)
	if n := len(tel.ep.Contacts("302")); n != 1 {
		t.Fatalf("302 has %d contacts after registering", n)
	}
	caller := startSipp(t, box, freeUDP(t), "call_media.xml", "-s", "302", "-key", "caller", "301",
		"-au", "301", "-ap", "phone-a-7kq2m", "-auth_uri", "302@"+box, "-mp", strconv.Itoa(freeUDP(t)&^1))
	if err := caller.wait(); err != nil {
		t.Fatalf("caller: %v", err)
	}
	if err := callee.wait(); err != nil {
		t.Fatalf("callee: %v", err)
	}
	c := cdrFrom(t, a, "301")
	if c.Disposition != "answered" || c.To != "302" || len(c.Legs) != 2 || c.Legs[0].Kind != "sip" || c.Legs[1].Kind != "sip" {
		t.Fatalf("CDR %+v", c)
	}
	var st []rtpstream.Stats
	eventually(t, 3*time.Second, "both RTP streams closed", func() bool {
		st = tel.rtp.endedStats()
		return len(st) >= 2
	})
	// The caller's leg is the one sending 301's RFC 4733 digit 5 (10 event
	// packets); the callee's is the one whose packets come back with its
	// own SSRC (sipp's -rtp_echo). The box relays the 5, and the INFO
	// digit 7, to 302 as RFC 4733: the callee's leg sends events for both
	// digits (more than the 5 alone, whose end alone is EndRepeats packets)
	// and the far sipp, echoing, returns every one of them.
	var in, out *rtpstream.Stats
	for i := range st {
		if st[i].SSRC == st[i].RemoteSSRC {
			out = &st[i]
		} else {
			in = &st[i]
		}
	}
	if in == nil || out == nil || in.EventsReceived < 10 {
		t.Fatalf("want a caller leg receiving 301's RFC 4733 digit and an echoing callee leg: %+v", st)
	}
	if out.EventsSent < in.EventsReceived+rfc4733.EndRepeats || out.EventsReceived != out.EventsSent {
		t.Fatalf("callee leg sent %d RFC 4733 packets and got %d back; want both digits (more than the %d the caller sent) all echoed",
			out.EventsSent, out.EventsReceived, in.EventsReceived)
	}
	// 2 s of audio at 50 packets/s each way, on both legs, none lost.
	for name, s := range map[string]*rtpstream.Stats{"caller leg": in, "callee leg": out} {
		if s.PacketsReceived < 60 || s.PacketsSent < 60 || s.Lost > 0 {
			t.Errorf("%s: %d packets in (%d lost), %d out; want audio both ways", name, s.PacketsReceived, s.Lost, s.PacketsSent)
		}
	}

	// CANCEL before answer.
	uas := freeUDP(t)
	callee = startSipp(t, box, uas, "ring_cancelled.xml")
	registerPhone(t, box, "302", "phone-b-8wr3n", uas)
	caller = startSipp(t, box, freeUDP(t), "call_cancel.xml", "-s", "302", "-key", "caller", "301",
		"-au", "301", "-ap", "phone-a-7kq2m", "-auth_uri", "302@"+box, "-mp", strconv.Itoa(freeUDP(t)&^1))
	if err := caller.wait(); err != nil {
		t.Fatalf("cancelling caller: %v", err)
	}
	if err := callee.wait(); err != nil {
		t.Fatalf("cancelled callee: %v", err)
	}
	eventually(t, 5*time.Second, "a cancelled CDR", func() bool {
		list, _, _ := a.CDRs(time.Time{}, time.Time{}, 100)
		for _, c := range list {
			if c.From == "301" && c.Disposition == "cancelled" {
				return true
			}
		}
		return false
	})
}

// Analog and SIP phones call each other through the daemon: phone 201 on
// the sim board dials SIP extension 302 (a sipp phone echoing RTP), and
// sipp as 301 calls analog 202, which answers and hears 301's INFO digit
// as DTMF; audio flows both ways on the SIP legs and each call leaves an
// answered CDR.
func TestAnalogAndSIPCallEachOther(t *testing.T) {
	needSipp(t)
	t.Parallel() // each test has its own daemon, ports and RTP range
	a := bootTelephony(t, 22600)
	tel := a.telephony()
	box := tel.sipAddr(true)
	sb := a.livePorts().Sim()

	callee := echoPhone302(t, box)
	p201 := analogCalls302(t, a, sb)
	time.Sleep(1500 * time.Millisecond)
	if status := strings.Join(consoleHost{a}.Status(), "\n"); !strings.Contains(status, "201 -> 302 up ") || !strings.Contains(status, "(fxs1, sip/") {
		t.Errorf("console status during the call:\n%s", status)
	}
	p201.OnHook()
	if err := callee.wait(); err != nil {
		t.Fatalf("sip callee of 201: %v", err)
	}
	c := cdrFrom(t, a, "201")
	if c.Disposition != "answered" || c.To != "302" || len(c.Legs) != 2 || c.Legs[1].Kind != "sip" {
		t.Fatalf("CDR of 201 -> 302: %+v", c)
	}
	var st []rtpstream.Stats
	eventually(t, 3*time.Second, "the SIP leg's stream closed", func() bool {
		st = tel.rtp.endedStats()
		return len(st) == 1
	})
	if s := st[0]; s.PacketsSent < 50 || s.PacketsReceived < 50 || s.Lost > 0 {
		t.Errorf("201 -> 302 RTP: %d out, %d in, %d lost", s.PacketsSent, s.PacketsReceived, s.Lost)
	}

	p202 := sb.Phone("fxs2")
	caller := startSipp(t, box, freeUDP(t), "call_media.xml", "-s", "202", "-key", "caller", "301",
		"-au", "301", "-ap", "phone-a-7kq2m", "-auth_uri", "202@"+box, "-mp", strconv.Itoa(freeUDP(t)&^1))
	eventually(t, 12*time.Second, "202 ringing with caller ID 301", func() bool {
		cid := p202.CallerID()
		return len(cid) > 0 && p202.Ringing()
	})
	if cid := p202.CallerID(); cid[0].Number != "301" {
		t.Errorf("202 read caller ID %+v, want 301", cid)
	}
	p202.OffHook()
	p202.ClearHeard()
	if err := caller.wait(); err != nil {
		t.Fatalf("sip caller of 202: %v", err)
	}
	// 301's INFO digit reaches the analog phone as DTMF.
	if got := p202.HeardDigits(); !strings.Contains(got, "7") {
		t.Errorf("202 heard digits %q, want the INFO digit 7", got)
	}
	p202.OnHook()
	c = cdrFrom(t, a, "301")
	if c.Disposition != "answered" || c.To != "202" || c.Legs[1].Channel != "fxs2" {
		t.Fatalf("CDR of 301 -> 202: %+v", c)
	}
	eventually(t, 3*time.Second, "the SIP leg's stream closed", func() bool {
		st = tel.rtp.endedStats()
		return len(st) == 2
	})
	if s := st[1]; s.PacketsSent < 50 || s.PacketsReceived < 50 || s.EventsReceived == 0 {
		t.Errorf("301 -> 202 RTP: %d out, %d in, %d events in", s.PacketsSent, s.PacketsReceived, s.EventsReceived)
	}
}

// A SIP trunk carries a call out: analog 201 dials 8 and a number, the
// route strips the 8 and the trunk's far end (sipp on 127.0.0.2, so that
// the box tells it from the extensions on 127.0.0.1) answers the number;
// the CDR names the trunk.
func TestSIPTrunkOutbound(t *testing.T) {
	needSipp(t)
	t.Parallel() // each test has its own daemon, ports and RTP range
	far := farUDP(t)
	conf := testPBX()
	conf.Trunks = append(conf.Trunks, pbxconf.Trunk{Name: "carrier", Kind: pbxconf.KindSIP, Host: "127.0.0.2", Port: far,
		Transport: pbxconf.TransportUDP, Username: "0215550100", Default: "203"})
	conf.Routes = append(conf.Routes, pbxconf.Route{Name: "carrier", Patterns: []string{"8X."}, Strip: 1,
		Trunks: []string{"carrier"}, CallerID: "0215550100"})
	a := bootTelephonyWith(t, 23400, conf)
	sb := a.livePorts().Sim()
	uas := startSipp(t, a.telephony().sipAddr(true), far, "answer_echo.xml", "-i", "127.0.0.2",
		"-rtp_echo", "-mp", strconv.Itoa(freeUDP(t)&^1))
	p := sb.Phone("fxs1")
	p.OffHook()
	eventually(t, 3*time.Second, "dial tone at 201", func() bool {
		tones, err := p.HeardTones("CN")
		return err == nil && slices.Contains(tones, tone.Dial)
	})
	if err := p.Dial("813800138000"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the trunk answering", func() bool { return oneCallAnswered(a) })
	time.Sleep(time.Second)
	p.OnHook()
	if err := uas.wait(); err != nil {
		t.Fatalf("far end: %v", err)
	}
	c := cdrFrom(t, a, "201")
	if c.Disposition != "answered" || c.Trunk != "carrier" || c.Legs[1].Party != "13800138000" {
		t.Fatalf("CDR %+v", c)
	}
}

// The caller ID a SIP trunk's provider receives (the From of its INVITE,
// sipp logging it) follows pbxconf's rule: the extension's own
// caller_id_number over the route's caller_id; the route's when the route
// overrides; the route's for an extension without a number of its own.
func TestTrunkCallerID(t *testing.T) {
	needSipp(t)
	t.Parallel()
	far := farUDP(t)
	conf := testPBX()
	for _, i := range []int{0, 2} { // 201 and 203 have numbers of their own
		conf.Extensions[i].CallerIDNumber, conf.Extensions[i].CallerIDName = "0216666888"+strconv.Itoa(i), "SALES"
	}
	conf.Trunks = append(conf.Trunks, pbxconf.Trunk{Name: "carrier", Kind: pbxconf.KindSIP, Host: "127.0.0.2", Port: far,
		Transport: pbxconf.TransportUDP, Username: "01088886666"})
	conf.Routes = append(conf.Routes,
		// Fixed-length patterns: the number completes without the
		// inter-digit timeout.
		pbxconf.Route{Name: "plain", Patterns: []string{"81XXXXXXXXXX"}, Strip: 1, Trunks: []string{"carrier"}, CallerID: "01088886666"},
		pbxconf.Route{Name: "override", Patterns: []string{"71XXXXXXXXXX"}, Strip: 1, Trunks: []string{"carrier"},
			CallerID: "01088887777", CallerIDOverride: true})
	a := bootTelephonyWith(t, 25400, conf)
	sb := a.livePorts().Sim()
	log := filepath.Join(t.TempDir(), "provider.log")
	calls := []struct{ phone, dial, want string }{
		{"fxs1", "813800138001", "from 02166668880 to 13800138001"}, // 201's own number
		{"fxs3", "713800138002", "from 01088887777 to 13800138002"}, // the route overrides 203's
		{"fxs2", "813800138003", "from 01088886666 to 13800138003"}, // 202 has none: the route's
	}
	uas := startSipp(t, a.telephony().sipAddr(true), far, "provider_busy.xml", "-i", "127.0.0.2",
		"-m", strconv.Itoa(len(calls)), "-trace_logs", "-log_file", log)
	for i, c := range calls {
		p := sb.Phone(c.phone)
		p.OffHook()
		eventually(t, 10*time.Second, "dial tone at "+c.phone, func() bool {
			tones, err := p.HeardTones("CN")
			return err == nil && slices.Contains(tones, tone.Dial)
		})
		if err := p.Dial(c.dial); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "the provider refusing call "+strconv.Itoa(i+1), func() bool {
			list, _, err := a.CDRs(time.Time{}, time.Time{}, 100)
			return err == nil && len(list) == i+1
		})
		p.OnHook()
	}
	if err := uas.wait(); err != nil {
		t.Fatalf("provider: %v", err)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(string(b), "\n") {
		if i := strings.Index(l, "from "); i >= 0 {
			got = append(got, strings.TrimSpace(l[i:]))
		}
	}
	var want []string
	for _, c := range calls {
		want = append(want, c.want)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the provider saw\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
