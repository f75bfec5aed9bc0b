package media

// Wrapper is an Endpoint around another one: a SIP leg's endpoint whose RTP
// stream arrives after the leg joined the engine, an analog port with DTMF
// relaying. Unwrap returns the wrapped endpoint, or nil while there is none.
//
// A wrapper implements only what it does itself; As reaches the wrapped
// endpoint's optional interfaces (Independent, AheadReader, PacketWriter,
// DigitReader, DigitWriter and any a caller defines) through Unwrap, the way
// net/http's ResponseController reaches a ResponseWriter's, so a new
// capability needs no new forwarding method in every wrapper. Two duties
// come with it: a wrapper's own ReadFrame and WriteFrame touch only its own
// state (Independent passes through), and a wrapper whose ReadFrame changes
// the audio implements AheadReader itself to withhold the wrapped one,
// which would let frames bypass it.
type Wrapper interface {
	Endpoint
	Unwrap() Endpoint
}

// maxUnwrap bounds the chain As follows, against a wrapper that wraps
// itself.
const maxUnwrap = 16

// As returns the first endpoint of ep's Unwrap chain (ep itself first)
// that implements T, as a T. It does not allocate, but it walks the chain:
// look capabilities up once per leg (and again when a wrapper's endpoint
// changes, see Engine.Refresh), not per frame.
func As[T any](ep Endpoint) (T, bool) {
	for range maxUnwrap {
		if ep == nil {
			break
		}
		if t, ok := ep.(T); ok {
			return t, true
		}
		w, ok := ep.(Wrapper)
		if !ok {
			break
		}
		ep = w.Unwrap()
	}
	var zero T
	return zero, false
}
