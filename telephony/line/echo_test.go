package line_test

import (
	"math"
	"testing"

	"callbox/telephony/line"
)

// hybridFXO is an FXO port whose line returns an echo of what the box
// sends: the 2-to-4-wire hybrid, delayed d samples and attenuated, and
// nothing else (the far party is silent).
type hybridFXO struct {
	loopFXO
	sent []int16
	read int
	d    int
	gain float64
}

func (p *hybridFXO) WriteFrame(f *line.Frame) { p.sent = append(p.sent, f[:]...) }
func (p *hybridFXO) ReadFrame(f *line.Frame) {
	for i := range f {
		if n := p.read - p.d; n >= 0 && n < len(p.sent) {
			f[i] = int16(p.gain * float64(p.sent[n]))
		} else {
			f[i] = 0
		}
		p.read++
	}
}

// The FXO channel cancels the line's echo of the switch's audio (the
// talker on the box's side would hear himself), on by default.
func TestFXOEchoCancelled(t *testing.T) {
	talk := speech(t, 8*8000)
	for _, noEcho := range []bool{false, true} {
		clk := newClock()
		p := &hybridFXO{d: 80 + 24, gain: 0.4}
		ch, err := line.NewFXO(line.FXOConfig{NoEcho: noEcho}, p, clk, nullFXO{})
		if err != nil {
			t.Fatal(err)
		}
		p.loopFXO.q = append(p.loopFXO.q, line.FXOEvent{Kind: line.RingStart}, line.FXOEvent{Kind: line.RingStart})
		clk.Advance(line.FrameTime)
		ch.Tick()
		if err := ch.Answer(); err != nil {
			t.Fatal(err)
		}
		pos := 0
		v := &loopVoice{down: func(f *line.Frame) {
			n := copy(f[:], talk[pos:])
			clear(f[n:])
			pos += n
		}}
		ch.Connect(v)
		for pos < len(talk) {
			clk.Advance(line.FrameTime)
			ch.Tick()
		}
		if ch.State() != line.FXOConnected {
			t.Fatalf("call ended: %s", ch.State())
		}
		// Residual echo over the last 3 s against the echo itself.
		from := len(v.up) - 3*8000
		var res, echo float64
		for i := from; i < len(v.up); i++ {
			r := float64(v.up[i])
			res += r * r
			e := p.gain * float64(p.sent[i-p.d])
			echo += e * e
		}
		erle := 10 * math.Log10(echo/math.Max(res, 1))
		t.Logf("NoEcho %t: echo return loss enhancement %.1f dB", noEcho, erle)
		if noEcho && erle > 1 {
			t.Fatalf("without the canceller the echo fell by %.1f dB", erle)
		}
		if !noEcho && erle < 20 {
			t.Fatalf("echo cancelled by %.1f dB, want at least 20", erle)
		}
	}
}

// A call bypassed the canceller for a fax; the line's next call cancels
// again (before, the bypass outlived the fax call it was set for).
func TestFXOEchoBypassEndsWithTheCall(t *testing.T) {
	clk := newClock()
	p := &hybridFXO{d: 80, gain: 0.4}
	ch, err := line.NewFXO(line.FXOConfig{}, p, clk, nullFXO{})
	if err != nil {
		t.Fatal(err)
	}
	for call := range 2 {
		p.loopFXO.q = append(p.loopFXO.q, line.FXOEvent{Kind: line.RingStart}, line.FXOEvent{Kind: line.RingStart})
		clk.Advance(line.FrameTime)
		ch.Tick()
		if err := ch.Answer(); err != nil {
			t.Fatal(err)
		}
		if ch.EchoCanceller().Bypassed() {
			t.Fatalf("call %d starts with the echo canceller bypassed", call+1)
		}
		ch.EchoCanceller().SetBypass(true) // a fax call
		if err := ch.Hangup(); err != nil {
			t.Fatal(err)
		}
		clk.Advance(line.FrameTime)
		ch.Tick()
	}
}
