package proslic_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"callbox/board/internal/vclock"
	"callbox/board/proslic"
	"callbox/board/sim/proslicsim"
	"callbox/dsp/callerid"
	"callbox/dsp/callerid/fsk"
	"callbox/dsp/dtmf"
	"callbox/dsp/tone"
)

// rig is a port on an emulated chip, on a virtual clock.
type rig struct {
	t     *testing.T
	clk   *vclock.Virtual
	chip  *proslicsim.Chip
	phone *proslicsim.Phone
	port  *proslic.Port
	ev    []proslic.Event
}

func mustRing(t *testing.T, code string) proslic.Ring {
	t.Helper()
	r, err := proslic.PresetFor(code)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newRig(t *testing.T, cfg proslic.Config, sim proslicsim.Config) *rig {
	t.Helper()
	clk := vclock.NewVirtual()
	return newRigOn(t, clk, cfg, sim)
}

func newRigOn(t *testing.T, clk *vclock.Virtual, cfg proslic.Config, sim proslicsim.Config) *rig {
	t.Helper()
	if sim.Name == "" {
		sim.Name = cfg.Name
	}
	sim.Clock = clk
	chip := proslicsim.New(sim)
	cfg.Conn, cfg.Reset, cfg.IRQ, cfg.Clock = chip, chip.Reset(), chip.IRQ(), clk
	p, err := proslic.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, clk: clk, chip: chip, phone: chip.Phone(), port: p}
}

func (r *rig) up() *rig {
	r.t.Helper()
	if err := r.port.BringUp(); err != nil {
		r.t.Fatal(err)
	}
	return r
}

// run services the port every 10 ms for d, collecting events, and calls
// each (if not nil) after every step.
func (r *rig) run(d time.Duration, each func()) {
	for end := r.clk.Now().Add(d); r.clk.Now().Before(end); {
		r.clk.Advance(10 * time.Millisecond)
		r.ev = r.port.Service(r.ev)
		if each != nil {
			each()
		}
	}
}

// take returns and forgets the events collected so far.
func (r *rig) take() []proslic.Event {
	e := r.ev
	r.ev = nil
	return e
}

func kinds(ev []proslic.Event) string {
	var s []string
	for _, e := range ev {
		s = append(s, e.Kind.String())
	}
	return strings.Join(s, " ")
}

func TestHookDebounce(t *testing.T) {
	r := newRig(t, proslic.Config{Name: "fxs1"}, proslicsim.Config{}).up()
	r.run(100*time.Millisecond, nil)
	if ev := r.take(); len(ev) != 0 {
		t.Fatalf("idle line reported %s", kinds(ev))
	}
	// A 10 ms contact bounce is not a hook change.
	r.phone.OffHook()
	r.run(10*time.Millisecond, nil)
	r.phone.OnHook()
	r.run(200*time.Millisecond, nil)
	if ev := r.take(); len(ev) != 0 {
		t.Fatalf("bounce reported %s", kinds(ev))
	}
	t0 := r.clk.Now()
	r.phone.OffHook()
	r.run(100*time.Millisecond, nil)
	ev := r.take()
	if kinds(ev) != "off-hook" {
		t.Fatalf("off hook: events %q", kinds(ev))
	}
	if d := ev[0].At.Sub(t0); d < 30*time.Millisecond || d > 40*time.Millisecond {
		t.Fatalf("off-hook reported after %v, want the 30 ms debounce", d)
	}
	if !r.port.OffHook() {
		t.Fatal("OffHook() false")
	}
	t0 = r.clk.Now()
	r.phone.OnHook()
	r.run(700*time.Millisecond, nil)
	if ev := r.take(); len(ev) != 0 {
		t.Fatalf("on-hook reported inside the flash window: %s", kinds(ev))
	}
	r.run(300*time.Millisecond, nil)
	ev = r.take()
	if kinds(ev) != "on-hook" {
		t.Fatalf("hang-up: events %q", kinds(ev))
	}
	if d := ev[0].At.Sub(t0); d < 800*time.Millisecond || d > 850*time.Millisecond {
		t.Fatalf("on-hook reported after %v, want just after the 800 ms window", d)
	}
}

