package sms

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Coding is the alphabet of a message's user data (the TP-DCS's).
type Coding int

// Codings.
const (
	GSM7  Coding = iota // the GSM 03.38 default alphabet, 7 bits a character
	Data8               // 8-bit data
	UCS2                // UTF-16 big-endian (Chinese and everything GSM 7-bit lacks)
)

func (c Coding) String() string {
	switch c {
	case GSM7:
		return "gsm7"
	case Data8:
		return "8bit"
	case UCS2:
		return "ucs2"
	}
	return fmt.Sprintf("coding(%d)", int(c))
}

// Kind is a TPDU's message type (TP-MTI, read in the direction it travels).
type Kind int

// Kinds.
const (
	Deliver      Kind = iota // SMS-DELIVER: a message received
	Submit                   // SMS-SUBMIT: a message sent
	StatusReport             // SMS-STATUS-REPORT: a delivery report
)

func (k Kind) String() string {
	return [...]string{"deliver", "submit", "status-report"}[k]
}

// Limits of one message part's user data.
const (
	single7   = 160 // septets, no header
	concat7   = 153 // septets after the 6-octet concatenation header
	singleU   = 70  // UTF-16 code units, no header
	concatU   = 67  // UTF-16 code units after the header
	MaxParts  = 255 // the concatenation header's count is one octet
	udhConcat = 0x00
	udhConc16 = 0x08
)

// ErrTooLong is returned for a text that needs more than MaxParts parts.
var ErrTooLong = errors.New("sms: message too long")

// errPDU wraps every decoding failure.
var errPDU = errors.New("sms: malformed pdu")

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errPDU, fmt.Sprintf(format, args...))
}

// Concat is a part's place in a concatenated message (the UDH's
// information element 0x00 or 0x08).
type Concat struct {
	Ref   uint16 // the sender's reference, the same in every part
	Total int    // parts in the message, 1-255
	Seq   int    // this part, 1..Total
}

// Message is a decoded TPDU.
type Message struct {
	Kind Kind
	// SMSC is the service centre address in front of the TPDU ("" when
	// the PDU leaves it to the SIM).
	SMSC string
	// Number is the originator (deliver), destination (submit) or
	// recipient (status report), with a leading + when international.
	Number string
	Coding Coding
	Text   string
	// Concat is set for a part of a concatenated message.
	Concat *Concat
	// Time is the service centre's time stamp (deliver, status report).
	Time time.Time
	// Ref is the message reference (submit, status report).
	Ref int
	// ReportRequested is set on a submit that asks for a status report.
	ReportRequested bool
	// Discharged and Status come from a status report: when the message
	// reached the recipient (or failed) and TP-ST (0x00 delivered,
	// 0x20-0x3F still trying, 0x40 and up failed).
	Discharged time.Time
	Status     int
}

// Delivered reports whether a status report says the message arrived.
func (m *Message) Delivered() bool { return m.Kind == StatusReport && m.Status < 0x20 }

// Failed reports whether a status report says the service centre gave up.
func (m *Message) Failed() bool { return m.Kind == StatusReport && m.Status >= 0x40 }

// PDU is one part ready for AT+CMGS: the hex string (with a "00" service
// centre field, so the SIM's is used) and the TPDU's length in octets,
// which the command takes.
type PDU struct {
	Hex     string
	TPDULen int
}

// Options shape an outgoing message.
type Options struct {
	// Ref is the concatenation reference shared by the parts of a long
	// message; the outbox gives each message its own.
	Ref uint8
	// StatusReport asks the service centre for a delivery report.
	StatusReport bool
	// Validity is how long the service centre keeps trying (relative
	// format, 5 minutes to 63 weeks); zero means 24 hours.
	Validity time.Duration
}

// Split cuts text into the parts it is sent as, each within one PDU's
// user data: GSM 7-bit if every character has a septet, UCS-2 otherwise.
// An escape pair or a surrogate pair is never cut.
func Split(text string) (Coding, []string, error) {
	if !utf8.ValidString(text) {
		return 0, nil, errors.New("sms: text is not valid UTF-8")
	}
	coding, cost := UCS2, func(r rune) int { return len(utf16.AppendRune(nil, r)) }
	single, multi := singleU, concatU
	if IsGSM7(text) {
		coding, cost = GSM7, func(r rune) int { return len(gsmSeptets(r)) }
		single, multi = single7, concat7
	}
	total := 0
	for _, r := range text {
		total += cost(r)
	}
	if total <= single {
		return coding, []string{text}, nil
	}
	var parts []string
	start, used := 0, 0
	for i, r := range text {
		c := cost(r)
		if used+c > multi {
			parts = append(parts, text[start:i])
			start, used = i, 0
		}
		used += c
	}
	parts = append(parts, text[start:])
	if len(parts) > MaxParts {
		return 0, nil, fmt.Errorf("%w: %d parts, at most %d", ErrTooLong, len(parts), MaxParts)
	}
	return coding, parts, nil
}

