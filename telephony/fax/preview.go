package fax

import (
	"fmt"
	"image"
	"image/png"
	"io"

	"callbox/dsp/fax/t4"
)

// Preview renders a page as a grey image for a screen: shrunk by scale
// (1 keeps every pixel; 2, the usual preview, averages 2x2 pixels into one
// grey one), with a standard-resolution page's rows doubled first so that
// every page keeps its shape (a fax pixel is twice as tall as it is wide
// at 98 rows per inch).
func Preview(p *t4.Page, scale int) (*image.Gray, error) {
	if p == nil || p.Width <= 0 || p.Height <= 0 {
		return nil, fmt.Errorf("fax: preview of an empty page")
	}
	if scale < 1 || scale > 8 {
		return nil, fmt.Errorf("fax: preview scale %d (1 to 8)", scale)
	}
	rep := 1 // rows per page row, to reach about 200 rows per inch
	if p.YRes > 0 && p.YRes < 150 {
		rep = 2
	}
	w, h := (p.Width+scale-1)/scale, (p.Height*rep+scale-1)/scale
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			black, n := 0, 0
			for dy := range scale {
				sy := (y*scale + dy) / rep
				if sy >= p.Height {
					break
				}
				for dx := range scale {
					sx := x*scale + dx
					if sx >= p.Width {
						break
					}
					n++
					if p.Black(sx, sy) {
						black++
					}
				}
			}
			img.Pix[y*img.Stride+x] = uint8(255 - 255*black/max(n, 1))
		}
	}
	return img, nil
}

// WritePNG writes Preview(p, scale) as a PNG.
func WritePNG(w io.Writer, p *t4.Page, scale int) error {
	img, err := Preview(p, scale)
	if err != nil {
		return err
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("fax: %w", err)
	}
	return nil
}
