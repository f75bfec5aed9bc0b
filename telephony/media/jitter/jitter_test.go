package jitter

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"sort"
	"testing"

	"callbox/dsp/g711"
	"callbox/dsp/plc"
)

// pkt is one scripted packet: its sequence index and its arrival in ms.
type pkt struct {
	i      int
	arrive float64
	marker bool
	tsAdd  uint32 // extra timestamp offset (sender clock jump)
}

// source returns n samples of a 440 Hz + 1 kHz mix, mu-law encoded.
func source(n int) []byte {
	s := make([]int16, n)
	for i := range s {
		t := float64(i) / 8000
		s[i] = int16(6000*math.Sin(2*math.Pi*440*t) + 3000*math.Sin(2*math.Pi*1000*t))
	}
	c := make([]byte, n)
	g711.EncodeUlaw(c, s)
	return c
}

// run plays a script: packets of ptime ms taken from src, delivered at their
// arrival times (ties in script order), one Get per 10 ms tick for ticks
// ticks. It returns the output and the buffer.
func run(t *testing.T, src []byte, ptime int, script []pkt, ticks int) ([]int16, *Buffer) {
	t.Helper()
	b := New(PCMU)
	per := ptime * 8
	sort.SliceStable(script, func(a, c int) bool { return script[a].arrive < script[c].arrive })
	out := make([]int16, 0, ticks*Frame)
	frame := make([]int16, Frame)
	next := 0
	const ts0 = 0xfffff000 // wraps during the run
	for k := range ticks {
		now := float64(k * 10)
		for next < len(script) && script[next].arrive <= now {
			p := script[next]
			next++
			off := p.i * per
			if off+per > len(src) {
				continue
			}
			b.Put(ts0+uint32(off)+p.tsAdd, p.marker, src[off:off+per])
			checkInvariants(t, b)
		}
		b.Get(frame)
		checkInvariants(t, b)
		out = append(out, frame...)
	}
	return out, b
}

func checkInvariants(t *testing.T, b *Buffer) {
	t.Helper()
	if b.delay < MinDelay || b.delay > MaxDelay || b.delay%Frame != 0 {
		t.Fatalf("delay %d out of range", b.delay)
	}
	n := 0
	for _, w := range b.valid {
		n += bits.OnesCount64(w)
	}
	if n != b.inBuffer {
		t.Fatalf("inBuffer %d, valid samples %d", b.inBuffer, n)
	}
}

// regular returns n packets arriving every ptime ms, plus a fixed offset.
func regular(n, ptime int) []pkt {
	s := make([]pkt, n)
	for i := range s {
		s[i] = pkt{i: i, arrive: float64(i * ptime)}
	}
	return s
}

// delayOf finds the delay at which out matches the decoded source exactly
// over the stretch [from, to) of the output.
func delayOf(out []int16, src []byte, from, to int) int {
	dec := make([]int16, len(src))
	g711.DecodeUlaw(dec, src)
	for d := 0; d < 4000; d++ {
		ok := true
		for i := from; i < to; i++ {
			j := i - d
			if j < 0 || j >= len(dec) || out[i] != dec[j] {
				ok = false
				break
			}
		}
		if ok {
			return d
		}
	}
	return -1
}

