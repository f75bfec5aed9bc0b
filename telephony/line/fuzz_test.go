package line_test

import (
	"strings"
	"testing"
	"time"

	"callbox/dsp/tone"
	"callbox/telephony/line"
)

// phoneFXS is an FXS port with a consistent phone behind it, for fuzzing:
// it tracks the hook, the feed and the ringing, and records where the
// channel broke the port's rules.
type phoneFXS struct {
	recFXS
	offHook bool
	ringing bool
	feed    line.Feed
	bad     []string
}

func (p *phoneFXS) Ring(cad []time.Duration) error {
	if p.offHook {
		p.bad = append(p.bad, "rang an off-hook phone")
	}
	if len(cad) < 2 || len(cad)%2 != 0 {
		p.bad = append(p.bad, "odd ring cadence")
	}
	p.ringing = true
	return nil
}
func (p *phoneFXS) StopRing() error { p.ringing = false; return nil }
func (p *phoneFXS) SetFeed(f line.Feed) error {
	if f < line.FeedOpen || f > line.FeedOHTReverse {
		p.bad = append(p.bad, "bad feed")
	}
	p.ringing, p.feed = false, f
	return nil
}

// FuzzFXS drives an FXS channel with arbitrary hook events, digits, switch
// requests and time, and checks the invariants: the state is one of the
// states; a phone is never rung off hook; after the phone hangs up the
// channel is idle, not ringing, on a forward active feed; Answered comes
// only for a ringing call; numbers are made of dialled digits only.
func FuzzFXS(f *testing.F) {
	f.Add([]byte{0, 3, 3, 3, 1})
	f.Add([]byte{5, 9, 9, 0, 3, 6, 2, 2, 4, 3, 3, 3, 6, 2, 1, 1})
	f.Add([]byte{5, 8, 8, 8, 8, 0, 6, 7, 2, 10, 2, 11, 1})
	f.Add([]byte{0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 1, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		ops = ops[:min(len(ops), 300)] // a call's worth; longer adds time, not states
		clk := newClock()
		p := &phoneFXS{recFXS: recFXS{clk: clk, t0: clk.Now()}}
		rec := &fxsRec{}
		ch, err := line.NewFXS(line.FXSConfig{FirstDigitTimeout: 3 * time.Second, InterDigitTimeout: time.Second}, p, clk, &plan{}, rec)
		if err != nil {
			t.Fatal(err)
		}
		tick := func() { clk.Advance(line.FrameTime); ch.Tick() }
		for _, op := range ops {
			wasAlerting := ch.State() == line.FXSAlerting
			switch op % 13 {
			case 0:
				if !p.offHook {
					p.offHook = true
					p.q = append(p.q, line.FXSEvent{Kind: line.OffHook})
				}
			case 1:
				if p.offHook {
					p.offHook = false
					p.q = append(p.q, line.FXSEvent{Kind: line.OnHook})
				}
			case 2:
				if p.offHook {
					p.q = append(p.q, line.FXSEvent{Kind: line.Flash})
				}
			case 3:
				if p.offHook {
					p.q = append(p.q, line.FXSEvent{Kind: line.PulseDigit, Digit: '0' + (op/13)%10})
				}
			case 4:
				clk.Advance(time.Duration(op) * 50 * time.Millisecond)
			case 5:
				ch.Ring(line.Caller{Number: "123"})
			case 6:
				ch.Connect(&loopVoice{})
			case 7:
				ch.Progress("busy")
			case 8:
				ch.Disconnect("")
			case 9:
				for i := 0; i < 30; i++ {
					tick()
				}
			case 10:
				ch.CallWaiting(op&0x80 != 0)
			case 11:
				ch.StopRinging()
			case 12:
				p.q = append(p.q, line.FXSEvent{Kind: line.LineFault})
				p.offHook = false // the line is dead: as good as on hook
			}
			tick()
			s := ch.State()
			if s < line.FXSIdle || s > line.FXSTone {
				t.Fatalf("state %d", s)
			}
			if onHookState := s == line.FXSIdle || s == line.FXSAlerting; onHookState == p.offHook {
				t.Fatalf("state %s with the phone off-hook %t", s, p.offHook)
			}
			if s == line.FXSIdle && (p.ringing || p.feed != 0 && p.feed != line.FeedActive) {
				t.Fatalf("idle with ringing %t, feed %s", p.ringing, p.feed)
			}
			for _, l := range rec.lines {
				if l == "answered" && !wasAlerting {
					t.Fatalf("answered from %v", rec.lines)
				}
				if n, ok := strings.CutPrefix(l, "dialled "); ok && (n == "" || strings.Trim(n, "0123456789") != "") {
					t.Fatalf("dialled %q", n)
				}
			}
			rec.lines = rec.lines[:0]
			if len(p.bad) > 0 {
				t.Fatal(p.bad)
			}
		}
	})
}

