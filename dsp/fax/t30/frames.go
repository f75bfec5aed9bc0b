package t30

import (
	"fmt"
	"strings"

	"callbox/dsp/fax/t4"
)

// Facsimile control field codes (T.30 table 5), as the octet appears in a
// frame (bits in transmission order, least significant first). Codes that
// carry the X bit have it clear here; see hasX.
const (
	fcfDIS    = 0x80
	fcfCSI    = 0x40
	fcfNSF    = 0x20
	fcfDTC    = 0x81
	fcfCIG    = 0x41
	fcfNSC    = 0x21
	fcfDCS    = 0x82
	fcfTSI    = 0x42
	fcfNSS    = 0x22
	fcfCFR    = 0x84
	fcfFTT    = 0x44
	fcfEOM    = 0x8e
	fcfMPS    = 0x4e
	fcfEOP    = 0x2e
	fcfPRIEOM = 0x9e
	fcfPRIMPS = 0x5e
	fcfPRIEOP = 0x3e
	fcfMCF    = 0x8c
	fcfRTP    = 0xcc
	fcfRTN    = 0x4c
	fcfPIP    = 0xac
	fcfPIN    = 0x2c
	fcfDCN    = 0xfa
	fcfCRP    = 0x1a
	// Error correction mode (T.30 annex A).
	fcfPPS  = 0xbe // partial page signal
	fcfPPR  = 0xbc // partial page request: frames to send again
	fcfRR   = 0x6e // receive ready: is the receiver ready?
	fcfRNR  = 0xec // receive not ready
	fcfCTC  = 0x12 // continue to correct (at a new rate)
	fcfCTR  = 0xc4 // response to CTC
	fcfEOR  = 0xce // end of retransmission: give up on the frames missing
	fcfERR  = 0x1c // response to EOR
	fcfNULL = 0x00 // PPS: more of the same page follows
	// The ECM image frames (T.4 annex A), sent on the image modem: page
	// data, and the end of a partial page. They carry no X bit.
	fcfFCD = 0x06
	fcfRCP = 0x86
)

// fcfNames names the control fields for the session's events.
var fcfNames = map[byte]string{
	fcfDIS: "DIS", fcfCSI: "CSI", fcfNSF: "NSF", fcfDTC: "DTC", fcfCIG: "CIG", fcfNSC: "NSC",
	fcfDCS: "DCS", fcfTSI: "TSI", fcfNSS: "NSS", fcfCFR: "CFR", fcfFTT: "FTT",
	fcfEOM: "EOM", fcfMPS: "MPS", fcfEOP: "EOP", fcfPRIEOM: "PRI-EOM", fcfPRIMPS: "PRI-MPS", fcfPRIEOP: "PRI-EOP",
	fcfMCF: "MCF", fcfRTP: "RTP", fcfRTN: "RTN", fcfPIP: "PIP", fcfPIN: "PIN", fcfDCN: "DCN", fcfCRP: "CRP",
	fcfPPS: "PPS", fcfPPR: "PPR", fcfRR: "RR", fcfRNR: "RNR", fcfCTC: "CTC", fcfCTR: "CTR", fcfEOR: "EOR", fcfERR: "ERR",
	fcfNULL: "NULL",
}

// fcfName names a control field.
func fcfName(fcf byte) string {
	if n, ok := fcfNames[fcf]; ok {
		return n
	}
	return fmt.Sprintf("FCF %#02x", fcf)
}

// hasX reports whether a code's first bit is the X bit (set by the
// terminal that received DIS) rather than part of the code: every code but
// the identification and polling ones.
func hasX(fcf byte) bool {
	switch fcf &^ 1 {
	case fcfDIS, fcfCSI, fcfNSF, fcfNULL:
		return false
	}
	return true
}

// normalise takes the X bit out of a received code.
func normalise(fcf byte) byte {
	if hasX(fcf) {
		return fcf &^ 1
	}
	return fcf
}

// Frame octets before the information field.
const (
	address      = 0xff
	ctlNonFinal  = 0x03
	ctlFinal     = 0x13
	identLen     = 20
	maxFIF       = 16 // the longest DIS/DCS we read or write
	frameHeadLen = 3
)

