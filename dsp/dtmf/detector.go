package dtmf

import (
	"math"
	"math/bits"
	"math/cmplx"
)

// How the detector works. Eight Goertzel filters run over half-blocks of 50
// samples; each half-block's complex result is combined with the previous
// one's, so every 50 samples (6.25 ms) the detector sees a 100-sample
// (12.5 ms) window, near the 102-sample block spandsp and Asterisk use, at
// twice their time resolution and the same cost. The filters run on the
// sum of each pair of samples, at 4 kHz: every DTMF frequency is below
// 2 kHz, the pair sum is a gentle low-pass whose gain each bin undoes, and
// it halves the work. What aliases in from 2.4 to 3.3 kHz is caught by the
// checks that rerun a candidate's two tones at 8 kHz.
//
// A window is a hit for a digit when both tones are above the level floor,
// the other tones of each group are well below, the twist is within
// limits, the two tones carry most of the window's energy, and Goertzel
// filters over the window's stored 8 kHz samples confirm each tone and show
// its frequency is near nominal (filters either side). The checks after
// the first two run only on windows that passed those.
//
// Two corrections make the readings honest before the level tests (on the
// screen and on the 8 kHz re-measurement alike): untangle removes the
// leakage of each group's strongest tone into the other group's bins, and
// scallop restores what a tone loses for being off its bin's frequency,
// measured from the phase turn between the two half-blocks.
//
// The energy test works on the first difference of the signal, x[n]-x[n-1]
// (the tone powers weighted to match): that weighs the spectrum by
// 4sin²(πf/8000), which leaves a 350 to 450 Hz dial tone under a digit
// with a quarter or less of the weight of the row tone, and takes weight
// off the strong low formants of speech, the main source of talk-off.
//
// A digit starts after startHits consecutive hits that also pass a final
// check (steady levels, average twist and energy share, frequency over a
// 25 ms window) and ends after endMisses consecutive windows without it.
// A window needs about 65 % of its samples to be tone to start a digit, so
// four hits need at least 22.5 ms of tone (never under 20 ms) while 40 ms
// always gives four whole windows; to go on, a window needs 75 %, so a
// 10 ms dropout spoils at most four windows and a 40 ms pause at least
// seven.

const (
	half   = 50       // samples per half-block
	window = 2 * half // samples per analysis window
	pairs  = half / 2 // pair sums per half-block

	startHits = 4
	endMisses = 5

	// timeAdjust moves reported edges from the first (last) hit window's
	// edge to where the tone edge is on average (measured: within ±3 ms).
	timeAdjust = 2

	coefBits = 14 // Q14 coefficients outside the kernel

	// The kernel runs in int32 alone: Q10 coefficients and pair sums
	// scaled by 1/4, at most 16384. A half-block's state is at most 25
	// inputs times 1/|sin(2π1633/4000)| = 1.83 times the largest input,
	// 16384*46 < 2^20, and the largest coefficient is 1717 < 2^11, so
	// coefficient times state stays under 2^31. Q10 puts the filters
	// within 2 Hz of nominal, and the halves' rotations use the
	// frequencies the Q10 coefficients really have.
	kernelBits  = 10
	kernelShift = 2
	kernelRate  = SampleRate / 2
)

// Kernel coefficients 2cos(2πf/4000) in Q10, as constants so the kernel
// multiplies by immediates; TestCoefficients checks them against rowHz and
// colHz.
const (
	k697  = 938
	k770  = 724
	k852  = 472
	k941  = 190
	k1209 = -660
	k1336 = -1031
	k1477 = -1395
	k1633 = -1717
)

var kernelCoefs = [8]int32{k697, k770, k852, k941, k1209, k1336, k1477, k1633}

// Goertzel coefficients 2cos(2πf/8000) in Q14 for the filters run over
// stored samples.
const (
	c697  = 27980
	c770  = 26956
	c852  = 25701
	c941  = 24219
	c1209 = 19073
	c1336 = 16325
	c1477 = 13085
	c1633 = 9315
)

var coefs = [8]int32{c697, c770, c852, c941, c1209, c1336, c1477, c1633}

// DetectorConfig tunes a Detector; the zero value is Q.24 with no muting.
type DetectorConfig struct {
	// Mute replaces the samples of detected digits by silence in the audio
	// passed to Process, which is then delayed by MuteDelay samples.
	Mute bool
}

