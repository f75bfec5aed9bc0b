package cc_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/dsp/fax/t30"
	"callbox/dsp/fax/t4"
	"callbox/dsp/fax/tiff"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/ccconf"
	"callbox/telephony/fax"
	"callbox/telephony/fax/faxtest"
	"callbox/telephony/media"
	callswitch "callbox/telephony/switch"
)

// faxBox is the fax service of the rig's box: the real telephony/fax
// Service on the rig's switch, its faxes kept in memory, its documents
// by name.
type faxBox struct {
	svc  *fax.Service
	docs map[string][]byte

	mu    sync.Mutex
	recs  map[string]fax.Record
	pages map[string][]*t4.Page
}

func (b *faxBox) OnLeg(c *callswitch.AppCall, leg callswitch.LegID, call, number string, doc []byte, done func(fax.Record)) (fax.Record, error) {
	return b.svc.OnLeg(c, leg, call, number, doc, done)
}

func (b *faxBox) Document(name string) ([]byte, error) {
	if d, ok := b.docs[name]; ok {
		return d, nil
	}
	return nil, errors.New("no such document")
}

func (b *faxBox) Save(_ context.Context, r fax.Record, pages []*t4.Page) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recs[r.ID] = r
	if pages != nil {
		b.pages[r.ID] = pages
	}
	return nil
}

// kept returns the one fax kept once it is over.
func (b *faxBox) kept(t *testing.T) (fax.Record, []*t4.Page, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.recs) > 1 {
		t.Fatalf("%d faxes kept: %v", len(b.recs), b.recs)
	}
	for id, r := range b.recs {
		return r, b.pages[id], r.Status != fax.StatusActive
	}
	return fax.Record{}, nil, false
}

// faxRig is the call-centre rig with the fax service, and a fax machine
// (dsp/fax's T.30 session) behind the exchange of FXO line 1.
type faxRig struct {
	*rig
	fb      *faxBox
	co      *si3050sim.CO
	machine *t30.Session
	on      bool
	heard   [media.FrameSamples]int16
	send    []int16
}

func newFaxRig(t *testing.T, cfg ccconf.Config, machine t30.Config, flows ...string) *faxRig {
	t.Helper()
	return newFaxRigWith(t, cfg, cc.Options{}, machine, flows...)
}

// newFaxRigWith is newFaxRig with more of the service's options (a
// Recorder).
func newFaxRigWith(t *testing.T, cfg ccconf.Config, more cc.Options, machine t30.Config, flows ...string) *faxRig {
	t.Helper()
	fb := &faxBox{docs: map[string][]byte{}, recs: map[string]fax.Record{}, pages: map[string][]*t4.Page{}}
	more.Fax = fb
	r := newRigWith(t, cfg, nil, more, flows...)
	svc, err := fax.New(fax.Settings{Ident: "+86 21 5555 0202"}, fax.Options{Switch: r.sw, Store: fb, Now: r.now})
	if err != nil {
		t.Fatal(err)
	}
	svc.Start(context.Background())
	t.Cleanup(func() { svc.Close() })
	fb.svc = svc
	m, err := t30.New(machine)
	if err != nil {
		t.Fatal(err)
	}
	fr := &faxRig{rig: r, fb: fb, co: r.co("fxo1"), machine: m, send: make([]int16, media.FrameSamples)}
	fr.co.Record(8000)
	return fr
}

// frame moves the box and the line on by a frame; the machine, once on,
// hears what the box sent and answers; the fax terminals take their frame
// before the next.
func (r *faxRig) frame() {
	r.t.Helper()
	r.run(10 * time.Millisecond)
	if r.on {
		h := r.co.Heard()
		r.co.Record(8000)
		clear(r.heard[:])
		copy(r.heard[:], h)
		r.machine.Process(r.heard[:], r.send)
		r.co.Play(append([]int16(nil), r.send...))
	}
	for end := time.Now().Add(10 * time.Second); !r.fb.svc.Idle(); runtime.Gosched() {
		if time.Now().After(end) {
			r.t.Fatal("a fax terminal never took its frame")
		}
	}
}

// finished runs until the box kept a finished fax (150 s of line time at
// most) and returns it.
func (r *faxRig) finished(t *testing.T) (fax.Record, []*t4.Page) {
	t.Helper()
	for n := 0; ; n++ {
		if rec, pages, ok := r.fb.kept(t); ok {
			t.Logf("kept after %v on the line's clock: %+v", rec.End.Sub(rec.Start), rec)
			return rec, pages
		}
		if n > 150*100 {
			t.Fatalf("no fax kept after 150 s; the machine: %+v", r.machine.Result())
		}
		r.frame()
	}
}

