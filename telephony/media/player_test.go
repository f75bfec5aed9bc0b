package media

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// ramp is n samples counting up from start: every sample tells where it
// came from.
func ramp(start, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(start + i)
	}
	return s
}

// drain reads frames from p until it is done (at most limit frames) and
// returns the samples and the number of frames read.
func drain(p *Player, limit int) ([]int16, int) {
	var out []int16
	f := make([]int16, FrameSamples)
	n := 0
	for n < limit && !p.Done() {
		p.ReadFrame(f)
		out = append(out, f...)
		n++
	}
	return out, n
}

func TestPlayerSequence(t *testing.T) {
	tests := []struct {
		name   string
		clips  [][]int16
		frames int // frames read until done
	}{
		{"across frames", [][]int16{ramp(1, 50), ramp(1000, 130), ramp(2000, 7)}, 3},
		{"exact frames", [][]int16{ramp(1, 80), ramp(100, 80)}, 2},
		{"empty clips skipped", [][]int16{nil, ramp(1, 10), {}, ramp(50, 3)}, 1},
		{"nothing", nil, 1},
		{"pause", [][]int16{ramp(1, 10), Pause(20 * time.Millisecond), ramp(500, 10)}, 3},
	}
	for _, tt := range tests {
		p := NewPlayer(tt.clips...)
		out, frames := drain(p, 100)
		want := slices.Concat(tt.clips...)
		if frames != tt.frames || !p.Done() || p.Stopped() {
			t.Errorf("%s: done after %d frames (want %d), stopped %v", tt.name, frames, tt.frames, p.Stopped())
		}
		if !slices.Equal(out[:len(want)], want) {
			t.Errorf("%s: the samples differ from the clips", tt.name)
		}
		for _, v := range out[len(want):] {
			if v != 0 {
				t.Errorf("%s: the end of the last frame is not silence", tt.name)
				break
			}
		}
		select {
		case <-p.Finished():
		default:
			t.Errorf("%s: Finished not closed", tt.name)
		}
		// Done plays silence.
		f := constant(7, FrameSamples)
		p.ReadFrame(f)
		if !slices.Equal(f, make([]int16, FrameSamples)) {
			t.Errorf("%s: a done player is not silent", tt.name)
		}
	}
}

func TestPlayerLoopAndStop(t *testing.T) {
	clip := ramp(1, 30)
	p := NewLoopPlayer(clip, Pause(5*time.Millisecond))
	out, frames := drain(p, 10)
	if frames != 10 || p.Done() {
		t.Fatalf("a loop ended after %d frames", frames)
	}
	period := append(slices.Clone(clip), make([]int16, 40)...)
	for i, v := range out {
		if v != period[i%len(period)] {
			t.Fatalf("sample %d is %d, want %d", i, v, period[i%len(period)])
		}
	}
	p.Stop()
	p.Stop() // twice is fine
	if !p.Done() || !p.Stopped() {
		t.Fatal("stop did not stop")
	}
	<-p.Finished()
	f := constant(7, FrameSamples)
	p.ReadFrame(f)
	if !slices.Equal(f, make([]int16, FrameSamples)) {
		t.Fatal("a stopped player is not silent")
	}
	if q := NewLoopPlayer(nil, []int16{}); !q.Done() && func() bool { drain(q, 2); return !q.Done() }() {
		t.Fatal("a loop of nothing never ends")
	}
	// Stopping a finished player does not make it stopped.
	r := NewPlayer(ramp(1, 5))
	drain(r, 2)
	r.Stop()
	if r.Stopped() {
		t.Fatal("a finished player says stopped")
	}
}

// TestPlayerInEngine plays one shared prompt to two channels through the
// engine: each hears all of it from its own start, and the prompt's buffer
// is left untouched.
func TestPlayerInEngine(t *testing.T) {
	e := NewEngine(Config{})
	prompt := tone(1000, 8000, 1234)
	orig := slices.Clone(prompt)
	a, b := &fakeLeg{}, &fakeLeg{}
	ca := newChan(t, e, "a", a, ChannelOptions{})
	cb := newChan(t, e, "b", b, ChannelOptions{})
	pa := NewPlayer(prompt, Pause(100*time.Millisecond), prompt)
	e.Play(ca, pa)
	ticks(e, 5)
	pb := NewPlayer(prompt)
	e.Play(cb, pb)
	for !pa.Done() || !pb.Done() {
		e.Tick()
	}
	e.Play(ca, nil)
	e.Play(cb, nil)
	want := slices.Concat(prompt, make([]int16, 800), prompt)
	if !slices.Equal(a.sent[:len(want)], want) {
		t.Error("channel a did not hear prompt, pause, prompt")
	}
	if !slices.Equal(b.sent[5*FrameSamples:5*FrameSamples+len(prompt)], prompt) {
		t.Error("channel b did not hear the prompt from its start")
	}
	if !slices.Equal(prompt, orig) {
		t.Fatal("playing wrote to the shared prompt")
	}
	if frames := len(a.sent) / FrameSamples; frames != (len(want)+FrameSamples-1)/FrameSamples {
		t.Errorf("a was ticked %d frames for %d samples: the end was not noticed on its frame", frames, len(want))
	}
}

// TestPlayerStopRace stops players from another goroutine while the clock
// reads them (go test -race).
func TestPlayerStopRace(t *testing.T) {
	e := NewEngine(Config{})
	leg := &fakeLeg{}
	c := newChan(t, e, "a", leg, ChannelOptions{})
	var wg sync.WaitGroup
	for range 20 {
		p := NewLoopPlayer(ramp(0, 500))
		e.Play(c, p)
		wg.Go(func() {
			time.Sleep(time.Millisecond)
			p.Stop()
		})
		for !p.Done() {
			e.Tick()
		}
		<-p.Finished()
	}
	wg.Wait()
}

// BenchmarkPlayer is one leg's frame from a shared prompt: no allocation.
func BenchmarkPlayer(b *testing.B) {
	p := NewLoopPlayer(tone(440, 8000, 8000), Pause(300*time.Millisecond))
	f := make([]int16, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		p.ReadFrame(f)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*FrameSamples), "ns/sample")
}

// BenchmarkEnginePlayers ticks an engine whose legs all hear one shared
// prompt (a busy queue's announcement): no allocation per tick.
func BenchmarkEnginePlayers(b *testing.B) {
	for _, n := range []int{30, 120} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			e := NewEngine(Config{Workers: 1})
			prompt := tone(440, 8000, 8000)
			for i := range n {
				c, _ := e.NewChannel(fmt.Sprint(i), loopLeg{}, ChannelOptions{})
				e.Play(c, NewLoopPlayer(prompt))
			}
			b.ReportAllocs()
			for b.Loop() {
				e.Tick()
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(ns, "ns/frame")
			b.ReportMetric(ns/float64(n*FrameSamples), "ns/sample")
		})
	}
}
