package line_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"callbox/dsp/callerid"
	"callbox/dsp/dtmf"
	"callbox/dsp/tone"
	"callbox/telephony/line"
)

// recFXO is a scripted FXO port for the state machine tables.
type recFXO struct {
	q        []line.FXOEvent
	gen      *tone.Generator // the exchange's tone, when set
	in       []int16         // queued line audio (after which gen plays)
	out      []int16
	cmds     []string
	seizeErr error
	volts    float64
}

func (p *recFXO) Seize() error {
	if p.seizeErr != nil {
		return p.seizeErr
	}
	p.cmds = append(p.cmds, "seize")
	return nil
}
func (p *recFXO) Release() error                { p.cmds = append(p.cmds, "release"); return nil }
func (p *recFXO) Flash() error                  { p.cmds = append(p.cmds, "flash"); return nil }
func (p *recFXO) LineVoltage() (float64, error) { return p.volts, nil }
func (p *recFXO) NextEvent() (line.FXOEvent, bool) {
	if len(p.q) == 0 {
		return line.FXOEvent{}, false
	}
	e := p.q[0]
	p.q = p.q[1:]
	return e, true
}
func (p *recFXO) ReadFrame(f *line.Frame) {
	n := copy(f[:], p.in)
	p.in = p.in[n:]
	if p.gen != nil {
		p.gen.Read(f[n:])
	} else {
		clear(f[n:])
	}
}
func (p *recFXO) WriteFrame(f *line.Frame) { p.out = append(p.out, f[:]...) }

func (p *recFXO) takeCmds() string {
	s := strings.Join(p.cmds, "; ")
	p.cmds = p.cmds[:0]
	return s
}

// errAny in a table wants some error.
var errAny = errors.New("any error")

// oact is one step of an FXO table, as act is for FXS.
type oact struct {
	ev    line.FXOEventKind
	count int
	tone  string // the exchange starts playing this tone ("-" stops it)
	audio []int16
	do    string
	wait  time.Duration
	state line.FXOState
	log   string
	cmds  string
	err   error
}

func runFXO(t *testing.T, cfg line.FXOConfig, acts []oact) (*line.FXO, *recFXO) {
	t.Helper()
	clk := newClock()
	p := &recFXO{volts: 48}
	rec := &fxoRec{}
	ch, err := line.NewFXO(cfg, p, clk, rec)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := tone.PlanFor("CN")
	if err != nil {
		t.Fatal(err)
	}
	tick := func() { clk.Advance(line.FrameTime); ch.Tick() }
	for i, a := range acts {
		switch a.tone {
		case "":
		case "-":
			p.gen = nil
		default:
			tn, err := plan.Tone(a.tone)
			if err != nil {
				t.Fatal(err)
			}
			p.gen = tone.NewGenerator(tn)
		}
		if a.audio != nil {
			p.in = append(p.in, a.audio...)
			for len(p.in) > 0 {
				tick()
			}
		}
		if a.ev != 0 {
			p.q = append(p.q, line.FXOEvent{Kind: a.ev, Count: a.count})
			tick()
			if a.ev == line.RingStart { // a ring counts once it has lasted MinRing
				for range 40 {
					tick()
				}
			}
		}
		if a.do != "" {
			var err error
			f := strings.Fields(a.do)
			switch f[0] {
			case "answer":
				err = ch.Answer()
			case "dial":
				err = ch.Dial(f[1])
			case "hangup":
				err = ch.Hangup()
			case "connect":
				err = ch.Connect(&loopVoice{})
			case "digits":
				err = ch.SendDigits(f[1])
			case "flash":
				err = ch.Flash()
			default:
				t.Fatalf("step %d: unknown request %q", i, a.do)
			}
			if a.err == errAny && err == nil || a.err != errAny && !errors.Is(err, a.err) {
				t.Fatalf("step %d: %s: error %v, want %v", i, a.do, err, a.err)
			}
		}
		for end := clk.Now().Add(a.wait); clk.Now().Before(end); {
			tick()
		}
		if a.state != 0 && ch.State() != a.state {
			t.Fatalf("step %d: state %s, want %s", i, ch.State(), a.state)
		}
		if got := rec.take(); a.log != "*" && got != a.log {
			t.Fatalf("step %d: switch got %q, want %q", i, got, a.log)
		}
		if got := p.takeCmds(); a.cmds != "*" && got != a.cmds {
			t.Fatalf("step %d: port got %q, want %q", i, got, a.cmds)
		}
	}
	return ch, p
}