// MuteDelay is the delay, in samples, of the audio Process passes on when
// muting: the detector must see the window after a half-block before it
// knows whether that half-block held a digit.
const MuteDelay = 2 * half

// Thresholds, as ratios of powers. Powers of a window are |X|² of a
// 100-sample DFT bin; a sine of amplitude A gives (A*50)².
var (
	// minPower is the floor per tone: -43 dBm0 (Q.24 wants -39 and a
	// 1.5 % off-frequency 1633 Hz tone reads 1.5 dB low before the
	// scallop correction).
	minPower = int64(math.Pow(Amplitude(-43)*half, 2))
)

const (
	// Twist limits in Q8: 10 dB normal and 6 dB reverse in each window,
	// 10 and 5 dB over the summed powers of the three windows before a
	// digit is reported. Q.24 asks for 8 and 4 dB; the rest is room for
	// noise and what the corrections leave of the window's errors. Speech
	// talk-off was found to sit at 9.5 to 11 dB when it comes through the
	// other tests, so this margin is all there is to spend.
	normalTwistQ8  = 2560 // 10^(1.0) * 256
	reverseTwistQ8 = 1019 // 10^(0.6) * 256
	avgNormalQ8    = 2560 // 10^(1.0) * 256
	avgReverseQ8   = 810  // 10^(0.5) * 256
	// relativePeakQ8: on the 4 kHz screen, other tones of a group at least
	// 4 dB under the best (the 8 dB of spandsp failed noisy digits whose
	// tone sits 1.5 % towards a neighbour; the side filters below do the
	// fine frequency work).
	relativePeakQ8 = 642 // 10^(0.4) * 256
	// energyRatioQ8: the two tones carry at least 65 % of a window's
	// (first difference) energy, and avgRatioQ8: 74 % of the three
	// windows' before a digit is reported. A window's energy swings by
	// ±8 % with the beat of the two tones, so one window is a rough test;
	// digits at all the Q.24 limits at once with 15 dB S/N average 77 % or
	// more, the speech that passes every other test 63 to 74 %.
	energyRatioQ8 = 166 // 0.65 * 256
	avgRatioQ8    = 189 // 0.74 * 256
	// activeRatioQ8: a reported digit goes on in windows with 75 %, so
	// its end is placed as tightly as its start.
	activeRatioQ8 = 192 // 0.75 * 256
	// sideRatioQ8: a tone's power must not fall 1 dB under the filters at
	// ±5 % of its nominal frequency: a coarse per-window test (edge near
	// ±3 %) that the long window below refines.
	sideRatioQ8 = 203 // 256 / 10^(0.1)
	sideOffset  = 0.05
	// Before a digit is reported, the same test runs over the last four
	// half-blocks (25 ms, all hits) with filters at ±4 %, which must be
	// 1 dB under the nominal one: the longer window resolves frequency
	// twice as finely, so the edge moves in to about ±1.8 % and still
	// accepts 1.5 % errors with margin (a 697 Hz tone 1.5 % off reads
	// 2 dB over the near side). Speech that holds formant harmonics near
	// a digit's two frequencies rarely holds them that close.
	longHalves     = 4
	longSideOffset = 0.04
	longSideQ8     = 322 // 10^(0.1) * 256
	// stableQ8: over the last three windows before a digit is reported
	// (all whole windows of tone), each tone's power stays within 3.5 dB;
	// a telephone's tones are steady, formants glide.
	stableQ8 = 572 // 10^(0.35) * 256
)

// EventKind says whether an Event is a digit's start or end.
type EventKind uint8

// Event kinds.
const (
	DigitStart EventKind = iota + 1
	DigitEnd
)

// Event is the start or end of a digit. Times are sample indices counted
// from the detector's creation or last Reset (at 8 kHz, 8 per millisecond).
type Event struct {
	Kind  EventKind
	Digit byte
	// Start is where the tone began, for both kinds.
	Start int64
	// End is where the tone ended; zero in DigitStart events.
	End int64
}

// Duration returns the length of the tone in samples (DigitEnd only).
func (e Event) Duration() int64 { return e.End - e.Start }

