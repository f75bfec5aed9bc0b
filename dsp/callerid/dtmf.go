package callerid

import (
	"fmt"
	"strings"
	"time"
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