// Encode builds the SMS-SUBMIT PDUs that send text to number, one per
// part (see Split). number is digits with an optional leading + for the
// international format.
func Encode(number, text string, opt Options) ([]PDU, error) {
	addr, err := encodeAddress(number)
	if err != nil {
		return nil, err
	}
	coding, parts, err := Split(text)
	if err != nil {
		return nil, err
	}
	out := make([]PDU, 0, len(parts))
	for i, part := range parts {
		var c *Concat
		if len(parts) > 1 {
			c = &Concat{Ref: uint16(opt.Ref), Total: len(parts), Seq: i + 1}
		}
		tpdu := encodeSubmit(addr, coding, part, c, opt)
		out = append(out, PDU{Hex: strings.ToUpper("00" + hex.EncodeToString(tpdu)), TPDULen: len(tpdu)})
	}
	return out, nil
}

func encodeSubmit(addr []byte, coding Coding, text string, c *Concat, opt Options) []byte {
	first := byte(0x01 | 0x10) // SMS-SUBMIT, relative validity period
	if opt.StatusReport {
		first |= 0x20
	}
	var udh []byte
	if c != nil {
		first |= 0x40
		udh = []byte{5, udhConcat, 3, byte(c.Ref), byte(c.Total), byte(c.Seq)}
	}
	b := []byte{first, 0x00} // TP-MR 0: the modem assigns the reference
	b = append(b, addr...)
	dcs := byte(0x00)
	if coding == UCS2 {
		dcs = 0x08
	}
	b = append(b, 0x00, dcs, validityOctet(opt.Validity))
	return append(b, encodeUserData(coding, text, udh)...)
}

// encodeUserData returns TP-UDL and TP-UD.
func encodeUserData(coding Coding, text string, udh []byte) []byte {
	if coding == UCS2 {
		ud := append([]byte{}, udh...)
		for _, u := range utf16.Encode([]rune(text)) {
			ud = append(ud, byte(u>>8), byte(u))
		}
		return append([]byte{byte(len(ud))}, ud...)
	}
	var septets []byte
	for _, r := range text {
		septets = append(septets, gsmSeptets(r)...)
	}
	hs := headerSeptets(len(udh))
	udl := hs + len(septets)
	ud := make([]byte, (udl*7+7)/8)
	copy(ud, udh)
	packSeptets(ud, hs, septets)
	return append([]byte{byte(udl)}, ud...)
}

// headerSeptets is how many septets a user data header of n octets (its
// length octet included) takes, fill bits included.
func headerSeptets(n int) int { return (n*8 + 6) / 7 }

// validityOctet is TP-VP in the relative format (23.040 9.2.3.12.1).
func validityOctet(d time.Duration) byte {
	m := int(d / time.Minute)
	switch {
	case d == 0:
		return 167 // 24 hours
	case m <= 5:
		return 0
	case m <= 12*60:
		return byte((m+4)/5 - 1)
	case m <= 24*60:
		return byte(143 + (m-12*60+29)/30)
	case m <= 30*24*60:
		return byte(166 + (m+24*60-1)/(24*60))
	default:
		w := (m + 7*24*60 - 1) / (7 * 24 * 60)
		return byte(min(192+w, 255))
	}
}

// encodeAddress returns TP-DA: digit count, type of address, semi-octets.
func encodeAddress(number string) ([]byte, error) {
	toa := byte(0x81) // unknown type, ISDN numbering
	digits := number
	if strings.HasPrefix(number, "+") {
		toa, digits = 0x91, number[1:]
	}
	if digits == "" || len(digits) > 20 {
		return nil, fmt.Errorf("sms: number %q: 1-20 digits", number)
	}
	for _, r := range digits {
		if !strings.ContainsRune("0123456789*#", r) {
			return nil, fmt.Errorf("sms: number %q: only digits, * and # after an optional +", number)
		}
	}
	return append([]byte{byte(len(digits)), toa}, semiOctets(digits)...), nil
}

// semiOctets packs digits two to an octet, low nibble first, F-filled.
func semiOctets(digits string) []byte {
	const sym = "0123456789*#abc"
	out := make([]byte, (len(digits)+1)/2)
	for i := range out {
		lo := strings.IndexByte(sym, digits[2*i])
		hi := 0xF
		if 2*i+1 < len(digits) {
			hi = strings.IndexByte(sym, digits[2*i+1])
		}
		out[i] = byte(hi<<4 | lo)
	}
	return out
}

// reader walks a TPDU, remembering the first failure.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || r.off+n > len(r.b) {
		r.err = bad("%s: %d octets wanted at %d of %d", what, n, r.off, len(r.b))
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) octet(what string) byte {
	if s := r.take(1, what); s != nil {
		return s[0]
	}
	return 0
}

