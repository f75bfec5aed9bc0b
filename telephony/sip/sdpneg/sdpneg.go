// Package sdpneg does the SDP offer/answer of the box's SIP legs (RFC 3264):
// one audio stream with PCMU or PCMA, RFC 4733 telephone-event, ptime 10, 20
// or 30 ms, and the direction attributes used for hold. Parsing is
// github.com/pion/sdp/v3; what is negotiated comes out as a Media value the
// media engine can use directly.
package sdpneg

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// Errors a caller branches on: ErrNoCodec maps to 488 Not Acceptable Here.
var (
	ErrNoCodec = errors.New("sdpneg: no common codec")
	ErrSyntax  = errors.New("sdpneg: malformed sdp")
)

// Codec is an audio payload format.
type Codec struct {
	Name string // "PCMU" or "PCMA"
	PT   uint8  // RTP payload type as used on the wire
}

// The G.711 codecs with their static payload types (RFC 3551).
var (
	PCMU = Codec{Name: "PCMU", PT: 0}
	PCMA = Codec{Name: "PCMA", PT: 8}
)

// DefaultDTMFPT is the payload type the box offers for telephone-event.
const DefaultDTMFPT = 101

// DefaultPtime is the packetisation time used when the peer names none.
const DefaultPtime = 20

// Direction is an SDP media direction attribute.
type Direction string

// Directions (RFC 3264 section 5.1). Hold is sendonly (or inactive when the
// held side was itself holding); resume is sendrecv.
const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// reverse is the direction an answerer takes to an offered one.
func (d Direction) reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

// intersect restricts our wish by what the peer allows (given its own view).
func intersect(ours, peersReversed Direction) Direction {
	send := ours.sends() && peersReversed.sends()
	recv := ours.receives() && peersReversed.receives()
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	}
	return Inactive
}

func (d Direction) sends() bool    { return d == SendRecv || d == SendOnly || d == "" }
func (d Direction) receives() bool { return d == SendRecv || d == RecvOnly || d == "" }

// Local is what the box can do on one leg.
type Local struct {
	// Addr is the local RTP address advertised in c= and m=.
	Addr netip.AddrPort
	// Codecs in order of preference; empty means PCMU then PCMA.
	Codecs []Codec
	// DTMFPT is the telephone-event payload type offered; 0 offers none.
	DTMFPT uint8
	// Ptime is the preferred packetisation in ms; 0 means 20.
	Ptime int
	// Direction we want: SendRecv normally, SendOnly to hold.
	Direction Direction
	// SessionID and Version fill the o= line; bump Version on every change.
	SessionID, Version uint64
}

// Media is the outcome of a negotiation: what the media engine needs.
type Media struct {
	// Remote is where to send RTP; an unspecified address means the peer
	// wants nothing sent (old-style hold with c=0.0.0.0).
	Remote netip.AddrPort
	Codec  Codec
	// DTMFPT is the agreed telephone-event payload type, 0 if none.
	DTMFPT uint8
	Ptime  int
	// Direction is ours: whether we send and receive.
	Direction Direction
}

// OnHold reports whether the peer has put us on hold (it will not receive).
func (m Media) OnHold() bool { return !m.Direction.sends() }

func (l Local) codecs() []Codec {
	if len(l.Codecs) == 0 {
		return []Codec{PCMU, PCMA}
	}
	return l.Codecs
}

func (l Local) ptime() int {
	if l.Ptime == 0 {
		return DefaultPtime
	}
	return l.Ptime
}

// Offer renders an SDP offer for l.
func Offer(l Local) []byte {
	return render(l, l.codecs(), l.DTMFPT, l.ptime(), dirOr(l.Direction, SendRecv), 0, nil)
}

func dirOr(d, def Direction) Direction {
	if d == "" {
		return def
	}
	return d
}

// render writes a session with one audio m-line at index audio among
// rejected (port 0) lines copied from others.
func render(l Local, codecs []Codec, dtmf uint8, ptime int, dir Direction, audio int, others []*sdp.MediaDescription) []byte {
	var b strings.Builder
	ip := l.Addr.Addr().Unmap()
	fam := "IP4"
	if ip.Is6() {
		fam = "IP6"
	}
	fmt.Fprintf(&b, "v=0\r\no=callbox %d %d IN %s %s\r\ns=callbox\r\nc=IN %s %s\r\nt=0 0\r\n",
		l.SessionID, l.Version, fam, ip, fam, ip)
	for i := 0; i <= len(others); i++ {
		if i == audio {
			b.WriteString("m=audio ")
			b.WriteString(strconv.Itoa(int(l.Addr.Port())))
			b.WriteString(" RTP/AVP")
			for _, c := range codecs {
				b.WriteString(" " + strconv.Itoa(int(c.PT)))
			}
			if dtmf != 0 {
				b.WriteString(" " + strconv.Itoa(int(dtmf)))
			}
			b.WriteString("\r\n")
			for _, c := range codecs {
				fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", c.PT, c.Name)
			}
			if dtmf != 0 {
				fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", dtmf, dtmf)
			}
			fmt.Fprintf(&b, "a=ptime:%d\r\na=%s\r\n", ptime, dir)
			continue
		}
		j := i
		if i > audio {
			j = i - 1
		}
		if j >= len(others) {
			continue
		}
		m := others[j].MediaName
		fmts := "0"
		if len(m.Formats) > 0 {
			fmts = strings.Join(m.Formats, " ")
		}
		fmt.Fprintf(&b, "m=%s 0 %s %s\r\n", m.Media, strings.Join(m.Protos, "/"), fmts)
	}
	return []byte(b.String())
}

