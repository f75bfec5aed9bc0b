package t4

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"callbox/dsp/fax/internal/faxtest"
)

// TestSpandsp checks the coder both ways against spandsp's T.4 (t4_tx and
// t4_rx, the code Asterisk and FreeSWITCH fax with), comparing pages pixel
// for pixel: spandsp codes a page (from a TIFF libtiff wrote) for the line
// and we decode it; we code a page for the line and spandsp decodes it into
// a TIFF, which libtiff reads back.
func TestSpandsp(t *testing.T) {
	bin := faxtest.Harness(t)
	dir := t.TempDir()
	var enc Encoder
	var dec Decoder
	for name, bm := range faxtest.Bitmaps() {
		if name == "odd-width" {
			continue
		}
		want := fromBitmap(t, bm)
		src := filepath.Join(dir, name+".tif")
		faxtest.Run(t, bin, faxtest.PBM(bm), "pbm-to-tiff", "g4", "1", fmt.Sprint(bm.YRes), src)
		for _, coding := range []Coding{MH, MR, MMR} {
			enc := strings.ToLower(coding.String())
			label := name + " " + coding.String()

			// spandsp codes, we decode.
			data := faxtest.Run(t, bin, nil, "t4-tx", src, "0", enc)
			got, _ := NewPage(bm.Width, 0, XRes, bm.YRes)
			st, err := dec.Decode(data, DecodeOptions{Coding: coding, Width: bm.Width}, got)
			if err != nil {
				t.Fatalf("%s from spandsp: %v", label, err)
			}
			if !got.Equal(want) || st.BadRows != 0 {
				t.Errorf("%s from spandsp: %d rows (%d bad), want %d; first difference at row %d", label, got.Height, st.BadRows, want.Height, got.FirstDifference(want))
			}
		}
		for _, coding := range []Coding{MH, MR, MMR} {
			label := name + " " + coding.String()
			// We code, spandsp decodes.
			data, err := enc.Encode(nil, want, EncodeOptions{Coding: coding})
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, name+"-"+coding.String()+".tif")
			stats := strings.Fields(string(faxtest.Run(t, bin, data, "t4-rx", strings.ToLower(coding.String()), fmt.Sprint(bm.Width), fmt.Sprint(bm.YRes), out)))
			if len(stats) != 2 || stats[1] != "0" {
				t.Errorf("%s to spandsp: it reports rows and bad rows %v", label, stats)
			}
			pbms := faxtest.ParsePBM(t, faxtest.Run(t, bin, nil, "tiff-to-pbm", out))
			if len(pbms) != 1 {
				t.Fatalf("%s to spandsp: %d pages", label, len(pbms))
			}
			got := fromBitmap(t, pbms[0])
			if !got.Equal(want) {
				t.Errorf("%s to spandsp: %d rows, want %d; first difference at row %d", label, got.Height, want.Height, got.FirstDifference(want))
			}
		}
	}
}