// Detector finds DTMF digits in a stream of 8 kHz linear samples. It keeps
// all state in itself, allocates nothing after NewDetector and gives the
// same events however the stream is cut into blocks. It is not safe for
// concurrent use.
type Detector struct {
	cfg DetectorConfig

	// Goertzel state of the running half-block.
	s1, s2 [8]int32
	energy int64 // of the first difference
	last   int32 // previous sample, for the difference
	pend   int32 // first sample of an unfinished pair, if odd
	odd    bool
	pos    int   // samples into the running half-block
	halves int64 // half-blocks completed

	// Complex results and energy of the previous half-block.
	prevRe, prevIm [8]int64
	prevEnergy     int64

	// raw holds the last four half-blocks: those under test and, when
	// muting, the half-block being passed on.
	raw [longHalves][half]int16

	*tables // constants shared by all detectors

	// Digit state machine.
	run      byte        // digit of the current run of hits, 0 for none
	runLen   int         // consecutive hits of run
	runPow   [3][4]int64 // row and column power, tone and total energy of the run's last windows
	lastPow  [4]int64    // the same of the latest hit window
	runStart int64       // sample where the run's first window began
	active   byte        // digit reported as started, 0 for none
	start    int64       // reported start of the active digit
	lastHit  int64       // end of the active digit's last hit window
	misses   int         // consecutive windows without the active digit

	// hits remembers which recent windows were hits, bit 0 the newest,
	// for muting.
	hits uint8
}

// NewDetector returns a detector in its initial state.
func NewDetector(cfg DetectorConfig) *Detector {
	return &Detector{cfg: cfg, tables: shared}
}

// tables are the detector's constants, computed once.
type tables struct {
	// rotCos and rotSin rotate a half-block's result by its length, for
	// combining it with the next one; twCos and twSin turn the filter
	// state into a complex result. All Q14. norm (Q14) scales a bin's
	// result to what a Goertzel filter over the 8 kHz samples would give.
	rotCos, rotSin, twCos, twSin, norm [8]int64

	sideCoef [8][2]int32 // Q14 coefficients at ±sideOffset
	longCoef [8][3]int32 // Q14 coefficients at nominal and ±longSideOffset
	weight   [8]int64    // Q12 gain of the first difference at each tone
	// leak[k][m] is how much of a tone at bin m's frequency bin k reads,
	// relative to what bin m reads (complex, Q14); inv[r][c] is
	// 1/(1-leak[r][c]*leak[c][r]).
	leakRe, leakIm [8][8]int64
	invRe, invIm   [4][4]int64
	// The same at 8 kHz, for the exact measurement of a candidate's two
	// tones over the stored samples.
	ex exactTables
}

var shared = newTables()

func newTables() *tables {
	d := &tables{}
	freqs := append(rowHz[:], colHz[:]...)
	for k, f := range freqs {
		w := math.Acos(float64(kernelCoefs[k]) / (2 << kernelBits)) // at 4 kHz
		d.rotCos[k] = q14(math.Cos(w * pairs))
		d.rotSin[k] = q14(math.Sin(w * pairs))
		// A sine of amplitude A gives pair sums of amplitude
		// A*2cos(πf/8000) = A*2cos(w/4), scaled by 1/4, over half as
		// many samples.
		d.norm[k] = q14(8 / (2 * math.Cos(w/4)))
		// norm is folded into the turn to save two multiplications.
		d.twCos[k] = q14(math.Cos(w) * 8 / (2 * math.Cos(w/4)))
		d.twSin[k] = q14(math.Sin(w) * 8 / (2 * math.Cos(w/4)))
		w = 2 * math.Pi * f / SampleRate
		d.sideCoef[k][0] = int32(q14(2 * math.Cos(w*(1-sideOffset))))
		d.sideCoef[k][1] = int32(q14(2 * math.Cos(w*(1+sideOffset))))
		d.longCoef[k][0] = coefs[k]
		d.longCoef[k][1] = int32(q14(2 * math.Cos(w*(1-longSideOffset))))
		d.longCoef[k][2] = int32(q14(2 * math.Cos(w*(1+longSideOffset))))
		d.weight[k] = int64(math.Round(4 * math.Pow(math.Sin(w/2), 2) * (1 << 12)))
	}
	leakTables(kernelRate, 2*pairs, &d.leakRe, &d.leakIm, &d.invRe, &d.invIm)
	e := &d.ex
	for k, f := range freqs {
		w := 2 * math.Pi * f / SampleRate
		e.rotCos[k], e.rotSin[k] = q14(math.Cos(w*half)), q14(math.Sin(w*half))
		e.twCos[k], e.twSin[k] = q14(math.Cos(w)), q14(math.Sin(w))
	}
	leakTables(SampleRate, window, &e.leakRe, &e.leakIm, &e.invRe, &e.invIm)
	return d
}

