package tiff

import (
	"encoding/binary"
	"fmt"
	"sort"

	"callbox/dsp/fax/t4"
)

// WriteOptions say how Encode codes the pages.
type WriteOptions struct {
	Coding   t4.Coding // MH, MR or MMR (MH when zero)
	Software string    // written in the Software tag if set
	DateTime string    // "YYYY:MM:DD HH:MM:SS", written if set
	// Description is the ImageDescription, e.g. the sender's identity.
	Description string
}

// Encode returns a TIFF Class F file holding pages, coded as opt says.
func Encode(pages []*t4.Page, opt WriteOptions) ([]byte, error) {
	if len(pages) == 0 {
		return nil, fmt.Errorf("tiff: no pages to write")
	}
	if opt.Coding == 0 {
		opt.Coding = t4.MH
	}
	var enc t4.Encoder
	buf := []byte{'I', 'I', 42, 0, 0, 0, 0, 0} // the first IFD offset is patched below
	le := binary.LittleEndian
	next := 4 // where the previous IFD's "next" offset goes
	for i, p := range pages {
		if p.Width <= 0 || p.Height <= 0 {
			return nil, fmt.Errorf("tiff: page %d is empty", i+1)
		}
		start := len(buf)
		var err error
		var compression, options uint32 = compT4, 4 // EOLs byte-aligned
		switch opt.Coding {
		case t4.MH:
			buf, err = enc.Encode(buf, p, t4.EncodeOptions{Coding: t4.MH, Layout: t4.Strip, AlignEOL: true})
		case t4.MR:
			options |= 1
			buf, err = enc.Encode(buf, p, t4.EncodeOptions{Coding: t4.MR, Layout: t4.Strip, AlignEOL: true})
		case t4.MMR:
			compression, options = compT6, 0
			buf, err = enc.Encode(buf, p, t4.EncodeOptions{Coding: t4.MMR, Layout: t4.Strip})
		default:
			return nil, fmt.Errorf("tiff: cannot write %v", opt.Coding)
		}
		if err != nil {
			return nil, fmt.Errorf("tiff: page %d: %w", i+1, err)
		}
		stripLen := len(buf) - start
		if len(buf)%2 == 1 {
			buf = append(buf, 0) // IFDs start on a word boundary
		}
		xres, yres := p.XRes, p.YRes
		if xres <= 0 {
			xres = t4.XRes
		}
		if yres <= 0 {
			yres = t4.YResFine
		}
		entries := []entry{
			{tag: tagNewSubfileType, typ: typeLong, vals: []uint32{2}}, // a page of a multi-page document
			{tag: tagImageWidth, typ: typeLong, vals: []uint32{uint32(p.Width)}},
			{tag: tagImageLength, typ: typeLong, vals: []uint32{uint32(p.Height)}},
			{tag: tagBitsPerSample, typ: typeShort, vals: []uint32{1}},
			{tag: tagCompression, typ: typeShort, vals: []uint32{compression}},
			{tag: tagPhotometric, typ: typeShort, vals: []uint32{photoWhiteIsZero}},
			{tag: tagFillOrder, typ: typeShort, vals: []uint32{1}},
			{tag: tagStripOffsets, typ: typeLong, vals: []uint32{uint32(start)}},
			{tag: tagSamplesPerPixel, typ: typeShort, vals: []uint32{1}},
			{tag: tagRowsPerStrip, typ: typeLong, vals: []uint32{uint32(p.Height)}},
			{tag: tagStripByteCounts, typ: typeLong, vals: []uint32{uint32(stripLen)}},
			{tag: tagXResolution, typ: typeRational, vals: []uint32{uint32(xres), 1}},
			{tag: tagYResolution, typ: typeRational, vals: []uint32{uint32(yres), 1}},
			{tag: tagResolutionUnit, typ: typeShort, vals: []uint32{2}}, // inch
			{tag: tagPageNumber, typ: typeShort, vals: []uint32{uint32(i), uint32(len(pages))}},
			{tag: tagCleanFaxData, typ: typeShort, vals: []uint32{0}}, // clean
		}
		if opt.Coding == t4.MMR {
			entries = append(entries, entry{tag: tagT6Options, typ: typeLong, vals: []uint32{0}})
		} else {
			entries = append(entries, entry{tag: tagT4Options, typ: typeLong, vals: []uint32{options}})
		}
		if opt.Software != "" {
			entries = append(entries, entry{tag: tagSoftware, typ: typeASCII, str: opt.Software})
		}
		if opt.DateTime != "" {
			entries = append(entries, entry{tag: tagDateTime, typ: typeASCII, str: opt.DateTime})
		}
		if opt.Description != "" {
			entries = append(entries, entry{tag: tagImageDescription, typ: typeASCII, str: opt.Description})
		}
		sort.Slice(entries, func(a, b int) bool { return entries[a].tag < entries[b].tag })
		le.PutUint32(buf[next:], uint32(len(buf)))
		buf, next = writeIFD(buf, entries)
	}
	return buf, nil
}

// entry is one field of an IFD to write.
type entry struct {
	tag, typ uint16
	vals     []uint32 // shorts, longs, or rational numerator/denominator pairs
	str      string   // ASCII
}

// writeIFD appends an IFD and the values that do not fit in its entries,
// and returns the buffer and the position of its next-IFD offset (0).
func writeIFD(buf []byte, entries []entry) ([]byte, int) {
	le := binary.LittleEndian
	ifd := len(buf)
	extra := ifd + 2 + 12*len(entries) + 4 // out-of-line values go after the IFD
	var tail []byte
	buf = le.AppendUint16(buf, uint16(len(entries)))
	for _, e := range entries {
		var data []byte
		count := len(e.vals)
		switch e.typ {
		case typeShort:
			for _, v := range e.vals {
				data = le.AppendUint16(data, uint16(v))
			}
		case typeLong:
			for _, v := range e.vals {
				data = le.AppendUint32(data, v)
			}
		case typeRational:
			for _, v := range e.vals {
				data = le.AppendUint32(data, v)
			}
			count /= 2
		case typeASCII:
			data = append([]byte(e.str), 0)
			count = len(data)
		}
		buf = le.AppendUint16(buf, e.tag)
		buf = le.AppendUint16(buf, e.typ)
		buf = le.AppendUint32(buf, uint32(count))
		if len(data) <= 4 {
			var v [4]byte
			copy(v[:], data)
			buf = append(buf, v[:]...)
			continue
		}
		buf = le.AppendUint32(buf, uint32(extra+len(tail)))
		tail = append(tail, data...)
		if len(tail)%2 == 1 {
			tail = append(tail, 0)
		}
	}
	next := len(buf)
	buf = le.AppendUint32(buf, 0)
	return append(buf, tail...), next
}
