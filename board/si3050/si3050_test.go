package si3050_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"callbox/board/internal/vclock"
	"callbox/board/si3050"
	"callbox/dsp/country"

	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/spi/spitest"
)

// w and r build the expected SPI frames by hand, from the datasheet's
// framing (0x20 write, 0x60 read, register, data), not from the driver's
// constants.
func w(reg, v byte) conntest.IO { return conntest.IO{W: []byte{0x20, reg, v}} }
func r(reg, v byte) conntest.IO {
	return conntest.IO{W: []byte{0x60, reg, 0}, R: []byte{0, 0, v}}
}

// bringUp is the Init transcript in datasheet order for a country's
// registers 16, 18, 22-24, 26, 30, 31 and PCM slot 4 (bit clock 32).
func bringUp(r16, r26, r30, r31 byte, linkPolls int) []conntest.IO {
	ops := []conntest.IO{
		w(1, 0x80),  // soft reset
		r(11, 0x05), // presence: system-side revision 5, link down
		w(33, 0x28), // PCM on, mu-law
		w(16, r16), w(18, 0x02), w(22, 0x96), w(23, 0x2D), w(24, 0x19),
		w(26, r26), w(30, r30), w(31, r31),
		w(34, 32), w(35, 0), w(36, 32), w(37, 0), // timeslot 4
		w(3, 0x99), // interrupts: ring, battery drop, drop-out, polarity
		w(2, 0x07), // ring interrupts on both edges, INT pin off (no IRQ pin)
		w(6, 0x00), // power the line side up
	}
	for i := 0; i < linkPolls; i++ {
		ops = append(ops, r(11, 0x05))
	}
	return append(ops,
		r(11, 0x35),              // link up: Si3019 line side
		r(11, 0x35), r(13, 0x10), // revisions
		w(4, 0x00),  // clear interrupts
		w(5, 0x08),  // on-hook line monitor
		r(29, 0x30), // line voltage: +48 V, the normal polarity
	)
}

func newPort(t *testing.T, ops []conntest.IO, country string) (*si3050.Port, *spitest.Playback, *vclock.Virtual) {
	t.Helper()
	pb := &spitest.Playback{Playback: conntest.Playback{Ops: ops, DontPanic: true}}
	c, err := pb.Connect(0, 0, 8)
	if err != nil {
		t.Fatal(err)
	}
	cty, err := si3050.CountryFor(country)
	if err != nil {
		t.Fatal(err)
	}
	clk := vclock.NewVirtual()
	p, err := si3050.New(si3050.Config{Name: "fxo1", Conn: c, Clock: clk, Country: cty, PCMSlot: 4})
	if err != nil {
		t.Fatal(err)
	}
	return p, pb, clk
}

func TestInitTranscript(t *testing.T) {
	tests := []struct {
		country            string
		r16, r26, r30, r31 byte
	}{
		{"CN", 0x00, 0x30, 0x0F, 0xA3}, // mini 3, ACIM 0xF
		{"US", 0x00, 0xC0, 0x00, 0xA3}, // dcv 3
		{"ETSI", 0x00, 0xC2, 0x02, 0xA3},
		{"EU", 0x00, 0xC2, 0x02, 0xA3},
		{"UK", 0x00, 0xC2, 0x05, 0xAB}, // ohs2
		{"JP", 0x00, 0x30, 0x00, 0xA3}, // mini 3 (fxo_modes.h JAPAN)
	}
	for _, tt := range tests {
		t.Run(tt.country, func(t *testing.T) {
			p, pb, clk := newPort(t, bringUp(tt.r16, tt.r26, tt.r30, tt.r31, 3), tt.country)
			t0 := clk.Now()
			if err := p.Init(); err != nil {
				t.Fatal(err)
			}
			if err := pb.Close(); err != nil {
				t.Fatal(err)
			}
			info := p.Info()
			if info.SystemRev != 5 || info.LineSideID != 3 || info.LineRev != 4 {
				t.Errorf("info %+v, want system rev 5, line side 3 rev 4", info)
			}
			if got := info.String(); got != "si3050 rev 5, si3019 rev 4" {
				t.Errorf("info string %q", got)
			}
			// 100 ms reset wait plus three 10 ms link polls.
			if d := clk.Now().Sub(t0); d != 130*time.Millisecond {
				t.Errorf("bring-up took %v of virtual time, want 130ms", d)
			}
		})
	}
}

