package tone

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Learned describes a tone derived from a recording by Learn.
type Learned struct {
	Freqs   []float64 // one or two frequencies, Hz, strongest first
	Cadence []int     // one period of on, off, ... times in ms; nil for a steady tone
	Level   float64   // dBm0 of each frequency while on
}

// Tone returns the learned tone as a plan entry called name.
func (l Learned) Tone(name string) Tone {
	var cs []Component
	for _, f := range l.Freqs {
		cs = append(cs, Component{Hz: f, Level: math.Round(l.Level)})
	}
	t := Tone{Name: name}
	if len(l.Cadence) == 0 {
		t.Segments = steady(cs)
		return t
	}
	for i, ms := range l.Cadence {
		if i%2 == 0 {
			t.Segments = append(t.Segments, on(cs, ms))
		} else {
			t.Segments = append(t.Segments, off(ms))
		}
	}
	return t
}

// ErrNoTone means the recording holds no tone Learn can describe.
var ErrNoTone = errors.New("tone: no tone found")

const (
	learnMinLevel = -45   // dBm0
	learnChunk    = 2000  // samples per spectral chunk (250 ms)
	learnMaxOn    = 12000 // samples of on periods scanned (1.5 s)
	learnLoHz     = 150
	learnHiHz     = 2500
)

// Learn derives the frequencies (one or two) and the cadence of the tone
// in x, 8 kHz audio holding a few cycles of it (a busy tone recorded on an
// odd exchange, say). Times are measured on 10 ms block energies and
// averaged over the cycles; frequencies come from a Hann-windowed
// correlation scan of the on periods, refined to 0.5 Hz.
func Learn(x []int16) (Learned, error) {
	nb := len(x) / blockLen
	if nb < 50 {
		return Learned{}, fmt.Errorf("%w: %d ms is too short to learn from (need 500 ms)", ErrNoTone, len(x)/8)
	}
	en := make([]int64, nb)
	for b := range en {
		var e int64
		for _, v := range x[b*blockLen : (b+1)*blockLen] {
			e += int64(v) * int64(v)
		}
		en[b] = e
	}
	sorted := slices.Clone(en)
	slices.Sort(sorted)
	hi, lo := sorted[nb*9/10], sorted[nb/10]
	a := amplitude(learnMinLevel)
	if float64(hi) < a*a/2*blockLen {
		return Learned{}, fmt.Errorf("%w: nothing louder than %d dBm0", ErrNoTone, learnMinLevel)
	}
	// On/off by energy, threshold halfway in dB between the quiet and loud
	// levels; a level range under 10 dB is a steady tone.
	onb := make([]bool, nb)
	steadyTone := float64(hi) < 10*float64(max(lo, 1))
	thr := math.Sqrt(float64(hi) * float64(max(lo, 1)))
	for b := range onb {
		onb[b] = steadyTone || float64(en[b]) >= thr
	}
	runs := runsOf(onb)

	var l Learned
	// Cadence from the complete runs (the first and last may be cut).
	if !steadyTone {
		inner := runs
		if len(inner) > 2 {
			inner = inner[1 : len(inner)-1]
		}
		if len(inner) > 0 && !inner[0].on {
			inner = inner[1:]
		}
		if len(inner) < 2 {
			return Learned{}, fmt.Errorf("%w: need at least one full on and off period", ErrNoTone)
		}
		l.Cadence = cadenceOf(inner)
	}

	// Spectrum of the on periods, trimmed by 20 ms at each edge.
	var chunks [][]int16
	total := 0
	for _, r := range runs {
		if !r.on || total >= learnMaxOn {
			continue
		}
		s, e := (r.start+2)*blockLen, (r.start+r.n-2)*blockLen
		for ; s+learnChunk/4 <= e && total < learnMaxOn; s += learnChunk {
			c := x[s:min(s+learnChunk, e)]
			chunks = append(chunks, c)
			total += len(c)
		}
	}
	if len(chunks) == 0 {
		return Learned{}, fmt.Errorf("%w: on periods too short", ErrNoTone)
	}
	windows := map[int][]int32{}
	for _, c := range chunks {
		if windows[len(c)] == nil {
			windows[len(c)] = hann(len(c))
		}
	}
	spec := func(hz float64) float64 { return chunkPower(chunks, windows, hz) }
	var freqs []float64
	var pows []float64
	for hz := float64(learnLoHz); hz <= learnHiHz; hz += 5 {
		freqs = append(freqs, hz)
		pows = append(pows, spec(hz))
	}
	med := slices.Clone(pows)
	slices.Sort(med)
	floor := med[len(med)/2]
	i1 := argmax(pows, nil)
	if pows[i1] < 100*floor {
		return Learned{}, fmt.Errorf("%w: no spectral peak 20 dB above the floor", ErrNoTone)
	}
	// The second tone must lie outside the first's main lobe (Hann: two
	// bins of the shortest chunk, generously), be a local maximum and within
	// 15 dB of the first.
	minLen := learnChunk
	for _, c := range chunks {
		minLen = min(minLen, len(c))
	}
	lobe := 2.5 * fs / float64(minLen)
	i2 := argmax(pows, func(i int) bool {
		return math.Abs(freqs[i]-freqs[i1]) > lobe && i > 0 && i < len(pows)-1 &&
			pows[i] >= pows[i-1] && pows[i] >= pows[i+1]
	})
	peaks := []float64{refine(spec, freqs[i1])}
	if i2 >= 0 && pows[i2]*31.6 >= pows[i1] {
		peaks = append(peaks, refine(spec, freqs[i2]))
	}
	l.Freqs = peaks

	// Level: mean on-block energy shared by the components.
	var sum float64
	n := 0
	for b, o := range onb {
		if o {
			sum += float64(en[b])
			n++
		}
	}
	p := sum / float64(n) / blockLen / float64(len(peaks)) // mean square per component
	l.Level = math.Round(10*math.Log10(2*p/(refPeak*refPeak))*10) / 10
	return l, nil
}

