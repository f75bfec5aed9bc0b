package voicemail

import (
	"errors"
	"fmt"
	"net/mail"
	"time"
)

// Kind says whose box it is.
type Kind string

// Box kinds.
const (
	KindAgent   Kind = "agent"   // an agent's own box
	KindGroup   Kind = "group"   // a skill group's box (its queue overflows here)
	KindGeneral Kind = "general" // the general box (the IVR's "leave a message")
)

// Box is a mailbox.
type Box struct {
	// Number is the box's number: 1 to 16 digits (an agent's work number,
	// a group's number, "0" for the general box). It names the box's
	// directory, so nothing else is allowed in it.
	Number string `json:"number"`
	Kind   Kind   `json:"kind"`
	Name   string `json:"name,omitempty"`
	// Owner is who reads the box on the web: an agent's login for an
	// agent's box; supervisors and administrators read every box.
	Owner string `json:"owner,omitempty"`
	// PINHash is the PIN's argon2id hash; never shown.
	PINHash string `json:"pin_hash,omitempty"`
	// MaxMessage is the longest message (default 3 minutes).
	MaxMessage time.Duration `json:"max_message"`
	// MaxMessages is the quota: a full box takes no message.
	MaxMessages int `json:"max_messages"`
	// Extensions are the phones that show this box's message waiting
	// (stutter dial tone, the lamp, SIP message summary) and open it with
	// the feature code.
	Extensions []string `json:"extensions,omitempty"`
	// UnsolicitedMWI sends the message summary to the SIP phones of
	// Extensions whether they subscribe or not (phones that never do).
	UnsolicitedMWI bool `json:"unsolicited_mwi,omitempty"`
	// NotifyNumber is an outside number the box calls when a message
	// arrives ("you have a new message, press 1 to listen").
	NotifyNumber string `json:"notify_number,omitempty"`
	// Email receives each message as an attachment (through the box's mail).
	Email string `json:"email,omitempty"`
	// Greeting is set when the box has its own greeting (recorded by
	// phone or uploaded); otherwise callers hear the default one.
	Greeting bool `json:"greeting,omitempty"`
}

// Limits.
const (
	DefaultMaxMessage  = 3 * time.Minute
	DefaultMaxMessages = 50
	MaxMessageLimit    = 10 * time.Minute
	MaxMessagesLimit   = 1000
	// MaxGreeting is the longest greeting, recorded or uploaded.
	MaxGreeting = time.Minute
)

// Errors a caller may branch on.
var (
	// ErrNotFound: no such box or message.
	ErrNotFound = errors.New("voicemail: not found")
	// ErrInvalid: a box's settings or an upload were refused; the text
	// after it names the field.
	ErrInvalid = errors.New("voicemail: invalid")
	// ErrFull: the box is at its quota.
	ErrFull = errors.New("voicemail: the box is full")
	// ErrHangup is what a Call returns (wrapped) once the caller hung up.
	ErrHangup = errors.New("voicemail: the caller hung up")
	// ErrLocked: too many wrong PINs for the box lately.
	ErrLocked = errors.New("voicemail: the box is locked after wrong PINs")
)

// FieldError is a refused value: it names the field (as the JSON of the
// web API spells it) and why. It wraps ErrInvalid.
type FieldError struct {
	Field, Reason string
}

func (e *FieldError) Error() string { return "voicemail: invalid: " + e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// JSONField names the field for the web API.
func (e *FieldError) JSONField() string { return e.Field }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validNumber is a box number or an extension.
func validNumber(s string) bool { return len(s) >= 1 && len(s) <= 16 && digits(s) }

// validDial is a number the box may dial: digits, optionally a leading +.
func validDial(s string) bool {
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	return len(s) >= 3 && len(s) <= 20 && digits(s)
}

// check validates a box and fills in the defaults.
func (b *Box) check() error {
	if !validNumber(b.Number) {
		return invalid("number", "%q: 1 to 16 digits", b.Number)
	}
	switch b.Kind {
	case KindAgent, KindGroup, KindGeneral:
	default:
		return invalid("kind", "%q: agent, group or general", b.Kind)
	}
	if len(b.Name) > 64 || len(b.Owner) > 64 {
		return invalid("name", "at most 64 bytes")
	}
	if b.MaxMessage == 0 {
		b.MaxMessage = DefaultMaxMessage
	}
	if b.MaxMessage < 10*time.Second || b.MaxMessage > MaxMessageLimit {
		return invalid("max_message", "%v: 10 s to %v", b.MaxMessage, MaxMessageLimit)
	}
	if b.MaxMessages == 0 {
		b.MaxMessages = DefaultMaxMessages
	}
	if b.MaxMessages < 1 || b.MaxMessages > MaxMessagesLimit {
		return invalid("max_messages", "%d: 1 to %d", b.MaxMessages, MaxMessagesLimit)
	}
	if len(b.Extensions) > 16 {
		return invalid("extensions", "at most 16")
	}
	for _, e := range b.Extensions {
		if !validNumber(e) {
			return invalid("extensions", "%q is not an extension number", e)
		}
	}
	if b.NotifyNumber != "" && !validDial(b.NotifyNumber) {
		return invalid("notify_number", "%q: 3 to 20 digits, optionally after +", b.NotifyNumber)
	}
	if b.Email != "" {
		if a, err := mail.ParseAddress(b.Email); err != nil || a.Address != b.Email || len(b.Email) > 254 {
			return invalid("email", "%q is not a mail address", b.Email)
		}
	}
	return nil
}

// State is a message's state.
type State string

// Message states.
const (
	StateNew   State = "new"
	StateSaved State = "saved" // heard (or saved by hand): no longer waiting
)

// Message is one voicemail message.
type Message struct {
	ID         string        `json:"id"`
	Box        string        `json:"box"`
	Caller     string        `json:"caller,omitempty"`
	CallerName string        `json:"caller_name,omitempty"`
	Received   time.Time     `json:"received"`
	Duration   time.Duration `json:"duration_ns"`
	State      State         `json:"state"`
}

// Caller is who leaves a message.
type Caller struct {
	Number string
	Name   string
}
