package tiff

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"callbox/dsp/fax/internal/faxtest"
	"callbox/dsp/fax/t4"
)

func pageOf(t testing.TB, bm faxtest.Bitmap) *t4.Page {
	p, err := t4.NewPage(bm.Width, bm.Height, t4.XRes, bm.YRes)
	if err != nil {
		t.Fatal(err)
	}
	copy(p.Pix, bm.Pix)
	return p
}

// docPages is a three-page document of faxtest's bitmaps.
func docPages(t testing.TB) []*t4.Page {
	bms := faxtest.Bitmaps()
	return []*t4.Page{pageOf(t, bms["text"]), pageOf(t, bms["noise"]), pageOf(t, bms["odd-width"])}
}

func TestRoundTrip(t *testing.T) {
	pages := docPages(t)
	for _, c := range []t4.Coding{t4.MH, t4.MR, t4.MMR} {
		data, err := Encode(pages, WriteOptions{Coding: c, Software: "callbox", DateTime: "2024:01:02 03:04:05", Description: "+86 10 5555 0100"})
		if err != nil {
			t.Fatal(err)
		}
		imgs, err := Decode(data)
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		if len(imgs) != len(pages) {
			t.Fatalf("%v: %d pages, want %d", c, len(imgs), len(pages))
		}
		for i, img := range imgs {
			p, ok := img.(*t4.Page)
			if !ok {
				t.Fatalf("%v page %d is a %T", c, i, img)
			}
			if !p.Equal(pages[i]) || p.XRes != t4.XRes || p.YRes != pages[i].YRes {
				t.Errorf("%v page %d: %dx%d at %dx%d dpi, first difference at row %d", c, i, p.Width, p.Height, p.XRes, p.YRes, p.FirstDifference(pages[i]))
			}
		}
	}
	if _, err := Encode(nil, WriteOptions{}); err == nil {
		t.Error("no pages: no error")
	}
}

func TestDamagedFiles(t *testing.T) {
	data, _ := Encode(docPages(t), WriteOptions{Coding: t4.MMR})
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not tiff", []byte("GIF89a......")},
		{"truncated", data[:len(data)/2]},
		{"ifd loop", loopIFD(data)},
	} {
		imgs, err := Decode(c.data)
		if err == nil {
			t.Errorf("%s: no error", c.name)
		}
		_ = imgs
	}
}

// loopIFD points the last IFD back at the first.
func loopIFD(data []byte) []byte {
	d := append([]byte(nil), data...)
	first := uint32(d[4]) | uint32(d[5])<<8 | uint32(d[6])<<16 | uint32(d[7])<<24
	off := first
	for {
		n := uint32(d[off]) | uint32(d[off+1])<<8
		nextPos := off + 2 + 12*n
		next := uint32(d[nextPos]) | uint32(d[nextPos+1])<<8 | uint32(d[nextPos+2])<<16 | uint32(d[nextPos+3])<<24
		if next == 0 {
			d[nextPos], d[nextPos+1], d[nextPos+2], d[nextPos+3] = byte(first), byte(first>>8), byte(first>>16), byte(first>>24)
			return d
		}
		off = next
	}
}

