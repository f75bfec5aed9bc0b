package callerid

import (
	"math"
	"testing"

	"callbox/dsp/callerid/fsk"
	"callbox/dsp/internal/dsptest"
	"callbox/dsp/wav/wavtest"
)

var testMessages = []Message{
	{Format: SDMF, Time: "01020304", Number: "5551234"},
	{Format: SDMF, Time: "12312359", NumberReason: Private},
	{Format: SDMF, Time: "07040000", NumberReason: Unavailable},
	{Format: MDMF, Time: "11211305", Number: "13800138000", Name: "ZHANG SAN"},
	{Format: MDMF, Time: "02291200", NumberReason: Private, NameReason: Private},
	{Format: MDMF, Number: "+861088888888", NameReason: Unavailable},
	{Format: MDMF, Name: "Customer Service Centre 24h #1 (Beijing) ~ test"},
}

var configs = []FSKConfig{BellcoreFSK, ETSIFSK}

func mustFSK(t testing.TB, m Message, cfg FSKConfig) []int16 {
	t.Helper()
	x, err := AppendFSK(nil, m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestFSKRoundTrip(t *testing.T) {
	for _, cfg := range configs {
		for _, m := range testMessages {
			x := append(make([]int16, 777), mustFSK(t, m, cfg)...)
			x = append(x, make([]int16, 300)...)
			msgs, starts, errs := DecodeFSK(x, cfg.Modem)
			if len(errs) != 0 || len(msgs) != 1 || msgs[0] != m {
				t.Fatalf("%s %+v: got %+v, errors %v", cfg.Modem.Name, m, msgs, errs)
			}
			if starts[0] < 777 || starts[0] > 777+8 {
				t.Errorf("%s: message starts at sample %d, want about 777", cfg.Modem.Name, starts[0])
			}
		}
	}
}

func TestFSKTransmitterLength(t *testing.T) {
	m := testMessages[3]
	raw, _ := m.AppendBinary(nil)
	for _, cfg := range configs {
		x := mustFSK(t, m, cfg)
		bits := cfg.SeizureBits + cfg.MarkBits + 10*len(raw) + cfg.TrailBits
		if want := bits * 8000 / 1200; len(x) < want || len(x) > want+1 {
			t.Errorf("%s: %d samples for %d bits, want %d", cfg.Modem.Name, len(x), bits, want)
		}
	}
}

func TestFSKCallWaitingFraming(t *testing.T) {
	// Caller ID on call waiting drops the seizure and shortens the mark.
	cfg := BellcoreFSK
	cfg.SeizureBits, cfg.MarkBits = 0, 80
	m := testMessages[3]
	msgs, _, _ := DecodeFSK(append(mustFSK(t, m, cfg), make([]int16, 100)...), cfg.Modem)
	if len(msgs) != 1 || msgs[0] != m {
		t.Fatalf("got %+v", msgs)
	}
}

func TestFSKWrongModemAndCorruption(t *testing.T) {
	m := testMessages[3]
	x := mustFSK(t, m, BellcoreFSK)
	// One flipped byte: the checksum must reject the message.
	raw, _ := m.AppendBinary(nil)
	raw[10] ^= 0x04
	tr, _ := NewTransmitter(BellcoreFSK)
	if err := tr.Load(raw); err != nil {
		t.Fatal(err)
	}
	bad := make([]int16, BellcoreFSK.Samples(len(raw)))
	bad = bad[:tr.Read(bad)]
	if msgs, _, errs := DecodeFSK(bad, fsk.Bell202); len(msgs)+len(errs) != 0 {
		t.Fatalf("corrupted message accepted: %+v %v", msgs, errs)
	}
	if msgs, _, _ := DecodeFSK(x, fsk.Bell202); len(msgs) != 1 {
		t.Fatalf("intact message lost")
	}
}

func TestFSKLevels(t *testing.T) {
	for _, cfg := range configs {
		for _, level := range []float64{-42, -36, -30, -20, -13.5, -6, 0} {
			c := cfg
			c.LevelDBm0 = level
			m := testMessages[3]
			msgs, _, _ := DecodeFSK(append(mustFSK(t, m, c), make([]int16, 100)...), c.Modem)
			if len(msgs) != 1 || msgs[0] != m {
				t.Errorf("%s at %v dBm0: got %+v", c.Modem.Name, level, msgs)
			}
		}
	}
}

func TestFSKBlockSizeInvariance(t *testing.T) {
	var x []int16
	for _, m := range testMessages {
		x = append(x, make([]int16, 1234)...)
		x = append(x, mustFSK(t, m, ETSIFSK)...)
	}
	run := func(size int) (out []string) {
		r, _ := NewReceiver(fsk.V23)
		for rest := x; len(rest) > 0; {
			blk := rest[:min(size, len(rest))]
			rest = rest[len(blk):]
			for len(blk) > 0 {
				n, ok := r.Process(blk)
				blk = blk[n:]
				if ok {
					out = append(out, string(r.Raw())+"@"+itoa(r.Start()))
				}
			}
		}
		return out
	}
	want := run(len(x))
	if len(want) != len(testMessages) {
		t.Fatalf("%d messages, want %d", len(want), len(testMessages))
	}
	for _, size := range []int{1, 80, 102, 160, 1000} {
		got := run(size)
		if len(got) != len(want) {
			t.Fatalf("block %d: %d messages", size, len(got))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("block %d: message %d differs", size, i)
			}
		}
	}
}

func itoa(v int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		if v /= 10; v == 0 {
			return string(b[i:])
		}
	}
}

