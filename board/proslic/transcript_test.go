package proslic_test

import (
	"errors"
	"strings"
	"testing"

	"callbox/board/internal/vclock"
	"callbox/board/proslic"
	"callbox/dsp/country"

	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"
)

// script spells a SPI transcript in the ProSLIC's framing: a control byte
// (bit 7 = read) and a data byte, each with its own chip select. The test
// writes register numbers as the datasheet does, not through the driver's
// constants.
type script struct{ ops []conntest.IO }

func (s *script) w(reg, v byte) {
	s.ops = append(s.ops, conntest.IO{W: []byte{reg}}, conntest.IO{W: []byte{v}})
}

func (s *script) r(reg, v byte) {
	s.ops = append(s.ops, conntest.IO{W: []byte{reg | 0x80}, R: []byte{0}}, conntest.IO{W: []byte{0}, R: []byte{v}})
}

// iw is an indirect write: wait for 31 to read not busy, data low (28),
// high (29), then the address (30), which starts the access.
func (s *script) iw(addr byte, v uint16) {
	s.r(31, 0)
	s.w(28, byte(v))
	s.w(29, byte(v>>8))
	s.w(30, addr)
}

// ir is an indirect read: wait, address (30), wait, data low and high.
func (s *script) ir(addr byte, v uint16) {
	s.r(31, 0)
	s.w(30, addr)
	s.r(31, 0)
	s.r(28, byte(v))
	s.r(29, byte(v>>8))
}

func playback(t *testing.T, ops []conntest.IO) (spi.Conn, *spitest.Playback) {
	t.Helper()
	pb := &spitest.Playback{Playback: conntest.Playback{Ops: ops, DontPanic: true}}
	c, err := pb.Connect(physic.MegaHertz, spi.Mode3, 8)
	if err != nil {
		t.Fatal(err)
	}
	return c, pb
}

// si3210Indirect is the datasheet's recommended initial value of indirect
// registers 0 to 43 of a Si3210, loaded in address order.
var si3210Indirect = []uint16{
	0x55C2, 0x51E6, 0x4B85, 0x4937, 0x3333, 0x0202, 0x0202, 0x0198, 0x0198, 0x0611, // DTMF 0-9
	0x0202, 0x00E5, 0x0A1C, // DTMF 10-12
	0x7B30, 0x0063, 0x0000, 0x7870, 0x007D, 0x0000, // tone oscillators 13-18
	0x0000, 0x7EF0, 0x0160, 0x0000, // ring offset, coefficient, X, Y 19-22
	0x2000, 0x2000, 0x0000, // pulse metering 23-25
	0x4000, 0x4000, // receive and transmit gain 26-27
	0x1000, 0x3600, 0x1000, 0x0200, // loop closure, ring trip, common mode min/max 28-31
	0x07C0, 0x2600, 0x1B80, // power alarm thresholds 32-34
	0x8000, 0x0320, // loop closure and ring trip filters 35-36
	0x008C, 0x0100, 0x0010, // thermal low-pass poles 37-39
	0x0C00, 0x0C00, 0x1000, 0x1000, // CM bias ringing, DC-DC min, extra, loop close low 40-43
}

// bringUpScript is the datasheet bring-up of a Si3210 rev C on timeslot 2,
// mu-law, CN ringing, 20 mA: VBAT reads 6 V then 48 V, calibration one
// poll busy then done.
func bringUpScript() *script {
	s := &script{}
	s.r(0, 0x03)  // revision C
	s.r(1, 0x08)  // bit 7 clear: Si3210
	s.r(8, 0x02)  // after-reset values
	s.r(11, 0x33) //
	s.r(64, 0x00) //
	s.w(14, 0x10) // DC-DC off while programming
	s.w(21, 0)    // interrupts masked
	s.w(22, 0)
	s.w(23, 0)
	for a, v := range si3210Indirect {
		s.iw(byte(a), v)
	}
	for a, v := range si3210Indirect { // read back
		s.ir(byte(a), v)
	}
	s.w(8, 0)      // no loopback
	s.w(108, 0xEB) // revision C enhancements
	s.w(67, 0x07)  // manual battery control
	s.w(66, 0x01)  // Q7 off
	s.w(74, 0x3C)  // VBATH 90 V: 85 V peak ringing + 5 V
	s.w(75, 0x10)  // VBATL 24 V
	s.w(72, 0x20)  // VOC 48 V
	s.w(92, 0xFF)  // DC-DC PWM period
	s.w(93, 0x19)  // DC-DC control
	s.w(14, 0)     // DC-DC on
	s.r(82, 0x10)  // 6 V: not yet
	s.r(82, 0x80)  // 48 V
	s.w(71, 0)     // 20 mA loop current limit
	s.w(97, 0x1F)  // calibrate everything
	s.w(96, 0x5F)  // start
	s.r(96, 0x5F)  // busy
	s.r(96, 0x00)  // done
	s.w(93, 0x99)  // DC-DC calibration
	s.w(1, 0x28)   // PCM on, mu-law
	s.w(2, 16)     // timeslot 2: 16 bit clocks
	s.w(3, 0)
	s.w(4, 16)
	s.w(5, 0)
	s.w(34, 0) // ring oscillator: sine, timers off
	s.iw(19, 0)
	s.iw(20, 0x7E6D) // 25 Hz: the value DAHDI's wctdm uses for its fast (25 Hz) ringer
	s.iw(21, 0x023B) // 85 V peak
	s.iw(22, 0)
	s.iw(29, 0x3600) // ring trip threshold
	s.w(18, 0xFF)    // clear interrupts
	s.w(19, 0xFF)
	s.w(20, 0xFF)
	s.w(22, 0xFF) // ring trip, loop closure, power alarms
	s.w(64, 0x01) // forward active
	return s
}

