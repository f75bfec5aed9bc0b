package t4

import (
	"fmt"
	"math/bits"
)

// Coding is a T.4/T.6 coding scheme.
type Coding uint8

const (
	// MH is T.4 Modified Huffman: each line coded on its own (1D).
	MH Coding = iota + 1
	// MR is T.4 Modified READ: a 1D line then up to K-1 lines coded
	// against the line above (2D).
	MR
	// MMR is T.6 Modified Modified READ: every line 2D, no EOL codes. Over
	// a phone line it needs error correction mode.
	MMR
)

// String returns "MH", "MR" or "MMR".
func (c Coding) String() string {
	switch c {
	case MH:
		return "MH"
	case MR:
		return "MR"
	case MMR:
		return "MMR"
	}
	return fmt.Sprintf("Coding(%d)", c)
}

// ParseCoding reads "mh", "mr" or "mmr" (any case; also "t4-1d", "t4-2d",
// "t6").
func ParseCoding(s string) (Coding, error) {
	switch s {
	case "mh", "MH", "t4-1d", "T4-1D", "g3", "G3":
		return MH, nil
	case "mr", "MR", "t4-2d", "T4-2D", "g3-2d", "G3-2D":
		return MR, nil
	case "mmr", "MMR", "t6", "T6", "g4", "G4":
		return MMR, nil
	}
	return 0, fmt.Errorf("t4: unknown coding %q (want mh, mr or mmr)", s)
}

// Layout is how coded lines are laid out.
type Layout uint8

const (
	// Line is the layout sent over a phone line (T.4 section 4.1): an
	// EOL before the first line and after each, fill bits where needed,
	// and RTC (six EOLs) at the end; MMR ends with EOFB.
	Line Layout = iota
	// Strip is the layout of a TIFF strip: an EOL before each line (MH,
	// MR), no RTC; MMR ends with EOFB.
	Strip
	// Rows is TIFF's Compression 2: MH lines without EOLs, each starting
	// on a byte boundary.
	Rows
)

// EncodeOptions say how Encode codes a page.
type EncodeOptions struct {
	Coding Coding
	Layout Layout
	// K is the MR parameter: one line in K is coded 1D. Zero picks T.4's
	// value for the page's resolution (2 standard, 4 fine and above).
	K int
	// MinRowBits pads each line with fill bits before its EOL so that it
	// lasts at least the receiver's minimum scan line time (T.30's MST:
	// bit rate times the time); 0 for none. MH and MR only.
	MinRowBits int
	// AlignEOL pads before each EOL so that it ends on a byte boundary
	// (TIFF's T4Options bit 2).
	AlignEOL bool
}

// Encoder codes pages; it keeps its working buffers between pages.
type Encoder struct {
	w        bitWriter
	ref, cur []int32 // changing elements of the reference and coding lines
}

// Encode appends the coded page to dst and returns it.
func (e *Encoder) Encode(dst []byte, p *Page, opt EncodeOptions) ([]byte, error) {
	if p.Width <= 0 || p.Width > MaxWidth || p.Stride*p.Height > len(p.Pix) {
		return dst, fmt.Errorf("t4: page of %dx%d pixels with %d bytes is not usable", p.Width, p.Height, len(p.Pix))
	}
	k := opt.K
	if k <= 0 {
		k = 2
		if p.YRes > YResStandard+10 {
			k = 4
		}
	}
	switch opt.Coding {
	case MH, MR, MMR:
	default:
		return dst, fmt.Errorf("t4: cannot encode %v", opt.Coding)
	}
	if opt.Layout == Rows && opt.Coding != MH {
		return dst, fmt.Errorf("t4: the rows layout is MH only")
	}
	e.w = bitWriter{buf: dst}
	// The reference line above the first is white.
	e.ref = append(e.ref[:0], int32(p.Width), int32(p.Width))
	for y := range p.Height {
		e.cur = changes(e.cur[:0], p.Row(y), p.Width)
		switch opt.Coding {
		case MMR:
			e.code2D(p.Width)
		case MH:
			e.startRow(opt, -1)
			e.code1D(p.Width)
		case MR:
			if y%k == 0 {
				e.startRow(opt, 1)
				e.code1D(p.Width)
			} else {
				e.startRow(opt, 0)
				e.code2D(p.Width)
			}
		}
		e.ref, e.cur = e.cur, e.ref
	}
	switch {
	case opt.Coding == MMR:
		e.w.put(eol) // EOFB
		e.w.put(eol)
	case opt.Layout == Line:
		tag := -1
		if opt.Coding == MR {
			tag = 1
		}
		e.startRow(opt, tag) // the EOL after the last line ...
		for range 5 {        // ... and five more make RTC
			e.w.put(eol)
			if tag >= 0 {
				e.w.put(code{1, 1})
			}
		}
	}
	return e.w.flush(), nil
}

