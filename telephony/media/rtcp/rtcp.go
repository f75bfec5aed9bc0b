// Package rtcp is the part of RTCP (RFC 3550 section 6) a telephone call
// needs: compound sender and receiver reports with an SDES CNAME and BYE,
// written into and read from caller-owned buffers without allocation, and
// the receiver statistics behind a report block (appendix A.1 sequence
// tracking, A.3 loss, A.8 interarrival jitter) with LSR/DLSR and round-trip
// time.
package rtcp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Packet types.
const (
	TypeSR   = 200
	TypeRR   = 201
	TypeSDES = 202
	TypeBYE  = 203
)

// MaxBlocks is the most report blocks one SR or RR carries.
const MaxBlocks = 31

// Errors a caller may branch on.
var (
	ErrMalformed = errors.New("rtcp: malformed packet")
	ErrShort     = errors.New("rtcp: buffer too short")
)

// ReportBlock is one reception report (RFC 3550 section 6.4.1).
type ReportBlock struct {
	SSRC         uint32 // source reported on
	FractionLost uint8  // lost since the last report, in 1/256
	TotalLost    int32  // cumulative lost (24-bit signed; duplicates can make it negative)
	HighestSeq   uint32 // extended highest sequence number received
	Jitter       uint32 // interarrival jitter, timestamp units
	LSR          uint32 // middle 32 bits of the last SR's NTP time
	DLSR         uint32 // delay since that SR, 1/65536 s
}

// SenderInfo is the sender part of an SR.
type SenderInfo struct {
	NTP     uint64 // wall clock, NTP format
	RTPTime uint32 // the same instant in RTP timestamp units
	Packets uint32
	Octets  uint32
}

// Report is the SR or RR of a compound packet, with the CNAME and BYE that
// came with it. Unmarshal reuses its storage: nothing allocates.
type Report struct {
	SSRC    uint32
	Sender  bool // an SR, with Info
	Info    SenderInfo
	Blocks  [MaxBlocks]ReportBlock
	NBlocks int
	// CNAME is the first SDES CNAME, valid until the next Unmarshal (it
	// points into cnameBuf).
	CNAME    []byte
	cnameBuf [255]byte
	Bye      bool // a BYE for SSRC came in the compound packet
}

// NTP returns t in the 64-bit NTP timestamp format.
func NTP(t time.Time) uint64 {
	const epoch = 2208988800 // 1900 to 1970 in seconds
	s := uint64(t.Unix() + epoch)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return s<<32 | frac
}

// Middle returns the middle 32 bits of an NTP time, as LSR and round-trip
// arithmetic use them.
func Middle(ntp uint64) uint32 { return uint32(ntp >> 16) }

// MarshalTo writes r as a compound packet: SR (if r.Sender) or RR with the
// report blocks, an SDES with cname, and a BYE if r.Bye. It returns the
// length written.
func (r *Report) MarshalTo(buf []byte, cname string) (int, error) {
	if r.NBlocks < 0 || r.NBlocks > MaxBlocks || len(cname) > 255 {
		return 0, fmt.Errorf("rtcp: %d blocks, cname of %d bytes: %w", r.NBlocks, len(cname), ErrMalformed)
	}
	n := 8 + 24*r.NBlocks
	if r.Sender {
		n += 20
	}
	sdesLen := (8 + 2 + len(cname) + 1 + 3) &^ 3 // header, SSRC, item, end, pad to 32 bits
	total := n + sdesLen
	if r.Bye {
		total += 8
	}
	if len(buf) < total {
		return 0, ErrShort
	}
	pt := byte(TypeRR)
	if r.Sender {
		pt = TypeSR
	}
	header(buf, r.NBlocks, pt, n)
	binary.BigEndian.PutUint32(buf[4:], r.SSRC)
	o := 8
	if r.Sender {
		binary.BigEndian.PutUint64(buf[o:], r.Info.NTP)
		binary.BigEndian.PutUint32(buf[o+8:], r.Info.RTPTime)
		binary.BigEndian.PutUint32(buf[o+12:], r.Info.Packets)
		binary.BigEndian.PutUint32(buf[o+16:], r.Info.Octets)
		o += 20
	}
	for i := range r.NBlocks {
		b := &r.Blocks[i]
		binary.BigEndian.PutUint32(buf[o:], b.SSRC)
		lost := uint32(clampLost(b.TotalLost)) & 0xffffff
		binary.BigEndian.PutUint32(buf[o+4:], uint32(b.FractionLost)<<24|lost)
		binary.BigEndian.PutUint32(buf[o+8:], b.HighestSeq)
		binary.BigEndian.PutUint32(buf[o+12:], b.Jitter)
		binary.BigEndian.PutUint32(buf[o+16:], b.LSR)
		binary.BigEndian.PutUint32(buf[o+20:], b.DLSR)
		o += 24
	}
	header(buf[o:], 1, TypeSDES, sdesLen)
	binary.BigEndian.PutUint32(buf[o+4:], r.SSRC)
	buf[o+8] = 1 // CNAME
	buf[o+9] = byte(len(cname))
	copy(buf[o+10:], cname)
	clear(buf[o+10+len(cname) : o+sdesLen]) // end item and padding
	o += sdesLen
	if r.Bye {
		header(buf[o:], 1, TypeBYE, 8)
		binary.BigEndian.PutUint32(buf[o+4:], r.SSRC)
		o += 8
	}
	return o, nil
}

