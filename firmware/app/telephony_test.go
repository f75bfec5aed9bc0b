package app

import (
	"context"
	"log/slog"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"callbox/board/sim"
	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/dsp/tone"
	"callbox/firmware/logbuf"
	"callbox/telephony/media/rfc4733"
	"callbox/telephony/media/rtpstream"
	"callbox/telephony/pbxconf"
	"callbox/telephony/switch/dialplan"
)

// testPBX is the configuration the end-to-end tests import: the sim's
// four analog phones 201-204, two SIP extensions, FXO 1 ringing 203 and a
// route out on FXO 2.
func testPBX() pbxconf.Config {
	c := pbxconf.Default(4)
	c.Extensions = append(c.Extensions,
		pbxconf.Extension{Number: "301", Name: "Soft 301", Kind: pbxconf.KindSIP, Secret: "phone-a-7kq2m"},
		pbxconf.Extension{Number: "302", Name: "Soft 302", Kind: pbxconf.KindSIP, Secret: "phone-b-8wr3n"},
	)
	c.Trunks = []pbxconf.Trunk{
		{Name: "pstn1", Kind: pbxconf.KindFXO, Port: 1, CallerID: "bellcore", Rings: 2, Default: "203"},
		{Name: "pstn2", Kind: pbxconf.KindFXO, Port: 2, CallerID: "bellcore", Rings: 2, Default: "204"},
	}
	c.Routes = []pbxconf.Route{{Name: "out", Patterns: []string{"9X."}, Strip: 1, Trunks: []string{"pstn2"}}}
	return c
}

// bootTelephony runs a whole App on the sim board with the test PBX, SIP
// on free ports and RTP on a range of its own (below the ephemeral ports
// that freeUDP hands to sipp).
func bootTelephony(t *testing.T, rtpMin int) *App {
	t.Helper()
	return bootTelephonyWith(t, rtpMin, testPBX())
}

// bootTelephonyWith is bootTelephony with another configuration.
func bootTelephonyWith(t *testing.T, rtpMin int, conf pbxconf.Config) *App {
	t.Helper()
	return bootTelephonyIn(t, t.TempDir(), rtpMin, conf)
}

// bootTelephonyIn is bootTelephonyWith on a data directory made ready.
func bootTelephonyIn(t *testing.T, dir string, rtpMin int, conf pbxconf.Config) *App {
	t.Helper()
	a, _ := bootImport(t, dir, rtpMin, writePBX(t, conf))
	return a
}

// bootImport runs a whole App on the sim board that imports the document
// at path as it boots (callboxd --import); out is what it prints (the web
// admin's setup code).
func bootImport(t *testing.T, dir string, rtpMin int, path string) (*App, *syncBuffer) {
	t.Helper()
	logs, out := &syncBuffer{}, &syncBuffer{}
	a, err := New(Config{Out: out,
		DataDir: dir, Board: "sim", HTTPAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0", Console: "none",
		NoWatchdog: true, RTPMin: rtpMin, RTPMax: rtpMin + 399, Import: path,
	}, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})), logbuf.New(10))
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, a)
	t.Cleanup(func() {
		if _, err := stop(); err != nil {
			// Where it hangs, for the next reader of a CI log.
			var stacks strings.Builder
			_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
			t.Errorf("stop: %v\ngoroutines:\n%s", err, stacks.String())
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", logs)
		}
	})
	return a, out
}

// eventually polls cond every 20 ms for up to d of wall time.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("gave up after %v waiting for %s", d, what)
}

// cdrFrom waits for the stored CDR of a call from number.
func cdrFrom(t *testing.T, a *App, from string) CDR {
	t.Helper()
	var got CDR
	eventually(t, 5*time.Second, "the CDR of the call from "+from, func() bool {
		list, _, err := a.CDRs(time.Time{}, time.Time{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range list {
			if c.From == from {
				got = c
				return true
			}
		}
		return false
	})
	return got
}

// The board path through the real daemon wiring, on the simulated
// board in real time: 201 hears dial tone and dials 202, which rings with
// caller ID 201 and answers; DTMF from 202 is detected at 201; the hang-up
// leaves one answered CDR in the store. Meanwhile the virtual central
// office calls in on FXO 1 and extension 203 (the trunk's default) rings
// with the caller's number.
func TestBoardCallsThroughTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon in real time with sockets")
	}
	t.Parallel() // each test has its own daemon, ports and RTP range
	a := bootTelephony(t, 21000)
	sb := a.livePorts().Sim()
	if sb == nil {
		t.Fatal("no simulated board")
	}
	t.Run("analog", func(t *testing.T) {
		t.Parallel()
		analogCall(t, a, sb)
	})
	t.Run("pstn", func(t *testing.T) {
		t.Parallel()
		pstnCall(t, a, sb)
	})
	t.Run("dnd", func(t *testing.T) {
		t.Parallel()
		dndStored(t, a, sb)
	})
}

