package tone

import (
	"fmt"
	"strings"
	"testing"

	"callbox/dsp/internal/dsptest"
)

var dsptestInt16s = dsptest.Int16s

func runDetector(p Plan, cfg DetectorConfig, x []int16, chunk int) []Event {
	d := NewDetector(p, cfg)
	var evs []Event
	poll := func() {
		for {
			e, ok := d.Poll()
			if !ok {
				return
			}
			evs = append(evs, e)
		}
	}
	for len(x) > 0 {
		k := min(chunk, len(x))
		d.Process(x[:k])
		x = x[k:]
		poll()
	}
	d.Finish()
	poll()
	return evs
}

func genTone(t testing.TB, tn Tone, ms int) []int16 {
	x := make([]int16, ms*8)
	NewGenerator(tn).Read(x)
	return x
}

func describe(evs []Event) string {
	var b strings.Builder
	for _, e := range evs {
		if e.Kind == ToneStart {
			fmt.Fprintf(&b, "start %s @%d (at %d ms); ", e.Tone, e.Start/8, e.At/8)
		} else {
			fmt.Fprintf(&b, "end %s %d..%d ms; ", e.Tone, e.Start/8, e.End/8)
		}
	}
	return b.String()
}

// soxCadence builds a cadenced tone with sox: each on segment is a sox
// synth of one sine, pairs made as two sox sines summed; off segments are
// silence.
func soxCadence(t testing.TB, freqs []float64, dBm0 float64, cadence []int, cycles int) []int16 {
	t.Helper()
	var on func(ms int) []int16
	vol := volFor(dBm0)
	on = func(ms int) []int16 {
		secs := fmt.Sprintf("%.3f", float64(ms)/1000)
		if len(freqs) == 1 {
			return soxSynth(t, secs, "sine", fmt.Sprint(freqs[0]), "vol", vol)
		}
		// Two sines, each at the level, made separately by sox and summed
		// (sox's own "mix" weights its generators unequally).
		return mix(soxSynth(t, secs, "sine", fmt.Sprint(freqs[0]), "vol", vol),
			soxSynth(t, secs, "sine", fmt.Sprint(freqs[1]), "vol", vol))
	}
	var out []int16
	for range cycles {
		for i, ms := range cadence {
			if i%2 == 0 {
				out = append(out, on(ms)...)
			} else {
				out = append(out, make([]int16, ms*8)...)
			}
		}
	}
	return out
}

// TestDetectorSox: tones made by sox at -10 to -40 dBm0 in white noise at
// 20 dB S/N are named, busy and congestion within two cycles.
func TestDetectorSox(t *testing.T) {
	cases := []struct {
		country, want string
		freqs         []float64
		cadence       []int
		cycles        int
	}{
		{"CN", Busy, []float64{450}, []int{350, 350}, 6},
		{"CN", Congestion, []float64{450}, []int{700, 700}, 4},
		{"CN", Ringback, []float64{450}, []int{1000, 4000}, 2},
		{"CN", Dial, []float64{450}, []int{3000, 0}, 1},
		{"US", Busy, []float64{480, 620}, []int{500, 500}, 4},
		{"US", Congestion, []float64{480, 620}, []int{250, 250}, 6},
		{"US", Dial, []float64{350, 440}, []int{3000, 0}, 1},
		{"US", Ringback, []float64{440, 480}, []int{2000, 4000}, 2},
		{"UK", Busy, []float64{400}, []int{375, 375}, 5},
		{"EU", Busy, []float64{425}, []int{500, 500}, 4},
		{"JP", Busy, []float64{400}, []int{500, 500}, 4},
		{"CN", Busy, []float64{458}, []int{330, 370}, 6}, // off-nominal exchange
	}
	for _, c := range cases {
		for _, lvl := range []float64{-10, -25, -40} {
			t.Run(fmt.Sprintf("%s %s %v %g", c.country, c.want, c.freqs, lvl), func(t *testing.T) {
				p, err := PlanFor(c.country)
				if err != nil {
					t.Fatal(err)
				}
				lead := 400
				x := concat(make([]int16, lead*8), soxCadence(t, c.freqs, lvl, c.cadence, c.cycles), make([]int16, 4000))
				x = mix(x, soxNoise(t, len(x), lvl, 20))
				evs := runDetector(p, DetectorConfig{}, x, 160)
				if len(evs) == 0 || evs[0].Kind != ToneStart || evs[0].Tone != c.want {
					t.Fatalf("got %s, want %s", describe(evs), c.want)
				}
				e := evs[0]
				if d := e.Start/8 - int64(lead); d < -30 || d > 30 {
					t.Errorf("start %d ms, want %d", e.Start/8, lead)
				}
				if c.want == Busy || c.want == Congestion {
					cycle := int64(c.cadence[0] + c.cadence[1])
					if lat := e.At/8 - int64(lead); lat > 2*cycle {
						t.Errorf("named after %d ms, more than two cycles (%d ms)", lat, 2*cycle)
					}
				}
				for _, e := range evs {
					if e.Tone != c.want {
						t.Errorf("also %s", describe(evs))
					}
				}
			})
		}
	}
}

