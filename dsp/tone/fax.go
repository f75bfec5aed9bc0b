package tone

// FaxKind names what a FaxDetector found.
type FaxKind uint8

const (
	// FaxCED is a 2100 Hz answer tone (V.25 ANS, T.30 CED) lasting at least
	// 400 ms, with or without phase reversals.
	FaxCED FaxKind = iota + 1
	// FaxANSPR is the first 180-degree phase reversal in an answer tone
	// (/ANS, reversals every 450 ms): echo cancellers must be disabled.
	FaxANSPR
	// FaxCNG is a T.30 calling tone burst: 1100 Hz, 0.5 s on, 3 s off.
	FaxCNG
)

// String returns "ced", "anspr" or "cng".
func (k FaxKind) String() string {
	switch k {
	case FaxCED:
		return "ced"
	case FaxANSPR:
		return "anspr"
	case FaxCNG:
		return "cng"
	}
	return "unknown"
}

// FaxEvent is one detection, timed in samples since the detector started.
type FaxEvent struct {
	Kind  FaxKind
	Start int64 // first sample of the tone
	At    int64 // sample at which it was recognised
}

// FaxConfig tunes a FaxDetector; the zero value gives the defaults.
type FaxConfig struct {
	// MinLevel is the weakest tone accepted, in dBm0 (default -43).
	MinLevel float64
}

// Timing and frequency limits, in 10 ms blocks and Hz.
const (
	ansMinBlocks = 40 // an answer tone is declared after 400 ms
	cngMinBlocks = 35 // a CNG burst lasts 0.5 s; accept 350 ms ...
	cngMaxBlocks = 80 // ... to 800 ms
	faxMaxGap    = 3  // dropouts up to 30 ms are bridged (a reversal mid-block nulls one block)
	ansTolHz     = 25 // V.25: 2100 +-15 Hz, with margin
	cngTolHz     = 40 // T.30: 1100 +-38 Hz
	faxEventCap  = 8
)

// faxTrack follows one tone frequency from block to block.
type faxTrack struct {
	on       bool
	start    int64 // first sample of the tone
	lastEnd  int64 // end of the last block that had the tone
	blocks   int   // blocks since start, bridged gaps included
	gap      int   // absent blocks in a row
	reported bool

	prev    [2]uint16 // phases of the previous two blocks
	prevP   [2]bool   // whether those blocks had the tone
	drift   int32     // smoothed phase step per block beyond adv, 1/65536 turns
	steady  int       // blocks that fed drift
	holdoff int       // blocks left before another reversal may be counted
	revs    int       // phase reversals in this tone
}

// FaxDetector recognises fax and modem tones in 8 kHz audio: the 2100 Hz
// answer tone with and without phase reversals, and the 1100 Hz CNG tone.
// It works in 10 ms blocks over input of any length, allocates nothing, and
// costs two quadrature correlators.
type FaxDetector struct {
	ans, cng  quad
	n         int // position in the current block
	ar, ai    int32
	cr, ci    int32
	energy    int64
	pos       int64 // samples consumed
	minEnergy int64
	ansT      faxTrack
	cngT      faxTrack
	prSeen    bool
	ev        [faxEventCap]FaxEvent
	evHead    int
	evN       int
}

// NewFaxDetector returns a detector configured by cfg.
func NewFaxDetector(cfg FaxConfig) *FaxDetector {
	if cfg.MinLevel == 0 {
		cfg.MinLevel = -43
	}
	a := amplitude(cfg.MinLevel)
	return &FaxDetector{
		ans:       newQuad(2100),
		cng:       newQuad(1100),
		minEnergy: int64(a * a * blockLen / 2),
	}
}

// Reset forgets everything heard, keeping the configuration.
func (d *FaxDetector) Reset() {
	*d = FaxDetector{ans: d.ans, cng: d.cng, minEnergy: d.minEnergy}
}

