package pcm

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callbox/board/internal/vclock"
	"callbox/dsp/g711"
)

// phone is a test endpoint: it sends a distinct ramp per frame and keeps
// what it was sent.
type phone struct {
	id      int16
	reads   int
	heard   [][]int16
	keep    bool
	last    [FrameSize]int16
	lastOut [FrameSize]int16
}

func (p *phone) PCMRead(frame []int16) {
	for i := range frame {
		// A large-swing signal so G.711 quantisation is visible.
		frame[i] = int16(1000*int(p.id) + 300*i - 9000 + 7*p.reads)
	}
	copy(p.lastOut[:], frame)
	p.reads++
}

func (p *phone) PCMWrite(frame []int16) {
	copy(p.last[:], frame)
	if p.keep {
		p.heard = append(p.heard, append([]int16(nil), frame...))
	}
}

func newSim(t testing.TB, slots int) *Sim {
	t.Helper()
	s, err := NewSim(slots, vclock.NewVirtual())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// wire is the test's own model of a chip and the highway: the chip encodes
// with its codec, the box decodes.
func wire(c Codec, x []int16) []int16 {
	out := make([]int16, len(x))
	for i, v := range x {
		switch c {
		case Alaw:
			out[i] = g711.DecodeAlawSample(g711.EncodeAlawSample(v))
		case Ulaw:
			out[i] = g711.DecodeUlawSample(g711.EncodeUlawSample(v))
		default:
			out[i] = v
		}
	}
	return out
}

func TestSimCodecsAndSlots(t *testing.T) {
	for _, c := range []Codec{Alaw, Ulaw, Linear} {
		t.Run(c.String(), func(t *testing.T) {
			s := newSim(t, 8)
			a, b := &phone{id: 1}, &phone{id: 2}
			if err := s.Connect(2, a); err != nil {
				t.Fatal(err)
			}
			if err := s.Connect(5, b); err != nil {
				t.Fatal(err)
			}
			pa, err := s.Attach(2, c)
			if err != nil {
				t.Fatal(err)
			}
			pb, err := s.Attach(5, c)
			if err != nil {
				t.Fatal(err)
			}
			var gotA []int16
			// Cross-connect: each phone hears the other.
			s.SetHandler(func(Tick) {
				gotA = append(gotA[:0], pa.Received()...)
				pa.Send(pb.Received())
				pb.Send(pa.Received())
			})
			for range 3 {
				if err := s.Step(); err != nil {
					t.Fatal(err)
				}
			}
			if want := wire(c, a.lastOut[:]); !equal(gotA, want) {
				t.Fatalf("port at slot 2 received %v, want %v", gotA[:4], want[:4])
			}
			// Through the wire twice: into the box and out again.
			if want := wire(c, wire(c, a.lastOut[:])); !equal(b.last[:], want) {
				t.Fatalf("phone at slot 5 heard %v, want %v", b.last[:4], want[:4])
			}
			if want := wire(c, wire(c, b.lastOut[:])); !equal(a.last[:], want) {
				t.Fatalf("phone at slot 2 heard %v, want %v", a.last[:4], want[:4])
			}
			if st := s.Stats(); st.Ticks != 3 || st.Underruns != 0 {
				t.Fatalf("stats %+v, want 3 ticks and no underruns", st)
			}
		})
	}
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSimUnderrunAndIdle(t *testing.T) {
	s := newSim(t, 4)
	talk, quiet, alone := &phone{id: 1}, &phone{id: 2}, &phone{id: 3}
	for slot, e := range map[int]*phone{0: talk, 1: quiet, 3: alone} {
		if err := s.Connect(slot, e); err != nil {
			t.Fatal(err)
		}
	}
	p0, _ := s.Attach(0, Linear) // slots 0 and 1: the phone at 1 is shadowed
	p2, err := s.Attach(2, Alaw)
	if err != nil {
		t.Fatal(err)
	}
	var rx2 []int16
	s.SetHandler(func(Tick) {
		p0.Send([]int16{1, 2, 3}) // short: padded with silence
		rx2 = append(rx2[:0], p2.Received()...)
	})
	talk.last[5], alone.last[0] = 99, 99
	if err := s.Step(); err != nil {
		t.Fatal(err)
	}
	if talk.last[0] != 1 || talk.last[2] != 3 || talk.last[3] != 0 || talk.last[5] != 0 {
		t.Fatalf("short frame not padded: %v", talk.last[:6])
	}
	if alone.reads != 1 || alone.last[0] != 0 {
		t.Fatalf("an unattached chip must still be read (%d reads) and hear silence (%d)", alone.reads, alone.last[0])
	}
	if quiet.reads != 1 {
		t.Fatalf("the chip on the second slot of a linear port was read %d times, want 1", quiet.reads)
	}
	// Slot 2 has a port but no chip: the idle A-law code, 0xD5, decodes to 8.
	if rx2[0] != 8 || rx2[79] != 8 {
		t.Fatalf("idle A-law slot received %d, want 8", rx2[0])
	}
	if got := p2.Underruns(); got != 1 {
		t.Fatalf("port given nothing counted %d underruns, want 1", got)
	}
	if got := p0.Underruns(); got != 0 {
		t.Fatalf("port given a frame counted %d underruns", got)
	}
	if st := s.Stats(); st.Underruns != 1 {
		t.Fatalf("stats %+v, want 1 underrun", st)
	}
}

func TestAttachErrors(t *testing.T) {
	s := newSim(t, 4)
	if _, err := s.Attach(1, Linear); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		slot  int
		codec Codec
		want  string
	}{
		{-1, Alaw, "attach slot -1: alaw needs timeslots -1..-1 of 0..3"},
		{3, Linear, "attach slot 3: linear needs timeslots 3..4 of 0..3"},
		{4, Ulaw, "attach slot 4"},
		{2, Alaw, "attach slot 2: timeslot 2 is used by the port at slot 1"},
		{0, Linear, "attach slot 0: timeslot 1 is used by the port at slot 1"},
		{0, Codec(9), "unknown codec 9"},
	}
	for _, tt := range tests {
		_, err := s.Attach(tt.slot, tt.codec)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "pcm: ") {
			t.Errorf("Attach(%d, %v) = %v, want %q", tt.slot, tt.codec, err, tt.want)
		}
	}
	if _, err := s.Attach(0, Alaw); err != nil {
		t.Fatalf("slot 0 is free: %v", err)
	}
	if err := s.Connect(4, &phone{}); err == nil {
		t.Fatal("Connect out of range succeeded")
	}
	if err := s.Connect(0, &phone{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(0, &phone{}); err == nil {
		t.Fatal("Connect on a taken slot succeeded")
	}
	s.Disconnect(0)
	if err := s.Connect(0, &phone{}); err != nil {
		t.Fatalf("Connect after Disconnect: %v", err)
	}
	if _, err := NewSim(0, vclock.Real{}); err == nil {
		t.Fatal("NewSim(0) succeeded")
	}
}

func TestDetachInHandler(t *testing.T) {
	s := newSim(t, 4)
	ph := &phone{id: 1}
	s.Connect(1, ph)
	p, _ := s.Attach(1, Linear)
	ticks := 0
	s.SetHandler(func(Tick) {
		ticks++
		p.Send(p.Received())
		if ticks == 2 {
			s.Detach(p)
			s.Detach(p) // twice is harmless
		}
	})
	for range 4 {
		s.Step()
	}
	if p.Attached() {
		t.Fatal("port still attached")
	}
	if ph.last[0] != 0 {
		t.Fatalf("a detached port's chip hears %d, want silence", ph.last[0])
	}
	if p.Underruns() != 0 {
		t.Fatalf("a detached port counts underruns: %d", p.Underruns())
	}
	// The slots are free again, for any codec.
	if _, err := s.Attach(1, Linear); err != nil {
		t.Fatal(err)
	}
}

// TestSimRunVirtual runs the paced loop on a virtual clock: no wall time,
// exact timing.
func TestSimRunVirtual(t *testing.T) {
	clk := vclock.NewVirtual()
	s, _ := NewSim(6, clk)
	defer s.Close()
	t0 := clk.Now()
	ctx, cancel := context.WithCancel(context.Background())
	var seqs []uint64
	var times []time.Duration
	s.SetHandler(func(tk Tick) {
		seqs = append(seqs, tk.Seq)
		times = append(times, tk.Time.Sub(t0))
		switch tk.Seq { // frames 21..25 are dropped
		case 10: // a slow tick: 35 ms of work
			clk.Advance(35 * time.Millisecond)
		case 20: // a stall: 100 ms
			clk.Advance(100 * time.Millisecond)
		case 40:
			cancel()
		}
	})
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	// Tick 11 is due at 110 ms and starts at 135 ms (25 ms late), tick 12
	// is 15 ms late, tick 13 5 ms (within tolerance). After the stall tick
	// 21 starts 90 ms late: 9 frames behind, 5 more than the backlog, so
	// frames 21..25 are dropped and 26..29 run 40, 30, 20, 10 ms late.
	st := s.Stats()
	want := Stats{Ticks: 36, Overruns: 6, Dropped: 5, MaxLate: 40 * time.Millisecond}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	for i, q := range seqs {
		want := uint64(i)
		if i > 20 {
			want += 5 // the dropped frames
		}
		if q != want {
			t.Fatalf("tick %d has Seq %d, want %d", i, q, want)
		}
	}
	if times[5] != 50*time.Millisecond || times[25] != 300*time.Millisecond {
		t.Fatalf("tick 5 stamped %v, tick 25 (frame 30) %v; want 50ms and 300ms", times[5], times[25])
	}
}

func TestSimRunRealTime(t *testing.T) {
	s, _ := NewSim(6, vclock.Real{})
	ctx, cancel := context.WithCancel(context.Background())
	var first, last time.Time
	n := 0
	s.SetHandler(func(Tick) {
		if n == 0 {
			first = time.Now()
		}
		n++
		if n == 21 {
			last = time.Now()
			cancel()
		}
	})
	start := time.Now()
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got := last.Sub(first); got < 195*time.Millisecond {
		t.Fatalf("20 ticks took %v, want >= 200ms (paced)", got)
	}
	t.Logf("21 ticks in %v, stats %+v", time.Since(start), s.Stats())
}

func TestSimLifecycle(t *testing.T) {
	s, _ := NewSim(2, vclock.Real{})
	done := make(chan error)
	go func() { done <- s.Run(context.Background()) }()
	for s.Stats().Ticks < 2 {
		time.Sleep(time.Millisecond)
	}
	if err := s.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Run: %v, want ErrRunning", err)
	}
	if err := s.Step(); !errors.Is(err, ErrRunning) {
		t.Fatalf("Step beside Run: %v, want ErrRunning", err)
	}
	s.Close() // stops Run and waits for it
	n := s.Stats().Ticks
	time.Sleep(3 * FramePeriod)
	if m := s.Stats().Ticks; m != n {
		t.Fatalf("%d ticks after Close returned", m-n)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	if err := s.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Run after Close: %v", err)
	}
	if err := s.Step(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Step after Close: %v", err)
	}
}

// TestSimConcurrentAttach attaches and detaches from another goroutine
// while ticks run (meant for -race).
func TestSimConcurrentAttach(t *testing.T) {
	s, _ := NewSim(8, vclock.NewVirtual())
	for i := range 8 {
		s.Connect(i, &phone{id: int16(i)})
	}
	var mu sync.Mutex
	var live []*Port
	s.SetHandler(func(Tick) {
		mu.Lock()
		for _, p := range live {
			p.Send(p.Received())
		}
		mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	for i := range 200 {
		p, err := s.Attach(i%8, Ulaw)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		live = append(live, p)
		mu.Unlock()
		if i%2 == 1 {
			mu.Lock()
			for _, q := range live {
				s.Detach(q)
			}
			live = live[:0]
			mu.Unlock()
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestSimNoAllocs(t *testing.T) {
	s := newSim(t, 32)
	ports := attachPhones(t, s, 6, Alaw)
	s.SetHandler(echo(ports))
	if n := testing.AllocsPerRun(200, func() { s.Step() }); n != 0 {
		t.Fatalf("%v allocations per tick, want 0", n)
	}
}

func attachPhones(t testing.TB, s *Sim, n int, c Codec) []*Port {
	var ports []*Port
	for i := range n {
		if err := s.Connect(i, &phone{id: int16(i)}); err != nil {
			t.Fatal(err)
		}
		p, err := s.Attach(i, c)
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, p)
	}
	return ports
}

func echo(ports []*Port) Handler {
	return func(Tick) {
		for _, p := range ports {
			p.Send(p.Received())
		}
	}
}

func BenchmarkSimTick(b *testing.B) {
	for _, n := range []int{6, 32} {
		b.Run(map[int]string{6: "slots=6", 32: "slots=32"}[n], func(b *testing.B) {
			s := newSim(b, 32)
			s.SetHandler(echo(attachPhones(b, s, n, Alaw)))
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				s.Step()
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N), "ns/tick")
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*n*FrameSize*2), "ns/sample")
		})
	}
}

// sleepCounter is a virtual clock that counts Run's sleeps (its wakes).
type sleepCounter struct {
	*vclock.Virtual
	sleeps int
}

func (c *sleepCounter) Sleep(d time.Duration) { c.sleeps++; c.Virtual.Sleep(d) }

// While the box is idle, Run wakes once per batch of frames, not once per
// frame, and still runs every frame in order, stamped on its own place on
// the grid, with no overrun and no drop; once busy it paces frame by frame.
func TestSimIdleBatches(t *testing.T) {
	clk := &sleepCounter{Virtual: vclock.NewVirtual()}
	s, _ := NewSim(6, clk)
	defer s.Close()
	t0 := clk.Now()
	ctx, cancel := context.WithCancel(context.Background())
	busy := false
	s.SetIdle(func() bool { return !busy }, 5)
	var seqs []uint64
	var idleSleeps int
	s.SetHandler(func(tk Tick) {
		if tk.Time.Sub(t0) != time.Duration(tk.Seq)*FramePeriod {
			t.Errorf("frame %d stamped %v", tk.Seq, tk.Time.Sub(t0))
		}
		seqs = append(seqs, tk.Seq)
		switch tk.Seq {
		case 49:
			busy, idleSleeps = true, clk.sleeps
		case 99:
			cancel()
		}
	})
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	for i, q := range seqs {
		if q != uint64(i) {
			t.Fatalf("tick %d has Seq %d", i, q)
		}
	}
	if len(seqs) != 100 {
		t.Fatalf("%d ticks, want 100", len(seqs))
	}
	if idleSleeps != 10 {
		t.Errorf("50 idle frames took %d wakes, want 10 (batches of 5)", idleSleeps)
	}
	if busy := clk.sleeps - idleSleeps; busy != 50 {
		t.Errorf("50 busy frames took %d wakes, want 50", busy)
	}
	if st := s.Stats(); st.Overruns != 0 || st.Dropped != 0 || st.Batched != 50 {
		t.Errorf("stats %+v, want 50 batched frames and no fault", st)
	}
}

// Wake ends an idle sleep at once: with a batch far longer than the test's
// patience, the frame after Wake still comes, and nothing is dropped.
func TestSimWakeEndsIdleSleep(t *testing.T) {
	s, _ := NewSim(6, vclock.Real{})
	defer s.Close()
	var idle atomic.Bool
	idle.Store(true)
	asked := make(chan struct{}, 1)
	s.SetIdle(func() bool {
		select {
		case asked <- struct{}{}:
		default:
		}
		return idle.Load()
	}, 60*int(time.Second/FramePeriod)) // a minute's batch
	ticked := make(chan uint64, 1)
	s.SetHandler(func(tk Tick) {
		select {
		case ticked <- tk.Seq:
		default:
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-asked // about to sleep a minute
	idle.Store(false)
	s.Wake()
	select {
	case <-ticked:
	case <-time.After(30 * time.Second):
		t.Error("no frame after Wake")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Dropped != 0 {
		t.Errorf("dropped %d frames", st.Dropped)
	}
}