// TestDetectorGenerated: every plan tone from the generator is named as
// itself (JP congestion is busy's cadence, so it is named busy).
func TestDetectorGenerated(t *testing.T) {
	for _, c := range Countries() {
		p, _ := PlanFor(c)
		for _, tn := range p.Tones {
			x := concat(make([]int16, 2000), genTone(t, tn, 12000), make([]int16, 8000))
			evs := runDetector(p, DetectorConfig{}, x, 80)
			want := tn.Name
			if c == "JP" && want == Congestion {
				want = Busy
			}
			if len(evs) == 0 || evs[0].Tone != want || evs[0].Start != 2000 && evs[0].Start != 1920 {
				t.Errorf("%s %s: %s", c, tn.Name, describe(evs))
			}
		}
	}
}

func TestDetectorBlockSizes(t *testing.T) {
	p, _ := PlanFor("US")
	busy, _ := p.Tone(Busy)
	dial, _ := p.Tone(Dial)
	x := concat(genTone(t, dial.WithLevel(-30), 2500), make([]int16, 4000), genTone(t, busy.WithLevel(-30), 4000))
	ref := runDetector(p, DetectorConfig{}, x, 1)
	if len(ref) != 4 {
		t.Fatalf("%s", describe(ref))
	}
	for _, bs := range blockSizes[1:] {
		if got := runDetector(p, DetectorConfig{}, x, bs); fmt.Sprint(got) != fmt.Sprint(ref) {
			t.Errorf("block %d: %s, want %s", bs, describe(got), describe(ref))
		}
	}
}

// TestDetectorTolerances: the configured tolerances decide.
func TestDetectorTolerances(t *testing.T) {
	p, _ := PlanFor("CN")
	busy := func(hz float64, on, off int) []int16 {
		tn := Tone{Segments: cyc(f1(hz, -20), on, off)}
		return genTone(t, tn, 4000)
	}
	cases := []struct {
		x    []int16
		cfg  DetectorConfig
		want string
	}{
		{busy(450, 350, 350), DetectorConfig{}, Busy},
		{busy(462, 350, 350), DetectorConfig{}, Busy},
		{busy(462, 350, 350), DetectorConfig{FreqTol: 8}, ""},
		{busy(450, 420, 420), DetectorConfig{}, Busy},
		{busy(450, 420, 420), DetectorConfig{CadenceTol: 0.05}, ""},
		{busy(500, 350, 350), DetectorConfig{}, ""},
		{busy(450, 490, 490), DetectorConfig{}, ""}, // between busy and congestion
	}
	for i, c := range cases {
		evs := runDetector(p, c.cfg, c.x, 160)
		got := ""
		if len(evs) > 0 {
			got = evs[0].Tone
		}
		if got != c.want {
			t.Errorf("case %d: %s, want %q", i, describe(evs), c.want)
		}
	}
}

// TestDetectorSpeech: no busy or congestion (nor any other tone) from the
// Asterisk prompts and espeak-ng speech, in any plan.
func TestDetectorSpeech(t *testing.T) {
	prompts := asteriskPrompts(t)
	var all []int16
	for _, s := range prompts {
		all = append(all, s...)
		all = append(all, make([]int16, 800)...)
	}
	for _, e := range espeakTexts {
		all = append(all, espeakSpeech(t, e.voice, e.text)...)
	}
	for _, c := range Countries() {
		p, _ := PlanFor(c)
		evs := runDetector(p, DetectorConfig{}, all, 160)
		n := 0
		for _, e := range evs {
			if e.Kind == ToneStart {
				n++
				if e.Tone == Busy || e.Tone == Congestion {
					t.Errorf("%s: false %s at %d ms", c, e.Tone, e.Start/8)
				} else {
					t.Logf("%s: %s at %d ms", c, e.Tone, e.Start/8)
				}
			}
		}
		t.Logf("%s: %d tones in %.1f minutes of speech", c, n, float64(len(all))/8000/60)
	}
}

