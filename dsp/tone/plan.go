package tone

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"callbox/dsp/country"
)

// Component is one frequency of a tone.
type Component struct {
	Hz    float64
	Level float64 // dBm0 of the carrier
	// ModHz and ModDepth (0..1) describe amplitude modulation, as in Japan's
	// 400 Hz tones modulated by 16 Hz; zero for a plain sine.
	ModHz    float64
	ModDepth float64
}

// Segment is one step of a cadence: the frequencies sounding (none for
// silence) for MS milliseconds; MS 0 means forever (a steady tone).
type Segment struct {
	Freqs []Component
	MS    int
}

// On reports whether the segment sounds.
func (s Segment) On() bool { return len(s.Freqs) > 0 }

// Tone is one entry of a plan. Its Segments play in order and repeat;
// with Repeat > 0 they play Repeat times and Then sounds steadily after.
type Tone struct {
	Name     string
	Segments []Segment
	Repeat   int
	Then     []Component
}

// Continuous reports whether the tone is one steady sound (a dial tone).
func (t Tone) Continuous() bool {
	return len(t.Segments) == 1 && t.Segments[0].MS == 0 && t.Segments[0].On()
}

// WithLevel returns a copy of t with every component at level dBm0.
func (t Tone) WithLevel(dBm0 float64) Tone {
	set := func(cs []Component) []Component {
		out := slices.Clone(cs)
		for i := range out {
			out[i].Level = dBm0
		}
		return out
	}
	c := t
	c.Segments = slices.Clone(t.Segments)
	for i := range c.Segments {
		c.Segments[i].Freqs = set(c.Segments[i].Freqs)
	}
	c.Then = set(t.Then)
	return c
}

// String describes the tone as "450/350,0/350" in the notation of Asterisk's
// indications.conf (frequencies joined by +, durations in ms).
func (t Tone) String() string {
	comp := func(cs []Component) string {
		if len(cs) == 0 {
			return "0"
		}
		var p []string
		for _, c := range cs {
			s := fmt.Sprintf("%g", c.Hz)
			if c.ModHz != 0 {
				s += fmt.Sprintf("*%g", c.ModHz)
			}
			p = append(p, s)
		}
		return strings.Join(p, "+")
	}
	var p []string
	for _, s := range t.Segments {
		if s.MS == 0 {
			p = append(p, comp(s.Freqs))
		} else {
			p = append(p, fmt.Sprintf("%s/%d", comp(s.Freqs), s.MS))
		}
	}
	out := strings.Join(p, ",")
	if t.Repeat > 0 {
		out = fmt.Sprintf("(%s)x%d", out, t.Repeat)
		if len(t.Then) > 0 {
			out += "," + comp(t.Then)
		}
	}
	return out
}

// Plan is a country's set of call-progress tones.
type Plan struct {
	Country string // upper-case code: CN, US, UK, EU, JP
	Name    string
	Tones   []Tone
}

// Tone names used by every built-in plan.
const (
	Dial        = "dial"
	Ringback    = "ringback"
	Busy        = "busy"
	Congestion  = "congestion"
	CallWaiting = "callwaiting"
	SIT         = "sit"
	Stutter     = "stutter" // message-waiting stutter (special) dial tone
)

// Errors a caller may branch on; the messages list the valid choices.
var (
	ErrUnknownCountry = errors.New("tone: unknown country")
	ErrUnknownTone    = errors.New("tone: unknown tone")
)

// Tone returns the plan's tone called name.
func (p Plan) Tone(name string) (Tone, error) {
	for _, t := range p.Tones {
		if t.Name == name {
			return t, nil
		}
	}
	return Tone{}, fmt.Errorf("%w %q in plan %s (valid: %s)", ErrUnknownTone, name, p.Country, strings.Join(p.ToneNames(), ", "))
}

// ToneNames lists the plan's tone names in plan order.
func (p Plan) ToneNames() []string {
	var n []string
	for _, t := range p.Tones {
		n = append(n, t.Name)
	}
	return n
}

// With returns a copy of p in which t replaces the tone of the same name
// (or is added): how an installer's learned tone joins a plan.
func (p Plan) With(t Tone) Plan {
	c := p
	c.Tones = slices.Clone(p.Tones)
	for i := range c.Tones {
		if c.Tones[i].Name == t.Name {
			c.Tones[i] = t
			return c
		}
	}
	c.Tones = append(c.Tones, t)
	return c
}

// Countries lists the codes PlanFor accepts, sorted: those of the
// country table (dsp/country).
func Countries() []string { return country.Codes() }

// PlanFor returns the plan of a country code as dsp/country reads it
// (case-insensitive; "" is CN, "ETSI" is EU).
func PlanFor(code string) (Plan, error) {
	c, err := country.Lookup(code)
	if err != nil {
		return Plan{}, fmt.Errorf("%w %q (valid: %s)", ErrUnknownCountry, code, strings.Join(Countries(), ", "))
	}
	p, ok := plans[c.Tones]
	if !ok {
		return Plan{}, fmt.Errorf("%w %q: no tone plan %q", ErrUnknownCountry, code, c.Tones)
	}
	return p, nil
}

// helpers for the tables below
func f1(hz, lvl float64) []Component { return []Component{{Hz: hz, Level: lvl}} }
func f2(a, b, lvl float64) []Component {
	return []Component{{Hz: a, Level: lvl}, {Hz: b, Level: lvl}}
}
func on(c []Component, ms int) Segment { return Segment{Freqs: c, MS: ms} }
func off(ms int) Segment               { return Segment{MS: ms} }
func steady(c []Component) []Segment   { return []Segment{{Freqs: c}} }
func cyc(c []Component, onMS, offMS int) []Segment {
	return []Segment{on(c, onMS), off(offMS)}
}