// TestLibtiff checks our files against libtiff both ways: libtiff reads
// what we write, we read what libtiff writes in every bilevel compression
// and both fill orders, and its grey and RGB images.
func TestLibtiff(t *testing.T) {
	bin := faxtest.Harness(t)
	dir := t.TempDir()
	pages := docPages(t)
	var bms []faxtest.Bitmap
	for _, p := range pages {
		bms = append(bms, faxtest.Bitmap{Width: p.Width, Height: p.Height, YRes: p.YRes, Pix: p.Pix})
	}
	for _, c := range []t4.Coding{t4.MH, t4.MR, t4.MMR} {
		data, _ := Encode(pages, WriteOptions{Coding: c})
		path := filepath.Join(dir, "ours-"+c.String()+".tif")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got := faxtest.ParsePBM(t, faxtest.Run(t, bin, nil, "tiff-to-pbm", path))
		if len(got) != len(pages) {
			t.Fatalf("libtiff read %d pages of our %v file, want %d", len(got), c, len(pages))
		}
		for i := range got {
			if !bytes.Equal(got[i].Pix, bms[i].Pix) {
				t.Errorf("libtiff read page %d of our %v file differently", i, c)
			}
		}
	}
	for _, comp := range []string{"none", "packbits", "rle", "g3", "g3-2d", "g4", "lzw"} {
		for _, fill := range []string{"1", "2"} {
			path := filepath.Join(dir, comp+fill+".tif")
			faxtest.Run(t, bin, faxtest.PBM(bms...), "pbm-to-tiff", comp, fill, "196", path)
			data, _ := os.ReadFile(path)
			imgs, err := Decode(data)
			if err != nil || len(imgs) != len(pages) {
				t.Fatalf("libtiff %s fill order %s: %d pages, %v", comp, fill, len(imgs), err)
			}
			for i, img := range imgs {
				if p := img.(*t4.Page); !p.Equal(pages[i]) {
					t.Errorf("libtiff %s fill order %s page %d: first difference at row %d", comp, fill, i, p.FirstDifference(pages[i]))
				}
			}
		}
	}
	// Grey and RGB, every compression, with and without the predictor.
	rng := rand.New(rand.NewPCG(9, 9))
	const w, h = 37, 40
	grey := image.NewGray(image.Rect(0, 0, w, h))
	rgb := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			grey.SetGray(x, y, color.Gray{Y: uint8(x*7 + y*3 + rng.IntN(4))})
			rgb.SetRGBA(x, y, color.RGBA{uint8(x * 6), uint8(y * 5), uint8(rng.IntN(256)), 255})
		}
	}
	pgm := append([]byte(fmt.Sprintf("P5\n%d %d\n255\n", w, h)), grey.Pix...)
	var ppm []byte
	ppm = append(ppm, fmt.Sprintf("P6\n%d %d\n255\n", w, h)...)
	for i := 0; i < len(rgb.Pix); i += 4 {
		ppm = append(ppm, rgb.Pix[i:i+3]...)
	}
	for _, comp := range []string{"none", "packbits", "lzw", "deflate"} {
		for _, pred := range []string{"1", "2"} {
			if pred == "2" && (comp == "none" || comp == "packbits") {
				continue
			}
			for _, src := range []struct {
				name string
				pnm  []byte
				want image.Image
			}{{"grey", pgm, grey}, {"rgb", ppm, rgb}} {
				path := filepath.Join(dir, src.name+comp+pred+".tif")
				faxtest.Run(t, bin, src.pnm, "pnm-to-tiff", comp, pred, path)
				data, _ := os.ReadFile(path)
				imgs, err := Decode(data)
				if err != nil || len(imgs) != 1 {
					t.Fatalf("%s %s predictor %s: %v", src.name, comp, pred, err)
				}
				if !sameImage(imgs[0], src.want) {
					t.Errorf("%s %s predictor %s: pixels differ", src.name, comp, pred)
				}
			}
		}
	}
}

func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1>>8 != r2>>8 || g1>>8 != g2>>8 || b1>>8 != b2>>8 {
				return false
			}
		}
	}
	return true
}

// FuzzDecode: no panic on any input, and every image returned has sane
// bounds.
func FuzzDecode(f *testing.F) {
	// Small pages keep each run fast, so the fuzzer explores the headers.
	small, _ := t4.NewPage(40, 6, t4.XRes, t4.YResFine)
	for i := range small.Pix {
		small.Pix[i] = byte(i * 37)
	}
	for _, c := range []t4.Coding{t4.MH, t4.MR, t4.MMR} {
		data, _ := Encode([]*t4.Page{small, small}, WriteOptions{Coding: c})
		f.Add(data)
	}
	f.Add([]byte("MM\x00*\x00\x00\x00\x08\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		imgs, _ := Decode(data)
		for _, img := range imgs {
			b := img.Bounds()
			if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx()*b.Dy() > maxPixels {
				t.Fatalf("image bounds %v", b)
			}
			if p, ok := img.(*t4.Page); ok && len(p.Pix) != p.Stride*p.Height {
				t.Fatalf("page of %d rows with %d bytes", p.Height, len(p.Pix))
			}
		}
	})
}