// TestPulseDial: the phone dials by breaking the loop 10 times a second
// (60 ms break, 40 ms make); each train is one digit once the loop stays
// closed, ten pulses are 0, and neither flash nor hang-up is reported.
func TestPulseDial(t *testing.T) {
	r := newRig(t, proslic.Config{Name: "fxs1"}, proslicsim.Config{}).up()
	r.phone.OffHook()
	r.run(100*time.Millisecond, nil)
	if k := kinds(r.take()); k != "off-hook" {
		t.Fatalf("off hook: %q", k)
	}
	took, err := r.phone.DialPulse("2090")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.phone.DialPulse("1"); err == nil {
		t.Fatal("a second train while dialling was accepted")
	}
	r.run(took+500*time.Millisecond, nil)
	ev := r.take()
	var digits []byte
	for _, e := range ev {
		if e.Kind != proslic.PulseDigit {
			t.Fatalf("event %v during pulse dialling (all: %s)", e.Kind, kinds(ev))
		}
		digits = append(digits, e.Digit)
	}
	if string(digits) != "2090" {
		t.Fatalf("digits %q, want 2090", digits)
	}
	if !r.port.OffHook() {
		t.Fatal("the port thinks the phone hung up")
	}
	for _, bad := range []string{"", "12a"} {
		if _, err := r.phone.DialPulse(bad); err == nil {
			t.Errorf("DialPulse(%q) accepted", bad)
		}
	}
}

func TestFlash(t *testing.T) {
	for _, tt := range []struct {
		name   string
		window proslic.FlashWindow
		brk    time.Duration
		want   string
	}{
		{"bounce 20ms", proslic.FlashWindow{}, 20 * time.Millisecond, ""},
		{"one pulse 50ms", proslic.FlashWindow{}, 50 * time.Millisecond, "pulse-digit"},
		{"flash 100ms", proslic.FlashWindow{}, 100 * time.Millisecond, "flash"},
		{"flash 300ms", proslic.FlashWindow{}, 300 * time.Millisecond, "flash"},
		{"flash 790ms", proslic.FlashWindow{}, 790 * time.Millisecond, "flash"},
		{"hang-up 900ms", proslic.FlashWindow{}, 900 * time.Millisecond, "on-hook off-hook"},
		{"custom 300ms too long", proslic.FlashWindow{Min: 50 * time.Millisecond, Max: 250 * time.Millisecond}, 300 * time.Millisecond, "on-hook off-hook"},
		{"custom 60ms", proslic.FlashWindow{Min: 50 * time.Millisecond, Max: 250 * time.Millisecond}, 60 * time.Millisecond, "flash"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, proslic.Config{Name: "fxs2", Flash: tt.window}, proslicsim.Config{}).up()
			r.phone.OffHook()
			r.run(100*time.Millisecond, nil)
			r.take()
			r.phone.OnHook()
			r.run(tt.brk, nil)
			r.phone.OffHook()
			r.run(time.Second, nil)
			ev := r.take()
			if kinds(ev) != tt.want {
				t.Fatalf("events %q, want %q", kinds(ev), tt.want)
			}
			if tt.want == "flash" {
				if d := ev[0].Window - tt.brk; d < -10*time.Millisecond || d > 10*time.Millisecond {
					t.Fatalf("flash measured %v, broke for %v", ev[0].Window, tt.brk)
				}
			}
		})
	}
}