func fskCID(t *testing.T, m callerid.Message) []int16 {
	t.Helper()
	x, err := callerid.AppendFSK(nil, m, callerid.BellcoreFSK)
	if err != nil {
		t.Fatal(err)
	}
	return append(x, make([]int16, 800)...)
}

func TestFXOStateMachine(t *testing.T) {
	cid := fskCID(t, callerid.Message{Format: callerid.MDMF, Time: "11211230", Number: "02155550123", Name: "WANG WU"})
	dtmfCID, err := callerid.AppendDTMF(nil, callerid.Message{Number: "02155550123"}, callerid.DefaultDTMF)
	if err != nil {
		t.Fatal(err)
	}
	dialled := []oact{
		{do: "dial 123", state: line.FXOWaitDialTone, cmds: "seize"},
		{tone: tone.Dial, wait: 1500 * time.Millisecond, state: line.FXODialling},
		{tone: "-", wait: time.Second, state: line.FXOConnected, log: "answered"},
	}
	cases := []struct {
		name string
		cfg  line.FXOConfig
		acts []oact
	}{
		{"inbound on ring 2 with bellcore caller id", line.FXOConfig{}, []oact{
			{ev: line.RingStart, count: 1, state: line.FXORinging},
			{ev: line.RingEnd},
			{audio: cid, state: line.FXORinging},
			{ev: line.RingStart, count: 2, log: `inbound "02155550123" "WANG WU" ring 2`},
			{do: "answer", state: line.FXOConnected, cmds: "seize"},
			{do: "hangup", state: line.FXOIdle, cmds: "release"},
		}},
		{"dtmf caller id before ring 1", line.FXOConfig{AnswerAfterRings: 1}, []oact{
			{audio: dtmfCID, state: line.FXOIdle},
			{ev: line.RingStart, count: 1, log: `inbound "02155550123" "" ring 1`},
		}},
		{"stale caller id is not used", line.FXOConfig{AnswerAfterRings: 1}, []oact{
			{audio: dtmfCID, wait: 10 * time.Second},
			{ev: line.RingStart, count: 1, log: `inbound "" "" ring 1`},
		}},
		{"caller gives up before the offer", line.FXOConfig{AnswerAfterRings: 3}, []oact{
			{ev: line.RingStart, count: 1}, {ev: line.RingStart, count: 2},
			{ev: line.RingingStopped, state: line.FXOIdle},
		}},
		{"caller gives up after the offer", line.FXOConfig{}, []oact{
			{ev: line.RingStart}, {ev: line.RingStart, log: `inbound "" "" ring 2`},
			{ev: line.RingingStopped, state: line.FXOIdle, log: "hung-up ringing-stopped"},
		}},
		{"switch lets it ring", line.FXOConfig{}, []oact{
			{ev: line.RingStart}, {ev: line.RingStart, log: `inbound "" "" ring 2`},
			{do: "hangup", state: line.FXORinging},
			{ev: line.RingStart, count: 3},
			{ev: line.RingingStopped, state: line.FXOIdle},
		}},
		{"battery lost while offered", line.FXOConfig{AnswerAfterRings: 1}, []oact{
			{ev: line.RingStart, log: `inbound "" "" ring 1`},
			{ev: line.BatteryLost, state: line.FXOIdle, log: "hung-up battery-lost"},
		}},
		{"answer fails", line.FXOConfig{}, []oact{
			{do: "answer", err: line.ErrState},
			{ev: line.RingStart, state: line.FXORinging},
		}},
		{"outbound without answer supervision", line.FXOConfig{}, append(dialled[:3:3],
			oact{do: "connect"},
			oact{do: "digits 1#", wait: 500 * time.Millisecond},
			oact{do: "flash", cmds: "flash"},
			oact{ev: line.LoopDrop, state: line.FXOIdle, log: "hung-up loop-drop", cmds: "release"},
		)},
		{"outbound busy tone", line.FXOConfig{}, append(dialled[:3:3],
			oact{tone: tone.Busy, wait: 1500 * time.Millisecond, state: line.FXOIdle, log: "hung-up busy-tone", cmds: "release"},
		)},
		{"outbound congestion tone", line.FXOConfig{}, append(dialled[:3:3],
			oact{tone: tone.Congestion, wait: 3 * time.Second, state: line.FXOIdle, log: "hung-up congestion-tone", cmds: "release"},
		)},
		{"answer by reversal", line.FXOConfig{AnswerSupervision: true}, []oact{
			{do: "dial 123", cmds: "seize"},
			{tone: tone.Dial, wait: 1500 * time.Millisecond, state: line.FXODialling},
			{tone: "-", wait: time.Second, state: line.FXOProceeding},
			{ev: line.PolarityReversal, state: line.FXOConnected, log: "answered"},
			{ev: line.PolarityReversal, state: line.FXOIdle, log: "hung-up reversal", cmds: "release"},
		}},
		{"busy while proceeding", line.FXOConfig{AnswerSupervision: true}, []oact{
			{do: "dial 123", cmds: "seize"},
			{tone: tone.Dial, wait: 2 * time.Second},
			{tone: tone.Busy, wait: 3 * time.Second, state: line.FXOIdle, log: "hung-up busy-tone", cmds: "release"},
		}},
		{"no dial tone", line.FXOConfig{DialToneTimeout: 3 * time.Second}, []oact{
			{do: "dial 123", cmds: "seize"},
			{tone: tone.Busy, wait: 2900 * time.Millisecond, state: line.FXOWaitDialTone},
			{wait: 100 * time.Millisecond, state: line.FXOIdle, log: "hung-up no-dial-tone", cmds: "release"},
		}},
		{"dial requests refused", line.FXOConfig{}, []oact{
			{do: "dial 12x3", err: errAny},
			{do: "digits 1", err: line.ErrState},
			{do: "flash", err: line.ErrState},
			{do: "connect", err: line.ErrState},
			{ev: line.RingStart},
			{do: "dial 123", err: line.ErrBusy},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runFXO(t, tc.cfg, tc.acts) })
	}
}