func analogCall(t *testing.T, a *App, sb *sim.Board) {
	p201, p202 := sb.Phone("fxs1"), sb.Phone("fxs2")
	p201.OffHook()
	eventually(t, 3*time.Second, "dial tone at 201", func() bool {
		tones, err := p201.HeardTones("CN")
		return err == nil && slices.Contains(tones, tone.Dial)
	})
	if err := p201.Dial("202"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 12*time.Second, "202 ringing with caller ID 201", func() bool {
		cid := p202.CallerID()
		return len(cid) > 0 && p202.Ringing()
	})
	if cid := p202.CallerID(); cid[0].Number != "201" {
		t.Fatalf("202 read caller ID %+v, want 201", cid)
	}
	p202.OffHook()
	time.Sleep(400 * time.Millisecond)
	p201.ClearHeard()
	if err := p202.Dial("5*9"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 4*time.Second, "201 detecting 202's DTMF", func() bool { return p201.HeardDigits() == "5*9" })
	time.Sleep(1100 * time.Millisecond) // a billable second
	p202.OnHook()
	time.Sleep(300 * time.Millisecond)
	p201.OnHook()
	c := cdrFrom(t, a, "201")
	if c.Disposition != "answered" || c.To != "202" || len(c.Legs) != 2 || c.Legs[1].Channel != "fxs2" || c.BillableS < 2 {
		t.Fatalf("CDR %+v", c)
	}
	list, _, _ := a.CDRs(time.Time{}, time.Time{}, 100)
	n := 0
	for _, r := range list {
		if r.From == "201" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d CDRs from 201, want 1: %+v", n, list)
	}
	// The web admin's call log serves the same record.
	recs, _, err := callLog{a}.CallLog(context.Background(), c.Start, c.Start.Add(time.Nanosecond), 10)
	if err != nil || len(recs) != 1 || !strings.Contains(string(recs[0]), `"disposition":"answered"`) {
		t.Fatalf("call log: %s %v", recs, err)
	}
}

func pstnCall(t *testing.T, a *App, sb *sim.Board) {
	co := sb.CO("fxo1")
	msg := callerid.Message{Format: callerid.MDMF, Time: "11211230", Number: "13800138000", Name: "ZHANG SAN"}
	if err := co.Ring(si3050sim.Call{CallerID: &msg}); err != nil {
		t.Fatal(err)
	}
	p := sb.Phone("fxs3")
	eventually(t, 20*time.Second, "203 ringing with the caller's number", func() bool {
		cid := p.CallerID()
		return len(cid) > 0 && p.Ringing()
	})
	if cid := p.CallerID(); cid[0].Number != "13800138000" {
		t.Fatalf("203 read caller ID %+v", cid)
	}
	p.OffHook()
	eventually(t, 3*time.Second, "the box answering the line", co.Answered)
	time.Sleep(300 * time.Millisecond)
	p.ClearHeard()
	if err := co.SendDTMF("73"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 4*time.Second, "203 hearing the exchange's DTMF", func() bool { return p.HeardDigits() == "73" })
	p.OnHook()
	c := cdrFrom(t, a, "13800138000")
	if c.Disposition != "answered" || c.To != "203" || c.Trunk != "fxo1" {
		t.Fatalf("CDR %+v", c)
	}
	eventually(t, 3*time.Second, "the line released", func() bool { return !co.BoxOffHook() })
}