func TestBringUpTranscript(t *testing.T) {
	c, pb := playback(t, bringUpScript().ops)
	p, err := proslic.New(proslic.Config{Name: "fxs1", Part: proslic.Si3210, Conn: c, Clock: vclock.NewVirtual(), Slot: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.BringUp(); err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
	if got := p.Info(); got != (proslic.Info{Part: proslic.Si3210, Revision: 3}) {
		t.Fatalf("info %v", got)
	}
}

// A reordered or missing write must fail the transcript.
func TestBringUpTranscriptCatchesReordering(t *testing.T) {
	s := bringUpScript()
	n := len(s.ops)
	// swap "clear interrupts" and "enable interrupts": the last writes but one
	ops := append([]conntest.IO(nil), s.ops...)
	ops[n-4], ops[n-3], ops[n-6], ops[n-5] = ops[n-6], ops[n-5], ops[n-4], ops[n-3]
	c, _ := playback(t, ops)
	p, _ := proslic.New(proslic.Config{Name: "fxs1", Conn: c, Clock: vclock.NewVirtual(), Slot: 2})
	if err := p.BringUp(); err == nil || !strings.Contains(err.Error(), "unexpected write") {
		t.Fatalf("reordered transcript: %v", err)
	}
}

func TestProbeTranscript(t *testing.T) {
	for _, tt := range []struct {
		name string
		id   byte
		want string
	}{
		{"floating high", 0xFF, "no chip answers (reg 0 reads 0xff)"},
		{"pulled low", 0x00, "no chip answers (reg 0 reads 0x00)"},
		{"revision 15", 0x0F, "no chip answers"},
		{"revision A", 0x01, "revision A is too old"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{}
			s.r(0, tt.id)
			c, pb := playback(t, s.ops)
			p, _ := proslic.New(proslic.Config{Name: "fxs3", Conn: c, Clock: vclock.NewVirtual()})
			_, err := p.Probe()
			if err == nil || !strings.Contains(err.Error(), "proslic: fxs3: probe: "+tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if strings.HasPrefix(tt.want, "no chip") != errors.Is(err, proslic.ErrAbsent) {
				t.Fatalf("errors.Is(%v, ErrAbsent) wrong", err)
			}
			if err := pb.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
	s := &script{}
	s.r(0, 0x05)
	s.r(1, 0x88)
	c, _ := playback(t, s.ops)
	p, _ := proslic.New(proslic.Config{Name: "fxs1", Part: proslic.Si3210, Conn: c, Clock: vclock.NewVirtual()})
	if _, err := p.Probe(); err == nil || !strings.Contains(err.Error(), "found si3215, the board says si3210") {
		t.Fatalf("part mismatch: %v", err)
	}
}

// The ring register equations against published values: DAHDI's default
// RING_OSC 0x7EF0 with RING_X 0x0160 and its 25 Hz / 50 V "low power"
// ringer (0x7E6D, 0x014B).
func TestRingRegisters(t *testing.T) {
	for _, tt := range []struct {
		rco, rngx uint16
		f, v      float64
	}{
		{0x7EF0, 0x0160, 20.5, 64},
		{0x7E6D, 0x014B, 25, 50},
	} {
		f, v := proslic.RingFromRegisters(tt.rco, tt.rngx)
		if d := f - tt.f; d < -0.3 || d > 0.3 {
			t.Errorf("0x%04x: %.2f Hz, want %.1f", tt.rco, f, tt.f)
		}
		if d := v - tt.v; d < -1.5 || d > 1.5 {
			t.Errorf("0x%04x/0x%04x: %.1f V, want %.0f", tt.rco, tt.rngx, v, tt.v)
		}
	}
	for _, c := range country.Codes() {
		r, err := proslic.PresetFor(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", c, err)
		}
		rco, rngx := proslic.RingRegisters(r)
		f, v := proslic.RingFromRegisters(rco, rngx)
		if d := f - r.Frequency; d < -0.05 || d > 0.05 {
			t.Errorf("%s: round trip %.3f Hz, want %g", c, f, r.Frequency)
		}
		if d := v - r.Amplitude; d < -0.5 || d > 0.5 {
			t.Errorf("%s: round trip %.2f V, want %g", c, v, r.Amplitude)
		}
	}
}