func tonesCN(t *testing.T) []*tone.Generator {
	t.Helper()
	plan, err := tone.PlanFor("CN")
	if err != nil {
		t.Fatal(err)
	}
	var g []*tone.Generator
	for _, n := range []string{tone.Dial, tone.Busy, tone.Congestion, tone.Ringback} {
		tn, err := plan.Tone(n)
		if err != nil {
			t.Fatal(err)
		}
		g = append(g, tone.NewGenerator(tn))
	}
	return g
}

// lineFXO is an FXO port that tracks the hook for fuzzing.
type lineFXO struct {
	recFXO
	seized bool
}

func (p *lineFXO) Seize() error   { p.seized = true; return nil }
func (p *lineFXO) Release() error { p.seized = false; return nil }

// FuzzFXO drives an FXO channel with arbitrary line events, switch requests,
// tones and time, and checks that the line is seized exactly while the
// channel has a call off hook, that every HungUp leaves it idle and on hook,
// and that Inbound comes once per ringing.
func FuzzFXO(f *testing.F) {
	f.Add([]byte{0, 0, 5, 3, 8})
	f.Add([]byte{6, 10, 10, 10, 10, 2, 9})
	f.Add([]byte{6, 11, 10, 10, 10, 3, 1, 0, 0, 7, 4})
	f.Fuzz(func(t *testing.T, ops []byte) {
		ops = ops[:min(len(ops), 300)] // a call's worth; longer adds time, not states
		clk := newClock()
		p := &lineFXO{recFXO: recFXO{volts: 48}}
		rec := &fxoRec{}
		ch, err := line.NewFXO(line.FXOConfig{DialToneTimeout: 2 * time.Second, AnswerSupervision: len(ops)%2 == 0}, p, clk, rec)
		if err != nil {
			t.Fatal(err)
		}
		tones := tonesCN(t)
		offers := 0
		for _, op := range ops {
			switch op % 12 {
			case 0:
				p.q = append(p.q, line.FXOEvent{Kind: line.RingStart})
			case 1:
				p.q = append(p.q, line.FXOEvent{Kind: line.RingingStopped})
			case 2:
				p.q = append(p.q, line.FXOEvent{Kind: line.PolarityReversal})
			case 3:
				p.q = append(p.q, line.FXOEvent{Kind: line.LoopDrop})
			case 4:
				p.q = append(p.q, line.FXOEvent{Kind: line.BatteryLost})
			case 5:
				ch.Answer()
			case 6:
				ch.Dial("123")
			case 7:
				ch.Hangup()
			case 8:
				ch.Connect(&loopVoice{})
			case 9:
				ch.SendDigits("9")
			case 10:
				p.gen = tones[int(op/12)%len(tones)]
				for i := 0; i < 50; i++ {
					clk.Advance(line.FrameTime)
					ch.Tick()
				}
			case 11:
				p.gen = nil
			}
			clk.Advance(line.FrameTime)
			ch.Tick()
			s := ch.State()
			if s < line.FXOIdle || s > line.FXOConnected {
				t.Fatalf("state %d", s)
			}
			off := s != line.FXOIdle && s != line.FXORinging
			if off != p.seized {
				t.Fatalf("state %s, line seized %t", s, p.seized)
			}
			for _, l := range rec.lines {
				if strings.HasPrefix(l, "hung-up") && (s != line.FXOIdle || p.seized) {
					t.Fatalf("%s left state %s", l, s)
				}
				if strings.HasPrefix(l, "inbound") {
					offers++
				}
			}
			if s != line.FXORinging {
				offers = 0
			}
			if offers > 1 {
				t.Fatalf("the same ringing offered twice: %v", rec.lines)
			}
			rec.lines = rec.lines[:0]
		}
	})
}
