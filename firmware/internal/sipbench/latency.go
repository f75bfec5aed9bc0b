package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Set-up latency: the caller's scenarios start sipp's response-time
// measure "setup" when they send the first INVITE and stop it at the 200 OK
// to the authenticated one, so each figure includes the digest round trip
// (INVITE, 407, ACK, INVITE, 200). sipp -trace_rtt writes every figure (in
// whole milliseconds, sipp's clock) to <scenario>_<pid>_rtt.csv in its
// working directory.

// latencies are set-up times, sorted.
type latencies []time.Duration

// readRTT reads the "setup" response times of a sipp rtt file: lines of
// date_ms;response_time_ms;rtd_name after a header.
func readRTT(r io.Reader) (latencies, error) {
	var out latencies
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Split(strings.TrimSpace(sc.Text()), ";")
		if len(f) != 3 || f[2] != "setup" {
			continue // the header, another measure
		}
		ms, err := strconv.ParseFloat(f[1], 64)
		if err != nil || ms < 0 {
			return nil, fmt.Errorf("sipbench: rtt line %q: bad response time", sc.Text())
		}
		out = append(out, time.Duration(ms*float64(time.Millisecond)))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("sipbench: rtt file: %w", err)
	}
	slices.Sort(out)
	return out, nil
}

// setupLatencies reads the rtt files sipp scenario name left in dir.
func setupLatencies(dir, name string) (latencies, error) {
	files, err := filepath.Glob(filepath.Join(dir, name+"_*_rtt.csv"))
	if err != nil {
		return nil, err
	}
	var all latencies
	for _, fn := range files {
		f, err := os.Open(fn)
		if err != nil {
			return nil, err
		}
		l, err := readRTT(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		all = append(all, l...)
	}
	slices.Sort(all)
	return all, nil
}

// pct is the q-th percentile (nearest rank) of sorted latencies.
func (l latencies) pct(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	i := int(float64(len(l))*q/100+0.999999) - 1
	return l[max(0, min(i, len(l)-1))]
}

// String gives the percentiles the issue compares.
func (l latencies) String() string {
	if len(l) == 0 {
		return "none measured"
	}
	return fmt.Sprintf("p50 %v, p95 %v, p99 %v, max %v over %d calls",
		l.pct(50), l.pct(95), l.pct(99), l[len(l)-1], len(l))
}

// clearSetupLatencies removes the rtt files sipp scenario name left in
// dir, so that its next run's are read alone.
func clearSetupLatencies(dir, name string) {
	files, _ := filepath.Glob(filepath.Join(dir, name+"_*_rtt.csv"))
	for _, fn := range files {
		os.Remove(fn)
	}
}

// printSetupLatency prints the set-up latency of the calls sipp scenario
// name placed.
func printSetupLatency(dir, name string) {
	l, err := setupLatencies(dir, name)
	if err != nil {
		fmt.Printf("  set-up latency               not read: %v\n", err)
		return
	}
	fmt.Printf("  set-up latency INVITE -> 200 %v (digest round trip included; sipp's ms clock)\n", l)
}
