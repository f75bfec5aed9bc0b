package callswitch_test

import (
	"strconv"
	"testing"
	"time"

	"callbox/board/sim"
	"callbox/telephony/line"
	"callbox/telephony/media"
	"callbox/telephony/sip"
	callswitch "callbox/telephony/switch"
	"callbox/telephony/switch/dialplan"
)

// Two calls in progress on the sim board (201-202, 203-204): one frame
// is every port's service, the highway, four FXS channels, two idle FXO
// channels, the switch and the media engine's two bridges. The switch's
// steady state must not allocate.
func BenchmarkFrameTwoCalls(b *testing.B) {
	r := newRig(b, rigOpt{})
	r.talk("201", "202")
	r.talk("203", "204")
	r.run(time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.clk.Advance(line.FrameTime)
		if err := r.bd.Step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}

func TestFrameAllocatesNothing(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.talk("201", "202")
	r.flash() // 202 on hold with music: the music player runs too
	r.talk("203", "204")
	r.run(time.Second)
	step := func() {
		r.clk.Advance(line.FrameTime)
		if err := r.bd.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(300, step); n != 0 {
		t.Fatalf("%v allocations per frame", n)
	}
}

// 100 SIP-to-SIP calls bridged on the switch and its media engine, no
// board: the switch's and the engine's cost per frame of calls in
// progress (the RTP streams themselves are telephony/media's to measure).
func BenchmarkTick100SIPCalls(b *testing.B) {
	const calls = 100
	pc := defaultPlan()
	var exts []callswitch.Extension
	for i := range 2 * calls {
		n := strconv.Itoa(3000 + i)
		pc.Extensions = append(pc.Extensions, n)
		exts = append(exts, callswitch.Extension{Number: n})
	}
	plan, err := dialplan.New(pc)
	if err != nil {
		b.Fatal(err)
	}
	clk := sim.VirtualClock()
	d := &dialer{quiet: true}
	sw, err := callswitch.New(callswitch.Config{Plan: plan, Clock: clk, SIP: d, Extensions: exts}, media.NewEngine(media.Config{}))
	if err != nil {
		b.Fatal(err)
	}
	defer sw.Close()
	ev := sw.SIPEvents()
	tick := func() {
		clk.Advance(line.FrameTime)
		sw.Tick()
	}
	for i := range calls {
		ev.Offered(&sipLeg{id: "in" + strconv.Itoa(i), ext: strconv.Itoa(3000 + 2*i), dir: sip.Inbound,
			from: sip.Party{User: strconv.Itoa(3000 + 2*i)}, to: sip.Party{User: strconv.Itoa(3001 + 2*i)}})
	}
	for end := time.Now().Add(10 * time.Second); ; {
		tick()
		d.mu.Lock()
		n := len(d.legs)
		d.mu.Unlock()
		if n == calls {
			break
		}
		if time.Now().After(end) {
			b.Fatalf("%d of %d calls dialled", n, calls)
		}
		time.Sleep(time.Millisecond)
	}
	for _, l := range d.legs {
		ev.Answered(l)
	}
	for end := time.Now().Add(10 * time.Second); d.openedMedia() < 2*calls; {
		tick()
		if time.Now().After(end) {
			b.Fatalf("%d media of %d", d.openedMedia(), 2*calls)
		}
		time.Sleep(time.Millisecond)
	}
	for range 100 {
		tick()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tick()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/calls, "ns/frame/call")
}

// The box with nothing happening: the sim board's ports (four FXS, two
// FXO) idle, no call. BenchmarkTickIdle is the switch's own tick (its
// line channels, timers and media engine), BenchmarkFrameIdle the whole
// frame with the emulated chips and highway.
func BenchmarkTickIdle(b *testing.B) {
	r := newRig(b, rigOpt{})
	r.run(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		r.clk.Advance(line.FrameTime)
		r.sw.Tick()
	}
}

func BenchmarkFrameIdle(b *testing.B) {
	r := newRig(b, rigOpt{})
	r.run(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		r.clk.Advance(line.FrameTime)
		if err := r.bd.Step(); err != nil {
			b.Fatal(err)
		}
	}
}
