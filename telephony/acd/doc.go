// Package acd is the call centre's automatic call distributor: a pure
// engine that decides who waits, who is rung and what a waiting caller
// hears. It has no SIP, no audio and no goroutines; it acts through small
// interfaces and reads time from an injected Clock, so the same engine runs
// live, in tests and in the staffing simulator (package simulate).
//
// # Model
//
// Service is given by skill groups (Group, 座席组), never by one agent. An
// Agent belongs to several groups with a skill level in each. A caller is
// classified into a CustomerType by exact number, CRM category or the
// longest matching prefix (area codes for region binding), else the
// default type; blacklisted numbers never enter the queue. The type gives
// a priority and its groups, tried in order of group priority.
//
// Order of service, as the seed documents specify: customer-type priority,
// then waiting time, then the group's Rule picks among its eligible idle
// agents (LongestIdle, AgentLevel, LastAgent, RoundRobin, FewestCalls,
// LeastTalkTime, RingAll, Linear, Random, RingProgressive). A group may
// require a minimum skill that relaxes step by step as the call waits
// (Group.Relax), widening the pool.
//
// Agents are Offline, Idle, on Break (小休, with a reason), Busy (示忙),
// Ringing, Talking or in WrapUp (整理). Every change is appended to the
// StatusLog with its time and reason. A ring unanswered within the group's
// ring timeout goes to the next agent; the agent who let it go is not rung
// for it again before Group.Retry. After MaxNoAnswer consecutive
// no-answers the agent is put on break (or signed out, Config.NoAnswer) and
// supervisors get a Notice. Reject moves the call on at once. Wrap-up (the
// agent's, else that of the group the call came through; one clock per
// agent) ends by its timer or when the agent sets Idle. Supervisors (and
// agents) cannot change a ringing or talking agent (ErrEngaged).
//
// Queues have a maximum wait with an overflow Target (another group, an IVR
// flow, voicemail, or a message and hang-up), join and leave rules for
// when no member is logged in or available, a maximum length, periodic
// prompts and position / estimated-wait announcements (the estimate is
// position × mean of recent handle times ÷ working members). A waiting
// caller may ask for a callback (unless the group says NoCallback): they
// keep their place, the entry is persisted (CallbackStore) and restored by
// New after a restart, and when their turn comes an agent is reserved and
// Callers.CallBack asks the box to dial the customer and connect the agent.
//
// # Driving the engine
//
// The wiring reports events with Offer (to the caller's customer type's
// groups, or to a group or type an IVR node names), Answer, Reject,
// Hangup, RequestCallback (one callback per number: a second request is
// merged into the first), CallbackConnected, CallbackFailed and Transfer
// (a connected call handed to another agent); agents and supervisors call
// Login, Logout, SetState, Stop and Assign. The engine
// answers through Actions (Agents: Ring, StopRing; Callers: Connect, Play,
// Announce, Route, CallBack; Supervisors: Notify). Actions are invoked
// after each operation with the engine's lock released, in order, so an
// implementation may call back into the engine. Live figures come from
// Queues (per group: waiting, longest wait, offered, answered, abandoned,
// timed out, service level within the group's SLThreshold, else
// Config.SLThreshold, default 20 s, reset
// at midnight), Agents (state, time in state, calls and talk time today)
// and Waiting (the supervisor's list).
//
// Load builds the engine from a ConfigStore; Reconfigure puts an edited
// configuration in force mid-day without dropping calls or agents' states.
//
// # Persistence
//
// ConfigStore, StatusLog and CallbackStore are the only storage the engine
// knows; MemStore implements all three for tests and the simulator, and
// firmware/store implements them over bbolt. Their values are plain data
// with JSON tags (rules and states encode by name). The day's counters
// are not stored: after a restart the wiring counts them again from its
// status log and call records and gives them back with SeedToday, before
// calls arrive.
package acd
