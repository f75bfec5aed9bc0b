package main

import (
	"testing"
	"time"
)

func TestStatCPU(t *testing.T) {
	for _, c := range []struct {
		line string
		want time.Duration
		ok   bool
	}{
		{"4242 (qemu-arm-stati) S 1 4242 4242 0 -1 4194560 900 0 0 0 365 57 0 0 20 0 9 0 100 0 0", 4220 * time.Millisecond, true},
		// A command name with spaces and a ')' of its own.
		{"7 (a b) c) R 1 7 7 0 -1 0 0 0 0 0 12 3 0 0", 150 * time.Millisecond, true},
		{"7 (short) R 1 7", 0, false},
		{"no parenthesis at all", 0, false},
		{"7 (x) R 1 7 7 0 -1 0 0 0 0 0 -5 3", 0, false},
	} {
		got, err := statCPU([]byte(c.line))
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("statCPU(%q) = %v, %v; want %v, ok %v", c.line, got, err, c.want, c.ok)
		}
	}
}

func FuzzStatCPU(f *testing.F) {
	f.Add([]byte("4242 (qemu) S 1 4242 4242 0 -1 4194560 900 0 0 0 365 57 0 0"))
	f.Add([]byte("1 ()) R"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := statCPU(b); err == nil && d < 0 {
			t.Fatalf("statCPU(%q) = %v", b, d)
		}
	})
}

func TestCurrentCalls(t *testing.T) {
	const header = "StartTime;LastResetTime;CurrentTime;ElapsedTime(P);ElapsedTime(C);TargetRate;CallRate(P);CallRate(C);IncomingCall(P);IncomingCall(C);OutgoingCall(P);OutgoingCall(C);TotalCallCreated;CurrentCall;SuccessfulCall(P)\n"
	for _, c := range []struct {
		in   string
		want int
	}{
		{header + "a;b;c;d;e;f;g;h;i;j;k;l;30;7;0\n" + "a;b;c;d;e;f;g;h;i;j;k;l;30;29;0\n", 29},
		{header, 0},
		{"", 0},
		{"x;y\n1;2\n", 0},       // no CurrentCall column
		{header + "a;b;c\n", 0}, // a line cut short
		{header + "a;b;c;d;e;f;g;h;i;j;k;l;30;x;0\n", 0}, // not a number
	} {
		if got := currentCalls([]byte(c.in)); got != c.want {
			t.Errorf("currentCalls(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}
