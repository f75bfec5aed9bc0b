package tone

import (
	"math"
	"slices"
)

// DetectorConfig tunes a Detector; zero fields take the defaults.
type DetectorConfig struct {
	// FreqTol is the largest frequency error accepted per component, in Hz
	// (default 15; measurable up to 25).
	FreqTol float64
	// CadenceTol is the relative error accepted on each on or off time
	// (default 0.2), on top of a fixed 40 ms for block timing.
	CadenceTol float64
	// MinLevel is the weakest tone accepted, in dBm0 (default -45).
	MinLevel float64
}

// EventKind tells whether an Event starts or ends a tone.
type EventKind uint8

const (
	// ToneStart: the tone was recognised; Start is when it began.
	ToneStart EventKind = iota + 1
	// ToneEnd: the tone stopped or changed; End is its last sample + 1.
	ToneEnd
)

// Event is a recognised tone, timed in samples since the detector started.
type Event struct {
	Kind  EventKind
	Tone  string // plan tone name: dial, ringback, busy, ...
	Start int64
	End   int64 // ToneEnd only
	At    int64 // sample at which the event was decided
}

// Current state names besides the plan's tone names.
const (
	StateSilence = "silence"
	StateUnknown = "unknown"
)

const (
	detHold     = 3   // blocks a new symbol must last before a segment changes
	detSlackMS  = 40  // fixed cadence slack for block timing, ms
	detHistory  = 16  // completed segments kept
	detEventCap = 16  // events kept between polls
	symOff      = -1  // not a plan tone: silence, noise, speech
	dialMinMS   = 600 // a steady tone is named after at least this long
	purityNum   = 3   // a symbol must hold 3/5 of the window energy
	purityDen   = 5
	// windowScale: for a pure tone of energy E over the 20 ms window, the
	// scaled correlation power |W|^2 is E * windowScale (160 * 1024^2 / 2
	// / 2^8, the correlations being shifted right by 4 bits).
	windowScale = 2 * blockLen * 1024 * 1024 / 2 / 256
)

type patSeg struct {
	sym int // symbol index, symOff for silence
	ms  int // 0: steady
}

type pattern struct {
	name   string
	segs   []patSeg
	steady bool  // continuous tone
	minOn  int64 // samples: steady tones are named after this long
	need   int   // completed segments needed (then the running one) to name a cadenced tone
}

type segment struct {
	sym        int
	start, end int64
}

// Detector names the call-progress tones of a Plan in 8 kHz audio. Feed it
// any block length with Process; read events with Poll. It allocates
// nothing after NewDetector.
type Detector struct {
	cfg     DetectorConfig
	quads   []quad
	advC    []int64 // cos and sin of each quad's block advance, Q14
	advS    []int64
	syms    [][]int // frequency indices of each symbol
	pats    []pattern
	freqLim int32 // FreqTol as a phase step over 20 ms, 1/65536 turns

	n      int
	re, im []int32
	energy int64
	pos    int64
	blocks int64

	prevRe, prevIm []int64    // last block's scaled correlation
	nwRe, nwIm     []int64    // this block's 20 ms window correlation
	wRe, wIm       [][2]int64 // windowed correlation of the last two blocks
	pow            []int64
	prevE          int64
	minEnergy      int64
	cand           [2]int // candidate symbols of the last two windows
	quiet          bool

	cur, pend       int
	curStart        int64
	pendStart       int64
	pendN           int
	hist            [detHistory]segment
	histN           int
	active          int // pattern index, -1 none
	activePos       int
	activeStart     int64
	activeLastOnEnd int64

	ev     [detEventCap]Event
	evHead int
	evN    int
}

