package tiff

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"math/bits"

	"callbox/dsp/fax/t4"
)

// field is one IFD entry as read.
type field struct {
	typ   uint16
	count uint32
	raw   []byte // the value bytes
}

// ifd is an image file directory.
type ifd map[uint16]field

type reader struct {
	data []byte
	bo   binary.ByteOrder
}

// Decode returns the images of a TIFF file, one per image file directory,
// in file order: *t4.Page for bilevel images, *image.Gray, *image.RGBA or
// *image.Paletted for others. On a damaged file it returns the images read
// before the damage with the error. Fax lines that do not decode are
// replaced by the line above, as a fax machine would, and are not errors.
func Decode(data []byte) ([]image.Image, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("tiff: file of %d bytes is too short", len(data))
	}
	r := &reader{data: data}
	switch string(data[:4]) {
	case "II*\x00":
		r.bo = binary.LittleEndian
	case "MM\x00*":
		r.bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("tiff: not a TIFF file")
	}
	var images []image.Image
	seen := map[uint32]bool{}
	off := r.bo.Uint32(data[4:])
	for off != 0 {
		if len(images) == maxPages {
			return images, fmt.Errorf("tiff: more than %d pages", maxPages)
		}
		if seen[off] {
			return images, fmt.Errorf("tiff: directories loop at offset %d", off)
		}
		seen[off] = true
		d, next, err := r.readIFD(off)
		if err != nil {
			return images, fmt.Errorf("tiff: page %d: %w", len(images)+1, err)
		}
		img, err := r.decodeImage(d)
		if img != nil && !img.Bounds().Empty() {
			images = append(images, img)
		}
		if err != nil {
			return images, fmt.Errorf("tiff: page %d: %w", len(images)+1, err)
		}
		off = next
	}
	if len(images) == 0 {
		return nil, fmt.Errorf("tiff: no images")
	}
	return images, nil
}

func (r *reader) readIFD(off uint32) (ifd, uint32, error) {
	if uint64(off)+2 > uint64(len(r.data)) {
		return nil, 0, fmt.Errorf("directory offset %d beyond the end of the file", off)
	}
	n := int(r.bo.Uint16(r.data[off:]))
	end := uint64(off) + 2 + 12*uint64(n) + 4
	if n > maxEntries || end > uint64(len(r.data)) {
		return nil, 0, fmt.Errorf("directory of %d entries does not fit the file", n)
	}
	d := ifd{}
	for i := range n {
		e := r.data[int(off)+2+12*i:]
		tag, typ, count := r.bo.Uint16(e), r.bo.Uint16(e[2:]), r.bo.Uint32(e[4:])
		size := typeSize(typ)
		if size == 0 {
			continue // a type we do not read
		}
		total := uint64(size) * uint64(count)
		var raw []byte
		if total <= 4 {
			raw = e[8 : 8+total]
		} else {
			vo := uint64(r.bo.Uint32(e[8:]))
			if vo+total > uint64(len(r.data)) {
				return nil, 0, fmt.Errorf("tag %d: values beyond the end of the file", tag)
			}
			raw = r.data[vo : vo+total]
		}
		d[tag] = field{typ: typ, count: count, raw: raw}
	}
	return d, r.bo.Uint32(r.data[end-4:]), nil
}

func typeSize(typ uint16) int {
	switch typ {
	case typeByte, typeASCII, 7 /* UNDEFINED */ :
		return 1
	case typeShort:
		return 2
	case typeLong:
		return 4
	case typeRational:
		return 8
	}
	return 0
}

// uints returns an integer field's values.
func (r *reader) uints(d ifd, tag uint16) []uint32 {
	f, ok := d[tag]
	if !ok {
		return nil
	}
	out := make([]uint32, f.count)
	for i := range out {
		switch f.typ {
		case typeByte:
			out[i] = uint32(f.raw[i])
		case typeShort:
			out[i] = uint32(r.bo.Uint16(f.raw[2*i:]))
		case typeLong:
			out[i] = r.bo.Uint32(f.raw[4*i:])
		default:
			return nil
		}
	}
	return out
}

