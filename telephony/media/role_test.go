package media

import (
	"testing"
)

// Supervisor monitoring as a conference of roles: the caller and the agent
// talk, the supervisor listens (heard by nobody), whispers (heard by the
// agent only) or barges (talks), and each party hears exactly the sum it
// should, sample for sample.
func TestConferenceRoles(t *testing.T) {
	e := NewEngine(Config{})
	caller := &fakeLeg{src: constant(100, 800)}
	agent := &fakeLeg{src: constant(200, 800)}
	sup := &fakeLeg{src: constant(4000, 800)}
	cc := newChan(t, e, "caller", caller, ChannelOptions{})
	ca := newChan(t, e, "agent", agent, ChannelOptions{})
	cs := newChan(t, e, "sup", sup, ChannelOptions{})
	k, err := e.ConferenceOf(Member{Channel: cc}, Member{Channel: ca}, Member{Channel: cs, Role: Whisper, To: ca})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		set  func() error
		// what caller, agent and supervisor hear
		c, a, s int16
	}{
		{"whisper", func() error { return nil }, 200, 4100, 300},
		{"listen", func() error { return k.SetRole(cs, Listen, nil) }, 200, 100, 300},
		{"barge", func() error { return k.SetRole(cs, Talk, nil) }, 4200, 4100, 300},
		{"whisper again", func() error { return k.SetRole(cs, Whisper, ca) }, 200, 4100, 300},
		{"whisper to the caller", func() error { return k.SetRole(cs, Whisper, cc) }, 4200, 100, 300},
	}
	for i, st := range steps {
		if err := st.set(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		ticks(e, 1)
		at := i * FrameSamples
		got := [3]int16{caller.sent[at], agent.sent[at], sup.sent[at]}
		if got != [3]int16{st.c, st.a, st.s} {
			t.Errorf("%s: caller, agent, supervisor hear %v, want %v", st.name, got, [3]int16{st.c, st.a, st.s})
		}
	}
	// The agent leaves while whispered to: the supervisor, still
	// whispering, is heard by nobody; the caller hears nobody.
	if err := k.SetRole(cs, Whisper, ca); err != nil {
		t.Fatal(err)
	}
	k.Leave(ca)
	ticks(e, 1)
	at := len(steps) * FrameSamples
	if caller.sent[at] != 0 || sup.sent[at] != 100 {
		t.Errorf("agent gone: caller hears %d, supervisor %d; want 0 and 100", caller.sent[at], sup.sent[at])
	}
	if err := k.SetRole(ca, Talk, nil); err == nil {
		t.Error("SetRole of a channel that left the conference succeeded")
	}
	if _, err := e.ConferenceOf(Member{Channel: cc}, Member{Channel: ca, Role: 9}); err == nil {
		t.Error("unknown role accepted")
	}
}

// Whispered loud audio saturates instead of wrapping.
func TestWhisperSaturates(t *testing.T) {
	e := NewEngine(Config{})
	a := &fakeLeg{src: constant(30000, 80)}
	b := &fakeLeg{src: constant(30000, 80)}
	w := &fakeLeg{src: constant(30000, 80)}
	ca, cb, cw := newChan(t, e, "a", a, ChannelOptions{}), newChan(t, e, "b", b, ChannelOptions{}), newChan(t, e, "w", w, ChannelOptions{})
	if _, err := e.ConferenceOf(Member{Channel: ca}, Member{Channel: cb}, Member{Channel: cw, Role: Whisper, To: cb}); err != nil {
		t.Fatal(err)
	}
	ticks(e, 1)
	if b.sent[0] != 32767 {
		t.Errorf("b hears %d, want 32767 (saturated)", b.sent[0])
	}
}

// BenchmarkTickWhisper is a monitored call (caller, agent, whispering
// supervisor): the tick allocates nothing.
func BenchmarkTickWhisper(b *testing.B) {
	e := NewEngine(Config{Workers: 1})
	var chans [3]*Channel
	for i := range chans {
		c, err := e.NewChannel("x", &silentLeg{}, ChannelOptions{})
		if err != nil {
			b.Fatal(err)
		}
		chans[i] = c
	}
	if _, err := e.ConferenceOf(Member{Channel: chans[0]}, Member{Channel: chans[1]}, Member{Channel: chans[2], Role: Whisper, To: chans[1]}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Tick()
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/frame")
	b.ReportMetric(ns/float64(len(chans)*FrameSamples), "ns/sample") // per party, as BenchmarkConference

}

// silentLeg says nothing and keeps nothing.
type silentLeg struct{}

func (silentLeg) ReadFrame(f []int16) { clear(f) }
func (silentLeg) WriteFrame([]int16)  {}