// call rings the box from the machine's line and turns the machine on
// once the box answered.
func (r *faxRig) call(t *testing.T) {
	t.Helper()
	if err := r.co.Ring(si3050sim.Call{CallerID: &callerid.Message{Format: callerid.MDMF, Number: "01088880101"}}); err != nil {
		t.Fatal(err)
	}
	for n := 0; !r.co.Answered(); n++ {
		if n > 1500 {
			t.Fatal("the box did not answer")
		}
		r.frame()
	}
	r.on = true
}

// hungUp runs until the box hangs the line up.
func (r *faxRig) hungUp(t *testing.T) {
	t.Helper()
	for n := 0; r.co.BoxOffHook(); n++ {
		if n > 1000 {
			t.Fatal("the box did not hang up after the fax")
		}
		r.frame()
	}
}

func notices(evs []ccevent.Event) []string {
	var out []string
	for _, e := range evs {
		if e.Type == ccevent.Notice {
			out = append(out, e.Reason)
		}
	}
	return out
}

// A fax machine calls a number whose route runs an IVR flow (the main
// menu), or whose route's target is the fax receiver: in the flow, its
// calling tone (CNG, twice 3.5 s apart) is heard and the call goes to the
// receiver; on the fax route the receiver answers at once. The two pages
// land in the inbox, pixel for pixel, with the machine's identity and the
// call centre's call id (the service record's), and the box hangs up. Before the call centre listened
// for CNG, the flow's menu ran to its fallback and queued the machine.
func TestCNGInFlowGoesToFaxReceiver(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target ccconf.Target
	}{
		{"flow", ccconf.Target{Kind: ccconf.TargetFlow, Flow: "main"}},
		{"fax route", ccconf.Target{Kind: ccconf.TargetFax}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.InboundRoutes[0].Target = tc.target
			doc := faxtest.Document(2)
			r := newFaxRig(t, cfg, t30.Config{Calling: true, Pages: doc, Ident: "+86 10 8888 0101", NoECM: true})
			r.call(t)
			rec, pages := r.finished(t)
			if rec.Status != fax.StatusDone || rec.Direction != fax.In || rec.Pages != 2 || rec.Ident != "+86 10 8888 0101" ||
				rec.Number != "01088880101" || rec.CallID == "" {
				t.Fatalf("kept %+v; the machine: %+v", rec, r.machine.Result())
			}
			faxtest.SamePages(t, pages, doc)
			r.hungUp(t)
			evs := r.events()
			if call := callOf(evs); rec.CallID != call {
				t.Errorf("the record links call %q, the call centre's call is %q", rec.CallID, call)
			}
			if tc.target.Kind == ccconf.TargetFlow {
				if got := notices(evs); len(got) == 0 || got[0] != "fax machine heard: receiving a fax" {
					t.Errorf("notices %q", got)
				}
			}
			if has(evs, "call.queued") {
				t.Errorf("the machine was queued: %v", types(evs))
			}
		})
	}
}

// A flow's fax node sends the document it names to the caller's fax
// machine on the same call (fax on demand), pixel for pixel, and the flow
// goes on (here to hang up).
func TestIVRFaxNodeSendsDocument(t *testing.T) {
	const flow = `{"id": "fod", "entry": "send", "nodes": [
 {"id": "send", "type": "fax", "send": "prices", "var": "fax", "next": "bye"},
 {"id": "bye", "type": "hangup"}
]}`
	cfg := testConfig()
	cfg.InboundRoutes[0].Target = ccconf.Target{Kind: ccconf.TargetFlow, Flow: "fod"}
	doc := faxtest.Document(2)
	tf, err := tiff.Encode(doc, tiff.WriteOptions{Coding: t4.MR})
	if err != nil {
		t.Fatal(err)
	}
	r := newFaxRig(t, cfg, t30.Config{Ident: "+86 10 8888 0303"}, flow)
	r.fb.docs["prices"] = tf
	r.call(t)
	rec, _ := r.finished(t)
	if rec.Status != fax.StatusDone || rec.Direction != fax.Out || rec.Pages != 2 || rec.Document != 2 {
		t.Fatalf("kept %+v; the machine: %+v", rec, r.machine.Result())
	}
	r.hungUp(t)
	res := r.machine.Result()
	if res.Err != nil || res.Pages != 2 {
		t.Fatalf("the machine's result %+v", res)
	}
	faxtest.SamePages(t, r.machine.Received(), doc)
}

