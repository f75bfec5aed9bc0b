package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"callbox/dsp/callerid/fsk"
	"callbox/firmware/store"
	"callbox/telephony/line"
	"callbox/telephony/media/rtpstream"
	"callbox/telephony/pbxconf"
	"callbox/telephony/switch/cdr"
	"callbox/webui"
)

func TestAdaptPBX(t *testing.T) {
	c := testPBX()
	c.Trunks[1].CallerID = "etsi-dtas"
	c.Extensions[0].Forward = pbxconf.Forward{NoAnswer: "302", NoAnswerS: 15}
	c.Extensions[1].CallerIDName = "Front desk"
	c.Extensions[1].DND = true
	c.Extensions[5].NAT = true // 302
	c.Trunks = append(c.Trunks, pbxconf.Trunk{Name: "remote", Kind: pbxconf.KindSIP, Host: "203.0.113.9", NAT: true}, pbxconf.Trunk{Name: "carrier", Kind: pbxconf.KindSIP, Host: "sip.example.net",
		Transport: "tcp", Username: "0215550100", Secret: "trunk-secret", Register: true, Default: "301"})
	c.Routes = append(c.Routes, pbxconf.Route{Name: "mobile", Patterns: []string{"01[3-9]XXXXXXXXX"},
		Trunks: []string{"carrier", "pstn1"}, CallerID: "0215550100", Allowed: []string{"301"}, Blocked: []string{"0138."}})
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	sc := adaptPBX(c, "CN")
	if got := sc.plan.Extensions; !slices.Equal(got, []string{"201", "202", "203", "204", "301", "302"}) {
		t.Errorf("plan extensions %v", got)
	}
	for _, tc := range []struct {
		what string
		got  any
		want any
	}{
		{"201 port", sc.exts[0].Port, "fxs1"},
		{"201 no-answer forward", sc.exts[0].ForwardNoAnswer, "302"},
		{"201 ring time", sc.exts[0].RingTimeout, 15 * time.Second},
		{"202 caller ID name", sc.exts[1].Name, "Front desk"},
		{"202 dnd", sc.exts[1].DND, true},
		{"301 is sip", sc.exts[4].Port, ""},
		{"301 secret", sc.secrets["301"].Password, "phone-a-7kq2m"},
		{"analog has no secret", len(sc.secrets), 2},
		{"fxo1 rings 203", sc.inbound["fxo1"], "203"},
		{"carrier rings 301", sc.inbound["carrier"], "301"},
		{"fxo1 answers after", sc.fxo["fxo1"].AnswerAfterRings, 2},
		{"fxo1 bellcore modem", sc.fxo["fxo1"].CallerIDModem, fsk.Bell202},
		{"fxo2 etsi modem", sc.fxo["fxo2"].CallerIDModem, fsk.V23},
		{"out route on fxo2", fmt.Sprint(sc.plan.Routes[0].Trunks), "[fxo2]"},
		{"mobile route trunks", fmt.Sprint(sc.plan.Routes[1].Trunks), "[carrier fxo1]"},
		{"mobile route callers", fmt.Sprint(sc.plan.Routes[1].Callers), "[301]"},
		{"route blocked is the route's", fmt.Sprint(sc.plan.Routes[1].Blocked, slices.Contains(sc.plan.Blocked, "0138.")), "[0138.] false"},
		{"global blocked kept", slices.Contains(sc.plan.Blocked, "00."), true},
		{"trunk proxy", sc.trunks[1].Proxy, "sip.example.net:5060"},
		{"trunk transport", sc.trunks[1].Transport, "TCP"},
		{"trunk register", sc.trunks[1].Register, true},
		{"302 through NAT", sc.nat.allows("302", ""), true},
		{"301 not through NAT", sc.nat.allows("301", ""), false},
		{"remote trunk through NAT", sc.nat.allows("302", "remote"), true},
		{"carrier not through NAT", sc.nat.allows("", "carrier"), false},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.what, tc.got, tc.want)
		}
	}
}

func TestEventRing(t *testing.T) {
	var q eventRing[line.FXSEvent]
	if _, ok := q.pop(); ok {
		t.Fatal("empty ring gave an event")
	}
	for i := range 70 {
		q.push(line.FXSEvent{Kind: line.PulseDigit, Digit: byte('0' + i%10)})
	}
	if q.dropped.Load() != 6 {
		t.Errorf("dropped %d, want 6", q.dropped.Load())
	}
	for i := range 64 {
		e, ok := q.pop()
		if !ok || e.Digit != byte('0'+i%10) {
			t.Fatalf("event %d: %+v %v", i, e, ok)
		}
	}
	if _, ok := q.pop(); ok {
		t.Fatal("ring gave more than it held")
	}
	// The tick's side (pop) and the driver's (push) never allocate.
	if n := testing.AllocsPerRun(100, func() {
		q.push(line.FXSEvent{Kind: line.OffHook})
		q.pop()
		q.pop()
	}); n != 0 {
		t.Errorf("%v allocations per push and pop", n)
	}
}

