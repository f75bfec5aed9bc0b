package ivr

import (
	"context"
	"errors"
	"time"
)

// Call is what the engine does to a caller. The live wiring implements it
// with the media engine and the switch; tests fake it with a scripted
// caller. Every method returns early with ctx's error when ctx ends, and
// with an error wrapping ErrHangup when the caller hangs up.
type Call interface {
	// Play plays a prompt to the end. A prompt file that does not exist
	// gives an error wrapping ErrPromptMissing. Text is already
	// expanded.
	Play(ctx context.Context, p Prompt) error
	// Collect plays req.Prompt (a key cuts it short) and collects up to
	// req.Max keys (see CollectRequest). No key in time is not an error:
	// it returns what was collected, maybe "".
	Collect(ctx context.Context, req CollectRequest) (string, error)
	// Record records the caller after an optional prompt and beep.
	Record(ctx context.Context, req RecordRequest) (Recording, error)
	// Transfer connects the caller to an extension or number and
	// returns nil once the far end answered; the call then belongs to
	// the switch. Busy, no answer or a failed dial return an error.
	Transfer(ctx context.Context, req TransferRequest) error
	// Queue puts the caller in an ACD queue and returns when an agent
	// answered (Served) or the caller left the queue unserved.
	Queue(ctx context.Context, req QueueRequest) (QueueOutcome, error)
	// Voicemail lets the caller leave a message in a mailbox.
	Voicemail(ctx context.Context, req VoicemailRequest) error
	// Hangup ends the call.
	Hangup(ctx context.Context) error
	// ReturnToAgent connects the caller again with the agent who sent
	// them into the flow (通话返回).
	ReturnToAgent(ctx context.Context, agent string) error
}

// FaxCall is a Call that can fax on the call: a fax node needs it.
type FaxCall interface {
	// Fax sends the named document to the caller's fax machine or, with
	// req.Document empty, receives one, and returns once the fax is over.
	// A fax that failed is an error.
	Fax(ctx context.Context, req FaxRequest) (FaxResult, error)
}

// FaxRequest asks for a fax on the call.
type FaxRequest struct {
	// Document is the fax document to send; "" receives.
	Document string
}

// FaxResult is a fax done on the call.
type FaxResult struct {
	// ID is the fax's record (the inbox or outbox entry).
	ID string
	// Pages went through.
	Pages int
}

// Errors a Call implementation wraps so that the engine can tell them
// apart from other failures.
var (
	// ErrHangup means the caller hung up: the flow stops at once.
	ErrHangup = errors.New("ivr: caller hung up")
	// ErrPromptMissing means a prompt file does not exist: the engine
	// speaks the prompt's text instead, or takes the error branch.
	ErrPromptMissing = errors.New("ivr: prompt file missing")
	// ErrResume is the cancellation cause an agent uses to take a caller
	// back before the flow ends ("恢复"): cancel the Run's context with
	// context.WithCancelCause(...)(ErrResume).
	ErrResume = errors.New("ivr: agent resumed the call")
)

// CollectRequest asks for keys.
type CollectRequest struct {
	// Prompt is played first; a key stops it. Zero plays nothing.
	Prompt Prompt
	// Max ends collection after this many keys.
	Max int
	// Terminator ends collection early; it is not returned. "" for none.
	Terminator string
	// FirstTimeout is the wait for the first key after the prompt.
	FirstTimeout time.Duration
	// InterDigit is the wait for each following key.
	InterDigit time.Duration
}

// RecordRequest asks for a recording.
type RecordRequest struct {
	Prompt     Prompt
	Beep       bool
	Max        time.Duration
	Silence    time.Duration
	Terminator string
}

// Recording is a finished recording.
type Recording struct {
	// ID names the recording in the recording store.
	ID       string
	Duration time.Duration
}

// TransferRequest asks for a transfer.
type TransferRequest struct {
	// To is the extension or number, variables expanded.
	To string
	// Timeout is the ring time; 0 leaves it to the switch.
	Timeout time.Duration
}

// QueueRequest asks for an agent. Exactly one of Group and CustomerType is
// set.
type QueueRequest struct {
	Group        int
	CustomerType string
	// MaxWait caps the wait; 0 leaves it to the queue's own settings.
	MaxWait time.Duration
	// Vars are the flow's variables, for the agent's screen pop.
	Vars map[string]string
}

// QueueOutcome says how a queue wait ended.
type QueueOutcome struct {
	// Served is true when an agent answered.
	Served bool
	// Reason says why an unserved caller left ("timeout", "no agents",
	// "full", "caller left").
	Reason string
}

// VoicemailRequest asks for a voicemail deposit.
type VoicemailRequest struct {
	Box      string
	Greeting Prompt
}
