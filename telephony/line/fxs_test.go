package line_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"callbox/dsp/callerid"
	"callbox/dsp/dtmf"
	"callbox/dsp/tone"
	"callbox/telephony/line"
)

// recFXS is a scripted FXS port for the state machine tables: it queues the
// hook events a test injects, plays queued audio as the phone's, records
// the channel's commands with their times, and keeps what it was sent.
type recFXS struct {
	clk  *vclock
	t0   time.Time
	q    []line.FXSEvent
	in   []int16
	out  []int16
	cmds []string
	err  error // returned by Ring
}

func (p *recFXS) cmd(format string, a ...any) {
	p.cmds = append(p.cmds, fmt.Sprintf("%v %s", p.clk.Now().Sub(p.t0), fmt.Sprintf(format, a...)))
}

func (p *recFXS) Ring(cad []time.Duration) error {
	if p.err != nil {
		return p.err
	}
	p.cmd("ring %v", cad)
	return nil
}
func (p *recFXS) StopRing() error           { p.cmd("stop-ring"); return nil }
func (p *recFXS) SetFeed(f line.Feed) error { p.cmd("feed %s", f); return nil }
func (p *recFXS) NextEvent() (line.FXSEvent, bool) {
	if len(p.q) == 0 {
		return line.FXSEvent{}, false
	}
	e := p.q[0]
	p.q = p.q[1:]
	return e, true
}
func (p *recFXS) ReadFrame(f *line.Frame) {
	n := copy(f[:], p.in)
	clear(f[n:])
	p.in = p.in[n:]
}
func (p *recFXS) WriteFrame(f *line.Frame) { p.out = append(p.out, f[:]...) }

// takeCmds returns the commands since the last take, without their times.
func (p *recFXS) takeCmds() string {
	var s []string
	for _, c := range p.cmds {
		s = append(s, c[strings.IndexByte(c, ' ')+1:])
	}
	p.cmds = p.cmds[:0]
	return strings.Join(s, "; ")
}

// act is one step of an FXS table: inject an event or audio, let time
// pass, or make a switch request; then check the state, what the switch was
// told and what the port was commanded ("" checks that nothing happened;
// "*" skips the check).
type act struct {
	ev    line.FXSEventKind
	digit byte
	dtmf  string
	do    string
	wait  time.Duration
	state line.FXSState
	log   string
	cmds  string
	err   error // expected from do
}