// leakTables fills the leakage tables for windows of n samples at rate:
// a tone at w0 reads S(w, w0) = e^{jw(n-1)} sum_i e^{j(w0-w)i} in bin w;
// leak[k][m] = S(w_k, w_m)/S(w_m, w_m), inv[r][c] = 1/(1-leak[r][c]leak[c][r]).
func leakTables(rate float64, n int, leakRe, leakIm *[8][8]int64, invRe, invIm *[4][4]int64) {
	freqs := append(rowHz[:], colHz[:]...)
	bin := func(w, w0 float64) complex128 {
		sum := complex(float64(n), 0) // the geometric series, in closed form
		if dw := w0 - w; dw != 0 {
			sum = (1 - cmplx.Exp(complex(0, dw*float64(n)))) / (1 - cmplx.Exp(complex(0, dw)))
		}
		return cmplx.Exp(complex(0, w*float64(n-1))) * sum
	}
	var leak [8][8]complex128
	for k, f := range freqs {
		for m, f0 := range freqs {
			w, w0 := 2*math.Pi*f/rate, 2*math.Pi*f0/rate
			leak[k][m] = bin(w, w0) / bin(w0, w0)
			leakRe[k][m], leakIm[k][m] = q14(real(leak[k][m])), q14(imag(leak[k][m]))
		}
	}
	for r := range 4 {
		for c := range 4 {
			inv := 1 / (1 - leak[r][4+c]*leak[4+c][r])
			invRe[r][c], invIm[r][c] = q14(real(inv)), q14(imag(inv))
		}
	}
}

func q14(v float64) int64 { return int64(math.Round(v * (1 << coefBits))) }

// Reset returns the detector to its initial state, forgetting any digit in
// progress without reporting its end.
func (d *Detector) Reset() {
	*d = Detector{cfg: d.cfg, tables: d.tables}
}

// Process analyses samples, appends the events it finds to events and
// returns the extended slice. With Mute set it also overwrites samples with
// the audio delayed by MuteDelay, digits replaced by silence.
func (d *Detector) Process(samples []int16, events []Event) []Event {
	for len(samples) > 0 {
		n := min(len(samples), half-d.pos)
		chunk := samples[:n]
		d.goertzel(chunk)
		cur := &d.raw[d.halves%longHalves]
		copy(cur[d.pos:], chunk)
		if d.cfg.Mute {
			// The half-block two before the running one is complete and
			// so are both windows that contain it.
			if d.hits&0b111 != 0 {
				clear(chunk)
			} else {
				copy(chunk, d.raw[(d.halves+longHalves-2)%longHalves][d.pos:])
			}
		}
		d.pos += n
		samples = samples[n:]
		if d.pos == half {
			events = d.endHalf(events)
		}
	}
	return events
}

// Flush reports the end of a digit still in progress, as at the end of a
// recording; samples in the unfinished half-block are not analysed.
func (d *Detector) Flush(events []Event) []Event {
	if d.active != 0 {
		events = append(events, Event{Kind: DigitEnd, Digit: d.active, Start: d.start, End: d.lastHit - timeAdjust})
		d.active = 0
	}
	return events
}

// goertzel runs the energy sum over samples and the eight filters over
// their pair sums, keeping an odd sample for the next call.
func (d *Detector) goertzel(x []int16) {
	if d.odd && len(x) > 0 {
		d.sample(x[0])
		d.pair((d.pend + int32(x[0])) >> kernelShift)
		x, d.odd = x[1:], false
	}
	n := len(x) &^ 1
	d.pairs(x[:n])
	if n < len(x) {
		d.sample(x[n])
		d.pend, d.odd = int32(x[n]), true
	}
}

// sample adds one sample's first difference to the energy.
func (d *Detector) sample(v int16) {
	diff := int64(int32(v) - d.last)
	d.energy += diff * diff
	d.last = int32(v)
}