// parsed is one side's audio description.
type parsed struct {
	index   int
	remote  netip.AddrPort
	formats []Codec // all offered formats with names resolved
	dtmf    uint8
	hasDTMF bool
	ptime   int
	dir     Direction
	others  []*sdp.MediaDescription
}

func parse(body []byte) (parsed, error) {
	var s sdp.SessionDescription
	if err := s.UnmarshalString(string(body)); err != nil {
		return parsed{}, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	p := parsed{index: -1}
	sessDir := Direction("")
	for _, a := range s.Attributes {
		if d := Direction(a.Key); d == SendRecv || d == SendOnly || d == RecvOnly || d == Inactive {
			sessDir = d
		}
	}
	for i, md := range s.MediaDescriptions {
		if p.index >= 0 || md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 ||
			strings.Join(md.MediaName.Protos, "/") != "RTP/AVP" {
			p.others = append(p.others, md)
			continue
		}
		p.index = i
		ci := md.ConnectionInformation
		if ci == nil {
			ci = s.ConnectionInformation
		}
		if ci == nil || ci.Address == nil {
			return parsed{}, fmt.Errorf("%w: no connection address", ErrSyntax)
		}
		ip, err := netip.ParseAddr(ci.Address.Address)
		if err != nil {
			return parsed{}, fmt.Errorf("%w: connection address %q", ErrSyntax, ci.Address.Address)
		}
		port := md.MediaName.Port.Value
		if port < 0 || port > 65535 {
			return parsed{}, fmt.Errorf("%w: port %d", ErrSyntax, port)
		}
		p.remote = netip.AddrPortFrom(ip, uint16(port))
		names := map[uint8]string{}
		for _, a := range md.Attributes {
			switch a.Key {
			case "rtpmap":
				ptStr, enc, ok := strings.Cut(a.Value, " ")
				pt, err := strconv.ParseUint(ptStr, 10, 7)
				if ok && err == nil {
					names[uint8(pt)] = strings.ToUpper(enc)
				}
			case "ptime":
				if v, err := strconv.Atoi(strings.TrimSpace(a.Value)); err == nil {
					p.ptime = v
				}
			case string(SendRecv), string(SendOnly), string(RecvOnly), string(Inactive):
				p.dir = Direction(a.Key)
			}
		}
		for _, f := range md.MediaName.Formats {
			pt, err := strconv.ParseUint(f, 10, 7)
			if err != nil {
				continue
			}
			name, ok := names[uint8(pt)]
			switch {
			case ok && name == "TELEPHONE-EVENT/8000":
				if !p.hasDTMF {
					p.dtmf, p.hasDTMF = uint8(pt), true
				}
				continue
			case ok:
				name, _, _ = strings.Cut(name, "/")
				p.formats = append(p.formats, Codec{Name: name, PT: uint8(pt)})
			case pt == 0:
				p.formats = append(p.formats, PCMU)
			case pt == 8:
				p.formats = append(p.formats, PCMA)
			}
		}
	}
	if p.index < 0 {
		return parsed{}, fmt.Errorf("%w: no audio stream", ErrNoCodec)
	}
	if p.dir == "" {
		p.dir = dirOr(sessDir, SendRecv)
	}
	if p.remote.Addr().IsUnspecified() && p.dir != Inactive {
		// RFC 2543 hold: c=0.0.0.0 means "do not send to me".
		p.dir = intersect(p.dir, SendOnly)
	}
	return p, nil
}

// negotiatePtime picks the peer's ptime when we support it, else ours.
func negotiatePtime(peer, ours int) int {
	switch peer {
	case 10, 20, 30:
		return peer
	}
	return ours
}

// Answer answers an SDP offer with what l supports. The answer keeps the
// offer's m-lines (others rejected with port 0) and the first offered codec
// the box supports, as RFC 3264 section 6.1 asks.
func Answer(offer []byte, l Local) ([]byte, Media, error) {
	p, err := parse(offer)
	if err != nil {
		return nil, Media{}, err
	}
	var chosen *Codec
	for _, f := range p.formats {
		for _, c := range l.codecs() {
			if strings.EqualFold(f.Name, c.Name) {
				chosen = &Codec{Name: c.Name, PT: f.PT}
				break
			}
		}
		if chosen != nil {
			break
		}
	}
	if chosen == nil {
		return nil, Media{}, ErrNoCodec
	}
	m := Media{
		Remote: p.remote, Codec: *chosen, Ptime: negotiatePtime(p.ptime, l.ptime()),
		Direction: intersect(dirOr(l.Direction, SendRecv), p.dir.reverse()),
	}
	if p.hasDTMF && l.DTMFPT != 0 {
		m.DTMFPT = p.dtmf
	}
	others := p.others
	return render(l, []Codec{m.Codec}, m.DTMFPT, m.Ptime, m.Direction, p.index, others), m, nil
}

// Accept reads the answer to an offer made from l.
func Accept(answer []byte, l Local) (Media, error) {
	p, err := parse(answer)
	if err != nil {
		return Media{}, err
	}
	for _, f := range p.formats {
		for _, c := range l.codecs() {
			if strings.EqualFold(f.Name, c.Name) && f.PT == c.PT {
				m := Media{
					Remote: p.remote, Codec: c, Ptime: negotiatePtime(p.ptime, l.ptime()),
					Direction: intersect(dirOr(l.Direction, SendRecv), p.dir.reverse()),
				}
				if p.hasDTMF && l.DTMFPT != 0 && p.dtmf == l.DTMFPT {
					m.DTMFPT = p.dtmf
				}
				return m, nil
			}
		}
	}
	return Media{}, ErrNoCodec
}