func FuzzDetector(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4}, uint8(3), "CN")
	f.Add(make([]byte, 3000), uint8(79), "US")
	f.Fuzz(func(t *testing.T, b []byte, chunk uint8, country string) {
		p, err := PlanFor(country)
		if err != nil {
			p, _ = PlanFor("UK")
		}
		x := dsptestInt16s(b)
		for len(x) > 0 && len(x) < 40000 {
			x = append(x, x...)
		}
		evs := runDetector(p, DetectorConfig{}, x, int(chunk)+1)
		open := ""
		for _, e := range evs {
			if e.Start < 0 || e.At < e.Start || e.At > int64(len(x)) {
				t.Fatalf("bad event %+v", e)
			}
			switch e.Kind {
			case ToneStart:
				if open != "" {
					t.Fatalf("%s started while %s sounds", e.Tone, open)
				}
				open = e.Tone
			case ToneEnd:
				if e.Tone != open || e.End < e.Start {
					t.Fatalf("bad end %+v (open %q)", e, open)
				}
				open = ""
			}
		}
		if open != "" {
			t.Fatalf("%s never ended", open)
		}
	})
}

func BenchmarkDetector(b *testing.B) {
	for _, c := range []string{"CN", "US"} {
		b.Run(c, func(b *testing.B) {
			p, _ := PlanFor(c)
			busy, _ := p.Tone(Busy)
			x := genTone(b, busy, 2000)
			d := NewDetector(p, DetectorConfig{})
			benchSamples(b, len(x), func() {
				for i := 0; i < len(x); i += 160 {
					d.Process(x[i : i+160])
					for {
						if _, ok := d.Poll(); !ok {
							break
						}
					}
				}
			})
		})
	}
}

func BenchmarkGenerator(b *testing.B) {
	p, _ := PlanFor("US")
	busy, _ := p.Tone(Busy)
	g := NewGenerator(busy)
	x := make([]int16, 160)
	benchSamples(b, len(x), func() { g.Read(x) })
}

// TestDetectorCurrent: silence, unknown sound, then the tone's name.
func TestDetectorCurrent(t *testing.T) {
	p, _ := PlanFor("CN")
	d := NewDetector(p, DetectorConfig{})
	if got := d.Current(); got != StateSilence {
		t.Errorf("start: %s", got)
	}
	d.Process(make([]int16, 800))
	if got := d.Current(); got != StateSilence {
		t.Errorf("silence: %s", got)
	}
	d.Process(genTone(t, Tone{Segments: steady(f1(1000, -20))}, 500))
	if got := d.Current(); got != StateUnknown {
		t.Errorf("1000 Hz: %s", got)
	}
	busy, _ := p.Tone(Busy)
	d.Process(genTone(t, busy, 1500))
	if got := d.Current(); got != Busy {
		t.Errorf("busy: %s", got)
	}
}

// TestDetectorAmbiguity: EU congestion (250/250) and EU call waiting
// (200/200/200/5000) fit each other for 1.5 cycles at the default 20 %
// tolerance, so congestion waits for its third burst; call waiting never
// shows as congestion. With 10 % the two separate within two cycles.
func TestDetectorAmbiguity(t *testing.T) {
	p, _ := PlanFor("EU")
	cong, _ := p.Tone(Congestion)
	cw, _ := p.Tone(CallWaiting)
	x := genTone(t, cong, 3000)
	for _, c := range []struct {
		tol    float64
		maxLat int64
	}{{0, 1300}, {0.1, 1000}} {
		evs := runDetector(p, DetectorConfig{CadenceTol: c.tol}, x, 160)
		if len(evs) == 0 || evs[0].Tone != Congestion || evs[0].At/8 > c.maxLat {
			t.Errorf("tol %g: %s", c.tol, describe(evs))
		}
	}
	evs := runDetector(p, DetectorConfig{}, genTone(t, cw, 12000), 160)
	if len(evs) == 0 || evs[0].Tone != CallWaiting {
		t.Errorf("call waiting: %s", describe(evs))
	}
}
