package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReadRTT(t *testing.T) {
	const file = `Date_ms;response_time_ms;rtd_no
104.001;4;setup
216.001;12;setup
320.001;2;other
420.001;1;setup
508.001;7.5;setup
`
	l, err := readRTT(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	want := latencies{time.Millisecond, 4 * time.Millisecond, 7500 * time.Microsecond, 12 * time.Millisecond}
	if len(l) != len(want) {
		t.Fatalf("got %v, want %v", l, want)
	}
	for i := range want {
		if l[i] != want[i] {
			t.Fatalf("got %v, want %v", l, want)
		}
	}
	if _, err := readRTT(strings.NewReader("1;x;setup\n")); err == nil {
		t.Error("a bad response time was taken")
	}
}

func TestPercentiles(t *testing.T) {
	var l latencies
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {95, 95 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := l.pct(c.q); got != c.want {
			t.Errorf("p%v = %v, want %v", c.q, got, c.want)
		}
	}
	if got := (latencies{}).String(); got != "none measured" {
		t.Errorf("empty: %q", got)
	}
	if got := (latencies{3 * time.Millisecond}).pct(99); got != 3*time.Millisecond {
		t.Errorf("one call: p99 %v", got)
	}
}

func TestParseRates(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []float64
	}{
		{"100", []float64{100}},
		{"100,200, 400", []float64{100, 200, 400}},
		{"2.5", []float64{2.5}},
		{"100,", nil},
		{"0", nil},
		{"fast", nil},
	} {
		got, err := parseRates(tc.in)
		if (err != nil) != (tc.want == nil) || !slices.Equal(got, tc.want) {
			t.Errorf("parseRates(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
