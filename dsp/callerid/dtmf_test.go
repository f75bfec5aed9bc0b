package callerid

import (
	"strings"
	"testing"

	"callbox/dsp/internal/dsptest"
)

var dtmfCases = []struct {
	m          Message
	start, end byte
}{
	{Message{Number: "13800138000"}, 'A', 'C'},
	{Message{Number: "5551234"}, 'A', '#'},
	{Message{Number: "0227654321"}, 'D', 'C'},
	{Message{NumberReason: Private}, 'A', '#'},
	{Message{NumberReason: Unavailable}, 'A', '#'},
	{Message{NumberReason: Private}, 'A', 'C'},
	{Message{NumberReason: Unavailable}, 'A', 'C'},
}

func mustDTMF(t testing.TB, m Message, cfg DTMFConfig) []int16 {
	t.Helper()
	x, err := AppendDTMF(nil, m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestDTMFRoundTrip(t *testing.T) {
	for _, c := range dtmfCases {
		cfg := DefaultDTMF
		cfg.Start, cfg.End = c.start, c.end
		for _, level := range []float64{-30, -7, -3} {
			cfg.LevelDBm0 = level
			x := append(make([]int16, 999), mustDTMF(t, c.m, cfg)...)
			msgs, starts, errs := DecodeDTMF(x)
			if len(msgs) != 1 || msgs[0] != c.m || len(errs) != 0 {
				t.Fatalf("%+v at %v dBm0: got %+v %v", c.m, level, msgs, errs)
			}
			if starts[0] < 999-40 || starts[0] > 999+40 {
				t.Errorf("%+v: starts at %d, want about 999", c.m, starts[0])
			}
		}
	}
}

func TestDTMFReceiverIgnoresDialling(t *testing.T) {
	// Digits with no start symbol, a string cut by a long pause, and one
	// whose end never comes give nothing; the good one after them is found.
	cfg := DefaultDTMF
	var x []int16
	for _, s := range []string{"5551234#", "A123", "", "A99"} {
		if s != "" {
			y, err := dtmfSynth(s, cfg)
			if err != nil {
				t.Fatal(err)
			}
			x = append(x, y...)
		}
		x = append(x, make([]int16, 12000)...)
	}
	x = append(x, mustDTMF(t, Message{Number: "42"}, cfg)...)
	msgs, _, errs := DecodeDTMF(x)
	if len(msgs) != 1 || msgs[0].Number != "42" {
		t.Fatalf("got %+v %v", msgs, errs)
	}
}

func TestDTMFBlockSizeInvariance(t *testing.T) {
	var x []int16
	for _, c := range dtmfCases {
		cfg := DefaultDTMF
		cfg.Start, cfg.End = c.start, c.end
		x = append(append(x, make([]int16, 3000)...), mustDTMF(t, c.m, cfg)...)
	}
	run := func(size int) (out []string) {
		r := NewDTMFReceiver()
		for rest := x; len(rest) > 0; rest = rest[min(size, len(rest)):] {
			r.Process(rest[:min(size, len(rest))])
			for s, at, ok := r.Poll(); ok; s, at, ok = r.Poll() {
				out = append(out, s+"@"+itoa(at))
			}
		}
		return out
	}
	want := run(len(x))
	if len(want) != len(dtmfCases) {
		t.Fatalf("%d strings: %q", len(want), want)
	}
	for _, size := range []int{1, 80, 102, 160, 1000} {
		if got := run(size); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("block %d: %q, want %q", size, got, want)
		}
	}
}

func TestDTMFNoiseAndSpeech(t *testing.T) {
	noise := soxNoise(t, "20")
	m := Message{Number: "13800138000"}
	sig := mustDTMF(t, m, DefaultDTMF)
	x := append(append(make([]int16, 2000), sig...), make([]int16, 2000)...)
	if msgs, _, _ := DecodeDTMF(addNoise(x, noise, power(sig), 20)); len(msgs) != 1 || msgs[0] != m {
		t.Errorf("at 20 dB S/N: %+v", msgs)
	}
	talk := speech(t, 60)
	if msgs, _, errs := DecodeDTMF(talk); len(msgs)+len(errs) != 0 {
		t.Fatalf("caller ID from speech alone: %+v %v", msgs, errs)
	}
	half := len(talk) / 2
	y := append(append(append([]int16(nil), talk[:half]...), sig...), talk[half:]...)
	if msgs, starts, _ := DecodeDTMF(y); len(msgs) != 1 || msgs[0] != m || starts[0] < int64(half-80) || starts[0] > int64(half+80) {
		t.Errorf("inside speech: %+v at %v, want at %d", msgs, starts, half)
	}
}

func checkDTMFWithSpandsp(t *testing.T, bin string) {
	for _, c := range dtmfCases {
		cfg := DefaultDTMF
		cfg.Start, cfg.End = c.start, c.end
		s, _ := EncodeDTMF(c.m, c.start, c.end)
		// spandsp's transmitter into our receiver.
		x := dsptest.Int16s(dsptest.Run(t, bin, "tx", "dtmf", s))
		x = append(make([]int16, 500), x...)
		if msgs, _, errs := DecodeDTMF(x); len(msgs) != 1 || msgs[0] != c.m {
			t.Errorf("spandsp sent %q, we got %+v %v", s, msgs, errs)
		}
		// Our transmitter into spandsp's receiver.
		y := append(append(make([]int16, 500), mustDTMF(t, c.m, cfg)...), make([]int16, 800)...)
		if got := spandspRx(t, bin, "dtmf", y); len(got) != 1 || got[0] != s {
			t.Errorf("we sent %q, spandsp got %q", s, got)
		}
	}
}

// FuzzDTMFReceiver: arbitrary audio never panics; strings polled are
// bounded and framed by a start and an end symbol.
func FuzzDTMFReceiver(f *testing.F) {
	f.Add(dsptest.Bytes(mustDTMF(f, Message{Number: "123"}, DefaultDTMF)), uint16(80))
	f.Add([]byte{1, 2, 3, 4}, uint16(1))
	f.Fuzz(func(t *testing.T, raw []byte, block uint16) {
		x := dsptest.Int16s(raw)
		size := int(block%1000) + 1
		r := NewDTMFReceiver()
		for rest := x; len(rest) > 0; rest = rest[min(size, len(rest)):] {
			r.Process(rest[:min(size, len(rest))])
		}
		r.Flush()
		for s, _, ok := r.Poll(); ok; s, _, ok = r.Poll() {
			if len(s) < 2 || len(s) > maxDTMF || !strings.ContainsRune("ABD", rune(s[0])) || !strings.ContainsRune("C#", rune(s[len(s)-1])) {
				t.Fatalf("polled %q", s)
			}
		}
	})
}

func BenchmarkDTMFReceiver(b *testing.B) {
	x := append(mustDTMF(b, Message{Number: "13800138000"}, DefaultDTMF), make([]int16, 800)...)
	r := NewDTMFReceiver()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for blk := x; len(blk) > 0; blk = blk[min(80, len(blk)):] {
			r.Process(blk[:min(80, len(blk))])
		}
		for _, _, ok := r.Poll(); ok; _, _, ok = r.Poll() {
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/sample")
}
