package line_test

import (
	"testing"
	"time"

	"callbox/dsp/tone"
	"callbox/telephony/line"
)

// side is one end of a two-party bridge: what it hears goes to the other.
type side struct {
	in  *line.Frame // this side's latest audio, for the other to hear
	out *line.Frame // the other side's latest audio
}

func (s side) Exchange(up, down *line.Frame) {
	*down = *s.out
	*s.in = *up
}

// The analog call, with a minimal switch in the test: phone 201
// goes off hook, hears dial tone, dials 202; phone 202 rings with caller
// ID 201 while 201 hears ringback; 202 answers, DTMF from 202 is heard at
// 201, and 202's hang-up gives 201 busy tone.
func TestSimTwoPhones(t *testing.T) {
	clk := newClock()
	a, b := newSlic(t, clk), newSlic(t, clk)
	recA, recB := &fxsRec{}, &fxsRec{}
	chA, err := line.NewFXS(line.FXSConfig{Name: "fxs1"}, a, clk, &plan{}, recA)
	if err != nil {
		t.Fatal(err)
	}
	chB, err := line.NewFXS(line.FXSConfig{Name: "fxs2"}, b, clk, &plan{}, recB)
	if err != nil {
		t.Fatal(err)
	}
	var ab, ba line.Frame
	recA.onDial = func(ch *line.FXS, number string) {
		if number != "202" {
			t.Errorf("201 dialled %q", number)
			return
		}
		if err := chB.Ring(line.Caller{Number: "201", Name: "EXT 201"}); err != nil {
			t.Error(err)
		}
		if err := ch.Progress(tone.Ringback); err != nil {
			t.Error(err)
		}
	}
	recB.onAnswer = func(ch *line.FXS) {
		if err := chA.Connect(side{in: &ab, out: &ba}); err != nil {
			t.Error(err)
		}
		if err := ch.Connect(side{in: &ba, out: &ab}); err != nil {
			t.Error(err)
		}
	}
	run := func(d time.Duration) {
		for end := clk.Now().Add(d); clk.Now().Before(end); {
			clk.Advance(line.FrameTime)
			a.service()
			b.service()
			chA.Tick()
			chB.Tick()
		}
	}
	a.phone.OffHook()
	run(1500 * time.Millisecond)
	if tones, _ := a.phone.HeardTones("CN"); len(tones) != 1 || tones[0] != tone.Dial {
		t.Fatalf("201 heard %v, want dial tone", tones)
	}
	a.phone.ClearHeard()
	a.phone.Dial("202")
	run(8 * time.Second)
	if got := recA.take(); got != "dialled 202" {
		t.Fatalf("switch got %q from 201", got)
	}
	if cid := b.phone.CallerID(); len(cid) != 1 || cid[0].Number != "201" || cid[0].Name != "EXT 201" {
		t.Fatalf("202 read caller ID %+v", cid)
	}
	if n := len(b.phone.Rings()); n != 2 {
		t.Fatalf("202 rang %d times in 7 s, want 2", n)
	}
	if tones, _ := a.phone.HeardTones("CN"); len(tones) != 1 || tones[0] != tone.Ringback {
		t.Fatalf("201 heard %v, want ringback", tones)
	}
	b.phone.OffHook()
	run(200 * time.Millisecond)
	if got := recB.take(); got != "answered" {
		t.Fatalf("switch got %q from 202", got)
	}
	a.phone.ClearHeard()
	b.phone.Dial("4#")
	run(time.Second)
	if got := a.phone.HeardDigits(); got != "4#" {
		t.Fatalf("201 heard digits %q from 202, want 4#", got)
	}
	b.phone.OnHook()
	run(time.Second)
	if got := recB.take(); got != "hung-up" {
		t.Fatalf("switch got %q from 202", got)
	}
	if err := chA.Disconnect(""); err != nil {
		t.Fatal(err)
	}
	a.phone.ClearHeard()
	run(2 * time.Second)
	if tones, _ := a.phone.HeardTones("CN"); len(tones) != 1 || tones[0] != tone.Busy {
		t.Fatalf("201 heard %v after 202 hung up, want busy", tones)
	}
}
