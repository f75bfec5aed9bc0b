package fax_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"callbox/board/pcm"
	"callbox/board/sim"
	"callbox/board/sim/si3050sim"
	"callbox/dsp/fax/t30"
	"callbox/dsp/fax/t4"
	"callbox/dsp/fax/tiff"
	"callbox/firmware/lineport"
	"callbox/telephony/fax"
	"callbox/telephony/fax/faxtest"
	"callbox/telephony/line"
	"callbox/telephony/media"
	callswitch "callbox/telephony/switch"
	"callbox/telephony/switch/cdr"
	"callbox/telephony/switch/dialplan"
)

// memStore is a fax.Store in memory.
type memStore struct {
	mu    sync.Mutex
	recs  map[string]fax.Record
	pages map[string][]*t4.Page
	saves int
}

func (m *memStore) Save(ctx context.Context, r fax.Record, pages []*t4.Page) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[r.ID] = r
	if pages != nil {
		m.pages[r.ID] = pages
	}
	m.saves++
	return nil
}

func (m *memStore) only(t *testing.T) (fax.Record, []*t4.Page, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.recs) > 1 {
		t.Fatalf("%d faxes kept", len(m.recs))
	}
	for id, r := range m.recs {
		return r, m.pages[id], true
	}
	return fax.Record{}, nil, false
}

// lineRig is the box's switch on the simulated board (the emulated chips
// on a virtual clock) with the fax service, and a fax machine behind the
// central office of FXO line 1, in lockstep with the line.
type lineRig struct {
	t       *testing.T
	clk     interface{ Advance(time.Duration) }
	lp      *lineport.Sim
	sw      *callswitch.Switch
	svc     *fax.Service
	st      *memStore
	co      *si3050sim.CO
	machine *t30.Session
	heard   [media.FrameSamples]int16
	send    []int16
}

func newLineRig(t *testing.T, settings fax.Settings, machine t30.Config) *lineRig {
	t.Helper()
	return newLineRigWith(t, settings, machine, fax.Options{})
}