// sitITU is the special information tone of ITU-T Q.35/E.180:
// 950, 1400, 1800 Hz for 330 ms each, then 1 s of silence.
func sitITU(lvl float64) []Segment {
	return []Segment{on(f1(950, lvl), 330), on(f1(1400, lvl), 330), on(f1(1800, lvl), 330), off(1000)}
}

// plans are the built-in tone plans. Sources: GUIDE.md section 4 for the
// main tones; ITU-T E.180 Supplement 2 (national tones), YD/T 1970/GB 3380
// (CN), Telcordia GR-506 and ANSI T1.401 (US), BT SIN 350 (UK), ETSI TR 101
// 041 / ES 201 970 (EU) and NTT's published interface (JP) for the rest.
var plans = map[string]Plan{
	"CN": {Country: "CN", Name: "China", Tones: []Tone{
		{Name: Dial, Segments: steady(f1(450, -10))},
		{Name: Ringback, Segments: cyc(f1(450, -10), 1000, 4000)},
		{Name: Busy, Segments: cyc(f1(450, -10), 350, 350)},
		{Name: Congestion, Segments: cyc(f1(450, -10), 700, 700)},
		{Name: CallWaiting, Segments: cyc(f1(450, -15), 400, 4000)},
		{Name: SIT, Segments: sitITU(-20)},
		// 特种拨号音: 450 Hz, 400 ms on, 40 ms off.
		{Name: Stutter, Segments: cyc(f1(450, -10), 400, 40)},
	}},
	"US": {Country: "US", Name: "United States (NANP)", Tones: []Tone{
		{Name: Dial, Segments: steady(f2(350, 440, -13))},
		{Name: Ringback, Segments: cyc(f2(440, 480, -19), 2000, 4000)},
		{Name: Busy, Segments: cyc(f2(480, 620, -24), 500, 500)},
		{Name: Congestion, Segments: cyc(f2(480, 620, -24), 250, 250)}, // reorder
		{Name: CallWaiting, Segments: cyc(f1(440, -13), 300, 9700)},
		// SIT, intercept variant: 913.8 Hz 274 ms, 1370.6 Hz 274 ms, 1776.7 Hz 380 ms.
		{Name: SIT, Segments: []Segment{on(f1(913.8, -24), 274), on(f1(1370.6, -24), 274), on(f1(1776.7, -24), 380), off(4000)}},
		// GR-506 message waiting: ten 100/100 ms bursts of dial tone, then dial tone.
		{Name: Stutter, Segments: cyc(f2(350, 440, -13), 100, 100), Repeat: 10, Then: f2(350, 440, -13)},
	}},
	"UK": {Country: "UK", Name: "United Kingdom (BT SIN 350)", Tones: []Tone{
		{Name: Dial, Segments: steady(f2(350, 440, -15))},
		{Name: Ringback, Segments: []Segment{on(f2(400, 450, -19), 400), off(200), on(f2(400, 450, -19), 400), off(2000)}},
		{Name: Busy, Segments: cyc(f1(400, -15), 375, 375)},
		{Name: Congestion, Segments: []Segment{on(f1(400, -15), 400), off(350), on(f1(400, -15), 225), off(525)}},
		{Name: CallWaiting, Segments: cyc(f1(400, -15), 100, 4000)},
		{Name: SIT, Segments: sitITU(-20)},
		// Special dial tone: dial tone and 440 Hz alone alternating every 750 ms.
		{Name: Stutter, Segments: []Segment{on(f2(350, 440, -15), 750), on(f1(440, -15), 750)}},
	}},
	"EU": {Country: "EU", Name: "ETSI / CEPT common tones", Tones: []Tone{
		{Name: Dial, Segments: steady(f1(425, -10))},
		{Name: Ringback, Segments: cyc(f1(425, -10), 1000, 4000)},
		{Name: Busy, Segments: cyc(f1(425, -10), 500, 500)},
		{Name: Congestion, Segments: cyc(f1(425, -10), 250, 250)},
		{Name: CallWaiting, Segments: []Segment{on(f1(425, -15), 200), off(200), on(f1(425, -15), 200), off(5000)}},
		{Name: SIT, Segments: sitITU(-20)},
		// Special dial tone: 425 Hz, 400 ms on, 40 ms off.
		{Name: Stutter, Segments: cyc(f1(425, -10), 400, 40)},
	}},
	"JP": {Country: "JP", Name: "Japan (NTT)", Tones: []Tone{
		{Name: Dial, Segments: steady(f1(400, -13))},
		// Ringback: 400 Hz amplitude-modulated by 16 Hz, 1 s on, 2 s off.
		{Name: Ringback, Segments: cyc([]Component{{Hz: 400, Level: -16, ModHz: 16, ModDepth: 0.8}}, 1000, 2000)},
		{Name: Busy, Segments: cyc(f1(400, -13), 500, 500)},
		// NTT uses the busy cadence for congestion too: a detector names it busy.
		{Name: Congestion, Segments: cyc(f1(400, -13), 500, 500)},
		{Name: CallWaiting, Segments: []Segment{on([]Component{{Hz: 400, Level: -16, ModHz: 16, ModDepth: 0.8}}, 500), off(8000)}},
		{Name: SIT, Segments: sitITU(-20)},
		// Special dial tone: 400 Hz, 125 ms on, 125 ms off.
		{Name: Stutter, Segments: cyc(f1(400, -13), 125, 125)},
	}},
}
