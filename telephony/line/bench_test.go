package line_test

import (
	"testing"
	"time"

	"callbox/telephony/line"
)

// loopFXS is an FXS port for benchmarks: a fixed audio loop as the phone's
// voice, the channel's output discarded, no events unless queued.
type loopFXS struct {
	audio []int16
	pos   int
	q     []line.FXSEvent
}

func (p *loopFXS) Ring([]time.Duration) error { return nil }
func (p *loopFXS) StopRing() error            { return nil }
func (p *loopFXS) SetFeed(line.Feed) error    { return nil }
func (p *loopFXS) NextEvent() (line.FXSEvent, bool) {
	if len(p.q) == 0 {
		return line.FXSEvent{}, false
	}
	e := p.q[0]
	p.q = p.q[1:]
	return e, true
}
func (p *loopFXS) ReadFrame(f *line.Frame) {
	for i := range f {
		f[i] = p.audio[p.pos]
		p.pos = (p.pos + 1) % len(p.audio)
	}
}
func (p *loopFXS) WriteFrame(*line.Frame) {}

type loopFXO struct {
	loopFXS
	q []line.FXOEvent
}

func (p *loopFXO) Seize() error                  { return nil }
func (p *loopFXO) Release() error                { return nil }
func (p *loopFXO) Flash() error                  { return nil }
func (p *loopFXO) LineVoltage() (float64, error) { return -48, nil }
func (p *loopFXO) NextEvent() (line.FXOEvent, bool) {
	if len(p.q) == 0 {
		return line.FXOEvent{}, false
	}
	e := p.q[0]
	p.q = p.q[1:]
	return e, true
}

// echoVoice is a far party that says something back every frame.
type echoVoice struct{ n int16 }

func (v *echoVoice) Exchange(up, down *line.Frame) {
	for i := range down {
		down[i] = up[i]/2 + v.n
	}
	v.n++
}

type nullFXS struct{}

func (nullFXS) Dialled(*line.FXS, string)       {}
func (nullFXS) Answered(*line.FXS)              {}
func (nullFXS) HungUp(*line.FXS)                {}
func (nullFXS) Feature(*line.FXS, line.Feature) {}

type nullFXO struct{}

func (nullFXO) Inbound(*line.FXO, line.Caller) {}
func (nullFXO) Answered(*line.FXO)             {}
func (nullFXO) HungUp(*line.FXO, line.Cause)   {}

type nullPlan struct{}

func (nullPlan) Match(string) line.Match { return line.MatchMore }

// fxsIn states an FXS channel in a steady state for the benchmarks and the
// allocation test; audio is speech (the phone talking).
func fxsIn(tb testing.TB, state string) (*line.FXS, *vclock) {
	tb.Helper()
	clk := newClock()
	p := &loopFXS{audio: speech(tb, 8000*4)}
	ch, err := line.NewFXS(line.FXSConfig{FirstDigitTimeout: time.Hour}, p, clk, nullPlan{}, nullFXS{})
	if err != nil {
		tb.Fatal(err)
	}
	tick := func() { clk.Advance(line.FrameTime); ch.Tick() }
	switch state {
	case "idle":
	case "dial-tone":
		p.q = append(p.q, line.FXSEvent{Kind: line.OffHook})
	case "alerting":
		if err := ch.Ring(line.Caller{Number: "13800138000", Name: "ZHANG SAN"}); err != nil {
			tb.Fatal(err)
		}
	case "connected", "call-waiting":
		p.q = append(p.q, line.FXSEvent{Kind: line.OffHook}, line.FXSEvent{Kind: line.PulseDigit, Digit: '2'})
		tick()
		if err := ch.Connect(&echoVoice{}); err != nil {
			tb.Fatal(err)
		}
		if state == "call-waiting" {
			if err := ch.CallWaiting(true); err != nil {
				tb.Fatal(err)
			}
		}
	default:
		tb.Fatalf("no state %q", state)
	}
	for i := 0; i < 300; i++ { // past set-up work: steady state
		tick()
	}
	want := map[string]line.FXSState{"idle": line.FXSIdle, "dial-tone": line.FXSDialTone,
		"alerting": line.FXSAlerting, "connected": line.FXSConnected, "call-waiting": line.FXSConnected}[state]
	if ch.State() != want {
		tb.Fatalf("state %s, want %s", ch.State(), want)
	}
	return ch, clk
}

func fxoIn(tb testing.TB, state string) (*line.FXO, *vclock) {
	tb.Helper()
	clk := newClock()
	p := &loopFXO{loopFXS: loopFXS{audio: speech(tb, 8000*4)}}
	ch, err := line.NewFXO(line.FXOConfig{DialToneTimeout: time.Hour}, p, clk, nullFXO{})
	if err != nil {
		tb.Fatal(err)
	}
	tick := func() { clk.Advance(line.FrameTime); ch.Tick() }
	switch state {
	case "idle":
	case "wait-dial-tone":
		if err := ch.Dial("1"); err != nil {
			tb.Fatal(err)
		}
	case "connected":
		p.q = append(p.q, line.FXOEvent{Kind: line.RingStart}, line.FXOEvent{Kind: line.RingStart})
		tick()
		if err := ch.Answer(); err != nil {
			tb.Fatal(err)
		}
		if err := ch.Connect(&echoVoice{}); err != nil {
			tb.Fatal(err)
		}
	default:
		tb.Fatalf("no state %q", state)
	}
	for i := 0; i < 300; i++ {
		tick()
	}
	if got := ch.State().String(); got != state {
		tb.Fatalf("state %s, want %s", got, state)
	}
	return ch, clk
}

// Each benchmark op is one frame of one port: ns/op is the CPU a port
// costs per 10 ms; ports/core is how many such ports one core carries.
func benchTick(b *testing.B, tick func(), clk *vclock) {
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clk.Advance(line.FrameTime)
		tick()
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/port-frame")
	b.ReportMetric(float64(line.FrameTime.Nanoseconds())/ns, "ports/core")
}

func BenchmarkFXSTick(b *testing.B) {
	for _, s := range []string{"idle", "dial-tone", "alerting", "connected", "call-waiting"} {
		b.Run(s, func(b *testing.B) {
			ch, clk := fxsIn(b, s)
			benchTick(b, ch.Tick, clk)
		})
	}
}

func BenchmarkFXOTick(b *testing.B) {
	for _, s := range []string{"idle", "wait-dial-tone", "connected"} {
		b.Run(s, func(b *testing.B) {
			ch, clk := fxoIn(b, s)
			benchTick(b, ch.Tick, clk)
		})
	}
}

// Steady-state ticks allocate nothing, in every state a port stays in.
func TestTickAllocations(t *testing.T) {
	for _, s := range []string{"idle", "dial-tone", "alerting", "connected", "call-waiting"} {
		ch, clk := fxsIn(t, s)
		if n := testing.AllocsPerRun(200, func() { clk.Advance(line.FrameTime); ch.Tick() }); n != 0 {
			t.Errorf("FXS %s: %.1f allocations per tick", s, n)
		}
	}
	for _, s := range []string{"idle", "wait-dial-tone", "connected"} {
		ch, clk := fxoIn(t, s)
		if n := testing.AllocsPerRun(200, func() { clk.Advance(line.FrameTime); ch.Tick() }); n != 0 {
			t.Errorf("FXO %s: %.1f allocations per tick", s, n)
		}
	}
}
