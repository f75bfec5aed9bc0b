package store

// The customer-service records' buckets (schema version 6): customers and
// their indexes, the knowledge base and work orders. Their packages
// (telephony/crm and below) choose keys and values; firmware/app hands
// them the store under these names.
const (
	CRMCustomers Records = "crm_customers"
	CRMIndex     Records = "crm_index"
	CRMMeta      Records = "crm_meta"
	CRMComms     Records = "crm_comms"
	KB           Records = "kb"
	WOMeta       Records = "wo_meta"
	WOOrders     Records = "wo_orders"
	WOIndex      Records = "wo_index"
	WOAudit      Records = "wo_audit"
	// CDRParty indexes the call detail records by each party's number
	// (firmware/app keys it), for a customer's calls on the card.
	CDRParty Records = "cdr_party"
)

// CustomerRecords lists the buckets above.
var CustomerRecords = []Records{CRMCustomers, CRMIndex, CRMMeta, CRMComms, KB, WOMeta, WOOrders, WOIndex, WOAudit, CDRParty}