// TestRingCadence rings each preset for a while and checks the bursts the
// phone saw against the cadence, within one 10 ms service step.
func TestRingCadence(t *testing.T) {
	for _, tt := range []struct {
		country string
		si3215  bool
	}{{"CN", true}, {"US", false}, {"UK", true}, {"JP", false}} {
		t.Run(tt.country, func(t *testing.T) {
			ring, err := proslic.PresetFor(tt.country)
			if err != nil {
				t.Fatal(err)
			}
			r := newRig(t, proslic.Config{Name: "fxs1", Ring: ring}, proslicsim.Config{Si3215: tt.si3215}).up()
			f, v := r.chip.RingSignal()
			if math.Abs(f-ring.Frequency) > 0.1 || math.Abs(v-ring.Amplitude) > 1 {
				t.Fatalf("ring oscillator at %.2f Hz %.1f V, want %g Hz %g V", f, v, ring.Frequency, ring.Amplitude)
			}
			start := r.clk.Now()
			if err := r.port.Ring(0); err != nil {
				t.Fatal(err)
			}
			if !r.phone.Ringing() {
				t.Fatal("phone not ringing at once")
			}
			span := 2*ring.Period() + ring.Cadence[0]/2
			rang := 0
			r.run(span, func() {
				if r.phone.Ringing() {
					rang += 10
				}
			})
			if err := r.port.StopRing(); err != nil {
				t.Fatal(err)
			}
			bursts := r.phone.Rings()
			c := ring.Cadence
			want := 2*len(c)/2 + 1
			if len(bursts) != want {
				t.Fatalf("%d bursts, want %d: %v", len(bursts), want, bursts)
			}
			at := start
			for i, b := range bursts {
				on := c[(2*i)%len(c)]
				if d := b.Start.Sub(at); d < 0 || d > 10*time.Millisecond {
					t.Fatalf("burst %d starts %v late", i, d)
				}
				if i < len(bursts)-1 {
					if d := b.Duration() - on; d < -10*time.Millisecond || d > 10*time.Millisecond {
						t.Fatalf("burst %d lasts %v, want %v", i, b.Duration(), on)
					}
				}
				at = at.Add(on + c[(2*i+1)%len(c)])
			}
			if r.chip.Linefeed() != 1 {
				t.Fatalf("after StopRing the linefeed is %d, want forward active", r.chip.Linefeed())
			}
			var pauses []int
			for _, e := range r.take() {
				if e.Kind == proslic.RingPause {
					pauses = append(pauses, e.Cycle)
					if d := e.Window - c[len(c)-1]; d < -10*time.Millisecond || d > 0 {
						t.Fatalf("pause window %v, want %v", e.Window, c[len(c)-1])
					}
				}
			}
			if len(pauses) != 2 || pauses[0] != 1 || pauses[1] != 2 {
				t.Fatalf("ring pauses for cycles %v, want [1 2]", pauses)
			}
			if total := time.Duration(rang) * time.Millisecond; total < 2*ring.Cadence[0] {
				t.Fatalf("phone rang %v in total", total)
			}
		})
	}
}

func TestRingCyclesAndAnswer(t *testing.T) {
	r := newRig(t, proslic.Config{Name: "fxs1"}, proslicsim.Config{}).up()
	if err := r.port.Ring(2); err != nil {
		t.Fatal(err)
	}
	r.run(10*time.Second+20*time.Millisecond, nil)
	if k := kinds(r.take()); k != "ring-pause ring-pause ring-done" {
		t.Fatalf("events %q", k)
	}
	if r.port.IsRinging() || r.chip.Linefeed() != 1 {
		t.Fatalf("still ringing after its cycles (linefeed %d)", r.chip.Linefeed())
	}
	// Answer during a ring burst (ring trip) and during a pause (OHT).
	for _, at := range []time.Duration{500 * time.Millisecond, 2 * time.Second} {
		if err := r.port.Ring(0); err != nil {
			t.Fatal(err)
		}
		r.run(at, nil)
		r.take()
		r.phone.OffHook()
		r.run(100*time.Millisecond, nil)
		if k := kinds(r.take()); k != "off-hook" {
			t.Fatalf("answer at %v: events %q", at, k)
		}
		if r.port.IsRinging() || r.chip.Linefeed() != 1 || r.phone.Ringing() {
			t.Fatalf("answer at %v: ringing %t, linefeed %d", at, r.port.IsRinging(), r.chip.Linefeed())
		}
		if err := r.port.Ring(1); !errors.Is(err, proslic.ErrOffHook) {
			t.Fatalf("ringing an off-hook line: %v", err)
		}
		r.phone.OnHook()
		r.run(time.Second, nil)
		r.take()
	}
}

