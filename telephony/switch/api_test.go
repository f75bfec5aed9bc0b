package callswitch_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callbox/board/sim"
	"callbox/dsp/tone"
	"callbox/telephony/line"
	"callbox/telephony/media"
	callswitch "callbox/telephony/switch"
	"callbox/telephony/switch/dialplan"
)

// The web API's calls come from other goroutines while the clock runs:
// they queue, take effect on the next ticks, and race with nothing.
// With the drainer started, the same work runs between ticks as it
// arrives, and the race detector sees it exclude the clock.
func TestAPIFromOtherGoroutines(t *testing.T) {
	for _, drainer := range []bool{false, true} {
		t.Run(fmt.Sprintf("drainer=%v", drainer), func(t *testing.T) { testAPIFromOtherGoroutines(t, drainer) })
	}
}

func testAPIFromOtherGoroutines(t *testing.T, drainer bool) {
	r := newRig(t, rigOpt{})
	if drainer {
		ctx, cancel := context.WithCancel(context.Background())
		r.sw.Start(ctx)
		t.Cleanup(cancel)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				on := (i+j)%2 == 0
				if err := r.sw.SetDND("204", on); err != nil {
					t.Error(err)
				}
				if err := r.sw.SetForward("203", callswitch.ForwardBusy, "202"); err != nil {
					t.Error(err)
				}
				r.sw.BlindTransfer("fxs9", "202") // no such channel: ignored
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			r.run(10 * time.Millisecond)
		}
	}
	if err := r.sw.SetDND("204", true); err != nil {
		t.Fatal(err)
	}
	if err := r.sw.SetForward("203", callswitch.ForwardNoAnswer, "201"); err != nil {
		t.Fatal(err)
	}
	r.run(20 * time.Millisecond)
	if e := r.ext("204"); !e.DND {
		t.Fatal("DND not set through the API")
	}
	if e := r.ext("203"); e.Busy != "202" || e.NoAnswer != "201" || e.All != "" {
		t.Fatalf("forwarding %+v", e)
	}
	if err := r.sw.SetDND("299", true); !errors.Is(err, callswitch.ErrUnknown) {
		t.Fatalf("unknown extension: %v", err)
	}
	if err := r.sw.SetForward("299", callswitch.ForwardAll, "201"); !errors.Is(err, callswitch.ErrUnknown) {
		t.Fatalf("unknown extension: %v", err)
	}
}

