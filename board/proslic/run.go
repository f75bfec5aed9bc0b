package proslic

import (
	"context"
	"sync"

	"periph.io/x/conn/v3/gpio"
)

// runner is the port's service goroutine.
type runner struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs Service in a goroutine until ctx ends or Close is called,
// passing every event to handle (from that goroutine; handle must not
// block for long, nor call Close). With an IRQ pin it waits for the
// pin's falling edge, at most PollInterval while something is timed and
// IdleInterval otherwise, so a lost edge costs at most IdleInterval; without
// one it polls at those intervals. The clock must be one whose Sleep
// blocks (vclock.Real): on a virtual clock drive Service directly.
func (p *Port) Start(ctx context.Context, handle func(Event)) error {
	p.run.mu.Lock()
	defer p.run.mu.Unlock()
	if p.run.done != nil {
		return p.errf("start", "already started")
	}
	if p.cfg.IRQ != nil {
		if err := p.cfg.IRQ.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return p.fail("start", err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	p.run.cancel = cancel
	p.run.done = make(chan struct{})
	go p.loop(ctx, handle, p.run.done)
	return nil
}

func (p *Port) loop(ctx context.Context, handle func(Event), done chan struct{}) {
	defer close(done)
	events := make([]Event, 0, 8)
	for ctx.Err() == nil {
		events = p.Service(events[:0])
		for _, e := range events {
			handle(e)
		}
		wait := p.cfg.IdleInterval
		if p.busy() {
			wait = p.cfg.PollInterval
		}
		if p.cfg.IRQ != nil && p.Failed() == nil {
			p.cfg.IRQ.WaitForEdge(wait)
		} else {
			p.cfg.Clock.Sleep(wait)
		}
	}
}

// Close stops the goroutine Start began and waits for it: at once if the
// IRQ pin's WaitForEdge returns when In is called (periph documents this),
// else within PollInterval or IdleInterval. It is safe to call more than
// once, and without Start.
func (p *Port) Close() error {
	p.run.mu.Lock()
	defer p.run.mu.Unlock()
	if p.run.done == nil {
		return nil
	}
	p.run.cancel()
	if p.cfg.IRQ != nil {
		// periph: calling In ends a WaitForEdge in progress.
		_ = p.cfg.IRQ.In(gpio.PullUp, gpio.FallingEdge)
	}
	<-p.run.done
	p.run.done, p.run.cancel = nil, nil
	return nil
}