// The digits the channel dials and sends in a call are the ones asked for,
// as heard by an independent detector (dsp/dtmf), after dial tone.
func TestFXODialledAudio(t *testing.T) {
	_, p := runFXO(t, line.FXOConfig{}, []oact{
		{do: "dial 0123456789*#", cmds: "seize"},
		{tone: tone.Dial, wait: 5 * time.Second, state: line.FXOConnected, log: "answered"},
		{do: "digits ABCD", wait: time.Second},
	})
	det := dtmf.NewDetector(dtmf.DetectorConfig{})
	var got []byte
	for _, e := range det.Flush(det.Process(p.out, nil)) {
		if e.Kind == dtmf.DigitStart {
			got = append(got, e.Digit)
		}
	}
	if string(got) != "0123456789*#ABCD" {
		t.Fatalf("line carried %q", got)
	}
	// Dialling starts once dial tone is recognised (about 1.4 s for CN).
	first := 0
	for first < len(p.out) && p.out[first] == 0 {
		first++
	}
	if at := time.Duration(first) * time.Second / 8000; at < time.Second || at > 2*time.Second {
		t.Fatalf("dialling began %v after seizing", at)
	}
}

// Dial refuses a dead line and reports a failed seize.
func TestFXODialErrors(t *testing.T) {
	clk := newClock()
	p := &recFXO{volts: 0.5}
	ch, err := line.NewFXO(line.FXOConfig{}, p, clk, &fxoRec{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Dial("1"); !errors.Is(err, line.ErrNoLine) {
		t.Fatalf("dead line: %v", err)
	}
	p.volts = -48
	bad := errors.New("no loop current")
	p.seizeErr = bad
	if err := ch.Dial("1"); !errors.Is(err, bad) || ch.State() != line.FXOIdle {
		t.Fatalf("seize failure: %v, state %s", err, ch.State())
	}
}
