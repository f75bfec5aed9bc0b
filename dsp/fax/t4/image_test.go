package t4

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"testing"
)

// letter draws a black-on-white "document": lines of strokes on paper.
func letter(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{250, 248, 240, 255} // off-white paper
			if y%40 < 24 && y > 60 && y < h-60 && x > 50 && x < w-50 && (x%14 < 3 || y%40 < 3) {
				c = color.RGBA{20, 20, 30, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

// gradient is a left-to-right ramp from black to white.
func gradient(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetGray(x, y, color.Gray{Y: uint8(x * 255 / (w - 1))})
		}
	}
	return img
}

func density(p *Page, x0, x1, y0, y1 int) float64 {
	n := 0
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			if p.Black(x, y) {
				n++
			}
		}
	}
	return float64(n) / float64((x1-x0)*(y1-y0))
}

func TestFromImageGradientDithers(t *testing.T) {
	p, err := FromImage(gradient(600, 200), FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != WidthA4 || p.YRes != YResFine {
		t.Fatalf("page %dx%d at %d", p.Width, p.Height, p.YRes)
	}
	// 200 rows of square pixels over 600 columns: 200*1728/600 at 204 dpi
	// across is 576 rows at 196 lines/inch.
	if want := 200 * 1728 / 600 * 196 / 204; p.Height < want-2 || p.Height > want+2 {
		t.Errorf("height %d, want about %d", p.Height, want)
	}
	for band := range 10 {
		x0 := band * p.Width / 10
		d := density(p, x0, x0+p.Width/10, 0, p.Height)
		want := 1 - (float64(band)+0.5)/10
		if math.Abs(d-want) > 0.05 {
			t.Errorf("band %d: %.3f black, want %.3f", band, d, want)
		}
	}
}

func TestFromImageDocumentThresholds(t *testing.T) {
	src := letter(850, 1100) // a letter page at 100 dpi
	p, err := FromImage(src, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Paper stays clean white (no dither dots), strokes are solid.
	if d := density(p, 0, p.Width, 0, 40); d != 0 {
		t.Errorf("top margin %.4f black: the paper was dithered", d)
	}
	if d := density(p, 300, 1400, 200, 1800); d < 0.1 || d > 0.4 {
		t.Errorf("text area %.3f black", d)
	}
	if p.Height > a4Rows(YResFine) {
		t.Errorf("%d rows: longer than A4", p.Height)
	}
}

func TestFromImageTallImageFitsThePage(t *testing.T) {
	p, err := FromImage(gradient(100, 1000), FitOptions{YRes: YResStandard})
	if err != nil {
		t.Fatal(err)
	}
	if p.Height != a4Rows(YResStandard) {
		t.Errorf("height %d, want the page length %d", p.Height, a4Rows(YResStandard))
	}
	// Narrower than the page and centred: white margins both sides.
	if density(p, 0, 100, 0, p.Height) != 0 || density(p, p.Width-100, p.Width, 0, p.Height) != 0 {
		t.Error("margins are not white")
	}
}

func TestFromImageStandardToFine(t *testing.T) {
	src, _ := NewPage(WidthA4, 100, XRes, YResStandard)
	for x := range WidthA4 {
		src.Set(x, 50, true)
	}
	p, err := FromImage(src, FitOptions{YRes: YResFine})
	if err != nil {
		t.Fatal(err)
	}
	if p.Height != 200 {
		t.Errorf("height %d, want 200", p.Height)
	}
	if !p.Black(500, 100) || !p.Black(500, 101) || p.Black(500, 98) || p.Black(500, 103) {
		t.Error("the line did not become two rows")
	}
}

// PNG and JPEG come in through the standard library's decoders.
func TestFromPNGAndJPEG(t *testing.T) {
	src := letter(425, 550)
	var pb, jb bytes.Buffer
	if err := png.Encode(&pb, src); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jb, src, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"png": pb.Bytes(), "jpeg": jb.Bytes()} {
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		p, err := FromImage(img, FitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if d := density(p, 0, p.Width, 0, 60); d > 0.001 {
			t.Errorf("%s: paper %.4f black", name, d)
		}
		if d := density(p, 300, 1400, 300, 1800); d < 0.1 || d > 0.45 {
			t.Errorf("%s: text %.3f black", name, d)
		}
	}
	if _, err := FromImage(image.NewGray(image.Rect(0, 0, 0, 5)), FitOptions{}); err == nil {
		t.Error("empty image: no error")
	}
}
