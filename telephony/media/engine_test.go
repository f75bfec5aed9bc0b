package media

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"callbox/dsp/dtmf"
)

// fakeLeg plays a scripted signal and records what it is sent.
type fakeLeg struct {
	src  []int16 // what the leg says, consumed a frame per tick (then silence)
	pos  int
	sent []int16
	// echo, if set, adds what the leg was sent back into what it says,
	// delayed by echoDelay samples and scaled: a hybrid.
	echo      float64
	echoDelay int
}

func (f *fakeLeg) ReadFrame(fr []int16) {
	for i := range fr {
		var v float64
		if f.pos < len(f.src) {
			v = float64(f.src[f.pos])
		}
		if f.echo != 0 {
			if j := f.pos - f.echoDelay; j >= 0 && j < len(f.sent) {
				v += f.echo * float64(f.sent[j])
			}
		}
		fr[i] = int16(max(-32768, min(32767, v)))
		f.pos++
	}
}

func (f *fakeLeg) WriteFrame(fr []int16) { f.sent = append(f.sent, fr...) }

func constant(v int16, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func tone(hz, amp float64, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*hz*float64(i)/SampleRate))
	}
	return s
}

func newChan(t *testing.T, e *Engine, name string, leg *fakeLeg, opt ChannelOptions) *Channel {
	t.Helper()
	c, err := e.NewChannel(name, leg, opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ticks(e *Engine, n int) {
	for range n {
		e.Tick()
	}
}

func TestBridge(t *testing.T) {
	e := NewEngine(Config{})
	a := &fakeLeg{src: tone(500, 8000, 800)}
	b := &fakeLeg{src: tone(1000, 8000, 800)}
	ca, cb := newChan(t, e, "a", a, ChannelOptions{}), newChan(t, e, "b", b, ChannelOptions{})
	if _, err := e.Bridge(ca, cb); err != nil {
		t.Fatal(err)
	}
	ticks(e, 10)
	// Same tick: each hears exactly what the other said.
	for i := range 800 {
		if a.sent[i] != b.src[i] || b.sent[i] != a.src[i] {
			t.Fatalf("sample %d: a hears %d (b said %d), b hears %d (a said %d)",
				i, a.sent[i], b.src[i], b.sent[i], a.src[i])
		}
	}
}

func TestConferenceNobodyHearsThemselves(t *testing.T) {
	e := NewEngine(Config{})
	const n = 5
	legs := make([]*fakeLeg, n)
	chans := make([]*Channel, n)
	for i := range n {
		legs[i] = &fakeLeg{src: constant(int16(100<<i), 160)}
		chans[i] = newChan(t, e, fmt.Sprint(i), legs[i], ChannelOptions{})
	}
	k, err := e.Conference(chans...)
	if err != nil {
		t.Fatal(err)
	}
	ticks(e, 1)
	total := 0
	for i := range n {
		total += 100 << i
	}
	for i := range n {
		if got, want := int(legs[i].sent[0]), total-100<<i; got != want {
			t.Errorf("party %d hears %d, want %d (everyone else)", i, got, want)
		}
	}
	// A monitor joins listen-only: it hears all five, nobody hears it.
	mon := &fakeLeg{src: constant(7000, 160)}
	cm := newChan(t, e, "monitor", mon, ChannelOptions{})
	if err := k.Join(cm, true); err != nil {
		t.Fatal(err)
	}
	ticks(e, 1)
	if got := int(mon.sent[0]); got != total {
		t.Errorf("monitor hears %d, want %d", got, total)
	}
	for i := range n {
		if got, want := int(legs[i].sent[80]), total-100<<i; got != want {
			t.Errorf("party %d hears %d with the monitor in, want %d", i, got, want)
		}
	}
	// Parties leave down to a bridge, then to nothing: silence.
	for i := range n - 1 {
		k.Leave(chans[i])
	}
	k.Leave(cm)
	if e.Stats().Conferences != 0 {
		t.Errorf("conference of one still counted: %+v", e.Stats())
	}
	ticks(e, 1)
	for i, l := range legs {
		if l.sent[160] != 0 {
			t.Errorf("party %d hears %d alone", i, l.sent[160])
		}
	}
}

func TestBridgeMovesChannels(t *testing.T) {
	e := NewEngine(Config{})
	var legs [3]*fakeLeg
	var ch [3]*Channel
	for i := range legs {
		legs[i] = &fakeLeg{src: constant(int16(1000*(i+1)), 400)}
		ch[i] = newChan(t, e, fmt.Sprint(i), legs[i], ChannelOptions{})
	}
	e.Bridge(ch[0], ch[1])
	ticks(e, 1)
	e.Bridge(ch[0], ch[2]) // transfer: 0 now talks to 2, 1 is alone
	ticks(e, 1)
	if legs[0].sent[80] != 3000 || legs[2].sent[80] != 1000 || legs[1].sent[80] != 0 {
		t.Errorf("after the move: 0 hears %d, 2 hears %d, 1 hears %d", legs[0].sent[80], legs[2].sent[80], legs[1].sent[80])
	}
	if _, err := e.Bridge(ch[0], ch[0]); err == nil {
		t.Error("bridge to itself accepted")
	}
	e.Remove(ch[2])
	ticks(e, 1)
	if legs[0].sent[160] != 0 || e.Stats().Channels != 2 {
		t.Errorf("after removing the peer: %d, %+v", legs[0].sent[160], e.Stats())
	}
}

func collect(e *Engine) string {
	var b strings.Builder
	for {
		select {
		case ev := <-e.Events():
			if ev.Kind == DigitStart {
				fmt.Fprintf(&b, "+%c", ev.Digit)
			} else {
				fmt.Fprintf(&b, "-%c ", ev.Digit)
			}
		default:
			return strings.TrimSpace(b.String())
		}
	}
}

func TestDTMFDetectAndMute(t *testing.T) {
	sig, err := dtmf.Synthesize("19#", dtmf.DefaultGeneratorConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, mute := range []bool{false, true} {
		e := NewEngine(Config{})
		a := &fakeLeg{src: sig}
		b := &fakeLeg{}
		ca := newChan(t, e, "a", a, ChannelOptions{DetectDTMF: true, MuteDTMF: mute})
		cb := newChan(t, e, "b", b, ChannelOptions{})
		e.Bridge(ca, cb)
		ticks(e, len(sig)/FrameSamples+10)
		if got := collect(e); got != "+1-1 +9-9 +#-#" {
			t.Errorf("mute %v: events %q", mute, got)
		}
		// What b heard: the digits, or (muted) no digits at all.
		d := dtmf.NewDetector(dtmf.DetectorConfig{})
		var evs []dtmf.Event
		evs = d.Process(b.sent, evs)
		if heard := len(evs) / 2; (heard == 3) == mute {
			t.Errorf("mute %v: b heard %d digits", mute, heard)
		}
	}
}

func TestSendDigitsInBand(t *testing.T) {
	e := NewEngine(Config{})
	a := &fakeLeg{}
	ca := newChan(t, e, "a", a, ChannelOptions{})
	if err := e.SendDigits(ca, "42*", 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := e.SendDigits(ca, "x", 0); err == nil {
		t.Error("x accepted")
	}
	ticks(e, 80)
	d := dtmf.NewDetector(dtmf.DetectorConfig{})
	var got []byte
	for _, ev := range d.Process(a.sent, nil) {
		if ev.Kind == dtmf.DigitStart {
			got = append(got, ev.Digit)
		}
	}
	if string(got) != "42*" {
		t.Errorf("leg heard %q", got)
	}
}

func energy(s []int16) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return sum / float64(len(s))
}

func TestEchoCancelledOnAnalogLeg(t *testing.T) {
	// The SIP side talks (noise-like speech stand-in); the analog leg is
	// silent but its hybrid returns the far audio 6 dB down, 2 ms after the
	// frame it was sent in went out (the tick after it was written).
	rng := rand.New(rand.NewPCG(3, 4))
	far := make([]int16, 4*SampleRate)
	for i := range far {
		far[i] = int16(rng.NormFloat64() * 2000)
	}
	// In the last second the analog caller talks too (double talk): their
	// voice must come through while the echo goes.
	near := make([]int16, len(far))
	copy(near[3*SampleRate:], tone(400, 3000, SampleRate))
	residual := func(taps int) float64 {
		e := NewEngine(Config{})
		analog := &fakeLeg{src: near, echo: 0.5, echoDelay: FrameSamples + 16}
		sip := &fakeLeg{src: far}
		ca := newChan(t, e, "fxs", analog, ChannelOptions{EchoTaps: taps})
		cs := newChan(t, e, "sip", sip, ChannelOptions{})
		e.Bridge(ca, cs)
		ticks(e, len(far)/FrameSamples)
		// What the SIP side hears minus the analog caller's voice.
		heard := sip.sent[2*SampleRate:]
		diff := make([]int16, len(heard))
		for i := range heard {
			diff[i] = heard[i] - near[2*SampleRate+i]
		}
		return energy(diff)
	}
	without, with := residual(0), residual(256)
	erle := 10 * math.Log10(without/max(with, 1e-9))
	if erle < 20 {
		t.Errorf("echo return loss enhancement %.1f dB over echo and double talk, want at least 20", erle)
	}
	t.Logf("ERLE %.1f dB", erle)
}

func TestTapAndPlay(t *testing.T) {
	e := NewEngine(Config{})
	a := &fakeLeg{src: tone(300, 5000, 1600)}
	b := &fakeLeg{src: tone(700, 5000, 1600)}
	tap := NewTap(4)
	ca := newChan(t, e, "a", a, ChannelOptions{Tap: tap})
	cb := newChan(t, e, "b", b, ChannelOptions{})
	e.Bridge(ca, cb)
	ticks(e, 3)
	var f TapFrame
	for i := range 3 {
		if !tap.Read(&f) || f.Tick != uint64(i) {
			t.Fatalf("frame %d missing (%d)", i, f.Tick)
		}
		for j := range FrameSamples {
			if f.Rx[j] != a.src[i*80+j] || f.Tx[j] != b.src[i*80+j] {
				t.Fatalf("tap frame %d sample %d: rx %d tx %d", i, j, f.Rx[j], f.Tx[j])
			}
		}
	}
	if tap.Read(&f) {
		t.Error("read past the end")
	}
	// Nobody reads: the ring holds 4, the rest are dropped, the clock goes on.
	ticks(e, 10)
	if tap.Dropped() != 6 {
		t.Errorf("dropped %d, want 6", tap.Dropped())
	}
	select {
	case <-tap.Ready():
	default:
		t.Error("no ready signal")
	}
	// Music on hold: a player replaces what a hears.
	moh := &fakeLeg{src: constant(1234, 800)}
	e.Play(ca, moh)
	ticks(e, 1)
	if a.sent[len(a.sent)-1] != 1234 {
		t.Errorf("a hears %d with the player", a.sent[len(a.sent)-1])
	}
	e.Play(ca, nil)
	ticks(e, 1)
	if a.sent[len(a.sent)-1] != b.src[len(a.sent)-1] {
		t.Error("a does not hear b after the player")
	}
}

func TestEventsNeverBlock(t *testing.T) {
	e := NewEngine(Config{EventBuffer: 2})
	sig, _ := dtmf.Synthesize("1234", dtmf.DefaultGeneratorConfig())
	newChan(t, e, "a", &fakeLeg{src: sig}, ChannelOptions{DetectDTMF: true})
	ticks(e, len(sig)/FrameSamples+10)
	if st := e.Stats(); st.EventsDropped != 6 {
		t.Errorf("dropped %d events, want 6", st.EventsDropped)
	}
}

func TestStartCloseVirtual(t *testing.T) {
	e := NewEngine(Config{})
	leg := &fakeLeg{}
	newChan(t, e, "a", leg, ChannelOptions{})
	var v Virtual
	if err := v.Step(1); err != ErrNotRunning {
		t.Errorf("step before run: %v", err)
	}
	if err := e.Start(context.Background(), &v); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background(), &v); err != ErrStarted {
		t.Errorf("second start: %v", err)
	}
	for !v.Running() {
		time.Sleep(time.Millisecond)
	}
	if err := v.Step(25); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if len(leg.sent) != 25*FrameSamples || e.Stats().Ticks != 25 || v.Running() {
		t.Errorf("%d samples sent, %+v", len(leg.sent), e.Stats())
	}
}

func TestTickerPaces(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time pacing")
	}
	var tk Ticker
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	n := 0
	start := time.Now()
	tk.Run(ctx, func() { n++ })
	want := int(time.Since(start) / FrameDuration)
	// Ticks skipped after a long stall (a loaded machine) count as paced.
	if got := n + int(tk.Skipped()); got < want-2 || got > want+1 {
		t.Errorf("%d ticks (+%d skipped) in %v, want about %d", n, tk.Skipped(), time.Since(start), want)
	}
}

// BenchmarkConference mixes N parties per tick through the engine.
func BenchmarkConference(b *testing.B) {
	for _, n := range []int{3, 10, 30} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			e := NewEngine(Config{})
			chans := make([]*Channel, n)
			for i := range chans {
				chans[i], _ = e.NewChannel(fmt.Sprint(i), loopLeg{v: int16(i * 10)}, ChannelOptions{})
			}
			e.Conference(chans...)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				e.Tick()
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(ns, "ns/frame")
			b.ReportMetric(ns/float64(n*FrameSamples), "ns/sample")
		})
	}
}

// loopLeg is an allocation-free endpoint for benchmarks.
type loopLeg struct{ v int16 }

func (l loopLeg) ReadFrame(f []int16) {
	for i := range f {
		f[i] = l.v
	}
}

func (loopLeg) WriteFrame([]int16) {}