// bit reports whether bit n (numbered from 1, as in T.30 table 2) of an
// information field is set.
func bit(fif []byte, n int) bool {
	i := (n - 1) / 8
	return i < len(fif) && fif[i]&(1<<((n-1)%8)) != 0
}

// setBit sets bit n of an information field.
func setBit(fif []byte, n int) { fif[(n-1)/8] |= 1 << ((n - 1) % 8) }

// Modems is a set of image modems.
type Modems uint8

const (
	// V27ter is V.27ter, 4800 and 2400 bit/s.
	V27ter Modems = 1 << iota
	// V29 is V.29, 9600 and 7200 bit/s.
	V29
	// V17 is V.17, 14400, 12000, 9600 and 7200 bit/s. A DIS offers it
	// with V.29 and V.27ter only.
	V17
)

// AllModems are the three image modems.
const AllModems = V17 | V29 | V27ter

// rate is one image data rate a session may use.
type rate struct {
	bps   int
	modem Modems
	code  byte // DCS bits 11-14, in the second octet of the field
}

// fallback lists the rates, fastest first: a failed training moves down,
// through V.17's rates, then V.29's and V.27ter's.
var fallback = []rate{
	{14400, V17, 0x20},
	{12000, V17, 0x28},
	{9600, V17, 0x24},
	{7200, V17, 0x2c},
	{9600, V29, 0x04},
	{7200, V29, 0x0c},
	{4800, V27ter, 0x08},
	{2400, V27ter, 0x00},
}

// disModems returns the modems a DIS (bits 11-14) offers.
func disModems(fif []byte) Modems {
	if len(fif) < 2 {
		return V27ter // 2400 only, strictly; V.27ter is the baseline
	}
	switch fif[1] & 0x3c {
	case 0x04:
		return V29
	case 0x08, 0x00:
		return V27ter
	case 0x2c:
		return V17 | V29 | V27ter
	}
	// 0x0c, or V.33 (0x1c) and others that include V.29 and V.27ter.
	if fif[1]&0x0c == 0x0c {
		return V29 | V27ter
	}
	return V27ter
}

// Minimum scan line time codes of DIS and DCS bits 21-23, and what each
// DIS code requires of a sender at standard resolution, in milliseconds.
var (
	scanTimeCode = map[int]byte{20: 0, 5: 1, 10: 2, 40: 4, 0: 7}
	disScanTime  = [8]int{20, 5, 10, 20, 40, 40, 10, 0}
)

// caps is what a DIS says the remote terminal can receive.
type caps struct {
	receive bool
	modems  Modems
	fine    bool
	mr      bool
	width   int // widest page, pixels
	scanMS  int
	haveDIS bool
	ecm     bool // error correction mode
	mmr     bool // T.6 coding (with ECM)
}

func parseDIS(fif []byte) caps {
	c := caps{haveDIS: true, receive: bit(fif, 10), modems: disModems(fif), fine: bit(fif, 15), mr: bit(fif, 16), width: t4.WidthA4}
	c.ecm = bit(fif, 27)
	c.mmr = c.ecm && bit(fif, 31)
	if len(fif) >= 3 {
		c.width = widthOf(fif[2])
		c.scanMS = disScanTime[(fif[2]>>4)&7]
	}
	return c
}

// params is what a DCS sets for the pages that follow.
type params struct {
	rate   rate
	fine   bool
	coding t4.Coding
	width  int
	scanMS int
	ecm    bool
	small  bool // ECM frames of 64 octets
}

// frameLen is the page data in a full ECM frame.
func (p params) frameLen() int {
	if p.small {
		return 64
	}
	return ecmFrameLen
}

// dcsFIF builds a DCS information field.
func dcsFIF(p params) []byte {
	fif := make([]byte, 3, 4)
	setBit(fif, 10) // receive
	fif[1] |= p.rate.code
	if p.fine {
		setBit(fif, 15)
	}
	if p.coding == t4.MR {
		setBit(fif, 16)
	}
	switch p.width {
	case t4.WidthB4:
		fif[2] |= 1
	case t4.WidthA3:
		fif[2] |= 2
	}
	setBit(fif, 19) // recording length: unlimited
	fif[2] |= scanTimeCode[p.scanMS] << 4
	if p.ecm {
		// Bits 25-32: ECM (frames of 64 octets if bit 28), T.6 for MMR.
		fif = append(fif, 0)
		setBit(fif, 24) // extend
		setBit(fif, 27)
		if p.small {
			setBit(fif, 28)
		}
		if p.coding == t4.MMR {
			setBit(fif, 31)
		}
	}
	return fif
}