// Process consumes samples; events become available through Poll.
func (d *FaxDetector) Process(x []int16) {
	for len(x) > 0 {
		k := min(blockLen-d.n, len(x))
		blk := x[:k]
		acc := [4]int32{d.ar, d.ai, d.cr, d.ci}
		accumulate2(&d.ans, &d.cng, blk, d.n, &acc)
		d.ar, d.ai, d.cr, d.ci = acc[0], acc[1], acc[2], acc[3]
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

// AnswerTone reports whether a 2100 Hz answer tone is present now (declared
// after 400 ms, until it stops for more than 30 ms).
func (d *FaxDetector) AnswerTone() bool { return d.ansT.on && d.ansT.reported }

// PhaseReversalSeen reports whether an answer tone with a phase reversal
// (/ANS) has been heard since the detector was made or Reset. It stays true:
// the echo canceller decides when to re-enable itself.
func (d *FaxDetector) PhaseReversalSeen() bool { return d.prSeen }

// Reversals returns the number of phase reversals in the current (or last)
// answer tone.
func (d *FaxDetector) Reversals() int { return d.ansT.revs }

// Poll returns the oldest event not yet returned. Up to eight events are
// kept between polls; older ones are dropped.
func (d *FaxDetector) Poll() (FaxEvent, bool) {
	if d.evN == 0 {
		return FaxEvent{}, false
	}
	e := d.ev[d.evHead]
	d.evHead = (d.evHead + 1) % faxEventCap
	d.evN--
	return e, true
}

func (d *FaxDetector) emit(e FaxEvent) {
	if d.evN == faxEventCap {
		d.evHead = (d.evHead + 1) % faxEventCap
		d.evN--
	}
	d.ev[(d.evHead+d.evN)%faxEventCap] = e
	d.evN++
}

// tonePresent reports whether a block's correlation (re, im) holds at
// least half of the block energy e: for a pure tone at the reference
// frequency |Z|^2 = e * blockLen * 1024^2 / 2.
func tonePresent(re, im int32, e, minEnergy int64) bool {
	if e < minEnergy {
		return false
	}
	z := int64(re)*int64(re) + int64(im)*int64(im)
	return z >= e*(blockLen*1024*1024/4)
}

func (d *FaxDetector) block() {
	end := d.pos
	start := end - blockLen
	e := d.energy
	pa := tonePresent(d.ar, d.ai, e, d.minEnergy)
	pc := tonePresent(d.cr, d.ci, e, d.minEnergy)
	tha := atan2Turns(int64(d.ar), int64(d.ai))
	thc := atan2Turns(int64(d.cr), int64(d.ci))
	d.ar, d.ai, d.cr, d.ci, d.energy, d.n = 0, 0, 0, 0, 0, 0

	// Answer tone.
	t := &d.ansT
	if t.update(pa, tha, d.ans.adv, start, end, true) {
		if t.revs > 0 && !d.prSeen && t.blocks >= 20 && t.freqOK(ansTolHz) {
			d.prSeen = true
			d.emit(FaxEvent{Kind: FaxANSPR, Start: t.start, At: end})
		}
		if !t.reported && t.blocks >= ansMinBlocks && t.freqOK(ansTolHz) {
			t.reported = true
			d.emit(FaxEvent{Kind: FaxCED, Start: t.start, At: end})
		}
	}
	// Calling tone: judged when the burst ends, since its length matters.
	c := &d.cngT
	wasOn := c.on
	c.update(pc, thc, d.cng.adv, start, end, false)
	if wasOn && !c.on {
		n := int((c.lastEnd - c.start) / blockLen)
		if n >= cngMinBlocks && n <= cngMaxBlocks && c.freqOK(cngTolHz) {
			d.emit(FaxEvent{Kind: FaxCNG, Start: c.start, At: end})
		}
	}
}

// update advances the track by one block, counting phase reversals if
// asked, and reports whether the block had the tone.
func (t *faxTrack) update(present bool, th, adv uint16, start, end int64, revs bool) bool {
	defer t.push(th, present)
	if !present {
		if t.on {
			t.gap++
			t.blocks++
			if t.gap > faxMaxGap {
				t.on = false
			}
		}
		return false
	}
	if !t.on {
		*t = faxTrack{on: true, start: start}
	}
	t.gap = 0
	t.blocks++
	t.lastEnd = end
	// Track the frequency offset through the phase step between blocks,
	// skipping steps that look like a reversal.
	if t.prevP[1] && t.holdoff == 0 {
		step := int32(int16(th - t.prev[1] - adv))
		if t.steady == 0 {
			t.drift = step
			t.steady++
		} else if dd := step - t.drift; dd < 8192 && dd > -8192 {
			t.drift += dd / 4
			t.steady++
		}
	}
	if revs {
		t.reversal(th, adv)
	}
	return true
}

// reversal counts a phase reversal when the phase two blocks back differs
// from the expected one by more than 135 degrees.
func (t *faxTrack) reversal(th, adv uint16) {
	if t.holdoff > 0 {
		t.holdoff--
		return
	}
	if !t.prevP[0] || t.steady < 3 {
		return
	}
	dev := int16(th - t.prev[0] - 2*adv - uint16(2*t.drift))
	if dev > 24576 || dev < -24576 {
		t.revs++
		t.holdoff = 2
	}
}

func (t *faxTrack) push(th uint16, present bool) {
	t.prev[0], t.prevP[0] = t.prev[1], t.prevP[1]
	t.prev[1], t.prevP[1] = th, present
}

// freqOK reports whether the measured frequency offset is within tol Hz.
// One block is 10 ms, so a step of 65536 per block is 100 Hz.
func (t *faxTrack) freqOK(tol int32) bool {
	if t.steady < 3 {
		return false
	}
	lim := tol * 65536 / 100
	return t.drift <= lim && t.drift >= -lim
}
