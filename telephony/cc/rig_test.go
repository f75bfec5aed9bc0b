package cc_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/board/pcm"
	"callbox/board/ports"
	"callbox/board/sim"
	"callbox/board/sim/proslicsim"
	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/dsp/dtmf"
	"callbox/firmware/lineport"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/ccconf"
	"callbox/telephony/ivr"
	"callbox/telephony/line"
	"callbox/telephony/media"
	callswitch "callbox/telephony/switch"
	"callbox/telephony/switch/cdr"
	"callbox/telephony/switch/dialplan"
)

// The rig is the simulated board (FXS phones 201-204 on fxs1-4, the
// exchange on fxo1 and fxo2) with the real switch, media engine, ACD and
// IVR engines and the call-centre service, on one virtual clock: each
// frame moves the board's clock and the service's, ticks the switch, and
// waits until the service has nothing left to do.

// Prompts in the rig are tones, so that what a party heard says which
// prompt it was (Goertzel): each prompt name has its frequency. Phrases
// are DTMF (an agent's number, a position), which the exchange's ear
// reads back.
var promptHz = map[string]float64{
	"main-menu": 620, "welcome": 660, "queue-prompt": 740, "survey-q": 820, "survey-thanks": 880,
	"cc-login-number": 910, "cc-login-pin": 960, "cc-login-ok": 1020, "cc-unknown-agent": 1060,
	"cc-wrong-pin": 1150, "cc-login-failed": 1250, "cc-state-ok": 1300, "cc-logout-ok": 1370,
	"cc-not-agent": 1420, "cc-refused": 1550, "cc-callback-confirm": 1600, "cc-voicemail-unavailable": 1700,
	"cc-goodbye": 1750, "cc-monitor": 1900, "sorry-youre-having-problems": 2050, "cc-not-allowed": 2150,
	"cc-no-service": 2250, "closed": 2350, "sales-hold": 2450, "busy-msg": 2550, "rec/start": 2600,
	"rec/saved": 2650,
}

// speechHz is what text sounds like in the rig (one tone for any text).
const speechHz = 2700

type tonePrompts struct {
	mu     sync.Mutex
	played []string
	// noSpeech makes text fail as a box without a speech engine does.
	noSpeech bool
	// saved are the prompts recorded by phone.
	saved map[string][]int16
}

func (p *tonePrompts) SavePrompt(_ context.Context, name, lang, _ string, x []int16) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.saved == nil {
		p.saved = map[string][]int16{}
	}
	p.saved[name] = x
	return nil
}

func (p *tonePrompts) Source(_ context.Context, pr ivr.Prompt, lang string) (callswitch.Source, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if x, ok := p.saved[pr.File]; ok {
		p.played = append(p.played, pr.File)
		return &pcm16{x: x}, nil
	}
	if hz, ok := promptHz[pr.File]; ok && pr.File != "" {
		p.played = append(p.played, pr.File)
		return &pcm16{x: sine(hz, 6000, 4800)}, nil
	}
	if pr.Text != "" {
		if p.noSpeech {
			return nil, errors.New("prompt: no speech engine installed (espeak-ng)")
		}
		p.played = append(p.played, "text:"+pr.Text)
		return &pcm16{x: sine(speechHz, 6000, 4800)}, nil
	}
	return nil, fmt.Errorf("prompt %q: %w", pr.File, ivr.ErrPromptMissing)
}

func (p *tonePrompts) Say(_ context.Context, ph cc.Phrase, lang string) (callswitch.Source, error) {
	var digits string
	switch ph.Kind {
	case cc.PhraseAgent, cc.PhraseDigits:
		digits = ph.Digits
	case cc.PhrasePosition:
		digits = fmt.Sprintf("A%d", ph.N)
	case cc.PhraseWait:
		digits = fmt.Sprintf("B%d", int(ph.D.Round(time.Minute)/time.Minute))
	}
	p.mu.Lock()
	p.played = append(p.played, "say:"+digits)
	p.mu.Unlock()
	x, err := dtmf.Synthesize(digits, dtmf.DefaultGeneratorConfig())
	if err != nil {
		return nil, err
	}
	return &pcm16{x: x}, nil
}

