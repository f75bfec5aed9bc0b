package voicemail

import "time"

// Call is the voicemail's view of a caller's leg. The call-centre service
// implements it over the switch's application calls as a blocking
// dialogue (as it implements ivr.Call): every method returns when its
// action is over, and an error wrapping ErrHangup once the caller hung up.
type Call interface {
	// Say plays a prompt; with cut a key stops it, and the key waits for
	// the next Collect.
	Say(p Prompt, cut bool) error
	// Collect returns up to max keys, ended early by a key of term (not
	// returned); first is the wait for the first key, inter for each next
	// (0: as first). Nothing in time returns "".
	Collect(max int, term string, first, inter time.Duration) (string, error)
	// Record records the caller into a new WAV file at spec.Path (see
	// recording.Take): after a beep when spec.Beep, until spec.Max, or
	// spec.Silence without speech, or a key of spec.Term. Keys typed
	// before it are forgotten. A hang-up returns what was recorded (the
	// file finished) with ErrHangup.
	Record(spec RecordSpec) (Recorded, error)
	// CallBack ends the dialogue by dialling number for the caller (the
	// call goes on as an ordinary call from them).
	CallBack(number string) error
	// Hangup ends the call.
	Hangup()
}

// Prompt is something said to the caller: one of its fields is set.
type Prompt struct {
	// Name is a system prompt of the catalogue (see the Prompt constants).
	Name string
	// File is a recording to play: a message, a greeting.
	File string
	// Number is said as a number ("12": twelve).
	Number string
	// Digits are said one by one (a phone number).
	Digits string
}

// RecordSpec asks for a recording.
type RecordSpec struct {
	Path    string
	Beep    bool
	Max     time.Duration
	Silence time.Duration
	Term    string
}

// Recorded is a finished recording.
type Recorded struct {
	Duration time.Duration
	// Spoken reports whether anything louder than line noise was said.
	Spoken bool
	// Key is the key that ended it, 0 for the maximum length, silence or
	// a hang-up.
	Key byte
}

// The system prompts the dialogues say: names of telephony/prompt's
// catalogue (system.tsv has their texts in both languages).
const (
	PromptGreeting        = "vm/greeting"         // the default greeting
	PromptFull            = "vm/mailbox-full"     // the box is full
	PromptUnavailable     = "vm/unavailable"      // no such box
	PromptSaved           = "vm/saved"            // your message has been saved
	PromptBox             = "vm/enter-box"        // your box number and #
	PromptPIN             = "vm/password"         // your PIN and #
	PromptWrongPIN        = "vm/wrong-pin"        // that box number or PIN is not right
	PromptLocked          = "vm/locked"           // too many wrong PINs: try later
	PromptGoodbye         = "vm/goodbye"          // goodbye
	PromptYouHave         = "vm/you-have"         // you have
	PromptNewMessages     = "vm/new-messages"     // new messages
	PromptSavedMessages   = "vm/saved-messages"   // saved messages
	PromptMainMenu        = "vm/main-menu"        // 1 new, 2 saved, 0 options, * exit
	PromptMessage         = "vm/message"          // message (its number follows)
	PromptFrom            = "vm/from"             // from (the digits follow)
	PromptMessageMenu     = "vm/message-menu"     // 1 repeat, 2 save, 3 delete, 4 call back, # next, * menu
	PromptMessageSaved    = "vm/message-saved"    // message saved
	PromptMessageDeleted  = "vm/deleted"          // message deleted
	PromptNoMore          = "vm/no-more"          // no more messages
	PromptNoMessages      = "vm/no-messages"      // you have no messages
	PromptNoCallback      = "vm/no-callback"      // no number to call back
	PromptOptions         = "vm/options"          // 1 record greeting, 2 default greeting, 3 change PIN, * back
	PromptRecordGreeting  = "vm/record-greeting"  // record your greeting after the tone, # when done
	PromptGreetingSaved   = "vm/greeting-saved"   // your greeting is saved
	PromptGreetingDefault = "vm/greeting-default" // callers now hear the standard greeting
	PromptNewPIN          = "vm/new-pin"          // your new PIN, 4 to 8 digits, and #
	PromptNewPINAgain     = "vm/new-pin-again"    // the new PIN again
	PromptPINChanged      = "vm/pin-changed"      // PIN changed
	PromptPINMismatch     = "vm/pin-mismatch"     // the PINs differ or are not 4 to 8 digits
	PromptNotify          = "vm/notify"           // you have a new message, press 1 to listen (留言通知)
	PromptInvalid         = "invalid-key"         // that key is not in the menu
	PromptNothingRecorded = "vm/nothing-recorded" // nothing was recorded
)