// NewDetector returns a detector for the tones of plan p.
func NewDetector(p Plan, cfg DetectorConfig) *Detector {
	if cfg.FreqTol == 0 {
		cfg.FreqTol = 15
	}
	if cfg.CadenceTol == 0 {
		cfg.CadenceTol = 0.2
	}
	if cfg.MinLevel == 0 {
		cfg.MinLevel = -45
	}
	d := &Detector{cfg: cfg}
	a := amplitude(cfg.MinLevel)
	d.minEnergy = int64(a * a * 2 * blockLen / 2)
	d.freqLim = int32(math.Min(cfg.FreqTol, 25) / 50 * 65536)

	freqIdx := func(hz float64) int {
		for i, q := range d.quads {
			if q.hz == hz {
				return i
			}
		}
		d.quads = append(d.quads, newQuad(hz))
		return len(d.quads) - 1
	}
	symIdx := func(cs []Component) int {
		if len(cs) == 0 {
			return symOff
		}
		var f []int
		for _, c := range cs {
			f = append(f, freqIdx(c.Hz))
		}
		slices.Sort(f)
		f = slices.Compact(f)
		for i, s := range d.syms {
			if slices.Equal(s, f) {
				return i
			}
		}
		d.syms = append(d.syms, f)
		return len(d.syms) - 1
	}
	for _, t := range p.Tones {
		pt := pattern{name: t.Name, steady: t.Continuous()}
		for _, s := range t.Segments {
			pt.segs = append(pt.segs, patSeg{sym: symIdx(s.Freqs), ms: s.MS})
		}
		if len(pt.segs) == 0 {
			continue
		}
		// Completed segments needed before the running one: a cycle, or
		// two for cadences with short bursts, which speech imitates.
		pt.need = max(2, len(pt.segs))
		for _, sg := range pt.segs {
			if sg.sym >= 0 && sg.ms > 0 && sg.ms < 200 {
				pt.need = max(4, 2*len(pt.segs))
			}
		}
		d.pats = append(d.pats, pt)
	}
	// A steady tone is named once it has outlasted every on time of a
	// cadenced tone of the same frequencies.
	for i := range d.pats {
		pt := &d.pats[i]
		if !pt.steady {
			continue
		}
		ms := float64(dialMinMS)
		for _, o := range d.pats {
			for _, s := range o.segs {
				if !o.steady && s.sym == pt.segs[0].sym {
					ms = math.Max(ms, float64(s.ms)*(1+cfg.CadenceTol)+detSlackMS+100)
				}
			}
		}
		pt.minOn = int64(ms) * fs / 1000
	}
	nq := len(d.quads)
	d.re, d.im = make([]int32, nq), make([]int32, nq)
	d.prevRe, d.prevIm = make([]int64, nq), make([]int64, nq)
	d.nwRe, d.nwIm = make([]int64, nq), make([]int64, nq)
	d.wRe, d.wIm = make([][2]int64, nq), make([][2]int64, nq)
	d.pow = make([]int64, nq)
	d.advC, d.advS = make([]int64, nq), make([]int64, nq)
	for i, q := range d.quads {
		w := 2 * math.Pi * float64(q.adv) / 65536
		d.advC[i] = int64(math.Round(16384 * math.Cos(w)))
		d.advS[i] = int64(math.Round(16384 * math.Sin(w)))
	}
	d.Reset()
	return d
}

// Reset forgets everything heard, keeping plan and configuration.
func (d *Detector) Reset() {
	clear(d.re)
	clear(d.im)
	clear(d.prevRe)
	clear(d.prevIm)
	clear(d.wRe)
	clear(d.wIm)
	d.n, d.energy, d.pos, d.blocks, d.prevE = 0, 0, 0, 0, 0
	d.cand = [2]int{symOff, symOff}
	d.quiet = true
	d.cur, d.pend, d.curStart, d.pendStart, d.pendN = symOff, symOff, 0, 0, 0
	d.histN = 0
	d.active = -1
	d.evHead, d.evN = 0, 0
}

// Process consumes samples; events become available through Poll.
func (d *Detector) Process(x []int16) {
	for len(x) > 0 {
		k := min(blockLen-d.n, len(x))
		blk := x[:k]
		j := 0
		for ; j+1 < len(d.quads); j += 2 {
			acc := [4]int32{d.re[j], d.im[j], d.re[j+1], d.im[j+1]}
			accumulate2(&d.quads[j], &d.quads[j+1], blk, d.n, &acc)
			d.re[j], d.im[j], d.re[j+1], d.im[j+1] = acc[0], acc[1], acc[2], acc[3]
		}
		if j < len(d.quads) {
			d.re[j], d.im[j] = d.quads[j].accumulate(blk, d.n, d.re[j], d.im[j])
		}
		var e int64
		for _, v := range blk {
			e += int64(v) * int64(v)
		}
		d.energy += e
		d.n += k
		d.pos += int64(k)
		x = x[k:]
		if d.n == blockLen {
			d.block()
		}
	}
}

// Poll returns the oldest event not yet returned (up to 16 are kept).
func (d *Detector) Poll() (Event, bool) {
	if d.evN == 0 {
		return Event{}, false
	}
	e := d.ev[d.evHead]
	d.evHead = (d.evHead + 1) % detEventCap
	d.evN--
	return e, true
}

// Current returns the name of the tone being heard, or StateSilence or
// StateUnknown (sound that is not, or not yet, a tone of the plan).
func (d *Detector) Current() string {
	if d.active >= 0 {
		return d.pats[d.active].name
	}
	if d.quiet {
		return StateSilence
	}
	return StateUnknown
}