// An agent in a call with a fax machine's line sends it a document
// (AgentFax), its record linking the call centre's call; the call stays
// the agent's, and a second fax at once is refused. Without the fax service the operation is refused.
func TestAgentSendsFaxToCaller(t *testing.T) {
	cfg := testConfig()
	cfg.InboundRoutes[0].Target = ccconf.Target{Kind: ccconf.TargetGroup, Group: 1}
	doc := faxtest.Document(1)
	tf, err := tiff.Encode(doc, tiff.WriteOptions{Coding: t4.MH})
	if err != nil {
		t.Fatal(err)
	}
	r := newFaxRig(t, cfg, t30.Config{Ident: "+86 10 8888 0404"})
	r.login("1088", "201")
	if err := r.co.Ring(si3050sim.Call{}); err != nil {
		t.Fatal(err)
	}
	r.answer("201")
	if !r.co.Answered() {
		t.Fatal("the call did not reach the agent")
	}
	r.on = true
	var rec fax.Record
	if err := r.do(func(ctx context.Context) error {
		var err error
		rec, err = r.svc.AgentFax(ctx, acd.AgentID("1088"), tf)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if rec.Direction != fax.Out || rec.Status != fax.StatusActive {
		t.Fatalf("started %+v", rec)
	}
	if err := r.do(func(ctx context.Context) error {
		_, err := r.svc.AgentFax(ctx, acd.AgentID("1088"), nil)
		return err
	}); !errors.Is(err, cc.ErrRefused) {
		t.Fatalf("a second fax at once: %v", err)
	}
	kept, _ := r.finished(t)
	if kept.ID != rec.ID || kept.Status != fax.StatusDone || kept.Pages != 1 {
		t.Fatalf("kept %+v; the machine: %+v", kept, r.machine.Result())
	}
	evs := r.events()
	if call := callOf(evs); rec.CallID != call || kept.CallID != call {
		t.Errorf("the record links call %q (kept %q), the call centre's call is %q", rec.CallID, kept.CallID, call)
	}
	faxtest.SamePages(t, r.machine.Received(), doc)
	r.run(100 * time.Millisecond)
	more := r.events()
	if !r.co.BoxOffHook() || !r.phone("201").IsOffHook() || has(more, "call.ended") {
		t.Fatal("the call ended with the fax")
	}
	// The agent's desk hears the fax start and end.
	var progress []string
	for _, e := range append(evs, more...) {
		if e.Type == ccevent.FaxProgress {
			progress = append(progress, fmt.Sprintf("%s %s %s %s %s/%s", e.Agent, e.Detail["id"], e.Detail["direction"], e.State, e.Detail["pages"], e.Detail["document"]))
		}
	}
	want := []string{"1088 " + rec.ID + " out active 0/1", "1088 " + rec.ID + " out done 1/1"}
	if !slices.Equal(progress, want) {
		t.Errorf("fax progress events %q, want %q", progress, want)
	}
}

// A flow's fax node that receives takes the caller's fax on the call and
// goes on; the record's id is in the node's variable (here said back as
// the prompt of the next node, which proves the flow went on).
func TestIVRFaxNodeReceives(t *testing.T) {
	const flow = `{"id": "orders", "entry": "take", "nodes": [
 {"id": "take", "type": "fax", "receive": true, "prompt": {"text": "press start"}, "var": "fax", "next": "bye"},
 {"id": "bye", "type": "hangup", "prompt": {"text": "fax ${fax}"}}
]}`
	cfg := testConfig()
	cfg.InboundRoutes[0].Target = ccconf.Target{Kind: ccconf.TargetFlow, Flow: "orders"}
	doc := faxtest.Document(1)
	r := newFaxRig(t, cfg, t30.Config{Calling: true, Pages: doc, Ident: "+86 10 8888 0505", NoECM: true}, flow)
	r.call(t)
	rec, pages := r.finished(t)
	if rec.Status != fax.StatusDone || rec.Direction != fax.In || rec.Pages != 1 {
		t.Fatalf("kept %+v; the machine: %+v", rec, r.machine.Result())
	}
	faxtest.SamePages(t, pages, doc)
	r.hungUp(t)
	said := strings.Join(r.prompts.take(), " | ")
	if !strings.Contains(said, "text:press start") || !strings.Contains(said, "text:fax "+rec.ID) {
		t.Errorf("prompts said: %s", said)
	}
}

// callOf returns the call centre's call id of the first call event.
func callOf(evs []ccevent.Event) string {
	for _, e := range evs {
		if e.Call != "" {
			return e.Call
		}
	}
	return ""
}
