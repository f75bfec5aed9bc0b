// Package t4 codes fax pages: ITU-T T.4 Modified Huffman (MH, one-
// dimensional) and Modified READ (MR, two-dimensional every K lines), and
// ITU-T T.6 Modified Modified READ (MMR, two-dimensional throughout), for the
// line (with EOL codes, fill bits and the end-of-page RTC) and for TIFF
// strips. Pages are 1-bit bitmaps; FromImage turns any image into one at fax
// resolution with a dither for pictures and a threshold for text.
//
// The codecs are table-driven and work on whole buffers: a T.30 receiver
// collects a page's bits and decodes them when the page ends. A line that
// does not decode is replaced by the line above it, as fax machines do, and
// counted, so the receiver can judge the copy quality.
package t4

import (
	"fmt"
	"image"
	"image/color"
)

// Fax resolutions in dots per inch: 8 pels/mm across (204 dpi) at 3.85
// (standard), 7.7 (fine) or 15.4 (superfine) lines/mm down.
const (
	XRes          = 204
	YResStandard  = 98
	YResFine      = 196
	YResSuperfine = 391
)

// Page widths in pixels at 204 dpi.
const (
	WidthA4 = 1728 // also North American letter and legal
	WidthB4 = 2048
	WidthA3 = 2432
)

// MaxWidth bounds a row, to keep a corrupt header from asking for
// gigabytes; MaxHeight bounds a page the same way (a few metres of paper).
const (
	MaxWidth  = 1 << 14
	MaxHeight = 1 << 16
)

// Page is a 1-bit image: rows of Stride bytes, the leftmost pixel in the
// most significant bit, 1 for black.
type Page struct {
	Width, Height int
	XRes, YRes    int // dots per inch
	Stride        int
	Pix           []byte
}

// NewPage returns a white page.
func NewPage(width, height, xres, yres int) (*Page, error) {
	if width <= 0 || width > MaxWidth || height < 0 || height > MaxHeight {
		return nil, fmt.Errorf("t4: page of %dx%d pixels out of range", width, height)
	}
	stride := (width + 7) / 8
	return &Page{Width: width, Height: height, XRes: xres, YRes: yres, Stride: stride, Pix: make([]byte, stride*height)}, nil
}

// Row returns row y.
func (p *Page) Row(y int) []byte { return p.Pix[y*p.Stride : (y+1)*p.Stride] }

// Black reports whether pixel (x, y) is black.
func (p *Page) Black(x, y int) bool { return p.Pix[y*p.Stride+x>>3]&(0x80>>(x&7)) != 0 }

// Set makes pixel (x, y) black or white.
func (p *Page) Set(x, y int, black bool) {
	i, m := y*p.Stride+x>>3, byte(0x80>>(x&7))
	if black {
		p.Pix[i] |= m
	} else {
		p.Pix[i] &^= m
	}
}

// ColorModel, Bounds and At make a Page an image.Image (for previews).
func (p *Page) ColorModel() color.Model { return color.GrayModel }

// Bounds is the page's rectangle.
func (p *Page) Bounds() image.Rectangle { return image.Rect(0, 0, p.Width, p.Height) }

// At returns black or white.
func (p *Page) At(x, y int) color.Color {
	if x < 0 || y < 0 || x >= p.Width || y >= p.Height || !p.Black(x, y) {
		return color.Gray{Y: 255}
	}
	return color.Gray{}
}

// Equal reports whether two pages have the same size and pixels (the
// resolutions are not compared).
func (p *Page) Equal(q *Page) bool {
	if p.Width != q.Width || p.Height != q.Height {
		return false
	}
	return p.FirstDifference(q) < 0
}

// FirstDifference returns the first row where the pages differ, or -1 when
// they have the same pixels over their common height.
func (p *Page) FirstDifference(q *Page) int {
	if p.Width != q.Width {
		return 0
	}
	mask := byte(0xff << (8*p.Stride - p.Width))
	for y := range min(p.Height, q.Height) {
		a, b := p.Row(y), q.Row(y)
		for i := range a {
			m := byte(0xff)
			if i == len(a)-1 {
				m = mask
			}
			if (a[i]^b[i])&m != 0 {
				return y
			}
		}
	}
	if p.Height != q.Height {
		return min(p.Height, q.Height)
	}
	return -1
}

// appendRow adds a row (at least Stride bytes) at the bottom of the page.
func (p *Page) appendRow(row []byte) {
	p.Pix = append(p.Pix, row[:p.Stride]...)
	p.Height++
}
