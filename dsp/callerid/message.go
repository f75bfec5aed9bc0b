// Package callerid generates and receives analog caller ID: the SDMF and MDMF
// messages of Bellcore GR-30 and ETSI EN 300 659, sent as 1200 baud FSK (Bell
// 202 or V.23, see package fsk) or as a DTMF digit string, together with the
// timing presets the line code uses to place them around the first ring.
//
// Everything here works on 8 kHz linear int16 audio, in fixed point, and the
// streaming Transmitter, Receiver and DTMFReceiver allocate nothing per block
// and give the same results however the audio is cut into blocks.
//
// Parse is strict (what it accepts re-encodes to the same bytes); receivers
// report with ParseLoose, which accepts what exchanges send. The FSK
// receivers of the two modems each decode the other's tones too, as caller ID
// chips do. The tests check both directions against an independent
// implementation, Debian's libspandsp (testdata/spandsp_cid.c, built by the
// tests with cc), as well as noise from sox and recorded speech.
package callerid

import (
	"errors"
	"fmt"
)

// Format is the message type byte of an FSK caller ID message.
type Format byte

const (
	// SDMF is the Single Data Message Format (type 0x04): date and time
	// followed by the number (or an absence reason), nothing else.
	SDMF Format = 0x04
	// MDMF is the Multiple Data Message Format (type 0x80): a list of
	// parameters, each with a type and a length.
	MDMF Format = 0x80
	// SDMFMWI is GR-30's single-format message waiting (type 0x06): the
	// indicator on or off, nothing else (see Message.Waiting).
	SDMFMWI Format = 0x06
	// MDMFMWI is the message waiting indicator of GR-30 and EN 300 659-3
	// (type 0x82): the visual indicator, optionally the date and time and
	// the number of messages.
	MDMFMWI Format = 0x82
)

// String names the format as the command line spells it.
func (f Format) String() string {
	switch f {
	case SDMF:
		return "sdmf"
	case MDMF:
		return "mdmf"
	case SDMFMWI:
		return "sdmf-mwi"
	case MDMFMWI:
		return "mdmf-mwi"
	}
	return fmt.Sprintf("format(%#02x)", byte(f))
}

// Reason says why a number or name is absent. The zero value means no reason
// is given (the field is either present or simply not sent).
type Reason byte

const (
	// NoReason means the field is not withheld.
	NoReason Reason = 0
	// Private means the caller withheld the field ("P").
	Private Reason = 'P'
	// Unavailable means the network does not know the field ("O", out of area).
	Unavailable Reason = 'O'
)

// String spells the reason as the analyzer prints it.
func (r Reason) String() string {
	switch r {
	case NoReason:
		return ""
	case Private:
		return "private"
	case Unavailable:
		return "unavailable"
	}
	return fmt.Sprintf("reason(%q)", byte(r))
}

// MDMF parameter types (GR-30 and EN 300 659-3).
const (
	paramDateTime     = 0x01
	paramNumber       = 0x02
	paramNumberReason = 0x04
	paramName         = 0x07
	paramNameReason   = 0x08
)

// Limits on field lengths. GR-30 allows 15 name characters; ETSI allows 20
// number digits and 50 name characters, so the larger figures are used.
const (
	MaxNumber = 20
	MaxName   = 50
	// MaxEncoded bounds an encoded message (type, length, body, checksum).
	MaxEncoded = 3 + 10 + 2 + MaxNumber + 3 + 2 + MaxName + 3
)

// Message is one caller ID message. Time is "MMDDHHMM" or empty. A number
// and its absence reason exclude each other, as do a name and its reason.
// A message waiting message (SDMFMWI, MDMFMWI) carries Waiting, and
// MDMFMWI may carry Time and Messages; the other fields stay empty.
type Message struct {
	Format       Format
	Time         string
	Number       string
	NumberReason Reason
	Name         string
	NameReason   Reason
	// Waiting is the visual message waiting indicator: IndicatorOn or
	// IndicatorOff (message waiting messages only).
	Waiting Indicator
	// Messages is the number of messages waiting, 1 to 255 (MDMFMWI only;
	// 0: not sent).
	Messages int
}