// pair runs the filters over one pair sum (the slow path for odd blocks).
func (d *Detector) pair(y int32) {
	for k, c := range kernelCoefs {
		d.s1[k], d.s2[k] = y+(c*d.s1[k])>>kernelBits-d.s2[k], d.s1[k]
	}
}

// pairs runs the filters over the pair sums of x (even length). Two groups
// of four filters keep the states in registers while giving the CPU
// independent multiplications to overlap; two pairs per turn, the states
// trading places, so no register moves are needed between turns.
func (d *Detector) pairs(x []int16) {
	n := len(x) &^ 3
	a1, a2, b1, b2 := d.s1[0], d.s2[0], d.s1[1], d.s2[1]
	c1, c2, e1, e2 := d.s1[2], d.s2[2], d.s1[3], d.s2[3]
	energy, last := d.energy, d.last
	for i := 0; i < n; i += 4 {
		x0, x1, x2, x3 := int32(x[i]), int32(x[i+1]), int32(x[i+2]), int32(x[i+3])
		d0, d1, d2, d3 := x0-last, x1-x0, x2-x1, x3-x2
		energy += int64(d0)*int64(d0) + int64(d1)*int64(d1) + int64(d2)*int64(d2) + int64(d3)*int64(d3)
		last = x3
		y := (x0 + x1) >> kernelShift
		a2 = y + (k697*a1)>>kernelBits - a2
		b2 = y + (k770*b1)>>kernelBits - b2
		c2 = y + (k852*c1)>>kernelBits - c2
		e2 = y + (k941*e1)>>kernelBits - e2
		y = (x2 + x3) >> kernelShift
		a1 = y + (k697*a2)>>kernelBits - a1
		b1 = y + (k770*b2)>>kernelBits - b1
		c1 = y + (k852*c2)>>kernelBits - c1
		e1 = y + (k941*e2)>>kernelBits - e1
	}
	d.s1[0], d.s2[0], d.s1[1], d.s2[1] = a1, a2, b1, b2
	d.s1[2], d.s2[2], d.s1[3], d.s2[3] = c1, c2, e1, e2
	d.energy, d.last = energy, last

	a1, a2, b1, b2 = d.s1[4], d.s2[4], d.s1[5], d.s2[5]
	c1, c2, e1, e2 = d.s1[6], d.s2[6], d.s1[7], d.s2[7]
	for i := 0; i < n; i += 4 {
		y := (int32(x[i]) + int32(x[i+1])) >> kernelShift
		a2 = y + (k1209*a1)>>kernelBits - a2
		b2 = y + (k1336*b1)>>kernelBits - b2
		c2 = y + (k1477*c1)>>kernelBits - c2
		e2 = y + (k1633*e1)>>kernelBits - e2
		y = (int32(x[i+2]) + int32(x[i+3])) >> kernelShift
		a1 = y + (k1209*a2)>>kernelBits - a1
		b1 = y + (k1336*b2)>>kernelBits - b1
		c1 = y + (k1477*c2)>>kernelBits - c1
		e1 = y + (k1633*e2)>>kernelBits - e1
	}
	d.s1[4], d.s2[4], d.s1[5], d.s2[5] = a1, a2, b1, b2
	d.s1[6], d.s2[6], d.s1[7], d.s2[7] = c1, c2, e1, e2
	if n < len(x) {
		d.sample(x[n])
		d.sample(x[n+1])
		d.pair((int32(x[n]) + int32(x[n+1])) >> kernelShift)
	}
}

// endHalf closes a half-block: it forms the window with the previous one,
// classifies it and runs the state machine.
func (d *Detector) endHalf(events []Event) []Event {
	var xr, xi [8]int64
	for k := range 8 {
		// Complex result of this half: s1 - e^{-jw} s2, referred to
		// its last sample.
		s1, s2 := int64(d.s1[k]), int64(d.s2[k])
		re := (d.norm[k]*s1 - d.twCos[k]*s2) >> coefBits
		im := (d.twSin[k] * s2) >> coefBits
		// The previous half, rotated by e^{jwH}, plus this one.
		pr, pi := d.prevRe[k], d.prevIm[k]
		ar := (d.rotCos[k]*pr - d.rotSin[k]*pi) >> coefBits
		ai := (d.rotSin[k]*pr + d.rotCos[k]*pi) >> coefBits
		xr[k], xi[k] = ar+re, ai+im
		d.prevRe[k], d.prevIm[k] = re, im
		d.s1[k], d.s2[k] = 0, 0
	}
	energy := d.energy + d.prevEnergy
	d.prevEnergy, d.energy = d.energy, 0
	d.pos = 0
	d.halves++
	if d.halves < 2 {
		return events // no full window yet
	}
	end := d.halves * half // sample after the window
	var digit byte
	if power, ok := d.untangle(&xr, &xi, energy); ok {
		digit = d.classify(&power, energy)
	}
	d.hits <<= 1
	if digit != 0 {
		d.hits |= 1
	}
	return d.step(digit, end, events)
}