// TestCallerIDWindow sends FSK caller ID in the pause after the first ring,
// where the driver has the line in on-hook transmission, and checks that
// the same audio sent while the line is active, or during a ring burst,
// does not reach the on-hook phone.
func TestCallerIDWindow(t *testing.T) {
	msg := callerid.Message{Format: callerid.MDMF, Time: "11211330", Number: "13800138000", Name: "ZHANG"}
	fskAudio, err := callerid.AppendFSK(nil, msg, callerid.BellcoreFSK)
	if err != nil {
		t.Fatal(err)
	}
	send := func(r *rig) {
		frame := make([]int16, 80)
		for i := 0; i < len(fskAudio); i += 80 {
			clear(frame)
			copy(frame, fskAudio[i:])
			r.chip.PCMWrite(frame)
			r.run(10*time.Millisecond, nil)
		}
	}
	r := newRig(t, proslic.Config{Name: "fxs1"}, proslicsim.Config{}).up()
	if err := r.port.Ring(0); err != nil {
		t.Fatal(err)
	}
	// During the first burst: the line is ringing, no audio path.
	send(r)
	for {
		r.run(10*time.Millisecond, nil)
		ev := r.take()
		if len(ev) > 0 {
			if ev[0].Kind != proslic.RingPause || ev[0].Cycle != 1 {
				t.Fatalf("first event %v", ev[0])
			}
			break
		}
	}
	if got := r.phone.CallerID(); len(got) != 0 {
		t.Fatalf("caller ID received while ringing: %+v", got)
	}
	// The line code may ask for OHT again: the ring goes on.
	if err := r.port.SetLinefeed(proslic.ForwardOHT); err != nil || !r.port.IsRinging() {
		t.Fatalf("OHT in the pause: %v, ringing %t", err, r.port.IsRinging())
	}
	send(r)
	got := r.phone.CallerID()
	if len(got) != 1 || got[0] != msg {
		t.Fatalf("caller ID %+v, want %+v", got, msg)
	}
	r.run(5*time.Second, nil)
	if len(r.phone.Rings()) < 2 {
		t.Fatal("the second ring did not come")
	}
	if err := r.port.StopRing(); err != nil {
		t.Fatal(err)
	}
	// Forward active, phone on hook: nothing reaches the caller ID receiver.
	send(r)
	if got := r.phone.CallerID(); len(got) != 1 {
		t.Fatalf("caller ID received outside OHT: %+v", got[1:])
	}
}

// TestETSICallerID sends V.23 caller ID before any ring, after a polarity
// reversal, in reverse on-hook transmission (EN 300 659-1 style).
func TestETSICallerID(t *testing.T) {
	r := newRig(t, proslic.Config{Name: "fxs1", Ring: mustRing(t, "EU")}, proslicsim.Config{}).up()
	if err := r.phone.SetCallerIDModem(fsk.V23); err != nil {
		t.Fatal(err)
	}
	if err := r.port.SetPolarity(true); err != nil {
		t.Fatal(err)
	}
	if err := r.port.SetLinefeed(proslic.ForwardOHT); err != nil {
		t.Fatal(err)
	}
	if r.chip.Linefeed() != 6 {
		t.Fatalf("linefeed %d, want reverse OHT", r.chip.Linefeed())
	}
	msg := callerid.Message{Format: callerid.MDMF, Time: "11211330", Number: "0123456789"}
	audio, err := callerid.AppendFSK(nil, msg, callerid.ETSIFSK)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, 80)
	for i := 0; i < len(audio); i += 80 {
		clear(frame)
		copy(frame, audio[i:])
		r.chip.PCMWrite(frame)
		r.run(10*time.Millisecond, nil)
	}
	if got := r.phone.CallerID(); len(got) != 1 || got[0] != msg {
		t.Fatalf("caller ID %+v", got)
	}
	if err := r.port.SetPolarity(false); err != nil {
		t.Fatal(err)
	}
	if err := r.port.Ring(1); err != nil || !r.phone.Ringing() {
		t.Fatalf("ring after caller ID: %v", err)
	}
}