// 204 dials *76: do not disturb is on, and the stored configuration
// keeps it for the next boot.
func dndStored(t *testing.T, a *App, sb *sim.Board) {
	p := sb.Phone("fxs4")
	p.OffHook()
	eventually(t, 3*time.Second, "dial tone at 204", func() bool {
		tones, err := p.HeardTones("CN")
		return err == nil && slices.Contains(tones, tone.Dial)
	})
	if err := p.Dial("*76"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "204's DND in the store", func() bool {
		c, err := a.loadPBX()
		if err != nil {
			t.Fatal(err)
		}
		e, ok := c.Extension("204")
		return ok && e.DND
	})
	p.OnHook()
}

// The status the console and web admin show counts what runs.
func TestTelephonyStatusIdle(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	t.Parallel() // each test has its own daemon, ports and RTP range
	a := bootTelephony(t, 21400)
	s := a.TelephonyStatus()
	if !s.Running || s.ActiveCalls != 0 || s.Registrations != 0 || !strings.HasPrefix(s.SIPUDP, "127.0.0.1:") {
		t.Fatalf("status %+v", s)
	}
	if strings.HasSuffix(s.SIPUDP, ":0") || s.SIPTCP == "" {
		t.Fatalf("sip not bound: %+v", s)
	}
}

// A SIP trunk's DIDs, an extension's outside caller ID number and a
// route's blocked patterns reach the switch and the dial plan as they are
// configured: DIDs per trunk, blocked patterns per route.
func TestAdaptPBXRouting(t *testing.T) {
	c := testPBX()
	c.Extensions[0].CallerIDNumber, c.Extensions[0].CallerIDName = "02155550101", "Sales"
	c.Trunks = append(c.Trunks, pbxconf.Trunk{Name: "carrier", Kind: pbxconf.KindSIP, Host: "sip.example.net",
		DIDs: map[string]string{"02155550101": "201", "02155550102": "301"}, Default: "202"})
	c.Routes = append(c.Routes, pbxconf.Route{Name: "mobile", Patterns: []string{"8X."}, Strip: 1,
		Trunks: []string{"carrier"}, Blocked: []string{"1XXXXXXXXXX"}})
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	sc := adaptPBX(c, "CN")
	if got := sc.dids["carrier"]; len(got) != 2 || got["02155550101"] != "201" || got["02155550102"] != "301" || len(sc.dids) != 1 {
		t.Errorf("dids %v", sc.dids)
	}
	if x := sc.exts[0]; x.CallerIDNumber != "02155550101" || x.Name != "Sales" {
		t.Errorf("201 caller ID %q %q", x.CallerIDNumber, x.Name)
	}
	plan, err := dialplan.New(sc.plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dial string
		want dialplan.Kind
	}{
		{"813800138000", dialplan.Blocked},  // the mobile route's own block
		{"913800138000", dialplan.Outbound}, // the same number on the out route
		{"80085212345", dialplan.Blocked},   // the global blocked list
		{"8110", dialplan.Emergency},
	} {
		if d := plan.Resolve("201", tc.dial); d.Kind != tc.want {
			t.Errorf("%s: %+v, want kind %v", tc.dial, d, tc.want)
		}
	}
}

// Digits between an analog phone and a SIP phone through the daemon: 201
// calls sipp as 302, which echoes every RTP packet. 201's DTMF is muted
// out of the audio and sent to 302 as RFC 4733; 302's echo of those
// events comes back to the box, which plays the digit to 201 in band.
func TestAnalogDigitsToSIPAsRFC4733(t *testing.T) {
	needSipp(t)
	t.Parallel() // each test has its own daemon, ports and RTP range
	a := bootTelephony(t, 23800)
	tel := a.telephony()
	box := tel.sipAddr(true)
	sb := a.livePorts().Sim()
	callee := echoPhone302(t, box)
	p201 := analogCalls302(t, a, sb)
	time.Sleep(500 * time.Millisecond)
	p201.ClearHeard()
	if err := p201.Dial("4"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 4*time.Second, "201 hearing its digit back from 302's echo", func() bool {
		return p201.HeardDigits() == "4"
	})
	time.Sleep(500 * time.Millisecond)
	p201.OnHook()
	if err := callee.wait(); err != nil {
		t.Fatalf("sip callee of 201: %v", err)
	}
	var st []rtpstream.Stats
	eventually(t, 3*time.Second, "the SIP leg's stream closed", func() bool {
		st = tel.rtp.endedStats()
		return len(st) == 1
	})
	// One digit: at least EndRepeats end packets, and 302 got every one
	// (its echo brought them all back).
	if s := st[0]; s.EventsSent < rfc4733.EndRepeats || s.EventsReceived != s.EventsSent {
		t.Fatalf("302's leg sent %d RFC 4733 packets and got %d back", s.EventsSent, s.EventsReceived)
	}
	if got := p201.HeardDigits(); got != "4" {
		t.Fatalf("201 heard %q: the digit went in band as well as by RFC 4733", got)
	}
}

