package t4

import "testing"

// benchPage is a full A4 page at fine resolution of text-like strokes.
func benchPage(b *testing.B) *Page {
	p, err := FromImage(letter(1728, 2287), FitOptions{Dither: Threshold})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// Encode and decode a whole A4 fine page, per coding: the cost per page a
// fax channel pays on top of the modem.
func BenchmarkEncodePage(b *testing.B) {
	p := benchPage(b)
	for _, c := range []Coding{MH, MR, MMR} {
		b.Run(c.String(), func(b *testing.B) {
			var enc Encoder
			buf, _ := enc.Encode(nil, p, EncodeOptions{Coding: c})
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = enc.Encode(buf[:0], p, EncodeOptions{Coding: c})
			}
			b.ReportMetric(float64(len(buf)), "bytes/page")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/page")
		})
	}
}

func BenchmarkDecodePage(b *testing.B) {
	p := benchPage(b)
	for _, c := range []Coding{MH, MR, MMR} {
		b.Run(c.String(), func(b *testing.B) {
			var enc Encoder
			var dec Decoder
			data, _ := enc.Encode(nil, p, EncodeOptions{Coding: c})
			out, _ := NewPage(p.Width, 0, p.XRes, p.YRes)
			b.ReportAllocs()
			for b.Loop() {
				out.Pix, out.Height = out.Pix[:0], 0
				if _, err := dec.Decode(data, DecodeOptions{Coding: c, Width: p.Width}, out); err != nil {
					b.Fatal(err)
				}
			}
			if !out.Equal(p) {
				b.Fatalf("%v: decoded page differs", c)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/page")
		})
	}
}