// Decode reads a PDU as the modem shows it (service centre field first),
// in the direction its TP-MTI says: deliver, submit or status report.
func Decode(hexPDU string) (*Message, error) {
	raw, err := hex.DecodeString(strings.TrimSpace(hexPDU))
	if err != nil {
		return nil, bad("not hex: %v", err)
	}
	r := &reader{b: raw}
	m := &Message{}
	if n := int(r.octet("smsc length")); n > 0 {
		a := r.take(n, "smsc")
		if r.err == nil {
			m.SMSC = decodeNumber(a[0], a[1:], 2*(n-1))
		}
	}
	first := r.octet("first octet")
	if r.err != nil {
		return nil, r.err
	}
	switch first & 0x03 {
	case 0x00:
		m.Kind = Deliver
		m.Number = readAddress(r, "originator")
		r.octet("pid")
		dcs := r.octet("dcs")
		m.Time = readTime(r, "time stamp")
		m.Coding, r.err = codingOf(dcs, r.err)
		readUserData(r, m, first&0x40 != 0)
	case 0x01:
		m.Kind = Submit
		m.ReportRequested = first&0x20 != 0
		m.Ref = int(r.octet("reference"))
		m.Number = readAddress(r, "destination")
		r.octet("pid")
		dcs := r.octet("dcs")
		switch first >> 3 & 0x03 {
		case 0x02:
			r.take(1, "validity")
		case 0x01, 0x03:
			r.take(7, "validity")
		}
		m.Coding, r.err = codingOf(dcs, r.err)
		readUserData(r, m, first&0x40 != 0)
	case 0x02:
		m.Kind = StatusReport
		m.Ref = int(r.octet("reference"))
		m.Number = readAddress(r, "recipient")
		m.Time = readTime(r, "time stamp")
		m.Discharged = readTime(r, "discharge time")
		m.Status = int(r.octet("status"))
	default:
		return nil, bad("reserved message type")
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

func codingOf(dcs byte, prev error) (Coding, error) {
	if prev != nil {
		return 0, prev
	}
	switch {
	case dcs&0xC0 == 0x00 || dcs&0xC0 == 0x40: // general data coding
		if dcs&0x20 != 0 {
			return 0, bad("compressed text (dcs %#02x) is not supported", dcs)
		}
		return [...]Coding{GSM7, Data8, UCS2, GSM7}[dcs>>2&0x03], nil
	case dcs&0xF0 == 0xE0:
		return UCS2, nil
	case dcs&0xF0 == 0xF0:
		if dcs&0x04 != 0 {
			return Data8, nil
		}
		return GSM7, nil
	}
	return GSM7, nil // message waiting groups and reserved values read as the default alphabet
}

func readAddress(r *reader, what string) string {
	digits := int(r.octet(what + " length"))
	toa := r.octet(what + " type")
	v := r.take((digits+1)/2, what)
	if r.err != nil {
		return ""
	}
	return decodeNumber(toa, v, digits)
}

// decodeNumber reads an address's value: semi-octets, or GSM 7-bit text
// for an alphanumeric sender (type of number 101).
func decodeNumber(toa byte, v []byte, digits int) string {
	if toa&0x70 == 0x50 {
		septets, _ := unpackSeptets(v, 0, digits*4/7)
		return gsmDecode(septets)
	}
	const sym = "0123456789*#abc"
	var b strings.Builder
	if toa&0x70 == 0x10 {
		b.WriteByte('+')
	}
	for i := 0; i < digits && i/2 < len(v); i++ {
		n := v[i/2] & 0x0F
		if i%2 == 1 {
			n = v[i/2] >> 4
		}
		if n == 0xF {
			break
		}
		b.WriteByte(sym[n])
	}
	return b.String()
}

// readTime reads a 7-octet service centre time stamp.
func readTime(r *reader, what string) time.Time {
	v := r.take(7, what)
	if r.err != nil {
		return time.Time{}
	}
	d := func(b byte) int { return int(b&0x0F)*10 + int(b>>4) }
	tz := int(v[6]&0x07)*10 + int(v[6]>>4)
	if v[6]&0x08 != 0 {
		tz = -tz
	}
	if d(v[1]) < 1 || d(v[1]) > 12 || d(v[2]) < 1 || d(v[2]) > 31 || d(v[3]) > 23 || d(v[4]) > 59 || d(v[5]) > 59 {
		r.err = bad("%s out of range", what)
		return time.Time{}
	}
	loc := time.FixedZone("", tz*15*60)
	return time.Date(2000+d(v[0]), time.Month(d(v[1])), d(v[2]), d(v[3]), d(v[4]), d(v[5]), 0, loc)
}

func readUserData(r *reader, m *Message, hasUDH bool) {
	udl := int(r.octet("user data length"))
	if r.err != nil {
		return
	}
	ud := r.b[r.off:]
	headerLen := 0
	if hasUDH {
		if len(ud) == 0 {
			r.err = bad("user data header missing")
			return
		}
		headerLen = int(ud[0]) + 1
		if headerLen > len(ud) {
			r.err = bad("user data header of %d octets in %d", headerLen, len(ud))
			return
		}
		m.Concat = readConcat(ud[1:headerLen])
	}
	switch m.Coding {
	case GSM7:
		hs := 0
		if hasUDH {
			hs = headerSeptets(headerLen)
		}
		if udl < hs || (udl*7+7)/8 > len(ud) {
			r.err = bad("%d septets of user data in %d octets", udl, len(ud))
			return
		}
		septets, ok := unpackSeptets(ud, hs, udl-hs)
		if !ok {
			r.err = bad("user data too short")
			return
		}
		m.Text = gsmDecode(septets)
		r.off += (udl*7 + 7) / 8
	default:
		if udl > len(ud) || udl < headerLen {
			r.err = bad("%d octets of user data in %d", udl, len(ud))
			return
		}
		body := ud[headerLen:udl]
		if m.Coding == UCS2 {
			if len(body)%2 != 0 {
				body = body[:len(body)-1] // a stray last octet carries no character
			}
			u := make([]uint16, len(body)/2)
			for i := range u {
				u[i] = uint16(body[2*i])<<8 | uint16(body[2*i+1])
			}
			m.Text = string(utf16.Decode(u))
		} else {
			m.Text = string(body)
			if !utf8.ValidString(m.Text) {
				m.Text = hex.EncodeToString(body)
			}
		}
		r.off += udl
	}
}

// readConcat finds a concatenation element in a user data header.
func readConcat(h []byte) *Concat {
	for len(h) >= 2 {
		id, n := h[0], int(h[1])
		if 2+n > len(h) {
			return nil
		}
		v := h[2 : 2+n]
		switch {
		case id == udhConcat && n == 3 && v[1] > 0 && v[2] > 0 && v[2] <= v[1]:
			return &Concat{Ref: uint16(v[0]), Total: int(v[1]), Seq: int(v[2])}
		case id == udhConc16 && n == 4 && v[2] > 0 && v[3] > 0 && v[3] <= v[2]:
			return &Concat{Ref: uint16(v[0])<<8 | uint16(v[1]), Total: int(v[2]), Seq: int(v[3])}
		}
		h = h[2+n:]
	}
	return nil
}

// EncodeDeliver builds the SMS-DELIVER PDUs a service centre sends for a
// message from number: what a modem emulator hands the box. Parts of a
// long message carry ref; at is the time stamp (to the second, its zone
// rounded to quarter hours).
func EncodeDeliver(number, text string, at time.Time, ref uint8) ([]string, error) {
	addr, err := encodeAddress(number)
	if err != nil {
		return nil, err
	}
	coding, parts, err := Split(text)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, part := range parts {
		first := byte(0x04) // SMS-DELIVER, no more messages to send
		var udh []byte
		if len(parts) > 1 {
			first |= 0x40
			udh = []byte{5, udhConcat, 3, ref, byte(len(parts)), byte(i + 1)}
		}
		dcs := byte(0x00)
		if coding == UCS2 {
			dcs = 0x08
		}
		b := append([]byte{first}, addr...)
		b = append(b, 0x00, dcs)
		b = append(b, timeOctets(at)...)
		b = append(b, encodeUserData(coding, part, udh)...)
		out = append(out, strings.ToUpper("00"+hex.EncodeToString(b)))
	}
	return out, nil
}

// EncodeStatusReport builds the SMS-STATUS-REPORT PDU for the message
// with reference ref sent to number: status 0 delivered, 0x40 and up
// failed.
func EncodeStatusReport(ref int, number string, sent, discharged time.Time, status int) (string, error) {
	addr, err := encodeAddress(number)
	if err != nil {
		return "", err
	}
	b := append([]byte{0x06, byte(ref)}, addr...)
	b = append(b, timeOctets(sent)...)
	b = append(b, timeOctets(discharged)...)
	b = append(b, byte(status))
	return strings.ToUpper("00" + hex.EncodeToString(b)), nil
}

// timeOctets is a service centre time stamp, semi-octets swapped.
func timeOctets(t time.Time) []byte {
	sw := func(n int) byte { return byte(n%10<<4 | n/10%10) }
	_, off := t.Zone()
	q := off / (15 * 60)
	tz := sw(abs(q))
	if q < 0 {
		tz |= 0x08
	}
	return []byte{sw(t.Year() % 100), sw(int(t.Month())), sw(t.Day()), sw(t.Hour()), sw(t.Minute()), sw(t.Second()), tz}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
