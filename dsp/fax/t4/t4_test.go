package t4

import (
	"fmt"
	"strings"
	"testing"

	"callbox/dsp/fax/internal/faxtest"
)

// Every code set is prefix-free, and the 2D mode codes and the white and
// black run codes fill their code space as T.4 defines them.
func TestCodesPrefixFree(t *testing.T) {
	sets := map[string][]string{
		"white": append(append(append([]string{}, whiteTerm[:]...), whiteMakeup[:]...), append(extMakeup[:], eolCode)...),
		"black": append(append(append([]string{}, blackTerm[:]...), blackMakeup[:]...), append(extMakeup[:], eolCode)...),
		"modes": modeCode[:],
	}
	for name, set := range sets {
		for i, a := range set {
			for k, b := range set {
				if i != k && strings.HasPrefix(b, a) {
					t.Errorf("%s: %q is a prefix of %q", name, a, b)
				}
			}
		}
	}
}

// testPages are faxtest's synthetic pages as Pages.
func testPages(t testing.TB) map[string]*Page {
	pages := map[string]*Page{}
	for name, bm := range faxtest.Bitmaps() {
		pages[name] = fromBitmap(t, bm)
	}
	return pages
}

func fromBitmap(t testing.TB, bm faxtest.Bitmap) *Page {
	p, err := NewPage(bm.Width, bm.Height, XRes, bm.YRes)
	if err != nil {
		t.Fatal(err)
	}
	copy(p.Pix, bm.Pix)
	return p
}

func TestRoundTrip(t *testing.T) {
	var enc Encoder
	var dec Decoder
	for name, p := range testPages(t) {
		for _, c := range []struct {
			coding Coding
			layout Layout
			opt    EncodeOptions
		}{
			{MH, Line, EncodeOptions{}},
			{MH, Line, EncodeOptions{MinRowBits: 96}},
			{MR, Line, EncodeOptions{}},
			{MR, Line, EncodeOptions{K: 4, MinRowBits: 200}},
			{MMR, Line, EncodeOptions{}},
			{MH, Strip, EncodeOptions{AlignEOL: true}},
			{MR, Strip, EncodeOptions{AlignEOL: true}},
			{MH, Rows, EncodeOptions{}},
			{MMR, Strip, EncodeOptions{}},
		} {
			opt := c.opt
			opt.Coding, opt.Layout = c.coding, c.layout
			label := fmt.Sprintf("%s %v/%d %+v", name, c.coding, c.layout, c.opt)
			data, err := enc.Encode(nil, p, opt)
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			for _, height := range []int{0, p.Height} {
				if height == 0 && c.layout == Rows {
					continue
				}
				got, _ := NewPage(p.Width, 0, p.XRes, p.YRes)
				st, err := dec.Decode(data, DecodeOptions{Coding: c.coding, Layout: c.layout, Width: p.Width, Height: height}, got)
				if err != nil {
					t.Fatalf("%s height %d: %v", label, height, err)
				}
				if st.BadRows != 0 || !got.Equal(p) {
					t.Fatalf("%s height %d: %d rows (%d bad), first difference at row %d", label, height, got.Height, st.BadRows, got.FirstDifference(p))
				}
				if c.layout == Line && height == 0 && !st.End {
					t.Errorf("%s: end of page not seen", label)
				}
			}
			if opt.MinRowBits > 0 && len(data)*8 < p.Height*opt.MinRowBits {
				t.Errorf("%s: %d bits for %d rows of at least %d", label, len(data)*8, p.Height, opt.MinRowBits)
			}
		}
	}
}

// A corrupted line on the phone line costs that line (MH) or the lines up
// to the next 1D line (MR), replaced by the line above; the rest decodes.
func TestDamagedLines(t *testing.T) {
	p := testPages(t)["text"]
	var enc Encoder
	var dec Decoder
	for _, coding := range []Coding{MH, MR} {
		data, _ := enc.Encode(nil, p, EncodeOptions{Coding: coding, K: 4})
		bad := append([]byte(nil), data...)
		for i := len(bad) / 3; i < len(bad)/3+6; i++ {
			bad[i] ^= 0x5a
		}
		got, _ := NewPage(p.Width, 0, p.XRes, p.YRes)
		st, err := dec.Decode(bad, DecodeOptions{Coding: coding, Width: p.Width}, got)
		if err != nil {
			t.Fatal(err)
		}
		if st.BadRows == 0 || st.BadRows > 12 || got.Height < p.Height-2 || got.Height > p.Height+2 {
			t.Errorf("%v: %d rows, %d bad (max run %d) for %d sent", coding, got.Height, st.BadRows, st.MaxBadRun, p.Height)
		}
		// Rows well after the damage are intact.
		last := p.Height - 1
		if st.End && got.Height == p.Height {
			for y := last - 20; y <= last; y++ {
				if string(got.Row(y)) != string(p.Row(y)) {
					t.Errorf("%v: row %d differs after resynchronising", coding, y)
					break
				}
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	var dec Decoder
	p, _ := NewPage(WidthA4, 0, XRes, YResFine)
	if _, err := dec.Decode([]byte{0, 0, 0}, DecodeOptions{Coding: MH, Width: WidthA4}, p); err != ErrNoImage {
		t.Errorf("no EOL: %v", err)
	}
	if _, err := dec.Decode([]byte{0x00, 0x10}, DecodeOptions{Coding: MMR, Width: WidthA4, Height: 5}, p); err == nil {
		t.Error("short MMR: no error")
	}
	if _, err := dec.Decode(nil, DecodeOptions{Coding: MH, Width: 100}, p); err == nil {
		t.Error("width mismatch accepted")
	}
}

// FuzzDecode: arbitrary data never panics, and whatever is decoded has the
// page's width and a bounded height.
func FuzzDecode(f *testing.F) {
	var enc Encoder
	p := testPages(f)["text"]
	for _, c := range []Coding{MH, MR, MMR} {
		data, _ := enc.Encode(nil, p, EncodeOptions{Coding: c})
		f.Add(uint8(c), data[:min(len(data), 600)])
	}
	f.Fuzz(func(t *testing.T, coding uint8, data []byte) {
		c := Coding(coding%3 + 1)
		var dec Decoder
		for _, layout := range []Layout{Line, Rows} {
			for _, h := range []int{0, 7} {
				if layout == Rows && (h == 0 || c != MH) {
					continue
				}
				p, _ := NewPage(300, 0, XRes, YResFine)
				st, _ := dec.Decode(data, DecodeOptions{Coding: c, Layout: layout, Width: 300, Height: h}, p)
				if p.Height != st.Rows || len(p.Pix) != p.Height*p.Stride || (h > 0 && p.Height > h) || p.Height > 8*len(data)+1 {
					t.Fatalf("%v: %d rows, %d bytes", c, p.Height, len(p.Pix))
				}
			}
		}
	})
}