// parseDCS reads a DCS; ok false when it names no rate we have.
func parseDCS(fif []byte) (params, bool) {
	if len(fif) < 2 {
		return params{}, false
	}
	p := params{fine: bit(fif, 15), coding: t4.MH, width: t4.WidthA4, ecm: bit(fif, 27)}
	p.small = p.ecm && bit(fif, 28)
	switch {
	case p.ecm && bit(fif, 31):
		p.coding = t4.MMR
	case bit(fif, 16):
		p.coding = t4.MR
	}
	found := false
	for _, r := range fallback {
		if fif[1]&0x3c == r.code {
			p.rate, found = r, true
		}
	}
	if len(fif) >= 3 {
		p.width = widthOf(fif[2])
		for ms, code := range scanTimeCode {
			if (fif[2]>>4)&7 == code {
				p.scanMS = ms
			}
		}
	}
	return p, found
}

// disFIF builds our DIS: a receiver of the given modems, fine resolution
// and MR, A4 width, unlimited length, no minimum scan line time; and, with
// ecm, error correction mode and T.6 (MMR) coding.
func disFIF(m Modems, mr, ecm bool) []byte {
	fif := make([]byte, 3, 4)
	setBit(fif, 10) // ready to receive
	switch m {
	case V29:
		fif[1] |= 0x04
	case V27ter:
		fif[1] |= 0x08
	default:
		fif[1] |= 0x0c
		if m&V17 != 0 {
			fif[1] |= 0x20 // V.17 (with V.29 and V.27ter)
		}
	}
	setBit(fif, 15) // fine
	if mr {
		setBit(fif, 16)
	}
	setBit(fif, 19)                // unlimited length
	fif[2] |= scanTimeCode[0] << 4 // 0 ms
	if ecm {
		fif = append(fif, 0)
		setBit(fif, 24) // extend
		setBit(fif, 27) // ECM
		setBit(fif, 31) // T.6
	}
	return fif
}

// identFIF encodes an identity (TSI, CSI): 20 characters, last first,
// padded with spaces.
func identFIF(id string) []byte {
	b := make([]byte, identLen)
	for i := range b {
		b[i] = ' '
	}
	for i := 0; i < len(id) && i < identLen; i++ {
		b[identLen-1-i] = id[i]
	}
	return b
}

// parseIdent decodes an identity.
func parseIdent(fif []byte) string {
	var b strings.Builder
	for i := len(fif) - 1; i >= 0; i-- {
		c := fif[i]
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		b.WriteByte(c)
	}
	return strings.TrimSpace(b.String())
}

// checkIdent refuses identities T.30 cannot carry: up to 20 of the
// characters of table 3 (digits, plus, space).
func checkIdent(id string) error {
	if len(id) > identLen {
		return fmt.Errorf("t30: identity %q is longer than %d characters", id, identLen)
	}
	for _, c := range id {
		if (c < '0' || c > '9') && c != '+' && c != ' ' {
			return fmt.Errorf("t30: identity %q: only digits, '+' and spaces are allowed", id)
		}
	}
	return nil
}

// decodePage decodes a page's data as p describes it.
func decodePage(dec *t4.Decoder, p params, data []byte) (*t4.Page, t4.Stats, error) {
	yres := t4.YResStandard
	if p.fine {
		yres = t4.YResFine
	}
	pg, err := t4.NewPage(p.width, 0, t4.XRes, yres)
	if err != nil {
		return nil, t4.Stats{}, err
	}
	st, err := dec.Decode(data, t4.DecodeOptions{Coding: p.coding, Layout: t4.Line, Width: p.width}, pg)
	return pg, st, err
}

// ecmName describes the error correction mode for the events.
func (p params) ecmName() string {
	switch {
	case !p.ecm:
		return ""
	case p.small:
		return " ECM (64-octet frames)"
	}
	return " ECM"
}

// widthOf reads the recording width from a DIS or DCS's third octet (bits
// 17-18).
func widthOf(b byte) int {
	switch b & 0x03 {
	case 1:
		return t4.WidthB4
	case 2, 3:
		return t4.WidthA3
	}
	return t4.WidthA4
}
