package app

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/ccconf"
)

// loginAs opens a web session as login.
func loginAs(t *testing.T, base, login, password string) *webClient {
	t.Helper()
	c := newWebClient(t, base)
	c.call("GET", "/api/v1/session", nil, http.StatusOK)
	c.call("POST", "/api/v1/login", map[string]any{"login": login, "password": password}, http.StatusOK)
	return c
}

// get fetches path as c and returns its status and body (page without the
// status).
func (w *webClient) get(path string) (int, string) {
	w.t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, w.base+path, nil)
	if w.lang != "" {
		req.Header.Set("Accept-Language", w.lang)
	}
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// callSales rings the box on fxo1 from number and keys 1 in the menu
// once the box answered: the caller waits for sales.
func callSales(t *testing.T, a *App, number string) *si3050sim.CO {
	t.Helper()
	co := a.livePorts().Sim().CO("fxo1")
	if err := co.Ring(si3050sim.Call{CallerID: &callerid.Message{Format: callerid.MDMF, Number: number}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the box answering the line", co.Answered)
	time.Sleep(1500 * time.Millisecond)
	if err := co.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	return co
}

// agentFigure finds an agent's line in GET /api/v1/cc/figures.
func agentFigure(t *testing.T, sup *webClient, agent string) map[string]any {
	t.Helper()
	for _, x := range sup.call("GET", "/api/v1/cc/figures", nil, http.StatusOK)["agents"].([]any) {
		if m := x.(map[string]any); m["agent"] == agent {
			return m
		}
	}
	t.Fatalf("agent %s not in the figures", agent)
	return nil
}

// The live call centre through the daemon's web server, as each role: an
// agent logging in to the desk from a bound PC is logged in on the PC's
// extension and acts on itself only; a call from the PSTN rings it there;
// the supervisor cannot change its state while it rings or talks (the
// reason said), sees the service, monitors it from another phone and
// switches to whisper; the agent holds, resumes, sends DTMF, records,
// hangs up and ends wrap-up; the figures, the waiting list, the services
// and the CSV exports answer; the agent's web logout unbinds it. An
// anonymous request gets 401, an agent's request for another agent or for
// the supervisors' lists 403, unknown agents and calls 404, bad
// parameters 400 naming the field.
func TestCallCentreLiveAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	c := ccTestConfig(t)
	c.Bindings = []ccconf.Binding{{PC: "127.0.0.1", Extension: "202"}}
	a, out := bootCCOut(t, 26200, ccTestPBX(), c)
	admin := adminClient(t, a, out)
	admin.call("POST", "/api/v1/users", map[string]any{"login": "1088", "role": "agent", "password": "Paper-Lantern-51"}, http.StatusCreated)
	admin.call("POST", "/api/v1/users", map[string]any{"login": "sup", "role": "supervisor", "password": "Kettle-Drum-43"}, http.StatusCreated)
	svc, _ := a.CallCentre()

	anon := newWebClient(t, admin.base)
	anon.call("GET", "/api/v1/session", nil, http.StatusOK)
	anon.call("POST", "/api/v1/cc/agents/1088/state", map[string]any{"state": "ready"}, http.StatusUnauthorized)

	// The desk login from the bound PC logs 1088 in on 202.
	agent := loginAs(t, admin.base, "1088", "Paper-Lantern-51")
	sup := loginAs(t, admin.base, "sup", "Kettle-Drum-43")
	if f := agentFigure(t, sup, "1088"); f["state"] != "idle" || f["device"].(map[string]any)["extension"] != "202" {
		t.Fatalf("1088 after the desk login: %v", f)
	}
	agent.call("POST", "/api/v1/cc/agents/1088/state", map[string]any{"state": "break", "reason": "lunch"}, http.StatusNoContent)
	if st, err := svc.ACD().Agent("1088"); err != nil || st.State != acd.Break || st.Reason != "lunch" {
		t.Fatalf("1088 on break: %+v %v", st, err)
	}
	if st, m := agent.try("POST", "/api/v1/cc/agents/1088/state", map[string]any{"state": "asleep"}); st != http.StatusBadRequest || m["field"] != "state" {
		t.Fatalf("a state that is none: %d %v", st, m)
	}
	if st, m := agent.try("POST", "/api/v1/cc/agents/1088/state", map[string]any{"mood": "good"}); st != http.StatusBadRequest || m["field"] != "mood" {
		t.Fatalf("an unknown field: %d %v", st, m)
	}
	agent.call("POST", "/api/v1/cc/agents/1099/state", map[string]any{"state": "ready"}, http.StatusForbidden)
	agent.call("GET", "/api/v1/cc/figures", nil, http.StatusForbidden)
	agent.call("POST", "/api/v1/cc/calls/x/teardown", nil, http.StatusForbidden)
	sup.call("POST", "/api/v1/cc/agents/9999/state", map[string]any{"state": "ready"}, http.StatusNotFound)
	sup.call("POST", "/api/v1/cc/agents/1088/fly", nil, http.StatusNotFound)
	sup.call("POST", "/api/v1/cc/calls/nope/teardown", nil, http.StatusNotFound)
	agent.call("POST", "/api/v1/cc/agents/1088/hold", nil, http.StatusConflict) // no call
	agent.call("POST", "/api/v1/cc/agents/1088/state", map[string]any{"state": "ready"}, http.StatusNoContent)

	// A call from the PSTN: the menu, 1, 1088 rings on 202.
	callSales(t, a, "02588886666")
	eventually(t, 10*time.Second, "1088 ringing", func() bool {
		st, _ := svc.ACD().Agent("1088")
		return st.State == acd.Ringing
	})
	st, m := sup.try("POST", "/api/v1/cc/agents/1088/state", map[string]any{"state": "break"})
	if st != http.StatusConflict || !strings.Contains(m["error"].(string), "ringing or talking") {
		t.Fatalf("a supervisor setting a ringing agent's state: %d %v", st, m)
	}
	phone := a.livePorts().Sim().Phone("fxs2")
	phone.OffHook()
	eventually(t, 5*time.Second, "1088 talking", func() bool {
		st, _ := svc.ACD().Agent("1088")
		return st.State == acd.Talking
	})
	sup.call("POST", "/api/v1/cc/agents/1088/logout", nil, http.StatusConflict)
	var services []any // listed a moment after the agent turns talking
	eventually(t, 5*time.Second, "the service listed", func() bool {
		services = sup.call("GET", "/api/v1/cc/services", nil, http.StatusOK)["services"].([]any)
		return len(services) == 1
	})
	if services[0].(map[string]any)["agent"] != "1088" {
		t.Fatalf("services: %v", services)
	}
	call := services[0].(map[string]any)["call"].(string)

	// The agent sees its own line with the service it is in.
	if me := agent.call("GET", "/api/v1/cc/agents/1088", nil, http.StatusOK); me["state"] != "talking" ||
		me["service"].(map[string]any)["call"] != call || me["registered"] != true {
		t.Fatalf("the agent's own line: %v", me)
	}
	agent.call("GET", "/api/v1/cc/agents/1099", nil, http.StatusForbidden)

	// The agent's in-call operations.
	agent.call("POST", "/api/v1/cc/agents/1088/hold", nil, http.StatusNoContent)
	if s := sup.call("GET", "/api/v1/cc/services", nil, http.StatusOK)["services"].([]any)[0].(map[string]any); s["held"] != true {
		t.Fatalf("held service: %v", s)
	}
	agent.call("POST", "/api/v1/cc/agents/1088/resume", nil, http.StatusNoContent)
	agent.call("POST", "/api/v1/cc/agents/1088/dtmf", map[string]any{"digits": "12#"}, http.StatusNoContent)
	if st, m := agent.try("POST", "/api/v1/cc/agents/1088/dtmf", map[string]any{"digits": "x"}); st != http.StatusConflict {
		t.Fatalf("a key that is none: %d %v", st, m)
	}
	agent.call("POST", "/api/v1/cc/agents/1088/record", map[string]any{"on": true}, http.StatusNoContent)
	eventually(t, 3*time.Second, "the service recorded", func() bool {
		s := sup.call("GET", "/api/v1/cc/services", nil, http.StatusOK)["services"].([]any)
		return len(s) == 1 && s[0].(map[string]any)["recorded"] == true
	})
	agent.call("POST", "/api/v1/cc/agents/1088/record", map[string]any{"on": false}, http.StatusNoContent)
	if st, m := agent.try("POST", "/api/v1/cc/agents/1088/transfer", map[string]any{"target": map[string]any{"kind": "moon", "value": "1"}}); st != http.StatusBadRequest || m["field"] != "target" {
		t.Fatalf("a transfer to nowhere: %d %v", st, m)
	}
	if st, m := agent.try("POST", "/api/v1/cc/agents/1088/play", map[string]any{"prompts": []string{"a", "b", "c", "d"}}); st != http.StatusBadRequest || m["field"] != "prompts" {
		t.Fatalf("four prompts: %d %v", st, m)
	}

	// The supervisor monitors from 201 and whispers.
	sup.call("POST", "/api/v1/cc/calls/"+call+"/monitor", map[string]any{"phone": "201"}, http.StatusNoContent)
	mon := a.livePorts().Sim().Phone("fxs1")
	eventually(t, 5*time.Second, "201 ringing for the monitor", mon.Ringing)
	mon.OffHook()
	time.Sleep(300 * time.Millisecond)
	sup.call("POST", "/api/v1/cc/calls/"+call+"/monitor-mode", map[string]any{"state": "whisper"}, http.StatusNoContent)
	if st, m := sup.try("POST", "/api/v1/cc/calls/"+call+"/monitor-mode", map[string]any{"state": "shout"}); st != http.StatusBadRequest || m["field"] != "state" {
		t.Fatalf("a monitor mode that is none: %d %v", st, m)
	}
	agent.call("POST", "/api/v1/cc/calls/"+call+"/monitor-mode", map[string]any{"state": "barge"}, http.StatusForbidden)
	mon.OnHook()

	// The agent hangs up the caller, ends wrap-up.
	agent.call("POST", "/api/v1/cc/agents/1088/hangup", nil, http.StatusNoContent)
	eventually(t, 5*time.Second, "1088 out of the call", func() bool {
		st, _ := svc.ACD().Agent("1088")
		return st.State == acd.WrapUp || st.State == acd.Idle
	})
	phone.OnHook()
	if st, _ := svc.ACD().Agent("1088"); st.State == acd.WrapUp {
		agent.call("POST", "/api/v1/cc/agents/1088/wrap-up-done", nil, http.StatusNoContent)
	}
	eventually(t, 3*time.Second, "1088 ready", func() bool { return agentFigure(t, sup, "1088")["state"] == "idle" })

	// Figures, lists and exports.
	f := sup.call("GET", "/api/v1/cc/figures", nil, http.StatusOK)
	if q := f["queues"].([]any); len(q) != 1 || q[0].(map[string]any)["answered"] != 1.0 {
		t.Fatalf("queue figures: %v", q)
	}
	if !strings.Contains(f["sl_formula"].(string), "answered") {
		t.Fatalf("no service-level formula: %v", f["sl_formula"])
	}
	if w := sup.call("GET", "/api/v1/cc/waiting", nil, http.StatusOK)["waiting"].([]any); len(w) != 0 {
		t.Fatalf("waiting: %v", w)
	}
	admin.call("GET", "/api/v1/cc/figures", nil, http.StatusOK)
	eventually(t, 5*time.Second, "the fact row in the export", func() bool {
		st, body := sup.get("/api/v1/cc/facts.csv")
		return st == http.StatusOK && strings.Contains(body, "02588886666") && strings.Contains(body, "1088")
	})
	if st, body := sup.get("/api/v1/cc/status.csv"); st != http.StatusOK || !strings.Contains(body, "1088") || !strings.Contains(body, "lunch") {
		t.Fatalf("status export: %d %q", st, body)
	}
	if st, _ := agent.get("/api/v1/cc/facts.csv"); st != http.StatusForbidden {
		t.Fatalf("an agent exporting the facts: %d", st)
	}
	if st, _ := sup.get("/api/v1/cc/facts.csv?from=yesterday"); st != http.StatusBadRequest {
		t.Fatalf("a bad from: %d", st)
	}

	// The desk's logout unbinds the agent.
	agent.call("POST", "/api/v1/logout", nil, http.StatusOK)
	if st, _ := svc.ACD().Agent("1088"); st.State != acd.Offline {
		t.Fatalf("1088 after the desk logout: %s", st.State)
	}
}

// A SIP agent transfers a call, through the daemon: the exchange rings
// fxo1, the caller keys 1, agent 1099's SIP phone (sipp registered as 302,
// echoing RTP) answers; the agent's desk transfers the caller blind to the
// analog extension 203, whose phone rings with the customer's number and
// answers; the caller's tone reaches 203; the SIP phone gets its BYE; the
// fact row records the transfer.
func TestCallCentreSIPAgentTransfers(t *testing.T) {
	needSipp(t)
	t.Parallel()
	a, out := bootCCOut(t, 26900, ccTestPBX(), ccTestConfig(t))
	admin := adminClient(t, a, out)
	admin.call("POST", "/api/v1/users", map[string]any{"login": "1099", "role": "agent", "password": "Paper-Lantern-52"}, http.StatusCreated)
	desk := loginAs(t, admin.base, "1099", "Paper-Lantern-52")
	svc, _ := a.CallCentre()
	phone := echoPhone302(t, a.telephony().sipAddr(true))
	desk.call("POST", "/api/v1/cc/agents/1099/login", nil, http.StatusNoContent)
	co := callSales(t, a, "02588886666")
	eventually(t, 10*time.Second, "1099 talking", func() bool {
		st, _ := svc.ACD().Agent("1099")
		return st.State == acd.Talking
	})
	desk.call("POST", "/api/v1/cc/agents/1099/transfer", map[string]any{"target": map[string]any{"kind": "extension", "value": "203"}}, http.StatusNoContent)
	if err := phone.wait(); err != nil {
		t.Fatalf("the agent's SIP phone: %v", err)
	}
	p := a.livePorts().Sim().Phone("fxs3")
	eventually(t, 10*time.Second, "203 ringing with the customer's number", func() bool {
		cid := p.CallerID()
		return p.Ringing() && len(cid) > 0 && strings.HasSuffix(cid[len(cid)-1].Number, "88886666")
	})
	p.OffHook()
	time.Sleep(500 * time.Millisecond)
	p.ClearHeard()
	co.Play(sine8k(500, 8000*2))
	// The emulated lines run slower than the wall clock under load: wait
	// for the samples.
	eventually(t, 15*time.Second, "203 to record 1.5 s", func() bool { return len(p.Heard()) >= 12000 })
	if x := p.Heard(); len(x) < 12000 || !hearsTone(x[4000:12000], 500) {
		t.Errorf("203 did not hear the caller after the transfer (%d samples)", len(x))
	}
	if st, _ := svc.ACD().Agent("1099"); st.State == acd.Talking {
		t.Fatalf("1099 still talking after a blind transfer")
	}
	p.OnHook()
	eventually(t, 10*time.Second, "the fact row with the transfer", func() bool {
		f := storedFacts(t, a)
		return len(f) == 1 && f[0].Agent == "1099" && len(f[0].Transfers) == 1
	})
}

// A SIP agent transfers from the phone: agent 1099's phone (sipp
// registered as 302) answers the queue call and keys the in-call menu's
// blind transfer *2 203 # as RFC 4733 events; the box hangs the agent up,
// rings 203 with the customer's number, the caller's tone reaches 203, and
// the fact row records the transfer.
func TestCallCentreSIPAgentKeysTransfer(t *testing.T) {
	needSipp(t)
	t.Parallel()
	a := bootCC(t, 30600, ccTestPBX(), ccTestConfig(t))
	svc, _ := a.CallCentre()
	box := a.telephony().sipAddr(true)
	uas := freeUDP(t)
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.pcap")
	writeDTMFPcap(t, keys, "*2203#")
	sc, err := os.ReadFile(filepath.Join("testdata", "agent_star2.xml"))
	if err != nil {
		t.Fatal(err)
	}
	scenario := filepath.Join(dir, "agent_star2.xml")
	if err := os.WriteFile(scenario, bytes.ReplaceAll(sc, []byte("KEYS_PCAP"), []byte(keys)), 0o600); err != nil {
		t.Fatal(err)
	}
	phone := startSipp(t, box, uas, scenario, "-mp", strconv.Itoa(freeUDP(t)&^1))
	registerPhone(t, box, "302", "phone-b-8wr3n", uas)
	if err := svc.Login(context.Background(), "1099", cc.Device{}); err != nil {
		t.Fatal(err)
	}
	co := callSales(t, a, "02588886666")
	eventually(t, 10*time.Second, "1099 talking", func() bool {
		st, _ := svc.ACD().Agent("1099")
		return st.State == acd.Talking
	})
	if err := phone.wait(); err != nil {
		t.Fatalf("the agent's SIP phone: %v", err)
	}
	p := a.livePorts().Sim().Phone("fxs3")
	eventually(t, 10*time.Second, "203 ringing with the customer's number", func() bool {
		cid := p.CallerID()
		return p.Ringing() && len(cid) > 0 && strings.HasSuffix(cid[len(cid)-1].Number, "88886666")
	})
	p.OffHook()
	time.Sleep(500 * time.Millisecond)
	p.ClearHeard()
	co.Play(sine8k(500, 8000*2))
	eventually(t, 15*time.Second, "203 to record 1.5 s", func() bool { return len(p.Heard()) >= 12000 })
	if x := p.Heard(); len(x) < 12000 || !hearsTone(x[4000:12000], 500) {
		t.Errorf("203 did not hear the caller after the transfer (%d samples)", len(x))
	}
	p.OnHook()
	eventually(t, 10*time.Second, "the fact row with the transfer", func() bool {
		f := storedFacts(t, a)
		return len(f) == 1 && f[0].Agent == "1099" && len(f[0].Transfers) == 1
	})
}

// writeDTMFPcap writes keys as RFC 4733 events (payload type 101) in one
// RTP stream, as sipp's play_pcap_audio plays them: each key 100 ms long
// (packets every 20 ms, the end sent three times), 300 ms apart.
func writeDTMFPcap(t *testing.T, path, keys string) {
	t.Helper()
	codes := map[rune]byte{'*': 10, '#': 11}
	for d := '0'; d <= '9'; d++ {
		codes[d] = byte(d - '0')
	}
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write(le.AppendUint32(nil, 0xa1b2c3d4))
	b.Write(le.AppendUint16(nil, 2))
	b.Write(le.AppendUint16(nil, 4))
	b.Write(make([]byte, 8))
	b.Write(le.AppendUint32(nil, 65535))
	b.Write(le.AppendUint32(nil, 1)) // Ethernet
	var at time.Duration             // the packet's time in the capture
	seq, ts := uint16(1000), uint32(16000)
	packet := func(marker bool, code byte, end bool, dur uint16) {
		rtp := []byte{0x80, 101, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, code, 10, 0, 0}
		if marker {
			rtp[1] |= 0x80
		}
		if end {
			rtp[13] |= 0x80
		}
		binary.BigEndian.PutUint16(rtp[2:], seq)
		binary.BigEndian.PutUint32(rtp[4:], ts)
		binary.BigEndian.PutUint16(rtp[14:], dur)
		seq++
		udp := binary.BigEndian.AppendUint16(nil, 40000)
		udp = binary.BigEndian.AppendUint16(udp, 40002)
		udp = binary.BigEndian.AppendUint16(udp, uint16(8+len(rtp)))
		udp = append(udp, 0, 0)
		ip := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1}
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(udp)+len(rtp)))
		frame := append(append(append(make([]byte, 12), 0x08, 0x00), ip...), append(udp, rtp...)...)
		b.Write(le.AppendUint32(nil, uint32(at/time.Second)))
		b.Write(le.AppendUint32(nil, uint32(at%time.Second/time.Microsecond)))
		b.Write(le.AppendUint32(nil, uint32(len(frame))))
		b.Write(le.AppendUint32(nil, uint32(len(frame))))
		b.Write(frame)
	}
	for _, k := range keys {
		code, ok := codes[k]
		if !ok {
			t.Fatalf("no RFC 4733 event for %q", k)
		}
		for i := range 5 {
			packet(i == 0, code, false, uint16(160*(i+1)))
			at += 20 * time.Millisecond
		}
		for range 3 {
			packet(false, code, true, 800)
		}
		at += 300 * time.Millisecond
		ts += 8 * 400 // the next key's start, 400 ms on
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMonitorWithoutPhoneNumber: a supervisor's web login need not be a
// work number. One with a work number (lead, agent 1099, whose phone is
// fxs1) monitors with no phone given: the box calls 1099's phone, and the
// mode switches by the same login. One without (chief) must name the phone:
// asked without one, the API says so by the field. Before the fix the box
// looked for an agent named like the login: lead got a 500 and no ring.
func TestMonitorWithoutPhoneNumber(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	c := ccTestConfig(t)
	c.Agents[1].Device = "201"
	c.Agents[1].Supervisor = true
	a, out := bootCCOut(t, 30200, ccTestPBX(), c)
	admin := adminClient(t, a, out)
	admin.call("POST", "/api/v1/users", map[string]any{"login": "lead", "role": "supervisor", "agent": "1099", "password": "Kettle-Drum-44"}, http.StatusCreated)
	admin.call("POST", "/api/v1/users", map[string]any{"login": "chief", "role": "supervisor", "password": "Kettle-Drum-45"}, http.StatusCreated)
	lead := loginAs(t, admin.base, "lead", "Kettle-Drum-44")
	chief := loginAs(t, admin.base, "chief", "Kettle-Drum-45")
	svc, _ := a.CallCentre()

	admin.call("POST", "/api/v1/cc/agents/1088/login", map[string]any{"device": "202"}, http.StatusNoContent)
	admin.call("POST", "/api/v1/cc/agents/1088/state", map[string]any{"state": "ready"}, http.StatusNoContent)
	callSales(t, a, "02588886666")
	eventually(t, 10*time.Second, "1088 ringing", func() bool {
		st, _ := svc.ACD().Agent("1088")
		return st.State == acd.Ringing
	})
	a.livePorts().Sim().Phone("fxs2").OffHook()
	eventually(t, 5*time.Second, "1088 talking", func() bool {
		st, _ := svc.ACD().Agent("1088")
		return st.State == acd.Talking
	})
	// The agent's state turns to talking a moment before the service is
	// listed (the bridge and its recording follow the answer).
	var services []any
	eventually(t, 5*time.Second, "the service listed", func() bool {
		services = lead.call("GET", "/api/v1/cc/services", nil, http.StatusOK)["services"].([]any)
		return len(services) == 1
	})
	call := services[0].(map[string]any)["call"].(string)

	if st, m := chief.try("POST", "/api/v1/cc/calls/"+call+"/monitor", nil); st != http.StatusBadRequest || m["field"] != "phone" {
		t.Fatalf("a supervisor without a work number or phone: %d %v", st, m)
	}
	lead.call("POST", "/api/v1/cc/calls/"+call+"/monitor", nil, http.StatusNoContent)
	mon := a.livePorts().Sim().Phone("fxs1")
	eventually(t, 5*time.Second, "1099's phone 201 ringing for the monitor", mon.Ringing)
	mon.OffHook()
	time.Sleep(300 * time.Millisecond)
	lead.call("POST", "/api/v1/cc/calls/"+call+"/monitor-mode", map[string]any{"state": "whisper"}, http.StatusNoContent)
	lead.call("POST", "/api/v1/cc/calls/"+call+"/monitor-mode", map[string]any{"state": "barge"}, http.StatusNoContent)
	mon.OnHook()
}
