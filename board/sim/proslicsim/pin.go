package proslicsim

import (
	"errors"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Pin is an emulated GPIO in the style of periph's gpiotest.Pin (which this
// module cannot use: it needs github.com/jonboulle/clockwork). Edges are
// queued on EdgesChan; WaitForEdge takes one or times out on the wall
// clock, as a kernel GPIO would. Level changes from Out are visible to Read.
type Pin struct {
	N         string
	EdgesChan chan gpio.Level

	mu   sync.Mutex
	l    gpio.Level
	pull gpio.Pull
	edge gpio.Edge
	// onOut, if set, is called (without mu held) after each Out.
	onOut func(gpio.Level)
	// wake is closed by In to end a WaitForEdge in progress, as periph
	// documents for kernel GPIOs.
	wake chan struct{}
}

// NewPin returns a pin at level l with room for 16 queued edges.
func NewPin(name string, l gpio.Level) *Pin {
	return &Pin{N: name, l: l, EdgesChan: make(chan gpio.Level, 16)}
}

// String implements conn.Resource.
func (p *Pin) String() string { return p.N }

// Halt implements conn.Resource; it does nothing.
func (p *Pin) Halt() error { return nil }

// Name implements pin.Pin.
func (p *Pin) Name() string { return p.N }

// Number implements pin.Pin; emulated pins have no number.
func (p *Pin) Number() int { return -1 }

// Function implements pin.Pin.
func (p *Pin) Function() string { return "" }

// In implements gpio.PinIn: it records pull and edge and flushes queued
// edges, as the kernel drivers try to.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.mu.Lock()
	p.pull, p.edge = pull, edge
	if p.wake != nil {
		close(p.wake)
		p.wake = nil
	}
	p.mu.Unlock()
	for {
		select {
		case <-p.EdgesChan:
		default:
			return nil
		}
	}
}

// Read implements gpio.PinIn.
func (p *Pin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.l
}

// WaitForEdge implements gpio.PinIn: it returns true at once if an edge is
// queued, else waits up to timeout (negative: forever) for one; a call of
// In meanwhile ends the wait with false.
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	select {
	case <-p.EdgesChan:
		return true
	default:
	}
	p.mu.Lock()
	if p.wake == nil {
		p.wake = make(chan struct{})
	}
	wake := p.wake
	p.mu.Unlock()
	var expire <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expire = t.C
	}
	select {
	case <-p.EdgesChan:
		return true
	case <-wake:
		return false
	case <-expire:
		return false
	}
}

// Pull implements gpio.PinIn.
func (p *Pin) Pull() gpio.Pull {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pull
}

// DefaultPull implements gpio.PinIn.
func (p *Pin) DefaultPull() gpio.Pull { return gpio.PullUp }

// Out implements gpio.PinOut.
func (p *Pin) Out(l gpio.Level) error {
	p.mu.Lock()
	p.l = l
	f := p.onOut
	p.mu.Unlock()
	if f != nil {
		f(l)
	}
	return nil
}

// PWM implements gpio.PinOut; emulated pins have none.
func (p *Pin) PWM(gpio.Duty, physic.Frequency) error {
	return errors.New("proslicsim: pin has no PWM")
}

// set changes the level as the chip drives it and queues a falling edge.
func (p *Pin) set(l gpio.Level) {
	p.mu.Lock()
	old := p.l
	p.l = l
	p.mu.Unlock()
	if old == gpio.High && l == gpio.Low {
		select {
		case p.EdgesChan <- gpio.Low:
		default: // edges coalesce, as on a kernel GPIO
		}
	}
}

var _ gpio.PinIO = (*Pin)(nil)
