// Package irqloop runs a line driver's service goroutine: a round of the
// driver's work, then a wait that a falling edge of the chip's interrupt
// pin ends early, until the context ends or Close is called. The FXS and
// FXO drivers (board/proslic, board/si3050) share it; what a round does and
// how long to wait stay theirs.
package irqloop

import (
	"context"
	"errors"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// ErrStarted is Start's error when the loop is already running.
var ErrStarted = errors.New("irqloop: already started")

const (
	// minWait keeps every wait positive: periph's GPIO backends disagree on
	// what WaitForEdge(0) and (-1) mean (forever, or already expired).
	minWait = time.Millisecond
	// rewake is how often Close calls In again while the goroutine is
	// between waits, where In has no wait to end.
	rewake = 5 * time.Millisecond
)

// Step does one round of the driver's work. It returns how long to wait
// before the next round, and whether a falling edge of the interrupt pin
// may end that wait early (false: a plain timed wait, for instance while a
// failed chip's interrupt line may chatter).
type Step func() (wait time.Duration, edge bool)

// Loop is one driver's service goroutine. The zero value is ready to
// Start; its methods are safe for concurrent use.
type Loop struct {
	mu     sync.Mutex
	irq    gpio.PinIn
	cancel context.CancelFunc
	done   chan struct{}
}

// Start arms irq, if not nil, for falling edges with a pull-up (the chips'
// interrupt outputs are active low, open drain), then runs rounds of step
// in a new goroutine until ctx ends or Close is called: step first, so work
// pending at Start is done at once, then the wait it asks for. Waits are on
// the wall clock: with a virtual clock, call the driver's round yourself.
// Start returns ErrStarted if the loop is running, and In's error as it is.
func (l *Loop) Start(ctx context.Context, irq gpio.PinIn, step Step) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done != nil {
		return ErrStarted
	}
	if irq != nil {
		if err := irq.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	l.irq, l.cancel, l.done = irq, cancel, make(chan struct{})
	go run(ctx, irq, step, l.done)
	return nil
}

func run(ctx context.Context, irq gpio.PinIn, step Step, done chan struct{}) {
	defer close(done)
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for ctx.Err() == nil {
		wait, edge := step()
		wait = max(wait, minWait)
		if edge && irq != nil {
			// Not cancellable: Close ends it with In.
			irq.WaitForEdge(wait)
			continue
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// Close stops the goroutine Start began and waits for it. A wait on the
// interrupt pin cannot be cancelled, but calling In ends it (periph
// documents this for kernel GPIOs), so Close calls In, and again every few
// milliseconds in case the goroutine was between waits; with a pin that
// ignores In, Close takes up to the wait in progress. The pin is left armed
// as Start set it. Close is safe to call more than once, and without Start;
// it must not be called from step.
func (l *Loop) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done == nil {
		return
	}
	l.cancel()
	if l.irq != nil {
		wake(l.irq, l.done)
	}
	<-l.done
	l.irq, l.cancel, l.done = nil, nil, nil
}

// wake ends the goroutine's pin wait: In, repeated until done is closed.
func wake(irq gpio.PinIn, done <-chan struct{}) {
	tick := time.NewTicker(rewake)
	defer tick.Stop()
	for {
		_ = irq.In(gpio.PullUp, gpio.FallingEdge)
		select {
		case <-done:
			return
		case <-tick.C:
		}
	}
}
