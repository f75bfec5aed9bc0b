package proslic

import (
	"context"
	"errors"
	"time"

	"callbox/board/internal/irqloop"
)

// Start runs Service in a goroutine until ctx ends or Close is called,
// passing every event to handle (from that goroutine; handle must not
// block for long, nor call Close). With an IRQ pin it waits for the
// pin's falling edge, at most PollInterval while something is timed and
// IdleInterval otherwise, so a lost edge costs at most IdleInterval; without
// one, or once the port has failed, it polls at those intervals. Waits are
// on the wall clock: on a virtual clock drive Service directly.
func (p *Port) Start(ctx context.Context, handle func(Event)) error {
	events := make([]Event, 0, 8)
	err := p.run.Start(ctx, p.cfg.IRQ, func() (time.Duration, bool) {
		events = p.Service(events[:0])
		for _, e := range events {
			handle(e)
		}
		wait := p.cfg.IdleInterval
		if p.busy() {
			wait = p.cfg.PollInterval
		}
		// A failed chip's interrupt line may chatter: poll instead.
		return wait, p.Failed() == nil
	})
	switch {
	case errors.Is(err, irqloop.ErrStarted):
		return p.errf("start", "already started")
	case err != nil:
		return p.fail("start", err)
	}
	return nil
}

// Close stops the goroutine Start began and waits for it: at once if the
// IRQ pin's WaitForEdge returns when In is called (periph documents this),
// else within PollInterval or IdleInterval. It is safe to call more than
// once, and without Start.
func (p *Port) Close() error {
	p.run.Close()
	return nil
}