func (p *tonePrompts) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	x := p.played
	p.played = nil
	return x
}

// pcm16 plays samples once.
type pcm16 struct {
	x   []int16
	pos int
}

func (s *pcm16) ReadFrame(f []int16) {
	n := copy(f, s.x[s.pos:])
	s.pos += n
	clear(f[n:])
}

func (s *pcm16) Done() bool { return s.pos >= len(s.x) }

func sine(hz, amp float64, n int) []int16 {
	x := make([]int16, n)
	for i := range x {
		x[i] = int16(amp * math.Sin(2*math.Pi*hz*float64(i)/8000))
	}
	return x
}

// share is the fraction of x's power at f Hz (Goertzel).
func share(x []int16, f float64) float64 {
	w := 2 * math.Pi * f / 8000
	c := 2 * math.Cos(w)
	var s1, s2, total float64
	for _, v := range x {
		s := float64(v) + c*s1 - s2
		s2, s1 = s1, s
		total += float64(v) * float64(v)
	}
	if total == 0 {
		return 0
	}
	return 2 * (s1*s1 + s2*s2 - c*s1*s2) / (float64(len(x)) * total)
}

// hears names which of the frequencies carry a real share of x, or
// "silence".
func hears(x []int16, fs ...float64) string {
	var p float64
	for _, v := range x {
		p += float64(v) * float64(v)
	}
	if len(x) == 0 || p/float64(len(x)) < 100 {
		return "silence"
	}
	var got []string
	for _, f := range fs {
		if share(x, f) > 0.05 {
			got = append(got, fmt.Sprint(f))
		}
	}
	if len(got) == 0 {
		return "other"
	}
	return strings.Join(got, "+")
}

// heardPrompt says which rig prompt frequencies are in x (each checked
// alone, in windows, so a sequence is read in order).
func heardPrompts(x []int16) []string {
	var out []string
	last := ""
	for i := 0; i+1600 <= len(x); i += 800 {
		w := x[i : i+1600]
		name := ""
		for n, hz := range promptHz {
			if share(w, hz) > 0.5 {
				name = n
			}
		}
		if share(w, speechHz) > 0.5 {
			name = "speech"
		}
		if name != "" && name != last {
			out = append(out, name)
		}
		last = name
	}
	return out
}

type memFacts struct {
	mu sync.Mutex
	m  map[string]cc.Fact
}

func (f *memFacts) PutFact(x cc.Fact) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]cc.Fact{}
	}
	f.m[x.Call] = x
	return nil
}

// FactsSince implements cc.FactReader, as the box's store does.
func (f *memFacts) FactsSince(from time.Time) ([]cc.Fact, error) {
	var out []cc.Fact
	for _, x := range f.all() {
		if !x.Queued.Before(from) {
			out = append(out, x)
		}
	}
	return out, nil
}

func (f *memFacts) all() []cc.Fact {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []cc.Fact
	for _, x := range f.m {
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b cc.Fact) int { return a.Queued.Compare(b.Queued) })
	return out
}

type memDevices struct {
	mu sync.Mutex
	m  map[acd.AgentID]cc.Device
}

func (d *memDevices) PutDevice(a acd.AgentID, dev cc.Device) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[acd.AgentID]cc.Device{}
	}
	d.m[a] = dev
	return nil
}

func (d *memDevices) DeleteDevice(a acd.AgentID) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.m, a)
	return nil
}

func (d *memDevices) Devices() (map[acd.AgentID]cc.Device, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps(d.m), nil
}