// untangle returns the powers of the eight bins with the strongest row
// tone's leakage removed from the column bins and the strongest column
// tone's from the row bins. The rectangular window's sidelobes otherwise
// let an 8 dB stronger row tone move the column tone's reading by 1.5 dB
// either way, depending on their phases, which blurs twist and
// relative-peak tests. The two tones' own amplitudes come from solving
// the two equations X_r = B_r + L_rc B_c and X_c = B_c + L_cr B_r. ok is
// false, and the powers plain, for windows that cannot hold a digit.
func (d *Detector) untangle(xr, xi *[8]int64, energy int64) (p [8]int64, ok bool) {
	for k := range 8 {
		p[k] = xr[k]*xr[k] + xi[k]*xi[k]
	}
	r, c := 0, 4
	for k := 1; k < 4; k++ {
		if p[k] > p[r] {
			r = k
		}
		if p[4+k] > p[c] {
			c = 4 + k
		}
	}
	// Most windows hold no digit: a loose gate on level and energy share
	// (half the final thresholds) spares them the rest.
	if 2*p[r] < minPower || 2*p[c] < minPower {
		return p, false
	}
	if tone := (2 * (p[r]*d.weight[r] + p[c]*d.weight[c]) / window) >> 12; 2*tone < energy {
		return p, false
	}
	ir, ii := d.invRe[r][c-4], d.invIm[r][c-4]
	lr, li := mul(xr[c], xi[c], d.leakRe[r][c], d.leakIm[r][c])
	brr, bri := mul(xr[r]-lr, xi[r]-li, ir, ii)
	lr, li = mul(xr[r], xi[r], d.leakRe[c][r], d.leakIm[c][r])
	bcr, bci := mul(xr[c]-lr, xi[c]-li, ir, ii)
	for k := range 8 {
		from, fr, fi := c, bcr, bci // row bins lose the column tone
		if k >= 4 {
			from, fr, fi = r, brr, bri
		}
		lr, li := mul(fr, fi, d.leakRe[k][from], d.leakIm[k][from])
		ur, ui := xr[k]-lr, xi[k]-li
		p[k] = ur*ur + ui*ui
	}
	return p, true
}

// exactTables are the constants of Detector.exact, all Q14.
type exactTables struct {
	rotCos, rotSin, twCos, twSin [8]int64
	leakRe, leakIm               [8][8]int64
	invRe, invIm                 [4][4]int64
}

// halves holds the complex results of a window's two half-blocks for each
// bin: a, the first, already rotated to line up with b, the second.
type halves struct {
	ar, ai, br, bi [8]int64
}

// scallop returns, in Q8, the factor that corrects bin k's window power for
// the loss a tone off the bin's frequency suffers. A tone dw off turns by
// θ = dw*half between the halves, so the window reads (1+cos θ)/2 of the
// power of the same tone on frequency; cos θ is Re(b·conj(a))/(|a||b|).
// The factor is capped at what a 1.8 % error at 1633 Hz needs (1.5), and
// not applied when the halves differ by more than 3 dB.
func (h *halves) scallop(k int) int64 {
	pa, pb := h.ar[k]*h.ar[k]+h.ai[k]*h.ai[k], h.br[k]*h.br[k]+h.bi[k]*h.bi[k]
	if 2*min(pa, pb) < max(pa, pb) {
		// A tone starting or ending in the window: θ means little, and
		// an uncorrected (low) reading is what the edge tests want.
		return 256
	}
	m := isqrt(pa) * isqrt(pb)
	c := h.br[k]*h.ar[k] + h.bi[k]*h.ai[k]
	if m+c <= 0 {
		return 384
	}
	return max(256, min(384, 2*m*256/(m+c)))
}

