package conference

import (
	"errors"
	"fmt"

	"callbox/telephony/internal/jsonkv"
)

// MaxParties is the most parties a room takes.
const MaxParties = 50

// Room is a meet-me room as an administrator sets it.
type Room struct {
	// Number is dialled to reach the room: 2 to 16 digits.
	Number string `json:"number"`
	Name   string `json:"name,omitempty"`
	// PINHash and ModeratorPINHash are the PINs' argon2id hashes (package
	// pin); without a PIN anyone who dials the number joins, and without
	// a moderator PIN nobody moderates.
	PINHash          string `json:"pin_hash,omitempty"`
	ModeratorPINHash string `json:"moderator_pin_hash,omitempty"`
	// MaxParties caps the room (default and at most MaxParties).
	MaxParties int `json:"max_parties"`
	// Quiet turns off the entry and exit tones and the announced count;
	// NoMusic the music a party alone hears.
	Quiet   bool `json:"quiet,omitempty"`
	NoMusic bool `json:"no_music,omitempty"`
	// Record records the room while anyone is in it.
	Record bool `json:"record,omitempty"`
}

// Errors a caller may branch on.
var (
	ErrNotFound = errors.New("conference: no such room")
	// ErrInvalid: a room's settings were refused; the text after it names
	// the field.
	ErrInvalid = errors.New("conference: invalid")
	// ErrFull, ErrLocked: the room takes nobody more.
	ErrFull   = errors.New("conference: the room is full")
	ErrLocked = errors.New("conference: the room is locked")
	// ErrHangup is what a Call returns (wrapped) once the party hung up.
	ErrHangup = errors.New("conference: the party hung up")
)

// FieldError is a refused value: it names the field (as the JSON of the
// web API spells it) and why. It wraps ErrInvalid.
type FieldError struct {
	Field, Reason string
}

func (e *FieldError) Error() string { return "conference: invalid: " + e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// JSONField names the field for the web API.
func (e *FieldError) JSONField() string { return e.Field }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func validNumber(s string) bool {
	if len(s) < 2 || len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (r *Room) check() error {
	if !validNumber(r.Number) {
		return invalid("number", "%q: 2 to 16 digits", r.Number)
	}
	if len(r.Name) > 64 {
		return invalid("name", "at most 64 bytes")
	}
	if r.MaxParties == 0 {
		r.MaxParties = MaxParties
	}
	if r.MaxParties < 2 || r.MaxParties > MaxParties {
		return invalid("max_parties", "%d: 2 to %d", r.MaxParties, MaxParties)
	}
	return nil
}

// Store holds the rooms as ordered key/value pairs (firmware/app backs it
// with a bucket of the box's store); the contract is jsonkv's.
type Store = jsonkv.Store

// rooms is the rooms' table: "r" + number.
func rooms(st Store) jsonkv.Table[Room] {
	return jsonkv.Table[Room]{St: st, Prefix: []byte{'r'}, Name: "conference: room", NotFound: ErrNotFound}
}
