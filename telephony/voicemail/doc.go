// Package voicemail is the box's voicemail: boxes for agents, groups and a
// general box (a PIN kept as an argon2id hash, a greeting recorded by
// phone or uploaded or the default one, a maximum message length and a
// quota), their messages (new until heard, then saved), the deposit and
// retrieval dialogues, message-waiting indicators and notifications.
//
// The dialogues are state machines over a small blocking Call interface
// (say a prompt, collect keys, record, call back, hang up) that the
// call-centre service implements over the switch's application calls, as
// it implements ivr.Call; Deposit and Retrieve run on its dialogue
// goroutine. Deposit: the greeting (a key skips it), the message after the
// beep (# or silence ends it, a hang-up keeps it, an empty one is
// dropped). Retrieve: box and PIN (wrong PINs limited per call, and a box
// locks for a while after a run of them), the counts, new and saved
// messages (repeat, save, delete, call back, next), options (greeting by
// phone, back to the default greeting, PIN change).
//
// A box's counts go to a MessageWaiting sink at every change (firmware/app
// lights the FXS lamps and stutter dial tone and sends SIP message-summary
// NOTIFYs). A new message is announced by a call to the box's outside
// number through a Dialer ("you have a new message, press 1 to listen",
// retried while nobody listens) and by mail with the audio attached
// through the box's one mail sender (a Mailer), on the service's one
// notification goroutine.
//
// The prompts are telephony/prompt's system prompts (the vm/ names).
//
// Boxes and message entries live in a Store of ordered
// key/value pairs (firmware/app backs it with the box's store); the audio
// in one directory per box.
package voicemail
