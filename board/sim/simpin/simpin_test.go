package simpin

import (
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// drain collects the queued edges without waiting and counts them.
func drain(p *Pin) int {
	n := 0
	for p.WaitForEdge(0) {
		n++
	}
	return n
}

// Only the edges In asked for are queued, as on a kernel GPIO; a level
// driven again is no edge.
func TestDriveQueuesRequestedEdges(t *testing.T) {
	for _, tc := range []struct {
		edge gpio.Edge
		want int // edges queued for High -> Low -> Low -> High -> Low
	}{
		{gpio.NoEdge, 0},
		{gpio.FallingEdge, 2},
		{gpio.RisingEdge, 1},
		{gpio.BothEdges, 3},
	} {
		t.Run(tc.edge.String(), func(t *testing.T) {
			p := New("irq", gpio.High)
			if err := p.In(gpio.PullUp, tc.edge); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, l := range []gpio.Level{gpio.Low, gpio.Low, gpio.High, gpio.Low} {
				p.Drive(l)
				if p.Read() != l {
					t.Fatalf("driven %v, reads %v", l, p.Read())
				}
				n += drain(p)
			}
			if n != tc.want {
				t.Fatalf("%d edges, want %d", n, tc.want)
			}
		})
	}
}

// The queue holds queueLen edges; later ones coalesce until it is read.
func TestEdgesCoalesce(t *testing.T) {
	p := New("irq", gpio.High)
	_ = p.In(gpio.PullUp, gpio.BothEdges)
	for i := 0; i < 3*queueLen; i++ {
		p.Drive(gpio.Low)
		p.Drive(gpio.High)
	}
	if got := drain(p); got != queueLen {
		t.Fatalf("%d edges queued, want %d", got, queueLen)
	}
	p.Drive(gpio.Low)
	if !p.WaitForEdge(0) {
		t.Fatal("no edge once the queue was read")
	}
}

func TestInDropsQueuedEdges(t *testing.T) {
	p := New("irq", gpio.High)
	_ = p.In(gpio.PullUp, gpio.FallingEdge)
	p.Drive(gpio.Low)
	p.Drive(gpio.High)
	p.Drive(gpio.Low)
	if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}
	if p.WaitForEdge(0) {
		t.Fatal("edge from before In still queued")
	}
	if p.Read() != gpio.Low {
		t.Fatal("In changed the level the chip drives")
	}
}

func TestWaitForEdgeTimesOut(t *testing.T) {
	p := New("irq", gpio.High)
	_ = p.In(gpio.PullUp, gpio.FallingEdge)
	const d = 20 * time.Millisecond
	t0 := time.Now()
	if p.WaitForEdge(d) {
		t.Fatal("edge reported on a quiet pin")
	}
	if e := time.Since(t0); e < d {
		t.Fatalf("returned after %v, want at least %v", e, d)
	}
	t0 = time.Now()
	if p.WaitForEdge(0) {
		t.Fatal("edge reported on a quiet pin")
	}
	if e := time.Since(t0); e > time.Second {
		t.Fatalf("a zero timeout waited %v", e)
	}
}

// wait runs WaitForEdge(timeout) in a goroutine and returns its result.
func wait(p *Pin, timeout time.Duration) <-chan bool {
	r := make(chan bool, 1)
	go func() { r <- p.WaitForEdge(timeout) }()
	return r
}

