package dtmf

import (
	"math"
)

// How the detector works. Eight Goertzel filters run over half-blocks of 51
// samples; each half-block's complex result is combined with the previous
// one's, so every 51 samples (6.4 ms) the detector sees a 102-sample
// (12.75 ms) window, the block length spandsp and Asterisk use, at twice
// their time resolution and the same cost per sample. A window is a hit for
// a digit when both tones are above the level floor, their twist is within
// limits, the other tones of each group are well below, the two tones carry
// most of the window's energy (dial tone frequencies discounted) and two
// extra Goertzel filters either side of each tone show the frequency is
// within 2.5 % of nominal. Those last checks run only on windows that passed
// the cheap ones, over a copy of the window's samples.
//
// A digit starts after startHits consecutive hits and ends after endMisses
// consecutive windows without it. Windows need about 62 % of their samples
// to be tone, so four hits need at least 23 ms of tone (never under 20 ms)
// while 40 ms always gives four whole windows; a 10 ms dropout spoils at
// most four windows and a 40 ms pause at least six.

const (
	half   = 51       // samples per half-block
	window = 2 * half // samples per analysis window

	startHits = 4
	endMisses = 5

	// timeAdjust moves reported edges from the first (last) hit window's
	// edge to the middle of where the tone edge can be given that window
	// hit and the one before (after) missed.
	timeAdjust = 13

	coefBits = 14 // Q14 Goertzel coefficients
)

// Goertzel coefficients 2cos(2πf/8000) in Q14, as constants so the kernel
// multiplies by immediates; TestCoefficients checks them against rowHz and
// colHz.
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
	// DialTones are frequencies (Hz) of call-progress tones that may sound
	// under the digits; their energy is left out of the test that the two
	// tones carry most of the energy. Nil means DefaultDialTones; use an
	// empty non-nil slice for none.
	DialTones []float64
}

// DefaultDialTones covers the dial tones of the US (350+440 Hz), China and
// Japan (450 Hz, 400 Hz) and Europe (425 Hz).
var DefaultDialTones = []float64{350, 400, 425, 440, 450}

// MuteDelay is the delay, in samples, of the audio Process passes on when
// muting: the detector must see the window after a half-block before it
// knows whether that half-block held a digit.
const MuteDelay = 2 * half

// Thresholds, as ratios of powers. Powers of a window are |X|² of a
// 102-sample DFT bin; a sine of amplitude A gives (A*51)².
var (
	// minPower is the floor per tone: -43 dBm0 (Q.24 wants -39 and a
	// 1.5 % off-frequency 1633 Hz tone reads 1.5 dB low).
	minPower = int64(math.Pow(Amplitude(-43)*half, 2))
)

const (
	// Twist limits in Q8: 11 dB normal and 6 dB reverse, that is Q.24's 8
	// and 4 dB plus what the 102-sample rectangular window adds: a 1.5 %
	// off-frequency column tone reads 1.5 dB low, and the stronger tone's
	// sidelobes move the weaker one's reading by up to 1.5 dB.
	normalTwistQ8  = 3223 // 10^(1.1) * 256
	reverseTwistQ8 = 1019 // 10^(0.6) * 256
	// relativePeakQ8: other tones of a group at least 8 dB under the best.
	relativePeakQ8 = 1615 // 10^(0.8) * 256
	// energyRatioQ8: the two tones carry at least 62 % of the energy.
	energyRatioQ8 = 159 // 0.62 * 256
	// sideRatioQ8: a tone's power must exceed the filters at ±5 % of its
	// nominal frequency, which puts the acceptance edge at ±2.5 %.
	sideRatioQ8 = 256
	sideOffset  = 0.05
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
	energy int64
	pos    int   // samples into the running half-block
	halves int64 // half-blocks completed

	// Complex results and energy of the previous half-block.
	prevRe, prevIm [8]int64
	prevEnergy     int64

	// raw holds the last three half-blocks: the window under test and,
	// when muting, the half-block being passed on.
	raw [3][half]int16

	// rotCos and rotSin rotate a half-block's result by its length, for
	// combining it with the next one; twCos and twSin turn the filter
	// state into a complex result. All Q14.
	rotCos, rotSin, twCos, twSin [8]int64

	sideCoef [8][2]int32 // Q14 coefficients at ±sideOffset
	dialCoef []int32     // Q14 coefficients of the dial tones

	// Digit state machine.
	run      byte  // digit of the current run of hits, 0 for none
	runLen   int   // consecutive hits of run
	runStart int64 // sample where the run's first window began
	active   byte  // digit reported as started, 0 for none
	start    int64 // reported start of the active digit
	lastHit  int64 // end of the active digit's last hit window
	misses   int   // consecutive windows without the active digit

	// hits remembers which recent windows were hits, bit 0 the newest,
	// for muting.
	hits uint8
}

