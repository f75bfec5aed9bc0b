package line_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/dsp/tone"
	"callbox/telephony/line"
)

// fxoRig is an FXO channel on the Si3050 driver on its emulator, with the
// virtual central office on the line, stepped in 10 ms frames.
type fxoRig struct {
	t   *testing.T
	clk *vclock
	d   *daa
	ch  *line.FXO
	rec *fxoRec
}

func newFXORig(t *testing.T, country string, cfg line.FXOConfig) *fxoRig {
	t.Helper()
	clk := newClock()
	r := &fxoRig{t: t, clk: clk, d: newDAA(t, clk, country), rec: &fxoRec{}}
	cfg.Name, cfg.Country = "fxo1", country
	ch, err := line.NewFXO(cfg, r.d, clk, r.rec)
	if err != nil {
		t.Fatal(err)
	}
	r.ch = ch
	return r
}

func (r *fxoRig) run(d time.Duration, each func()) {
	for end := r.clk.Now().Add(d); r.clk.Now().Before(end); {
		r.clk.Advance(line.FrameTime)
		r.d.poll()
		r.ch.Tick()
		if each != nil {
			each()
		}
	}
	if err := r.ch.Err(); err != nil {
		r.t.Fatalf("port error: %v", err)
	}
}

// until steps until the log holds something, at most d.
func (r *fxoRig) until(d time.Duration) string {
	for end := r.clk.Now().Add(d); r.clk.Now().Before(end) && len(r.rec.lines) == 0; {
		r.run(line.FrameTime, nil)
	}
	return r.rec.take()
}

// The virtual central office rings with caller ID in each country's way;
// the inbound handler gets the number on the configured ring and answers.
func TestSimFXOInboundCallerID(t *testing.T) {
	msg := callerid.Message{Format: callerid.MDMF, Time: "11211230", Number: "13800138000", Name: "ZHANG SAN"}
	cases := []struct {
		name, country string
		preset        *callerid.Preset
		rings         int
		want          string
	}{
		{"cn-bellcore", "CN", nil, 2, `inbound "13800138000" "ZHANG SAN" ring 2`},
		{"cn-ring3", "CN", nil, 3, `inbound "13800138000" "ZHANG SAN" ring 3`},
		{"us-bellcore", "US", nil, 2, `inbound "13800138000" "ZHANG SAN" ring 2`},
		{"etsi-dtas", "ETSI", nil, 1, `inbound "13800138000" "ZHANG SAN" ring 1`},
		{"uk-reversal", "UK", nil, 1, `inbound "13800138000" "ZHANG SAN" ring 1`},
		// The ring pulse alert before the caller ID is not counted as a ring.
		{"etsi-ring-pulse", "ETSI", &callerid.ETSIRingPulse, 1, `inbound "13800138000" "ZHANG SAN" ring 1`},
		{"cn-dtmf", "CN", &callerid.DTMFBeforeRing, 1, `inbound "13800138000" "" ring 1`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newFXORig(t, tc.country, line.FXOConfig{AnswerAfterRings: tc.rings})
			r.rec.onInbound = func(ch *line.FXO, _ line.Caller) {
				if err := ch.Answer(); err != nil {
					t.Errorf("answer: %v", err)
				}
			}
			m := msg
			if tc.preset != nil && tc.preset.Scheme == callerid.SchemeDTMF {
				m = callerid.Message{Number: msg.Number}
			}
			if err := r.d.co.Ring(si3050sim.Call{CallerID: &m, Preset: tc.preset}); err != nil {
				t.Fatal(err)
			}
			if got := r.until(20 * time.Second); got != tc.want {
				t.Fatalf("switch got %q, want %q", got, tc.want)
			}
			r.run(100*time.Millisecond, nil)
			if !r.d.co.Answered() || r.ch.State() != line.FXOConnected {
				t.Fatalf("office answered %t, state %s", r.d.co.Answered(), r.ch.State())
			}
		})
	}
}

// A call the switch does not answer ends when the caller gives up.
func TestSimFXORingingStopped(t *testing.T) {
	r := newFXORig(t, "CN", line.FXOConfig{})
	if err := r.d.co.Ring(si3050sim.Call{Rings: 3}); err != nil {
		t.Fatal(err)
	}
	if got := r.until(10 * time.Second); got != `inbound "" "" ring 2` {
		t.Fatalf("switch got %q", got)
	}
	if got := r.until(20 * time.Second); got != "hung-up ringing-stopped" || r.ch.State() != line.FXOIdle {
		t.Fatalf("after the caller gave up: %q, state %s", got, r.ch.State())
	}
}

