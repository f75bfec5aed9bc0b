package app

import (
	"context"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"callbox/board/sim"
	"callbox/board/sim/proslicsim"
	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/firmware/cli/configcli"
	"callbox/firmware/store"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/ccconf"
	"callbox/telephony/ivr"
	"callbox/telephony/pbxconf"
	"callbox/telephony/prompt"
)

// ccMenuHz is the main menu prompt's tone in these tests: the exchange's
// ear tells it from the rest.
const ccMenuHz = 620

// ccTestConfig: group 1 (sales) with agent 1088 (on the analog phone 202
// once logged in) and 1099 (SIP extension 302); the DID 4008 on the trunk
// "carrier" and the line pstn1 (fxo1) route to the flow "main", whose menu
// sends 1 to sales.
func ccTestConfig(t *testing.T) ccconf.Config {
	t.Helper()
	f, err := ivr.ParseFlow([]byte(ccMainFlow))
	if err != nil {
		t.Fatal(err)
	}
	flow := ccconf.Target{Kind: ccconf.TargetFlow, Flow: "main"}
	c := ccconf.Config{
		Version: 1,
		Groups:  []ccconf.Group{{ID: 1, Name: "sales", RingTimeoutS: 15}},
		Agents: []ccconf.Agent{
			{ID: "1088", Name: "Li", PIN: "4321", Groups: []ccconf.Membership{{Group: 1, Skill: 1}}},
			{ID: "1099", Name: "Wang", Device: "302", Groups: []ccconf.Membership{{Group: 1, Skill: 1}}},
		},
		InboundRoutes: []ccconf.InboundRoute{
			{Name: "did", Source: ccconf.SourceTrunk, Trunk: "carrier", DID: "4008", Target: flow},
			{Name: "pstn", Source: ccconf.SourceLine, Trunk: "pstn1", Target: flow},
		},
		Flows: []*ivr.Flow{f},
	}
	c.Normalize()
	if err := c.HashPINs(); err != nil {
		t.Fatal(err)
	}
	return c
}

const ccMainFlow = `{"id": "main", "entry": "menu", "nodes": [
 {"id": "menu", "type": "menu", "prompt": "main-menu", "options": {"1": "sales"}, "timeout": "8s", "fallback": "sales"},
 {"id": "sales", "type": "queue", "group": 1}]}`

// bootCC runs the daemon importing, as it boots, the PBX configuration and
// the call centre's (with its flows), the menu prompt in the prompt
// catalogue.
func bootCC(t *testing.T, rtpMin int, conf pbxconf.Config, c ccconf.Config) *App {
	t.Helper()
	a, _ := bootCCOut(t, rtpMin, conf, c)
	return a
}

// bootCCOut is bootCC that also returns what the daemon prints.
func bootCCOut(t *testing.T, rtpMin int, conf pbxconf.Config, c ccconf.Config) (*App, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	doc, err := configcli.MarshalDocument(configcli.Document{PBX: &conf, CallCentre: &c})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "box.json")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	menu := make([]int16, 8000)
	for i := range menu {
		menu[i] = int16(6000 * math.Sin(2*math.Pi*ccMenuHz*float64(i)/8000))
	}
	cat, err := prompt.Open(prompt.DirIn(dir), prompt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.Put("main-menu", "zh-CN", menu, prompt.Meta{}); err != nil {
		t.Fatal(err)
	}
	return bootImport(t, dir, rtpMin, path)
}

// ccTestPBX is testPBX with the SIP trunk "carrier" (its provider on
// 127.0.0.2) the DID 4008 comes in on.
func ccTestPBX() pbxconf.Config {
	c := testPBX()
	c.Trunks = append(c.Trunks, pbxconf.Trunk{Name: "carrier", Kind: pbxconf.KindSIP, Host: "127.0.0.2", Port: 5060,
		Transport: pbxconf.TransportUDP, Username: "0215550100", Default: "203"})
	return c
}