// A reordered or missing write must fail the bring-up.
func TestInitTranscriptOrderMatters(t *testing.T) {
	good := bringUp(0x00, 0x30, 0x0F, 0xA3, 0)
	swapped := append([]conntest.IO(nil), good...)
	swapped[3], swapped[4] = swapped[4], swapped[3]
	missing := append(append([]conntest.IO(nil), good[:5]...), good[6:]...)
	for name, ops := range map[string][]conntest.IO{"swapped": swapped, "missing": missing} {
		t.Run(name, func(t *testing.T) {
			p, _, _ := newPort(t, ops, "CN")
			if err := p.Init(); err == nil || !strings.Contains(err.Error(), "si3050: fxo1: country set-up (CN)") {
				t.Fatalf("Init = %v, want a country set-up error", err)
			}
		})
	}
}

func TestInitFailures(t *testing.T) {
	linkDown := bringUp(0x00, 0x30, 0x0F, 0xA3, 0)[:18]
	for i := 0; i <= 200; i++ { // 2 s of 10 ms polls, then the deadline
		linkDown = append(linkDown, r(11, 0x05))
	}
	tests := []struct {
		name string
		ops  []conntest.IO
		want string
		is   error
	}{
		{"absent ff", []conntest.IO{w(1, 0x80), r(11, 0xFF)}, "si3050: fxo1: probe: register 11 reads 0xff: si3050: no chip answers", si3050.ErrAbsent},
		{"absent 00", []conntest.IO{w(1, 0x80), r(11, 0x00)}, "register 11 reads 0x00", si3050.ErrAbsent},
		{"no link", linkDown, "si3050: fxo1: isolation link: line side did not answer within 2s (register 11 = 0x05)", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, pb, _ := newPort(t, tt.ops, "CN")
			err := p.Init()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Init = %v, want %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if err := pb.Close(); err != nil {
				t.Fatal(err)
			}
			// A failed port refuses work and says why.
			err = p.Seize()
			if !errors.Is(err, si3050.ErrFailed) || !strings.Contains(err.Error(), "fxo1: seize") {
				t.Errorf("Seize on failed port = %v", err)
			}
			if p.Err() == nil {
				t.Error("Err() is nil on a failed port")
			}
		})
	}
}