// uint returns the first value of an integer field, or def.
func (r *reader) uint(d ifd, tag uint16, def uint32) uint32 {
	if v := r.uints(d, tag); len(v) > 0 {
		return v[0]
	}
	return def
}

// rational returns a RATIONAL field's first value, or 0.
func (r *reader) rational(d ifd, tag uint16) float64 {
	f, ok := d[tag]
	if !ok || f.typ != typeRational || f.count == 0 {
		return 0
	}
	num, den := r.bo.Uint32(f.raw), r.bo.Uint32(f.raw[4:])
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// strip is one strip's data and rows.
type strip struct {
	data []byte
	rows int
}

func (r *reader) strips(d ifd, height int) ([]strip, error) {
	offsets, counts := r.uints(d, tagStripOffsets), r.uints(d, tagStripByteCounts)
	if len(offsets) == 0 {
		return nil, fmt.Errorf("no strips")
	}
	if len(counts) != len(offsets) {
		return nil, fmt.Errorf("%d strip offsets but %d byte counts", len(offsets), len(counts))
	}
	perStrip := int(r.uint(d, tagRowsPerStrip, uint32(height)))
	if perStrip <= 0 || perStrip > height {
		perStrip = height
	}
	var out []strip
	left := height
	for i, o := range offsets {
		if left <= 0 {
			break
		}
		end := uint64(o) + uint64(counts[i])
		if end > uint64(len(r.data)) {
			return out, fmt.Errorf("strip %d runs past the end of the file", i)
		}
		rows := min(perStrip, left)
		out = append(out, strip{data: r.data[o:end], rows: rows})
		left -= rows
	}
	return out, nil
}

// dpi converts a resolution field to dots per inch.
func (r *reader) dpi(d ifd, tag uint16, def int) int {
	v := r.rational(d, tag)
	if v <= 0 || v > 10000 {
		return def
	}
	switch r.uint(d, tagResolutionUnit, 2) {
	case 3: // centimetre
		v *= 2.54
	case 1: // no unit
		return def
	}
	return int(math.Round(v))
}

func (r *reader) decodeImage(d ifd) (image.Image, error) {
	width, height := int(r.uint(d, tagImageWidth, 0)), int(r.uint(d, tagImageLength, 0))
	if width <= 0 || height <= 0 || uint64(width)*uint64(height) > maxPixels {
		return nil, fmt.Errorf("image of %dx%d pixels", width, height)
	}
	bps := r.uints(d, tagBitsPerSample)
	if len(bps) == 0 {
		bps = []uint32{1}
	}
	spp := int(r.uint(d, tagSamplesPerPixel, 1))
	comp := r.uint(d, tagCompression, compNone)
	photo := r.uint(d, tagPhotometric, photoWhiteIsZero)
	strips, err := r.strips(d, height)
	if err != nil && len(strips) == 0 {
		return nil, err
	}
	if r.uint(d, tagFillOrder, 1) == 2 {
		for i := range strips {
			rev := make([]byte, len(strips[i].data))
			for k, b := range strips[i].data {
				rev[k] = bits.Reverse8(b)
			}
			strips[i].data = rev
		}
	}
	if bps[0] == 1 && spp == 1 && photo <= photoBlackIsZero {
		if width > t4.MaxWidth {
			return nil, fmt.Errorf("bilevel image %d pixels wide", width)
		}
		p, perr := r.bilevel(d, strips, width, height, comp)
		if perr != nil {
			err = perr
		}
		if p != nil && photo == photoBlackIsZero {
			for i := range p.Pix {
				p.Pix[i] = ^p.Pix[i]
			}
		}
		if p == nil {
			return nil, err
		}
		return p, err
	}
	img, cerr := r.contone(d, strips, width, height, comp, int(bps[0]), spp, photo)
	if cerr != nil {
		err = cerr
	}
	return img, err
}

// bilevel decodes a 1-bit image into a fax page, padding with white rows
// if its data ends early.
func (r *reader) bilevel(d ifd, strips []strip, width, height int, comp uint32) (*t4.Page, error) {
	p, err := t4.NewPage(width, 0, r.dpi(d, tagXResolution, t4.XRes), r.dpi(d, tagYResolution, t4.YResFine))
	if err != nil {
		return nil, err
	}
	var dec t4.Decoder
	var firstErr error
	for i, s := range strips {
		before := p.Height
		var err error
		switch comp {
		case compNone:
			err = rawRows(p, s.data, s.rows)
		case compPackBits, compLZW, compDeflate, compDeflate2:
			var raw []byte
			raw, err = unpack(comp, s.data, s.rows*p.Stride)
			if err == nil {
				err = rawRows(p, raw, s.rows)
			}
		case compCCITTRLE:
			_, err = dec.Decode(s.data, t4.DecodeOptions{Coding: t4.MH, Layout: t4.Rows, Width: width, Height: s.rows}, p)
		case compT4:
			coding := t4.MH
			opts := r.uint(d, tagT4Options, 0)
			if opts&1 != 0 {
				coding = t4.MR
			}
			if opts&2 != 0 {
				return nil, fmt.Errorf("T.4 uncompressed mode is not supported")
			}
			_, err = dec.Decode(s.data, t4.DecodeOptions{Coding: coding, Layout: t4.Strip, Width: width, Height: s.rows}, p)
		case compT6:
			_, err = dec.Decode(s.data, t4.DecodeOptions{Coding: t4.MMR, Layout: t4.Strip, Width: width, Height: s.rows}, p)
		default:
			return nil, fmt.Errorf("bilevel compression %d is not supported", comp)
		}
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("strip %d: %w", i, err)
		}
		// Keep the page's geometry whatever the strip held.
		for p.Height < before+s.rows {
			p.Pix = append(p.Pix, make([]byte, p.Stride)...)
			p.Height++
		}
		p.Pix, p.Height = p.Pix[:(before+s.rows)*p.Stride], before+s.rows
	}
	for p.Height < height {
		p.Pix = append(p.Pix, make([]byte, p.Stride)...)
		p.Height++
		if firstErr == nil {
			firstErr = fmt.Errorf("image data ends after %d of %d rows", p.Height-1, height)
		}
	}
	return p, firstErr
}