// isqrt returns the integer square root of n >= 0.
func isqrt(n int64) int64 {
	if n < 2 {
		return n
	}
	x := int64(1) << ((bits.Len64(uint64(n)) + 1) / 2) // >= sqrt(n)
	for {
		y := (x + n/x) / 2
		if y >= x {
			return x
		}
		x = y
	}
}

// mul returns (a+jb)(e+jf) with e+jf in Q14.
func mul(a, b, e, f int64) (int64, int64) {
	return (a*e - b*f) >> coefBits, (a*f + b*e) >> coefBits
}

// exact measures tones r and c (bins 0-3 and 4-7) over the stored 8 kHz
// samples of the window, as the screen does at 4 kHz: Goertzel filters
// per half-block, combined, untangled and corrected for scalloping. It
// returns the corrected powers and the plain window powers.
func (d *Detector) exact(r, c int) (pr, pc, rawR, rawC int64) {
	e := &d.ex
	var h halves
	var xr, xi [2]int64
	kr, kc := int64(coefs[r]), int64(coefs[c])
	for j := range 2 {
		var a1, a2, b1, b2 int32
		for _, v := range &d.raw[(d.halves-2+int64(j))%longHalves] {
			x := int32(v)
			a1, a2 = x+int32((kr*int64(a1))>>coefBits)-a2, a1
			b1, b2 = x+int32((kc*int64(b1))>>coefBits)-b2, b1
		}
		for i, st := range [2][3]int64{{int64(r), int64(a1), int64(a2)}, {int64(c), int64(b1), int64(b2)}} {
			k, s1, s2 := st[0], st[1], st[2]
			re := s1 - (e.twCos[k]*s2)>>coefBits
			im := (e.twSin[k] * s2) >> coefBits
			if j == 0 {
				h.ar[i], h.ai[i] = mul(re, im, e.rotCos[k], e.rotSin[k])
			} else {
				h.br[i], h.bi[i] = re, im
			}
		}
	}
	for i := range 2 {
		xr[i], xi[i] = h.ar[i]+h.br[i], h.ai[i]+h.bi[i]
	}
	rawR, rawC = xr[0]*xr[0]+xi[0]*xi[0], xr[1]*xr[1]+xi[1]*xi[1]
	ir, ii := e.invRe[r][c-4], e.invIm[r][c-4]
	lr, li := mul(xr[1], xi[1], e.leakRe[r][c], e.leakIm[r][c])
	brr, bri := mul(xr[0]-lr, xi[0]-li, ir, ii)
	lr, li = mul(xr[0], xi[0], e.leakRe[c][r], e.leakIm[c][r])
	bcr, bci := mul(xr[1]-lr, xi[1]-li, ir, ii)
	pr = (brr*brr + bri*bri) * h.scallop(0) >> 8
	pc = (bcr*bcr + bci*bci) * h.scallop(1) >> 8
	return pr, pc, rawR, rawC
}

// classify returns the digit a window holds, or 0.
func (d *Detector) classify(p *[8]int64, energy int64) byte {
	r, c := 0, 4
	for k := 1; k < 4; k++ {
		if p[k] > p[r] {
			r = k
		}
		if p[4+k] > p[c] {
			c = 4 + k
		}
	}
	if p[r] < minPower || p[c] < minPower {
		return 0
	}
	for k := range 4 {
		if k != r && p[k]*relativePeakQ8 > p[r]*256 {
			return 0
		}
		if 4+k != c && p[4+k]*relativePeakQ8 > p[c]*256 {
			return 0
		}
	}
	// From here on the two tones' powers are measured again at 8 kHz:
	// exact, and free of what aliases into the screen.
	pr, pc, rawR, rawC := d.exact(r, c)
	if pr < minPower || pc < minPower {
		return 0
	}
	if pr*256 > pc*normalTwistQ8 || pc*256 > pr*reverseTwistQ8 {
		return 0
	}
	digit := keypad[r][c-4]
	// A sine of power P (as |X|²) has energy 2P/window in the window,
	// times the difference's gain at its frequency.
	tone := (2 * (pr*d.weight[r] + pc*d.weight[c]) / window) >> 12
	if tone*256 < energy*energyRatioQ8 || (digit == d.active && tone*256 < energy*activeRatioQ8) {
		return 0
	}
	// A digit already reported needs no new tone test to go on: it passed
	// the stricter long-window one.
	if digit != d.active {
		// Each tone nearer its nominal frequency than ±5 %.
		side := d.power4([4]int32{d.sideCoef[r][0], d.sideCoef[r][1], d.sideCoef[c][0], d.sideCoef[c][1]}, 2)
		if max(side[0], side[1])*sideRatioQ8 >= rawR*256 || max(side[2], side[3])*sideRatioQ8 >= rawC*256 {
			return 0
		}
	}
	d.lastPow = [4]int64{pr, pc, tone, energy}
	return digit
}

