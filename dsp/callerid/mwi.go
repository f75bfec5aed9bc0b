package callerid

// Indicator is the state a message waiting message sets the phone's lamp
// (or display icon) to.
type Indicator uint8

// Indicator states.
const (
	IndicatorOn  Indicator = 1
	IndicatorOff Indicator = 2
)

// String names the indicator.
func (i Indicator) String() string {
	switch i {
	case IndicatorOn:
		return "on"
	case IndicatorOff:
		return "off"
	}
	return ""
}

// Message waiting encodings: GR-30's SDMF repeats one byte three times
// (0x42 on, 0x6F off); the MDMF form (GR-30 and EN 300 659-3) has the
// visual indicator parameter (0x0B: 0xFF on, 0x00 off) and, in the ETSI
// form, the number of messages (0x13).
const (
	sdmfMWIOn  = 0x42
	sdmfMWIOff = 0x6f

	paramIndicator = 0x0b
	paramMessages  = 0x13

	indicatorOn  = 0xff
	indicatorOff = 0x00
)

func (m *Message) validateMWI() error {
	switch {
	case m.Waiting != IndicatorOn && m.Waiting != IndicatorOff:
		return invalid("message waiting needs the indicator on or off")
	case m.Number != "" || m.NumberReason != NoReason || m.Name != "" || m.NameReason != NoReason:
		return invalid("message waiting carries no number or name")
	case m.Messages < 0 || m.Messages > 255:
		return invalid("%d messages: at most 255", m.Messages)
	case m.Format == SDMFMWI && (m.Time != "" || m.Messages != 0):
		return invalid("sdmf message waiting carries the indicator alone")
	}
	return nil
}

// appendMWI appends a valid message waiting message's body.
func (m *Message) appendMWI(b []byte) []byte {
	if m.Format == SDMFMWI {
		v := byte(sdmfMWIOn)
		if m.Waiting == IndicatorOff {
			v = sdmfMWIOff
		}
		return append(b, v, v, v)
	}
	b = appendParam(b, paramDateTime, m.Time)
	v := byte(indicatorOn)
	if m.Waiting == IndicatorOff {
		v = indicatorOff
	}
	b = append(b, paramIndicator, 1, v)
	if m.Messages > 0 {
		b = append(b, paramMessages, 1, byte(m.Messages))
	}
	return b
}

// parseMWI decodes a message waiting body. Strictly: only what appendMWI
// writes. Loosely: SDMF by the majority of its bytes, MDMF parameters in
// any order with unknown ones skipped, any non-zero indicator as on (some
// exchanges send 0x01); the indicator must be there.
func parseMWI(f Format, body []byte, strict bool) (Message, error) {
	m := Message{Format: f}
	if f == SDMFMWI {
		on, off := 0, 0
		for _, c := range body {
			switch c {
			case sdmfMWIOn:
				on++
			case sdmfMWIOff:
				off++
			}
		}
		switch {
		case strict && (len(body) != 3 || on != 3 && off != 3):
			return m, invalid("sdmf message waiting body %x", body)
		case on >= 2:
			m.Waiting = IndicatorOn
		case off >= 2:
			m.Waiting = IndicatorOff
		default:
			return m, invalid("sdmf message waiting body %x", body)
		}
		return m, nil
	}
	last := 0
	for len(body) > 0 {
		if len(body) < 2 || int(body[1]) > len(body)-2 {
			return m, invalid("mdmf parameter overruns the message")
		}
		typ, v := int(body[0]), body[2:2+int(body[1])]
		body = body[2+len(v):]
		if strict {
			if typ <= last {
				return m, invalid("mdmf parameter %#02x out of order or repeated", typ)
			}
			last = typ
		}
		switch {
		case typ == paramDateTime && (!strict || validTime(string(v))):
			m.Time = printable(v)
		case typ == paramIndicator && len(v) == 1:
			switch {
			case v[0] == indicatorOff:
				m.Waiting = IndicatorOff
			case v[0] == indicatorOn || !strict:
				m.Waiting = IndicatorOn
			default:
				return m, invalid("visual indicator %#02x", v[0])
			}
		case typ == paramMessages && len(v) == 1 && (v[0] > 0 || !strict):
			m.Messages = int(v[0])
		case strict:
			return m, invalid("mdmf message waiting parameter %#02x", typ)
		}
	}
	if m.Waiting == 0 {
		return m, invalid("message waiting without the visual indicator")
	}
	return m, nil
}
