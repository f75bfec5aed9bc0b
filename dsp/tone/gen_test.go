package tone

import (
	"bytes"
	"math"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"callbox/dsp/internal/dsptest"
)

// TestGeneratorBlockSizes: any chunking gives the same samples
// (continuous phase, exact segment timing).
func TestGeneratorBlockSizes(t *testing.T) {
	for _, c := range []string{"US", "JP", "UK"} {
		p, _ := PlanFor(c)
		for _, tn := range p.Tones {
			ref := genTone(t, tn, 3000)
			for _, bs := range blockSizes {
				g := NewGenerator(tn)
				got := make([]int16, len(ref))
				for i := 0; i < len(got); i += bs {
					g.Read(got[i:min(i+bs, len(got))])
				}
				if !slicesEqual(got, ref) {
					t.Errorf("%s %s: block %d differs", c, tn.Name, bs)
				}
			}
		}
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestGeneratorCadence checks on/off timing sample-exactly and the repeat
// with a steady tail (US MWI stutter).
func TestGeneratorCadence(t *testing.T) {
	p, _ := PlanFor("US")
	st, _ := p.Tone(Stutter)
	x := genTone(t, st, 3000)
	for i := 0; i < 20; i++ {
		seg := x[i*800 : (i+1)*800]
		var e float64
		for _, v := range seg {
			e += float64(v) * float64(v)
		}
		if on := i%2 == 0; on != (e > 0) {
			t.Fatalf("segment %d: energy %g", i, e)
		}
	}
	var e float64
	for _, v := range x[16000:] {
		e += float64(v) * float64(v)
	}
	if e == 0 {
		t.Fatal("no steady dial tone after the stutter")
	}
	fin := Tone{Segments: cyc(f1(1000, -10), 100, 100), Repeat: 2}
	g := NewGenerator(fin)
	y := make([]int16, 4000)
	g.Read(y)
	peak := func(s []int16) (m int16) {
		for _, v := range s {
			m = max(m, v)
		}
		return m
	}
	if !g.Done() || peak(y[3200:]) != 0 || peak(y[1600:2400]) == 0 || peak(y[2400:3200]) != 0 {
		t.Errorf("finite tone: done %v", g.Done())
	}
}

// TestGeneratorAgainstSox measures the generator's level and frequency with
// sox's stat effect and compares with sox's own synth of the same tone.
func TestGeneratorAgainstSox(t *testing.T) {
	dsptest.NeedTool(t, "sox", "sox")
	for _, c := range []struct {
		hz, level float64
	}{{450, -10}, {1004, 0}, {350, -30}, {2100, -12}} {
		tn := Tone{Segments: steady(f1(c.hz, c.level))}
		ours := soxStat(t, dsptest.Bytes(genTone(t, tn, 2000)))
		ref := soxStat(t, dsptest.Bytes(soxSynth(t, "2", "sine", strconv.FormatFloat(c.hz, 'f', -1, 64), "vol", volFor(c.level))))
		if math.Abs(ours["RMS"]/ref["RMS"]-1) > 0.005 {
			t.Errorf("%g Hz %g dBm0: RMS %g, sox %g", c.hz, c.level, ours["RMS"], ref["RMS"])
		}
		if math.Abs(ours["freq"]-ref["freq"]) > 2 {
			t.Errorf("%g Hz: rough frequency %g, sox %g", c.hz, ours["freq"], ref["freq"])
		}
	}
}

var statRE = regexp.MustCompile(`(?m)^(RMS +amplitude|Rough +frequency): +([-0-9.e]+)`)

func soxStat(t *testing.T, raw []byte) map[string]float64 {
	t.Helper()
	cmd := exec.Command("sox", "-t", "raw", "-r", "8000", "-c", "1", "-e", "signed-integer", "-b", "16", "-L", "-", "-n", "stat")
	cmd.Stdin = bytes.NewReader(raw)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("sox stat: %v: %s", err, errb.String())
	}
	out := map[string]float64{}
	for _, m := range statRE.FindAllStringSubmatch(errb.String(), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		if m[1][0] == 'R' && m[1][1] == 'M' {
			out["RMS"] = v
		} else {
			out["freq"] = v
		}
	}
	if len(out) != 2 {
		t.Fatalf("sox stat output: %s", errb.String())
	}
	return out
}

func TestPlans(t *testing.T) {
	if got := Countries(); len(got) < 5 {
		t.Fatalf("countries %v", got)
	}
	for _, c := range Countries() {
		p, err := PlanFor(c)
		if err != nil || p.Country != c {
			t.Fatalf("%s: %v", c, err)
		}
		for _, n := range []string{Dial, Ringback, Busy, Congestion, CallWaiting, SIT, Stutter} {
			tn, err := p.Tone(n)
			if err != nil {
				t.Errorf("%s: %v", c, err)
				continue
			}
			for i, s := range tn.Segments {
				if s.MS < 0 || s.MS == 0 && i != len(tn.Segments)-1 || len(s.Freqs) > maxComponents {
					t.Errorf("%s %s: bad segment %d %+v", c, n, i, s)
				}
				for _, f := range s.Freqs {
					if f.Hz < 100 || f.Hz > 3000 || f.Level > 0 || f.Level < -40 {
						t.Errorf("%s %s: bad component %+v", c, n, f)
					}
				}
			}
		}
	}
	p, _ := PlanFor("")
	if p.Country != "CN" {
		t.Errorf("default plan %s", p.Country)
	}
	if b, _ := p.Tone(Busy); b.String() != "450/350,0/350" {
		t.Errorf("CN busy %q", b.String())
	}
	if p2, _ := PlanFor("etsi"); p2.Country != "EU" {
		t.Errorf("ETSI plan %s", p2.Country)
	}
	us, _ := PlanFor("US")
	if s, _ := us.Tone(Stutter); s.String() != "(350+440/100,0/100)x10,350+440" {
		t.Errorf("US stutter %q", s.String())
	}
}
