// Package ivr is the IVR flow engine: voice menus, data collection, time
// of day routing, surveys and lookups in other business systems, run as
// data-driven flows on a call.
//
// # Flows
//
// A flow is JSON: an id, a name, a version, an entry node, an optional
// flow-wide error node, and nodes. Each node is one object with an "id",
// a "type", an optional "error" branch, and the fields of its type:
//
//	{
//	  "id": "main", "name": "Day and night service", "entry": "hours",
//	  "error": "sorry",
//	  "nodes": [
//	    {"id": "hours", "type": "time", "tz": "Asia/Shanghai",
//	     "hours": {"mon-fri": "09:00-18:00"}, "open": "menu", "closed": "vm"},
//	    {"id": "menu", "type": "menu", "prompt": "main-menu",
//	     "options": {"1": "sales"}, "fallback": "sales"},
//	    {"id": "sales", "type": "queue", "group": 1, "overflow": "vm"},
//	    {"id": "vm", "type": "voicemail", "box": "100"},
//	    {"id": "sorry", "type": "hangup", "prompt": "sorry"}
//	  ]
//	}
//
// The node types and their fields are documented on their structs: play
// (Play), menu (Menu), collect (Collect), time (TimeBranch: literal hours or
// a business calendar by name, telephony/calendar), switch
// (Switch, which also branches on the caller's customer type), queue
// (Queue), transfer (Transfer), voicemail (Voicemail), record (Record),
// survey (Survey), set (Set), http (HTTPLookup), call and return (SubFlow,
// Return: sub-flows), hangup (Hangup) and fax (Fax: a named document sent
// on the call, or a fax received, through a Call that is a FaxCall). Prompts are a prompt file, text
// to speech, or both; strings take ${var} templates.
//
// # Versions
//
// Repository.Save validates a flow and stores it as the flow's next
// version; older versions stay. Engine.Run resolves the version once,
// when the call starts, so a call keeps the version it started with.
//
// # Validation
//
// Validate rejects, naming the node: unknown node types and fields,
// targets that are not nodes, nodes unreachable from the entry, loops in
// which no node waits for the caller (counting the error branches a
// failure takes), prompt files missing from the catalogue, unknown
// sub-flows, fax documents missing (ValidateOptions.Documents), and bad
// field values.
//
// # Running
//
// Engine.Run drives a Call, the interface to the live call (play,
// collect digits, record, transfer, queue, voicemail, hang up, return to
// an agent). A run-time failure takes the node's error branch, else the
// flow's, else the caller hears an apology and is hung up; a caller an
// agent sent into the flow (Request.Agent, 执行流程) goes back to the
// agent (通话返回) instead. A sub-flow without an error branch passes its
// failure to the node that called it. Cancelling the context stops the
// flow: the caller hung up, or, with cause ErrResume, the agent took the
// caller back. Time branches read an injected Clock and find named calendars
// through Engine.Calendars; HTTP lookups go through a Fetcher (NetHTTP over
// net/http).
package ivr
