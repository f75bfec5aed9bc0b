package t4

import (
	"errors"
	"fmt"
)

// DecodeOptions say how Decode reads coded data.
type DecodeOptions struct {
	Coding Coding
	Layout Layout // Line and Strip decode alike; Rows is TIFF's Compression 2
	Width  int
	// Height is the number of rows expected (a TIFF strip's); 0 decodes
	// until RTC, EOFB or the end of the data.
	Height int
}

// Stats describe a decoded page.
type Stats struct {
	Rows      int  // rows added to the page
	BadRows   int  // rows that did not decode and were replaced by the row above
	MaxBadRun int  // the longest run of consecutive bad rows
	End       bool // the page ended with RTC (MH, MR) or EOFB (MMR)
	// BadBits counts the bits of the lines that did not decode, and of
	// the search for the next EOL after them: when EOLs are lost, lines
	// merge, so this shows damage that BadRows understates.
	BadBits int
	Bits    int // bits consumed in all
}

// ErrNoImage is returned when the data holds no decodable row at all.
var ErrNoImage = errors.New("t4: no image data")

// errRow marks a line that does not decode.
var errRow = errors.New("t4: bad line")

// Decoder decodes pages; it keeps its working buffers between pages.
type Decoder struct {
	r        bitReader
	ref, cur []int32
	row      []byte
	stats    Stats
	badRun   int
}

// Decode decodes data and appends its rows to p, whose Width must be
// opt.Width. Lines that do not decode are replaced by the line above (white
// for the first) and counted; an MMR page stops at the first bad line (there
// is no EOL to resynchronise on). The error is non-nil only when nothing
// usable was found, or for MMR data cut short or corrupt (p then holds the
// rows before the damage).
func (d *Decoder) Decode(data []byte, opt DecodeOptions, p *Page) (Stats, error) {
	if opt.Width <= 0 || opt.Width > MaxWidth || opt.Width != p.Width {
		return Stats{}, fmt.Errorf("t4: cannot decode rows of %d pixels into a page %d wide", opt.Width, p.Width)
	}
	if opt.Height < 0 || opt.Height > MaxHeight {
		return Stats{}, fmt.Errorf("t4: %d rows out of range", opt.Height)
	}
	d.r.reset(data)
	d.stats, d.badRun = Stats{}, 0
	if cap(d.row) < p.Stride {
		d.row = make([]byte, p.Stride)
	}
	d.row = d.row[:p.Stride]
	d.ref = append(d.ref[:0], int32(opt.Width), int32(opt.Width))
	var err error
	switch opt.Coding {
	case MMR:
		err = d.decodeMMR(opt, p)
	case MH, MR:
		if opt.Layout == Rows {
			err = d.decodeRows(opt, p)
		} else {
			err = d.decodeEOL(opt, p)
		}
	default:
		return Stats{}, fmt.Errorf("t4: cannot decode %v", opt.Coding)
	}
	if err == nil && d.stats.Rows == 0 && opt.Height != 0 {
		err = ErrNoImage
	}
	d.stats.Bits = min(d.r.used, 8*len(data))
	return d.stats, err
}

// full reports whether the expected rows are all there.
func (d *Decoder) full(opt DecodeOptions) bool { return opt.Height > 0 && d.stats.Rows >= opt.Height }

// emit appends the current line (d.cur) to the page as a good row.
func (d *Decoder) emit(p *Page) {
	clear(d.row)
	fillRuns(d.row, d.cur)
	p.appendRow(d.row)
	d.stats.Rows++
	d.badRun = 0
	d.ref, d.cur = d.cur, d.ref
}

// emitBad appends a copy of the row above (white at the top) as a bad row;
// the reference line stays the one above.
func (d *Decoder) emitBad(p *Page) {
	if p.Height > 0 {
		copy(d.row, p.Row(p.Height-1))
	} else {
		clear(d.row)
	}
	p.appendRow(d.row)
	d.stats.Rows++
	d.stats.BadRows++
	d.badRun++
	d.stats.MaxBadRun = max(d.stats.MaxBadRun, d.badRun)
}

