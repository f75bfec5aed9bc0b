package plc

import (
	"math"
	"testing"
)

// periodic is a voiced-like signal at hz.
func periodic(hz float64, n int) []int16 {
	x := make([]int16, n)
	for i := range x {
		ph := 2 * math.Pi * hz * float64(i) / rate
		x[i] = int16(6000*math.Sin(ph) + 3000*math.Sin(2*ph+1) + 1500*math.Sin(3*ph+2))
	}
	return x
}

// run feeds x to c a frame at a time with the given frames lost.
func run(c *Concealer, x []int16, lost []bool) []int16 {
	out := make([]int16, len(x))
	for f := 0; f*FrameLen < len(x); f++ {
		a, b := f*FrameLen, min((f+1)*FrameLen, len(x))
		if f < len(lost) && lost[f] {
			c.Lost(out[a:b])
		} else {
			c.Good(out[a:b], x[a:b])
		}
	}
	return out
}

// TestLowDelay: a low-delay concealer passes audio through undelayed
// until the first loss; from the end of that loss's first frame on its
// output is exactly Appendix I's (New's, 3.75 ms behind); the cross-fade in
// between makes no click; Reset makes it undelayed again.
func TestLowDelay(t *testing.T) {
	for _, tc := range []struct {
		name string
		lost []int // frames lost
	}{
		{"10 ms", []int{20}},
		{"30 ms", []int{20, 21, 22}},
		{"two losses", []int{20, 35, 36}},
		{"70 ms", []int{20, 21, 22, 23, 24, 25, 26}},
	} {
		for _, hz := range []float64{100, 150, 200, 290} {
			x := periodic(hz, rate/2)
			lost := make([]bool, len(x)/FrameLen)
			for _, f := range tc.lost {
				lost[f] = true
			}
			low := NewLowDelay()
			if low.Latency() != 0 {
				t.Fatalf("latency %d before any loss", low.Latency())
			}
			y := run(low, x, lost)
			ref := run(New(), x, lost)
			first := tc.lost[0] * FrameLen
			for i := range first {
				if y[i] != x[i] {
					t.Fatalf("%s %v Hz: sample %d before the loss is %d, the input %d", tc.name, hz, i, y[i], x[i])
				}
			}
			for i := first + transition; i < len(y); i++ {
				if y[i] != ref[i] {
					t.Fatalf("%s %v Hz: sample %d after the transition is %d, Appendix I's %d", tc.name, hz, i, y[i], ref[i])
				}
			}
			if low.Latency() != Delay {
				t.Errorf("latency %d after a loss", low.Latency())
			}
			// No click: around the transition no step exceeds the signal's
			// own largest by more than 5 %.
			if sx, sy := maxStep(x), maxStep(y[first-Delay:first+2*transition]); sy > sx+sx/20 {
				t.Errorf("%s %v Hz: largest step %d at the transition, the signal's own is %d", tc.name, hz, sy, sx)
			}
			low.Reset()
			if low.Latency() != 0 {
				t.Errorf("latency %d after Reset", low.Latency())
			}
		}
	}
}

// TestLowDelayBlockSizes: any block lengths give the same output.
func TestLowDelayBlockSizes(t *testing.T) {
	x := periodic(130, rate/4)
	lost := make([]bool, len(x))
	for i := 800; i < 1000; i++ {
		lost[i] = true
	}
	want := make([]int16, len(x))
	c := NewLowDelay()
	for i := range x {
		if lost[i] {
			c.Lost(want[i : i+1])
		} else {
			c.Good(want[i:i+1], x[i:i+1])
		}
	}
	for _, block := range []int{7, 80, 160, 33} {
		c := NewLowDelay()
		got := make([]int16, len(x))
		for a := 0; a < len(x); {
			b := min(a+block, len(x))
			if lost[a] != lost[b-1] {
				// Keep each block all lost or all good.
				for b > a+1 && lost[b-1] != lost[a] {
					b--
				}
			}
			if lost[a] {
				c.Lost(got[a:b])
			} else {
				c.Good(got[a:b], x[a:b])
			}
			a = b
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("block %d: sample %d is %d, want %d", block, i, got[i], want[i])
			}
		}
	}
}
