package callswitch

import (
	"fmt"

	"callbox/telephony/media"
)

// Tech is the technology behind a channel.
type Tech uint8

// Technologies.
const (
	FXS Tech = iota + 1 // an analog phone on an FXS port
	FXO                 // a PSTN line on an FXO port
	SIP                 // a SIP dialog (extension or trunk)
)

var techNames = [...]string{"", "fxs", "fxo", "sip"}

// String names the technology as CDRs print it.
func (t Tech) String() string {
	if t != 0 && int(t) < len(techNames) {
		return techNames[t]
	}
	return fmt.Sprintf("tech(%d)", t)
}

// Indication is call progress a channel shows its party.
type Indication uint8

// Indications.
const (
	Ringback   Indication = iota + 1 // the called party is being alerted
	Busy                             // the called party is busy
	Congestion                       // the call cannot be placed
	Hold                             // the party is put on hold (music comes from the switch)
	Unhold                           // the party is taken off hold
	Confirm                          // a feature code was accepted
	WaitingOn                        // a call waits (call waiting tone)
	WaitingOff                       // the waiting call went away
)

var indicationNames = [...]string{"", "ringback", "busy", "congestion", "hold", "unhold", "confirm", "waiting-on", "waiting-off"}

// String names the indication.
func (i Indication) String() string {
	if i != 0 && int(i) < len(indicationNames) {
		return indicationNames[i]
	}
	return fmt.Sprintf("indication(%d)", i)
}

// Party is one end of a call as caller ID shows it.
type Party struct {
	Number string
	Name   string
}

// Channel is one technology's side of a leg: the shape of Asterisk's
// ast_channel_tech. The switch calls every method from its own goroutine
// (the frame clock's); an implementation whose work may block (SIP
// signalling) does it elsewhere and reports back through the switch's
// event entry points.
//
// Events flow the other way through the Switch: a channel reports that its
// party dialled, answered, hung up or asked for a feature.
type Channel interface {
	// Name identifies the channel: "fxs1", "fxo2", "sip/<leg id>".
	Name() string
	Tech() Tech
	// Call presents a call: an FXS port rings its phone with caller ID
	// from, an FXO port seizes its line and dials number, a SIP channel
	// sends an INVITE.
	Call(number string, from Party) error
	// Answer accepts an incoming call on the channel (FXO: seize the
	// ringing line; SIP: 200 OK). An FXS phone answers by itself.
	Answer() error
	// Hangup ends the channel's part in the call: the far party hung up
	// with cause. An alerting phone stops ringing.
	Hangup(cause Cause) error
	// Indicate shows call progress to the party.
	Indicate(ind Indication) error
	// SendDigits sends DTMF to the party.
	SendDigits(digits string) error
	// Connect passes the call's audio between the party and the channel's
	// media Endpoint.
	Connect() error
	// Endpoint is the channel's audio in the media engine.
	Endpoint() media.Endpoint
}

// Cause says why a leg ended.
type Cause uint8

// Causes, and the CDR disposition each leads to when it ends an
// unanswered call.
const (
	CauseNormal      Cause = iota + 1 // a party hung up
	CauseBusy                         // the called party is busy or does not disturb
	CauseNoAnswer                     // it rang too long
	CauseCancelled                    // the caller gave up before the answer
	CauseCongestion                   // no trunk or channel could take the call
	CauseBlocked                      // the dial plan refuses the number (toll fraud guard)
	CauseNotFound                     // no such number
	CauseUnavailable                  // the extension has no working phone
	CauseFailed                       // a channel or line fault
	CauseTransferred                  // the leg left after transferring its party
	CausePickedUp                     // another extension picked the call up
	CauseFeature                      // a feature code was carried out
	CausePreempted                    // an emergency call needed the line
)

var causeNames = [...]string{"", "normal", "busy", "no answer", "cancelled", "congestion", "blocked",
	"not found", "unavailable", "failed", "transferred", "picked up", "feature", "preempted"}

// String names the cause for CDRs and logs.
func (c Cause) String() string {
	if c != 0 && int(c) < len(causeNames) {
		return causeNames[c]
	}
	return fmt.Sprintf("cause(%d)", c)
}