// Once started, the switch runs queued work without waiting for a tick:
// signalling does not wait up to a frame (issue: set-up latency).
func TestDoWithoutTick(t *testing.T) {
	r := newRig(t, rigOpt{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.sw.Start(ctx)
	var order []int
	done := make(chan struct{})
	for i := range 100 {
		r.sw.Do(func() {
			order = append(order, i)
			if i == 99 {
				close(done)
			}
		})
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("queued work did not run while the clock stood still")
	}
	for i, v := range order {
		if v != i {
			t.Fatalf("work ran out of order: %v", order)
		}
	}
	calls, err := r.sw.Calls(ctx) // answered on the drainer, no tick needed
	if err != nil || len(calls) != 0 {
		t.Fatalf("Calls = %v, %v", calls, err)
	}
	if err := r.sw.Close(); err != nil {
		t.Fatal(err)
	}
}

// Configuration errors name what is wrong.
func TestNewErrors(t *testing.T) {
	plan, err := dialplan.New(defaultPlan())
	if err != nil {
		t.Fatal(err)
	}
	clk := sim.VirtualClock()
	eng := media.NewEngine(media.Config{})
	for _, c := range []struct {
		name string
		cfg  callswitch.Config
		eng  *media.Engine
		want string
	}{
		{"no plan", callswitch.Config{Clock: clk}, eng, "no dial plan"},
		{"no engine", callswitch.Config{Plan: plan, Clock: clk}, nil, "no media engine"},
		{"no clock", callswitch.Config{Plan: plan}, eng, "no clock"},
		{"unknown extension", callswitch.Config{Plan: plan, Clock: clk, Extensions: []callswitch.Extension{{Number: "299"}}}, eng, "299 is not in the dial plan"},
		{"twice", callswitch.Config{Plan: plan, Clock: clk, Extensions: []callswitch.Extension{{Number: "201"}, {Number: "201"}}}, eng, "201 twice"},
	} {
		_, err := callswitch.New(c.cfg, c.eng)
		if err == nil || !strings.HasPrefix(err.Error(), "callswitch: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// Reconfigure reaches the lines' digit matching at once, keeps what users
// set with feature codes, and reports those changes.
func TestReconfigure(t *testing.T) {
	var changes []string
	r := newRig(t, rigOpt{changed: func(e callswitch.Extension) {
		changes = append(changes, fmt.Sprintf("%s dnd=%v all=%q", e.Number, e.DND, e.ForwardAll))
	}})
	r.dial("202", "*76")
	r.hangup("202")
	r.dial("203", "*72201#")
	r.hangup("203")
	if got := strings.Join(changes, "; "); got != `202 dnd=true all=""; 203 dnd=false all="201"` {
		t.Fatalf("changes: %s", got)
	}
	pc := defaultPlan()
	pc.Routes = nil // no more outside calls
	plan, err := dialplan.New(pc)
	if err != nil {
		t.Fatal(err)
	}
	exts := defaultExts()
	exts[2].ForwardAll = "204" // the administrator changes 203's forwarding
	if err := r.sw.Reconfigure(plan, exts, nil); err != nil {
		t.Fatal(err)
	}
	r.run(20 * time.Millisecond)
	if e := r.ext("202"); !e.DND {
		t.Fatal("202 lost the DND its user set")
	}
	if e := r.ext("203"); e.All != "204" {
		t.Fatalf("203 forwards to %q, want the administrator's 204", e.All)
	}
	r.dial("201", "955551234")
	r.hearsTone("201", tone.Congestion)
	r.hangup("201")
	if r.co("fxo1").BoxOffHook() {
		t.Fatal("the old route was used")
	}
	if err := r.sw.Reconfigure(plan, []callswitch.Extension{{Number: "299"}}, nil); err == nil {
		t.Fatal("an extension outside the plan was accepted")
	}
	if err := r.sw.Reconfigure(nil, nil, nil); err == nil {
		t.Fatal("no plan was accepted")
	}
}

// Calls gives status pages a snapshot from any goroutine.
func TestCallsSnapshot(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.talk("201", "202")
	r.flash()
	r.dial2("203")
	snap := func() []callswitch.CallInfo {
		res := make(chan []callswitch.CallInfo, 1)
		go func() {
			calls, err := r.sw.Calls(context.Background())
			if err != nil {
				t.Error(err)
			}
			res <- calls
		}()
		for {
			select {
			case c := <-res:
				return c
			default:
				r.run(10 * time.Millisecond)
			}
		}
	}
	calls := snap()
	if len(calls) != 2 {
		t.Fatalf("calls %+v", calls)
	}
	first, second := calls[0], calls[1]
	if first.From != "201" || first.To != "202" || first.Answer.IsZero() || len(first.Legs) != 2 ||
		first.Legs[1].Channel != "fxs2" || !first.Legs[1].Held || first.Legs[0].Held || first.Legs[1].Tech != callswitch.FXS {
		t.Fatalf("held call %+v", first)
	}
	if second.To != "203" || !second.Answer.IsZero() || len(second.Legs) != 2 {
		t.Fatalf("consultation %+v", second)
	}
	r.hangup("201", "202")
	r.run(time.Second)
	if calls := snap(); len(calls) != 0 {
		t.Fatalf("calls left %+v", calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.sw.Calls(ctx); err == nil { // nobody ticks: the wait ends with ctx
		t.Fatal("no error without a tick")
	}
}

// blockingEP holds the media tick inside its ReadFrame until released, once
// armed: a media tick that takes long.
type blockingEP struct {
	armed    atomic.Bool
	inTick   chan struct{}
	released chan struct{}
}

func (b *blockingEP) ReadFrame(f []int16) {
	clear(f)
	if b.armed.CompareAndSwap(true, false) {
		close(b.inTick)
		<-b.released
	}
}

func (b *blockingEP) WriteFrame([]int16) {}

// Signalling is not held up by the media tick: while the engine is in the
// middle of a frame, work queued with Do runs on the drainer (the switch's
// run lock is not held through the engine's tick). Before, the drainer
// waited for the whole tick, and this test timed out.
func TestDoDuringMediaTick(t *testing.T) {
	r := newRig(t, rigOpt{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.sw.Start(ctx)
	defer r.sw.Close()
	b := &blockingEP{inTick: make(chan struct{}), released: make(chan struct{})}
	if _, err := r.eng.NewChannel("slow", b, media.ChannelOptions{}); err != nil {
		t.Fatal(err)
	}
	b.armed.Store(true)
	ticked := make(chan struct{})
	go func() { r.sw.Tick(); close(ticked) }()
	<-b.inTick
	ran := make(chan struct{})
	r.sw.Do(func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(30 * time.Second):
		t.Error("queued work waited for the media tick")
	}
	close(b.released)
	<-ticked
}

// Idle says when the switch has nothing to time, so that a simulated
// clock may tick in batches: not while a phone is off hook, a call rings
// or is up, nor after the drainer ran work (which may have started
// something) until a tick has looked; and the drainer calls the wake
// function after such work, so the clock can be on time again.
func TestIdle(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.run(50 * time.Millisecond)
	if !r.sw.Idle() {
		t.Fatal("a switch with nothing going on is not idle")
	}
	r.dial("201", "202")
	if r.sw.Idle() {
		t.Fatal("idle while 202 rings")
	}
	r.phone("202").OffHook()
	r.run(200 * time.Millisecond)
	if r.sw.Idle() {
		t.Fatal("idle during a call")
	}
	r.phone("201").OnHook()
	r.phone("202").OnHook()
	r.run(1500 * time.Millisecond) // past the flash window
	if !r.sw.Idle() {
		t.Fatal("not idle after the call")
	}
	r.phone("203").OffHook()
	r.run(100 * time.Millisecond)
	if r.sw.Idle() {
		t.Fatal("idle with 203 off hook")
	}
	r.phone("203").OnHook()
	r.run(1500 * time.Millisecond)
	if !r.sw.Idle() {
		t.Fatal("not idle after 203 hung up")
	}

	woken := make(chan struct{}, 1)
	r.sw.SetWake(func() { woken <- struct{}{} })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.sw.Start(ctx)
	defer r.sw.Close()
	r.sw.Do(func() {})
	select {
	case <-woken:
	case <-time.After(30 * time.Second):
		t.Fatal("the drainer ran work and did not wake the clock")
	}
	if r.sw.Idle() {
		t.Fatal("idle after work the drainer ran, before a tick looked")
	}
	r.run(line.FrameTime)
	if !r.sw.Idle() {
		t.Fatal("not idle on the tick after work that started nothing")
	}
}