// power4 runs four Goertzel filters over the last n half-blocks and
// returns their powers; four independent chains keep the CPU busy.
func (d *Detector) power4(coef [4]int32, n int64) [4]int64 {
	c0, c1, c2, c3 := int64(coef[0]), int64(coef[1]), int64(coef[2]), int64(coef[3])
	var a1, a2, b1, b2, e1, e2, f1, f2 int32
	for h := d.halves - n; h < d.halves; h++ {
		for _, v := range &d.raw[h%longHalves] {
			x := int32(v)
			a1, a2 = x+int32((c0*int64(a1))>>coefBits)-a2, a1
			b1, b2 = x+int32((c1*int64(b1))>>coefBits)-b2, b1
			e1, e2 = x+int32((c2*int64(e1))>>coefBits)-e2, e1
			f1, f2 = x+int32((c3*int64(f1))>>coefBits)-f2, f1
		}
	}
	pw := func(c int64, s1, s2 int32) int64 {
		a, b := int64(s1), int64(s2)
		return a*a + b*b - (c*a>>coefBits)*b
	}
	return [4]int64{pw(c0, a1, a2), pw(c1, b1, b2), pw(c2, e1, e2), pw(c3, f1, f2)}
}

// step advances the digit state machine by one window ending at end.
func (d *Detector) step(digit byte, end int64, events []Event) []Event {
	if digit == 0 {
		d.run, d.runLen = 0, 0
	} else if digit == d.run {
		d.runLen++
	} else {
		d.run, d.runLen, d.runStart = digit, 1, end-window
	}
	if digit != 0 {
		d.runPow[d.runLen%3] = d.lastPow
	}
	if d.active != 0 {
		if digit == d.active {
			d.misses = 0
			d.lastHit = end
			return events
		}
		d.misses++
		if d.misses < endMisses {
			return events
		}
		events = append(events, Event{Kind: DigitEnd, Digit: d.active, Start: d.start, End: d.lastHit - timeAdjust})
		d.active = 0
	}
	if d.run != 0 && d.runLen >= startHits && d.confirm(d.run) {
		d.active, d.misses, d.lastHit = d.run, 0, end
		d.start = d.runStart + timeAdjust
		events = append(events, Event{Kind: DigitStart, Digit: d.active, Start: d.start})
	}
	return events
}

// confirm runs the long-window frequency test for a digit about to be
// reported.
func (d *Detector) confirm(digit byte) bool {
	for i := range 2 {
		lo := min(d.runPow[0][i], d.runPow[1][i], d.runPow[2][i])
		hi := max(d.runPow[0][i], d.runPow[1][i], d.runPow[2][i])
		if hi*256 > lo*stableQ8 {
			return false
		}
	}
	var sum [4]int64
	for _, w := range d.runPow {
		for i, v := range w {
			sum[i] += v
		}
	}
	if sum[0]*256 > sum[1]*avgNormalQ8 || sum[1]*256 > sum[0]*avgReverseQ8 {
		return false
	}
	if sum[2]*256 < sum[3]*avgRatioQ8 {
		return false
	}
	r, c, _ := position(digit)
	c += 4
	p := d.power4([4]int32{d.longCoef[r][0], d.longCoef[r][1], d.longCoef[r][2], d.longCoef[c][0]}, longHalves)
	q := d.power4([4]int32{d.longCoef[c][1], d.longCoef[c][2]}, longHalves)
	return max(p[1], p[2])*longSideQ8 < p[0]*256 && max(q[0], q[1])*longSideQ8 < p[3]*256
}