// rawRows appends uncompressed 1-bit rows.
func rawRows(p *t4.Page, data []byte, rows int) error {
	n := min(rows, len(data)/p.Stride)
	p.Pix = append(p.Pix, data[:n*p.Stride]...)
	p.Height += n
	if n < rows {
		return fmt.Errorf("uncompressed strip holds %d of %d rows", n, rows)
	}
	return nil
}

// unpackBits decodes PackBits into at most want bytes.
func unpackBits(src []byte, want int) ([]byte, error) {
	var out []byte
	for i := 0; i < len(src) && len(out) < want; {
		n := int(int8(src[i]))
		i++
		switch {
		case n >= 0:
			if i+n+1 > len(src) {
				return out, fmt.Errorf("PackBits literal runs past the strip")
			}
			out = append(out, src[i:i+n+1]...)
			i += n + 1
		case n != -128:
			if i >= len(src) {
				return out, fmt.Errorf("PackBits run past the strip")
			}
			for range 1 - n {
				out = append(out, src[i])
			}
			i++
		}
	}
	if len(out) > want {
		out = out[:want]
	}
	return out, nil
}

// contone decodes a grayscale, RGB or palette image with 8 bits a sample.
func (r *reader) contone(d ifd, strips []strip, width, height int, comp uint32, bps, spp int, photo uint32) (image.Image, error) {
	if bps != 8 || (spp != 1 && spp != 3 && spp != 4) || r.uint(d, tagPlanarConfig, 1) != 1 {
		return nil, fmt.Errorf("%d samples of %d bits a pixel are not supported", spp, bps)
	}
	rowLen := width * spp
	var raw []byte // grows with the data actually decoded
	for i, s := range strips {
		want := s.rows * rowLen
		b, err := unpack(comp, s.data, want)
		if err != nil {
			return nil, fmt.Errorf("strip %d: %w", i, err)
		}
		if len(b) < want {
			return nil, fmt.Errorf("strip %d holds %d of %d bytes", i, len(b), want)
		}
		b = b[:want]
		if r.uint(d, tagPredictor, 1) == 2 {
			b = append([]byte(nil), b...)
			for y := range s.rows {
				row := b[y*rowLen : (y+1)*rowLen]
				for x := spp; x < rowLen; x++ {
					row[x] += row[x-spp]
				}
			}
		}
		raw = append(raw, b...)
	}
	rect := image.Rect(0, 0, width, height)
	switch {
	case spp == 1 && photo == photoPalette:
		cm := r.uints(d, tagColorMap)
		if len(cm) != 3*256 {
			return nil, fmt.Errorf("palette image without a 256-entry colour map")
		}
		pal := make(color.Palette, 256)
		for i := range pal {
			pal[i] = color.RGBA{uint8(cm[i] >> 8), uint8(cm[256+i] >> 8), uint8(cm[512+i] >> 8), 255}
		}
		return &image.Paletted{Pix: raw, Stride: width, Rect: rect, Palette: pal}, nil
	case spp == 1:
		if photo == photoWhiteIsZero {
			for i := range raw {
				raw[i] = ^raw[i]
			}
		}
		return &image.Gray{Pix: raw, Stride: width, Rect: rect}, nil
	case photo == photoRGB:
		img := image.NewRGBA(rect)
		for i := range width * height {
			copy(img.Pix[4*i:4*i+3], raw[spp*i:spp*i+3])
			img.Pix[4*i+3] = 255
		}
		return img, nil
	}
	return nil, fmt.Errorf("photometric interpretation %d with %d samples is not supported", photo, spp)
}

