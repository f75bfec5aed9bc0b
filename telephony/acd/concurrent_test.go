package acd

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestConcurrentUse hammers one engine from several goroutines while
// another moves the clock (run it with -race). Actions call back into the
// engine, as live wiring might: every ring is answered from inside Ring.
func TestConcurrentUse(t *testing.T) {
	clk := NewVirtualClock(t0)
	act := &answering{}
	e, err := New(oneGroup(RingAll), Options{Clock: clk, Actions: act})
	if err != nil {
		t.Fatal(err)
	}
	act.e = e
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				clk.Advance(time.Second)
			}
		}
	}()
	var workers sync.WaitGroup
	for w := range 4 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range 300 {
				id := CallID(fmt.Sprintf("w%d-%d", w, i))
				_, _, _ = e.Offer(CallInfo{ID: id, Number: "1"})
				_ = e.Login([]AgentID{"a", "b", "c"}[i%3])
				_ = e.Hangup(id)
				_ = e.Queues()
				_ = e.Agents()
				_ = e.Waiting()
				_ = e.Config()
			}
		}()
	}
	workers.Wait()
	close(stop)
	wg.Wait()
	if n := len(e.Waiting()); n != 0 {
		t.Fatalf("%d calls left waiting", n)
	}
	for _, a := range e.Agents() {
		if a.State == Ringing || a.State == Talking {
			t.Fatalf("agent left engaged: %+v", a)
		}
	}
}

// answering answers every ring at once, re-entering the engine.
type answering struct {
	nopActions
	e *Engine
}

func (x *answering) Ring(r RingRequest) { _ = x.e.Answer(r.Agent, r.Call) }
