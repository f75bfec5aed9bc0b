// Package ccconf is the call centre's configuration, beside the PBX's
// (telephony/pbxconf): skill groups, agents, customer types, the
// blacklist, inbound routes, business calendars, extension-to-PC bindings,
// outbound caller IDs and the agents' feature codes, as one versioned JSON
// document, with the IVR flows it carries on export and import. It
// validates the document (naming the object and the field, collecting
// every problem, checking references among its objects and into the PBX
// configuration and the stored flows) and compiles it for the call-centre
// service (Snapshot): the acd.Config, the inbound routing, the calendars
// IVR time branches name, the blacklist and the caller IDs.
//
// The same document is what `callboxctl config export|import` and
// `callboxd --import` carry under "call_centre" beside the PBX's, and what
// the web API edits whole (/api/v1/call-centre) or an object at a time
// (/api/v1/groups, /agents, /customer-types, /blacklist, /inbound-routes,
// /calendars, /bindings, /caller-ids; flows at /api/v1/flows).
//
// # Format (version 1)
//
//	{
//	  "version": 1,
//	  "settings": {"language": "zh-CN", "max_no_answer": 3, "no_answer": "break",
//	    "sl_threshold_s": 20, "short_abandon_s": 5, "callback_timeout_s": 60,
//	    "callback_retry_s": 300, "callback_tries": 3, "pin_tries": 3, "consent": false},
//	  "feature_codes": {"login": "*50", "logout": "*51", "ready": "*52", "break": "*53",
//	    "busy": "*54", "wrap_up_done": "*55", "monitor": "*56", "record_prompt": "*57",
//	    "voicemail": "*97", "voicemail_box": "*98", "deposit": "*96"},
//	  "groups": [
//	    {"id": 1, "name": "Sales", "priority": 10, "rule": "longest_idle", "enabled": true,
//	     "description": "", "ring_timeout_s": 15, "wrap_up_s": 10, "max_wait_s": 300,
//	     "overflow": {"kind": "voicemail", "mailbox": "201"}, "max_queue": 20,
//	     "join": "if_logged_in", "leave": "never", "moh": "", "prompt": "queue-thanks",
//	     "prompt_every_s": 30, "announce_position": true, "announce_wait": true,
//	     "announce_every_s": 60, "announce_agent": true, "callback_offer": true,
//	     "callback_key": "1", "callback_after_s": 60, "recording": true, "consent": "on",
//	     "survey": true, "survey_flow": "survey", "sl_threshold_s": 20}
//	  ],
//	  "agents": [
//	    {"id": "1088", "name": "李明", "level": 3, "pin": "4321", "mode": "extension",
//	     "device": "201", "groups": [{"group": 1, "skill": 5}], "auto_answer": false,
//	     "max_no_answer": 0, "wrap_up_s": 0, "supervisor": true},
//	    {"id": "1099", "name": "王芳", "mode": "outside", "device": "13800138000",
//	     "route": "mobile", "groups": [{"group": 1, "skill": 3}]}
//	  ],
//	  "customer_types": [
//	    {"id": 1, "name": "VIP", "priority": 10, "numbers": ["13900139000"],
//	     "prefixes": ["0512"], "categories": ["gold"], "regions": ["025"], "groups": [2, 1]},
//	    {"id": 2, "name": "普通", "priority": 0, "groups": [], "default": true}
//	  ],
//	  "blacklist": [{"number": "13000000000", "direction": "in", "note": "harassment"}],
//	  "inbound_routes": [
//	    {"name": "main", "source": "trunk", "trunk": "provider", "did": "02155550100",
//	     "target": {"kind": "flow", "flow": "main"}},
//	    {"name": "pstn", "source": "line", "trunk": "pstn1", "target": {"kind": "group", "group": 1}},
//	    {"name": "ivr", "source": "internal", "number": "8000", "target": {"kind": "flow", "flow": "main"}}
//	  ],
//	  "calendars": [
//	    {"name": "main", "tz": "Asia/Shanghai", "hours": {"mon-fri": "09:00-18:00"},
//	     "special": {"2026-09-27": "09:00-18:00"}, "holidays": ["2026-10-01..2026-10-07"]}
//	  ],
//	  "bindings": [{"pc": "192.168.1.23", "extension": "201"}],
//	  "caller_ids": [{"number": "02155550100", "all_agents": true},
//	                 {"number": "02155550199", "agents": ["1088"]}],
//	  "flows": [ {"id": "main", "version": 3, "entry": "...", "nodes": [...]} ]
//	}
//
// Settings: language callers hear (zh-CN or en); max_no_answer rings in a
// row an agent may leave before no_answer ("break" or "sign_out");
// sl_threshold_s, the service level's threshold; short_abandon_s, abandons
// left out of the service level (the service level is answered within the
// threshold over answered plus abandoned after it, short abandons left
// out); callback_* how callbacks are dialled; pin_tries wrong PINs a phone
// may send in a row when logging in; consent, whether callers hear the
// recording consent prompt ("this call may be recorded") before they wait
// for a group that records (default no). Every setting has a default and an
// export shows them all but consent, shown when on.
//
// Feature codes are '*' or '#' and 1 to 4 digits; none may be the start of
// another, nor of the PBX's own (*8, *72, *76...). break may be followed
// by a reason digit, monitor by an agent's work number.
//
// Groups (座席组): id 1 to 9999; rule one of longest_idle (default),
// agent_level, last_agent, round_robin, fewest_calls, least_talk_time,
// ring_all, linear, random, ring_progressive (telephony/acd documents
// them); enabled and recording default to true. Times are in seconds, 0
// taking the engine's default: ring_timeout_s (15), retry_s, progress_step_s,
// wrap_up_s (for agents without their own), max_wait_s (0: no limit).
// overflow is where a caller goes on max wait, join refusal or leave: a
// target of kind group, flow, voicemail (mailbox: an extension) or hangup
// (an optional message prompt); loops of group overflows are refused. join
// is always, if_logged_in or if_available; leave never, if_none_logged_in
// or if_none_available. moh names the music on hold prompt (empty: the
// box's), prompt is played every prompt_every_s, position and estimated
// wait are announced every announce_every_s when announce_position or
// announce_wait is on, announce_agent tells the caller the agent's number
// on connect. callback_offer offers waiting callers a callback by
// callback_key (default "1") after callback_after_s. consent is on or off
// for the recording consent prompt before a recorded service, or empty
// (or default) for the settings' consent. survey plays
// survey_flow to the caller after the agent hangs up. min_skill and relax
// ([{"after_s", "min_skill"}], ascending) set the skill a call needs.
//
// Agents: id is the work number (工号), 1 to 8 digits; pin (4 to 8 digits)
// is hashed with argon2id on import and never shown again, pin_hash keeps
// a hash (an export carries it, so a restored backup keeps the PINs; the
// web API never shows it); neither keeps the PIN already stored. mode is
// extension (device: an extension of the box, or empty for the phone the
// agent logs in on), softphone (device: a SIP extension) or outside
// (device: the outside number, route: the outbound route to use, optional).
// groups are the agent's groups with a skill level (0 to 100). supervisor
// (班长) lets the agent monitor services and record prompts from the phone
// they are logged in on (the monitor and record_prompt feature codes).
//
// Customer types: callers are classified by exact number, CRM category,
// or the longest prefix (prefixes and regions, the latter mainland area
// codes from telephony/region, matched in every form a caller presents:
// 025, +8625, 008625); groups serve them, ordered by group priority. The
// one type marked default (it may not match anything) serves everyone
// else; without one, every group does.
//
// Blacklist (seed 003): number up to 20 characters, direction in (the
// number cannot call in), out (agents cannot call it) or both, note up to
// 50 characters. Numbers are compared in national form (+86 13800138000
// is 13800138000).
//
// Inbound routes: source trunk (a DID on a SIP trunk of the PBX
// configuration; no DID takes the trunk's other calls), line (an FXO line:
// a trunk of kind fxo) or internal (a number dialled inside the box, which
// must not be an extension or an emergency number), to a target of kind
// flow, group, extension or voicemail. A route takes the calls before the
// PBX's trunk DIDs and defaults do.
//
// Calendars: name (1 to 32 of a-z, 0-9, '-', '_') and the fields of
// telephony/calendar; IVR time branches name them.
//
// Bindings: a PC's IP address and the extension beside it. Caller IDs: a
// number and the agents who may present it, or all_agents.
//
// Flows: telephony/ivr's JSON, with the version the box gave it. On
// import, a flow whose content differs from its latest stored version is
// saved as a new version; the others are left alone. Queue nodes must name
// groups of the document, time branches its calendars.
//
// Errors are *FieldError values naming the object, the field and the
// reason, in English and as a ReasonCode with its values, so the web admin
// renders them in the user's language.
package ccconf
