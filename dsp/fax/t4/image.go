package t4

import (
	"fmt"
	"image"
	"image/color"
)

// Dither picks how FromImage turns grey into black and white.
type Dither uint8

const (
	// Auto thresholds images that are mostly black and white already
	// (text, line art, scans of letters) and dithers the rest.
	Auto Dither = iota
	// Threshold cuts at a level found from the image's histogram (Otsu's
	// method): sharp text, flat greys lost.
	Threshold
	// Diffuse is Floyd-Steinberg error diffusion in serpentine order:
	// greys survive as dot density, for photographs.
	Diffuse
)

// FitOptions say how FromImage lays an image on a fax page.
type FitOptions struct {
	Width  int    // page width in pixels at 204 dpi (default WidthA4)
	YRes   int    // rows per inch (default YResFine)
	Height int    // longest page in rows (default the length of A4 at YRes)
	Dither Dither // default Auto
}

// a4Rows is the length of an A4 page (297 mm) in rows at yres.
func a4Rows(yres int) int { return 297 * yres * 10 / 254 }

// FromImage scales img to the page width (keeping its proportions, and
// shrinking it further if it would be longer than a page), turns it into
// grey, then into black and white as opt.Dither says. Images without a
// known resolution are taken to have square pixels; a *Page keeps its own
// aspect. The page is no longer than the image needs.
func FromImage(img image.Image, opt FitOptions) (*Page, error) {
	if opt.Width == 0 {
		opt.Width = WidthA4
	}
	if opt.YRes == 0 {
		opt.YRes = YResFine
	}
	if opt.Height == 0 {
		opt.Height = a4Rows(opt.YRes)
	}
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if sw <= 0 || sh <= 0 || sw > 1<<15 || sh > 1<<15 {
		return nil, fmt.Errorf("t4: image of %dx%d pixels", sw, sh)
	}
	if opt.Width <= 0 || opt.Width > MaxWidth || opt.Height <= 0 || opt.Height > MaxHeight || opt.YRes <= 0 {
		return nil, fmt.Errorf("t4: page of %dx%d at %d lines/inch", opt.Width, opt.Height, opt.YRes)
	}
	// The source pixel's height over its width.
	aspect := 1.0
	if p, ok := img.(*Page); ok && p.XRes > 0 && p.YRes > 0 {
		aspect = float64(p.XRes) / float64(p.YRes)
	}
	// Fit the width, then the height.
	w := opt.Width
	h := int(float64(sh)*aspect*float64(w)/float64(sw)*float64(opt.YRes)/XRes + 0.5)
	if h > opt.Height {
		w = max(1, int(float64(w)*float64(opt.Height)/float64(h)+0.5))
		h = opt.Height
	}
	h = max(h, 1)
	grey := greyOf(img)
	scaled := resample(grey, sw, sh, w, h)
	page, err := NewPage(opt.Width, h, XRes, opt.YRes)
	if err != nil {
		return nil, err
	}
	left := (opt.Width - w) / 2
	d := opt.Dither
	if d == Auto {
		d = Diffuse
		if mostlyBilevel(scaled) {
			d = Threshold
		}
	}
	if d == Threshold {
		cut := otsu(scaled)
		for y := range h {
			for x := range w {
				if int(scaled[y*w+x]) < cut {
					page.Set(left+x, y, true)
				}
			}
		}
	} else {
		diffuse(scaled, w, h, func(x, y int) { page.Set(left+x, y, true) })
	}
	return page, nil
}

// greyOf returns the image's luminance, 0 black to 255 white, row-major.
func greyOf(img image.Image) []uint8 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]uint8, w*h)
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			copy(out[y*w:(y+1)*w], m.Pix[y*m.Stride:])
		}
	case *image.YCbCr: // JPEG: the luma is the grey
		for y := range h {
			copy(out[y*w:(y+1)*w], m.Y[y*m.YStride:])
		}
	case *Page:
		for y := range h {
			for x := range w {
				if !m.Black(x, y) {
					out[y*w+x] = 255
				}
			}
		}
	default:
		for y := range h {
			for x := range w {
				c := color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray)
				// Transparent areas are paper.
				if _, _, _, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA(); a < 0x8000 {
					c.Y = 255
				}
				out[y*w+x] = c.Y
			}
		}
	}
	return out
}

