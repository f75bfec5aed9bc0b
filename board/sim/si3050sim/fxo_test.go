package si3050sim_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"callbox/board/internal/vclock"
	"callbox/board/si3050"
	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/dsp/callerid/fsk"
	"callbox/dsp/dtmf"
	"callbox/dsp/tone"
)

const frame = 80 // 10 ms

// rig is one emulated FXO port: the chip, its driver, and a virtual clock
// the test steps in 10 ms frames as the PCM path would.
type rig struct {
	t    *testing.T
	clk  *vclock.Virtual
	chip *si3050sim.Chip
	port *si3050.Port
	evs  []si3050.Event
	in   [frame]int16
}

func newRig(t *testing.T, name, country string, f si3050sim.Faults) *rig {
	t.Helper()
	return newRigClock(t, vclock.NewVirtual(), name, country, f)
}

func newRigClock(t *testing.T, clk *vclock.Virtual, name, country string, f si3050sim.Faults) *rig {
	t.Helper()
	chip, err := si3050sim.New(si3050sim.Config{Name: name, Clock: clk, Country: country})
	if err != nil {
		t.Fatal(err)
	}
	chip.SetFaults(f)
	cty, err := si3050.CountryFor(country)
	if err != nil {
		t.Fatal(err)
	}
	p, err := si3050.New(si3050.Config{Name: name, Conn: chip, Reset: chip.ResetPin(), IRQ: chip.IRQ(), Clock: clk, Country: cty})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, clk: clk, chip: chip, port: p}
}

// step advances 10 ms: the line audio is read (and handed to sink), the
// monitor polls, events are collected.
func (r *rig) step(sink func([]int16)) {
	r.t.Helper()
	r.clk.Advance(10 * time.Millisecond)
	r.chip.PCMRead(r.in[:])
	if sink != nil {
		sink(r.in[:])
	}
	var err error
	r.evs, err = r.port.Poll(r.evs)
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) run(d time.Duration, sink func([]int16)) {
	for i := time.Duration(0); i < d; i += 10 * time.Millisecond {
		r.step(sink)
	}
}