// unpack decodes a strip of a general-purpose compression into at most
// want bytes.
func unpack(comp uint32, data []byte, want int) ([]byte, error) {
	switch comp {
	case compNone:
		return data, nil
	case compPackBits:
		return unpackBits(data, want)
	case compLZW:
		return unLZW(data, want)
	case compDeflate, compDeflate2:
		return inflate(data, want)
	}
	return nil, fmt.Errorf("compression %d is not supported", comp)
}

// inflate decodes Deflate (zlib) data into at most want bytes.
func inflate(src []byte, want int) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(zr, int64(want)))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return out, err
	}
	return out, nil
}

// unLZW decodes TIFF's LZW (codes most significant bit first, 9 to 12
// bits, the width growing one code early) into at most want bytes.
func unLZW(src []byte, want int) ([]byte, error) {
	const clear, eoi = 256, 257
	var prefix [4096]int16
	var suffix [4096]byte
	var first [4096]byte
	var stack [4096]byte
	for i := range 256 {
		first[i] = byte(i)
	}
	var out []byte
	var acc uint32
	nacc, pos := 0, 0
	width, next, prev := 9, 258, -1
	for len(out) < want {
		for nacc < width {
			if pos >= len(src) {
				return out, nil
			}
			acc = acc<<8 | uint32(src[pos])
			pos++
			nacc += 8
		}
		code := int(acc>>(nacc-width)) & (1<<width - 1)
		nacc -= width
		switch {
		case code == clear:
			width, next, prev = 9, 258, -1
			continue
		case code == eoi:
			return out, nil
		case prev < 0:
			if code > 255 {
				return out, fmt.Errorf("LZW code %d after a clear", code)
			}
			out = append(out, byte(code))
			prev = code
			continue
		case code > next:
			return out, fmt.Errorf("LZW code %d beyond the table (%d)", code, next)
		}
		// Emit the string of code (or, for the code being defined, the
		// previous string plus its own first byte).
		c, n := code, 0
		if code == next {
			stack[n] = first[prev]
			n++
			c = prev
		}
		for c > 255 {
			stack[n] = suffix[c]
			n++
			c = int(prefix[c])
		}
		stack[n] = byte(c)
		n++
		for i := n - 1; i >= 0 && len(out) < want; i-- {
			out = append(out, stack[i])
		}
		if next < 4096 {
			prefix[next], suffix[next] = int16(prev), stack[n-1]
			if prev < 256 {
				first[next] = byte(prev)
			} else {
				first[next] = first[prev]
			}
			next++
		}
		if next+1 >= 1<<width && width < 12 {
			width++
		}
		prev = code
	}
	return out, nil
}
