package rfc4733

// DefaultTimeout ends a digit whose end packets all went missing: RFC 4733
// senders update at least every 50 ms or so, so 250 ms without a packet
// means the end was lost.
const DefaultTimeout = 2000 // timestamp units: 250 ms at 8 kHz

// Receiver turns received telephone-event packets into digit events.
type Receiver struct {
	active  bool   // an event is known
	ended   bool   // and its end has been reported
	ts      uint32 // its timestamp
	digit   byte
	dur     uint32
	idle    uint32 // timestamp units since its last packet
	timeout uint32
}

// NewReceiver returns a receiver that ends a digit after timeout timestamp
// units without packets (0 means DefaultTimeout).
func NewReceiver(timeout uint32) *Receiver {
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return &Receiver{timeout: timeout}
}

// Active reports whether a digit is in progress (started and not ended).
func (r *Receiver) Active() bool { return r.active && !r.ended }

// Packet handles one telephone-event packet with its RTP timestamp and
// appends any resulting events to events. Retransmissions, updates of an
// ended event, packets older than the current event and non-DTMF events
// produce nothing. A malformed payload is returned as an error.
func (r *Receiver) Packet(ts uint32, payload []byte, events []Event) ([]Event, error) {
	var p Payload
	if err := p.Unmarshal(payload); err != nil {
		return events, err
	}
	d, ok := Digit(p.Event)
	if !ok {
		return events, nil
	}
	if r.active {
		switch diff := int32(ts - r.ts); {
		case diff < 0:
			return events, nil // a late packet of an earlier event
		case diff == 0:
			if r.ended || d != r.digit {
				return events, nil
			}
			r.idle = 0
			r.dur = max(r.dur, uint32(p.Duration))
			if p.End {
				r.ended = true
				events = append(events, Event{Kind: End, Digit: d, TS: ts, Duration: r.dur})
			}
			return events, nil
		}
		if !r.ended {
			events = append(events, Event{Kind: End, Digit: r.digit, TS: r.ts, Duration: r.dur, Lost: true})
		}
	}
	r.active, r.ended = true, false
	r.ts, r.digit, r.dur, r.idle = ts, d, uint32(p.Duration), 0
	events = append(events, Event{Kind: Start, Digit: d, TS: ts, Duration: r.dur})
	if p.End {
		r.ended = true
		events = append(events, Event{Kind: End, Digit: d, TS: ts, Duration: r.dur})
	}
	return events, nil
}

// Advance tells the receiver that elapsed timestamp units went by, and ends
// a digit whose packets stopped for longer than the timeout.
func (r *Receiver) Advance(elapsed uint32, events []Event) []Event {
	if !r.active || r.ended {
		return events
	}
	r.idle += elapsed
	if r.idle > r.timeout {
		r.ended = true
		events = append(events, Event{Kind: End, Digit: r.digit, TS: r.ts, Duration: r.dur, Lost: true})
	}
	return events
}