// startRow writes what precedes a line: nothing (rows layout, after
// aligning), or fill bits, EOL and, for MR (tag >= 0), the tag bit.
func (e *Encoder) startRow(opt EncodeOptions, tag int) {
	if opt.Layout == Rows {
		e.w.align()
		e.w.bits = 0
		return
	}
	if pad := opt.MinRowBits - e.w.bits - int(eol.n); pad > 0 && e.w.bits > 0 {
		e.w.zeros(pad)
	}
	if opt.AlignEOL {
		e.w.alignBefore(int(eol.n))
	}
	e.w.put(eol)
	if tag >= 0 {
		e.w.put(code{uint32(tag), 1})
	}
	e.w.bits = 0
}

// changes appends the changing elements of a row: the positions where the
// colour differs from the pixel to the left (white before the row), then
// the width twice as the sentinels the 2D coding refers to.
func changes(out []int32, row []byte, width int) []int32 {
	var flip byte // 0xff while the colour so far is black
	for i, b := range row {
		x := i * 8
		if x >= width {
			break
		}
		// The bits that differ from the current colour, leftmost first.
		v := b ^ flip
		for v != 0 {
			k := bits.LeadingZeros8(v)
			if x+k >= width {
				break
			}
			out = append(out, int32(x+k))
			flip = ^flip
			v = (b ^ flip) & (0xff >> (k + 1))
		}
	}
	return append(out, int32(width), int32(width))
}

// runCode writes the codes of a run of n pixels of a colour (0 white).
func (e *Encoder) runCode(colour int, n int32) {
	for n >= 2560+64 {
		e.w.put(makeupCodes[colour][2560/64-1])
		n -= 2560
	}
	if n >= 64 {
		e.w.put(makeupCodes[colour][n/64-1])
		n %= 64
	}
	e.w.put(termCodes[colour][n])
}

// code1D writes the current line as alternating runs, white first.
func (e *Encoder) code1D(width int) {
	a0, colour := int32(0), 0
	for _, c := range e.cur {
		e.runCode(colour, c-a0)
		a0, colour = c, colour^1
		if c == int32(width) {
			return
		}
	}
}

// code2D writes the current line against the reference line (T.4 4.2.1.3).
func (e *Encoder) code2D(width int) {
	ref, cur := e.ref, e.cur
	a0, colour := int32(-1), 0
	i, j0 := 0, 0 // cur index of a1; ref index of the first change > a0
	w := int32(width)
	for a0 < w {
		for cur[i] <= a0 {
			i++
		}
		a1 := cur[i]
		var b1, b2 int32
		b1, b2, j0 = refChanges(ref, j0, a0, colour)
		switch d := a1 - b1; {
		case b2 < a1:
			e.w.put(modeCodes[modePass])
			a0 = b2
		case d >= -3 && d <= 3:
			e.w.put(modeCodes[vertical(d)])
			a0, colour = a1, colour^1
		default:
			a2 := cur[i+1]
			e.w.put(modeCodes[modeHoriz])
			e.runCode(colour, a1-max(a0, 0))
			e.runCode(colour^1, a2-a1)
			a0 = a2
		}
	}
}

// refChanges finds b1 and b2 on the reference line ref (changing elements
// ending with two sentinels): b1 is the first change to the right of a0 to
// the colour opposite a0's, b2 the one after it. j0 is where the search
// starts (a0 only moves right) and comes back updated.
func refChanges(ref []int32, j0 int, a0 int32, colour int) (b1, b2 int32, next int) {
	for ref[j0] <= a0 && j0 < len(ref)-2 {
		j0++
	}
	j := j0
	if j&1 != colour { // changes at even indexes turn black
		j++
	}
	return ref[j], ref[min(j+1, len(ref)-1)], j0
}

// vertical returns the mode of a vertical offset a1 - b1.
func vertical(d int32) int {
	return [...]int{modeVL3, modeVL2, modeVL1, modeV0, modeVR1, modeVR2, modeVR3}[d+3]
}
