package dtmf

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"callbox/dsp/internal/dsptest"
)

// BenchmarkSpandspReference times spandsp's DTMF receiver (the one
// Asterisk and FreeSWITCH use) on the same kind of signal as
// BenchmarkDetectorNoise, built from testdata/spandsp_bench.c against
// Debian's libspandsp-dev, so both are measured on the same machine under
// the same load. Run them together:
//
//	go test -run X -bench 'DetectorNoise|Spandsp' ./dsp/dtmf
func BenchmarkSpandspReference(b *testing.B) {
	bin := dsptest.BuildSpandsp(b, "testdata/spandsp_bench.c")
	// Each iteration runs the program over 5000 blocks of 160 samples;
	// it times itself, leaving out its start-up.
	const blocks = 5000
	var wall, cpu float64
	for b.Loop() {
		out := strings.Fields(string(dsptest.Run(b, bin, fmt.Sprint(blocks))))
		if len(out) != 3 {
			b.Fatalf("spandsp_bench printed %q", out)
		}
		w, err1 := strconv.ParseFloat(out[0], 64)
		c, err2 := strconv.ParseFloat(out[1], 64)
		if err1 != nil || err2 != nil {
			b.Fatalf("spandsp_bench printed %q", out)
		}
		wall += w
		cpu += c
	}
	wall /= float64(b.N)
	cpu /= float64(b.N)
	b.ReportMetric(wall, "ns/sample")
	b.ReportMetric(cpu, "cpu-ns/sample")
}