// fillRuns sets the black spans of a line given its changing elements.
func fillRuns(row []byte, ch []int32) {
	for i := 0; i+1 < len(ch); i += 2 {
		a, b := int(ch[i]), int(ch[i+1])
		if a >= b {
			if ch[i] == ch[len(ch)-1] {
				return // the sentinels
			}
			continue
		}
		setSpan(row, a, b)
	}
}

// setSpan makes pixels [a, b) black.
func setSpan(row []byte, a, b int) {
	for a < b && a&7 != 0 {
		row[a>>3] |= 0x80 >> (a & 7)
		a++
	}
	for ; a+8 <= b; a += 8 {
		row[a>>3] = 0xff
	}
	for ; a < b; a++ {
		row[a>>3] |= 0x80 >> (a & 7)
	}
}

// eolNext consumes fill and an EOL if they come next, reporting whether
// they did. An EOL is eleven or more zeros and a one.
func (d *Decoder) eolNext() bool {
	if d.r.peek(11) != 0 || d.r.bitsLeft() < 12 {
		return false
	}
	for d.r.bitsLeft() > 0 {
		if d.r.peek(1) == 1 {
			d.r.skip(1)
			return true
		}
		d.r.skip(1)
	}
	return false
}

// padding reports whether only zero padding, less than a byte, is left.
func (d *Decoder) padding() bool {
	left := d.r.bitsLeft()
	return left <= 0 || left < 8 && d.r.peek(uint(left)) == 0
}

// seekEOL skips to just after the next EOL; false at the end of the data.
func (d *Decoder) seekEOL() bool {
	zeros := 0
	for d.r.bitsLeft() > 0 {
		b := d.r.peek(1)
		d.r.skip(1)
		if b == 0 {
			zeros++
			continue
		}
		if zeros >= 11 {
			return true
		}
		zeros = 0
	}
	return false
}

// decodeEOL decodes MH or MR lines delimited by EOL codes.
func (d *Decoder) decodeEOL(opt DecodeOptions, p *Page) error {
	// Whatever precedes the first EOL (training leftovers on the line)
	// is skipped; TIFF strips may start straight with a line.
	if !d.eolNext() && opt.Height == 0 {
		if !d.seekEOL() {
			return ErrNoImage
		}
	}
	eols := 1      // EOLs in a row with no line between (RTC is six)
	bad2D := false // MR: a line went bad; 2D lines depend on it until a 1D line
	for !d.full(opt) && d.r.bitsLeft() > 0 {
		twoD := false
		if opt.Coding == MR {
			twoD = d.r.peek(1) == 0
			d.r.skip(1)
		}
		if d.eolNext() {
			if eols++; eols >= 2 && d.stats.Rows > 0 || eols >= 6 {
				d.stats.End = true
				return nil
			}
			continue
		}
		if d.padding() {
			return nil
		}
		lineStart := d.r.used
		var err error
		if twoD {
			err = d.line2D(opt.Width)
		} else {
			err = d.line1D(opt.Width)
			bad2D = false
		}
		if err == nil && twoD && bad2D {
			err = errRow
		}
		// A good line is followed by the next EOL (or the end of a strip).
		if err == nil && !d.eolNext() && !(opt.Height > 0 && d.stats.Rows+1 == opt.Height) && !d.padding() {
			err = errRow
		}
		if err != nil {
			d.emitBad(p)
			if opt.Coding == MR {
				bad2D = true
			}
			ok := d.seekEOL()
			d.stats.BadBits += d.r.used - lineStart
			if !ok {
				return nil
			}
		} else {
			d.emit(p)
		}
		eols = 1
	}
	return nil
}

// decodeRows decodes TIFF Compression 2: MH lines without EOLs, each
// starting on a byte boundary.
func (d *Decoder) decodeRows(opt DecodeOptions, p *Page) error {
	for !d.full(opt) && d.r.bitsLeft() >= 8 {
		d.r.alignByte()
		if err := d.line1D(opt.Width); err != nil {
			return fmt.Errorf("t4: row %d: %w", d.stats.Rows, err)
		}
		d.emit(p)
	}
	if opt.Height > 0 && d.stats.Rows < opt.Height {
		return fmt.Errorf("t4: data ends after %d of %d rows", d.stats.Rows, opt.Height)
	}
	return nil
}