type run struct {
	on       bool
	start, n int // blocks
}

// runsOf splits block flags into runs, absorbing glitches under 30 ms into
// their neighbours.
func runsOf(on []bool) []run {
	var rs []run
	for i, o := range on {
		if len(rs) > 0 && rs[len(rs)-1].on == o {
			rs[len(rs)-1].n++
		} else {
			rs = append(rs, run{on: o, start: i, n: 1})
		}
	}
	for changed := true; changed; {
		changed = false
		for i := 1; i+1 < len(rs); i++ {
			if rs[i].n < 3 {
				rs[i-1].n += rs[i].n + rs[i+1].n
				rs = append(rs[:i], rs[i+2:]...)
				changed = true
				break
			}
		}
	}
	return rs
}

// cadenceOf finds the shortest period (in runs: 2, 4 or 6) that the run
// lengths repeat with, and averages each position over the cycles.
func cadenceOf(rs []run) []int {
	ms := func(r run) float64 { return float64(r.n * blockLen * 1000 / fs) }
	period := len(rs) - len(rs)%2
	for _, L := range []int{2, 4, 6} {
		if L > len(rs) {
			break
		}
		ok := true
		for i := 0; i+L < len(rs); i++ {
			a, b := ms(rs[i]), ms(rs[i+L])
			if math.Abs(a-b) > math.Max(30, 0.1*math.Max(a, b)) {
				ok = false
				break
			}
		}
		if ok {
			period = L
			break
		}
	}
	period = max(period, 2)
	out := make([]int, period)
	for k := range period {
		var s float64
		n := 0
		for i := k; i < len(rs); i += period {
			s += ms(rs[i])
			n++
		}
		if n > 0 {
			out[k] = int(math.Round(s/float64(n)/5) * 5)
		}
	}
	return out
}

// hann returns a Q15 Hann window of n samples.
func hann(n int) []int32 {
	w := make([]int32, n)
	for i := range w {
		w[i] = int32(math.Round(32767 * 0.5 * (1 - math.Cos(2*math.Pi*(float64(i)+0.5)/float64(n)))))
	}
	return w
}

// chunkPower sums over the chunks the power of their Hann-windowed
// correlation with hz, in fixed point per sample.
func chunkPower(chunks [][]int16, windows map[int][]int32, hz float64) float64 {
	st := phaseStep(hz)
	var p float64
	for _, c := range chunks {
		w := windows[len(c)]
		var re, im int64
		ph := uint32(0)
		for i, v := range c {
			wx := (int64(v) * int64(w[i])) >> 15
			re += wx * int64(sinQ15(ph+1<<30))
			im += wx * int64(sinQ15(ph))
			ph += st
		}
		fr, fi := float64(re), float64(im)
		p += fr*fr + fi*fi
	}
	return p
}

func argmax(p []float64, ok func(int) bool) int {
	best := -1
	for i, v := range p {
		if (ok == nil || ok(i)) && (best < 0 || v > p[best]) {
			best = i
		}
	}
	return best
}

// refine searches +-5 Hz around hz in 0.5 Hz steps.
func refine(spec func(float64) float64, hz float64) float64 {
	best, bp := hz, spec(hz)
	for f := hz - 5; f <= hz+5; f += 0.5 {
		if p := spec(f); p > bp {
			best, bp = f, p
		}
	}
	return best
}
