// Package g711 converts between 16-bit linear PCM and ITU-T G.711 A-law and
// mu-law, bit-exact with the ITU-T G.191 reference code.
//
// Encoding is a single table lookup: G.191's mu-law encoder only looks at the
// top 14 bits of a sample and its A-law encoder at the top 12, so a 16 KiB and
// a 4 KiB table, filled once at start-up from the reference algorithm, give
// the same codes as the arithmetic for every one of the 65,536 inputs.
// Block forms write into caller-owned buffers and never allocate.
package g711

// The tables are arrays so that an index of uint16>>n needs no bounds check.
var (
	ulawEnc [1 << 14]uint8
	alawEnc [1 << 12]uint8
	ulawDec [256]int16
	alawDec [256]int16
)

func init() {
	for i := range ulawEnc {
		ulawEnc[i] = ulawCompress(int16(uint16(i) << 2))
	}
	for i := range alawEnc {
		alawEnc[i] = alawCompress(int16(uint16(i) << 4))
	}
	for i := range 256 {
		ulawDec[i] = ulawExpand(uint8(i))
		alawDec[i] = alawExpand(uint8(i))
	}
}

// ulawCompress is G.191's mu-law encoder: 14-bit magnitude with a bias of
// 33, eight segments, all bits inverted on the line.
func ulawCompress(x int16) uint8 {
	var mag int32
	if x < 0 {
		mag = int32(^x>>2) + 33
	} else {
		mag = int32(x>>2) + 33
	}
	mag = min(mag, 0x1fff)
	seg := int32(1)
	for i := mag >> 6; i != 0; i >>= 1 {
		seg++
	}
	code := uint8((8-seg)<<4) | uint8(0xf-((mag>>seg)&0xf))
	if x >= 0 {
		code |= 0x80
	}
	return code
}

// ulawExpand is G.191's mu-law decoder.
func ulawExpand(code uint8) int16 {
	inv := ^code
	exp := int32(inv>>4) & 7
	mant := int32(inv & 0xf)
	step := int32(4) << (exp + 1)
	v := (0x80 << exp) + step*mant + step/2 - 4*33
	if code < 0x80 {
		return int16(-v)
	}
	return int16(v)
}

// alawCompress is G.191's A-law encoder: 12-bit magnitude (one's complement
// for negative samples), seven segments above a linear one, even bits
// inverted on the line.
func alawCompress(x int16) uint8 {
	var ix int32
	if x < 0 {
		ix = int32(^x >> 4)
	} else {
		ix = int32(x >> 4)
	}
	if ix > 15 {
		exp := int32(1)
		for ix > 16+15 {
			ix >>= 1
			exp++
		}
		ix = ix - 16 + exp<<4
	}
	if x >= 0 {
		ix |= 0x80
	}
	return uint8(ix) ^ 0x55
}

// alawExpand is G.191's A-law decoder.
func alawExpand(code uint8) int16 {
	ix := int32(code ^ 0x55)
	exp := (ix & 0x7f) >> 4
	mant := ix & 0xf
	if exp > 0 {
		mant += 16
	}
	mant = mant<<4 + 8
	if exp > 1 {
		mant <<= exp - 1
	}
	if ix > 127 {
		return int16(mant)
	}
	return int16(-mant)
}

// EncodeUlawSample returns the mu-law code of one linear sample.
func EncodeUlawSample(s int16) uint8 { return ulawEnc[uint16(s)>>2] }

// DecodeUlawSample returns the linear value of one mu-law code.
func DecodeUlawSample(c uint8) int16 { return ulawDec[c] }

// EncodeAlawSample returns the A-law code of one linear sample.
func EncodeAlawSample(s int16) uint8 { return alawEnc[uint16(s)>>4] }

// DecodeAlawSample returns the linear value of one A-law code.
func DecodeAlawSample(c uint8) int16 { return alawDec[c] }

// EncodeUlaw encodes src into dst and returns the number of samples
// encoded, min(len(dst), len(src)).
func EncodeUlaw(dst []uint8, src []int16) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = ulawEnc[uint16(s)>>2]
	}
	return n
}

// DecodeUlaw decodes src into dst and returns the number of samples
// decoded, min(len(dst), len(src)).
func DecodeUlaw(dst []int16, src []uint8) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, c := range src {
		dst[i] = ulawDec[c]
	}
	return n
}

// EncodeAlaw encodes src into dst and returns the number of samples
// encoded, min(len(dst), len(src)).
func EncodeAlaw(dst []uint8, src []int16) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = alawEnc[uint16(s)>>4]
	}
	return n
}

// DecodeAlaw decodes src into dst and returns the number of samples
// decoded, min(len(dst), len(src)).
func DecodeAlaw(dst []int16, src []uint8) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, c := range src {
		dst[i] = alawDec[c]
	}
	return n
}
