package app

import (
	"context"
	"strconv"
	"sync"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/recording"
)

// recordsdial.go: calls placed from a work order (webui.Records.Dial).
// The call centre's outbound call does the work, as for the desk's dial
// pad; the box notes which call came from which order, so the recording
// the call centre makes of it carries the order as its work-order
// reference (ccRecorder.StartInfo asks orderCalls).

// orderCallsKept bounds the calls noted: a recording begins within
// minutes of its call, so older notes are dropped.
const (
	orderCallsKept = 4096
	orderCallAge   = 12 * time.Hour
)

// orderCalls maps a call centre call id to the work order it was placed
// from. The zero value is ready.
type orderCalls struct {
	mu sync.Mutex
	m  map[string]orderCall
}

type orderCall struct {
	ref string
	at  time.Time
}

func (o *orderCalls) put(call, ref string, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[string]orderCall{}
	}
	if len(o.m) >= orderCallsKept {
		for k, v := range o.m {
			if now.Sub(v.at) > orderCallAge || len(o.m) >= orderCallsKept {
				delete(o.m, k)
			}
		}
	}
	o.m[call] = orderCall{ref: ref, at: now}
}

// ref is the work-order reference of call, "" for none.
func (o *orderCalls) ref(call string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.m[call].ref
}

// dialFromOrder implements webui.Records.Dial.
func (a *App) dialFromOrder(ctx context.Context, agent, number string, order uint64) (string, error) {
	svc, err := deskWeb{a}.svc()
	if err != nil {
		return "", err
	}
	ref := strconv.FormatUint(order, 10)
	id, err := svc.Dial(ctx, acd.AgentID(agent), number, "")
	if err != nil {
		return "", deskError(err)
	}
	a.orderCalls.put(id, ref, time.Now())
	// The agent answers before the number is dialled, so the recording
	// normally begins after this; one already begun gets the reference too.
	if m := a.mediaServices(); m != nil {
		if list, err := m.rec.Search(recording.Query{Service: id, Limit: 10}); err == nil {
			for _, r := range list {
				if err := m.rec.SetWorkOrder(r.ID, ref); err != nil {
					a.log.Warn("recording not linked to its work order", "recording", r.ID, "order", ref, "err", err)
				}
			}
		}
	}
	return id, nil
}