// power returns the mean square of x.
func power(x []int16) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return e / float64(len(x))
}

// addNoise adds noise scaled so that the signal's power over sig is snr dB
// above the noise's, saturating.
func addNoise(x, noise []int16, sigPower, snr float64) []int16 {
	g := math.Sqrt(sigPower / math.Pow(10, snr/10) / power(noise[:len(x)]))
	out := make([]int16, len(x))
	for i, v := range x {
		s := float64(v) + g*float64(noise[i])
		out[i] = int16(math.Max(-32768, math.Min(32767, math.Round(s))))
	}
	return out
}

// soxNoise returns seconds of white noise from sox, an independent source.
func soxNoise(t *testing.T, seconds string) []int16 {
	// -R: the same noise every run, so a failure can be reproduced.
	args := append([]string{"-R", "-n"}, dsptest.SoxOut...)
	return dsptest.Sox(t, append(args, "synth", seconds, "whitenoise")...)
}

func TestFSKNoise(t *testing.T) {
	noise := soxNoise(t, "60")
	for _, cfg := range configs {
		for _, snr := range []float64{20, 15, 12, 10} {
			ok, total := 0, 0
			off := 0
			for trial := 0; trial < 10; trial++ {
				for _, m := range testMessages {
					sig := mustFSK(t, m, cfg)
					x := append(make([]int16, 500), sig...)
					x = append(x, make([]int16, 500)...)
					if off+len(x) > len(noise) {
						off = 0
					}
					noisy := addNoise(x, noise[off:], power(sig), snr)
					off += len(x)
					msgs, _, _ := DecodeFSK(noisy, cfg.Modem)
					total++
					if len(msgs) == 1 && msgs[0] == m {
						ok++
					}
				}
			}
			t.Logf("%s at %v dB S/N: %d of %d messages", cfg.Modem.Name, snr, ok, total)
			if snr >= 20 && ok != total {
				t.Errorf("%s at %v dB S/N: only %d of %d messages decoded", cfg.Modem.Name, snr, ok, total)
			}
		}
	}
}

// speechCache keeps the prompts between tests: converting them is the
// slowest part of the package's tests.
var speechCache = map[int][]int16{}

// speech returns real recorded prompts from asterisk-core-sounds-en-wav.
func speech(t *testing.T, files int) []int16 {
	if x, ok := speechCache[files]; ok {
		return x
	}
	x := loadSpeech(t, files)
	speechCache[files] = x
	return x
}

func loadSpeech(t *testing.T, files int) []int16 {
	dsptest.NeedTool(t, "sox", "sox")
	names := wavtest.Prompts(t, 1)
	names = names[:min(files, len(names))]
	args := append(names, dsptest.SoxOut...)
	return dsptest.Sox(t, args...)
}