// Outbound: seize, wait for the office's dial tone, dial DTMF that the
// office hears; with answer supervision the answer is its reversal.
func TestSimFXOOutbound(t *testing.T) {
	for _, sup := range []bool{false, true} {
		name := "no-supervision"
		if sup {
			name = "reversal-answer"
		}
		t.Run(name, func(t *testing.T) {
			r := newFXORig(t, "CN", line.FXOConfig{AnswerSupervision: sup})
			if err := r.ch.Dial("95566*1#"); err != nil {
				t.Fatal(err)
			}
			if !r.d.co.BoxOffHook() || r.d.co.Tone() != tone.Dial {
				t.Fatalf("office: off-hook %t, tone %q", r.d.co.BoxOffHook(), r.d.co.Tone())
			}
			r.run(time.Second, nil)
			if r.ch.State() != line.FXOWaitDialTone || r.d.co.Digits() != "" {
				t.Fatalf("dialled before dial tone was recognised: state %s, digits %q", r.ch.State(), r.d.co.Digits())
			}
			r.run(3*time.Second, nil)
			if got := r.d.co.Digits(); got != "95566*1#" {
				t.Fatalf("office heard %q, want 95566*1#", got)
			}
			if sup {
				if got := r.rec.take(); got != "" || r.ch.State() != line.FXOProceeding {
					t.Fatalf("before the reversal: %q, state %s", got, r.ch.State())
				}
				r.d.co.Reverse()
				r.run(200*time.Millisecond, nil)
			}
			if got := r.rec.take(); got != "answered" || r.ch.State() != line.FXOConnected {
				t.Fatalf("answer: %q, state %s", got, r.ch.State())
			}
		})
	}
}

// No dial tone: the call fails after DialToneTimeout and the line is
// released; with BlindDial the number goes out anyway.
func TestSimFXONoDialTone(t *testing.T) {
	r := newFXORig(t, "CN", line.FXOConfig{})
	if err := r.ch.Dial("123"); err != nil {
		t.Fatal(err)
	}
	r.d.co.StopTone()
	if got := r.until(6 * time.Second); got != "hung-up no-dial-tone" || r.d.co.BoxOffHook() {
		t.Fatalf("switch got %q, office off-hook %t", got, r.d.co.BoxOffHook())
	}
	r = newFXORig(t, "CN", line.FXOConfig{BlindDial: true, DialToneTimeout: 2 * time.Second})
	if err := r.ch.Dial("123"); err != nil {
		t.Fatal(err)
	}
	r.d.co.StopTone()
	r.run(3*time.Second, nil)
	if got := r.d.co.Digits(); got != "123" {
		t.Fatalf("blind dial: office heard %q", got)
	}
	// An unplugged line is refused before seizing.
	r = newFXORig(t, "CN", line.FXOConfig{})
	r.d.co.Unplug(true)
	r.run(time.Second, nil)
	if err := r.ch.Dial("123"); !errors.Is(err, line.ErrNoLine) {
		t.Fatalf("dial on an unplugged line: %v", err)
	}
}

