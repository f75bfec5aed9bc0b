package sms

// The GSM 03.38 (3GPP TS 23.038) default alphabet and its extension table.
// gsmBasic[i] is the character of septet i; septet 0x1B is the escape to
// the extension table and has no character of its own.
var gsmBasic = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', 0x1B, 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsmExt maps the septet after an escape to its character.
var gsmExt = map[byte]rune{
	0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\',
	0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|', 0x65: '€',
}

const gsmEscape = 0x1B

// Reverse tables, built once.
var (
	gsmBasicRev = map[rune]byte{}
	gsmExtRev   = map[rune]byte{}
)

func init() {
	for i, r := range gsmBasic {
		if i != gsmEscape {
			gsmBasicRev[r] = byte(i)
		}
	}
	for s, r := range gsmExt {
		gsmExtRev[r] = s
	}
}

// gsmSeptets returns the septets of r in the default alphabet (one, or two
// for an extension character), or nil when r has none.
func gsmSeptets(r rune) []byte {
	if s, ok := gsmBasicRev[r]; ok {
		return []byte{s}
	}
	if s, ok := gsmExtRev[r]; ok {
		return []byte{gsmEscape, s}
	}
	return nil
}

// IsGSM7 reports whether every character of text has a septet in the
// default alphabet, so the text can go as GSM 7-bit rather than UCS-2.
func IsGSM7(text string) bool {
	for _, r := range text {
		if gsmSeptets(r) == nil {
			return false
		}
	}
	return true
}

// gsmDecode turns septets into text. An escape before a septet the
// extension table lacks reads as the basic character (23.038's rule); a
// trailing escape reads as a space.
func gsmDecode(septets []byte) string {
	out := make([]rune, 0, len(septets))
	for i := 0; i < len(septets); i++ {
		s := septets[i] & 0x7F
		if s != gsmEscape {
			out = append(out, gsmBasic[s])
			continue
		}
		if i+1 == len(septets) {
			out = append(out, ' ')
			break
		}
		i++
		if r, ok := gsmExt[septets[i]&0x7F]; ok {
			out = append(out, r)
		} else {
			out = append(out, gsmBasic[septets[i]&0x7F])
		}
	}
	return string(out)
}

// packSeptets writes septets into ud from bit offset start*7, least
// significant bit first (23.038 section 6.1.2.1.1); ud must be long enough.
func packSeptets(ud []byte, start int, septets []byte) {
	for i, s := range septets {
		bit := (start + i) * 7
		byteIdx, shift := bit/8, bit%8
		ud[byteIdx] |= (s & 0x7F) << shift
		if shift > 1 {
			ud[byteIdx+1] |= (s & 0x7F) >> (8 - shift)
		}
	}
}

// unpackSeptets reads n septets from ud starting at septet offset start;
// it reports false when ud is too short.
func unpackSeptets(ud []byte, start, n int) ([]byte, bool) {
	if n < 0 || start < 0 {
		return nil, false
	}
	out := make([]byte, n)
	for i := range out {
		bit := (start + i) * 7
		byteIdx, shift := bit/8, bit%8
		if byteIdx >= len(ud) {
			return nil, false
		}
		v := uint16(ud[byteIdx]) >> shift
		if shift > 1 {
			if byteIdx+1 >= len(ud) {
				return nil, false
			}
			v |= uint16(ud[byteIdx+1]) << (8 - shift)
		}
		out[i] = byte(v) & 0x7F
	}
	return out, true
}
