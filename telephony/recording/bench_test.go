package recording

import (
	"path/filepath"
	"testing"
)

// BenchmarkWriterFrame: encoding one 10 ms frame of both channels into the
// writer's buffer, with a write and header update every second, as the
// writer goroutine does (ns/sample per channel sample; 0 allocs/op).
func BenchmarkWriterFrame(b *testing.B) {
	for _, e := range []Encoding{ALaw, PCM16} {
		b.Run(e.String(), func(b *testing.B) {
			w, err := createWAV(filepath.Join(b.TempDir(), "x.wav"), e, 2, 100*80)
			if err != nil {
				b.Fatal(err)
			}
			defer w.close()
			a, c := tone(500, 80), tone(1300, 80)
			b.ReportAllocs()
			for b.Loop() {
				w.put(a, c)
				if w.full() {
					if err := w.flush(); err != nil {
						b.Fatal(err)
					}
					if w.data > 64<<20 {
						w.data = 0 // stay small on disk
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*160), "ns/sample")
		})
	}
}
