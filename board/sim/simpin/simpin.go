// Package simpin is the emulated GPIO line the chip emulators
// (board/sim/proslicsim, board/sim/si3050sim) hand to the drivers: a chip's
// interrupt output, which the chip drives and the driver waits on, and its
// reset input, which the driver drives and the chip obeys.
//
// Pin is in the style of periph's gpiotest.Pin, which this module cannot
// use (it needs github.com/jonboulle/clockwork), and behaves as periph
// documents for a kernel GPIO: edges of the kind asked for with In queue
// up (and coalesce when nobody collects them), WaitForEdge times out on the
// wall clock and a call of In ends it early, and Read follows Out.
package simpin

import (
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"
)

// queueLen is how many edges wait uncollected before later ones coalesce;
// a driver collects them promptly, so this only absorbs bursts.
const queueLen = 16

// Pin is an emulated GPIO line. It implements gpio.PinIO and pin.Func
// reporting; all its methods are safe for concurrent use.
type Pin struct {
	name  string
	edges chan gpio.Level
	// onOut is fixed at construction, so it is read without mu.
	onOut func(gpio.Level)

	mu    sync.Mutex
	level gpio.Level
	pull  gpio.Pull
	edge  gpio.Edge
	out   bool // direction: set by Out, cleared by In
	// wake is closed by In to end the WaitForEdge calls in progress.
	wake chan struct{}
}

// New returns an input pin at level l: a line the chip drives (Drive) and
// the driver reads, such as an interrupt output. It queues no edges until
// In asks for some.
func New(name string, l gpio.Level) *Pin {
	return &Pin{name: name, level: l, edges: make(chan gpio.Level, queueLen)}
}

// NewOutput returns an output pin at level l: a line the driver drives,
// such as a chip's reset input. onOut, if not nil, is called after each Out
// with the new level, without the pin's lock held, so it may take the
// chip's lock and call back into the pin.
func NewOutput(name string, l gpio.Level, onOut func(gpio.Level)) *Pin {
	p := New(name, l)
	p.out, p.onOut = true, onOut
	return p
}

// Drive sets the level from the far side, as the chip drives its output,
// and queues the edge if it is of the kind the last In asked for. An edge
// that finds the queue full is dropped: edges coalesce, as on a kernel
// GPIO nobody reads.
func (p *Pin) Drive(l gpio.Level) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.level == l {
		return
	}
	p.level = l
	want := p.edge == gpio.BothEdges ||
		(p.edge == gpio.FallingEdge && l == gpio.Low) ||
		(p.edge == gpio.RisingEdge && l == gpio.High)
	if want {
		select {
		case p.edges <- l:
		default:
		}
	}
}

// String implements conn.Resource.
func (p *Pin) String() string { return p.name }

// Halt implements conn.Resource; it does nothing.
func (p *Pin) Halt() error { return nil }

// Name implements pin.Pin.
func (p *Pin) Name() string { return p.name }

// Number implements pin.Pin; emulated pins have no number.
func (p *Pin) Number() int { return -1 }

// Function implements pin.Pin: "IN" or "OUT".
func (p *Pin) Function() string { return string(p.Func()) }

// Func reports the direction the pin was last set to (gpio.IN or
// gpio.OUT), or the one it was made with.
func (p *Pin) Func() pin.Func {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out {
		return gpio.OUT
	}
	return gpio.IN
}

// In implements gpio.PinIn: it makes the pin an input, records the pull and
// the edges wanted, ends any WaitForEdge in progress and drops the queued
// edges, as the kernel drivers try to.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.mu.Lock()
	p.out, p.pull, p.edge = false, pull, edge
	if p.wake != nil {
		close(p.wake)
		p.wake = nil
	}
	p.mu.Unlock()
	for {
		select {
		case <-p.edges:
		default:
			return nil
		}
	}
}

// Read implements gpio.PinIn: the level the chip drives or Out set last.
func (p *Pin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// WaitForEdge implements gpio.PinIn: it returns true at once if an edge is
// queued, else waits up to timeout on the wall clock (0: not at all;
// negative: forever) for one. A call of In meanwhile ends the wait with
// false, as periph documents.
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	select {
	case <-p.edges:
		return true
	default:
	}
	if timeout == 0 {
		return false
	}
	p.mu.Lock()
	if p.wake == nil {
		p.wake = make(chan struct{})
	}
	wake := p.wake
	p.mu.Unlock()
	var expire <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expire = t.C
	}
	select {
	case <-p.edges:
		return true
	case <-wake:
		return false
	case <-expire:
		return false
	}
}

// Pull implements gpio.PinIn: the pull last given to In.
func (p *Pin) Pull() gpio.Pull {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pull
}

// DefaultPull implements gpio.PinIn: the chips' open-drain lines want a
// pull-up.
func (p *Pin) DefaultPull() gpio.Pull { return gpio.PullUp }

// Out implements gpio.PinOut: it makes the pin an output at level l (Read
// then returns l) and calls the on-Out hook, if any, without the lock.
func (p *Pin) Out(l gpio.Level) error {
	p.mu.Lock()
	p.out, p.level = true, l
	p.mu.Unlock()
	if p.onOut != nil {
		p.onOut(l)
	}
	return nil
}

// PWM implements gpio.PinOut; emulated pins have none.
func (p *Pin) PWM(gpio.Duty, physic.Frequency) error {
	return fmt.Errorf("simpin: %s: no pwm on an emulated pin", p.name)
}

var _ gpio.PinIO = (*Pin)(nil)