// decodeMMR decodes T.6 lines until EOFB, the expected height or the end.
func (d *Decoder) decodeMMR(opt DecodeOptions, p *Page) error {
	for !d.full(opt) {
		left := d.r.bitsLeft()
		if left <= 0 {
			break
		}
		if left >= 12 && d.r.peek(12) == 1 {
			d.stats.End = true // EOFB
			break
		}
		if left < 32 && d.r.peek(uint(left)) == 0 {
			break // padding: every line's code has a one in it
		}
		if err := d.line2D(opt.Width); err != nil {
			return fmt.Errorf("t4: MMR row %d: %w", d.stats.Rows, err)
		}
		d.emit(p)
	}
	if opt.Height > 0 && d.stats.Rows < opt.Height {
		return fmt.Errorf("t4: MMR data ends after %d of %d rows", d.stats.Rows, opt.Height)
	}
	return nil
}

// run reads the codes of one run of a colour: make-up codes then a
// terminating code.
func (d *Decoder) run(colour int) (int32, error) {
	var total int32
	tab := &runTable[colour]
	for {
		e := tab[d.r.peek(lookBits)]
		if e.kind == kindInvalid || e.kind == kindEOL || d.r.bitsLeft() < int(e.n) {
			return 0, errRow
		}
		d.r.skip(uint(e.n))
		total += int32(e.run)
		if e.kind == kindTerm {
			return total, nil
		}
	}
}

// line1D decodes one MH line into d.cur.
func (d *Decoder) line1D(width int) error {
	d.cur = d.cur[:0]
	w := int32(width)
	a0, colour := int32(0), 0
	for {
		n, err := d.run(colour)
		if err != nil {
			return err
		}
		if a0 += n; a0 > w {
			return errRow
		}
		if a0 == w {
			d.cur = append(d.cur, w, w)
			return nil
		}
		d.cur = append(d.cur, a0)
		colour ^= 1
	}
}

// line2D decodes one line coded against d.ref into d.cur.
func (d *Decoder) line2D(width int) error {
	ref := d.ref
	d.cur = d.cur[:0]
	w := int32(width)
	a0, colour := int32(-1), 0
	j0 := 0
	for a0 < w {
		var b1, b2 int32
		b1, b2, j0 = refChanges(ref, j0, a0, colour)
		e := modeTable[d.r.peek(7)]
		if e.n == 0 || d.r.bitsLeft() < int(e.n) {
			return errRow
		}
		d.r.skip(uint(e.n))
		switch m := int(e.run); m {
		case modePass:
			if b2 <= a0 || b2 > w {
				return errRow
			}
			a0 = b2
		case modeHoriz:
			r1, err := d.run(colour)
			if err != nil {
				return err
			}
			r2, err := d.run(colour ^ 1)
			if err != nil {
				return err
			}
			a1 := max(a0, 0) + r1
			a2 := a1 + r2
			if a2 > w {
				return errRow
			}
			d.cur = append(d.cur, a1, a2)
			a0 = a2
		case modeExt:
			return errRow // uncompressed mode is not supported
		default:
			a1 := b1 + int32(m-modeV0)
			if m >= modeVL1 {
				a1 = b1 - int32(m-modeVL1+1)
			}
			if a1 < max(a0, 0) || a1 > w || a1 == a0 && a0 >= 0 {
				return errRow
			}
			d.cur = append(d.cur, a1)
			a0, colour = a1, colour^1
		}
	}
	// Sentinels: the last element is the width; make the list end with
	// two widths whatever the parity.
	if n := len(d.cur); n == 0 || d.cur[n-1] != w {
		d.cur = append(d.cur, w)
	}
	d.cur = append(d.cur, w)
	return nil
}