func TestAudioPaths(t *testing.T) {
	r := newRig(t, proslic.Config{Name: "fxs1"}, proslicsim.Config{}).up()
	frame := make([]int16, 80)
	// On hook, nothing comes from the line.
	if err := r.phone.Dial("5"); err != nil {
		t.Fatal(err)
	}
	r.chip.PCMRead(frame)
	for _, s := range frame {
		if s != 0 {
			t.Fatal("on-hook phone sends audio")
		}
	}
	r.phone.OffHook()
	r.run(50*time.Millisecond, nil)
	if err := r.phone.Dial("123#"); err != nil {
		t.Fatal(err)
	}
	det := dtmf.NewDetector(dtmf.DetectorConfig{})
	var got []byte
	var evs []dtmf.Event
	for i := 0; i < 150; i++ {
		r.chip.PCMRead(frame)
		evs = det.Process(frame, evs[:0])
		for _, e := range evs {
			if e.Kind == dtmf.DigitStart {
				got = append(got, e.Digit)
			}
		}
	}
	if string(got) != "5123#" {
		t.Fatalf("box heard digits %q, want 5123#", got)
	}
	// The box plays a dial tone and DTMF to the phone.
	plan, err := tone.PlanFor("CN")
	if err != nil {
		t.Fatal(err)
	}
	dial, err := plan.Tone(tone.Dial)
	if err != nil {
		t.Fatal(err)
	}
	g := tone.NewGenerator(dial)
	for i := 0; i < 200; i++ { // a dial tone is named after about 1.3 s
		g.Read(frame)
		r.chip.PCMWrite(frame)
	}
	digits, err := dtmf.Synthesize("907", dtmf.DefaultGeneratorConfig())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(digits); i += 80 {
		clear(frame)
		copy(frame, digits[i:])
		r.chip.PCMWrite(frame)
	}
	tones, err := r.phone.HeardTones("CN")
	if err != nil || len(tones) == 0 || tones[0] != tone.Dial {
		t.Fatalf("phone heard tones %v (%v), want dial first", tones, err)
	}
	if d := r.phone.HeardDigits(); d != "907" {
		t.Fatalf("phone heard digits %q, want 907", d)
	}
	// An open line passes nothing either way.
	if err := r.port.SetLinefeed(proslic.Open); err != nil {
		t.Fatal(err)
	}
	r.phone.ClearHeard()
	g.Reset()
	for i := 0; i < 50; i++ {
		g.Read(frame)
		r.chip.PCMWrite(frame)
	}
	for _, s := range r.phone.Heard() {
		if s != 0 {
			t.Fatal("open line passed audio to the phone")
		}
	}
}

func TestPolarityAndDiagnose(t *testing.T) {
	r := newRig(t, proslic.Config{Name: "fxs1", Loop: 29}, proslicsim.Config{}).up()
	d, err := r.port.Diagnose()
	if err != nil {
		t.Fatal(err)
	}
	// On hook, forward: tip near ground, ring at -(2 + 48) V, battery -90 V.
	if math.Abs(d.Tip+2) > 0.5 || math.Abs(d.Ring+50) > 0.5 || math.Abs(d.Battery+90) > 0.5 || d.LoopCurrent != 0 {
		t.Fatalf("on-hook diag %v", d)
	}
	if d.Actual != proslic.ForwardActive || d.OffHook {
		t.Fatalf("on-hook diag %v", d)
	}
	r.phone.OffHook()
	r.run(50*time.Millisecond, nil)
	d, _ = r.port.Diagnose()
	if math.Abs(d.LoopCurrent-29) > 1.1 || !d.OffHook {
		t.Fatalf("off-hook diag %v, want 29 mA", d)
	}
	if err := r.port.SetPolarity(true); err != nil {
		t.Fatal(err)
	}
	rev, _ := r.port.Diagnose()
	if r.chip.Linefeed() != 5 || rev.Actual != proslic.ReverseActive || rev.Tip != d.Ring || rev.Ring != d.Tip {
		t.Fatalf("reversed: linefeed %d, diag %v (forward %v)", r.chip.Linefeed(), rev, d)
	}
	r.phone.OnHook()
	r.run(time.Second, nil)
	// Ring pauses follow the polarity: reverse OHT.
	if err := r.port.Ring(1); err != nil {
		t.Fatal(err)
	}
	r.run(1500*time.Millisecond, nil)
	if r.chip.Linefeed() != 6 {
		t.Fatalf("reverse ring pause in linefeed %d, want 6", r.chip.Linefeed())
	}
	r.run(4*time.Second, nil)
	if r.chip.Linefeed() != 5 {
		t.Fatalf("after ringing linefeed %d, want reverse active", r.chip.Linefeed())
	}
	if err := r.port.SetPolarity(false); err != nil || r.chip.Linefeed() != 1 {
		t.Fatalf("back to forward: %v, linefeed %d", err, r.chip.Linefeed())
	}
}

