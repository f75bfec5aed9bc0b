package webui

import (
	"context"

	"callbox/telephony/crm"
	"callbox/telephony/crm/kb"
	"callbox/telephony/crm/workorder"
)

// Records are the customer-service records the web admin serves: the
// customer directory, the knowledge base and the work orders. They are
// pure packages (telephony/crm and below) over storage the firmware gives
// them, so webui uses them directly and stays free of the store.
type Records struct {
	Customers *crm.Directory
	KB        *kb.Base
	Orders    *workorder.Service
	// Recordings, when set, names the recordings of calls linked to an
	// order before their recording was kept (a call is linked while it
	// runs; its recording is known when it ends).
	Recordings crm.Recordings
	// Dial, when set, places a call from work order order: agent's phone
	// rings first, then number, as the desk's dial pad does; the call is
	// recorded with the order as its work-order reference. It returns the
	// call centre's call id (the recording's). Errors wrap ErrDeskRefused
	// or ErrNotFound (no such agent) as Desk's do.
	Dial func(ctx context.Context, agent, number string, order uint64) (call string, err error)
}