func header(b []byte, count int, pt byte, length int) {
	b[0] = 2<<6 | byte(count)
	b[1] = pt
	binary.BigEndian.PutUint16(b[2:], uint16(length/4-1))
}

// clampLost limits a cumulative loss to the 24-bit signed field.
func clampLost(l int32) int32 { return max(-0x800000, min(l, 0x7fffff)) }

// Unmarshal reads a compound packet into r, checking it as RFC 3550
// appendix A.2 does: version 2, the first packet an SR or RR, padding only
// in the last, and lengths that add up to the datagram. Other packet types
// (APP, XR, feedback) are skipped.
func (r *Report) Unmarshal(b []byte) error {
	r.NBlocks, r.Sender, r.Bye, r.CNAME = 0, false, false, nil
	first := true
	for len(b) > 0 {
		if len(b) < 4 || b[0]>>6 != 2 {
			return fmt.Errorf("rtcp: bad header: %w", ErrMalformed)
		}
		plen := (int(binary.BigEndian.Uint16(b[2:])) + 1) * 4
		if plen > len(b) {
			return fmt.Errorf("rtcp: length %d beyond %d bytes: %w", plen, len(b), ErrMalformed)
		}
		p := b[:plen]
		b = b[plen:]
		if p[0]&0x20 != 0 {
			if len(b) != 0 {
				return fmt.Errorf("rtcp: padding before the last packet: %w", ErrMalformed)
			}
			pad := int(p[plen-1])
			if pad == 0 || pad > plen-4 {
				return fmt.Errorf("rtcp: padding of %d: %w", pad, ErrMalformed)
			}
			p = p[:plen-pad]
		}
		count, pt := int(p[0]&0x1f), p[1]
		if first && pt != TypeSR && pt != TypeRR {
			return fmt.Errorf("rtcp: compound starts with type %d: %w", pt, ErrMalformed)
		}
		first = false
		var err error
		switch pt {
		case TypeSR, TypeRR:
			err = r.report(p, count, pt == TypeSR)
		case TypeSDES:
			r.sdes(p, count)
		case TypeBYE:
			for i := range count {
				if 8+4*i <= len(p) && binary.BigEndian.Uint32(p[4+4*i:]) == r.SSRC {
					r.Bye = true
				}
			}
		}
		if err != nil {
			return err
		}
	}
	if first {
		return fmt.Errorf("rtcp: empty: %w", ErrMalformed)
	}
	return nil
}

func (r *Report) report(p []byte, count int, sr bool) error {
	need := 8 + 24*count
	if sr {
		need += 20
	}
	if len(p) < need {
		return fmt.Errorf("rtcp: report of %d bytes for %d blocks: %w", len(p), count, ErrMalformed)
	}
	if r.NBlocks > 0 || r.Sender {
		return nil // a second report in one compound (another SSRC of a mixer): keep the first
	}
	r.SSRC = binary.BigEndian.Uint32(p[4:])
	o := 8
	if sr {
		r.Sender = true
		r.Info.NTP = binary.BigEndian.Uint64(p[o:])
		r.Info.RTPTime = binary.BigEndian.Uint32(p[o+8:])
		r.Info.Packets = binary.BigEndian.Uint32(p[o+12:])
		r.Info.Octets = binary.BigEndian.Uint32(p[o+16:])
		o += 20
	}
	for i := range count {
		b := &r.Blocks[i]
		b.SSRC = binary.BigEndian.Uint32(p[o:])
		w := binary.BigEndian.Uint32(p[o+4:])
		b.FractionLost = uint8(w >> 24)
		b.TotalLost = int32(w<<8) >> 8 // sign-extend 24 bits
		b.HighestSeq = binary.BigEndian.Uint32(p[o+8:])
		b.Jitter = binary.BigEndian.Uint32(p[o+12:])
		b.LSR = binary.BigEndian.Uint32(p[o+16:])
		b.DLSR = binary.BigEndian.Uint32(p[o+20:])
		o += 24
	}
	r.NBlocks = count
	return nil
}

// sdes takes the first CNAME of the first chunk; malformed items end the
// search quietly (SDES is informative).
func (r *Report) sdes(p []byte, count int) {
	if count == 0 || len(p) < 8 || r.CNAME != nil {
		return
	}
	items := p[8:]
	for len(items) >= 2 && items[0] != 0 {
		l := int(items[1])
		if 2+l > len(items) {
			return
		}
		if items[0] == 1 {
			r.CNAME = r.cnameBuf[:copy(r.cnameBuf[:], items[2:2+l])]
			return
		}
		items = items[2+l:]
	}
}

// Block returns the report block about ssrc, if r has one.
func (r *Report) Block(ssrc uint32) (ReportBlock, bool) {
	for i := range r.NBlocks {
		if r.Blocks[i].SSRC == ssrc {
			return r.Blocks[i], true
		}
	}
	return ReportBlock{}, false
}

// RTT returns the round-trip time from a report block about our stream that
// arrived when our wall clock read arrival (NTP format): arrival - LSR -
// DLSR (RFC 3550 section 6.4.1). ok is false without an SR to refer to.
func RTT(b ReportBlock, arrival uint64) (rtt time.Duration, ok bool) {
	if b.LSR == 0 {
		return 0, false
	}
	d := int64(int32(Middle(arrival) - b.LSR - b.DLSR))
	if d < 0 {
		d = 0
	}
	return time.Duration(d * int64(time.Second) >> 16), true
}
