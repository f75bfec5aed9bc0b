// Package cc is the call-centre service: it translates between the switch
// (telephony/switch's application API), the ACD engine (telephony/acd),
// the IVR engine (telephony/ivr) and the people, and publishes every change
// on the event bus (telephony/cc/ccevent).
//
// # What it does
//
//   - The configuration is telephony/ccconf's, compiled (a Snapshot) and
//     swapped whole by Reconfigure without dropping calls.
//   - Calls from SIP trunks (by DID), FXO lines and internal numbers are
//     routed (the inbound routes) to an IVR flow, a skill group, an
//     extension or voicemail. Callers' numbers are put in national form
//     (telephony/region) before anything else sees them; blacklisted
//     numbers are refused first of all. An IVR
//     flow runs on the caller as an ivr.Call implemented over the switch's
//     app call: prompts and text through Prompts, digits from RFC 4733, SIP
//     INFO or in-band DTMF, queue nodes into the ACD engine.
//   - The engine's actions become switch work: Ring originates a leg to the
//     agent's device (an FXS phone, every contact of a SIP extension, or an
//     outside number through a route) with the customer's number as caller
//     ID; Connect bridges them (a beep to the agent, the agent's number to
//     the caller when the group says so); Play and Announce speak to waiting
//     callers over music on hold; Route carries out overflows; CallBack
//     rings the reserved agent and then dials the customer.
//   - Agents (people) bind to devices (phones): by feature code from any
//     phone of the box (*50 work number # PIN #; a phone that sends too
//     many wrong PINs is locked out for a while), or by the Go methods the
//     REST API calls. One state per agent lives in the ACD engine; every
//     way of changing it calls the same engine operation. A device that
//     goes away (a SIP phone unregistered or unreachable, an FXS port that
//     failed) puts its agent on break until it is back.
//   - In a call the agent has the phone's * menu (see Codes) and the same
//     operations as Go methods: hold, transfer (blind and consultative),
//     three-way, prompts, flows, recording, hang-up.
//   - Supervisors see the waiting and in-service lists, stop and assign
//     waiting requests, tear down and transfer services, and monitor them
//     (listen, whisper, barge: DTMF 4, 5, 6 on the supervisor's phone).
//   - Fax (Options.Fax, fax.go): a fax machine heard calling (CNG) on a
//     caller in a flow (recording or voicemail nodes included), on a call
//     a route answered, in a queue or talking with an agent, hands the
//     call to the fax receiver (an agent's call stays the agent's); IVR
//     fax nodes send a named document or receive on the call; the route
//     target "fax" receives; AgentFax sends a document to the agent's
//     caller or receives one. A fax's record links the call centre's call
//     id.
//   - Every change is an event on the bus; one fact row per queue call is
//     kept up to date in the FactStore as the events happen.
//
// # Concurrency
//
// The service's state has one owner, its loop goroutine: switch events
// (which arrive on the switch's goroutine), the ACD engine's actions and
// the Go methods all post work to it and never wait for it on the switch's
// goroutine. A caller's dialogue (an IVR flow, a feature code's prompts)
// runs on a goroutine of its own that blocks on its mailbox, fed by the
// loop and by the switch's callbacks. Close cancels them and waits.
//
// Time comes from an injected Clock (acd's), so tests run the real switch,
// media engine, ACD and IVR engines on a virtual clock.
package cc