func TestFSKInsideSpeech(t *testing.T) {
	talk := speech(t, 60)
	for _, cfg := range configs {
		if msgs, _, errs := DecodeFSK(talk, cfg.Modem); len(msgs)+len(errs) != 0 {
			t.Fatalf("%s: %d messages from speech alone: %+v %v", cfg.Modem.Name, len(msgs)+len(errs), msgs, errs)
		}
		// The message in the middle of talk, with talk right up to its
		// seizure and straight after it.
		m := testMessages[3]
		half := len(talk) / 2
		x := append(append(append([]int16(nil), talk[:half]...), mustFSK(t, m, cfg)...), talk[half:]...)
		msgs, starts, _ := DecodeFSK(x, cfg.Modem)
		if len(msgs) != 1 || msgs[0] != m || starts[0] < int64(half) || starts[0] > int64(half+80) {
			t.Fatalf("%s: got %+v at %v, want the message at about %d", cfg.Modem.Name, msgs, starts, half)
		}
	}
}

func BenchmarkReceiver(b *testing.B) {
	for _, cfg := range configs {
		b.Run(cfg.Modem.Name, func(b *testing.B) {
			x := append(mustFSK(b, testMessages[3], cfg), make([]int16, 800)...)
			r, _ := NewReceiver(cfg.Modem)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				found := false
				for blk := x; len(blk) > 0; {
					n, ok := r.Process(blk[:min(80, len(blk))])
					blk = blk[n:]
					found = found || ok
				}
				if !found {
					b.Fatal("message lost")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/sample")
		})
	}
}

func BenchmarkTransmitter(b *testing.B) {
	raw, _ := testMessages[3].AppendBinary(nil)
	t, _ := NewTransmitter(BellcoreFSK)
	out := make([]int16, BellcoreFSK.Samples(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := t.Load(raw); err != nil {
			b.Fatal(err)
		}
		for blk := out; len(blk) > 0; blk = blk[min(80, len(blk)):] {
			t.Read(blk[:min(80, len(blk))])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(out)), "ns/sample")
}

// FuzzReceiver: arbitrary audio never panics, and every message reported
// has a good checksum, a consistent length and a start in the past.
func FuzzReceiver(f *testing.F) {
	sig := mustFSK(f, testMessages[0], BellcoreFSK)
	f.Add(dsptest.Bytes(sig), uint16(80))
	f.Add(dsptest.Bytes(mustFSK(f, testMessages[3], ETSIFSK)), uint16(1))
	f.Add([]byte{0, 0x80, 0xff, 0x7f}, uint16(3))
	f.Fuzz(func(t *testing.T, raw []byte, block uint16) {
		x := dsptest.Int16s(raw)
		size := int(block%1000) + 1
		for _, m := range []fsk.Modem{fsk.Bell202, fsk.V23} {
			r, _ := NewReceiver(m)
			var seen int64
			for rest := x; len(rest) > 0; {
				blk := rest[:min(size, len(rest))]
				n, ok := r.Process(blk)
				if n <= 0 || n > len(blk) || !ok && n != len(blk) {
					t.Fatalf("Process consumed %d of %d, ok %v", n, len(blk), ok)
				}
				rest, seen = rest[n:], seen+int64(n)
				if !ok {
					continue
				}
				b := r.Raw()
				if len(b) < 3 || len(b) != int(b[1])+3 || Checksum(b[:len(b)-1]) != b[len(b)-1] {
					t.Fatalf("reported message %x is malformed", b)
				}
				if r.Start() < 0 || r.Start() >= seen {
					t.Fatalf("message starts at %d after %d samples", r.Start(), seen)
				}
			}
		}
	})
}

func TestTransmitterBlockSizeInvariance(t *testing.T) {
	raw, _ := testMessages[3].AppendBinary(nil)
	want := mustFSK(t, testMessages[3], ETSIFSK)
	for _, size := range []int{1, 80, 102, 160, 1000} {
		// A fresh transmitter starts at phase zero, as AppendFSK's does.
		tr, _ := NewTransmitter(ETSIFSK)
		if err := tr.Load(raw); err != nil {
			t.Fatal(err)
		}
		var got []int16
		buf := make([]int16, size)
		for {
			n := tr.Read(buf)
			got = append(got, buf[:n]...)
			if n < size {
				break
			}
		}
		if len(got) != len(want) {
			t.Fatalf("block %d: %d samples, want %d", size, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("block %d: sample %d is %d, want %d", size, i, got[i], want[i])
			}
		}
		if n := tr.Read(buf); n != 0 {
			t.Fatalf("block %d: %d samples after the end", size, n)
		}
	}
}