// TestBringUpFaults brings up a board of emulated chips, some faulty: each
// fault fails its own port with a clear error and the good ports work.
func TestBringUpFaults(t *testing.T) {
	clk := vclock.NewVirtual()
	type port struct {
		fault proslicsim.Fault
		want  string
	}
	ports := []port{
		{0, ""},
		{proslicsim.Absent, "proslic: fxs2: probe: no chip answers (reg 0 reads 0xff)"},
		{proslicsim.AbsentLow, "proslic: fxs3: probe: no chip answers (reg 0 reads 0x00)"},
		{proslicsim.CalHang, "proslic: fxs4: bring-up: calibration did not complete within 2s (reg 96 reads 0x5f)"},
		{proslicsim.VBATNeverRises, "proslic: fxs5: bring-up: vbat did not rise above 40 V within 500ms (read 1.1 V)"},
		{0, ""},
		{proslicsim.IndirectStuck, "proslic: fxs7: bring-up: indirect registers: DTMF_ROW0_PEAK (0): indirect access stayed busy (reg 31)"},
	}
	var rigs []*rig
	for i, pt := range ports {
		r := newRigOn(t, clk, proslic.Config{Name: "fxs" + string(rune('1'+i))}, proslicsim.Config{})
		r.chip.SetFault(pt.fault, true)
		rigs = append(rigs, r)
	}
	for i, r := range rigs {
		err := r.port.BringUp()
		want := ports[i].want
		switch {
		case want == "" && err != nil:
			t.Fatalf("port %d: %v", i+1, err)
		case want != "" && (err == nil || err.Error() != want):
			t.Fatalf("port %d: error %v, want %q", i+1, err, want)
		}
		if want != "" {
			if r.port.Failed() == nil {
				t.Fatalf("port %d not marked failed", i+1)
			}
			if err := r.port.Ring(1); !errors.Is(err, proslic.ErrFailed) {
				t.Fatalf("failed port %d rings: %v", i+1, err)
			}
		}
	}
	// The good ports work, alone and together.
	for _, i := range []int{0, 5} {
		r := rigs[i]
		r.phone.OffHook()
		r.run(50*time.Millisecond, nil)
		if k := kinds(r.take()); k != "off-hook" {
			t.Fatalf("good port %d: events %q", i+1, k)
		}
	}
	// The absent chip comes back (plugged in): BringUp again succeeds.
	rigs[1].chip.SetFault(proslicsim.Absent, false)
	if err := rigs[1].port.BringUp(); err != nil || rigs[1].port.Failed() != nil {
		t.Fatalf("re-bring-up: %v", err)
	}
}

// BringUp twice: the reset line returns the chip to its reset state; with
// no reset line the sanity check notices the chip was already set up.
func TestResetLine(t *testing.T) {
	r := newRig(t, proslic.Config{Name: "fxs1"}, proslicsim.Config{}).up()
	r.up()
	clk := vclock.NewVirtual()
	chip := proslicsim.New(proslicsim.Config{Name: "fxs2", Clock: clk})
	p, _ := proslic.New(proslic.Config{Name: "fxs2", Conn: chip, Clock: clk})
	if err := p.BringUp(); err != nil {
		t.Fatal(err)
	}
	err := p.BringUp()
	if err == nil || !strings.Contains(err.Error(), "proslic: fxs2: bring-up: chip not in its reset state: reg 8 reads 0x00") {
		t.Fatalf("second bring-up without reset: %v", err)
	}
}

func TestPowerAlarm(t *testing.T) {
	clk := vclock.NewVirtual()
	r := newRigOn(t, clk, proslic.Config{Name: "fxs1"}, proslicsim.Config{}).up()
	other := newRigOn(t, clk, proslic.Config{Name: "fxs2"}, proslicsim.Config{}).up()

	// A transient alarm while ringing: the line is restored, idle.
	if err := r.port.Ring(0); err != nil {
		t.Fatal(err)
	}
	r.run(200*time.Millisecond, nil)
	r.chip.PowerAlarm(0x0C, false)
	if r.chip.Linefeed() != 0 {
		t.Fatal("the emulated alarm did not open the line")
	}
	r.run(20*time.Millisecond, nil)
	ev := r.take()
	if kinds(ev) != "power-alarm" || ev[0].Alarm != 0x0C {
		t.Fatalf("events %q %+v", kinds(ev), ev)
	}
	if r.chip.Linefeed() != 1 || r.port.IsRinging() || r.port.Failed() != nil {
		t.Fatalf("after a transient alarm: linefeed %d, ringing %t, failed %v", r.chip.Linefeed(), r.port.IsRinging(), r.port.Failed())
	}
	r.phone.OffHook()
	r.run(50*time.Millisecond, nil)
	if k := kinds(r.take()); k != "off-hook" {
		t.Fatalf("hook after the alarm: %q", k)
	}
	r.phone.OnHook()
	r.run(time.Second, nil)
	r.take()

	// A stuck alarm re-trips at every restore: the port gives up.
	r.chip.PowerAlarm(0x30, true)
	r.run(100*time.Millisecond, nil)
	ev = r.take()
	if k := kinds(ev); k != "power-alarm port-failed" {
		t.Fatalf("stuck alarm: events %q", k)
	}
	want := "proslic: fxs1: power alarm: 3 power alarms within 1m0s (transistors Q3,Q4): line left open"
	if err := r.port.Failed(); err == nil || err.Error() != want {
		t.Fatalf("failed: %v, want %q", err, want)
	}
	if r.chip.Linefeed() != 0 {
		t.Fatalf("failed port's linefeed %d, want open", r.chip.Linefeed())
	}
	// The other port on the board keeps working.
	if err := other.port.Ring(1); err != nil {
		t.Fatal(err)
	}
	other.run(6*time.Second, nil)
	if k := kinds(other.take()); k != "ring-pause ring-done" {
		t.Fatalf("other port: %q", k)
	}
	// Once the fault is cleared, BringUp recovers the port.
	r.chip.ClearPowerAlarm()
	if err := r.port.BringUp(); err != nil {
		t.Fatal(err)
	}
}

