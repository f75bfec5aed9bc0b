package media

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// indepLeg is an Independent endpoint that says its id plus the tick and
// checks, each tick, that it hears what its partner said that tick.
type indepLeg struct {
	id, partner int16
	tick        int16
	bad, frames int
}

func (l *indepLeg) ReadFrame(f []int16) {
	l.tick++
	for i := range f {
		f[i] = l.id*100 + l.tick
	}
}

func (l *indepLeg) WriteFrame(f []int16) {
	l.frames++
	want := l.partner*100 + l.tick
	for _, v := range f {
		if v != want {
			l.bad++
			return
		}
	}
}

func (l *indepLeg) IndependentEndpoint() {}

// TestSharedTick bridges enough Independent legs to share the tick among
// workers, alongside plain legs and a mixed conference, and checks that
// every leg hears its partner's frame of the same tick, once per tick, for
// worker counts from one to more than the legs' share.
func TestSharedTick(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			e := NewEngine(Config{Workers: workers})
			defer e.Close()
			const pairs = ParallelMin
			var legs []*indepLeg
			for i := range pairs {
				a := &indepLeg{id: int16(2 * i), partner: int16(2*i + 1)}
				b := &indepLeg{id: int16(2*i + 1), partner: int16(2 * i)}
				ca, _ := e.NewChannel("a", a, ChannelOptions{})
				cb, _ := e.NewChannel("b", b, ChannelOptions{})
				if _, err := e.Bridge(ca, cb); err != nil {
					t.Fatal(err)
				}
				legs = append(legs, a, b)
			}
			pa, pb := &fakeLeg{src: constant(7, 800)}, &fakeLeg{src: constant(9, 800)}
			e.Bridge(newChan(t, e, "pa", pa, ChannelOptions{}), newChan(t, e, "pb", pb, ChannelOptions{}))
			ticks(e, 10)
			for i, l := range legs {
				if l.frames != 10 || l.bad != 0 {
					t.Fatalf("leg %d: %d frames, %d wrong", i, l.frames, l.bad)
				}
			}
			for i := range 800 {
				if pa.sent[i] != 9 || pb.sent[i] != 7 {
					t.Fatalf("plain legs: sample %d: %d, %d", i, pa.sent[i], pb.sent[i])
				}
			}
			chans := e.Stats().Channels
			if chans != 2*pairs+2 {
				t.Fatalf("%d channels", chans)
			}
		})
	}
}

// TestCloseStopsWorkers: the workers a shared tick started end with Close,
// and a tick after Close starts them again.
func TestCloseStopsWorkers(t *testing.T) {
	before := runtime.NumGoroutine()
	e := NewEngine(Config{Workers: 3})
	for i := range ParallelMin {
		a, b := &indepLeg{id: int16(i)}, &indepLeg{}
		ca, _ := e.NewChannel("a", a, ChannelOptions{})
		cb, _ := e.NewChannel("b", b, ChannelOptions{})
		e.Bridge(ca, cb)
	}
	e.Tick()
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Fatalf("%d goroutines during the ticks, want at most %d", n, before+2)
	}
	e.Close()
	if n := goroutinesBack(before); n > before {
		t.Fatalf("%d goroutines after Close, want %d", n, before)
	}
	e.Tick()
	e.Close()
	if n := goroutinesBack(before); n > before {
		t.Fatalf("%d goroutines after the second Close, want %d", n, before)
	}
}

// goroutinesBack waits up to a second for the goroutine count to come back
// to n (a worker that closed its done channel may still be exiting). A
// count below n is as good: goroutines of earlier tests may have ended
// since n was taken.
func goroutinesBack(n int) int {
	got := runtime.NumGoroutine()
	for end := time.Now().Add(time.Second); got > n && time.Now().Before(end); got = runtime.NumGoroutine() {
		time.Sleep(time.Millisecond)
	}
	return got
}

// BenchmarkSharedTick is 500 bridged calls of Independent legs doing a
// little work each, with the tick shared or not: ns per tick and allocs.
func BenchmarkSharedTick(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprint("workers=", workers), func(b *testing.B) {
			e := NewEngine(Config{Workers: workers})
			defer e.Close()
			for range 500 {
				ca, _ := e.NewChannel("a", &busyLeg{}, ChannelOptions{})
				cb, _ := e.NewChannel("b", &busyLeg{}, ChannelOptions{})
				e.Bridge(ca, cb)
			}
			e.Tick()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				e.Tick()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "us/tick")
		})
	}
}

// busyLeg costs a few microseconds a tick, about what a stream's frame and
// its send do.
type busyLeg struct{ acc [FrameSamples]int32 }

func (l *busyLeg) ReadFrame(f []int16) {
	for k := range 40 {
		for i := range f {
			l.acc[i] += int32(f[i]) + int32(k)
			f[i] = int16(l.acc[i] >> 4)
		}
	}
}

func (l *busyLeg) WriteFrame(f []int16) {
	for k := range 4 {
		for i := range f {
			l.acc[i] ^= int32(f[i]) << k
		}
	}
}

func (l *busyLeg) IndependentEndpoint() {}
