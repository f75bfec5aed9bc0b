package fax

import (
	"bytes"
	"errors"
	"fmt"
	"image"

	// Decoders of the documents a fax is sent from.
	_ "image/jpeg"
	_ "image/png"

	"callbox/dsp/fax/t4"
	"callbox/dsp/fax/tiff"
)

// MaxPages bounds a document (and a fax received): a longer one is refused
// rather than tying a line up for an hour.
const MaxPages = 100

// ErrNotDocument is a file that is not a TIFF, PNG or JPEG image.
var ErrNotDocument = errors.New("fax: not a TIFF, PNG or JPEG image")

// Pages reads a document to send from a TIFF (any kind: pages already at
// fax width and yres are kept as they are), PNG or JPEG file and returns
// its pages at yres rows per inch (t4.YResFine or t4.YResStandard), fitted
// to A4 width and dithered where they are pictures.
func Pages(data []byte, yres int) ([]*t4.Page, error) {
	var imgs []image.Image
	if bytes.HasPrefix(data, []byte("II*\x00")) || bytes.HasPrefix(data, []byte("MM\x00*")) {
		var err error
		if imgs, err = tiff.Decode(data); err != nil && len(imgs) == 0 {
			return nil, fmt.Errorf("fax: %w", err)
		}
	} else {
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotDocument, err)
		}
		imgs = []image.Image{img}
	}
	if len(imgs) > MaxPages {
		return nil, fmt.Errorf("fax: a document of %d pages (at most %d)", len(imgs), MaxPages)
	}
	pages := make([]*t4.Page, 0, len(imgs))
	for i, img := range imgs {
		if p, ok := img.(*t4.Page); ok && p.Width == t4.WidthA4 && p.XRes == t4.XRes && p.YRes == yres {
			pages = append(pages, p)
			continue
		}
		p, err := t4.FromImage(img, t4.FitOptions{YRes: yres})
		if err != nil {
			return nil, fmt.Errorf("fax: page %d: %w", i+1, err)
		}
		pages = append(pages, p)
	}
	if len(pages) == 0 {
		return nil, fmt.Errorf("%w: no pages", ErrNotDocument)
	}
	return pages, nil
}