// Finish ends a tone still sounding at the end of the input, so that its
// ToneEnd event is delivered.
func (d *Detector) Finish() {
	if d.active < 0 {
		return
	}
	end := d.activeLastOnEnd
	if d.pats[d.active].steady || d.cur >= 0 && d.cur == d.expected().sym {
		end = d.pos
	}
	d.endTone(end)
}

func (d *Detector) emit(e Event) {
	if d.evN == detEventCap {
		d.evHead = (d.evHead + 1) % detEventCap
		d.evN--
	}
	d.ev[(d.evHead+d.evN)%detEventCap] = e
	d.evN++
}

func (d *Detector) block() {
	d.blocks++
	par := int(d.blocks & 1) // slot of the window two blocks back
	e := d.energy
	ew := e + d.prevE
	d.prevE = e
	for j := range d.quads {
		re, im := int64(d.re[j]>>4), int64(d.im[j]>>4)
		pr, pi := d.prevRe[j], d.prevIm[j]
		wr := re + (pr*d.advC[j]-pi*d.advS[j])>>14
		wi := im + (pr*d.advS[j]+pi*d.advC[j])>>14
		d.prevRe[j], d.prevIm[j] = re, im
		d.nwRe[j], d.nwIm[j] = wr, wi
		d.pow[j] = wr*wr + wi*wi
		d.re[j], d.im[j] = 0, 0
	}
	d.energy, d.n = 0, 0
	d.quiet = ew < d.minEnergy

	sym := symOff
	if !d.quiet {
		thr := ew * windowScale / purityDen * purityNum
		var best int64
		for s, fs := range d.syms {
			var sum int64
			for _, j := range fs {
				sum += d.pow[j]
			}
			if sum < thr || sum <= best {
				continue
			}
			ok := true
			for _, j := range fs {
				if d.pow[j]*10 < sum { // twist beyond 9.5 dB
					ok = false
				}
			}
			if ok {
				sym, best = s, sum
			}
		}
	}
	raw := sym
	// Check each component's frequency through its phase step between this
	// 20 ms window and the one before it, once that had the same candidate.
	if sym >= 0 && d.cand[par] == sym {
		for _, j := range d.syms[sym] {
			a, b := d.nwRe[j], d.nwIm[j]
			pr, pi := d.wRe[j][par], d.wIm[j][par]
			x := (a*pr + b*pi) >> 14
			y := (b*pr - a*pi) >> 14
			step := int32(int16(atan2Turns(x, y) - 2*d.quads[j].adv))
			if step > d.freqLim || step < -d.freqLim {
				sym = symOff
				break
			}
		}
	}
	d.cand[par] = raw
	for j := range d.quads {
		d.wRe[j][par], d.wIm[j][par] = d.nwRe[j], d.nwIm[j]
	}
	d.segmentStep(sym)
}

// segmentStep turns per-block symbols into segments: a new symbol must last
// detHold blocks, so shorter dropouts and glitches are bridged.
func (d *Detector) segmentStep(sym int) {
	// The 20 ms window of this block spans the previous block too: a tone
	// is first seen when it fills the window, and lost once it leaves half.
	t := d.pos - blockLen
	if sym >= 0 {
		t -= blockLen
	}
	if sym == d.cur {
		d.pendN = 0
	} else {
		if d.pendN == 0 || sym != d.pend {
			d.pend, d.pendN, d.pendStart = sym, 0, t
		}
		d.pendN++
		if d.pendN >= detHold {
			d.closeSegment(d.pendStart)
			d.cur, d.curStart, d.pendN = d.pend, d.pendStart, 0
		}
	}
	d.checkRunning()
}

func (d *Detector) ms(samples int64) int64 { return samples * 1000 / fs }

// durOK reports whether a segment of n samples fits a pattern time of ms.
func (d *Detector) durOK(n int64, ms int) bool {
	if ms == 0 {
		return true
	}
	got := float64(d.ms(n))
	tol := float64(ms)*d.cfg.CadenceTol + detSlackMS
	return math.Abs(got-float64(ms)) <= tol
}

// tooLong reports whether a segment still running at n samples can no
// longer fit a pattern time of ms.
func (d *Detector) tooLong(n int64, ms int) bool {
	return ms != 0 && float64(d.ms(n)) > float64(ms)*(1+d.cfg.CadenceTol)+detSlackMS
}

func (d *Detector) expected() patSeg {
	p := d.pats[d.active]
	return p.segs[d.activePos%len(p.segs)]
}

