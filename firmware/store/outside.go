package store

// The buckets of the box's outside interfaces (schema version 6): SMS,
// API tokens, webhooks and the event journal, and the push to an outside
// database. firmware/app keys and encodes them.
const (
	// SMSOut holds the outbox, keyed by message id (big-endian).
	SMSOut Records = "sms_out"
	// SMSQueue indexes queued messages by next attempt time and id.
	SMSQueue Records = "sms_queue"
	// SMSRefs maps a recipient's match key and a modem reference to the
	// message id, for delivery reports.
	SMSRefs Records = "sms_refs"
	// SMSIn holds received messages, keyed by id.
	SMSIn Records = "sms_in"
	// SMSTemplates holds message templates, keyed by name.
	SMSTemplates Records = "sms_templates"
	// APITokens holds the systems' API tokens (hashed), keyed by id.
	APITokens Records = "api_tokens"
	// Webhooks holds webhook subscribers with their cursors, keyed by id.
	Webhooks Records = "webhooks"
	// EventJournal holds the call centre's events in order, keyed by
	// position (big-endian).
	EventJournal Records = "event_journal"
	// WebhookLog holds delivery attempts, keyed by subscriber and sequence.
	WebhookLog Records = "webhook_log"
	// ExportCursors holds the outside-database push's cursor per table.
	ExportCursors Records = "export_cursors"
	// ExportCDR lists call detail records in the order they were written
	// (sequence -> CDR key), so the push misses none that started earlier.
	ExportCDR Records = "export_cdr"
	// ExportFacts lists fact rows in the order they were written
	// (sequence -> fact key); a rewritten fact is listed again.
	ExportFacts Records = "export_facts"
)

func init() {
	recordBuckets = append(recordBuckets, SMSOut, SMSQueue, SMSRefs, SMSIn, SMSTemplates, APITokens,
		Webhooks, EventJournal, WebhookLog, ExportCursors, ExportCDR, ExportFacts)
}
