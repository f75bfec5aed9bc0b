package fsk

import (
	"math"
	"testing"
)

// bits is a BitSource over a slice.
type bits struct {
	b []int
	i int
}

func (s *bits) NextBit() (int, bool) {
	if s.i == len(s.b) {
		return 0, false
	}
	s.i++
	return s.b[s.i-1], true
}

// frame returns async bits for the bytes: each preceded by idle mark bits.
func frame(idle int, data ...byte) []int {
	var out []int
	for i := 0; i < idle; i++ {
		out = append(out, 1)
	}
	for _, c := range data {
		out = append(out, 0)
		for k := 0; k < 8; k++ {
			out = append(out, int(c>>k)&1)
		}
		out = append(out, 1)
	}
	return append(out, 1, 1)
}

func modulate(t testing.TB, m Modem, level float64, b []int) []int16 {
	t.Helper()
	tx, err := NewTx(m, level)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, len(b)*SampleRate/m.Baud+8)
	n, done := tx.Modulate(out, &bits{b: b})
	if !done {
		t.Fatalf("Modulate did not finish %d bits in %d samples", len(b), len(out))
	}
	return out[:n]
}

func TestTxFrequencyAndTiming(t *testing.T) {
	for _, m := range []Modem{Bell202, V23} {
		for _, bit := range []int{0, 1} {
			b := make([]int, 1200) // one second
			for i := range b {
				b[i] = bit
			}
			x := modulate(t, m, -10, b)
			if len(x) != SampleRate {
				t.Fatalf("%s: 1200 bits gave %d samples, want %d", m.Name, len(x), SampleRate)
			}
			crossings := 0
			for i := 1; i < len(x); i++ {
				if x[i-1] < 0 && x[i] >= 0 {
					crossings++
				}
			}
			want := m.Space
			if bit == 1 {
				want = m.Mark
			}
			if d := crossings - want; d < -1 || d > 1 {
				t.Errorf("%s bit %d: %d cycles per second, want %d", m.Name, bit, crossings, want)
			}
		}
	}
}

func TestTxPhaseContinuousAndLevel(t *testing.T) {
	// Alternating bits switch frequency at every bit; a phase jump would
	// show as a step larger than the steepest slope of the faster tone.
	b := make([]int, 600)
	for i := range b {
		b[i] = i & 1
	}
	for _, m := range []Modem{Bell202, V23} {
		x := modulate(t, m, 0, b)
		amp := float64(Amplitude(0))
		maxStep := amp*2*math.Sin(math.Pi*float64(m.Space)/SampleRate) + 3
		var peak, energy float64
		for i, v := range x {
			peak = math.Max(peak, math.Abs(float64(v)))
			energy += float64(v) * float64(v)
			if i > 0 && math.Abs(float64(v)-float64(x[i-1])) > maxStep {
				t.Fatalf("%s: step of %d at sample %d exceeds %.0f", m.Name, int(v)-int(x[i-1]), i, maxStep)
			}
		}
		if rms := math.Sqrt(energy / float64(len(x))); math.Abs(rms-amp/math.Sqrt2) > amp*0.01 {
			t.Errorf("%s: rms %.0f, want %.0f", m.Name, rms, amp/math.Sqrt2)
		}
		if peak > amp+2 {
			t.Errorf("%s: peak %.0f above amplitude %.0f", m.Name, peak, amp)
		}
	}
}

// receive runs Rx over x in blocks of size and collects the events.
func receive(t testing.TB, m Modem, x []int16, size int) []Event {
	t.Helper()
	r, err := NewRx(m)
	if err != nil {
		t.Fatal(err)
	}
	var evs []Event
	for len(x) > 0 {
		blk := x[:min(size, len(x))]
		x = x[len(blk):]
		for len(blk) > 0 {
			n, ev := r.Process(blk)
			blk = blk[n:]
			if ev.Kind != 0 {
				evs = append(evs, ev)
			}
		}
	}
	return evs
}

func TestRxBytes(t *testing.T) {
	data := []byte{0x00, 0xff, 0x55, 0xaa, 0x80, 0x01, 0x7e, 0x31}
	for _, m := range []Modem{Bell202, V23} {
		for _, level := range []float64{-45, -35, -25, -13.5, -3} {
			x := append(make([]int16, 400), modulate(t, m, level, frame(30, data...))...)
			x = append(x, make([]int16, 200)...)
			evs := receive(t, m, x, 80)
			if len(evs) != len(data) {
				t.Fatalf("%s at %v dBm0: %d events %+v, want %d bytes", m.Name, level, len(evs), evs, len(data))
			}
			for i, ev := range evs {
				if ev.Kind != Byte || ev.Byte != data[i] {
					t.Fatalf("%s at %v dBm0: event %d = %+v, want byte %#02x", m.Name, level, i, ev, data[i])
				}
			}
			if evs[0].Idle < 25 || evs[0].Idle > 31 || evs[1].Idle != 0 {
				t.Errorf("%s: idle before bytes %d, %d; want about 30, then 0", m.Name, evs[0].Idle, evs[1].Idle)
			}
			// The start bit comes after 400 samples of silence and 30 mark bits.
			if want := 400 + 30*SampleRate/m.Baud; evs[0].At < int64(want) || evs[0].At > int64(want+8) {
				t.Errorf("%s: first start bit at sample %d, want about %d", m.Name, evs[0].At, want)
			}
		}
	}
}