// newLineRigWith is newLineRig with more of the service's options.
func newLineRigWith(t *testing.T, settings fax.Settings, machine t30.Config, o fax.Options) *lineRig {
	t.Helper()
	clk := sim.VirtualClock()
	lp, err := lineport.OpenSim(context.Background(), sim.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lp.Ports.Close() })
	plan, err := dialplan.New(dialplan.Config{Extensions: []string{"201"},
		Routes: []dialplan.Route{{Name: "pstn", Patterns: []string{"9X."}, Strip: 1, Trunks: []string{"fxo1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := callswitch.New(callswitch.Config{Plan: plan, CDR: &cdr.Memory{}, Clock: clk,
		Extensions: []callswitch.Extension{{Number: "201", Port: "fxs1"}}, Inbound: map[string]string{"fxo1": "201"}},
		media.NewEngine(media.Config{}))
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
	lp.Ports.SetHandler(func(pcm.Tick) { sw.Tick() })
	st := &memStore{recs: map[string]fax.Record{}, pages: map[string][]*t4.Page{}}
	o.Switch, o.Store, o.Now = sw, st, clk.Now
	svc, err := fax.New(settings, o)
	if err != nil {
		t.Fatal(err)
	}
	svc.Start(context.Background())
	t.Cleanup(func() {
		svc.Close()
		sw.Close()
	})
	m, err := t30.New(machine)
	if err != nil {
		t.Fatal(err)
	}
	r := &lineRig{t: t, clk: clk, lp: lp, sw: sw, svc: svc, st: st, co: lp.Board.CO("fxo1"), machine: m,
		send: make([]int16, media.FrameSamples)}
	r.co.Record(8000)
	return r
}

// frame moves the line on by a frame: the machine hears what the box sent
// on the line and answers on the next frame; the service's terminals take
// their frame before the next.
func (r *lineRig) frame(machineOn bool) {
	r.t.Helper()
	r.clk.Advance(line.FrameTime)
	if err := r.lp.Ports.Step(); err != nil {
		r.t.Fatal(err)
	}
	if machineOn {
		h := r.co.Heard()
		r.co.Record(8000)
		clear(r.heard[:])
		copy(r.heard[:], h)
		r.machine.Process(r.heard[:], r.send)
		r.co.Play(append([]int16(nil), r.send...))
	}
	for end := time.Now().Add(10 * time.Second); !r.svc.Idle(); runtime.Gosched() {
		if time.Now().After(end) {
			r.t.Fatal("a terminal never took its frame")
		}
	}
}

// finished runs the line until the service kept a finished fax (150 s of
// line time at most) and returns it.
func (r *lineRig) finished(machineOn func() bool) (fax.Record, []*t4.Page) {
	r.t.Helper()
	for n := 0; ; n++ {
		if rec, pages, ok := r.st.only(r.t); ok && rec.Status != fax.StatusActive {
			r.t.Logf("kept after %v on the line's clock: %+v", rec.End.Sub(rec.Start), rec)
			return rec, pages
		}
		if n > 150*100 {
			r.t.Fatal("no fax kept after 150 s")
		}
		r.frame(machineOn())
	}
}

// A fax machine calls the box on its simulated FXO line (the emulated
// DAA and its central office, on a virtual clock): the fax settings name
// the line, so the service answers with its receiver (no echo canceller,
// no DTMF muting on the line), and the two pages the machine sends are
// kept, pixel for pixel, with its identity and the line it came in on.
// The service's own goroutines run under the race detector here.
func TestServiceReceivesOnFXOLine(t *testing.T) {
	doc := faxtest.Document(2)
	r := newLineRig(t, fax.Settings{Ident: "+86 21 5555 0202", Trunks: []string{"fxo1"}},
		t30.Config{Calling: true, Pages: doc, Ident: "+86 10 8888 0101", NoECM: true})
	if err := r.co.Ring(si3050sim.Call{}); err != nil {
		t.Fatal(err)
	}
	rec, pages := r.finished(func() bool { return r.co.Answered() || r.co.BoxOffHook() })
	if rec.Status != fax.StatusDone || rec.Direction != fax.In || rec.Pages != 2 || rec.Ident != "+86 10 8888 0101" || rec.Trunk != "fxo1" {
		t.Fatalf("kept %+v; the machine: %+v", rec, r.machine.Result())
	}
	faxtest.SamePages(t, pages, doc)
	if res := r.machine.Result(); res.Err != nil || res.Pages != 2 || res.RemoteIdent != "+86 21 5555 0202" {
		t.Errorf("the machine's result %+v", res)
	}
}

// Send dials a number through the routes on the FXO line; the office
// collects the digits and the fax machine behind it answers and receives
// the document, with error correction, pixel for pixel; the outbox
// record is done with both pages confirmed. A refused document or number
// places no call.
func TestServiceSendsOnFXOLine(t *testing.T) {
	r := newLineRig(t, fax.Settings{Ident: "+86 21 5555 0202"}, t30.Config{Ident: "+86 10 8888 0303"})
	ctx := context.Background()
	if _, err := r.svc.Send(ctx, "9 555", []byte("II*\x00")); !errors.Is(err, fax.ErrInvalid) {
		t.Fatalf("a bad number: %v", err)
	}
	if _, err := r.svc.Send(ctx, "95550303", []byte("%PDF")); !errors.Is(err, fax.ErrInvalid) {
		t.Fatalf("a PDF: %v", err)
	}
	doc := faxtest.Document(2)
	tf, err := tiff.Encode(doc, tiff.WriteOptions{Coding: t4.MMR})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := r.svc.Send(ctx, "95550303", tf)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Status != fax.StatusActive || sent.Document != 2 {
		t.Fatalf("sending %+v", sent)
	}
	answered := false
	rec, _ := r.finished(func() bool {
		if !answered && r.co.Digits() == "5550303" {
			if err := r.co.Answer(); err != nil {
				t.Fatal(err)
			}
			answered = true
		}
		return answered
	})
	if rec.Status != fax.StatusDone || rec.Direction != fax.Out || rec.Pages != 2 || rec.Ident != "+86 10 8888 0303" || !rec.ECM {
		t.Fatalf("kept %+v; the machine: %+v", rec, r.machine.Result())
	}
	// The machine gets the session's end on the line's silence.
	for range 300 {
		r.frame(true)
	}
	if res := r.machine.Result(); res.Err != nil || res.Pages != 2 {
		t.Fatalf("the machine's result %+v", res)
	}
	faxtest.SamePages(t, r.machine.Received(), doc)
}

// memJobs is a fax.JobStore in memory.
type memJobs struct {
	mu   sync.Mutex
	jobs map[string]fax.Job
	docs map[string][]byte
}

func (m *memJobs) SaveJob(ctx context.Context, j fax.Job, doc []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs[j.ID] = j
	if doc != nil {
		m.docs[j.ID] = doc
	}
	return nil
}

// job returns the stored job id.
func (m *memJobs) job(id string) fax.Job {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.jobs[id]
}

func (m *memJobs) Jobs(ctx context.Context) ([]fax.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []fax.Job
	for _, j := range m.jobs {
		out = append(out, j)
	}
	return out, nil
}

func (m *memJobs) JobDocument(ctx context.Context, id string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[id]
	if !ok {
		return nil, errors.New("no document")
	}
	return d, nil
}

// A scheduled job to one number over the FXO line: nobody answers the
// first attempt (T.30 gives up after T1), the job waits its back-off and
// tries again, and the fax machine behind the office takes the document;
// the stored job says done after two attempts with the fax's id. Invalid
// jobs are refused whole.
func TestServiceJobRetries(t *testing.T) {
	jobs := &memJobs{jobs: map[string]fax.Job{}, docs: map[string][]byte{}}
	r := newLineRigWith(t, fax.Settings{Ident: "+86 21 5555 0202"}, t30.Config{Ident: "+86 10 8888 0404", NoECM: true},
		fax.Options{Jobs: jobs, JobPoll: time.Hour})
	ctx := context.Background()
	doc := faxtest.Document(1)
	tf, err := tiff.Encode(doc, tiff.WriteOptions{Coding: t4.MH})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		numbers []string
		retries int
	}{{nil, 1}, {[]string{"9x"}, 1}, {[]string{"95550404"}, 11}} {
		if _, err := r.svc.AddJob(ctx, bad.numbers, tf, time.Time{}, bad.retries, 0); !errors.Is(err, fax.ErrInvalid) {
			t.Errorf("%v, %d retries: %v", bad.numbers, bad.retries, err)
		}
	}
	j, err := r.svc.AddJob(ctx, []string{"95550404"}, tf, time.Time{}, 1, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	seizures, wasOff, answered := 0, false, false
	on := func() bool {
		off := r.co.BoxOffHook()
		if off && !wasOff {
			seizures++
		}
		wasOff = off
		if seizures == 2 && !answered && r.co.Digits() == "5550404" {
			if err := r.co.Answer(); err != nil {
				t.Fatal(err)
			}
			answered = true
		}
		return answered && off
	}
	for n := 0; ; n++ {
		if n > 400*100 {
			t.Fatalf("the job never finished: %+v", r.svc.Jobs())
		}
		r.svc.RunJobs(ctx)
		r.frame(on())
		if js := r.svc.Jobs(); js[0].Results[0].Status == fax.StatusDone || js[0].Results[0].Status == fax.StatusFailed {
			break
		}
	}
	res := r.svc.Jobs()[0].Results[0]
	// The service keeps the job after it updates its own copy: wait for
	// the store to catch up rather than read it mid-write.
	var stored fax.JobResult
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if stored = jobs.job(j.ID).Results[0]; stored == res || time.Now().After(end) {
			break
		}
	}
	if res.Status != fax.StatusDone || res.Attempts != 2 || res.FaxID == "" || stored != res || seizures != 2 {
		t.Fatalf("job result %+v, stored %+v, %d seizures", res, stored, seizures)
	}
}

// owner is another application's call (an agent's, an IVR's): it dials a
// number and, once answered, hands the leg to the fax service to send a
// document; the call stays its own.
type owner struct {
	svc    *fax.Service
	doc    []byte
	leg    callswitch.LegID
	mu     sync.Mutex
	err    error
	done   *fax.Record
	ended  bool
	handed bool
}

func (o *owner) AppEvent(c *callswitch.AppCall, ev callswitch.AppEvent) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch ev.Kind {
	case callswitch.AppStarted:
		o.leg = c.Originate(callswitch.Originate{Number: "95550505"})
	case callswitch.AppAnswered:
		o.handed = true
		_, o.err = o.svc.OnLeg(c, ev.Leg, "", "95550505", o.doc, func(r fax.Record) {
			o.mu.Lock()
			o.done = &r
			o.mu.Unlock()
		})
	case callswitch.AppEnded:
		o.ended = true
	}
}

