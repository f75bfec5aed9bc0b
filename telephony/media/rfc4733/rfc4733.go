// Package rfc4733 carries DTMF digits as RTP telephone-events (RFC 4733):
// the 4-byte payload, a Receiver that turns a stream of event packets into
// digit start and end events (ignoring retransmissions and reordering, ending
// a digit whose end packets were all lost), and a Sender that turns digit
// requests into the packets a stream sends instead of audio, with the end
// packet sent three times.
//
// Times are RTP timestamp units (8 kHz samples for telephony). Nothing here
// allocates after New; none of it is safe for concurrent use.
package rfc4733

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// PayloadLen is the size of one telephone-event payload.
const PayloadLen = 4

// ErrShort is returned for a payload shorter than PayloadLen.
var ErrShort = errors.New("rfc4733: payload shorter than 4 bytes")

// Payload is one telephone-event payload (RFC 4733 section 2.3).
type Payload struct {
	Event    uint8  // 0-9, 10 = *, 11 = #, 12-15 = A-D, others are not digits
	End      bool   // E bit: the event has ended
	Volume   uint8  // power level, -dBm0 (0..63)
	Duration uint16 // in timestamp units since the event's timestamp
}

// Unmarshal decodes b into p; bytes after the first event are ignored (a
// redundant block).
func (p *Payload) Unmarshal(b []byte) error {
	if len(b) < PayloadLen {
		return ErrShort
	}
	p.Event = b[0]
	p.End = b[1]&0x80 != 0
	p.Volume = b[1] & 0x3f
	p.Duration = binary.BigEndian.Uint16(b[2:])
	return nil
}

// MarshalTo writes p into b and returns PayloadLen.
func (p Payload) MarshalTo(b []byte) (int, error) {
	if len(b) < PayloadLen {
		return 0, fmt.Errorf("rfc4733: buffer of %d bytes: %w", len(b), ErrShort)
	}
	b[0] = p.Event
	b[1] = p.Volume & 0x3f
	if p.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], p.Duration)
	return PayloadLen, nil
}

const digits = "0123456789*#ABCD"

// Code returns the event code of a DTMF digit (0-9, *, #, A-D, a-d).
func Code(digit byte) (uint8, bool) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for i := range len(digits) {
		if digits[i] == digit {
			return uint8(i), true
		}
	}
	return 0, false
}

// Digit returns the digit of an event code; ok is false for non-DTMF events
// (such as 16, hook flash).
func Digit(code uint8) (byte, bool) {
	if int(code) < len(digits) {
		return digits[code], true
	}
	return 0, false
}

// Kind says whether an Event starts or ends a digit.
type Kind uint8

// Event kinds.
const (
	Start Kind = iota + 1
	End
)

// Event is a digit's start or end seen by a Receiver.
type Event struct {
	Kind  Kind
	Digit byte
	// TS is the event's RTP timestamp (where the digit began).
	TS uint32
	// Duration is the digit's length so far, in timestamp units (final in
	// End events).
	Duration uint32
	// Lost is set on an End that no end packet reported (timeout or a new
	// event began first).
	Lost bool
}