func TestWaitForEdgeWokenByEdge(t *testing.T) {
	p := New("irq", gpio.High)
	_ = p.In(gpio.PullUp, gpio.FallingEdge)
	r := wait(p, -1)
	time.Sleep(5 * time.Millisecond) // most likely waiting by now; either way it must see the edge
	p.Drive(gpio.Low)
	select {
	case ok := <-r:
		if !ok {
			t.Fatal("WaitForEdge returned false for an edge")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("edge did not end the wait")
	}
}

// periph: "Return false if ... In() was called while waiting". With no
// timeout only In can end the wait; In before the waiter is waiting has
// nothing to end, so keep calling it.
func TestInEndsWaitForEdge(t *testing.T) {
	p := New("irq", gpio.High)
	_ = p.In(gpio.PullUp, gpio.FallingEdge)
	r := wait(p, -1)
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case ok := <-r:
			if ok {
				t.Fatal("WaitForEdge reported an edge when In ended it")
			}
			return
		case <-tick.C:
			_ = p.In(gpio.PullUp, gpio.FallingEdge)
		case <-deadline:
			t.Fatal("In did not end WaitForEdge")
		}
	}
}

func TestOutAndHook(t *testing.T) {
	var p *Pin
	var seen []gpio.Level
	p = NewOutput("reset", gpio.High, func(l gpio.Level) {
		// The hook may use the pin: it runs without the pin's lock.
		if p.Read() != l {
			t.Errorf("hook for %v sees %v", l, p.Read())
		}
		seen = append(seen, l)
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Out(gpio.Low)
		_ = p.Out(gpio.High)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Out deadlocked calling its hook")
	}
	if len(seen) != 2 || seen[0] != gpio.Low || seen[1] != gpio.High {
		t.Fatalf("hook saw %v", seen)
	}
	// Without a hook Out still sets the level.
	q := New("gpio", gpio.Low)
	_ = q.Out(gpio.High)
	if q.Read() != gpio.High {
		t.Fatal("Read does not follow Out")
	}
}

func TestFunc(t *testing.T) {
	in, out := New("irq", gpio.High), NewOutput("reset", gpio.High, nil)
	for _, tc := range []struct {
		name string
		p    *Pin
		op   func(*Pin)
		want string
	}{
		{"input made", in, func(*Pin) {}, "IN"},
		{"output made", out, func(*Pin) {}, "OUT"},
		{"input after Out", in, func(p *Pin) { _ = p.Out(gpio.Low) }, "OUT"},
		{"output after In", out, func(p *Pin) { _ = p.In(gpio.PullNoChange, gpio.NoEdge) }, "IN"},
	} {
		tc.op(tc.p)
		if f := tc.p.Func(); string(f) != tc.want || tc.p.Function() != tc.want {
			t.Errorf("%s: Func %q Function %q, want %q", tc.name, f, tc.p.Function(), tc.want)
		}
	}
}

func TestResource(t *testing.T) {
	p := New("fxs1_irq", gpio.High)
	if p.Name() != "fxs1_irq" || p.String() != "fxs1_irq" || p.Number() != -1 || p.Halt() != nil {
		t.Fatalf("name %q string %q number %d", p.Name(), p.String(), p.Number())
	}
	if p.DefaultPull() != gpio.PullUp {
		t.Fatal("default pull is not up")
	}
	for _, pull := range []gpio.Pull{gpio.PullDown, gpio.PullUp, gpio.Float} {
		_ = p.In(pull, gpio.NoEdge)
		if p.Pull() != pull {
			t.Fatalf("Pull %v after In(%v)", p.Pull(), pull)
		}
	}
	if err := p.PWM(gpio.DutyHalf, 1000); err == nil || !strings.HasPrefix(err.Error(), "simpin: fxs1_irq:") {
		t.Fatalf("PWM: %v", err)
	}
}

// Under -race: the chip driving, the driver waiting and re-arming, and a
// reset line toggling, all at once.
func TestConcurrentUse(t *testing.T) {
	p := New("irq", gpio.High)
	_ = p.In(gpio.PullUp, gpio.BothEdges)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(3)
	go func() {
		defer wg.Done()
		for i := 0; i < 2000; i++ {
			p.Drive(gpio.Level(i%2 == 0))
		}
		close(stop)
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				p.WaitForEdge(time.Millisecond)
				_ = p.Read()
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 100; i++ {
			_ = p.In(gpio.PullUp, gpio.BothEdges)
			_ = p.Func()
		}
	}()
	wg.Wait()
}