// NewDetector returns a detector in its initial state.
func NewDetector(cfg DetectorConfig) *Detector {
	d := &Detector{cfg: cfg}
	freqs := append(rowHz[:], colHz[:]...)
	for k, f := range freqs {
		w := 2 * math.Pi * f / SampleRate
		d.rotCos[k] = q14(math.Cos(w * half))
		d.rotSin[k] = q14(math.Sin(w * half))
		d.twCos[k] = q14(math.Cos(w))
		d.twSin[k] = q14(math.Sin(w))
		d.sideCoef[k][0] = int32(q14(2 * math.Cos(w*(1-sideOffset))))
		d.sideCoef[k][1] = int32(q14(2 * math.Cos(w*(1+sideOffset))))
	}
	dial := cfg.DialTones
	if dial == nil {
		dial = DefaultDialTones
	}
	for _, f := range dial {
		d.dialCoef = append(d.dialCoef, int32(q14(2*math.Cos(2*math.Pi*f/SampleRate))))
	}
	return d
}

func q14(v float64) int64 { return int64(math.Round(v * (1 << coefBits))) }

// Reset returns the detector to its initial state, forgetting any digit in
// progress without reporting its end.
func (d *Detector) Reset() {
	*d = Detector{cfg: d.cfg, rotCos: d.rotCos, rotSin: d.rotSin, twCos: d.twCos,
		twSin: d.twSin, sideCoef: d.sideCoef, dialCoef: d.dialCoef}
}

