package fax_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"testing"
	"time"

	"callbox/dsp/fax/t30"
	"callbox/dsp/fax/t4"
	"callbox/dsp/fax/tiff"
	"callbox/telephony/fax"
	"callbox/telephony/fax/faxtest"
	"callbox/telephony/media"
)

// Documents come as TIFF-F (kept as they are when at fax width and the
// resolution asked), other images (fitted to A4 width), or are refused
// with ErrNotDocument.
func TestPages(t *testing.T) {
	doc := faxtest.Document(2)
	tf, err := tiff.Encode(doc, tiff.WriteOptions{Coding: t4.MR})
	if err != nil {
		t.Fatal(err)
	}
	got, err := fax.Pages(tf, t4.YResFine)
	if err != nil {
		t.Fatal(err)
	}
	faxtest.SamePages(t, got, doc)

	img := image.NewGray(image.Rect(0, 0, 800, 600))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for y := 100; y < 200; y++ {
		for x := 100; x < 700; x++ {
			img.SetGray(x, y, color.Gray{0})
		}
	}
	var pb bytes.Buffer
	if err := png.Encode(&pb, img); err != nil {
		t.Fatal(err)
	}
	got, err = fax.Pages(pb.Bytes(), t4.YResStandard)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Width != t4.WidthA4 || got[0].YRes != t4.YResStandard {
		t.Fatalf("a PNG became %d pages, the first %dx%d at %d dpi", len(got), got[0].Width, got[0].Height, got[0].YRes)
	}
	if !got[0].Black(t4.WidthA4/2, got[0].Height*150/600) || got[0].Black(t4.WidthA4/2, got[0].Height*400/600) {
		t.Error("the PNG's black bar is not where it was")
	}
	for _, bad := range [][]byte{nil, []byte("%PDF-1.4"), []byte("II*\x00garbage")} {
		if _, err := fax.Pages(bad, t4.YResFine); err == nil {
			t.Errorf("%q taken as a document", bad)
		} else if len(bad) < 5 && !errors.Is(err, fax.ErrNotDocument) {
			t.Errorf("%q: %v, want ErrNotDocument", bad, err)
		}
	}
}

// A preview keeps a page's shape: a standard page's rows are doubled;
// shrinking by 2 averages 2x2 pixels; the PNG decodes to the same image.
func TestPreview(t *testing.T) {
	p, _ := t4.NewPage(t4.WidthA4, 100, t4.XRes, t4.YResStandard)
	for x := range 4 {
		p.Set(x, 0, true)
	}
	p.Set(0, 1, true)
	img, err := fax.Preview(p, 2)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != t4.WidthA4/2 || b.Dy() != 100 {
		t.Fatalf("preview of %v, want 864x100 (rows doubled, halved)", b)
	}
	// Row 0 of the preview is page row 0 twice: pixels 0-1 and 2-3 black.
	if img.GrayAt(0, 0).Y != 0 || img.GrayAt(1, 0).Y != 0 || img.GrayAt(2, 0).Y != 255 {
		t.Errorf("row 0: %d %d %d", img.GrayAt(0, 0).Y, img.GrayAt(1, 0).Y, img.GrayAt(2, 0).Y)
	}
	// Row 1 is page row 1 twice: one black pixel of four, a light grey.
	if g := img.GrayAt(0, 1).Y; g != 255-255/2 {
		t.Errorf("row 1 grey %d, want %d", g, 255-255/2)
	}
	var b bytes.Buffer
	if err := fax.WritePNG(&b, p, 2); err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Bounds() != img.Bounds() {
		t.Fatalf("PNG of %v, preview %v", back.Bounds(), img.Bounds())
	}
	if _, err := fax.Preview(p, 0); err == nil {
		t.Error("scale 0 accepted")
	}
}

// source plays samples into a leg, then silence.
type source struct {
	x   []int16
	pos int
}

func (s *source) ReadFrame(f []int16) {
	n := copy(f, s.x[s.pos:])
	s.pos += n
	clear(f[n:])
}
func (s *source) WriteFrame([]int16) {}

// The detector hears a fax machine calling (the CNG of a real calling
// session: bursts of 1100 Hz every 3.5 s) after its second burst, and
// takes neither one burst nor a long 1100 Hz tone for one.
func TestDetector(t *testing.T) {
	calling, err := t30.New(t30.Config{Calling: true, Pages: faxtest.Document(1)})
	if err != nil {
		t.Fatal(err)
	}
	cng := make([]int16, 10*8000)
	calling.Process(make([]int16, len(cng)), cng) // nobody answers: CNG only
	tone := func(d time.Duration) []int16 {
		x := make([]int16, int(d.Seconds()*8000))
		for i := range x {
			x[i] = int16(4000 * math.Sin(2*math.Pi*1100*float64(i)/8000))
		}
		return x
	}
	for _, tc := range []struct {
		name string
		x    []int16
		want bool
	}{
		{"a calling fax machine", cng, true},
		{"one burst", append(tone(500*time.Millisecond), make([]int16, 8*8000)...), false},
		{"a long tone", tone(8 * time.Second), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			found := make(chan struct{}, 1)
			d := fax.NewDetector(func() { found <- struct{}{} })
			e := media.NewEngine(media.Config{Workers: 1})
			ch, err := e.NewChannel("caller", &source{x: tc.x}, media.ChannelOptions{})
			if err != nil {
				t.Fatal(err)
			}
			e.SetTap(ch, d.Tap())
			d.Start(context.Background())
			defer d.Close()
			at := -1
			for n := range len(tc.x) / media.FrameSamples {
				e.Tick()
				for !d.Idle() {
					time.Sleep(20 * time.Microsecond)
				}
				if d.Found() && at < 0 {
					at = n
				}
			}
			if d.Found() != tc.want {
				t.Fatalf("found %v, want %v", d.Found(), tc.want)
			}
			if tc.want {
				<-found
				if at > 450 { // the second burst starts at 3.5 s and lasts 0.5 s
					t.Errorf("found at %d ms", at*10)
				}
			}
		})
	}
}
