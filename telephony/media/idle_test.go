package media

import (
	"testing"
)

// idlePort is an Idler that counts the engine's calls and keeps the last
// frame it was sent.
type idlePort struct {
	busy          bool // Idle reports false
	reads, writes int
	last          [FrameSamples]int16
}

func (p *idlePort) ReadFrame(f []int16) {
	p.reads++
	for i := range f {
		f[i] = 1000
	}
}
func (p *idlePort) WriteFrame(f []int16) { p.writes++; copy(p.last[:], f) }
func (p *idlePort) Idle() bool           { return !p.busy }

// Idle ports cost the engine nothing after one frame of silence, a bridge,
// a player or in-band digits wake them, and the tick count stays exact.
func TestIdlePortsSleep(t *testing.T) {
	e := NewEngine(Config{})
	ports := make([]*idlePort, 8)
	chans := make([]*Channel, 8)
	for i := range ports {
		ports[i] = &idlePort{}
		c, err := e.NewChannel("port", ports[i], ChannelOptions{})
		if err != nil {
			t.Fatal(err)
		}
		chans[i] = c
	}
	other := &fakeLeg{} // not an Idler: ticked on every frame
	newChan(t, e, "rtp", other, ChannelOptions{})
	ticks(e, 100)
	for i, p := range ports {
		if p.reads != 1 || p.writes != 1 {
			t.Fatalf("idle port %d: %d reads, %d writes in 100 ticks, want 1 each", i, p.reads, p.writes)
		}
	}
	if len(other.sent) != 100*FrameSamples {
		t.Fatalf("the endpoint without Idler was sent %d samples", len(other.sent))
	}
	if st := e.Stats(); st.Ticks != 100 || st.Slept != 8*99 {
		t.Fatalf("stats %+v", st)
	}

	// A bridge wakes both ports at once; leaving it, each gets silence
	// once and sleeps again.
	a, b := ports[0], ports[1]
	k, err := e.Bridge(chans[0], chans[1])
	if err != nil {
		t.Fatal(err)
	}
	ticks(e, 10)
	if a.reads != 11 || b.writes != 11 || b.last[0] != 1000 {
		t.Fatalf("bridged: a read %d times, b written %d times, last %d", a.reads, b.writes, b.last[0])
	}
	k.Leave(chans[0])
	ticks(e, 10)
	if a.writes != 12 || b.writes != 12 || a.last[0] != 0 || b.last[0] != 0 {
		t.Fatalf("after the bridge: writes %d and %d, last %d and %d (want 12 and silence)", a.writes, b.writes, a.last[0], b.last[0])
	}

	// A player, in-band digits and a port that says it is busy wake them.
	p := &fakeLeg{src: constant(7, 3*FrameSamples)}
	e.Play(chans[2], p)
	if err := e.SendDigits(chans[3], "5", 0); err != nil {
		t.Fatal(err)
	}
	ports[4].busy = true
	ticks(e, 3)
	if ports[2].writes != 4 || ports[2].last[0] != 7 || ports[3].writes != 4 || ports[4].reads != 4 {
		t.Fatalf("woken: player %d writes (last %d), digits %d writes, busy port %d reads",
			ports[2].writes, ports[2].last[0], ports[3].writes, ports[4].reads)
	}
	if ports[5].reads != 1 {
		t.Fatalf("a port still idle was read %d times", ports[5].reads)
	}
}

// BenchmarkTickIdlePorts is the engine's tick with eight idle analog
// ports and no call.
func BenchmarkTickIdlePorts(b *testing.B) {
	e := NewEngine(Config{})
	for range 8 {
		if _, err := e.NewChannel("port", &idlePort{}, ChannelOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Tick()
	}
}
