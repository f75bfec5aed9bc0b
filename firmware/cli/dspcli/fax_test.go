package dspcli

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"callbox/dsp/fax/t4"
	"callbox/dsp/fax/tiff"
	"callbox/firmware/cli"
)

func runDSP(args ...string) (int, string, string) {
	var out, errb strings.Builder
	code := Command.Run(context.Background(), args, cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// TestFaxSendReceive faxes a PNG and a two-page TIFF to a WAV file, then
// decodes the WAV back into a TIFF: the pages match what was sent.
func TestFaxSendReceive(t *testing.T) {
	dir := t.TempDir()
	// A PNG "letter": lines of text-like strokes.
	img := image.NewGray(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			c := uint8(255)
			if y%30 < 18 && y > 20 && x > 20 && x < 380 && (x%9 < 2 || y%30 < 2) {
				c = 0
			}
			img.SetGray(x, y, color.Gray{Y: c})
		}
	}
	var pb bytes.Buffer
	png.Encode(&pb, img)
	pngPath := filepath.Join(dir, "letter.png")
	os.WriteFile(pngPath, pb.Bytes(), 0o644)
	// A two-page TIFF-F at fine resolution.
	var tpages []*t4.Page
	for k := range 2 {
		p, _ := t4.NewPage(t4.WidthA4, 50, t4.XRes, t4.YResFine)
		for y := range 50 {
			for x := range t4.WidthA4 {
				p.Set(x, y, (x/(10+k)+y/5)%3 == 0)
			}
		}
		tpages = append(tpages, p)
	}
	tb, _ := tiff.Encode(tpages, tiff.WriteOptions{Coding: t4.MMR})
	tifPath := filepath.Join(dir, "doc.tif")
	os.WriteFile(tifPath, tb, 0o644)

	want, _ := loadDocument(pngPath, t4.YResFine)
	want = append(want, tpages...)
	// With error correction (the default) and without.
	for _, flags := range [][]string{nil, {"--no-ecm"}} {
		wavPath := filepath.Join(dir, "fax.wav")
		args := append(append([]string{"fax", "send", "--ident", "+86 10 5555 0100"}, flags...), pngPath, tifPath, wavPath)
		code, out, errs := runDSP(args...)
		summary := "sent 3 pages at 9600 bit/s, MMR with error correction"
		if flags != nil {
			summary = "sent 3 pages at 9600 bit/s, MR, "
		}
		if code != 0 || !strings.Contains(out, summary) {
			t.Fatalf("send %v: exit %d\n%s\n%s", flags, code, out, errs)
		}
		outPath := filepath.Join(dir, "out.tif")
		code, out, errs = runDSP("fax", "receive", "--coding", "mmr", wavPath, outPath)
		if code != 0 || !strings.Contains(out, "3 pages written") {
			t.Fatalf("receive %v: exit %d\n%s\n%s", flags, code, out, errs)
		}
		b, _ := os.ReadFile(outPath)
		got, err := tiff.Decode(b)
		if err != nil || len(got) != 3 {
			t.Fatalf("%v: %d pages, %v", flags, len(got), err)
		}
		for i, g := range got {
			if p := g.(*t4.Page); !p.Equal(want[i]) {
				t.Errorf("%v: page %d differs at row %d", flags, i+1, p.FirstDifference(want[i]))
			}
		}
	}
}

func TestFaxErrors(t *testing.T) {
	dir := t.TempDir()
	notImage := filepath.Join(dir, "x.png")
	os.WriteFile(notImage, []byte("hello"), 0o644)
	noise := filepath.Join(dir, "n.wav")
	os.WriteFile(noise, []byte("RIFF"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"fax"}, 2, "usage"},
		{[]string{"fax", "fly"}, 2, "unknown subcommand"},
		{[]string{"fax", "send", "a.wav"}, 2, "want DOC"},
		{[]string{"fax", "send", "--modems", "v17", notImage, "o.wav"}, 2, "--modems"},
		{[]string{"fax", "send", notImage, filepath.Join(dir, "o.wav")}, 1, "not a TIFF, PNG or JPEG"},
		{[]string{"fax", "receive", noise, "o.tif"}, 1, "n.wav"},
		{[]string{"fax", "receive", "--coding", "jbig", noise, "o.tif"}, 2, "unknown coding"},
	} {
		code, _, errs := runDSP(c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, %q", c.args, code, errs)
		}
	}
}