// OnLeg sends a document on a leg of another application's call over the
// FXO line; when the fax is over, the owner's call is still up (its
// owner ends it) and the record kept says done.
func TestServiceOnLeg(t *testing.T) {
	r := newLineRig(t, fax.Settings{Ident: "+86 21 5555 0202"}, t30.Config{Ident: "+86 10 8888 0505"})
	doc := faxtest.Document(1)
	tf, err := tiff.Encode(doc, tiff.WriteOptions{Coding: t4.MH})
	if err != nil {
		t.Fatal(err)
	}
	o := &owner{svc: r.svc, doc: tf}
	c := r.sw.NewAppCall(o, callswitch.Party{}, "95550505")
	answered := false
	rec, _ := r.finished(func() bool {
		if !answered && r.co.Digits() == "5550505" {
			if err := r.co.Answer(); err != nil {
				t.Fatal(err)
			}
			answered = true
		}
		return answered
	})
	// The owner hears of it after the record is kept.
	for end := time.Now().Add(10 * time.Second); ; runtime.Gosched() {
		o.mu.Lock()
		heard := o.done != nil
		o.mu.Unlock()
		if heard || time.Now().After(end) {
			break
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil || o.done == nil || o.ended || c.Ended() {
		t.Fatalf("owner: err %v, done %+v, ended %v", o.err, o.done, o.ended)
	}
	if rec.Status != fax.StatusDone || rec.Direction != fax.Out || rec.Pages != 1 || *o.done != rec {
		t.Fatalf("kept %+v, the owner heard %+v", rec, o.done)
	}
	c.End(callswitch.CauseNormal)
}
