package app

import (
	"context"
	"errors"
	"fmt"

	"callbox/telephony/cc/ccevent"
	"callbox/webui"
)

// eventsWeb serves the call centre's event bus to the web admin's live
// stream (GET /api/v1/events). bus gives the running bus, nil while the
// call centre is not running (the stream then answers 503); it is asked
// at each subscription because a restart makes a new bus.
type eventsWeb struct{ bus func() *ccevent.Bus }

// errNoCallCentre: no event bus yet.
var errNoCallCentre = errors.New("app: the call centre is not running")

func (w eventsWeb) Last() (string, bool) {
	b := w.bus()
	if b == nil {
		return "", false
	}
	return b.Last(), true
}

func (w eventsWeb) Subscribe(after string) (webui.EventStream, error) {
	b := w.bus()
	if b == nil {
		return nil, errNoCallCentre
	}
	sub, err := b.Subscribe(after, 0)
	if errors.Is(err, ccevent.ErrBadID) {
		return nil, fmt.Errorf("%w: %w", webui.ErrBadEventID, err)
	}
	if err != nil {
		return nil, err
	}
	return busStream{b, sub}, nil
}

// busStream is one page's subscription.
type busStream struct {
	b   *ccevent.Bus
	sub *ccevent.Sub
}

// Next returns the next event as JSON with the agent it concerns, which
// the web admin's role filter reads; an event already waiting comes even
// when ctx has ended (webui drains a burst so). The JSON is the bus's
// encoding, made once for every stream.
func (s busStream) Next(ctx context.Context) (webui.LiveEvent, bool) {
	var e ccevent.Event
	var ok bool
	select {
	case e, ok = <-s.sub.C():
	default:
		select {
		case e, ok = <-s.sub.C():
		case <-ctx.Done():
			return webui.LiveEvent{}, false
		}
	}
	if !ok {
		return webui.LiveEvent{}, false
	}
	data, err := e.JSON()
	if err != nil {
		return webui.LiveEvent{}, false
	}
	return webui.LiveEvent{ID: e.ID, Type: string(e.Type), Agent: e.Agent, Data: data}, true
}

func (s busStream) Close() { s.b.Unsubscribe(s.sub) }

// eventBus is the running call centre's event bus; nil while the call
// centre is not running.
func (a *App) eventBus() *ccevent.Bus {
	_, b := a.CallCentre()
	return b
}