// Process analyses samples, appends the events it finds to events and
// returns the extended slice. With Mute set it also overwrites samples with
// the audio delayed by MuteDelay, digits replaced by silence.
func (d *Detector) Process(samples []int16, events []Event) []Event {
	for len(samples) > 0 {
		n := min(len(samples), half-d.pos)
		chunk := samples[:n]
		d.goertzel(chunk)
		cur := &d.raw[d.halves%3]
		copy(cur[d.pos:], chunk)
		if d.cfg.Mute {
			// The half-block two before the running one is complete and
			// so are both windows that contain it.
			if d.hits&0b111 != 0 {
				clear(chunk)
			} else {
				copy(chunk, d.raw[(d.halves+1)%3][d.pos:])
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

// goertzel runs the eight filters and the energy sum over samples. Two
// interleaved groups of four filters keep the states in registers while
// giving the CPU independent multiplications to overlap.
func (d *Detector) goertzel(x []int16) {
	a1, a2, b1, b2 := d.s1[0], d.s2[0], d.s1[1], d.s2[1]
	c1, c2, e1, e2 := d.s1[2], d.s2[2], d.s1[3], d.s2[3]
	for _, v := range x {
		s := int32(v)
		a1, a2 = s+int32((c697*int64(a1))>>coefBits)-a2, a1
		b1, b2 = s+int32((c770*int64(b1))>>coefBits)-b2, b1
		c1, c2 = s+int32((c852*int64(c1))>>coefBits)-c2, c1
		e1, e2 = s+int32((c941*int64(e1))>>coefBits)-e2, e1
	}
	d.s1[0], d.s2[0], d.s1[1], d.s2[1] = a1, a2, b1, b2
	d.s1[2], d.s2[2], d.s1[3], d.s2[3] = c1, c2, e1, e2

	a1, a2, b1, b2 = d.s1[4], d.s2[4], d.s1[5], d.s2[5]
	c1, c2, e1, e2 = d.s1[6], d.s2[6], d.s1[7], d.s2[7]
	energy := d.energy
	for _, v := range x {
		s := int32(v)
		energy += int64(s * s)
		a1, a2 = s+int32((c1209*int64(a1))>>coefBits)-a2, a1
		b1, b2 = s+int32((c1336*int64(b1))>>coefBits)-b2, b1
		c1, c2 = s+int32((c1477*int64(c1))>>coefBits)-c2, c1
		e1, e2 = s+int32((c1633*int64(e1))>>coefBits)-e2, e1
	}
	d.s1[4], d.s2[4], d.s1[5], d.s2[5] = a1, a2, b1, b2
	d.s1[6], d.s2[6], d.s1[7], d.s2[7] = c1, c2, e1, e2
	d.energy = energy
}

// endHalf closes a half-block: it forms the window with the previous one,
// classifies it and runs the state machine.
func (d *Detector) endHalf(events []Event) []Event {
	var power [8]int64
	for k := range 8 {
		// Complex result of this half: s1 - e^{-jw} s2, referred to
		// its last sample.
		s1, s2 := int64(d.s1[k]), int64(d.s2[k])
		re := s1 - (d.twCos[k]*s2)>>coefBits
		im := (d.twSin[k] * s2) >> coefBits
		// The previous half, rotated by e^{jwH}, plus this one.
		pr, pi := d.prevRe[k], d.prevIm[k]
		wr := (d.rotCos[k]*pr-d.rotSin[k]*pi)>>coefBits + re
		wi := (d.rotSin[k]*pr+d.rotCos[k]*pi)>>coefBits + im
		power[k] = wr*wr + wi*wi
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
	digit := d.classify(&power, energy)
	d.hits <<= 1
	if digit != 0 {
		d.hits |= 1
	}
	return d.step(digit, end, events)
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
	pr, pc := p[r], p[c]
	if pr < minPower || pc < minPower {
		return 0
	}
	if pr*256 > pc*normalTwistQ8 || pc*256 > pr*reverseTwistQ8 {
		return 0
	}
	for k := range 4 {
		if k != r && p[k]*relativePeakQ8 > pr*256 {
			return 0
		}
		if 4+k != c && p[4+k]*relativePeakQ8 > pc*256 {
			return 0
		}
	}
	// A sine of power P (as |X|²) has energy 2P/window in the window.
	tone := 2 * (pr + pc) / window
	if tone*256 < energy*energyRatioQ8 {
		var dial int64
		for _, coef := range d.dialCoef {
			dial += 2 * d.windowPower(coef) / window
		}
		if tone*256 < (energy-dial)*energyRatioQ8 {
			return 0
		}
	}
	for _, k := range [2]int{r, c} {
		lo := d.windowPower(d.sideCoef[k][0])
		hi := d.windowPower(d.sideCoef[k][1])
		if max(lo, hi)*sideRatioQ8 >= p[k]*256 {
			return 0
		}
	}
	return keypad[r][c-4]
}

// windowPower runs one Goertzel filter over the current window's samples.
func (d *Detector) windowPower(coef int32) int64 {
	var s1, s2 int32
	for _, h := range [2]int64{d.halves - 2, d.halves - 1} {
		for _, v := range &d.raw[h%3] {
			s1, s2 = int32(v)+int32((int64(coef)*int64(s1))>>coefBits)-s2, s1
		}
	}
	a, b := int64(s1), int64(s2)
	return a*a + b*b - (int64(coef)*a>>coefBits)*b
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
	if d.run != 0 && d.runLen >= startHits {
		d.active, d.misses, d.lastHit = d.run, 0, end
		d.start = d.runStart + timeAdjust
		events = append(events, Event{Kind: DigitStart, Digit: d.active, Start: d.start})
	}
	return events
}
