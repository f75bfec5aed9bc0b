package sip

import (
	"strconv"
	"time"

	"callbox/telephony/sip/registrar"
	"callbox/telephony/sip/sdpneg"
)

// CallHandler is what the switch implements to take part in SIP calls. The
// endpoint calls the methods for one leg one at a time, in the order of
// the leg's events, on a goroutine of that leg (never the leg's own state
// machine, so a method may call the leg's methods); a method should
// return soon, as the leg's later events wait for it.
type CallHandler interface {
	// Offered presents a new inbound leg. The handler answers it with
	// Ringing, Answer or Reject, from this goroutine or another.
	Offered(l *Leg)
	// Progress reports 180 or 183 on an outbound leg; early is true when the
	// peer sent SDP for early media (Media is then valid).
	Progress(l *Leg, status int, early bool)
	// Answered reports that an outbound leg was answered, or that the ACK to
	// an inbound leg's 200 arrived (the call is confirmed).
	Answered(l *Leg)
	// MediaChanged reports a re-INVITE from the peer: hold (m.OnHold()),
	// resume, or a new RTP address or codec.
	MediaChanged(l *Leg, m sdpneg.Media)
	// DTMF reports a digit sent by SIP INFO (application/dtmf-relay or
	// application/dtmf). RFC 4733 digits travel in RTP with the payload type
	// of Media().DTMFPT, for the media engine.
	DTMF(l *Leg, digit byte, duration time.Duration)
	// Transfer reports a REFER. Returning nil accepts it (202) and the
	// switch then performs it; an error declines it (603).
	Transfer(l *Leg, t Transfer) error
	// HungUp reports that the leg ended, with why. It is called exactly once
	// per leg, also for legs the switch ended itself.
	HungUp(l *Leg, c Cause)
}

// RegistrationObserver hears about bindings appearing and going; the web
// admin and console use it to show changes live. Optional.
type RegistrationObserver interface {
	Registered(b registrar.Binding)
	// Unregistered reports a removed binding with a reason: "unregistered",
	// "expired" or "unreachable" (keepalive failed).
	Unregistered(b registrar.Binding, reason string)
}

// Cause says why a leg ended or was refused; it maps to SIP status codes
// one way and to CDR dispositions the other.
type Cause int

// Causes.
const (
	CauseNormal      Cause = iota // BYE after answer
	CauseBusy                     // 486 Busy Here
	CauseNoAnswer                 // 480 after ringing too long, or 408
	CauseUnavailable              // 480 Temporarily Unavailable (not registered, DND)
	CauseNotFound                 // 404 Not Found
	CauseRejected                 // 603 Decline
	CauseCancelled                // 487 Request Terminated (CANCEL before answer)
	CauseNoCodec                  // 488 Not Acceptable Here
	CauseFailed                   // 500 or any other failure
	CauseBlocked                  // 403 Forbidden (the dial plan refuses the number)
	CauseCongestion               // 503 Service Unavailable (no trunk or line free)
)

var causeStatus = [...]struct {
	code   int
	reason string
	name   string
}{
	CauseNormal:      {200, "OK", "normal"},
	CauseBusy:        {486, "Busy Here", "busy"},
	CauseNoAnswer:    {480, "Temporarily Unavailable", "no answer"},
	CauseUnavailable: {480, "Temporarily Unavailable", "unavailable"},
	CauseNotFound:    {404, "Not Found", "not found"},
	CauseRejected:    {603, "Decline", "rejected"},
	CauseCancelled:   {487, "Request Terminated", "cancelled"},
	CauseNoCodec:     {488, "Not Acceptable Here", "no common codec"},
	CauseFailed:      {500, "Server Internal Error", "failed"},
	CauseBlocked:     {403, "Forbidden", "blocked"},
	CauseCongestion:  {503, "Service Unavailable", "congestion"},
}

// Status returns the SIP final response that refuses a call with c.
func (c Cause) Status() (int, string) {
	if c < 0 || int(c) >= len(causeStatus) {
		return 500, "Server Internal Error"
	}
	return causeStatus[c].code, causeStatus[c].reason
}

// String names the cause for CDRs and logs.
func (c Cause) String() string {
	if c < 0 || int(c) >= len(causeStatus) {
		return "cause(" + strconv.Itoa(int(c)) + ")"
	}
	return causeStatus[c].name
}

// CauseOf maps a final failure response to a cause.
func CauseOf(status int) Cause {
	switch status {
	case 486, 600:
		return CauseBusy
	case 408:
		return CauseNoAnswer
	case 480:
		return CauseUnavailable
	case 404, 484, 604:
		return CauseNotFound
	case 603:
		return CauseRejected
	case 403:
		return CauseBlocked
	case 503:
		return CauseCongestion
	case 487:
		return CauseCancelled
	case 488, 606:
		return CauseNoCodec
	}
	if status >= 200 && status < 300 {
		return CauseNormal
	}
	return CauseFailed
}
