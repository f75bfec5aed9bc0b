package callerid

import (
	"fmt"
	"strings"
	"time"

	"callbox/dsp/dtmf"
)

// DTMFConfig is how DTMF caller ID is framed and timed.
type DTMFConfig struct {
	// Start is the symbol before the number: 'A' (most of Europe, India,
	// Brazil) or 'D' (Taiwan, Kuwait).
	Start byte
	// End is the symbol after it: 'C' or '#'.
	End byte
	// On and Off are the tone and pause of each digit.
	On, Off time.Duration
	// LevelDBm0 is the level of each of the two tones.
	LevelDBm0 float64
}

// DefaultDTMF is the usual A...C framing at 70 ms tone and 70 ms pause.
var DefaultDTMF = DTMFConfig{Start: 'A', End: 'C', On: 70 * ms, Off: 70 * ms, LevelDBm0: -7}

// Absence reasons in DTMF caller ID: with a '#' end, D1# means withheld and
// D3# (or D2#, international) not available; with a 'C' end the special
// information field B10 means withheld and B00 not available.
const (
	dtmfHashPrivate     = "D1"
	dtmfHashUnavailable = "D3"
	dtmfCPrivate        = "B10"
	dtmfCUnavailable    = "B00"
)

// EncodeDTMF returns the DTMF symbols that present m: start symbol, number,
// end symbol; an absence reason replaces start and number. Only the number
// or its absence reason can be sent this way.
func EncodeDTMF(m Message, start, end byte) (string, error) {
	if start != 'A' && start != 'D' {
		return "", invalid("dtmf start symbol %q is not A or D", start)
	}
	if end != 'C' && end != '#' {
		return "", invalid("dtmf end symbol %q is not C or #", end)
	}
	if m.Time != "" || m.Name != "" || m.NameReason != NoReason {
		return "", invalid("dtmf caller id carries only the number")
	}
	switch {
	case m.Number != "" && m.NumberReason != NoReason:
		return "", invalid("number and number absence reason both set")
	case m.NumberReason == Private && end == '#':
		return dtmfHashPrivate + "#", nil
	case m.NumberReason == Unavailable && end == '#':
		return dtmfHashUnavailable + "#", nil
	case m.NumberReason == Private:
		return dtmfCPrivate + "C", nil
	case m.NumberReason == Unavailable:
		return dtmfCUnavailable + "C", nil
	case m.NumberReason != NoReason:
		return "", invalid("unknown absence reason")
	case m.Number == "":
		return "", invalid("dtmf caller id without a number")
	case len(m.Number) > MaxNumber:
		return "", invalid("number longer than %d", MaxNumber)
	}
	for i := 0; i < len(m.Number); i++ {
		if c := m.Number[i]; c < '0' || c > '9' {
			return "", invalid("dtmf number %q has character %q", m.Number, c)
		}
	}
	if start == 'D' && end == '#' && len(m.Number) == 1 && m.Number[0] >= '1' && m.Number[0] <= '3' {
		return "", invalid("number %q after D reads as an absence reason", m.Number)
	}
	return string(start) + m.Number + string(end), nil
}

// ParseDTMF decodes a DTMF caller ID string and returns the message with its
// start and end symbols. It is strict: what it accepts EncodeDTMF gives back
// unchanged (D2#, the international variant of "not available", is the one
// exception and reads as D3#).
func ParseDTMF(s string) (m Message, start, end byte, err error) {
	if len(s) < 3 {
		return m, 0, 0, invalid("dtmf caller id %q too short", s)
	}
	start, end = s[0], s[len(s)-1]
	body := s[1 : len(s)-1]
	switch {
	case end != 'C' && end != '#':
		return m, 0, 0, invalid("dtmf caller id %q does not end in C or #", s)
	case s == dtmfHashPrivate+"#" || s == dtmfCPrivate+"C":
		m.NumberReason = Private
		return m, 'D', end, nil
	case s == dtmfHashUnavailable+"#" || s == "D2#" || s == dtmfCUnavailable+"C":
		m.NumberReason = Unavailable
		return m, 'D', end, nil
	case start != 'A' && start != 'D':
		return m, 0, 0, invalid("dtmf caller id %q does not start with A or D", s)
	case len(body) > MaxNumber:
		return m, 0, 0, invalid("dtmf number longer than %d", MaxNumber)
	case strings.Trim(body, "0123456789") != "":
		return m, 0, 0, invalid("dtmf caller id %q has symbols other than digits", s)
	}
	m.Number = body
	if _, err := EncodeDTMF(m, start, end); err != nil {
		return Message{}, 0, 0, err
	}
	return m, start, end, nil
}

// String is the configuration as a short description.
func (c DTMFConfig) String() string {
	return fmt.Sprintf("%c...%c %v/%v %.1f dBm0", c.Start, c.End, c.On, c.Off, c.LevelDBm0)
}