func TestRTPPorts(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	lo := netip.MustParseAddr("127.0.0.1")
	// Someone else holds 33002's RTCP port: that pair is skipped.
	other, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 33003})
	if err != nil {
		t.Skip("port 33003 is taken on this machine")
	}
	defer other.Close()
	r, err := newRTPPorts(lo, lo, 33001, 33007) // pairs 33002, 33004, 33006
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for {
		a, err := r.AllocRTP()
		if errors.Is(err, rtpstream.ErrNoPorts) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, int(a.Port()))
	}
	slices.Sort(got)
	if !slices.Equal(got, []int{33004, 33006}) || r.InUse() != 2 {
		t.Fatalf("allocated %v (%d in use), want 33004 and 33006", got, r.InUse())
	}
	r.ReleaseRTP(netip.AddrPortFrom(lo, 33004))
	if a, err := r.AllocRTP(); err != nil || a.Port() != 33004 {
		t.Fatalf("after release: %v %v", a, err)
	}
	// Stopping frees every reservation: the ports can be bound again.
	r.closeAll()
	if r.InUse() != 0 {
		t.Fatalf("%d in use after closeAll", r.InUse())
	}
	for _, port := range []int{33004, 33005, 33006, 33007} {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err != nil {
			t.Fatalf("port %d still held after closeAll: %v", port, err)
		}
		c.Close()
	}
	if _, err := newRTPPorts(lo, lo, 40000, 40000); err == nil {
		t.Error("a range without an even/odd pair was accepted")
	}
}

func TestCDRStoreAndPages(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "callbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := newCDRWriter(db, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	w.start(ctx)
	t0 := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for i := range 5 {
		start := t0.Add(time.Duration(i) * time.Minute)
		w.Write(cdr.Record{ID: fmt.Sprintf("call-%d", i), From: "201", To: "202", Start: start,
			Answer: start.Add(3 * time.Second), End: start.Add(63500 * time.Millisecond),
			Disposition: cdr.Answered, Trunk: "fxs1", Cause: "normal",
			Legs: []cdr.Leg{{Channel: "fxs1", Kind: "fxs", Party: "201", Start: start, End: start.Add(time.Minute)}}})
	}
	cancel()
	w.wait() // what was queued is stored before the writer ends
	if w.written.Load() != 5 {
		t.Fatalf("%d written", w.written.Load())
	}
	page, next, err := listCDRs(db, t0.Add(time.Minute), time.Time{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || page[0].ID != "call-1" || page[1].ID != "call-2" || !next.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("page %+v next %v", page, next)
	}
	c := page[0]
	if c.Disposition != "answered" || c.BillableS != 61 || c.DurationS != 63.5 || len(c.Legs) != 1 || c.Legs[0].Channel != "fxs1" {
		t.Fatalf("stored CDR %+v", c)
	}
	page, next, err = listCDRs(db, next, t0.Add(4*time.Minute), 10)
	if err != nil || len(page) != 1 || page[0].ID != "call-3" || !next.IsZero() {
		t.Fatalf("last page %+v next %v err %v", page, next, err)
	}
	b, _ := json.Marshal(page[0])
	var back map[string]any
	_ = json.Unmarshal(b, &back)
	if back["start"] != "2026-11-21T09:03:00Z" || back["billable_s"] != 61.0 {
		t.Errorf("JSON form %s", b)
	}
}

// A SIP extension added through the web API can register at once: the
// registrar's directory follows the store.
func TestReconfigureFromTheWebAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	t.Parallel() // each test has its own daemon, ports and RTP range
	a := bootTelephony(t, 21800)
	tel := a.telephony()
	if _, ok := tel.dir.Extension("303"); ok {
		t.Fatal("303 known before it was created")
	}
	obj := json.RawMessage(`{"number":"303","name":"Soft 303","kind":"sip","secret":"phone-c-9xs4p"}`)
	if _, err := (pbxStore{a}).PBXCreate(context.Background(), webui.PBXExtensions, obj); err != nil {
		t.Fatal(err)
	}
	if e, ok := tel.dir.Extension("303"); !ok || e.Password != "phone-c-9xs4p" {
		t.Fatalf("directory after create: %+v %v", e, ok)
	}
	status := strings.Join(consoleHost{a}.Status(), "\n")
	if !strings.Contains(status, "calls: 0 active, 0 RTP streams") || !strings.Contains(status, "sip: udp 127.0.0.1:") {
		t.Errorf("console status:\n%s", status)
	}
	if err := (pbxStore{a}).PBXDelete(context.Background(), webui.PBXExtensions, "303"); err != nil {
		t.Fatal(err)
	}
	if _, ok := tel.dir.Extension("303"); ok {
		t.Fatal("303 still known after delete")
	}
}