func maps(m map[acd.AgentID]cc.Device) map[acd.AgentID]cc.Device {
	out := map[acd.AgentID]cc.Device{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// stores are what survives a restart of the service in the rig.
type stores struct {
	acd     *acd.MemStore
	devices *memDevices
	facts   *memFacts
	flows   *ivr.Repository
	// later starts a rig built on the stores that much after the
	// clocks' start: a restart later in the day than the calls stored.
	later time.Duration
}

func newStores() *stores {
	return &stores{acd: acd.NewMemStore(), devices: &memDevices{}, facts: &memFacts{}, flows: &ivr.Repository{}}
}

type rig struct {
	t       testing.TB
	bclk    interface{ Advance(time.Duration) }
	now     func() time.Time
	aclk    *acd.VirtualClock
	sb      *sim.Board
	bd      *ports.Board
	sw      *callswitch.Switch
	eng     *media.Engine
	cdrs    *cdr.Memory
	svc     *cc.Service
	bus     *ccevent.Bus
	sub     *ccevent.Sub
	evs     []ccevent.Event
	prompts *tonePrompts
	st      *stores
	cfg     ccconf.Config
}

// testConfig: group 1 (sales) with agents 1088 and 1099 (PIN 1234 and
// 5678, 1099 a supervisor), group 2 (support) with 2001; a flow "main"
// whose menu sends 1 to sales and 2 to support; fxo1 and DID 4008 on the
// trunk "carrier" and fxo2 route to it; 8000 is the internal number of the
// flow. Groups do not record unless a test says so.
func testConfig() ccconf.Config {
	off := false
	flow := ccconf.Target{Kind: ccconf.TargetFlow, Flow: "main"}
	c := ccconf.Config{
		Version: ccconf.Version,
		Groups: []ccconf.Group{
			{ID: 1, Name: "sales", RingTimeoutS: 10, Recording: &off},
			{ID: 2, Name: "support", RingTimeoutS: 10, Recording: &off},
		},
		Agents: []ccconf.Agent{
			{ID: "1088", Name: "Li", PINHash: "plain:1234", Groups: []ccconf.Membership{{Group: 1, Skill: 1}}, WrapUpS: 5},
			{ID: "1099", Name: "Wang", PINHash: "plain:5678", Supervisor: true, Groups: []ccconf.Membership{{Group: 1, Skill: 1}}, WrapUpS: 5},
			{ID: "2001", Name: "Zhao", PINHash: "plain:2001", Groups: []ccconf.Membership{{Group: 2, Skill: 1}}},
		},
		CustomerTypes: []ccconf.CustomerType{{ID: 1, Name: "default", Default: true}},
		InboundRoutes: []ccconf.InboundRoute{
			{Name: "fxo1", Source: ccconf.SourceLine, Trunk: "fxo1", Target: flow},
			{Name: "fxo2", Source: ccconf.SourceLine, Trunk: "fxo2", Target: flow},
			{Name: "carrier", Source: ccconf.SourceTrunk, Trunk: "carrier", DID: "4008", Target: flow},
			{Name: "ivr", Source: ccconf.SourceInternal, Number: "8000", Target: flow},
		},
	}
	c.Normalize()
	return c
}

// dialVia9 is the rig's DialOut: its route to the exchange takes 9 and
// the number.
func dialVia9(n, _ string) string { return "9" + n }

const mainFlow = `{"id": "main", "entry": "menu", "nodes": [
 {"id": "menu", "type": "menu", "prompt": "main-menu", "options": {"1": "sales", "2": "support"}, "fallback": "sales", "timeout": "5s"},
 {"id": "sales", "type": "queue", "group": 1},
 {"id": "support", "type": "queue", "group": 2}
]}`

func newRig(t testing.TB, cfg ccconf.Config, st *stores, flows ...string) *rig {
	t.Helper()
	return newRigWith(t, cfg, st, cc.Options{}, flows...)
}

// newRigWith is newRig with more of the service's options (a Recorder).
func newRigWith(t testing.TB, cfg ccconf.Config, st *stores, more cc.Options, flows ...string) *rig {
	t.Helper()
	if st == nil {
		st = newStores()
	}
	for _, f := range append([]string{mainFlow}, flows...) {
		fl, err := ivr.ParseFlow([]byte(f))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.flows.Flow(fl.ID, 0); err != nil {
			if _, err := st.flows.Save(fl); err != nil {
				t.Fatal(err)
			}
		}
	}
	clk := sim.VirtualClock()
	clk.Advance(st.later)
	lp, err := lineport.OpenSim(context.Background(), sim.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	sb, bd := lp.Board, lp.Ports
	t.Cleanup(func() { bd.Close() })
	pc := dialplan.Config{
		Extensions: []string{"201", "202", "203", "204"},
		Routes:     []dialplan.Route{{Name: "pstn", Patterns: []string{"9X."}, Strip: 1, Trunks: []string{"fxo2"}}},
		Apps:       []dialplan.App{cc.DialPlan(cfg.Compile())},
	}
	plan, err := dialplan.New(pc)
	if err != nil {
		t.Fatal(err)
	}
	exts := []callswitch.Extension{
		{Number: "201", Name: "EXT 201", Port: "fxs1"}, {Number: "202", Name: "EXT 202", Port: "fxs2"},
		{Number: "203", Name: "EXT 203", Port: "fxs3"}, {Number: "204", Name: "EXT 204", Port: "fxs4"},
	}
	eng := media.NewEngine(media.Config{})
	mem := &cdr.Memory{}
	sw, err := callswitch.New(callswitch.Config{Plan: plan, Extensions: exts, CDR: mem, Clock: clk,
		Inbound: map[string]string{"fxo1": "204", "fxo2": "204"}}, eng)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range lp.FXS {
		if err := sw.AddFXS(line.FXSConfig{Name: p.P.Name()}, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range lp.FXO {
		if err := sw.AddFXO(line.FXOConfig{Name: p.P.Name()}, p); err != nil {
			t.Fatal(err)
		}
	}
	bd.SetHandler(func(pcm.Tick) { sw.Tick() })
	aclk := acd.NewVirtualClock(clk.Now())
	bus := ccevent.New(0, aclk.Now)
	prompts := &tonePrompts{}
	svc, err := cc.New(cfg.Compile(), cc.Options{Switch: sw, Bus: bus, Clock: aclk, Prompts: prompts, Flows: st.flows,
		Status: st.acd, Callbacks: st.acd, Devices: st.devices, Facts: st.facts, Recorder: more.Recorder, Voicemail: more.Voicemail, Fax: more.Fax, Consent: more.Consent, Rooms: more.Rooms,
		DialOut: dialVia9, PINLockout: 20 * time.Second, VerifyPIN: func(hash, pin string) bool { return hash == "plain:"+pin }})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := bus.Subscribe("", 1<<14)
	if err != nil {
		t.Fatal(err)
	}
	svc.Start(context.Background())
	r := &rig{t: t, bclk: clk, now: clk.Now, aclk: aclk, sb: sb, bd: bd, sw: sw, eng: eng, cdrs: mem, svc: svc, bus: bus,
		sub: sub, prompts: prompts, st: st, cfg: cfg}
	t.Cleanup(func() {
		svc.Close()
		sw.Close()
	})
	r.run(20 * time.Millisecond)
	return r
}

// run moves everything on by d, a frame at a time.
func (r *rig) run(d time.Duration) {
	r.t.Helper()
	for n := int(d / line.FrameTime); n > 0; n-- {
		r.bclk.Advance(line.FrameTime)
		r.settle()
		r.aclk.RunUntil(r.now())
		r.settle()
		if err := r.bd.Step(); err != nil {
			r.t.Fatal(err)
		}
		r.settle()
	}
}

// settle waits until the service has nothing left to do (its dialogues
// run on goroutines of their own).
func (r *rig) settle() {
	r.t.Helper()
	end := time.Now().Add(10 * time.Second)
	for !r.svc.Idle() {
		if time.Now().After(end) {
			r.t.Fatal("the service never settled")
		}
		runtime.Gosched()
		time.Sleep(10 * time.Microsecond)
	}
}

// do runs a Go API call while the clock runs (it waits for the loop).
func (r *rig) do(f func(ctx context.Context) error) error {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- f(ctx) }()
	for {
		select {
		case err := <-errc:
			r.settle()
			return err
		default:
			runtime.Gosched()
			time.Sleep(50 * time.Microsecond)
		}
	}
}

func (r *rig) phone(ext string) *proslicsim.Phone {
	return r.sb.Phone(map[string]string{"201": "fxs1", "202": "fxs2", "203": "fxs3", "204": "fxs4"}[ext])
}

func (r *rig) co(port string) *si3050sim.CO { return r.sb.CO(port) }

// events returns the events published since the last call.
func (r *rig) events() []ccevent.Event {
	for {
		select {
		case e := <-r.sub.C():
			r.evs = append(r.evs, e)
		default:
			x := r.evs
			r.evs = nil
			return x
		}
	}
}

// types lists the types of events, with the agent where one is named.
func types(evs []ccevent.Event) []string {
	var out []string
	for _, e := range evs {
		s := string(e.Type)
		if e.Agent != "" {
			s += " " + e.Agent
		}
		if e.State != "" {
			s += " " + e.State
		}
		out = append(out, s)
	}
	return out
}

// has reports whether the events contain each wanted "type [agent] [state]"
// in order.
func has(evs []ccevent.Event, want ...string) bool {
	got := types(evs)
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

// ring makes the exchange on port ring the box from number.
func (r *rig) ring(port, number string) *si3050sim.CO {
	r.t.Helper()
	co := r.co(port)
	if err := co.Ring(si3050sim.Call{CallerID: &callerid.Message{Format: callerid.MDMF, Number: number}}); err != nil {
		r.t.Fatal(err)
	}
	return co
}

// untilAnswered runs until the box answers the exchange's call.
func (r *rig) untilAnswered(co *si3050sim.CO) {
	r.t.Helper()
	for range 150 {
		if co.Answered() {
			return
		}
		r.run(100 * time.Millisecond)
	}
	r.t.Fatal("the box did not answer")
}

// login signs an agent in on an extension through the Go API.
func (r *rig) login(agent, ext string) {
	r.t.Helper()
	if err := r.do(func(ctx context.Context) error {
		return r.svc.Login(ctx, acd.AgentID(agent), cc.Device{Extension: ext})
	}); err != nil {
		r.t.Fatal(err)
	}
	r.run(20 * time.Millisecond)
}

func (r *rig) state(agent string) string {
	r.t.Helper()
	st, err := r.svc.ACD().Agent(acd.AgentID(agent))
	if err != nil {
		r.t.Fatal(err)
	}
	return st.State.String()
}

// record starts recording what the exchange hears, n samples.
func recordCO(co *si3050sim.CO, d time.Duration) { co.Record(int(d / time.Second * 8000)) }

// heard returns the phone's audio heard since it was cleared, and clears.
func heardBy(p *proslicsim.Phone) []int16 {
	x := p.Heard()
	p.ClearHeard()
	return x
}

// untilRinging runs until the phone rings.
func (r *rig) untilRinging(ext string) {
	r.t.Helper()
	for range 100 {
		if r.phone(ext).Ringing() {
			return
		}
		r.run(100 * time.Millisecond)
	}
	r.t.Fatalf("%s never rang", ext)
}

// answer takes a ringing phone off hook.
func (r *rig) answer(ext string) {
	r.t.Helper()
	r.untilRinging(ext)
	r.phone(ext).OffHook()
	r.run(300 * time.Millisecond)
}

// dial takes a phone off hook and dials.
func (r *rig) dial(ext, digits string) {
	r.t.Helper()
	p := r.phone(ext)
	p.OffHook()
	r.run(300 * time.Millisecond)
	if err := p.Dial(digits); err != nil {
		r.t.Fatal(err)
	}
	for p.Dialling() {
		r.run(50 * time.Millisecond)
	}
}

// keys dials digits on an off-hook phone and waits until they are sent.
func (r *rig) keys(ext, digits string) {
	r.t.Helper()
	p := r.phone(ext)
	if err := p.Dial(digits); err != nil {
		r.t.Fatal(err)
	}
	for p.Dialling() {
		r.run(50 * time.Millisecond)
	}
	r.run(200 * time.Millisecond)
}
