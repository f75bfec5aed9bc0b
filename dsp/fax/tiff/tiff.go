// Package tiff reads and writes TIFF files for fax: TIFF Class F (RFC 2306:
// one bilevel page per image file directory, T.4 MH or MR or T.6 MMR coded,
// 204 dpi across and 98 or 196 down) for received faxes and documents to
// send, and, for reading, the other kinds of TIFF a document may come as:
// bilevel uncompressed, PackBits or CCITT RLE; grayscale, RGB and palette
// images uncompressed, PackBits, LZW or Deflate coded.
//
// It works on byte slices and does no I/O. Bilevel pages come back as
// *t4.Page; other images as *image.Gray, *image.RGBA or *image.Paletted, for
// t4.FromImage to turn into fax pages.
package tiff

// Tags used.
const (
	tagNewSubfileType   = 254
	tagImageWidth       = 256
	tagImageLength      = 257
	tagBitsPerSample    = 258
	tagCompression      = 259
	tagPhotometric      = 262
	tagFillOrder        = 266
	tagImageDescription = 270
	tagStripOffsets     = 273
	tagOrientation      = 274
	tagSamplesPerPixel  = 277
	tagRowsPerStrip     = 278
	tagStripByteCounts  = 279
	tagXResolution      = 282
	tagYResolution      = 283
	tagPlanarConfig     = 284
	tagT4Options        = 292
	tagT6Options        = 293
	tagResolutionUnit   = 296
	tagPageNumber       = 297
	tagSoftware         = 305
	tagDateTime         = 306
	tagPredictor        = 317
	tagColorMap         = 320
	tagBadFaxLines      = 326
	tagCleanFaxData     = 327
	tagConsecutiveBad   = 328
)

// Field types.
const (
	typeByte     = 1
	typeASCII    = 2
	typeShort    = 3
	typeLong     = 4
	typeRational = 5
)

// Compression schemes.
const (
	compNone     = 1
	compCCITTRLE = 2
	compT4       = 3
	compT6       = 4
	compLZW      = 5
	compDeflate  = 8
	compDeflate2 = 32946 // the older Adobe code for Deflate
	compPackBits = 32773
)

// Photometric interpretations.
const (
	photoWhiteIsZero = 0
	photoBlackIsZero = 1
	photoRGB         = 2
	photoPalette     = 3
)

// Limits that keep a hostile file from asking for unbounded work.
const (
	maxPages   = 1000
	maxEntries = 1000
	maxPixels  = 1 << 25
)