// A power alarm whose interrupt is lost is found by the health check: the
// chip reports its linefeed open.
func TestPowerAlarmPolled(t *testing.T) {
	r := newRig(t, proslic.Config{Name: "fxs1"}, proslicsim.Config{}).up()
	r.chip.Reg(22) // no change: just exercise the inspection path
	r.chip.PowerAlarm(0x0C, false)
	// Clear the interrupt behind the driver's back, as if it were missed.
	if err := r.chip.Tx([]byte{19, 0xFF}, nil); err != nil {
		t.Fatal(err)
	}
	r.run(300*time.Millisecond, nil)
	if k := kinds(r.take()); k != "power-alarm" || r.chip.Linefeed() != 1 {
		t.Fatalf("events %q, linefeed %d", k, r.chip.Linefeed())
	}
}

func TestVBATLoss(t *testing.T) {
	r := newRig(t, proslic.Config{Name: "fxs1"}, proslicsim.Config{}).up()
	r.phone.OffHook()
	r.run(50*time.Millisecond, nil)
	r.take()
	r.chip.SetFault(proslicsim.VBATLost, true)
	r.run(300*time.Millisecond, nil)
	ev := r.take()
	if kinds(ev) != "vbat-loss" || ev[0].Volts != 0 {
		t.Fatalf("events %q %+v", kinds(ev), ev)
	}
	if err := r.port.Ring(1); err == nil {
		t.Fatal("rang without battery")
	}
	// The dead loop looks on hook; that must not be reported as a hang-up.
	r.run(2*time.Second, nil)
	if ev := r.take(); len(ev) != 0 {
		t.Fatalf("events while the battery is lost: %q", kinds(ev))
	}
	r.chip.SetFault(proslicsim.VBATLost, false)
	r.run(300*time.Millisecond, nil)
	ev = r.take()
	if kinds(ev) != "vbat-restored" || ev[0].Volts < 40 {
		t.Fatalf("events %q %+v", kinds(ev), ev)
	}
	if !r.port.OffHook() || r.chip.Linefeed() != 1 {
		t.Fatalf("after restore: off-hook %t linefeed %d", r.port.OffHook(), r.chip.Linefeed())
	}
	r.phone.OnHook()
	r.run(time.Second, nil)
	if k := kinds(r.take()); k != "on-hook" {
		t.Fatalf("hang-up after restore: %q", k)
	}
}

func TestConfigErrors(t *testing.T) {
	clk := vclock.NewVirtual()
	chip := proslicsim.New(proslicsim.Config{Clock: clk})
	for _, tt := range []struct {
		cfg  proslic.Config
		want string
	}{
		{proslic.Config{Name: "a", Clock: clk}, "proslic: a: config: no SPI connection"},
		{proslic.Config{Name: "a", Conn: chip}, "no clock"},
		{proslic.Config{Name: "a", Conn: chip, Clock: clk, Loop: 50}, "loop current 50 mA"},
		{proslic.Config{Name: "a", Conn: chip, Clock: clk, Ring: proslic.Ring{Frequency: 25, Amplitude: 120, Cadence: []time.Duration{time.Second, time.Second}}}, "ring amplitude 120"},
		{proslic.Config{Name: "a", Conn: chip, Clock: clk, Ring: proslic.Ring{Frequency: 25, Amplitude: 80, Cadence: []time.Duration{time.Second}}}, "on/off pairs"},
		{proslic.Config{Name: "a", Conn: chip, Clock: clk, Flash: proslic.FlashWindow{Min: time.Second, Max: time.Millisecond}}, "flash window"},
	} {
		_, err := proslic.New(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want %q", err, tt.want)
		}
	}
	if _, err := proslic.PresetFor("xx"); err == nil {
		t.Error("unknown country accepted")
	}
	if r, err := proslic.PresetFor("etsi"); err != nil || r.Frequency != 25 {
		t.Errorf("ETSI preset %+v %v", r, err)
	}
}

