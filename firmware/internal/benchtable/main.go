// Command benchtable reads `go test -bench` output on standard input and
// prints the DSP figures as a table: ns per sample (wall, and thread CPU
// where measured) and the channels one core can carry in real time at 8 kHz
// (1e9 / (ns/sample * 8000), from wall time).
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

type row struct {
	pkg, name         string
	nsPerSample       float64
	cpuPerSample      float64 // thread CPU time, where the benchmark measures it
	nsPerOp, allocsOp string
}

func parse(r io.Reader) []row {
	var rows []row
	pkg := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "pkg:" {
			pkg = f[1]
			continue
		}
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		rw := row{pkg: pkg, name: strings.TrimPrefix(f[0], "Benchmark"), nsPerSample: -1, cpuPerSample: -1}
		// After the name and iteration count come value/unit pairs.
		for i := 2; i+1 < len(f); i += 2 {
			switch f[i+1] {
			case "ns/sample":
				if v, err := strconv.ParseFloat(f[i], 64); err == nil {
					rw.nsPerSample = v
				}
			case "cpu-ns/sample":
				if v, err := strconv.ParseFloat(f[i], 64); err == nil {
					rw.cpuPerSample = v
				}
			case "ns/op":
				rw.nsPerOp = f[i]
			case "allocs/op":
				rw.allocsOp = f[i]
			}
		}
		rows = append(rows, rw)
	}
	return rows
}

func format(w io.Writer, rows []row) {
	fmt.Fprintf(w, "\n%-26s %-38s %12s %10s %14s %14s %10s\n", "package", "benchmark", "ns/op", "ns/sample", "cpu-ns/sample", "channels/core", "allocs/op")
	for _, r := range rows {
		ns, cpu, ch := "-", "-", "-"
		if r.nsPerSample > 0 {
			ns = strconv.FormatFloat(r.nsPerSample, 'f', 2, 64)
			ch = strconv.FormatFloat(1e9/(r.nsPerSample*8000), 'f', 0, 64)
		}
		if r.cpuPerSample > 0 {
			cpu = strconv.FormatFloat(r.cpuPerSample, 'f', 2, 64)
		}
		fmt.Fprintf(w, "%-26s %-38s %12s %10s %14s %14s %10s\n", strings.TrimPrefix(r.pkg, "callbox/"), r.name, r.nsPerOp, ns, cpu, ch, r.allocsOp)
	}
}

func main() {
	rows := parse(os.Stdin)
	if len(rows) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark lines on standard input")
		os.Exit(1)
	}
	format(os.Stdout, rows)
}