// Errors a caller may branch on.
var (
	// ErrChecksum means the message bytes do not sum to zero.
	ErrChecksum = errors.New("callerid: checksum mismatch")
	// ErrInvalid means the message breaks the format's rules.
	ErrInvalid = errors.New("callerid: invalid message")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Validate checks the message can be encoded: field lengths, characters,
// and the fields its format can carry.
func (m *Message) Validate() error {
	if m.Time != "" && !validTime(m.Time) {
		return invalid("time %q is not MMDDHHMM", m.Time)
	}
	if len(m.Number) > MaxNumber {
		return invalid("number longer than %d", MaxNumber)
	}
	for i := 0; i < len(m.Number); i++ {
		if !numberChar(m.Number[i]) {
			return invalid("number %q has character %q", m.Number, m.Number[i])
		}
	}
	if len(m.Name) > MaxName {
		return invalid("name longer than %d", MaxName)
	}
	for i := 0; i < len(m.Name); i++ {
		if !nameChar(m.Name[i]) {
			return invalid("name %q has character %q", m.Name, m.Name[i])
		}
	}
	if !validReason(m.NumberReason) || !validReason(m.NameReason) {
		return invalid("unknown absence reason")
	}
	if m.Number != "" && m.NumberReason != NoReason {
		return invalid("number and number absence reason both set")
	}
	if m.Name != "" && m.NameReason != NoReason {
		return invalid("name and name absence reason both set")
	}
	if m.Format == SDMFMWI || m.Format == MDMFMWI {
		return m.validateMWI()
	}
	if m.Waiting != 0 || m.Messages != 0 {
		return invalid("message waiting fields in a %v message", m.Format)
	}
	switch m.Format {
	case SDMF:
		// SDMF has a fixed layout: time, then number or a one-letter reason.
		if m.Time == "" {
			return invalid("sdmf needs the date and time")
		}
		if m.Name != "" || m.NameReason != NoReason {
			return invalid("sdmf cannot carry a name")
		}
		if m.Number == "" && m.NumberReason == NoReason {
			return invalid("sdmf needs a number or an absence reason")
		}
	case MDMF:
		if m.Time == "" && m.Number == "" && m.NumberReason == NoReason && m.Name == "" && m.NameReason == NoReason {
			return invalid("mdmf without parameters")
		}
	default:
		return invalid("unknown format %#02x", byte(m.Format))
	}
	return nil
}

// AppendBinary appends the encoded message (type, length, body, checksum) to
// b. It allocates only if b lacks capacity (MaxEncoded is always enough).
func (m *Message) AppendBinary(b []byte) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return b, err
	}
	start := len(b)
	b = append(b, byte(m.Format), 0)
	switch m.Format {
	case SDMF:
		b = append(b, m.Time...)
		if m.NumberReason != NoReason {
			b = append(b, byte(m.NumberReason))
		} else {
			b = append(b, m.Number...)
		}
	case SDMFMWI, MDMFMWI:
		b = m.appendMWI(b)
	case MDMF:
		// Parameters go in ascending type order, the order Parse demands,
		// so that every message has exactly one encoding.
		b = appendParam(b, paramDateTime, m.Time)
		b = appendParam(b, paramNumber, m.Number)
		if m.NumberReason != NoReason {
			b = append(b, paramNumberReason, 1, byte(m.NumberReason))
		}
		b = appendParam(b, paramName, m.Name)
		if m.NameReason != NoReason {
			b = append(b, paramNameReason, 1, byte(m.NameReason))
		}
	}
	b[start+1] = byte(len(b) - start - 2)
	return append(b, Checksum(b[start:])), nil
}

func appendParam(b []byte, typ byte, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, typ, byte(len(v)))
	return append(b, v...)
}

// Checksum returns the byte that makes the sum of b and itself zero modulo
// 256: the two's complement of the byte sum.
func Checksum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return -s
}