func TestLinefeedAndDiagErrors(t *testing.T) {
	r := newRig(t, proslic.Config{Name: "fxs4"}, proslicsim.Config{})
	if err := r.port.SetLinefeed(proslic.ForwardActive); !errors.Is(err, proslic.ErrFailed) {
		t.Fatalf("linefeed before bring-up: %v", err)
	}
	r.up()
	if err := r.port.SetLinefeed(proslic.Ringing); err == nil || !strings.Contains(err.Error(), "use Ring") {
		t.Fatalf("SetLinefeed(Ringing): %v", err)
	}
	if err := r.port.SetLinefeed(9); err == nil {
		t.Fatal("linefeed 9 accepted")
	}
	for _, lf := range []proslic.Linefeed{proslic.Open, proslic.TipOpen, proslic.RingOpen, proslic.ReverseOHT, proslic.ForwardActive} {
		if err := r.port.SetLinefeed(lf); err != nil || r.chip.Linefeed() != byte(lf) || r.port.Linefeed() != lf {
			t.Fatalf("SetLinefeed(%v): %v, chip in %d", lf, err, r.chip.Linefeed())
		}
	}
	r.chip.SetFault(proslicsim.Absent, true)
	if _, err := r.port.Diagnose(); !errors.Is(err, proslic.ErrAbsent) || !strings.Contains(err.Error(), "proslic: fxs4: diag:") {
		t.Fatalf("diag of a vanished chip: %v", err)
	}
}

// TestHalt: a ringing line stops ringing at Halt and is left open with the
// converter down and interrupts masked; the port refuses work and Service
// reports nothing until BringUp.
func TestHalt(t *testing.T) {
	r := newRig(t, proslic.Config{Name: "fxs1"}, proslicsim.Config{}).up()
	if err := r.port.Ring(0); err != nil {
		t.Fatal(err)
	}
	r.run(100*time.Millisecond, nil)
	if !r.phone.Ringing() {
		t.Fatal("not ringing")
	}
	if err := r.port.Halt(); err != nil {
		t.Fatal(err)
	}
	if r.phone.Ringing() || r.phone.Alerting() || r.chip.Linefeed() != byte(proslic.Open) || r.port.IsRinging() {
		t.Fatalf("after Halt: ringing %v, alerting %v, linefeed %d", r.phone.Ringing(), r.phone.Alerting(), r.chip.Linefeed())
	}
	for _, reg := range []byte{21, 22, 23} {
		if v := r.chip.Reg(reg); v != 0 {
			t.Errorf("interrupt mask %d = 0x%02x after Halt", reg, v)
		}
	}
	if r.chip.Reg(14)&0x10 == 0 {
		t.Error("DC-DC converter still on after Halt")
	}
	r.phone.OffHook()
	r.run(6*time.Second, nil) // a whole cadence: nothing rings again, nothing is reported
	if ev := r.take(); len(ev) != 0 || r.phone.Ringing() {
		t.Fatalf("after Halt: events %s, ringing %v", kinds(ev), r.phone.Ringing())
	}
	if err := r.port.Ring(1); !errors.Is(err, proslic.ErrFailed) || !strings.Contains(err.Error(), "halted") {
		t.Fatalf("Ring after Halt: %v", err)
	}
	if err := r.port.Halt(); err != nil {
		t.Fatalf("second Halt: %v", err)
	}
	r.phone.OnHook()
	if err := r.port.BringUp(); err != nil {
		t.Fatal(err)
	}
	if err := r.port.Ring(1); err != nil {
		t.Fatalf("Ring after a new BringUp: %v", err)
	}
}