func (d *Detector) closeSegment(end int64) {
	if end <= d.curStart {
		return
	}
	sg := segment{sym: d.cur, start: d.curStart, end: end}
	if d.histN == detHistory {
		copy(d.hist[:], d.hist[1:])
		d.histN--
	}
	d.hist[d.histN] = sg
	d.histN++
	if d.active >= 0 {
		p := d.pats[d.active]
		if p.steady {
			if sg.sym == p.segs[0].sym {
				d.activeLastOnEnd = sg.end
				d.endTone(sg.end)
			}
		} else if ex := d.expected(); sg.sym == ex.sym && d.durOK(sg.end-sg.start, ex.ms) {
			d.activePos++
			if sg.sym >= 0 {
				d.activeLastOnEnd = sg.end
			}
			return
		} else {
			d.endTone(d.activeLastOnEnd)
		}
	}
}

// fits checks pattern p at rotation r against the completed segments h
// followed by the running segment. It reports whether they match (the
// running segment has lasted long enough) and whether they are at least
// consistent (the running segment has not yet outlasted its pattern time).
func (d *Detector) fits(p *pattern, r int, h []segment) (match, consistent bool) {
	L := len(p.segs)
	for i, sg := range h {
		ps := p.segs[(r+i)%L]
		if sg.sym != ps.sym || !d.durOK(sg.end-sg.start, ps.ms) {
			return false, false
		}
	}
	ps := p.segs[(r+len(h))%L]
	run := d.pos - d.curStart
	if d.cur != ps.sym || d.tooLong(run, ps.ms) {
		return false, false
	}
	low := float64(ps.ms)*(1-d.cfg.CadenceTol) - detSlackMS
	return float64(d.ms(run)) >= low, true
}

// tryCadence names a cadenced tone when the latest segments (completed ones
// starting with an on segment, then the running one) match exactly one
// pattern of the plan; while two patterns still fit, it waits.
func (d *Detector) tryCadence() {
	for pi := range d.pats {
		p := &d.pats[pi]
		if p.steady {
			continue
		}
		L := len(p.segs)
		for k := p.need; k <= p.need+1; k++ {
			if d.histN < k {
				continue
			}
			h := d.hist[d.histN-k : d.histN]
			if h[0].sym < 0 {
				continue
			}
			for r := range L {
				if p.segs[r].sym != h[0].sym {
					continue
				}
				if m, _ := d.fits(p, r, h); !m {
					continue
				}
				// Extend the match back through older segments that fit
				// too: other patterns must be consistent with all of it.
				s, rs := d.histN-k, r
				for s > 0 {
					pr := (rs + L - 1) % L
					o := d.hist[s-1]
					if o.sym != p.segs[pr].sym || !d.durOK(o.end-o.start, p.segs[pr].ms) {
						break
					}
					s, rs = s-1, pr
				}
				if d.hist[s].sym < 0 {
					s++
				}
				h = d.hist[s:d.histN]
				if d.ambiguous(pi, h) {
					return
				}
				d.active, d.activePos = pi, r+k
				d.activeStart = h[0].start
				for _, sg := range h {
					if sg.sym >= 0 {
						d.activeLastOnEnd = sg.end
					}
				}
				d.emit(Event{Kind: ToneStart, Tone: p.name, Start: d.activeStart, At: d.pos})
				return
			}
		}
	}
}

// ambiguous reports whether a pattern other than pi (and not identical to
// it) is still consistent with h and the running segment.
func (d *Detector) ambiguous(pi int, h []segment) bool {
	for qi := range d.pats {
		q := &d.pats[qi]
		if qi == pi || q.steady || slices.Equal(q.segs, d.pats[pi].segs) {
			continue
		}
		for r := range q.segs {
			if q.segs[r].sym != h[0].sym {
				continue
			}
			if _, c := d.fits(q, r, h); c {
				return true
			}
		}
	}
	return false
}

// checkRunning names steady tones and ends tones whose current segment has
// outlasted what the pattern allows.
func (d *Detector) checkRunning() {
	run := d.pos - d.curStart
	if d.active < 0 {
		d.tryCadence()
		if d.active >= 0 || d.cur < 0 {
			return
		}
		for pi, p := range d.pats {
			if p.steady && p.segs[0].sym == d.cur && run >= p.minOn {
				d.active, d.activePos, d.activeStart = pi, 0, d.curStart
				d.emit(Event{Kind: ToneStart, Tone: p.name, Start: d.curStart, At: d.pos})
				return
			}
		}
		return
	}
	if d.pats[d.active].steady {
		return
	}
	ex := d.expected()
	if d.cur != ex.sym || d.tooLong(run, ex.ms) {
		end := d.activeLastOnEnd
		d.endTone(end)
	}
}

func (d *Detector) endTone(end int64) {
	d.emit(Event{Kind: ToneEnd, Tone: d.pats[d.active].name, Start: d.activeStart, End: end, At: d.pos})
	d.active = -1
}