func runFXS(t *testing.T, cfg line.FXSConfig, acts []act) (*line.FXS, *recFXS) {
	t.Helper()
	clk := newClock()
	p := &recFXS{clk: clk, t0: clk.Now()}
	rec := &fxsRec{}
	ch, err := line.NewFXS(cfg, p, clk, &plan{}, rec)
	if err != nil {
		t.Fatal(err)
	}
	tick := func() { clk.Advance(line.FrameTime); ch.Tick() }
	for i, a := range acts {
		if a.ev != 0 {
			p.q = append(p.q, line.FXSEvent{Kind: a.ev, Digit: a.digit})
			tick()
		}
		if a.dtmf != "" {
			x, err := dtmf.Synthesize(a.dtmf, dtmf.DefaultGeneratorConfig())
			if err != nil {
				t.Fatal(err)
			}
			p.in = append(p.in, x...)
			for len(p.in) > 0 {
				tick()
			}
			tick()
			tick()
		}
		if a.do != "" {
			var err error
			f := strings.Fields(a.do)
			switch f[0] {
			case "ring":
				err = ch.Ring(line.Caller{Number: "13800138000", Name: "LI SI"})
			case "stop-ringing":
				ch.StopRinging()
			case "progress":
				err = ch.Progress(f[1])
			case "connect":
				err = ch.Connect(&loopVoice{})
			case "disconnect":
				err = ch.Disconnect("")
			case "cw":
				err = ch.CallWaiting(f[1] == "on")
			default:
				t.Fatalf("step %d: unknown request %q", i, a.do)
			}
			if !errors.Is(err, a.err) {
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

func TestFXSStateMachine(t *testing.T) {
	const any = "*"
	offHook := act{ev: line.OffHook, state: line.FXSDialTone, cmds: "feed active"}
	connected := []act{offHook, {dtmf: "202", state: line.FXSRouting, log: "dialled 202"},
		{do: "connect", state: line.FXSConnected}}
	cases := []struct {
		name string
		cfg  line.FXSConfig
		acts []act
	}{
		{"first digit timeout", line.FXSConfig{FirstDigitTimeout: 5 * time.Second}, []act{
			offHook,
			{wait: 4900 * time.Millisecond, state: line.FXSDialTone},
			{wait: 100 * time.Millisecond, state: line.FXSTone},
			{ev: line.OnHook, state: line.FXSIdle, log: "hung-up", cmds: "feed active"},
		}},
		{"dtmf digits", line.FXSConfig{}, []act{
			offHook,
			{dtmf: "20", state: line.FXSCollecting},
			{dtmf: "3", state: line.FXSRouting, log: "dialled 203"},
		}},
		{"pulse digits", line.FXSConfig{}, []act{
			offHook,
			{ev: line.PulseDigit, digit: '1', state: line.FXSCollecting},
			{ev: line.PulseDigit, digit: '1'},
			{ev: line.PulseDigit, digit: '0', state: line.FXSRouting, log: "dialled 110"},
		}},
		{"invalid number", line.FXSConfig{}, []act{
			offHook,
			{dtmf: "7", state: line.FXSTone},
			{ev: line.PulseDigit, digit: '2', state: line.FXSTone}, // no more digits taken
			{ev: line.OnHook, state: line.FXSIdle, log: "hung-up", cmds: any},
		}},
		{"inter-digit timeout", line.FXSConfig{InterDigitTimeout: 3 * time.Second}, []act{
			offHook,
			{dtmf: "9123", state: line.FXSCollecting},
			{wait: 2800 * time.Millisecond, state: line.FXSCollecting},
			{wait: 200 * time.Millisecond, state: line.FXSRouting, log: "dialled 9123"},
			{do: "progress busy", state: line.FXSRouting},
			{do: "progress nosuchtone", err: tone.ErrUnknownTone},
		}},
		{"incoming answered", line.FXSConfig{NoCallerID: true}, []act{
			{do: "ring", state: line.FXSAlerting, cmds: "ring [1s 4s]"},
			{do: "ring", err: line.ErrBusy},
			{wait: 10 * time.Second, state: line.FXSAlerting},
			{ev: line.OffHook, state: line.FXSConnected, log: "answered", cmds: "feed active"},
			{do: "connect", state: line.FXSConnected},
			{do: "disconnect", state: line.FXSTone},
			{ev: line.OnHook, state: line.FXSIdle, log: "hung-up", cmds: "feed active"},
		}},
		{"incoming withdrawn", line.FXSConfig{NoCallerID: true}, []act{
			{do: "ring", state: line.FXSAlerting, cmds: "ring [1s 4s]"},
			{do: "stop-ringing", state: line.FXSIdle, cmds: "stop-ring; feed active"},
			{do: "connect", err: line.ErrState},
		}},
		{"line fault while ringing", line.FXSConfig{NoCallerID: true}, []act{
			{do: "ring", cmds: any},
			{ev: line.LineFault, state: line.FXSIdle, log: "hung-up", cmds: "stop-ring; feed active"},
		}},
		{"answer reversal", line.FXSConfig{ReverseOnConnect: true, NoCallerID: true}, []act{
			{do: "ring", cmds: any},
			{ev: line.OffHook, state: line.FXSConnected, log: "answered", cmds: "feed active-reverse"},
			{ev: line.OnHook, state: line.FXSIdle, log: "hung-up", cmds: "feed active"},
		}},
		{"hold and resume by flash", line.FXSConfig{}, append(connected[:3:3],
			act{ev: line.Flash, state: line.FXSDialTone, log: "feature hold"},
			act{dtmf: "2", state: line.FXSCollecting},
			act{ev: line.Flash, state: line.FXSConnected, log: "feature resume"},
			act{ev: line.OnHook, state: line.FXSIdle, log: "hung-up", cmds: any},
		)},
		{"second dial timeout resumes", line.FXSConfig{FirstDigitTimeout: 2 * time.Second}, append(connected[:3:3],
			act{ev: line.Flash, state: line.FXSDialTone, log: "feature hold"},
			act{wait: 2 * time.Second, state: line.FXSConnected, log: "feature resume"},
		)},
		{"consultation busy, back by flash", line.FXSConfig{}, append(connected[:3:3],
			act{ev: line.Flash, log: "feature hold"},
			act{dtmf: "203", state: line.FXSRouting, log: "dialled 203"},
			act{do: "progress busy", state: line.FXSRouting},
			act{ev: line.Flash, state: line.FXSConnected, log: "feature resume"},
		)},
		{"conference and drop", line.FXSConfig{}, append(connected[:3:3],
			act{ev: line.Flash, log: "feature hold"},
			act{dtmf: "203", log: "dialled 203"},
			act{do: "connect", state: line.FXSConnected},
			act{ev: line.Flash, state: line.FXSConnected, log: "feature conference"},
			act{ev: line.Flash, state: line.FXSConnected, log: "feature drop-third"},
			act{ev: line.Flash, state: line.FXSDialTone, log: "feature hold"},
		)},
		{"transfer on hang-up", line.FXSConfig{}, append(connected[:3:3],
			act{ev: line.Flash, log: "feature hold"},
			act{dtmf: "204", log: "dialled 204"},
			act{do: "progress ringback"},
			act{ev: line.OnHook, state: line.FXSIdle, log: "feature transfer", cmds: any},
		)},
		{"hang-up while holding without a consultation", line.FXSConfig{}, append(connected[:3:3],
			act{ev: line.Flash, log: "feature hold"},
			act{ev: line.OnHook, state: line.FXSIdle, log: "hung-up", cmds: any},
		)},
		{"call waiting", line.FXSConfig{}, append(connected[:3:3],
			act{do: "cw on", state: line.FXSConnected},
			act{ev: line.Flash, state: line.FXSConnected, log: "feature answer-waiting"},
			act{do: "connect", state: line.FXSConnected},
		)},
		{"call waiting needs a call", line.FXSConfig{}, []act{
			{do: "cw on", err: line.ErrState},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runFXS(t, tc.cfg, tc.acts) })
	}
}

// The caller ID presentations command the port in the order and at the
// times of their presets (EN 300 659-1, GR-30), and the data goes out
// between the right commands.
func TestFXSCallerIDTiming(t *testing.T) {
	cases := []struct {
		preset *callerid.Preset
		cmds   []string // with times from Ring
		// data is when the caller ID audio starts, alert when the DT-AS does
		data, alert time.Duration
	}{
		{&callerid.Bellcore, []string{"0s ring [1s 4s]"}, 1500 * time.Millisecond, 0},
		{&callerid.ETSIDTAS, []string{"0s feed oht-reverse", "feed oht", "ring [1s 4s]"}, 350 * time.Millisecond, 150 * time.Millisecond},
		{&callerid.ETSIReversal, []string{"0s feed oht-reverse", "feed oht", "ring [1s 4s]"}, 300 * time.Millisecond, 0},
		{&callerid.ETSIRingPulse, []string{"0s ring [250ms 30s]", "250ms stop-ring", "250ms feed oht", "ring [1s 4s]"}, 900 * time.Millisecond, 0},
		{&callerid.DTMFBeforeRing, []string{"0s feed oht-reverse", "feed oht", "ring [1s 4s]"}, 200 * time.Millisecond, 0},
	}
	for _, tc := range cases {
		t.Run(tc.preset.Name, func(t *testing.T) {
			p, got := presentCallerID(t, line.FXSConfig{CallerID: tc.preset})
			wantFirst := tc.data
			if tc.alert != 0 {
				wantFirst = tc.alert
			}
			if d := got - wantFirst; d < -10*time.Millisecond || d > 10*time.Millisecond {
				t.Fatalf("audio starts %v after Ring, want %v", got, wantFirst)
			}
			if len(p.cmds) < len(tc.cmds) {
				t.Fatalf("port got %q, want %q", p.cmds, tc.cmds)
			}
			for i, w := range tc.cmds {
				if w == "" {
					continue
				}
				if !strings.HasSuffix(p.cmds[i], w) || (w[0] >= '0' && w[0] <= '9' && p.cmds[i] != w) {
					t.Fatalf("command %d: %q, want %q (all: %q)", i, p.cmds[i], w, p.cmds)
				}
			}
			last := p.cmds[len(tc.cmds)-1]
			if tc.preset != &callerid.Bellcore {
				// Ringing follows the data after the preset's wait.
				at, err := time.ParseDuration(strings.Fields(last)[0])
				if err != nil {
					t.Fatal(err)
				}
				end := lastNonZero(p.out)
				if gap := at - time.Duration(end)*time.Second/8000; gap < 200*time.Millisecond || gap > 600*time.Millisecond {
					t.Fatalf("ringing %v after the caller ID ended, want 200-500 ms", gap)
				}
			}
		})
	}
}

// presentCallerID rings a channel of cfg with a caller for 4 s of frames
// and returns its port and when the first caller ID audio (alert or data)
// started after Ring (-1 frame if none did).
func presentCallerID(t *testing.T, cfg line.FXSConfig) (*recFXS, time.Duration) {
	t.Helper()
	clk := newClock()
	p := &recFXS{clk: clk, t0: clk.Now()}
	ch, err := line.NewFXS(cfg, p, clk, &plan{}, &fxsRec{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Ring(line.Caller{Number: "13800138000"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 400; i++ {
		clk.Advance(line.FrameTime)
		ch.Tick()
	}
	// The out audio starts at frame 1 (the first tick after Ring).
	first := -1
	for i, s := range p.out {
		if s != 0 {
			first = i
			break
		}
	}
	return p, time.Duration(first+80) * time.Second / 8000
}

func lastNonZero(x []int16) int {
	for i := len(x) - 1; i >= 0; i-- {
		if x[i] != 0 {
			return i + 1
		}
	}
	return 0
}

// A port that refuses to ring fails Ring at once when the first ring is
// the first step, and ends the presentation with HungUp when ringing was
// due after caller ID.
func TestFXSRingRefused(t *testing.T) {
	refused := errors.New("line is off hook")
	for _, tc := range []struct {
		preset *callerid.Preset
		now    bool
	}{{&callerid.Bellcore, true}, {&callerid.ETSIReversal, false}} {
		clk := newClock()
		p := &recFXS{clk: clk, t0: clk.Now(), err: refused}
		rec := &fxsRec{}
		ch, err := line.NewFXS(line.FXSConfig{CallerID: tc.preset}, p, clk, &plan{}, rec)
		if err != nil {
			t.Fatal(err)
		}
		err = ch.Ring(line.Caller{Number: "1"})
		if tc.now != errors.Is(err, refused) {
			t.Fatalf("%s: Ring returned %v", tc.preset.Name, err)
		}
		for i := 0; i < 200; i++ {
			clk.Advance(line.FrameTime)
			ch.Tick()
		}
		want := "hung-up"
		if tc.now {
			want = ""
		}
		if got := rec.take(); got != want || ch.State() != line.FXSIdle || !errors.Is(ch.Err(), refused) {
			t.Fatalf("%s: switch got %q, state %s, Err %v", tc.preset.Name, got, ch.State(), ch.Err())
		}
	}
}