func TestRxIgnoresSilenceAndWeakSignal(t *testing.T) {
	x := modulate(t, Bell202, -60, frame(30, 0x12, 0x34))
	if evs := receive(t, Bell202, x, 160); len(evs) != 0 {
		t.Fatalf("events from a -60 dBm0 signal: %+v", evs)
	}
	if evs := receive(t, Bell202, make([]int16, 8000), 160); len(evs) != 0 {
		t.Fatalf("events from silence: %+v", evs)
	}
}

func TestRxFramingError(t *testing.T) {
	b := frame(30, 0x5a)
	b[30+9] = 0 // stop bit becomes a space
	b = append(b, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
	evs := receive(t, V23, modulate(t, V23, -13, b), 80)
	if len(evs) == 0 || evs[0].Kind != FramingError {
		t.Fatalf("events %+v, want a framing error first", evs)
	}
}

func TestRxBlockSizeInvariance(t *testing.T) {
	x := append(make([]int16, 123), modulate(t, V23, -20, frame(50, []byte("block size does not matter")...))...)
	want := receive(t, V23, x, len(x))
	if len(want) != len("block size does not matter") {
		t.Fatalf("%d events", len(want))
	}
	for _, size := range []int{1, 80, 102, 160, 1000} {
		got := receive(t, V23, x, size)
		if len(got) != len(want) {
			t.Fatalf("block %d: %d events, want %d", size, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("block %d: event %d = %+v, want %+v", size, i, got[i], want[i])
			}
		}
	}
}

func TestNewRejectsBadModem(t *testing.T) {
	for _, m := range []Modem{{Mark: 1200, Space: 1200, Baud: 1200}, {Mark: 5000, Space: 1200, Baud: 1200}, {Mark: 1200, Space: 2200}, {Mark: 1200, Space: 2200, Baud: 300}} {
		if _, err := NewTx(m, -10); err == nil {
			t.Errorf("NewTx(%+v) accepted", m)
		}
		if _, err := NewRx(m); err == nil {
			t.Errorf("NewRx(%+v) accepted", m)
		}
	}
}

// FuzzRx feeds arbitrary samples: no panic, every call consumes something,
// events are well formed and the sample count adds up.
func FuzzRx(f *testing.F) {
	tx, _ := NewTx(Bell202, -10)
	seed := make([]int16, 2000)
	n, _ := tx.Modulate(seed, &bits{b: frame(20, 0x80, 0x10, 0x02)})
	raw := make([]byte, 2*n)
	for i, v := range seed[:n] {
		raw[2*i], raw[2*i+1] = byte(v), byte(v>>8)
	}
	f.Add(raw, uint8(80))
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80}, uint8(1))
	f.Fuzz(func(t *testing.T, raw []byte, block uint8) {
		x := make([]int16, len(raw)/2)
		for i := range x {
			x[i] = int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
		}
		size := int(block) + 1
		for _, m := range []Modem{Bell202, V23} {
			r, _ := NewRx(m)
			total := 0
			for rest := x; len(rest) > 0; {
				blk := rest[:min(size, len(rest))]
				n, ev := r.Process(blk)
				if n <= 0 || n > len(blk) {
					t.Fatalf("Process consumed %d of %d", n, len(blk))
				}
				if ev.Kind != 0 && (ev.Idle < 0 || ev.Idle > 1000 || ev.At < 0 || ev.At >= r.Samples()) {
					t.Fatalf("bad event %+v after %d samples", ev, r.Samples())
				}
				if ev.Kind == 0 && n != len(blk) {
					t.Fatalf("stopped early without an event")
				}
				rest = rest[n:]
				total += n
			}
			if int64(total) != r.Samples() {
				t.Fatalf("consumed %d, Samples says %d", total, r.Samples())
			}
		}
	})
}

func BenchmarkRx(b *testing.B) {
	for _, m := range []Modem{Bell202, V23} {
		b.Run(m.Name, func(b *testing.B) {
			payload := make([]byte, 64)
			for i := range payload {
				payload[i] = byte(i * 37)
			}
			x := modulate(b, m, -13.5, frame(100, payload...))
			r, _ := NewRx(m)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for blk := x; len(blk) > 0; {
					n, _ := r.Process(blk)
					blk = blk[n:]
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/sample")
		})
	}
}

// loop repeats its bits forever.
type loop struct{ bits }

func (l *loop) NextBit() (int, bool) {
	if l.i == len(l.b) {
		l.i = 0
	}
	return l.bits.NextBit()
}

func BenchmarkTx(b *testing.B) {
	tx, _ := NewTx(Bell202, -13.5)
	src := &loop{bits{b: frame(10, 0x80, 0x55, 0x12)}}
	out := make([]int16, 160)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tx.Modulate(out, src)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(out)), "ns/sample")
}
