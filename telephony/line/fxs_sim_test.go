package line_test

import (
	"slices"
	"testing"
	"time"

	"callbox/dsp/callerid"
	"callbox/dsp/callerid/fsk"
	"callbox/dsp/dtmf"
	"callbox/dsp/tone"
	"callbox/telephony/line"
)

// fxsRig is an FXS channel on the ProSLIC driver on its emulator, with the
// virtual phone on the line, stepped in 10 ms frames on a virtual clock.
type fxsRig struct {
	t    *testing.T
	clk  *vclock
	s    *slic
	ch   *line.FXS
	rec  *fxsRec
	plan *plan
}

func newFXSRig(t *testing.T, cfg line.FXSConfig) *fxsRig {
	t.Helper()
	clk := newClock()
	r := &fxsRig{t: t, clk: clk, s: newSlic(t, clk), rec: &fxsRec{}, plan: &plan{}}
	cfg.Name = "fxs1"
	ch, err := line.NewFXS(cfg, r.s, clk, r.plan, r.rec)
	if err != nil {
		t.Fatal(err)
	}
	r.ch = ch
	return r
}

// run steps the rig for d, calling each (if not nil) after every frame.
func (r *fxsRig) run(d time.Duration, each func()) {
	for end := r.clk.Now().Add(d); r.clk.Now().Before(end); {
		r.clk.Advance(line.FrameTime)
		r.s.service()
		r.ch.Tick()
		if each != nil {
			each()
		}
	}
	if err := r.ch.Err(); err != nil {
		r.t.Fatalf("port error: %v", err)
	}
}

// The virtual phone goes off hook, hears the CN dial tone (named by
// dsp/tone), dials 202 that the dial plan receives digit by digit, hears
// ringback, talks, and hangs up.
func TestSimFXSDialToneAndDigits(t *testing.T) {
	r := newFXSRig(t, line.FXSConfig{})
	ph := r.s.phone
	ph.OffHook()
	r.run(2*time.Second, nil)
	if r.ch.State() != line.FXSDialTone {
		t.Fatalf("state %s after off-hook, want dial-tone", r.ch.State())
	}
	tones, err := ph.HeardTones("CN")
	if err != nil || len(tones) == 0 || tones[0] != tone.Dial {
		t.Fatalf("phone heard %v (%v), want dial tone", tones, err)
	}
	if err := ph.Dial("202"); err != nil {
		t.Fatal(err)
	}
	r.run(time.Second, nil)
	if got := r.rec.take(); got != "dialled 202" {
		t.Fatalf("switch got %q, want dialled 202", got)
	}
	if want := []string{"2", "20", "202"}; !slices.Equal(r.plan.seen, want) {
		t.Fatalf("dial plan saw %q, want %q", r.plan.seen, want)
	}
	if err := r.ch.Progress(tone.Ringback); err != nil {
		t.Fatal(err)
	}
	ph.ClearHeard()
	r.run(6*time.Second, nil)
	if tones, _ := ph.HeardTones("CN"); !slices.Contains(tones, tone.Ringback) {
		t.Fatalf("phone heard %v, want ringback", tones)
	}
	// Connected: the far end's DTMF reaches the phone, the phone's the far end.
	far, err := dtmf.Synthesize("907", dtmf.DefaultGeneratorConfig())
	if err != nil {
		t.Fatal(err)
	}
	v := &loopVoice{down: func(f *line.Frame) {
		n := copy(f[:], far)
		clear(f[n:])
		far = far[n:]
	}}
	if err := r.ch.Connect(v); err != nil {
		t.Fatal(err)
	}
	ph.ClearHeard()
	if err := ph.Dial("5#"); err != nil {
		t.Fatal(err)
	}
	r.run(time.Second, nil)
	if d := ph.HeardDigits(); d != "907" {
		t.Fatalf("phone heard digits %q, want 907", d)
	}
	evs := dtmf.NewDetector(dtmf.DetectorConfig{}).Process(v.up, nil)
	var got []byte
	for _, e := range evs {
		if e.Kind == dtmf.DigitStart {
			got = append(got, e.Digit)
		}
	}
	if string(got) != "5#" {
		t.Fatalf("far end heard %q, want 5#", got)
	}
	ph.OnHook()
	r.run(time.Second, nil)
	if got := r.rec.take(); got != "hung-up" || r.ch.State() != line.FXSIdle {
		t.Fatalf("after hang-up: switch got %q, state %s", got, r.ch.State())
	}
}

