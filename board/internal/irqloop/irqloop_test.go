package irqloop

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callbox/board/sim/simpin"

	"periph.io/x/conn/v3/gpio"
)

// rounds is a Step that counts its calls and signals each on a channel.
type rounds struct {
	n    atomic.Int64
	each chan struct{}
	wait time.Duration
	edge bool
	work time.Duration // time each round takes, as SPI reads would
}

func newRounds(wait time.Duration, edge bool) *rounds {
	return &rounds{each: make(chan struct{}, 1024), wait: wait, edge: edge}
}

func (r *rounds) step() (time.Duration, bool) {
	if r.work > 0 {
		time.Sleep(r.work)
	}
	r.n.Add(1)
	select {
	case r.each <- struct{}{}:
	default:
	}
	return r.wait, r.edge
}

// next waits for one more round, failing the test after a generous delay.
func (r *rounds) next(t *testing.T, why string) {
	t.Helper()
	select {
	case <-r.each:
	case <-time.After(5 * time.Second):
		t.Fatalf("no round: %s", why)
	}
}

// closeWithin fails the test if Close takes longer than d.
func closeWithin(t *testing.T, l *Loop, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { l.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("Close took more than %v", d)
	}
}

func TestStartTwiceAndRestart(t *testing.T) {
	var l Loop
	l.Close() // before Start: nothing to do
	r := newRounds(time.Hour, true)
	pin := simpin.New("irq", gpio.High)
	if err := l.Start(context.Background(), pin, r.step); err != nil {
		t.Fatal(err)
	}
	if err := l.Start(context.Background(), pin, r.step); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v, want ErrStarted", err)
	}
	r.next(t, "first round at Start")
	closeWithin(t, &l, 2*time.Second)
	closeWithin(t, &l, time.Second) // twice is fine
	if err := l.Start(context.Background(), pin, r.step); err != nil {
		t.Fatalf("Start after Close: %v", err)
	}
	r.next(t, "first round after a restart")
	closeWithin(t, &l, 2*time.Second)
}

// Start arms the pin for falling edges; one ends the wait at once.
func TestEdgeEndsWait(t *testing.T) {
	var l Loop
	pin := simpin.New("irq", gpio.High)
	r := newRounds(time.Hour, true)
	if err := l.Start(context.Background(), pin, r.step); err != nil {
		t.Fatal(err)
	}
	defer closeWithin(t, &l, 2*time.Second)
	if pin.Pull() != gpio.PullUp || pin.Func() != gpio.IN {
		t.Fatalf("pin left %v %v", pin.Pull(), pin.Func())
	}
	r.next(t, "first round")
	for i := 0; i < 3; i++ {
		pin.Drive(gpio.Low)
		r.next(t, "a falling edge during an hour's wait")
		pin.Drive(gpio.High) // the round cleared the interrupt
	}
}

// With edge false the round waits its time whatever the pin does.
func TestPlainWaitIgnoresPin(t *testing.T) {
	var l Loop
	pin := simpin.New("irq", gpio.High)
	r := newRounds(time.Hour, false)
	if err := l.Start(context.Background(), pin, r.step); err != nil {
		t.Fatal(err)
	}
	r.next(t, "first round")
	for i := 0; i < 4; i++ {
		pin.Drive(gpio.Low)
		pin.Drive(gpio.High)
	}
	time.Sleep(30 * time.Millisecond)
	if n := r.n.Load(); n != 1 {
		t.Fatalf("%d rounds, want 1: the pin ended a plain wait", n)
	}
	closeWithin(t, &l, 2*time.Second) // the plain wait is cancelled
}

func TestPollingWithoutPin(t *testing.T) {
	var l Loop
	r := newRounds(2*time.Millisecond, true)
	if err := l.Start(context.Background(), nil, r.step); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		r.next(t, "polling every 2 ms")
	}
	closeWithin(t, &l, 2*time.Second)
}

// The caller's context ends the loop as Close does.
func TestContextEndsLoop(t *testing.T) {
	for _, withPin := range []bool{false, true} {
		var l Loop
		ctx, cancel := context.WithCancel(context.Background())
		r := newRounds(2*time.Millisecond, true)
		var pin gpio.PinIn
		if withPin {
			pin = simpin.New("irq", gpio.High)
		}
		if err := l.Start(ctx, pin, r.step); err != nil {
			t.Fatal(err)
		}
		r.next(t, "first round")
		cancel()
		time.Sleep(20 * time.Millisecond) // at most one round was under way
		n := r.n.Load()
		time.Sleep(20 * time.Millisecond)
		if r.n.Load() != n {
			t.Fatalf("pin %v: rounds go on after the context ended", withPin)
		}
		closeWithin(t, &l, 2*time.Second)
	}
}

// Close lands while a round is working, before the goroutine waits on the
// pin, where a single In would find nothing to end and the goroutine would
// wait its hour: Close must still return promptly, every time.
func TestCloseBetweenWaits(t *testing.T) {
	pin := simpin.New("irq", gpio.High)
	r := newRounds(time.Hour, true)
	r.work = time.Millisecond
	for i := 0; i < 30; i++ {
		var l Loop
		if err := l.Start(context.Background(), pin, r.step); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(i%3) * 500 * time.Microsecond)
		closeWithin(t, &l, 2*time.Second)
	}
}

// recordingPin notes the shortest WaitForEdge timeout it is given, and can
// refuse In.
type recordingPin struct {
	*simpin.Pin
	mu     sync.Mutex
	min    time.Duration
	failIn error
}

func (p *recordingPin) WaitForEdge(d time.Duration) bool {
	p.mu.Lock()
	if d < p.min {
		p.min = d
	}
	p.mu.Unlock()
	return p.Pin.WaitForEdge(d)
}

func (p *recordingPin) In(pull gpio.Pull, e gpio.Edge) error {
	if p.failIn != nil {
		return p.failIn
	}
	return p.Pin.In(pull, e)
}

// A step asking for no wait gets a short positive one: never 0 or -1,
// which some backends take as forever.
func TestWaitsStayPositive(t *testing.T) {
	var l Loop
	pin := &recordingPin{Pin: simpin.New("irq", gpio.High), min: time.Hour}
	r := newRounds(0, true)
	if err := l.Start(context.Background(), pin, r.step); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		r.next(t, "rounds with no wait asked")
	}
	closeWithin(t, &l, 2*time.Second)
	pin.mu.Lock()
	defer pin.mu.Unlock()
	if pin.min <= 0 {
		t.Fatalf("WaitForEdge(%v)", pin.min)
	}
}

func TestStartReturnsInError(t *testing.T) {
	var l Loop
	bad := errors.New("gpio busy")
	pin := &recordingPin{Pin: simpin.New("irq", gpio.High), failIn: bad}
	r := newRounds(time.Hour, true)
	if err := l.Start(context.Background(), pin, r.step); !errors.Is(err, bad) {
		t.Fatalf("Start: %v, want the pin's error", err)
	}
	if r.n.Load() != 0 {
		t.Fatal("a round ran after the pin failed")
	}
	pin.failIn = nil
	if err := l.Start(context.Background(), pin, r.step); err != nil {
		t.Fatalf("Start after a failed one: %v", err)
	}
	closeWithin(t, &l, 2*time.Second)
}
