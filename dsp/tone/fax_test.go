package tone

import (
	"fmt"
	"math"
	"testing"
)

// soxANS makes an answer tone of n segments of 450 ms at hz with sox; with
// reversals each segment starts 180 degrees away from where the previous
// one's phase would have continued (sox's phase argument is in percent).
func soxANS(t testing.TB, hz float64, n int, reversals bool, dBm0 float64) []int16 {
	t.Helper()
	var out []int16
	ph := 0.0 // turns
	for k := 0; k < n; k++ {
		out = append(out, soxSynth(t, "0.45", "sine", fmt.Sprint(hz), "0", fmt.Sprintf("%.4f", 100*ph), "vol", volFor(dBm0))...)
		ph = math.Mod(ph+hz*0.45, 1)
		if reversals {
			ph = math.Mod(ph+0.5, 1)
		}
	}
	return out
}

func runFax(x []int16, chunk int) (evs []FaxEvent, d *FaxDetector) {
	d = NewFaxDetector(FaxConfig{})
	for len(x) > 0 {
		k := min(chunk, len(x))
		d.Process(x[:k])
		x = x[k:]
		for {
			e, ok := d.Poll()
			if !ok {
				break
			}
			evs = append(evs, e)
		}
	}
	return evs, d
}

func kinds(evs []FaxEvent) string {
	s := ""
	for _, e := range evs {
		s += e.Kind.String() + " "
	}
	return s
}

func TestFaxDetectorSox(t *testing.T) {
	lead := soxSilence(t, 300)
	cases := []struct {
		name    string
		sig     []int16
		snr     float64 // 0: no noise
		level   float64
		want    string
		minRevs int
	}{
		{"ans -12", concat(lead, soxANS(t, 2100, 7, false, -12)), 0, -12, "ced ", 0},
		{"/ans -12", concat(lead, soxANS(t, 2100, 7, true, -12)), 0, -12, "ced anspr ", 5},
		{"/ans -40 snr20", concat(lead, soxANS(t, 2100, 7, true, -40)), 20, -40, "ced anspr ", 5},
		{"/ans -10 snr20", concat(lead, soxANS(t, 2100, 7, true, -10)), 20, -10, "ced anspr ", 5},
		{"ans 2115 snr20", concat(lead, soxANS(t, 2115, 7, false, -20)), 20, -20, "ced ", 0},
		{"/ans 2085", concat(lead, soxANS(t, 2085, 7, true, -20)), 0, -20, "ced anspr ", 5},
		{"/ans 2118", concat(lead, soxANS(t, 2118, 7, true, -20)), 20, -20, "ced anspr ", 5},
		{"2050 is not ans", concat(lead, soxANS(t, 2050, 7, false, -20)), 0, -20, "", 0},
		{"2160 is not ans", concat(lead, soxANS(t, 2160, 7, true, -20)), 0, -20, "", 0},
		{"short 2100 is not ans", concat(lead, soxSynth(t, "0.3", "sine", "2100", "vol", volFor(-10)), soxSilence(t, 500)), 0, -10, "", 0},
		{"ans -48 too weak", concat(lead, soxANS(t, 2100, 7, false, -48)), 0, -48, "", 0},
		{"cng x2", concat(lead,
			soxSynth(t, "0.5", "sine", "1100", "vol", volFor(-15)), soxSilence(t, 3000),
			soxSynth(t, "0.5", "sine", "1100", "vol", volFor(-15)), soxSilence(t, 3000)), 0, -15, "cng cng ", 0},
		{"cng 1130 snr20", concat(lead,
			soxSynth(t, "0.5", "sine", "1130", "vol", volFor(-35)), soxSilence(t, 3000)), 20, -35, "cng ", 0},
		{"1100 too long is not cng", concat(lead, soxSynth(t, "1.5", "sine", "1100", "vol", volFor(-15)), soxSilence(t, 500)), 0, -15, "", 0},
		{"1200 is not cng", concat(lead, soxSynth(t, "0.5", "sine", "1200", "vol", volFor(-15)), soxSilence(t, 500)), 0, -15, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := c.sig
			if c.snr != 0 {
				x = mix(x, soxNoise(t, len(x), c.level, c.snr))
			}
			evs, d := runFax(x, 160)
			if got := kinds(evs); got != c.want {
				t.Fatalf("events %q (%+v), want %q", got, evs, c.want)
			}
			for i, e := range evs {
				if e.At < e.Start || i == 0 && (e.Start < 2000 || e.Start > 2800) {
					t.Errorf("event %+v: start should be near sample 2400", e)
				}
			}
			if c.minRevs > 0 && (d.Reversals() < c.minRevs || d.Reversals() > 6) {
				t.Errorf("%d reversals, want %d..6", d.Reversals(), c.minRevs)
			}
			if c.minRevs == 0 && d.Reversals() != 0 {
				t.Errorf("%d reversals in a tone without any", d.Reversals())
			}
			if d.PhaseReversalSeen() != (c.minRevs > 0) {
				t.Errorf("PhaseReversalSeen = %v", d.PhaseReversalSeen())
			}
		})
	}
}

