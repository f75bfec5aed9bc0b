package proslicsim

import (
	"bytes"
	"testing"
	"time"

	"callbox/board/internal/vclock"

	"periph.io/x/conn/v3/gpio"
)

func newChip(t testing.TB) (*Chip, *vclock.Virtual) {
	clk := vclock.NewVirtual()
	return New(Config{Name: "t", Clock: clk}), clk
}

// wr and rd speak the ProSLIC framing, one byte per chip select.
func wr(t testing.TB, c *Chip, reg, v byte) {
	t.Helper()
	if err := c.Tx([]byte{reg}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Tx([]byte{v}, nil); err != nil {
		t.Fatal(err)
	}
}

func rd(t testing.TB, c *Chip, reg byte) byte {
	t.Helper()
	r := []byte{0}
	if err := c.Tx([]byte{reg | 0x80}, r); err != nil {
		t.Fatal(err)
	}
	if err := c.Tx([]byte{0}, r); err != nil {
		t.Fatal(err)
	}
	return r[0]
}

func TestIdentityAndResetValues(t *testing.T) {
	clk := vclock.NewVirtual()
	for _, tt := range []struct {
		cfg      Config
		id, mode byte
	}{
		{Config{Clock: clk}, 0x03, 0x08},
		{Config{Clock: clk, Si3215: true, Revision: 5}, 0x05, 0x88},
	} {
		c := New(tt.cfg)
		if got := rd(t, c, 0); got != tt.id {
			t.Errorf("reg 0 = %#x, want %#x", got, tt.id)
		}
		if got := rd(t, c, 1); got != tt.mode {
			t.Errorf("reg 1 = %#x, want %#x", got, tt.mode)
		}
		wr(t, c, 1, 0x28) // bit 7 is read-only
		if got := rd(t, c, 1); got != tt.mode&0x80|0x28 {
			t.Errorf("reg 1 after write = %#x", got)
		}
		if rd(t, c, 8) != 0x02 || rd(t, c, 11) != 0x33 || rd(t, c, 64) != 0 {
			t.Error("after-reset values wrong")
		}
	}
}

func TestAbsentAndReset(t *testing.T) {
	c, _ := newChip(t)
	c.SetFault(Absent, true)
	if rd(t, c, 0) != 0xFF || rd(t, c, 11) != 0xFF {
		t.Fatal("absent chip does not read 0xFF")
	}
	c.SetFault(Absent, false)
	c.SetFault(AbsentLow, true)
	if rd(t, c, 0) != 0 {
		t.Fatal("absent (low) chip does not read 0x00")
	}
	c.SetFault(AbsentLow, false)
	wr(t, c, 64, 1)
	wr(t, c, 8, 0)
	_ = c.Reset().Out(gpio.Low)
	if rd(t, c, 0) != 0 {
		t.Fatal("chip answers while held in reset")
	}
	_ = c.Reset().Out(gpio.High)
	if rd(t, c, 64) != 0 || rd(t, c, 8) != 2 || rd(t, c, 0) != 3 {
		t.Fatal("reset did not restore the power-on registers")
	}
}

func TestIndirect(t *testing.T) {
	c, _ := newChip(t)
	wr(t, c, 28, 0x34)
	wr(t, c, 29, 0x12)
	wr(t, c, 30, 20)
	if rd(t, c, 31) != 1 || rd(t, c, 31) != 0 {
		t.Fatal("indirect access not busy once after the address write")
	}
	if c.Indirect(20) != 0x1234 {
		t.Fatalf("indirect 20 = %#x", c.Indirect(20))
	}
	wr(t, c, 30, 21) // read of an unwritten register
	if rd(t, c, 28) != 0 || rd(t, c, 29) != 0 {
		t.Fatal("indirect read of 21 not zero")
	}
	wr(t, c, 30, 20)
	if rd(t, c, 31) != 1 || rd(t, c, 28) != 0x34 || rd(t, c, 29) != 0x12 {
		t.Fatal("indirect read of 20 wrong")
	}
}

func TestDCDCAndCalibration(t *testing.T) {
	c, clk := newChip(t)
	wr(t, c, 74, 0x3C) // 90 V
	if rd(t, c, 82) != 0 {
		t.Fatal("VBAT before the converter starts")
	}
	wr(t, c, 14, 0)
	clk.Advance(50 * time.Millisecond)
	if v := float64(rd(t, c, 82)) * 0.376; v < 44 || v > 46 {
		t.Fatalf("VBAT half way up the 100 ms ramp: %.1f V", v)
	}
	clk.Advance(time.Second)
	if v := float64(rd(t, c, 82)) * 0.376; v < 89.5 || v > 90.5 {
		t.Fatalf("VBAT after the ramp: %.1f V", v)
	}
	wr(t, c, 96, 0x5F)
	clk.Advance(299 * time.Millisecond)
	if rd(t, c, 96) != 0x5F {
		t.Fatal("calibration finished early")
	}
	clk.Advance(time.Millisecond)
	if rd(t, c, 96) != 0 {
		t.Fatal("calibration not finished after 300 ms")
	}
	c.SetFault(CalHang, true)
	wr(t, c, 96, 0x5F)
	clk.Advance(time.Hour)
	if rd(t, c, 96) == 0 {
		t.Fatal("hung calibration finished")
	}
	c.SetFault(VBATNeverRises, true)
	if v := rd(t, c, 82); v != 3 {
		t.Fatalf("VBAT with a dead converter reads %d", v)
	}
}

func TestInterruptPin(t *testing.T) {
	c, clk := newChip(t)
	// As the driver does: edges are only reported once asked for.
	if err := c.IRQ().In(gpio.PullUp, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}
	wr(t, c, 14, 0)
	clk.Advance(time.Second)
	wr(t, c, 22, 0xFF)
	wr(t, c, 64, 1)
	if c.IRQ().Read() != gpio.High {
		t.Fatal("IRQ asserted with nothing pending")
	}
	c.Phone().OffHook()
	if c.IRQ().Read() != gpio.Low || !c.IRQ().WaitForEdge(0) {
		t.Fatal("no interrupt edge for loop closure")
	}
	if rd(t, c, 19) != 0x02 || rd(t, c, 68) != 0x01 {
		t.Fatal("loop closure not pending or not in reg 68")
	}
	wr(t, c, 19, 0x02)
	if c.IRQ().Read() != gpio.High || rd(t, c, 19) != 0 {
		t.Fatal("writing 1 did not clear the interrupt")
	}
	// Masked interrupts are not raised.
	wr(t, c, 22, 0)
	c.Phone().OnHook()
	if c.IRQ().Read() != gpio.High || rd(t, c, 19) != 0 {
		t.Fatal("masked interrupt raised")
	}
	// Ring trip.
	wr(t, c, 22, 0xFF)
	wr(t, c, 64, 4)
	c.Phone().OffHook()
	if rd(t, c, 19)&0x01 == 0 || rd(t, c, 68) != 0x02 {
		t.Fatal("no ring trip")
	}
	// Power alarm opens the line.
	c.PowerAlarm(0x0C, false)
	if rd(t, c, 19)&0x0C != 0x0C || rd(t, c, 64) != 0 {
		t.Fatal("power alarm not shown")
	}
}

func TestLineVoltages(t *testing.T) {
	c, clk := newChip(t)
	wr(t, c, 74, 0x3C)
	wr(t, c, 14, 0)
	clk.Advance(time.Second)
	for _, tt := range []struct {
		lf       byte
		off      bool
		tip, rng byte
		ma       byte
	}{
		{0, false, 0, 0, 0},
		{1, false, 5, 133, 0},   // 2 V, 50 V
		{5, false, 133, 5, 0},   // reversed
		{1, true, 5, 21, 18},    // 20 mA through 300 ohms: 8 V
		{4, false, 120, 120, 0}, // ringing: both at mid battery
	} {
		wr(t, c, 64, tt.lf)
		if tt.off {
			c.Phone().OffHook()
		} else {
			c.Phone().OnHook()
		}
		if tip, rng, ma := rd(t, c, 80), rd(t, c, 81), rd(t, c, 79); tip != tt.tip || rng != tt.rng || ma != tt.ma {
			t.Errorf("linefeed %d off-hook %t: tip %d ring %d loop %d, want %d %d %d", tt.lf, tt.off, tip, rng, ma, tt.tip, tt.rng, tt.ma)
		}
	}
}

func TestPCMGating(t *testing.T) {
	c, clk := newChip(t)
	wr(t, c, 74, 0x3C)
	wr(t, c, 14, 0)
	clk.Advance(time.Second)
	frame := make([]int16, 80)
	for i := range frame {
		frame[i] = 1000
	}
	ph := c.Phone()
	ph.OffHook()
	for _, tt := range []struct {
		lf    byte
		heard bool
	}{{0, false}, {1, true}, {2, true}, {3, false}, {4, false}, {5, true}, {6, true}, {7, false}} {
		wr(t, c, 64, tt.lf)
		ph.ClearHeard()
		c.PCMWrite(frame)
		h := ph.Heard()
		if len(h) != 80 || (h[0] == 1000) != tt.heard {
			t.Errorf("linefeed %d: heard %d samples starting %d", tt.lf, len(h), h[0])
		}
	}
}

// FuzzSPI feeds arbitrary byte streams to the chip. It must not panic; the
// identity and read-only registers keep their values; 31 reads 0 or 1; the
// linefeed register reads back a valid state twice (commanded and actual);
// and how the stream is cut into transactions does not matter.
func FuzzSPI(f *testing.F) {
	f.Add([]byte{14, 0, 30, 20, 0x9F, 0, 0x80 | 64, 0}, uint8(1))
	f.Add([]byte{28, 0xFF, 29, 0xFF, 30, 0xFF, 0xBF, 0, 64, 7, 0xC0, 0}, uint8(3))
	f.Add([]byte{96, 0x5F, 0xE0, 0, 0, 0x10, 18, 0xFF, 0x7F, 0x7F, 0xFF, 0xFF}, uint8(5))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		a, _ := newChip(t)
		b, _ := newChip(t)
		if err := a.Tx(stream, make([]byte, len(stream))); err != nil {
			t.Fatal(err)
		}
		n := int(chunk%7) + 1
		for i := 0; i < len(stream); i += n {
			end := min(i+n, len(stream))
			if err := b.Tx(stream[i:end], nil); err != nil {
				t.Fatal(err)
			}
		}
		if a.regs != b.regs || a.ind != b.ind {
			t.Fatal("chunking the stream changed the outcome")
		}
		if len(stream)%2 == 1 {
			_ = a.Tx([]byte{0}, nil) // finish a dangling control byte
		}
		if rd(t, a, 0) != 0x03 {
			t.Fatal("revision changed")
		}
		if v := rd(t, a, 31); v > 1 {
			t.Fatalf("reg 31 reads %#x", v)
		}
		if v := rd(t, a, 64); v>>4 != v&0x0F || v&0x08 != 0 {
			t.Fatalf("reg 64 reads %#x", v)
		}
		for reg := byte(109); reg < 128; reg++ {
			if rd(t, a, reg) != 0 {
				t.Fatalf("unimplemented reg %d reads non-zero", reg)
			}
		}
		if !bytes.Equal([]byte{rd(t, a, 1) & 0x80}, []byte{0}) {
			t.Fatal("Si3210 grew the Si3215 bit")
		}
	})
}

// BenchmarkPCM is one 10 ms frame each way with an off-hook phone dialling.
func BenchmarkPCM(b *testing.B) {
	c, clk := newChip(b)
	wr(b, c, 74, 0x3C)
	wr(b, c, 14, 0)
	clk.Advance(time.Second)
	wr(b, c, 64, 1)
	c.Phone().OffHook()
	frame := make([]int16, 80)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if c.Phone().gen.Pending() == 0 {
			b.StopTimer()
			_ = c.Phone().Dial("1234567890")
			b.StartTimer()
		}
		c.PCMRead(frame)
		c.PCMWrite(frame)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/160, "ns/sample")
}

// BenchmarkCallerIDListen is a frame of OHT audio reaching the on-hook
// phone's caller ID receiver.
func BenchmarkCallerIDListen(b *testing.B) {
	c, clk := newChip(b)
	wr(b, c, 74, 0x3C)
	wr(b, c, 14, 0)
	clk.Advance(time.Second)
	wr(b, c, 64, 2)
	frame := make([]int16, 80)
	for i := range frame {
		frame[i] = int16(i * 97 % 2000)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.PCMWrite(frame)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/80, "ns/sample")
}