// Parse decodes one complete message: type, length, body and checksum, with
// nothing after it. It is strict: any message it accepts re-encodes by
// AppendBinary to the same bytes, so unknown or repeated parameters, out of
// order parameters and bad characters are rejected.
func Parse(b []byte) (Message, error) {
	var m Message
	if len(b) < 3 {
		return m, invalid("%d bytes is too short", len(b))
	}
	if int(b[1]) != len(b)-3 {
		return m, invalid("length byte %d but %d body bytes", b[1], len(b)-3)
	}
	if Checksum(b[:len(b)-1]) != b[len(b)-1] {
		return m, ErrChecksum
	}
	body := b[2 : len(b)-1]
	m.Format = Format(b[0])
	switch m.Format {
	case SDMFMWI, MDMFMWI:
		var err error
		if m, err = parseMWI(m.Format, body, true); err != nil {
			return Message{}, err
		}
	case SDMF:
		if len(body) < 9 {
			return m, invalid("sdmf body of %d bytes", len(body))
		}
		m.Time = string(body[:8])
		rest := body[8:]
		if len(rest) == 1 && (rest[0] == byte(Private) || rest[0] == byte(Unavailable)) {
			m.NumberReason = Reason(rest[0])
		} else {
			m.Number = string(rest)
		}
	case MDMF:
		last := 0
		for len(body) > 0 {
			if len(body) < 2 || int(body[1]) > len(body)-2 {
				return m, invalid("mdmf parameter overruns the message")
			}
			typ, v := int(body[0]), body[2:2+int(body[1])]
			body = body[2+len(v):]
			if typ <= last {
				return m, invalid("mdmf parameter %#02x out of order or repeated", typ)
			}
			last = typ
			if len(v) == 0 {
				return m, invalid("mdmf parameter %#02x is empty", typ)
			}
			switch typ {
			case paramDateTime:
				m.Time = string(v)
			case paramNumber:
				m.Number = string(v)
			case paramName:
				m.Name = string(v)
			case paramNumberReason, paramNameReason:
				if len(v) != 1 {
					return m, invalid("mdmf absence reason of %d bytes", len(v))
				}
				if typ == paramNumberReason {
					m.NumberReason = Reason(v[0])
				} else {
					m.NameReason = Reason(v[0])
				}
				if v[0] == 0 {
					return m, invalid("mdmf absence reason 0")
				}
			default:
				return m, invalid("mdmf parameter type %#02x not supported", typ)
			}
		}
	default:
		return m, invalid("message type %#02x not supported", b[0])
	}
	if err := m.Validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

func validReason(r Reason) bool {
	return r == NoReason || r == Private || r == Unavailable
}

// validTime accepts MMDDHHMM with plausible ranges.
func validTime(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := 0; i < 8; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	n := func(i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }
	return n(0) >= 1 && n(0) <= 12 && n(2) >= 1 && n(2) <= 31 && n(4) <= 23 && n(6) <= 59
}

func numberChar(c byte) bool {
	return c >= '0' && c <= '9' || c == '*' || c == '#' || c == '+'
}

func nameChar(c byte) bool { return c >= 0x20 && c <= 0x7e }

// ParseLoose decodes a message as exchanges send it rather than as Parse
// demands: MDMF parameters in any order, unknown ones (call type, called
// number, ...) skipped, a repeated one overriding, characters outside
// printable ASCII shown as '?'. Length and checksum are still checked. For
// every message Parse accepts, ParseLoose returns the same.
func ParseLoose(b []byte) (Message, error) {
	var m Message
	if len(b) < 3 {
		return m, invalid("%d bytes is too short", len(b))
	}
	if int(b[1]) != len(b)-3 {
		return m, invalid("length byte %d but %d body bytes", b[1], len(b)-3)
	}
	if Checksum(b[:len(b)-1]) != b[len(b)-1] {
		return m, ErrChecksum
	}
	body := b[2 : len(b)-1]
	m.Format = Format(b[0])
	switch m.Format {
	case SDMFMWI, MDMFMWI:
		return parseMWI(m.Format, body, false)
	case SDMF:
		if len(body) < 8 {
			return m, invalid("sdmf body of %d bytes", len(body))
		}
		m.Time, body = printable(body[:8]), body[8:]
		if len(body) == 1 && (body[0] == byte(Private) || body[0] == byte(Unavailable)) {
			m.NumberReason = Reason(body[0])
		} else {
			m.Number = printable(body)
		}
	case MDMF:
		for len(body) >= 2 && int(body[1]) <= len(body)-2 {
			typ, v := body[0], body[2:2+int(body[1])]
			body = body[2+len(v):]
			switch typ {
			case paramDateTime:
				m.Time = printable(v)
			case paramNumber:
				m.Number = printable(v)
			case paramName:
				m.Name = printable(v)
			case paramNumberReason:
				m.NumberReason = looseReason(v)
			case paramNameReason:
				m.NameReason = looseReason(v)
			}
		}
		if len(body) != 0 {
			return m, invalid("mdmf parameter overruns the message")
		}
	default:
		return m, invalid("message type %#02x not supported", b[0])
	}
	return m, nil
}

// looseReason reads an absence reason, ignoring ones it does not know.
func looseReason(v []byte) Reason {
	if len(v) == 1 && (v[0] == byte(Private) || v[0] == byte(Unavailable)) {
		return Reason(v[0])
	}
	return NoReason
}

func printable(v []byte) string {
	b := []byte(string(v))
	for i, c := range b {
		if !nameChar(c) {
			b[i] = '?'
		}
	}
	return string(b)
}