func (r *rig) take(k si3050.EventKind) []si3050.Event {
	var out []si3050.Event
	for _, e := range r.evs {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func near(a, b, tol time.Duration) bool { return a-b <= tol && b-a <= tol }

func TestBringUpAndLineReadings(t *testing.T) {
	r := newRig(t, "fxo1", "CN", si3050sim.Faults{})
	if err := r.port.Init(); err != nil {
		t.Fatal(err)
	}
	if got := r.port.Info().String(); got != "si3050 rev 5, si3019 rev 4" {
		t.Errorf("info %q", got)
	}
	d, err := r.port.Diag()
	if err != nil {
		t.Fatal(err)
	}
	if d.OffHook || d.Volts < 45 || d.Volts > 50 || d.MilliAmps != 0 {
		t.Errorf("on-hook diag %+v, want about 48 V and 0 mA", d)
	}
	if err := r.port.Seize(); err != nil {
		t.Fatal(err)
	}
	d, _ = r.port.Diag()
	if !d.OffHook || d.Volts < 6 || d.Volts > 10 || d.MilliAmps < 20 || d.MilliAmps > 30 {
		t.Errorf("off-hook diag %+v, want 6-10 V and 20-30 mA", d)
	}
	if r.chip.CO().Tone() != tone.Dial {
		t.Errorf("office tone %q after seizing, want dial", r.chip.CO().Tone())
	}
	if err := r.port.Release(); err != nil {
		t.Fatal(err)
	}
	if r.chip.CO().BoxOffHook() {
		t.Error("office still sees the loop closed")
	}
}

func TestRingCadence(t *testing.T) {
	tests := []struct {
		country string
		on, off []time.Duration // expected per ring, cyclic
		rings   int
	}{
		{"CN", []time.Duration{time.Second}, []time.Duration{4 * time.Second}, 3},
		{"US", []time.Duration{2 * time.Second}, []time.Duration{4 * time.Second}, 2},
		// UK double ring: two bursts per cadence cycle.
		{"UK", []time.Duration{400 * time.Millisecond, 400 * time.Millisecond}, []time.Duration{200 * time.Millisecond, 2 * time.Second}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.country, func(t *testing.T) {
			r := newRig(t, "fxo1", tt.country, si3050sim.Faults{})
			if err := r.port.Init(); err != nil {
				t.Fatal(err)
			}
			if err := r.chip.CO().Ring(si3050sim.Call{Rings: tt.rings}); err != nil {
				t.Fatal(err)
			}
			period := r.chip.CO().Cadence().Period()
			r.run(time.Duration(tt.rings)*period+9*time.Second, nil)
			starts, ends := r.take(si3050.RingStart), r.take(si3050.RingEnd)
			want := tt.rings * len(tt.on)
			if len(starts) != want || len(ends) != want {
				t.Fatalf("%d starts and %d ends, want %d: %v", len(starts), len(ends), want, r.evs)
			}
			for i, e := range ends {
				// Resolution: one poll plus a quarter ring cycle.
				if w := tt.on[i%len(tt.on)]; !near(e.On, w, 40*time.Millisecond) {
					t.Errorf("ring %d on %v, want %v", i+1, e.On, w)
				}
				if e.Count != i+1 {
					t.Errorf("ring end %d counted %d", i+1, e.Count)
				}
			}
			for i, e := range starts[1:] {
				if w := tt.off[i%len(tt.off)]; !near(e.Off, w, 40*time.Millisecond) {
					t.Errorf("gap before ring %d %v, want %v", i+2, e.Off, w)
				}
			}
			if st := r.take(si3050.RingingStopped); len(st) != 1 || st[0].Count != want {
				t.Errorf("ringing stopped events %v, want one after %d rings", st, want)
			}
		})
	}
}

// Caller ID sent by the office reaches PCMRead through the on-hook line
// monitor, and is decoded there with dsp/callerid.
func TestCallerIDOnHookMonitor(t *testing.T) {
	msg := callerid.Message{Format: callerid.MDMF, Time: "11211230", Number: "13800138000", Name: "ZHANG SAN"}
	tests := []struct {
		name      string
		country   string
		preset    *callerid.Preset
		modem     fsk.Modem
		dtmf      bool
		reversals int // polarity reversals before the ring
	}{
		{"bellcore after first ring", "CN", &callerid.Bellcore, fsk.Bell202, false, 0},
		{"etsi dt-as before ring", "ETSI", &callerid.ETSIDTAS, fsk.V23, false, 2},
		{"etsi reversal", "UK", nil, fsk.V23, false, 2},
		{"etsi ring pulse", "ETSI", &callerid.ETSIRingPulse, fsk.V23, false, 0},
		{"dtmf before ring", "CN", &callerid.DTMFBeforeRing, fsk.Modem{}, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, "fxo1", tt.country, si3050sim.Faults{})
			if err := r.port.Init(); err != nil {
				t.Fatal(err)
			}
			m := msg
			if tt.dtmf {
				m = callerid.Message{Format: callerid.SDMF, Number: "13800138000"}
			}
			if err := r.chip.CO().Ring(si3050sim.Call{CallerID: &m, Preset: tt.preset}); err != nil {
				t.Fatal(err)
			}
			var audio []int16
			r.run(6*time.Second, func(x []int16) { audio = append(audio, x...) })
			var got []callerid.Message
			var errs []error
			if tt.dtmf {
				got, _, errs = callerid.DecodeDTMF(audio)
			} else {
				got, _, errs = callerid.DecodeFSK(audio, tt.modem)
			}
			if len(got) != 1 || len(errs) != 0 {
				t.Fatalf("decoded %v (errors %v), want one message", got, errs)
			}
			if got[0].Number != m.Number || got[0].Name != m.Name || got[0].Time != m.Time {
				t.Errorf("decoded %+v, want %+v", got[0], m)
			}
			if n := len(r.take(si3050.PolarityReversal)); n != tt.reversals {
				t.Errorf("%d polarity reversals, want %d: %v", n, tt.reversals, r.evs)
			}
			if len(r.take(si3050.RingStart)) == 0 {
				t.Error("no ring detected")
			}
		})
	}
}

// Without the on-hook line monitor the chip passes no audio on-hook: the
// same call's caller ID is lost.
func TestCallerIDNeedsMonitor(t *testing.T) {
	r := newRig(t, "fxo1", "CN", si3050sim.Faults{})
	if err := r.port.Init(); err != nil {
		t.Fatal(err)
	}
	if err := r.chip.Tx([]byte{0x20, 5, 0x00}, nil); err != nil { // monitor off
		t.Fatal(err)
	}
	m := callerid.Message{Format: callerid.SDMF, Time: "11211230", Number: "13800138000"}
	if err := r.chip.CO().Ring(si3050sim.Call{CallerID: &m}); err != nil {
		t.Fatal(err)
	}
	var peak int16
	r.run(4*time.Second, func(x []int16) {
		for _, v := range x {
			peak = max(peak, v, -v)
		}
	})
	if peak != 0 {
		t.Fatalf("on-hook without monitor passed audio (peak %d)", peak)
	}
}