func TestPatterns(t *testing.T) {
	const secs = 6
	src := source(secs * 8000)
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name   string
		ptime  int
		script func() []pkt
		check  func(t *testing.T, out []int16, s Stats)
	}{
		{"clean 20 ms", 20, func() []pkt { return regular(secs*50, 20) },
			func(t *testing.T, out []int16, s Stats) {
				if s.Late+s.Duplicate+s.Reordered+s.Resyncs != 0 {
					t.Errorf("unexpected drops: %+v", s)
				}
				// Everything after the first packet is received audio.
				if s.Concealed != 0 {
					t.Errorf("concealed %d frames", s.Concealed)
				}
				// 20 ms of delay; the concealer adds none without loss.
				if d := delayOf(out, src, 800, len(out)-400); d != MinDelay {
					t.Errorf("delay %d samples, want %d", d, MinDelay)
				}
			}},
		{"clean 10 ms", 10, func() []pkt { return regular(secs*100, 10) },
			func(t *testing.T, out []int16, s Stats) {
				if s.Late+s.Concealed != 0 || s.Received != secs*100 {
					t.Errorf("stats %+v", s)
				}
			}},
		{"clean 30 ms", 30, func() []pkt { return regular(secs*1000/30, 30) },
			func(t *testing.T, out []int16, s Stats) {
				if s.Late+s.Concealed != 0 {
					t.Errorf("stats %+v", s)
				}
				if d := delayOf(out, src, 800, len(out)-800); d < 0 {
					t.Error("output is not the source delayed")
				}
			}},
		{"2 % loss", 20, func() []pkt {
			var s []pkt
			for _, p := range regular(secs*50, 20) {
				if p.i%50 != 25 {
					s = append(s, p)
				}
			}
			return s
		}, func(t *testing.T, out []int16, s Stats) {
			// Each lost 20 ms packet is two concealed 10 ms frames.
			if s.Concealed != 2*secs || s.Late != 0 {
				t.Errorf("concealed %d, want %d; %+v", s.Concealed, 2*secs, s)
			}
			// Undelayed until the first loss (packet 25), then 3.75 ms
			// behind as Appendix I.
			if d := delayOf(out, src, 800, 3600); d != MinDelay {
				t.Errorf("delay %d before the first loss, want %d", d, MinDelay)
			}
			if d := delayOf(out, src, 13000, 19000); d != MinDelay+plc.Delay { // between losses
				t.Errorf("delay %d after the first loss, want %d", d, MinDelay+plc.Delay)
			}
		}},
		{"adjacent swaps", 20, func() []pkt {
			s := regular(secs*50, 20)
			for i := 10; i+1 < len(s); i += 7 {
				s[i].arrive, s[i+1].arrive = s[i+1].arrive, s[i].arrive-0.1
			}
			return s
		}, func(t *testing.T, out []int16, s Stats) {
			if s.Reordered == 0 || s.Late != 0 || s.Concealed != 0 {
				t.Errorf("stats %+v", s)
			}
			if d := delayOf(out, src, 800, len(out)-400); d != MinDelay {
				t.Errorf("delay %d", d)
			}
		}},
		{"duplicates", 20, func() []pkt {
			s := regular(secs*50, 20)
			n := len(s)
			for i := 0; i < n; i += 10 {
				s = append(s, pkt{i: i, arrive: s[i].arrive + 5})
			}
			return s
		}, func(t *testing.T, out []int16, s Stats) {
			if s.Duplicate != secs*5 || s.Concealed != 0 {
				t.Errorf("stats %+v", s)
			}
		}},
		{"60 ms jitter grows", 20, func() []pkt {
			s := regular(secs*50, 20)
			for i := 1; i < len(s); i++ {
				s[i].arrive += rng.Float64() * 60
			}
			return s
		}, func(t *testing.T, out []int16, s Stats) {
			if s.Delay < 480 || s.Delay > 720 {
				t.Errorf("delay %d samples after 60 ms jitter", s.Delay)
			}
			if s.Late == 0 || s.Late > 15 {
				t.Errorf("late %d (want a few while growing)", s.Late)
			}
		}},
		{"400 ms spike stops at the ceiling", 20, func() []pkt {
			s := regular(secs*50, 20)
			for i := 100; i < 110; i++ {
				s[i].arrive += 400
			}
			return s
		}, func(t *testing.T, out []int16, s Stats) {
			if s.Delay != MaxDelay && s.Shrunk == 0 {
				t.Errorf("delay %d, want the ceiling %d", s.Delay, MaxDelay)
			}
		}},
		{"jitter then calm shrinks", 20, func() []pkt {
			s := regular(secs*50, 20)
			for i := 1; i < 50; i++ {
				s[i].arrive += rng.Float64() * 80
			}
			return s
		}, func(t *testing.T, out []int16, s Stats) {
			if s.Grown == 0 || s.Shrunk < 3 {
				t.Errorf("no shrink after calm: %+v", s)
			}
		}},
		{"sender clock jump resyncs", 20, func() []pkt {
			s := regular(secs*50, 20)
			for i := 150; i < len(s); i++ {
				s[i].tsAdd = 1 << 20
			}
			return s
		}, func(t *testing.T, out []int16, s Stats) {
			if s.Resyncs != 1 || s.Late != 0 {
				t.Errorf("stats %+v", s)
			}
		}},
		{"talkspurt with marker realigns", 20, func() []pkt {
			var s []pkt
			for _, p := range regular(secs*50, 20) {
				switch {
				case p.i >= 100 && p.i < 130: // 600 ms of silence suppressed
				case p.i >= 130:
					// The path got 30 ms slower during the silence.
					p.marker = p.i == 130
					p.arrive += 30
					s = append(s, p)
				default:
					s = append(s, p)
				}
			}
			return s
		}, func(t *testing.T, out []int16, s Stats) {
			if s.Late != 0 || s.Resyncs != 0 {
				t.Errorf("stats %+v", s)
			}
		}},
		{"sender restarts behind", 20, func() []pkt {
			s := regular(secs*50, 20)
			for i := 150; i < len(s); i++ {
				s[i].tsAdd = 1<<32 - 4000 // 500 ms back
			}
			return s
		}, func(t *testing.T, out []int16, s Stats) {
			if s.Resyncs != 1 || s.Late != lostResync {
				t.Errorf("stats %+v", s)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, b := run(t, src, tc.ptime, tc.script(), secs*100)
			tc.check(t, out, b.Stats())
		})
	}
}