// A SIP trunk's calls ring the extension of their DID, or the trunk's
// default destination for a number it does not list (sipp as the
// provider on 127.0.0.2 calls and gives up while the phone rings).
func TestSIPTrunkDIDs(t *testing.T) {
	needSipp(t)
	t.Parallel() // each test has its own daemon, ports and RTP range
	far := farUDP(t)
	conf := testPBX()
	conf.Trunks = append(conf.Trunks, pbxconf.Trunk{Name: "carrier", Kind: pbxconf.KindSIP, Host: "127.0.0.2", Port: far,
		Transport: pbxconf.TransportUDP, Username: "0215550100", Default: "203",
		DIDs: map[string]string{"02155550104": "204", "02155550102": "202"}})
	a := bootTelephonyWith(t, 24200, conf)
	box := a.telephony().sipAddr(true)
	for _, c := range []struct{ did, caller, ext string }{
		{"02155550104", "13900000001", "204"},
		{"02155550102", "13900000002", "202"},
		{"02155559999", "13900000003", "203"},
	} {
		r := startSipp(t, box, far, "trunk_call_cancel.xml", "-i", "127.0.0.2", "-s", c.did, "-key", "caller", c.caller,
			"-mp", strconv.Itoa(freeUDP(t)&^1))
		if err := r.wait(); err != nil {
			t.Fatalf("provider calling %s: %v", c.did, err)
		}
		got := cdrFrom(t, a, c.caller)
		if got.Disposition != "cancelled" || got.To != c.ext || got.Trunk != "carrier" {
			t.Errorf("DID %s: CDR %+v, want a cancelled call to %s on carrier", c.did, got, c.ext)
		}
	}
}

// sendingTo returns how many RTP packets the box has sent on the open
// stream that the far end does not echo (the caller's leg), and whether
// there is one.
func sendingTo(tel *telephonyRun) (uint64, bool) {
	tel.rtp.mu.Lock()
	defer tel.rtp.mu.Unlock()
	for st := range tel.rtp.streams {
		if s := st.Stats(); s.SSRC != s.RemoteSSRC {
			return s.PacketsSent, true
		}
	}
	return 0, false
}

// A SIP phone's hold by re-INVITE reaches its RTP stream: sipp as 301
// calls 302 (sipp echoing), holds with a=inactive and the box stops
// sending it RTP; it resumes and the RTP flows again.
func TestSIPHoldReachesStream(t *testing.T) {
	needSipp(t)
	t.Parallel() // each test has its own daemon, ports and RTP range
	a := bootTelephony(t, 24600)
	tel := a.telephony()
	box := tel.sipAddr(true)
	callee := echoPhone302(t, box)
	caller := startSipp(t, box, freeUDP(t), "call_hold.xml", "-s", "302", "-key", "caller", "301",
		"-au", "301", "-ap", "phone-a-7kq2m", "-auth_uri", "302@"+box, "-mp", strconv.Itoa(freeUDP(t)&^1))
	// sent reports whether the box sent 301 packets in the last 300 ms.
	sent := func() bool {
		n0, ok := sendingTo(tel)
		time.Sleep(300 * time.Millisecond)
		n1, ok1 := sendingTo(tel)
		return ok && ok1 && n1 > n0
	}
	eventually(t, 5*time.Second, "RTP to 301", sent)
	eventually(t, 4*time.Second, "no RTP to 301 while it holds", func() bool { return !sent() })
	eventually(t, 5*time.Second, "RTP to 301 again once it resumes", sent)
	if err := caller.wait(); err != nil {
		t.Fatalf("caller: %v", err)
	}
	if err := callee.wait(); err != nil {
		t.Fatalf("callee: %v", err)
	}
	if c := cdrFrom(t, a, "301"); c.Disposition != "answered" || c.To != "302" {
		t.Fatalf("CDR %+v", c)
	}
}
