package si3050sim

import (
	"errors"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"
)

// Pin is an emulated GPIO line in the style of periph's gpiotest.Pin: the
// chip drives the interrupt pin and queues its edges; the driver drives the
// reset pin and the chip reacts. It implements gpio.PinIO.
type Pin struct {
	name  string
	mu    sync.Mutex
	level gpio.Level
	edge  gpio.Edge
	pull  gpio.Pull
	edges chan gpio.Level
	onOut func(gpio.Level) // called without mu held
}

func newPin(name string, l gpio.Level, onOut func(gpio.Level)) *Pin {
	return &Pin{name: name, level: l, edges: make(chan gpio.Level, 16), onOut: onOut}
}

// String implements conn.Resource.
func (p *Pin) String() string { return p.name }

// Halt implements conn.Resource.
func (p *Pin) Halt() error { return nil }

// Name implements pin.Pin.
func (p *Pin) Name() string { return p.name }

// Number implements pin.Pin.
func (p *Pin) Number() int { return -1 }

// Function implements pin.Pin.
func (p *Pin) Function() string { return string(p.Func()) }

// Func implements pin.PinFunc.
func (p *Pin) Func() pin.Func {
	if p.onOut != nil {
		return gpio.OUT
	}
	return gpio.IN
}

// In implements gpio.PinIn: it records the edges wanted and drops queued ones.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.mu.Lock()
	p.pull, p.edge = pull, edge
	p.mu.Unlock()
	for {
		select {
		case <-p.edges:
		default:
			return nil
		}
	}
}

// Read implements gpio.PinIn.
func (p *Pin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// WaitForEdge implements gpio.PinIn. A negative timeout waits forever.
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	if timeout < 0 {
		<-p.edges
		return true
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.edges:
		return true
	case <-t.C:
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
	p.level = l
	f := p.onOut
	p.mu.Unlock()
	if f != nil {
		f(l)
	}
	return nil
}

// PWM implements gpio.PinOut; the emulated lines have no PWM.
func (p *Pin) PWM(gpio.Duty, physic.Frequency) error {
	return errors.New("si3050sim: no pwm on " + p.name)
}

// drive sets the level from the chip's side and queues the edge if the
// reader asked for it.
func (p *Pin) drive(l gpio.Level) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.level == l {
		return
	}
	p.level = l
	want := p.edge == gpio.BothEdges || (p.edge == gpio.FallingEdge && l == gpio.Low) || (p.edge == gpio.RisingEdge && l == gpio.High)
	if want {
		select {
		case p.edges <- l:
		default: // a full queue means nobody is waiting: edges coalesce
		}
	}
}

var _ gpio.PinIO = (*Pin)(nil)
