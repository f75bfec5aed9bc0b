package acd

import "fmt"

// State is an agent's state.
type State uint8

// Agent states, as the seeds list them.
const (
	Offline State = iota // signed out
	Idle                 // online and free (在线)
	Break                // on a break, with a reason (小休)
	Busy                 // showing busy (示忙)
	Ringing              // a call is ringing (or reserved for a callback)
	Talking              // in a call
	WrapUp               // after-call work (整理)
	numStates
)

var stateNames = [...]string{"offline", "idle", "break", "busy", "ringing", "talking", "wrap_up"}

func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// ParseState returns the state named by its String form.
func ParseState(s string) (State, error) {
	for i, n := range stateNames {
		if n == s {
			return State(i), nil
		}
	}
	return 0, fmt.Errorf("acd: unknown agent state %q", s)
}

// MarshalText encodes the state by name.
func (s State) MarshalText() ([]byte, error) {
	if s >= numStates {
		return nil, fmt.Errorf("acd: unknown agent state %d", s)
	}
	return []byte(s.String()), nil
}

// UnmarshalText decodes a state name.
func (s *State) UnmarshalText(b []byte) error {
	v, err := ParseState(string(b))
	*s = v
	return err
}

// engaged reports whether the state holds a call, which blocks manual changes.
func (s State) engaged() bool { return s == Ringing || s == Talking }

// loggedIn reports whether the agent is signed in.
func (s State) loggedIn() bool { return s != Offline }

// available reports whether the agent is working calls (Asterisk's sense).
func (s State) available() bool { return s == Idle || s == Ringing || s == Talking || s == WrapUp }
