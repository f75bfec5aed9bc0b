package t30

import (
	"testing"

	"callbox/dsp/internal/dsptest"
)

// The cost of one fax channel, per sample of the call: a whole session
// (modems, T.30, T.4 coding of three fine pages) replayed against the
// other side's recorded audio. 1e9/(ns/sample * 8000) is the number of
// fax calls a core carries (benchtable's channels/core). Allocations are
// per call (the session, its pages), none per block.
// With error correction (MMR in 256-octet frames) and without (MR).
func BenchmarkReceiveSession(b *testing.B) {
	for _, cfg := range benchConfigs {
		b.Run(cfg.name, func(b *testing.B) {
			fromSender, _ := recordCall(b, cfg.Config)
			benchSession(b, cfg.Config, fromSender)
		})
	}
}

func BenchmarkSendSession(b *testing.B) {
	for _, cfg := range benchConfigs {
		b.Run(cfg.name, func(b *testing.B) {
			_, fromReceiver := recordCall(b, cfg.Config)
			c := cfg.Config
			c.Calling, c.Pages = true, testDoc(b)
			benchSession(b, c, fromReceiver)
		})
	}
}

var benchConfigs = []struct {
	name string
	Config
}{{"ECM", Config{}}, {"NoECM", Config{NoECM: true}}}

func benchSession(b *testing.B, cfg Config, heard []int16) {
	out := make([]int16, 160)
	b.ReportAllocs()
	clk := dsptest.StartCPU(b)
	for b.Loop() {
		s, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i+160 <= len(heard); i += 160 {
			s.Process(heard[i:i+160], out)
		}
		if s.Result().Err != nil || s.Result().Pages != 3 {
			b.Fatalf("replayed session: %+v", s.Result())
		}
	}
	clk.PerSample(b, len(heard))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(heard)), "ns/sample")
}
