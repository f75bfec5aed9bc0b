package line_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/board/proslic"
	"callbox/board/si3050"
	"callbox/board/sim/proslicsim"
	"callbox/board/sim/si3050sim"
	"callbox/dsp/wav"
	"callbox/dsp/wav/wavtest"
	"callbox/firmware/lineport"
	"callbox/telephony/line"
)

// vclock is a virtual clock: it satisfies line.Clock and the board drivers'
// clock (Now and Sleep), and moves only when told to.
type vclock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *vclock {
	return &vclock{t: time.Date(2026, 11, 21, 12, 30, 0, 0, time.UTC)}
}

func (c *vclock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *vclock) Sleep(d time.Duration) { c.Advance(d) }

func (c *vclock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// log records what a channel told the switch, one line per call.
type log struct{ lines []string }

func (l *log) add(format string, a ...any) { l.lines = append(l.lines, fmt.Sprintf(format, a...)) }

// take returns the lines recorded since the last take, joined by "; ".
func (l *log) take() string {
	s := strings.Join(l.lines, "; ")
	l.lines = l.lines[:0]
	return s
}

// plan is a dial plan in the shape the switch will have: extensions
// 201-204, "9" plus an outside number of 8 or more digits (complete on
// the inter-digit timeout), emergency 110/119/120, and nothing else.
type plan struct {
	seen []string
}

func (p *plan) Match(d string) line.Match {
	p.seen = append(p.seen, d)
	switch {
	case strings.HasPrefix(d, "9"):
		return line.MatchMore
	case len(d) <= 3 && (strings.HasPrefix("201", d) || strings.HasPrefix("202", d) ||
		strings.HasPrefix("203", d) || strings.HasPrefix("204", d) ||
		strings.HasPrefix("110", d) || strings.HasPrefix("119", d) || strings.HasPrefix("120", d)):
		if len(d) == 3 {
			return line.MatchComplete
		}
		return line.MatchMore
	}
	return line.MatchInvalid
}

// fxsRec is the switch side of an FXS channel in tests: it records what the
// channel reports and can react (connect on answer, ...).
type fxsRec struct {
	log
	onAnswer func(ch *line.FXS)
	onDial   func(ch *line.FXS, number string)
	onFeat   func(ch *line.FXS, f line.Feature)
}

func (r *fxsRec) Dialled(ch *line.FXS, number string) {
	r.add("dialled %s", number)
	if r.onDial != nil {
		r.onDial(ch, number)
	}
}

func (r *fxsRec) Answered(ch *line.FXS) {
	r.add("answered")
	if r.onAnswer != nil {
		r.onAnswer(ch)
	}
}

func (r *fxsRec) HungUp(ch *line.FXS) { r.add("hung-up") }

func (r *fxsRec) Feature(ch *line.FXS, f line.Feature) {
	r.add("feature %s", f)
	if r.onFeat != nil {
		r.onFeat(ch, f)
	}
}

type fxoRec struct {
	log
	onInbound func(ch *line.FXO, from line.Caller)
}

func (r *fxoRec) Inbound(ch *line.FXO, from line.Caller) {
	r.add("inbound %q %q ring %d", from.Number, from.Name, ch.Rings())
	if r.onInbound != nil {
		r.onInbound(ch, from)
	}
}

func (r *fxoRec) Answered(ch *line.FXO)                 { r.add("answered") }
func (r *fxoRec) HungUp(ch *line.FXO, cause line.Cause) { r.add("hung-up %s", cause) }

// slic adapts the ProSLIC driver on its emulator to line.FXSPort, as
// firmware/app will: events from Service are queued for NextEvent, the
// cadence goes to SetRing before Ring, feeds map to linefeed and polarity.
type slic struct {
	t     testing.TB
	clk   *vclock
	chip  *proslicsim.Chip
	phone *proslicsim.Phone
	port  *proslic.Port
	evs   []proslic.Event
	q     []line.FXSEvent
	sent  []int16 // everything written to the line, when recording
	rec   bool
}

func newSlic(t testing.TB, clk *vclock) *slic {
	t.Helper()
	chip := proslicsim.New(proslicsim.Config{Name: "fxs1", Clock: clk})
	p, err := proslic.New(proslic.Config{Name: "fxs1", Conn: chip, Reset: chip.Reset(), IRQ: chip.IRQ(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.BringUp(); err != nil {
		t.Fatal(err)
	}
	return &slic{t: t, clk: clk, chip: chip, phone: chip.Phone(), port: p, evs: make([]proslic.Event, 0, 8), q: make([]line.FXSEvent, 0, 8)}
}

func (s *slic) service() {
	s.evs = s.port.Service(s.evs[:0])
	for _, e := range s.evs {
		if ev, ok := lineport.FXSEvent(e); ok {
			s.q = append(s.q, ev)
		}
	}
}

func (s *slic) Ring(cad []time.Duration) error {
	return lineport.Ring(s.port, proslic.Ring{Frequency: 25, Amplitude: 85}, cad)
}

func (s *slic) StopRing() error { return s.port.StopRing() }

func (s *slic) SetFeed(f line.Feed) error { return lineport.SetFeed(s.port, f) }

func (s *slic) NextEvent() (line.FXSEvent, bool) {
	if len(s.q) == 0 {
		return line.FXSEvent{}, false
	}
	e := s.q[0]
	s.q = append(s.q[:0], s.q[1:]...)
	return e, true
}

func (s *slic) ReadFrame(f *line.Frame) { s.chip.PCMRead(f[:]) }

func (s *slic) WriteFrame(f *line.Frame) {
	if s.rec {
		s.sent = append(s.sent, f[:]...)
	}
	s.chip.PCMWrite(f[:])
}

// daa adapts the Si3050 driver on its emulator to line.FXOPort.
type daa struct {
	t    testing.TB
	clk  *vclock
	chip *si3050sim.Chip
	co   *si3050sim.CO
	port *si3050.Port
	evs  []si3050.Event
	q    []line.FXOEvent
}

func newDAA(t testing.TB, clk *vclock, country string) *daa {
	t.Helper()
	chip, err := si3050sim.New(si3050sim.Config{Name: "fxo1", Clock: clk, Country: country})
	if err != nil {
		t.Fatal(err)
	}
	cty, err := si3050.CountryFor(country)
	if err != nil {
		t.Fatal(err)
	}
	p, err := si3050.New(si3050.Config{Name: "fxo1", Conn: chip, Reset: chip.ResetPin(), IRQ: chip.IRQ(), Clock: clk, Country: cty})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	return &daa{t: t, clk: clk, chip: chip, co: chip.CO(), port: p, evs: make([]si3050.Event, 0, 8), q: make([]line.FXOEvent, 0, 8)}
}

func (d *daa) poll() {
	var err error
	d.evs, err = d.port.Poll(d.evs[:0])
	if err != nil {
		d.t.Fatal(err)
	}
	for _, e := range d.evs {
		if ev, ok := lineport.FXOEvent(e); ok {
			d.q = append(d.q, ev)
		}
	}
}

func (d *daa) Seize() error                  { return d.port.Seize() }
func (d *daa) Release() error                { return d.port.Release() }
func (d *daa) Flash() error                  { return d.port.Flash(0) }
func (d *daa) LineVoltage() (float64, error) { return d.port.LineVoltage() }
func (d *daa) ReadFrame(f *line.Frame)       { d.chip.PCMRead(f[:]) }
func (d *daa) WriteFrame(f *line.Frame)      { d.chip.PCMWrite(f[:]) }
func (d *daa) NextEvent() (line.FXOEvent, bool) {
	if len(d.q) == 0 {
		return line.FXOEvent{}, false
	}
	e := d.q[0]
	d.q = append(d.q[:0], d.q[1:]...)
	return e, true
}

// loopVoice is a Voice that records what the line sent and plays a fixed
// frame source back (silence when nil).
type loopVoice struct {
	up   []int16
	down func(f *line.Frame)
}

func (v *loopVoice) Exchange(up, down *line.Frame) {
	v.up = append(v.up, up[:]...)
	if v.down != nil {
		v.down(down)
	} else {
		clear(down[:])
	}
}

// speech returns n samples of recorded speech: Asterisk's English prompts
// (Debian package asterisk-core-sounds-en-wav), one after another.
func speech(t testing.TB, n int) []int16 {
	t.Helper()
	var out []int16
	for _, name := range []string{"agent-loginok", "conf-onlyperson", "vm-intro", "demo-congrats", "queue-thankyou", "tt-monkeys"} {
		b, err := os.ReadFile(wavtest.Prompt(t, name))
		if err != nil {
			t.Fatalf("speech for the test: %v", err)
		}
		x, err := wav.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, x...)
		if len(out) >= n {
			return out[:n]
		}
	}
	t.Fatalf("only %d samples of speech, want %d", len(out), n)
	return nil
}
