package acd

import "time"

// CallID names a call; the wiring chooses it (for instance the switch's call id).
type CallID string

// Agents is the engine's way to agents' devices.
type Agents interface {
	// Ring alerts the agent's device with the call. The engine times the
	// ring itself; the wiring reports Answer or Reject. With AutoAnswer set
	// the device should answer on its own.
	Ring(r RingRequest)
	// StopRing cancels a ring (timeout, caller gone, answered elsewhere),
	// or a callback dial the engine gave up (timeout, supervisor's stop).
	StopRing(agent AgentID, call CallID)
}

// RingRequest is one ring to one agent.
type RingRequest struct {
	Agent      AgentID
	Device     string
	Mode       ServiceMode
	AutoAnswer bool
	Call       CallID
	Number     string // the caller, for screen-pop
	Group      int
}

// Callers is the engine's way to the calling customers.
type Callers interface {
	// Connect bridges the caller with the agent who answered.
	Connect(call CallID, agent AgentID)
	// Play plays a periodic queue prompt to a waiting caller.
	Play(call CallID, prompt string)
	// Announce tells a waiting caller their position and estimated wait.
	Announce(call CallID, position int, estimate time.Duration)
	// Route sends the caller out of the queue: overflow to IVR, voicemail,
	// or hang up with a message (TargetHangup, also used when a supervisor
	// stops a request). The engine forgets the call afterwards.
	Route(call CallID, t Target)
	// CallBack asks the box to call the customer on number and connect them
	// to agent, who is reserved meanwhile. The wiring reports the result
	// with CallbackConnected or CallbackFailed.
	CallBack(call CallID, number string, agent AgentID)
}

// Supervisors receives notices for the supervisor desks.
type Supervisors interface {
	Notify(n Notice)
}

// Actions is everything the engine does to the outside world. Calls are
// made without the engine's lock held, so an implementation may call back
// into the engine.
type Actions interface {
	Agents
	Callers
	Supervisors
}

// NoticeKind classifies supervisor notices.
type NoticeKind uint8

// Notice kinds.
const (
	NoticeNoAnswer       NoticeKind = iota // agent reached the no-answer limit (Agent, State)
	NoticeCallbackFailed                   // a callback gave up (Call, Number)
	NoticeStoreError                       // persisting failed (Err)
)

// Notice is a message for supervisors.
type Notice struct {
	Kind   NoticeKind
	At     time.Time
	Agent  AgentID
	State  State
	Call   CallID
	Number string
	Err    error
}