// span is one source pixel's share of a target pixel, in 1/65536.
type span struct {
	src, weight int
}

// weights returns, for each of dst target pixels along an axis of src
// source pixels, the source pixels it covers and their shares (area
// averaging; the shares of a target pixel add up to 65536).
func weights(src, dst int) [][]span {
	out := make([][]span, dst)
	// Target pixel t covers source [t*src/dst, (t+1)*src/dst), in
	// 1/dst units of a source pixel.
	for t := range dst {
		lo, hi := t*src, (t+1)*src // in units of 1/dst
		var ws []span
		total := 0
		for s := lo / dst; s*dst < hi && s < src; s++ {
			a, b := max(lo, s*dst), min(hi, (s+1)*dst)
			if b > a {
				ws = append(ws, span{s, b - a})
				total += b - a
			}
		}
		acc := 0
		for i := range ws {
			ws[i].weight = ws[i].weight * 65536 / total
			acc += ws[i].weight
		}
		ws[0].weight += 65536 - acc
		out[t] = ws
	}
	return out
}

// resample scales a grey image by area averaging.
func resample(g []uint8, sw, sh, dw, dh int) []uint8 {
	wx, wy := weights(sw, dw), weights(sh, dh)
	// Rows first into 16-bit intermediate values.
	tmp := make([]uint16, dw*sh)
	for y := range sh {
		row := g[y*sw : (y+1)*sw]
		for x, ws := range wx {
			acc := 0
			for _, s := range ws {
				acc += int(row[s.src]) * s.weight
			}
			tmp[y*dw+x] = uint16(acc >> 8) // 8.8 fixed point
		}
	}
	out := make([]uint8, dw*dh)
	for y, ws := range wy {
		for x := range dw {
			acc := 0
			for _, s := range ws {
				acc += int(tmp[s.src*dw+x]) * s.weight
			}
			out[y*dw+x] = uint8(min(255, (acc+1<<23)>>24))
		}
	}
	return out
}

// mostlyBilevel reports whether nearly all pixels are near black or white.
func mostlyBilevel(g []uint8) bool {
	mid := 0
	for _, v := range g {
		if v > 64 && v < 192 {
			mid++
		}
	}
	return mid*100 < 6*len(g)
}

// otsu returns the grey level that best splits the histogram in two
// (maximum between-class variance); pixels below it are black.
func otsu(g []uint8) int {
	var hist [256]int
	for _, v := range g {
		hist[v]++
	}
	total, sum := len(g), 0
	for i, n := range hist {
		sum += i * n
	}
	best, cut := -1.0, 128
	wb, sb := 0, 0
	for t := range 256 {
		wb += hist[t]
		if wb == 0 {
			continue
		}
		wf := total - wb
		if wf == 0 {
			break
		}
		sb += t * hist[t]
		mb, mf := float64(sb)/float64(wb), float64(sum-sb)/float64(wf)
		if v := float64(wb) * float64(wf) * (mb - mf) * (mb - mf); v > best {
			best, cut = v, t+1
		}
	}
	// A page that is all one tone has no split: keep paper white.
	if best <= 0 {
		return 128
	}
	return cut
}

// diffuse dithers by Floyd-Steinberg error diffusion, serpentine, calling
// black for each black pixel.
func diffuse(g []uint8, w, h int, black func(x, y int)) {
	cur := make([]int, w+2)
	next := make([]int, w+2)
	for y := range h {
		for x := range w {
			cur[x+1] += int(g[y*w+x]) << 4
		}
		ltr := y%2 == 0
		for i := range w {
			x, dir := i, 1
			if !ltr {
				x, dir = w-1-i, -1
			}
			v := cur[x+1]
			out := 255 << 4
			if v < 128<<4 {
				out = 0
				black(x, y)
			}
			e := v - out
			cur[x+1+dir] += e * 7 / 16
			next[x+1-dir] += e * 3 / 16
			next[x+1] += e * 5 / 16
			next[x+1+dir] += e / 16
		}
		cur, next = next, cur
		clear(next)
	}
}