// TestFaxBlockSizes checks that chunking does not change the result.
func TestFaxBlockSizes(t *testing.T) {
	x := concat(soxSilence(t, 200), soxANS(t, 2100, 6, true, -20), soxSilence(t, 200),
		soxSynth(t, "0.5", "sine", "1100", "vol", volFor(-20)), soxSilence(t, 1000))
	x = mix(x, soxNoise(t, len(x), -20, 25))
	ref, _ := runFax(x, blockSizes[0])
	if len(ref) != 3 {
		t.Fatalf("events %+v, want anspr ced cng", ref)
	}
	for _, bs := range blockSizes[1:] {
		got, _ := runFax(x, bs)
		if fmt.Sprint(got) != fmt.Sprint(ref) {
			t.Errorf("block %d: %+v, want %+v", bs, got, ref)
		}
	}
}

// TestFaxSpeech: no fax tone from real speech.
func TestFaxSpeech(t *testing.T) {
	total := 0
	for name, s := range asteriskPrompts(t) {
		total += len(s)
		if evs, _ := runFax(s, 160); len(evs) > 0 {
			t.Errorf("%s: %+v", name, evs)
		}
	}
	for _, e := range espeakTexts {
		if evs, _ := runFax(espeakSpeech(t, e.voice, e.text), 160); len(evs) > 0 {
			t.Errorf("espeak %s: %+v", e.voice, evs)
		}
	}
	t.Logf("%.1f minutes of prompts", float64(total)/8000/60)
}

func FuzzFaxDetector(f *testing.F) {
	f.Add([]byte{0, 0, 255, 127, 0, 128}, uint8(7))
	f.Add(make([]byte, 4000), uint8(80))
	f.Fuzz(func(t *testing.T, b []byte, chunk uint8) {
		x := make([]int16, len(b)/2)
		for i := range x {
			x[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
		}
		// Repeat the input so that tone-like fuzz inputs can last long enough.
		for len(x) > 0 && len(x) < 16000 {
			x = append(x, x...)
		}
		evs, d := runFax(x, int(chunk)+1)
		for _, e := range evs {
			if e.Start < 0 || e.At < e.Start || e.At > int64(len(x)) || e.Kind < FaxCED || e.Kind > FaxCNG {
				t.Fatalf("bad event %+v (len %d)", e, len(x))
			}
		}
		if d.Reversals() < 0 || d.Reversals() > len(x)/blockLen {
			t.Fatalf("reversals %d", d.Reversals())
		}
	})
}

func BenchmarkFaxDetector(b *testing.B) {
	x := make([]int16, 8000)
	g := NewGenerator(Tone{Segments: []Segment{{Freqs: []Component{{Hz: 2100, Level: -12}}}}})
	g.Read(x)
	d := NewFaxDetector(FaxConfig{})
	benchSamples(b, len(x), func() {
		for i := 0; i < len(x); i += 160 {
			d.Process(x[i : i+160])
		}
	})
}

// TestFaxGenerated runs without child processes (the -short/ARM path):
// /ANS made by negating every other 450 ms of a steady 2100 Hz tone.
func TestFaxGenerated(t *testing.T) {
	x := make([]int16, 8000*4)
	NewGenerator(Tone{Segments: steady(f1(2100, -20))}).Read(x[2400:27600])
	plain := append([]int16(nil), x...)
	for i := 2400 + 3600; i < 27600; i++ {
		if (i-2400)/3600%2 == 1 {
			x[i] = -x[i]
		}
	}
	evs, d := runFax(x, 80)
	if kinds(evs) != "ced anspr " || d.Reversals() != 6 || !d.PhaseReversalSeen() {
		t.Errorf("/ANS: %+v, %d reversals", evs, d.Reversals())
	}
	if evs, d := runFax(plain, 80); kinds(evs) != "ced " || d.Reversals() != 0 || d.PhaseReversalSeen() {
		t.Errorf("ANS: %+v, %d reversals", evs, d.Reversals())
	}
	d.Reset()
	if d.PhaseReversalSeen() || d.AnswerTone() {
		t.Error("Reset kept state")
	}
}
