package jitter

import (
	"testing"

	"callbox/dsp/g711"
)

// A fax call's buffer: at a fixed delay every sample that arrived in time
// is played exactly that delay after it was sent, a lost or too-late packet
// is a gap of silence of its own length (no concealment, nothing shifted),
// and the delay neither grows nor shrinks. Before the fixed mode, a late
// packet grew the delay (shifting the modem signal) and a lost one was
// concealed with a repeated pitch period.
func TestFixedDelay(t *testing.T) {
	const secs = 6
	src := source(secs * 8000)
	dec := make([]int16, len(src))
	g711.DecodeUlaw(dec, src)
	cases := []struct {
		name   string
		fixAt  int // tick at which SetFixed is called (0: before the first packet)
		delay  int // asked
		want   int // the delay in force
		script []pkt
		// lost are the packets that must come out as silence.
		lost []int
	}{
		{name: "jitter within the delay", delay: 640, want: 640, script: jittery(secs*50, 20, 55), lost: nil},
		{name: "a lost packet", delay: 480, want: 480, script: without(regular(secs*50, 20), 100), lost: []int{100}},
		{name: "a packet later than the delay", delay: 320, want: 320,
			script: moved(regular(secs*50, 20), 120, 90), lost: []int{120}},
		{name: "asked below the minimum", delay: 10, want: MinDelay, script: regular(secs*50, 20)},
		{name: "fixed mid-call, longer", fixAt: 150, delay: 800, want: 800, script: regular(secs*50, 20)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := New(PCMU)
			if tc.fixAt == 0 {
				b.SetFixed(tc.delay)
			}
			out := make([]int16, 0, secs*8000+4000)
			frame := make([]int16, Frame)
			next, ticks := 0, secs*100+100
			for k := range ticks {
				if k == tc.fixAt && k > 0 {
					b.SetFixed(tc.delay)
				}
				for next < len(tc.script) && tc.script[next].arrive <= float64(k*10) {
					p := tc.script[next]
					next++
					b.Put(uint32(p.i*160), false, src[p.i*160:p.i*160+160])
					checkInvariants(t, b)
				}
				b.Get(frame)
				out = append(out, frame...)
			}
			st := b.Stats()
			if !st.Fixed || st.Delay != tc.want {
				t.Fatalf("stats %+v: want fixed at %d", st, tc.want)
			}
			if st.Grown != 0 || st.Shrunk != 0 || st.Concealed != 0 {
				t.Errorf("a fixed buffer grew, shrank or concealed: %+v", st)
			}
			// From the fix on (after the stretch to it), sample i of the
			// source is sample i+want of the output, or silence if lost.
			from := (tc.fixAt*Frame + tc.want) / 160 * 160
			isLost := map[int]bool{}
			for _, l := range tc.lost {
				isLost[l] = true
			}
			for i := from; i < len(dec) && i+tc.want < len(out); i++ {
				want := dec[i]
				if isLost[i/160] {
					want = 0
				}
				if got := out[i+tc.want]; got != want {
					t.Fatalf("sample %d (packet %d) came out as %d, want %d", i, i/160, got, want)
				}
			}
			if len(tc.lost) > 0 && st.Silenced < 2*uint64(len(tc.lost)) {
				t.Errorf("Silenced %d for %d lost packets", st.Silenced, len(tc.lost))
			}
		})
	}
}

// Back to adaptive after a fax: a late packet grows the delay again.
func TestFixedThenAdaptive(t *testing.T) {
	src := source(8000)
	b := New(PCMU)
	b.SetFixed(400)
	frame := make([]int16, Frame)
	for i := range 10 {
		b.Put(uint32(i*160), false, src[i*160:i*160+160])
		b.Get(frame)
		b.Get(frame)
	}
	b.SetFixed(0)
	if b.Stats().Fixed || b.Delay() != 400 {
		t.Fatalf("after SetFixed(0): %+v", b.Stats())
	}
	for range 10 { // the sender stalls: the next packet is late
		b.Get(frame)
	}
	b.Put(10*160, false, src[10*160:11*160])
	if b.Delay() <= 400 {
		t.Fatalf("adaptive again, a late packet should grow the delay: %d", b.Delay())
	}
}

// jittery returns n packets of ptime ms, each but the first (which sets
// the playout point) late by a pseudo-random amount below maxLate ms.
func jittery(n, ptime, maxLate int) []pkt {
	s := regular(n, ptime)
	x := uint32(1)
	for i := 1; i < len(s); i++ {
		x = x*1664525 + 1013904223
		s[i].arrive += float64(int(x>>8) % maxLate)
	}
	sortScript(s)
	return s
}

func without(s []pkt, i int) []pkt {
	return append(append([]pkt(nil), s[:i]...), s[i+1:]...)
}

// moved delays packet i by ms.
func moved(s []pkt, i int, ms float64) []pkt {
	s = append([]pkt(nil), s...)
	s[i].arrive += ms
	sortScript(s)
	return s
}

func sortScript(s []pkt) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].arrive < s[j-1].arrive; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