// The box answers a ringing call, the office stops ringing; then the far
// end hangs up in each of the three ways.
func TestAnswerAndDisconnect(t *testing.T) {
	tests := []struct {
		name string
		how  si3050sim.Disconnect
		d    time.Duration
		want si3050.EventKind
	}{
		{"busy tone", si3050sim.BusyTone, 0, 0},
		{"polarity reversal", si3050sim.Reversal, 0, si3050.PolarityReversal},
		{"loop drop", si3050sim.LoopDrop, 600 * time.Millisecond, si3050.LoopDrop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, "fxo1", "CN", si3050sim.Faults{})
			if err := r.port.Init(); err != nil {
				t.Fatal(err)
			}
			co := r.chip.CO()
			if err := co.Ring(si3050sim.Call{}); err != nil {
				t.Fatal(err)
			}
			r.run(1500*time.Millisecond, nil)
			if len(r.take(si3050.RingStart)) != 1 {
				t.Fatalf("events %v, want one ring", r.evs)
			}
			if err := r.port.Seize(); err != nil {
				t.Fatal(err)
			}
			if !co.Answered() || co.Ringing() {
				t.Fatalf("office answered=%v ringing=%v after the box seized", co.Answered(), co.Ringing())
			}
			r.run(time.Second, nil)
			r.evs = r.evs[:0]
			if err := co.Hangup(tt.how, tt.d); err != nil {
				t.Fatal(err)
			}
			det := tone.NewDetector(mustPlan(t, "CN"), tone.DetectorConfig{})
			r.run(2*time.Second, det.Process)
			if tt.want != 0 {
				if len(r.take(tt.want)) != 1 {
					t.Errorf("events %v, want one %v", r.evs, tt.want)
				}
			}
			busy := false
			for e, ok := det.Poll(); ok; e, ok = det.Poll() {
				busy = busy || (e.Kind == tone.ToneStart && e.Tone == tone.Busy)
			}
			if busy != (tt.how == si3050sim.BusyTone) {
				t.Errorf("busy tone heard: %v", busy)
			}
			if tt.how == si3050sim.LoopDrop {
				if lr := r.take(si3050.LoopRestored); len(lr) != 1 || !near(lr[0].On, 600*time.Millisecond, 20*time.Millisecond) {
					t.Errorf("loop restored events %v, want one after 600ms", lr)
				}
			}
		})
	}
}