// Each disconnect supervision method ends a connected call, inbound and
// outbound, and releases the line; with the method turned off the call
// goes on.
func TestSimFXODisconnectSupervision(t *testing.T) {
	cases := []struct {
		how   si3050sim.Disconnect
		d     time.Duration
		cause string
		off   line.FXOConfig
	}{
		{si3050sim.BusyTone, 0, "busy-tone", line.FXOConfig{NoBusyDisconnect: true}},
		{si3050sim.Reversal, 0, "reversal", line.FXOConfig{NoReversalDisconnect: true}},
		{si3050sim.LoopDrop, time.Second, "loop-drop", line.FXOConfig{NoLoopDropDisconnect: true}},
	}
	for _, tc := range cases {
		for _, dir := range []string{"inbound", "outbound"} {
			t.Run(tc.cause+"/"+dir, func(t *testing.T) {
				for _, disabled := range []bool{false, true} {
					cfg := line.FXOConfig{}
					if disabled {
						cfg = tc.off
					}
					r := newFXORig(t, "CN", cfg)
					v := &loopVoice{}
					if dir == "inbound" {
						r.rec.onInbound = func(ch *line.FXO, _ line.Caller) {
							if err := ch.Answer(); err != nil {
								t.Error(err)
							}
							ch.Connect(v)
						}
						r.d.co.Ring(si3050sim.Call{})
						r.until(10 * time.Second)
					} else {
						r.ch.Dial("8")
						r.until(5 * time.Second)
						r.ch.Connect(v)
					}
					r.run(2*time.Second, nil)
					if r.ch.State() != line.FXOConnected {
						t.Fatalf("call not connected: %s", r.ch.State())
					}
					if err := r.d.co.Hangup(tc.how, tc.d); err != nil {
						t.Fatal(err)
					}
					got := r.until(5 * time.Second)
					if disabled {
						if got != "" || r.ch.State() != line.FXOConnected {
							t.Fatalf("with %s supervision off: %q, state %s", tc.cause, got, r.ch.State())
						}
						continue
					}
					if got != "hung-up "+tc.cause {
						t.Fatalf("switch got %q, want hung-up %s", got, tc.cause)
					}
					r.run(100*time.Millisecond, nil)
					if r.d.co.BoxOffHook() || r.ch.State() != line.FXOIdle {
						t.Fatalf("line not released: office sees off-hook %t, state %s", r.d.co.BoxOffHook(), r.ch.State())
					}
				}
			})
		}
	}
}

// Speech from the far end does not end the call (no false busy tone), and
// the channel's audio reaches the office.
func TestSimFXOSpeechKeepsCall(t *testing.T) {
	r := newFXORig(t, "CN", line.FXOConfig{})
	r.ch.Dial("8")
	r.until(5 * time.Second)
	v := &loopVoice{}
	r.ch.Connect(v)
	r.d.co.StopTone()
	r.d.co.Play(speech(t, 8*8000))
	r.run(8*time.Second, nil)
	if got := r.rec.take(); got != "" || r.ch.State() != line.FXOConnected {
		t.Fatalf("speech: %q, state %s", got, r.ch.State())
	}
	var loud int
	for _, s := range v.up[len(v.up)-6*8000:] {
		if s > 1000 || s < -1000 {
			loud++
		}
	}
	if loud < 1000 {
		t.Fatalf("far end's speech did not reach the voice (%d loud samples)", loud)
	}
	if !strings.Contains(r.ch.State().String(), "connected") {
		t.Fatal(r.ch.State())
	}
}

// An idle line that carries nothing costs no caller ID analysis (the
// receivers ran on every frame before), and caller ID sent before the
// first ring, in DTMF or after the ETSI alert signal, still arrives after
// a long idle time.
func TestSimFXOIdleListensOnlyToSignal(t *testing.T) {
	for _, tc := range []struct {
		name, country string
		preset        *callerid.Preset
		want          string
	}{
		{"cn-dtmf", "CN", &callerid.DTMFBeforeRing, `inbound "13800138000" "" ring 1`},
		{"etsi-dtas", "ETSI", nil, `inbound "13800138000" "ZHANG SAN" ring 1`},
		{"cn-bellcore", "CN", nil, `inbound "13800138000" "ZHANG SAN" ring 2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rings := 1
			if tc.preset == nil && tc.country == "CN" {
				rings = 2
			}
			r := newFXORig(t, tc.country, line.FXOConfig{AnswerAfterRings: rings})
			r.run(10*time.Second, nil)
			if n := line.CallerIDFrames(r.ch); n != 0 {
				t.Fatalf("an idle, quiet line: caller ID receivers ran on %d frames", n)
			}
			m := callerid.Message{Format: callerid.MDMF, Number: "13800138000", Name: "ZHANG SAN"}
			if tc.preset != nil {
				m = callerid.Message{Number: m.Number}
			}
			if err := r.d.co.Ring(si3050sim.Call{CallerID: &m, Preset: tc.preset}); err != nil {
				t.Fatal(err)
			}
			if got := r.until(20 * time.Second); got != tc.want {
				t.Fatalf("switch got %q, want %q", got, tc.want)
			}
			if line.CallerIDFrames(r.ch) == 0 {
				t.Fatal("caller ID arrived without the receivers running")
			}
		})
	}
}