func TestSeizeReleaseFlashTranscript(t *testing.T) {
	ops := append(bringUp(0x00, 0x30, 0x0F, 0xA3, 0),
		w(5, 0x09), r(28, 0x00), r(28, 0x18), // seize; current after 10 ms: 26.4 mA
		w(5, 0x08), w(5, 0x09), // flash 100 ms
		r(29, 0x07), r(28, 0x18), // diag: 7 V, 26.4 mA
		w(5, 0x08),  // release
		r(29, 0xD0), // -48 V
	)
	p, pb, clk := newPort(t, ops, "CN")
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	if err := p.Seize(); err != nil {
		t.Fatal(err)
	}
	t0 := clk.Now()
	if err := p.Flash(0); err != nil {
		t.Fatal(err)
	}
	if d := clk.Now().Sub(t0); d != 100*time.Millisecond {
		t.Errorf("CN flash lasted %v, want 100ms", d)
	}
	d, err := p.Diag()
	if err != nil {
		t.Fatal(err)
	}
	if !d.OffHook || d.Volts != 7 || d.MilliAmps < 26.3 || d.MilliAmps > 26.5 {
		t.Errorf("diag %+v", d)
	}
	if err := p.Release(); err != nil {
		t.Fatal(err)
	}
	if v, err := p.LineVoltage(); err != nil || v != -48 {
		t.Errorf("line voltage %v, %v; want -48 V (register 29 is signed)", v, err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSeizeNoLoopCurrent(t *testing.T) {
	ops := append(bringUp(0x00, 0x30, 0x0F, 0xA3, 0), w(5, 0x09))
	for i := 0; i <= 50; i++ {
		ops = append(ops, r(28, 0))
	}
	ops = append(ops, r(29, 0), w(5, 0x08))
	p, pb, _ := newPort(t, ops, "CN")
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	err := p.Seize()
	if !errors.Is(err, si3050.ErrNoLine) || !strings.Contains(err.Error(), "si3050: fxo1: seize: loop current 0.0 mA within 500ms") {
		t.Fatalf("Seize = %v", err)
	}
	if p.OffHook() {
		t.Error("port left off-hook after a failed seize")
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := si3050.New(si3050.Config{Name: "fxo9"}); err == nil || !strings.Contains(err.Error(), "fxo9: config: no SPI") {
		t.Errorf("New without conn = %v", err)
	}
	if _, err := si3050.CountryFor("XX"); err == nil || !strings.Contains(err.Error(), "CN, EU, JP, UK, US") {
		t.Errorf("CountryFor(XX) = %v", err)
	}
	if c, err := si3050.CountryFor(""); err != nil || c.Code != "CN" || c.MINI != 3 || c.ACIM != 0xF || c.Flash != 100*time.Millisecond {
		t.Errorf("default country %+v, %v", c, err)
	}
	// Every country of the table has a termination; ETSI is EU's alias.
	for _, code := range append(country.Codes(), "etsi") {
		c, err := si3050.CountryFor(code)
		if err != nil || c.Flash <= 0 || c.Name == "" || !c.RingFullWave {
			t.Errorf("CountryFor(%q) = %+v, %v", code, c, err)
		}
	}
	if c, _ := si3050.CountryFor("ETSI"); c.Code != "EU" || c.ILIM != 1 || c.ACIM != 2 {
		t.Errorf("ETSI: %+v", c)
	}
}

// The monitor's register use: interrupt source read and cleared, register
// 5, line voltage; a ring detector active 40 ms starts a ring.
func TestPollTranscript(t *testing.T) {
	ops := bringUp(0x00, 0x30, 0x0F, 0xA3, 0)
	poll := func(src, r5, r29 byte) []conntest.IO {
		o := []conntest.IO{r(4, src)}
		if src != 0 {
			o = append(o, w(4, ^src))
		}
		return append(o, r(5, r5), r(29, r29))
	}
	ops = append(ops, poll(0x80, 0x28, 0x30)...) // ring interrupt, RDTP
	ops = append(ops, poll(0x00, 0x48, 0x30)...) // RDTN
	ops = append(ops, poll(0x00, 0x08, 0x30)...) // zero crossing
	ops = append(ops, poll(0x00, 0x28, 0x30)...) // 30 ms
	ops = append(ops, poll(0x00, 0x2C, 0x30)...) // 40 ms: a ring
	p, pb, clk := newPort(t, ops, "CN")
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	var evs []si3050.Event
	for i := 0; i < 5; i++ {
		if i > 0 {
			clk.Advance(10 * time.Millisecond)
		}
		var err error
		if evs, err = p.Poll(evs); err != nil {
			t.Fatal(err)
		}
		if (len(evs) == 1) != (i == 4) {
			t.Fatalf("after poll %d: events %v", i+1, evs)
		}
	}
	if evs[0].Kind != si3050.RingStart || evs[0].Count != 1 || evs[0].Off != 0 {
		t.Errorf("event %v, want the first ring", evs[0])
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

// A ring detector blip shorter than RingMinOn is no ring, and is
// forgotten after RingOffGap.
func TestPollIgnoresRingGlitch(t *testing.T) {
	ops := bringUp(0x00, 0x30, 0x0F, 0xA3, 0)
	for _, r5 := range []byte{0x28, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08} {
		ops = append(ops, r(4, 0), r(5, r5), r(29, 0x30))
	}
	ops = append(ops, r(29, 0x30), r(28, 0))
	p, pb, clk := newPort(t, ops, "CN")
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	var evs []si3050.Event
	for i := 0; i < 12; i++ {
		clk.Advance(10 * time.Millisecond)
		var err error
		if evs, err = p.Poll(evs); err != nil {
			t.Fatal(err)
		}
	}
	if len(evs) != 0 {
		t.Errorf("events %v from a 10 ms blip", evs)
	}
	if d, err := p.Diag(); err != nil || d.Ringing || d.Volts != 48 {
		t.Errorf("diag %+v, %v", d, err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}