// An incoming call rings the virtual phone with the CN cadence and the
// phone reads the caller ID, for every presentation scheme the FSK
// receiver of the phone understands; then the phone answers.
func TestSimFXSIncomingCallerID(t *testing.T) {
	cases := []struct {
		preset   *callerid.Preset
		modem    fsk.Modem
		preRing  bool
		pulseLen time.Duration
	}{
		{preset: &callerid.Bellcore, modem: fsk.Bell202},
		{preset: &callerid.ETSIDTAS, modem: fsk.V23, preRing: true},
		{preset: &callerid.ETSIReversal, modem: fsk.V23, preRing: true},
		{preset: &callerid.ETSIRingPulse, modem: fsk.V23, preRing: true, pulseLen: 250 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.preset.Name, func(t *testing.T) {
			r := newFXSRig(t, line.FXSConfig{CallerID: tc.preset})
			ph := r.s.phone
			if err := ph.SetCallerIDModem(tc.modem); err != nil {
				t.Fatal(err)
			}
			t0 := r.clk.Now()
			if err := r.ch.Ring(line.Caller{Number: "13800138000", Name: "ZHANG SAN"}); err != nil {
				t.Fatal(err)
			}
			var cidAt time.Time
			r.run(12*time.Second, func() {
				if cidAt.IsZero() && len(ph.CallerID()) > 0 {
					cidAt = r.clk.Now()
				}
			})
			want := callerid.Message{Format: callerid.MDMF, Time: "11211230", Number: "13800138000", Name: "ZHANG SAN"}
			if got := ph.CallerID(); len(got) != 1 || got[0] != want {
				t.Fatalf("phone read caller ID %+v, want %+v", got, want)
			}
			var full []time.Duration
			var starts []time.Time
			for i, b := range ph.Rings() {
				if b.Duration() == 0 {
					continue // still ringing
				}
				if i == 0 && tc.pulseLen > 0 {
					if d := b.Duration() - tc.pulseLen; d < -20*time.Millisecond || d > 20*time.Millisecond {
						t.Fatalf("ring pulse %v, want %v", b.Duration(), tc.pulseLen)
					}
					continue
				}
				full = append(full, b.Duration())
				starts = append(starts, b.Start)
			}
			if len(full) < 2 {
				t.Fatalf("%d full rings in 12 s, want at least 2 (bursts %v)", len(full), ph.Rings())
			}
			for i, d := range full {
				if d < 980*time.Millisecond || d > 1020*time.Millisecond {
					t.Fatalf("ring %d lasted %v, want 1 s", i+1, d)
				}
				if i > 0 {
					if p := starts[i].Sub(starts[i-1]); p < 4980*time.Millisecond || p > 5020*time.Millisecond {
						t.Fatalf("ring period %v, want 5 s", p)
					}
				}
			}
			if tc.preRing {
				if !cidAt.Before(starts[0]) {
					t.Fatalf("caller ID at %v, first ring at %v: want it before", cidAt.Sub(t0), starts[0].Sub(t0))
				}
			} else {
				if starts[0].Sub(t0) > 20*time.Millisecond {
					t.Fatalf("first ring %v after Ring, want at once", starts[0].Sub(t0))
				}
				if !cidAt.After(starts[0].Add(full[0]+500*time.Millisecond)) || !cidAt.Before(starts[1].Add(-200*time.Millisecond)) {
					t.Fatalf("caller ID at %v, rings at %v and %v: want it in the first pause", cidAt.Sub(t0), starts[0].Sub(t0), starts[1].Sub(t0))
				}
			}
			ph.OffHook()
			r.run(200*time.Millisecond, nil)
			if got := r.rec.take(); got != "answered" || r.ch.State() != line.FXSConnected || ph.Ringing() {
				t.Fatalf("answer: switch got %q, state %s, ringing %t", got, r.ch.State(), ph.Ringing())
			}
		})
	}
}

// DTMF caller ID goes out before the first ring after a polarity reversal:
// what the channel sends to the line decodes (dsp/callerid) to the number,
// and ringing starts after it.
func TestSimFXSDTMFCallerID(t *testing.T) {
	r := newFXSRig(t, line.FXSConfig{CallerID: &callerid.DTMFBeforeRing})
	r.s.rec = true
	if err := r.ch.Ring(line.Caller{Number: "075512345678"}); err != nil {
		t.Fatal(err)
	}
	if !r.s.port.Reversed() {
		t.Fatal("line not reversed for DTMF caller ID")
	}
	r.run(4*time.Second, nil)
	msgs, starts, errs := callerid.DecodeDTMF(r.s.sent)
	if len(msgs) != 1 || msgs[0].Number != "075512345678" || len(errs) != 0 {
		t.Fatalf("line carried %+v (errors %v), want 075512345678", msgs, errs)
	}
	rings := r.s.phone.Rings()
	if len(rings) == 0 {
		t.Fatal("no ring after DTMF caller ID")
	}
	if r.s.port.Reversed() {
		t.Fatal("polarity still reversed while ringing")
	}
	if at := time.Duration(starts[0]) * time.Second / 8000; at < 100*time.Millisecond {
		t.Fatalf("DTMF caller ID started %v after the reversal, want at least 100 ms", at)
	}
	r.ch.StopRinging()
	r.run(100*time.Millisecond, nil)
	if r.s.phone.Ringing() || r.ch.State() != line.FXSIdle {
		t.Fatal("StopRinging left the phone ringing")
	}
}