// storedFacts returns the fact rows stored so far.
func storedFacts(t *testing.T, a *App) []cc.Fact {
	t.Helper()
	var f []cc.Fact
	if err := a.withDB(func(db *store.DB) error {
		var err error
		f, err = (&factStore{db: db}).Facts()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

// hearsTone reports whether hz holds most of the power of x.
func hearsTone(x []int16, hz float64) bool {
	w := 2 * math.Pi * hz / 8000
	c := 2 * math.Cos(w)
	var s1, s2, total float64
	for _, v := range x {
		s := float64(v) + c*s1 - s2
		s2, s1 = s1, s
		total += float64(v) * float64(v)
	}
	if total/float64(max(len(x), 1)) < 100 {
		return false
	}
	return 2*(s1*s1+s2*s2-c*s1*s2)/(float64(len(x))*total) > 0.3
}

func sine8k(hz float64, n int) []int16 {
	x := make([]int16, n)
	for i := range x {
		x[i] = int16(5000 * math.Sin(2*math.Pi*hz*float64(i)/8000))
	}
	return x
}

// The call from a SIP trunk through the daemon: sipp as the
// provider calls DID 4008, keys 1 into the menu by RFC 4733, waits in
// sales; agent 1088, logged in on the analog phone 202, rings with the
// customer's number, answers and talks: the phone's tone goes to the
// provider and comes back (sipp echoes), so audio flows both ways on the
// trunk leg. The agent hangs up, the box ends the call, the fact row is
// in the store.
func TestCallCentreTrunkDIDToAnalogAgent(t *testing.T) {
	needSipp(t)
	t.Parallel()
	far := 0
	if c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)}); err == nil {
		far = c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
	} else {
		t.Fatalf("loopback 127.0.0.2: %v", err)
	}
	conf := ccTestPBX()
	conf.Trunks[len(conf.Trunks)-1].Port = far
	a := bootCC(t, 24200, conf, ccTestConfig(t))
	svc, _ := a.CallCentre()
	if svc == nil {
		t.Fatal("no call centre running")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := svc.Login(ctx, "1088", cc.Device{Extension: "202"}); err != nil {
		t.Fatal(err)
	}
	sb := a.livePorts().Sim()
	p := sb.Phone("fxs2")
	provider := startSipp(t, a.telephony().sipAddr(true), far, "trunk_call_ivr.xml", "-i", "127.0.0.2",
		"-s", "4008", "-key", "caller", "13800138000", "-rtp_echo", "-mp", strconv.Itoa(freeUDP(t)&^1))
	eventually(t, 15*time.Second, "202 ringing with the customer's number", func() bool {
		cid := p.CallerID()
		return len(cid) > 0 && cid[len(cid)-1].Number == "13800138000"
	})
	p.OffHook()
	eventually(t, 3*time.Second, "1088 talking", func() bool {
		st, err := svc.ACD().Agent("1088")
		return err == nil && st.State == acd.Talking
	})
	time.Sleep(500 * time.Millisecond)
	p.ClearHeard()
	p.Speak(sine8k(1100, 8000*2))
	// The emulated line runs slower than the wall clock on a loaded
	// machine: wait for the samples rather than for a time.
	eventually(t, 15*time.Second, "the agent's phone to record 1.5 s", func() bool { return len(p.Heard()) >= 12000 })
	if x := p.Heard(); len(x) < 12000 || !hearsTone(x[4000:12000], 1100) {
		t.Errorf("the agent did not hear their own tone back from the echoing provider (%d samples)", len(x))
	}
	p.OnHook()
	if err := provider.wait(); err != nil {
		t.Fatalf("provider: %v", err)
	}
	eventually(t, 5*time.Second, "the fact row", func() bool {
		f := storedFacts(t, a)
		return len(f) == 1 && f[0].Disposition == "answered" && f[0].Agent == "1088" && !f[0].Ended.IsZero()
	})
	if st, _ := svc.ACD().Agent("1088"); st.State != acd.Idle && st.State != acd.WrapUp {
		t.Fatalf("1088 is %s after the call", st.State)
	}
}

// The call from the PSTN through the daemon: the exchange rings
// fxo1, hears the menu (its tone), keys 1; agent 1099's SIP phone (sipp
// registered as 302, echoing RTP) rings and answers; the exchange's tone
// comes back to it through the agent's leg, so audio flows both ways. The
// caller hangs up: the agent's phone gets its BYE.
func TestCallCentreLineToSIPAgent(t *testing.T) {
	needSipp(t)
	t.Parallel()
	a := bootCC(t, 24600, ccTestPBX(), ccTestConfig(t))
	svc, _ := a.CallCentre()
	box := a.telephony().sipAddr(true)
	agent := echoPhone302(t, box)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := svc.Login(ctx, "1099", cc.Device{}); err != nil {
		t.Fatal(err)
	}
	co := a.livePorts().Sim().CO("fxo1")
	co.Record(8000 * 8)
	if err := co.Ring(si3050sim.Call{CallerID: &callerid.Message{Format: callerid.MDMF, Number: "02588886666"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the box answering the line", co.Answered)
	time.Sleep(1500 * time.Millisecond)
	if x := co.Heard(); !containsTone(x, ccMenuHz) {
		t.Fatalf("the caller did not hear the menu (%d samples)", len(x))
	}
	if err := co.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "1099 talking", func() bool {
		st, err := svc.ACD().Agent("1099")
		return err == nil && st.State == acd.Talking
	})
	time.Sleep(300 * time.Millisecond)
	co.Record(8000 * 3)
	co.Play(sine8k(500, 8000*2))
	eventually(t, 15*time.Second, "the line to record 1.75 s", func() bool { return len(co.Heard()) >= 14000 })
	if x := co.Heard(); len(x) < 14000 || !hearsTone(x[6000:14000], 500) {
		t.Errorf("the caller did not hear their tone back through the SIP agent (%d samples)", len(x))
	}
	if err := co.Hangup(si3050sim.BusyTone, 0); err != nil {
		t.Fatal(err)
	}
	if err := agent.wait(); err != nil {
		t.Fatalf("agent's phone: %v", err)
	}
	eventually(t, 5*time.Second, "the fact row", func() bool {
		f := storedFacts(t, a)
		return len(f) == 1 && f[0].Agent == "1099" && strings.HasPrefix(f[0].Number, "0258")
	})
}

// containsTone reports whether hz holds most of the power of any second
// of x.
func containsTone(x []int16, hz float64) bool {
	for i := 0; i+4000 <= len(x); i += 2000 {
		if hearsTone(x[i:i+4000], hz) {
			return true
		}
	}
	return false
}

// The console's restart in the middle of the day: agents' states with
// their reasons and their phones survive (the call centre is built again
// from the store), and the call centre is running again.
func TestCallCentreSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	a := bootCC(t, 25000, ccTestPBX(), ccTestConfig(t))
	svc, _ := a.CallCentre()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := svc.Login(ctx, "1088", cc.Device{Extension: "202"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetState(ctx, "1088", acd.Break, "lunch", ""); err != nil {
		t.Fatal(err)
	}
	first := a.WebAddr()
	if err := (consoleHost{a}).Restart(); err != nil {
		t.Fatal(err)
	}
	// The whole box is up again once the web admin is (it starts after
	// the call centre).
	eventually(t, 10*time.Second, "the box after the restart", func() bool {
		s, _ := a.CallCentre()
		return s != nil && s != svc && a.WebAddr() != first && a.WebAddr() != ""
	})
	svc2, _ := a.CallCentre()
	st, err := svc2.ACD().Agent("1088")
	if err != nil || st.State != acd.Break || st.Reason != "lunch" {
		t.Fatalf("1088 after the restart: %s %q %v", st.State, st.Reason, err)
	}
	devs, err := svc2.Devices(ctx)
	if err != nil || devs["1088"].Extension != "202" {
		t.Fatalf("devices after the restart: %v %v", devs, err)
	}
}

// A configuration edit through the web API reaches the running service
// without a restart: a new internal number reaches its flow from a phone
// (the switch's dial plan follows); an invalid one is refused and changes
// nothing.
func TestCallCentreApply(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	a, out := bootCCOut(t, 25400, ccTestPBX(), ccTestConfig(t))
	web := adminClient(t, a, out)
	web.call("POST", "/api/v1/inbound-routes", map[string]any{"name": "ivr", "source": "internal", "number": "8000",
		"target": map[string]any{"kind": "flow", "flow": "main"}}, http.StatusCreated)
	if st, m := web.try("POST", "/api/v1/inbound-routes", map[string]any{"name": "bad", "source": "internal", "number": "8001"}); st != http.StatusBadRequest {
		t.Fatalf("a route without a target: %d %v", st, m)
	}
	p := a.livePorts().Sim().Phone("fxs1")
	p.OffHook()
	time.Sleep(300 * time.Millisecond)
	if err := p.Dial("8000"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 8*time.Second, "the menu at 201", func() bool { return containsTone(p.Heard(), ccMenuHz) })
	p.OnHook()
	svc, _ := a.CallCentre()
	if n := len(svc.Config().Config().InboundRoutes); n != 3 {
		t.Fatalf("%d routes in force", n)
	}
}

// An FXS port that fails at run time (its battery lost) makes the agent
// logged in on its phone unavailable (on break, "device unavailable") and
// the figures say the device is down; when the port recovers the agent is
// ready again.
func TestCallCentreFXSPortFault(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	a := bootCC(t, 26600, ccTestPBX(), ccTestConfig(t))
	svc := loginAgent(t, a, "1088", "202")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sb := a.livePorts().Sim()
	if err := sb.SetFault("fxs2", sim.Fault{FXS: proslicsim.VBATLost}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "1088 on break with the port failed", func() bool {
		st, _ := svc.ACD().Agent("1088")
		return st.State == acd.Break && st.Reason == cc.ReasonDeviceDown
	})
	f, err := svc.Figures(ctx)
	if err != nil || len(f.Agents) == 0 || f.Agents[0].Agent != "1088" || !f.Agents[0].DeviceDown {
		t.Fatalf("figures with the port failed: %+v %v", f.Agents, err)
	}
	if err := sb.SetFault("fxs2", sim.Fault{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "1088 ready with the port back", func() bool {
		st, _ := svc.ACD().Agent("1088")
		return st.State == acd.Idle
	})
}

// An agent's outbound figures of the day survive the console's restart
// like the states do: 1088 calls a customer from the desk's service, the
// exchange answers, they talk, 1088 hangs up; after the restart the
// running call centre still shows one outbound call today and its talk.
// Before the fix the restarted box showed none.
func TestCallCentreOutboundSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	conf := ccTestConfig(t)
	conf.CallerIDs = []ccconf.CallerID{{Number: "4008001234", AllAgents: true}}
	a := bootCC(t, 31400, ccTestPBX(), conf)
	svc, _ := a.CallCentre()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := svc.Login(ctx, "1088", cc.Device{Extension: "202"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Dial(ctx, "1088", "13800138000", "4008001234"); err != nil {
		t.Fatal(err)
	}
	sb := a.livePorts().Sim()
	p := sb.Phone("fxs2")
	eventually(t, 15*time.Second, "202 ringing for the outbound call", p.Ringing)
	p.OffHook()
	var co interface{ Answer() error }
	eventually(t, 15*time.Second, "the exchange receiving 13800138000", func() bool {
		for _, port := range []string{"fxo1", "fxo2"} {
			if c := sb.CO(port); strings.Contains(c.Digits(), "13800138000") {
				co = c
				return true
			}
		}
		return false
	})
	if err := co.Answer(); err != nil {
		t.Fatal(err)
	}
	out := func(s *cc.Service) (int, time.Duration) {
		f, err := s.Figures(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, af := range f.Agents {
			if af.Agent == "1088" {
				return af.OutboundToday, af.OutboundTalk
			}
		}
		return 0, 0
	}
	eventually(t, 15*time.Second, "a second of outbound talk", func() bool {
		n, talk := out(svc)
		return n == 1 && talk >= time.Second
	})
	p.OnHook()
	eventually(t, 15*time.Second, "1088 idle after the call", func() bool {
		st, _ := svc.ACD().Agent("1088")
		return st.State == acd.Idle
	})
	calls, talk := out(svc)
	first := a.WebAddr()
	if err := (consoleHost{a}).Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the box after the restart", func() bool {
		s, _ := a.CallCentre()
		return s != nil && s != svc && a.WebAddr() != first && a.WebAddr() != ""
	})
	svc2, _ := a.CallCentre()
	calls2, talk2 := out(svc2)
	if calls2 != calls || talk2 < talk-50*time.Millisecond || talk2 > talk+50*time.Millisecond {
		t.Fatalf("1088's outbound figures after the restart: %d calls, %v talk; before it %d, %v", calls2, talk2, calls, talk)
	}
	if st, _ := svc2.ACD().Agent("1088"); st.State != acd.Idle {
		t.Fatalf("1088 after the restart: %s %q", st.State, st.Reason)
	}
}

// The day's inbound figures survive a restart like the states do: a call
// on the line answered by 1088 on 202, a second one given up while 1088 is
// on a break; the board's figures (the group's offered, answered, within
// the service level, abandoned, timed out, service level; 1088's calls
// and talk today) are the same after the console's restart, and on a box
// started from the store as a kill -9 leaves it (a snapshot of what was
// committed, opened by a new daemon). Before the fix both showed zeros.
func TestCallCentreInboundFiguresSurviveRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	a := bootCC(t, 31800, ccTestPBX(), ccTestConfig(t))
	svc, _ := a.CallCentre()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := svc.Login(ctx, "1088", cc.Device{Extension: "202"}); err != nil {
		t.Fatal(err)
	}
	sb := a.livePorts().Sim()
	p, co := sb.Phone("fxs2"), sb.CO("fxo1")
	call := func(number string) {
		t.Helper()
		if err := co.Ring(si3050sim.Call{CallerID: &callerid.Message{Format: callerid.MDMF, Number: number}}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 15*time.Second, "the box answering the line", co.Answered)
		if err := co.SendDTMF("1"); err != nil {
			t.Fatal(err)
		}
	}
	agent := func(s *cc.Service) acd.AgentStatus {
		st, err := s.ACD().Agent("1088")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	call("02588886666")
	eventually(t, 15*time.Second, "202 ringing", p.Ringing)
	p.OffHook()
	eventually(t, 15*time.Second, "a second of talk", func() bool {
		st := agent(svc)
		return st.State == acd.Talking && st.TalkTime >= time.Second
	})
	if err := co.Hangup(si3050sim.BusyTone, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "1088 done with the call", func() bool { return agent(svc).State != acd.Talking })
	p.OnHook()
	eventually(t, 15*time.Second, "the line free", func() bool { return !co.BoxOffHook() })
	if err := svc.SetState(ctx, "1088", acd.Break, "lunch", ""); err != nil {
		t.Fatal(err)
	}
	call("02588887777")
	eventually(t, 15*time.Second, "the second caller waiting", func() bool { return len(svc.ACD().Waiting()) == 1 })
	if err := co.Hangup(si3050sim.BusyTone, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the caller gone", func() bool { return len(svc.ACD().Waiting()) == 0 })
	eventually(t, 15*time.Second, "both fact rows ended", func() bool {
		n := 0
		for _, f := range storedFacts(t, a) {
			if !f.Ended.IsZero() {
				n++
			}
		}
		return n == 2
	})
	q, st := svc.ACD().Queues()[0], agent(svc)
	q.LongestWait = 0
	if q.Offered != 2 || q.Answered != 1 || q.Abandoned != 1 || st.Answered != 1 || st.TalkTime < time.Second {
		t.Fatalf("before the restart: %+v; 1088 %d calls, %v talk", q, st.Answered, st.TalkTime)
	}
	same := func(when string, s *cc.Service) {
		t.Helper()
		q2, st2 := s.ACD().Queues()[0], agent(s)
		q2.LongestWait = 0
		// The talk is counted from the status log's times, the engine's to
		// the nanosecond.
		if q2 != q || st2.Answered != st.Answered || (st2.TalkTime-st.TalkTime).Abs() > time.Millisecond {
			t.Fatalf("%s: %+v; 1088 %d calls, %v talk\nbefore: %+v; %d calls, %v talk", when, q2, st2.Answered, st2.TalkTime,
				q, st.Answered, st.TalkTime)
		}
	}

	// kill -9: what the store committed, opened by a new daemon.
	dir := t.TempDir()
	if err := a.withDB(func(db *store.DB) error {
		f, err := os.Create(filepath.Join(dir, "callbox.db"))
		if err != nil {
			return err
		}
		if _, err := db.WriteTo(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}); err != nil {
		t.Fatal(err)
	}
	b, _ := bootImport(t, dir, 32200, "")
	eventually(t, 30*time.Second, "the second box's call centre", func() bool { s, _ := b.CallCentre(); return s != nil })
	svcB, _ := b.CallCentre()
	same("on the box started from the killed one's store", svcB)

	first := a.WebAddr()
	if err := (consoleHost{a}).Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the box after the restart", func() bool {
		s, _ := a.CallCentre()
		return s != nil && s != svc && a.WebAddr() != first && a.WebAddr() != ""
	})
	svc2, _ := a.CallCentre()
	same("after the console's restart", svc2)
}