// AppendDTMF encodes m as DTMF caller ID framed and timed by cfg and appends
// its audio, the pause after the last digit included, to dst.
func AppendDTMF(dst []int16, m Message, cfg DTMFConfig) ([]int16, error) {
	s, err := EncodeDTMF(m, cfg.Start, cfg.End)
	if err != nil {
		return dst, err
	}
	x, err := dtmfSynth(s, cfg)
	if err != nil {
		return dst, err
	}
	return append(dst, x...), nil
}

func dtmfSynth(s string, cfg DTMFConfig) ([]int16, error) {
	x, err := dtmf.Synthesize(s, dtmf.GeneratorConfig{Level: cfg.LevelDBm0, On: cfg.On, Off: cfg.Off})
	if err != nil {
		return nil, fmt.Errorf("callerid: %w", err)
	}
	return x, nil
}

// maxDTMF bounds a DTMF caller ID string: start, number, end.
const maxDTMF = MaxNumber + 2

// dtmfGap is the longest pause between two digits of one message: the
// digits come every 100 to 200 ms, so a second's silence ends a message.
const dtmfGap = 8000

// DTMFReceiver finds DTMF caller ID strings (A, B or D, digits, C or #) in
// audio, using the DTMF detector of package dtmf.
type DTMFReceiver struct {
	det    *dtmf.Detector
	events []dtmf.Event
	buf    [maxDTMF]byte
	n      int
	start  int64 // first digit of the string being collected
	last   int64 // end of the last digit
	// done is a ring of strings waiting for Poll; when it is full the
	// oldest is dropped, so an unpolled receiver stays bounded.
	done  [8]dtmfMessage
	head  int
	count int
}

type dtmfMessage struct {
	digits [maxDTMF]byte
	n      int
	start  int64
}

// NewDTMFReceiver returns a receiver in its initial state.
func NewDTMFReceiver() *DTMFReceiver {
	return &DTMFReceiver{
		det:    dtmf.NewDetector(dtmf.DetectorConfig{}),
		events: make([]dtmf.Event, 0, 64),
	}
}

// Reset returns the receiver to its initial state, dropping queued strings.
func (r *DTMFReceiver) Reset() {
	r.det.Reset()
	r.n, r.head, r.count = 0, 0, 0
}

// Process analyses x. Completed strings are queued for Poll; results do not
// depend on how the audio is cut into blocks.
func (r *DTMFReceiver) Process(x []int16) {
	r.events = r.det.Process(x, r.events[:0])
	r.collect()
}

// Flush ends the audio: a digit still sounding is taken as finished.
func (r *DTMFReceiver) Flush() {
	r.events = r.det.Flush(r.events[:0])
	r.collect()
}

func (r *DTMFReceiver) collect() {
	for _, e := range r.events {
		if e.Kind != dtmf.DigitEnd {
			continue
		}
		c := e.Digit
		if r.n > 0 && e.Start-r.last > dtmfGap {
			r.n = 0 // too slow to belong to the same string
		}
		r.last = e.End
		switch {
		case r.n == 0 && (c == 'A' || c == 'B' || c == 'D'):
			r.buf[0], r.n, r.start = c, 1, e.Start
		case r.n == 0:
			// Digits outside a string are someone dialling, not caller ID.
		case r.n == len(r.buf):
			r.n = 0
		default:
			r.buf[r.n] = c
			r.n++
			if c == 'C' || c == '#' {
				if r.count == len(r.done) {
					r.head, r.count = (r.head+1)%len(r.done), r.count-1
				}
				m := &r.done[(r.head+r.count)%len(r.done)]
				m.n = copy(m.digits[:], r.buf[:r.n])
				m.start = r.start
				r.count++
				r.n = 0
			}
		}
	}
}

// Poll returns the next string received, from its start symbol to its end
// symbol, and the sample where its first tone began; ok is false when none
// is waiting. The string is parsed with ParseDTMF.
func (r *DTMFReceiver) Poll() (digits string, start int64, ok bool) {
	if r.count == 0 {
		return "", 0, false
	}
	m := &r.done[r.head]
	r.head, r.count = (r.head+1)%len(r.done), r.count-1
	return string(m.digits[:m.n]), m.start, true
}

// DecodeDTMF returns every DTMF caller ID message in x with the sample where
// each began; strings that do not parse are returned as errors.
func DecodeDTMF(x []int16) (msgs []Message, starts []int64, errs []error) {
	r := NewDTMFReceiver()
	r.Process(x)
	r.Flush()
	for {
		s, start, ok := r.Poll()
		if !ok {
			return msgs, starts, errs
		}
		m, _, _, err := ParseDTMF(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		msgs, starts = append(msgs, m), append(starts, start)
	}
}
