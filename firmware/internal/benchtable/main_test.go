package main

import (
	"strings"
	"testing"
)

func TestParseAndFormat(t *testing.T) {
	in := `goos: linux
pkg: callbox/dsp/dtmf
BenchmarkDetect-2   	   1000	   3200 ns/op	         3.500 cpu-ns/sample	         4.000 ns/sample	       0 B/op	       0 allocs/op
BenchmarkNoSample-2 	   5000	    812 ns/op	       0 B/op	       0 allocs/op
PASS
`
	rows := parse(strings.NewReader(in))
	if len(rows) != 2 || rows[0].nsPerSample != 4 || rows[0].cpuPerSample != 3.5 || rows[0].allocsOp != "0" || rows[1].nsPerSample != -1 {
		t.Fatalf("parsed %+v", rows)
	}
	var b strings.Builder
	format(&b, rows)
	// 1e9 / (4 ns * 8000 samples/s) = 31250 channels on one core.
	if !strings.Contains(b.String(), "31250") || !strings.Contains(b.String(), "3.50") || !strings.Contains(b.String(), "dsp/dtmf") {
		t.Fatalf("table:\n%s", b.String())
	}
}
