package media

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// slowLeg is an Independent endpoint whose frames take longer than the
// clock's period: the shard that works it makes every tick late.
type slowLeg struct {
	indepLeg
	writes atomic.Int64
}

func (l *slowLeg) WriteFrame(f []int16) {
	time.Sleep(3 * FrameDuration)
	l.indepLeg.WriteFrame(f)
	l.writes.Add(1)
}

// TestOverloadDegradesEvenly overloads the real-time clock with one slow
// shard (a leg that takes three periods a frame) among bridged legs that
// share the tick, and checks that the clock says so (Ticker.Skipped, what
// the daemon counts and logs) and that the loss is even: every leg, both
// directions of every bridge, the slow shard's and the others', read and
// wrote the same frames, and each heard its partner's frame of the same
// tick, so no stream or direction lost more than another.
func TestOverloadDegradesEvenly(t *testing.T) {
	e := NewEngine(Config{Workers: 2})
	var legs []*indepLeg
	for i := range ParallelMin {
		a := &indepLeg{id: int16(2 * i), partner: int16(2*i + 1)}
		b := &indepLeg{id: int16(2*i + 1), partner: int16(2 * i)}
		ca, _ := e.NewChannel("a", a, ChannelOptions{})
		cb, _ := e.NewChannel("b", b, ChannelOptions{})
		if _, err := e.Bridge(ca, cb); err != nil {
			t.Fatal(err)
		}
		legs = append(legs, a, b)
	}
	// The slow leg's partner is the last shard's too: the shard with the
	// slow leg is the one the clock's goroutine does not take.
	slow := &slowLeg{indepLeg: indepLeg{id: 98, partner: 99}}
	other := &indepLeg{id: 99, partner: 98}
	cs, _ := e.NewChannel("slow", slow, ChannelOptions{})
	co, _ := e.NewChannel("other", other, ChannelOptions{})
	if _, err := e.Bridge(cs, co); err != nil {
		t.Fatal(err)
	}
	legs = append(legs, &slow.indepLeg, other)
	tk := &Ticker{}
	if err := e.Start(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	// Wait for frames, not for time: 40 of them take 1.2 s at least.
	for end := time.Now().Add(60 * time.Second); slow.writes.Load() < 40 || tk.Skipped() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("after 60 s: %d frames, %d skipped", slow.writes.Load(), tk.Skipped())
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	ticks := e.Stats().Ticks
	if tk.Skipped() == 0 || tk.Late() == 0 {
		t.Errorf("overloaded clock: %d ticks late, %d skipped", tk.Late(), tk.Skipped())
	}
	for i, l := range legs {
		if uint64(l.frames) != ticks || uint64(l.tick) != ticks || l.bad != 0 {
			t.Errorf("leg %d: %d frames written, %d read, %d not its partner's of the same tick; %d ticks",
				i, l.frames, l.tick, l.bad, ticks)
		}
	}
	t.Logf("%d ticks, %d late, %d skipped for every leg alike", ticks, tk.Late(), tk.Skipped())
}
