package t4

// The run-length codes of ITU-T T.4 (Tables 2 and 3, and the extended
// make-up codes of Table 3 shared by both colours), and the 2D mode codes
// (Table 4), as strings of bits to keep them checkable against the tables.

// whiteTerm[n] codes a white run of n (0-63) pixels.
var whiteTerm = [64]string{
	"00110101", "000111", "0111", "1000", "1011", "1100", "1110", "1111",
	"10011", "10100", "00111", "01000", "001000", "000011", "110100", "110101",
	"101010", "101011", "0100111", "0001100", "0001000", "0010111", "0000011", "0000100",
	"0101000", "0101011", "0010011", "0100100", "0011000", "00000010", "00000011", "00011010",
	"00011011", "00010010", "00010011", "00010100", "00010101", "00010110", "00010111", "00101000",
	"00101001", "00101010", "00101011", "00101100", "00101101", "00000100", "00000101", "00001010",
	"00001011", "01010010", "01010011", "01010100", "01010101", "00100100", "00100101", "01011000",
	"01011001", "01011010", "01011011", "01001010", "01001011", "00110010", "00110011", "00110100",
}

// whiteMakeup[i] codes a white run of 64*(i+1) pixels (64-1728).
var whiteMakeup = [27]string{
	"11011", "10010", "010111", "0110111", "00110110", "00110111", "01100100", "01100101",
	"01101000", "01100111", "011001100", "011001101", "011010010", "011010011", "011010100", "011010101",
	"011010110", "011010111", "011011000", "011011001", "011011010", "011011011", "010011000", "010011001",
	"010011010", "011000", "010011011",
}

// blackTerm[n] codes a black run of n (0-63) pixels.
var blackTerm = [64]string{
	"0000110111", "010", "11", "10", "011", "0011", "0010", "00011",
	"000101", "000100", "0000100", "0000101", "0000111", "00000100", "00000111", "000011000",
	"0000010111", "0000011000", "0000001000", "00001100111", "00001101000", "00001101100", "00000110111", "00000101000",
	"00000010111", "00000011000", "000011001010", "000011001011", "000011001100", "000011001101", "000001101000", "000001101001",
	"000001101010", "000001101011", "000011010010", "000011010011", "000011010100", "000011010101", "000011010110", "000011010111",
	"000001101100", "000001101101", "000011011010", "000011011011", "000001010100", "000001010101", "000001010110", "000001010111",
	"000001100100", "000001100101", "000001010010", "000001010011", "000000100100", "000000110111", "000000111000", "000000100111",
	"000000101000", "000001011000", "000001011001", "000000101011", "000000101100", "000001011010", "000001100110", "000001100111",
}

// blackMakeup[i] codes a black run of 64*(i+1) pixels (64-1728).
var blackMakeup = [27]string{
	"0000001111", "000011001000", "000011001001", "000001011011", "000000110011", "000000110100", "000000110101", "0000001101100",
	"0000001101101", "0000001001010", "0000001001011", "0000001001100", "0000001001101", "0000001110010", "0000001110011", "0000001110100",
	"0000001110101", "0000001110110", "0000001110111", "0000001010010", "0000001010011", "0000001010100", "0000001010101", "0000001011010",
	"0000001011011", "0000001100100", "0000001100101",
}

// extMakeup[i] codes a run of 1792+64*i pixels (1792-2560) of either colour.
var extMakeup = [13]string{
	"00000001000", "00000001100", "00000001101", "000000010010", "000000010011", "000000010100", "000000010101",
	"000000010110", "000000010111", "000000011100", "000000011101", "000000011110", "000000011111",
}

// eolCode is the end-of-line code: eleven zeros and a one.
const eolCode = "000000000001"

// The 2D coding modes.
const (
	modePass = iota
	modeHoriz
	modeV0
	modeVR1
	modeVR2
	modeVR3
	modeVL1
	modeVL2
	modeVL3
	modeExt
	modeEOL
	numModes
)

// modeCode is the bit string of each 2D mode.
var modeCode = [numModes]string{
	modePass: "0001", modeHoriz: "001", modeV0: "1",
	modeVR1: "011", modeVR2: "000011", modeVR3: "0000011",
	modeVL1: "010", modeVL2: "000010", modeVL3: "0000010",
	modeExt: "0000001", modeEOL: eolCode,
}

// code is a variable-length code, bits right-aligned.
type code struct {
	bits uint32
	n    uint8
}

func parseCode(s string) code {
	var c code
	for _, ch := range s {
		c.bits = c.bits<<1 | uint32(ch-'0')
		c.n++
	}
	return c
}

// Encoding tables: runCodes[colour] gives the terminating codes; makeup
// codes for multiples of 64 up to 2560 are in makeupCodes[colour][n/64-1].
var (
	termCodes   [2][64]code
	makeupCodes [2][40]code
	modeCodes   [numModes]code
	eol         = parseCode(eolCode)
)

// Decoding tables, indexed by the next lookBits bits of the stream.
const lookBits = 13

// entry is what a decoding table holds for one bit pattern.
type entry struct {
	run  int16 // run length, or a mode (2D table)
	n    uint8 // code length in bits; 0 for no valid code
	kind uint8
}

// Kinds of run table entries.
const (
	kindInvalid = iota
	kindTerm
	kindMakeup
	kindEOL
)

var (
	runTable  [2][1 << lookBits]entry // white, black
	modeTable [1 << 7]entry           // 2D modes, by the next 7 bits (EOL excepted)
)

func init() {
	for c, tabs := range [2]struct {
		term   []string
		makeup []string
	}{{whiteTerm[:], whiteMakeup[:]}, {blackTerm[:], blackMakeup[:]}} {
		for n, s := range tabs.term {
			termCodes[c][n] = parseCode(s)
			fill(runTable[c][:], lookBits, parseCode(s), entry{run: int16(n), kind: kindTerm})
		}
		for i, s := range tabs.makeup {
			makeupCodes[c][i] = parseCode(s)
			fill(runTable[c][:], lookBits, parseCode(s), entry{run: int16(64 * (i + 1)), kind: kindMakeup})
		}
		for i, s := range extMakeup {
			makeupCodes[c][27+i] = parseCode(s)
			fill(runTable[c][:], lookBits, parseCode(s), entry{run: int16(1792 + 64*i), kind: kindMakeup})
		}
		fill(runTable[c][:], lookBits, eol, entry{kind: kindEOL})
	}
	for m, s := range modeCode {
		modeCodes[m] = parseCode(s)
		if m != modeEOL {
			fill(modeTable[:], 7, parseCode(s), entry{run: int16(m), kind: kindTerm})
		}
	}
}

// fill sets every table slot whose top bits are c to e.
func fill(tab []entry, bits int, c code, e entry) {
	e.n = c.n
	shift := bits - int(c.n)
	base := int(c.bits) << shift
	for i := range 1 << shift {
		tab[base+i] = e
	}
}