// Hook flash in a call on the emulator: hold and second dial tone, a
// consultation call, then hanging up transfers.
func TestSimFXSFlashTransfer(t *testing.T) {
	r := newFXSRig(t, line.FXSConfig{})
	ph := r.s.phone
	ph.OffHook()
	r.run(300*time.Millisecond, nil)
	ph.Dial("201")
	r.run(time.Second, nil)
	if err := r.ch.Connect(&loopVoice{}); err != nil {
		t.Fatal(err)
	}
	r.rec.take()
	ph.OnHook() // a 300 ms break: a flash
	r.run(300*time.Millisecond, nil)
	ph.OffHook()
	r.run(1800*time.Millisecond, nil)
	if got := r.rec.take(); got != "feature hold" || !r.ch.Held() {
		t.Fatalf("flash: switch got %q, held %t", got, r.ch.Held())
	}
	if tones, _ := ph.HeardTones("CN"); len(tones) == 0 || tones[len(tones)-1] != tone.Dial {
		t.Fatalf("second dial tone not heard: %v", tones)
	}
	ph.Dial("203")
	r.run(time.Second, nil)
	if got := r.rec.take(); got != "dialled 203" {
		t.Fatalf("consultation: switch got %q", got)
	}
	if err := r.ch.Connect(&loopVoice{}); err != nil {
		t.Fatal(err)
	}
	ph.OnHook()
	r.run(time.Second, nil)
	if got := r.rec.take(); got != "feature transfer" || r.ch.State() != line.FXSIdle {
		t.Fatalf("hang-up with a held party: switch got %q, state %s", got, r.ch.State())
	}
}

// In a call the phone hears the call waiting tone over the far party, a
// flash takes the waiting call, and the far party's hang-up gives busy.
func TestSimFXSCallWaitingAndBusy(t *testing.T) {
	r := newFXSRig(t, line.FXSConfig{})
	ph := r.s.phone
	ph.OffHook()
	r.run(300*time.Millisecond, nil)
	ph.Dial("201")
	r.run(time.Second, nil)
	if err := r.ch.Connect(&loopVoice{}); err != nil {
		t.Fatal(err)
	}
	r.rec.take()
	ph.ClearHeard()
	if err := r.ch.CallWaiting(true); err != nil {
		t.Fatal(err)
	}
	r.run(10*time.Second, nil)
	if tones, _ := ph.HeardTones("CN"); !slices.Equal(tones, []string{tone.CallWaiting}) {
		t.Fatalf("phone heard %v, want callwaiting", tones)
	}
	ph.OnHook()
	r.run(300*time.Millisecond, nil)
	ph.OffHook()
	r.run(time.Second, nil)
	if got := r.rec.take(); got != "feature answer-waiting" {
		t.Fatalf("flash during call waiting: switch got %q", got)
	}
	if err := r.ch.Connect(&loopVoice{}); err != nil {
		t.Fatal(err)
	}
	ph.ClearHeard()
	if err := r.ch.Disconnect(""); err != nil {
		t.Fatal(err)
	}
	r.run(3*time.Second, nil)
	if tones, _ := ph.HeardTones("CN"); !slices.Equal(tones, []string{tone.Busy}) {
		t.Fatalf("after the far end hung up the phone heard %v, want busy", tones)
	}
}

// A caller without a number is presented as unavailable; a caller ID that
// cannot be encoded does not stop the phone ringing.
func TestSimFXSCallerIDFallbacks(t *testing.T) {
	r := newFXSRig(t, line.FXSConfig{})
	if err := r.ch.Ring(line.Caller{}); err != nil {
		t.Fatal(err)
	}
	r.run(3*time.Second, nil)
	if got := r.s.phone.CallerID(); len(got) != 1 || got[0].NumberReason != callerid.Unavailable || got[0].Number != "" {
		t.Fatalf("anonymous caller presented as %+v", got)
	}
	r.ch.StopRinging()
	r.run(100*time.Millisecond, nil)

	r = newFXSRig(t, line.FXSConfig{})
	if err := r.ch.Ring(line.Caller{Number: "123456789012345678901234567890"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ {
		r.clk.Advance(line.FrameTime)
		r.s.service()
		r.ch.Tick()
	}
	if len(r.s.phone.Rings()) != 1 || len(r.s.phone.CallerID()) != 0 || r.ch.Err() == nil {
		t.Fatalf("rings %v, caller id %v, error %v: want one ring, no caller ID and an error",
			r.s.phone.Rings(), r.s.phone.CallerID(), r.ch.Err())
	}
}
