package webui

import (
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
}