func TestSilenceBeforeFirstPacket(t *testing.T) {
	b := New(PCMA)
	f := make([]int16, Frame)
	for i := range f {
		f[i] = 1
	}
	b.Get(f)
	for _, v := range f {
		if v != 0 {
			t.Fatal("not silence before the first packet")
		}
	}
	if b.Put(0, false, nil) {
		t.Error("empty payload accepted")
	}
}

func BenchmarkPutGet(b *testing.B) {
	src := source(8000)
	buf := New(PCMU)
	frame := make([]int16, Frame)
	b.ReportAllocs()
	ts := uint32(0)
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			off := int(ts) % (len(src) - 160)
			buf.Put(ts, false, src[off:off+160])
			ts += 160
		}
		buf.Get(frame)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*Frame), "ns/sample")
}

// TestReady: Ready says the next Get plays received audio, and only then.
func TestReady(t *testing.T) {
	b := New(PCMU)
	frame := make([]int16, Frame)
	if b.Ready() {
		t.Fatal("ready before any packet")
	}
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = g711.EncodeUlawSample(1000)
	}
	readies := 0
	for k := range uint32(200) {
		b.Put(k*160, k == 0, payload)
		for range 2 {
			ready := b.Ready()
			if ready {
				readies++
			}
			before := b.Stats()
			b.Get(frame)
			after := b.Stats()
			if ready && after.Played != before.Played+1 {
				t.Fatalf("packet %d: ready, but Get did not play received audio: %+v", k, after)
			}
			if ready && (after.Grown != before.Grown || after.Shrunk != before.Shrunk) {
				t.Fatalf("packet %d: ready, but the delay changed", k)
			}
		}
	}
	if s := b.Stats(); s.Played < 390 || readies < 380 {
		t.Fatalf("ready %d times; stats %+v", readies, s)
	}
	// Drained: the next frame is missing.
	for range 4 {
		b.Get(frame)
	}
	if b.Ready() {
		t.Fatal("ready with nothing buffered")
	}
}