// An open loop shorter than LoopDropMin is not a disconnect.
func TestShortLoopBreakIgnored(t *testing.T) {
	r := newRig(t, "fxo1", "CN", si3050sim.Faults{})
	if err := r.port.Init(); err != nil {
		t.Fatal(err)
	}
	if err := r.port.Seize(); err != nil {
		t.Fatal(err)
	}
	r.run(time.Second, nil)
	if err := r.chip.CO().Hangup(si3050sim.LoopDrop, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	r.run(time.Second, nil)
	if len(r.evs) != 0 {
		t.Errorf("events %v after a 100 ms loop break", r.evs)
	}
}

func mustPlan(t *testing.T, c string) tone.Plan {
	t.Helper()
	p, err := tone.PlanFor(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Seize, hear dial tone, dial DTMF digits the office detects; a flash.
func TestSeizeAndDial(t *testing.T) {
	r := newRig(t, "fxo1", "CN", si3050sim.Faults{})
	if err := r.port.Init(); err != nil {
		t.Fatal(err)
	}
	if err := r.port.Seize(); err != nil {
		t.Fatal(err)
	}
	det := tone.NewDetector(mustPlan(t, "CN"), tone.DetectorConfig{})
	r.run(2*time.Second, det.Process) // a steady tone is named after 1.3 s
	if det.Current() != tone.Dial {
		t.Fatalf("box hears %q, want dial tone", det.Current())
	}
	gen, err := dtmf.NewGenerator(dtmf.DefaultGeneratorConfig())
	if err != nil {
		t.Fatal(err)
	}
	const number = "95511*0#"
	if err := gen.Send(number); err != nil {
		t.Fatal(err)
	}
	var out [frame]int16
	for gen.Pending() > 0 {
		gen.Generate(out[:])
		r.chip.PCMWrite(out[:])
		r.step(nil)
	}
	if got := r.chip.CO().Digits(); got != number {
		t.Errorf("office heard %q, want %q", got, number)
	}
	if r.chip.CO().Tone() != "" {
		t.Errorf("dial tone still on after dialling: %q", r.chip.CO().Tone())
	}
	if err := r.port.Flash(0); err != nil {
		t.Fatal(err)
	}
	r.run(time.Second, nil)
	if len(r.evs) != 0 {
		t.Errorf("flash raised events %v", r.evs)
	}
	if co := r.chip.CO(); co.Flashes() != 1 || co.Tone() != tone.Dial || !co.BoxOffHook() {
		t.Errorf("office saw %d flashes, plays %q, box off-hook %v; want one flash and recall dial tone",
			co.Flashes(), co.Tone(), co.BoxOffHook())
	}
	// The office hears the box's audio only off-hook.
	r.chip.CO().Record(frame)
	if err := r.port.Release(); err != nil {
		t.Fatal(err)
	}
	out[0] = 1000
	r.chip.PCMWrite(out[:])
	if h := r.chip.CO().Heard(); len(h) != 0 {
		t.Errorf("office heard %d samples from an on-hook box", len(h))
	}
	r.run(2*si3050sim.HangupAfter, nil)
	if co := r.chip.CO(); co.Tone() != "" || co.Flashes() != 1 {
		t.Errorf("after hang-up the office plays %q, saw %d flashes", co.Tone(), co.Flashes())
	}
}

// Each fault gives its clear error while the other port keeps working.
func TestFaultsKeepOtherPortsWorking(t *testing.T) {
	tests := []struct {
		name   string
		faults si3050sim.Faults
		unplug bool
		init   string // error from Init; "" if Init succeeds
		seize  string // error from Seize after a good Init
		event  si3050.EventKind
	}{
		{"chip absent", si3050sim.Faults{Absent: true}, false, "si3050: fxo2: probe: register 11 reads 0xff: si3050: no chip answers", "", 0},
		{"chip absent, miso low", si3050sim.Faults{Absent: true, MISOLow: true}, false, "register 11 reads 0x00", "", 0},
		{"isolation link never up", si3050sim.Faults{NoLink: true}, false, "si3050: fxo2: isolation link: line side did not answer within 2s (register 11 = 0x05)", "", 0},
		{"line disconnected", si3050sim.Faults{}, true, "", "si3050: fxo2: seize: loop current 0.0 mA within 500ms, want 8 mA (line 0 V): si3050: line disconnected", si3050.BatteryLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := newRig(t, "fxo1", "CN", si3050sim.Faults{})
			bad := newRigClock(t, good.clk, "fxo2", "CN", tt.faults) // one clock for the board
			if tt.unplug {
				bad.chip.CO().Unplug(true)
			}
			for _, p := range []*si3050.Port{good.port, bad.port} {
				err := p.Init()
				if p == good.port && err != nil {
					t.Fatal(err)
				}
				if p == bad.port && (tt.init == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.init) {
					t.Fatalf("%s Init = %v, want %q", p.Name(), err, tt.init)
				}
			}
			if tt.init != "" {
				if err := bad.port.Seize(); !errors.Is(err, si3050.ErrFailed) {
					t.Errorf("seize on failed port = %v", err)
				}
				d, err := bad.port.Diag()
				if err != nil || d.Err == nil {
					t.Errorf("diag of failed port %+v, %v: want its error", d, err)
				}
			} else {
				bad.run(time.Second, nil)
				if ev := bad.take(tt.event); len(ev) != 1 {
					t.Errorf("events %v, want one %v", bad.evs, tt.event)
				}
				err := bad.port.Seize()
				if !errors.Is(err, si3050.ErrNoLine) || err.Error() != tt.seize {
					t.Errorf("Seize = %v, want %q", err, tt.seize)
				}
			}
			// The good port rings, answers and reads its line.
			if err := good.chip.CO().Ring(si3050sim.Call{}); err != nil {
				t.Fatal(err)
			}
			good.run(1500*time.Millisecond, nil)
			if len(good.take(si3050.RingStart)) != 1 {
				t.Fatalf("good port events %v", good.evs)
			}
			if err := good.port.Seize(); err != nil {
				t.Fatal(err)
			}
			if ma, err := good.port.LoopCurrent(); err != nil || ma < 20 {
				t.Errorf("good port loop current %v, %v", ma, err)
			}
		})
	}
}

// A battery that comes back is reported, and the polarity is learnt again
// without a false reversal.
func TestBatteryRestored(t *testing.T) {
	r := newRig(t, "fxo1", "CN", si3050sim.Faults{})
	if err := r.port.Init(); err != nil {
		t.Fatal(err)
	}
	r.chip.CO().Unplug(true)
	r.run(time.Second, nil)
	r.chip.CO().Unplug(false)
	r.run(time.Second, nil)
	if len(r.evs) != 2 || r.evs[0].Kind != si3050.BatteryLost || r.evs[1].Kind != si3050.BatteryRestored {
		t.Fatalf("events %v, want battery lost then restored", r.evs)
	}
	if math.Abs(r.evs[1].Volts) < 40 {
		t.Errorf("restored at %v V", r.evs[1].Volts)
	}
}

// With the half-wave ring detector only RDTP fires; the driver's debounce
// still measures the cadence.
func TestHalfWaveRingDetector(t *testing.T) {
	for _, full := range []bool{true, false} {
		clk := vclock.NewVirtual()
		chip, err := si3050sim.New(si3050sim.Config{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		cty, err := si3050.CountryFor("CN")
		if err != nil {
			t.Fatal(err)
		}
		cty.RingFullWave = full
		p, err := si3050.New(si3050.Config{Conn: chip, Clock: clk, Country: cty})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Init(); err != nil {
			t.Fatal(err)
		}
		if err := chip.CO().Ring(si3050sim.Call{Rings: 1}); err != nil {
			t.Fatal(err)
		}
		var seen byte
		var evs []si3050.Event
		for i := 0; i < 300; i++ {
			clk.Advance(5 * time.Millisecond)
			seen |= chip.Reg(si3050.RegDAACtrl1)
			if evs, err = p.Poll(evs); err != nil {
				t.Fatal(err)
			}
		}
		if want := full; (seen&si3050.DAA1RDTN != 0) != want || seen&si3050.DAA1RDTP == 0 {
			t.Errorf("full wave %v: register 5 bits seen %#x", full, seen)
		}
		if len(evs) != 2 || evs[1].Kind != si3050.RingEnd || !near(evs[1].On, time.Second, 30*time.Millisecond) {
			t.Errorf("full wave %v: events %v, want one 1 s ring", full, evs)
		}
	}
}

// Probe answers before bring-up (link down) and after it (line side
// revision known); an absent chip is ErrAbsent.
func TestProbe(t *testing.T) {
	r := newRig(t, "fxo1", "CN", si3050sim.Faults{})
	info, err := r.port.Probe()
	if err != nil || info.LinkUp() || info.SystemRev != 5 {
		t.Fatalf("probe before bring-up: %+v, %v", info, err)
	}
	if got := info.String(); got != "si3050 rev 5, line side not linked" {
		t.Errorf("probe string %q", got)
	}
	if err := r.port.Init(); err != nil {
		t.Fatal(err)
	}
	info, err = r.port.Probe()
	if err != nil || !info.LinkUp() || info.LineRev != 4 {
		t.Fatalf("probe after bring-up: %+v, %v", info, err)
	}
	r.chip.SetFaults(si3050sim.Faults{Absent: true})
	if _, err := r.port.Probe(); !errors.Is(err, si3050.ErrAbsent) {
		t.Errorf("probe of an absent chip: %v", err)
	}
}

// A call that rings out drops its pending caller ID: the next call's
// audio is clean.
func TestRingOutDropsCallerID(t *testing.T) {
	r := newRig(t, "fxo1", "CN", si3050sim.Faults{})
	if err := r.port.Init(); err != nil {
		t.Fatal(err)
	}
	m := callerid.Message{Format: callerid.SDMF, Time: "11211230", Number: "13800138000"}
	if err := r.chip.CO().Ring(si3050sim.Call{CallerID: &m, Rings: 1}); err != nil {
		t.Fatal(err)
	}
	var audio []int16
	r.run(10*time.Second, func(x []int16) { audio = append(audio, x...) })
	if got, _, _ := callerid.DecodeFSK(audio, fsk.Bell202); len(got) != 0 {
		t.Errorf("decoded %v from a call that rang out during its first ring", got)
	}
	if st := r.take(si3050.RingingStopped); len(st) != 1 || st[0].Count != 1 {
		t.Errorf("events %v, want ringing stopped after one ring", r.evs)
	}
}

// TestHalt: a seized line goes on-hook at Halt, interrupts are masked and
// the pin released, the port refuses work and its monitor stays quiet
// until Init.
func TestHalt(t *testing.T) {
	r := newRig(t, "fxo1", "CN", si3050sim.Faults{})
	if err := r.port.Init(); err != nil {
		t.Fatal(err)
	}
	if err := r.port.Seize(); err != nil {
		t.Fatal(err)
	}
	if !r.chip.CO().BoxOffHook() {
		t.Fatal("not seized")
	}
	if err := r.port.Halt(); err != nil {
		t.Fatal(err)
	}
	if r.chip.CO().BoxOffHook() || r.port.OffHook() {
		t.Fatal("the line is still off-hook after Halt")
	}
	if m, c2, r5 := r.chip.Reg(si3050.RegIntMask), r.chip.Reg(si3050.RegControl2), r.chip.Reg(si3050.RegDAACtrl1); m != 0 || c2&si3050.Control2INTE != 0 || r5 != 0 {
		t.Fatalf("after Halt: mask 0x%02x, control 2 0x%02x, register 5 0x%02x", m, c2, r5)
	}
	r.run(time.Second, nil) // Poll reports nothing, and no error
	if len(r.evs) != 0 {
		t.Fatalf("events after Halt: %v", r.evs)
	}
	if err := r.port.Seize(); !errors.Is(err, si3050.ErrFailed) || !strings.Contains(err.Error(), "halted") {
		t.Fatalf("Seize after Halt: %v", err)
	}
	if err := r.port.Halt(); err != nil {
		t.Fatalf("second Halt: %v", err)
	}
	if err := r.port.Init(); err != nil {
		t.Fatal(err)
	}
	if err := r.port.Seize(); err != nil {
		t.Fatalf("Seize after a new Init: %v", err)
	}
}

// TestFarEnd: what the far end reports comes from its ear on the box's
// audio: a call rung and answered by the box, busy tone the box sends, an
// outbound call whose dial tone stops when the far end answers.
func TestFarEnd(t *testing.T) {
	r := newRig(t, "fxo1", "CN", si3050sim.Faults{})
	if err := r.port.Init(); err != nil {
		t.Fatal(err)
	}
	co := r.chip.CO()
	t0 := r.clk.Now()
	if err := co.Answer(); err == nil {
		t.Fatal("the far end answered with no call")
	}
	if err := co.Ring(si3050sim.Call{}); err != nil {
		t.Fatal(err)
	}
	if st := co.FarEnd(t0); !st.Ringing || st.InCall || st.Hears != "" {
		t.Fatalf("ringing: %+v", st)
	}
	if err := r.port.Seize(); err != nil {
		t.Fatal(err)
	}
	busy, err := mustPlan(t, "CN").Tone(tone.Busy)
	if err != nil {
		t.Fatal(err)
	}
	gen := tone.NewGenerator(busy)
	var out [frame]int16
	for i := 0; i < 300; i++ { // 3 s of busy tone from the box
		gen.Read(out[:])
		r.chip.PCMWrite(out[:])
		r.step(nil)
	}
	st := co.FarEnd(t0)
	if st.Ringing || !st.InCall || !st.Answered || st.Hears != tone.Busy {
		t.Fatalf("answered by the box, sending busy tone: %+v", st)
	}
	var got []string
	for _, e := range st.Events {
		got = append(got, e.String())
	}
	if want := "rings the box, no caller ID, the box answers, hears busy"; strings.Join(got, ", ") != want {
		t.Fatalf("events %q, want %q", strings.Join(got, ", "), want)
	}
	if err := r.port.Release(); err != nil {
		t.Fatal(err)
	}
	r.run(2*si3050sim.HangupAfter, nil)
	if st := co.FarEnd(t0); st.InCall || st.Events[len(st.Events)-1].String() != "the box hangs up" {
		t.Fatalf("after the box hung up: %+v", st)
	}
	// Outbound: dial tone until the far end answers.
	if err := r.port.Seize(); err != nil {
		t.Fatal(err)
	}
	if st := co.FarEnd(t0); st.Playing != tone.Dial || st.Answered {
		t.Fatalf("seized: %+v", st)
	}
	if err := co.Answer(); err != nil {
		t.Fatal(err)
	}
	if st := co.FarEnd(t0); st.Playing != "" || st.Events[len(st.Events)-1].String() != "far end answers" {
		t.Fatalf("after the far end answered: %+v", st)
	}
}
