// Package echo is a fixed-point line echo canceller for the 2-to-4-wire
// hybrid of an FXS or FXO port.
//
// The far-end signal (what the box sends towards the line) leaks back through
// the hybrid into the near-end signal (what the line sends to the box). The
// Canceller models that echo path with an adaptive FIR filter and subtracts
// its estimate from the near-end signal.
//
// Design, all in integer arithmetic per sample:
//   - DC removal: the same first-order high-pass filter on both inputs, so
//     the echo path the filter sees stays exactly the hybrid's.
//   - Two-path adaptation (foreground/background): a background filter adapts
//     with NLMS (on every other sample); the foreground filter, which
//     produces the output, only takes over the background's taps when the
//     background is measurably better, is really cancelling echo, and a
//     frozen copy of it stays better on the next 32 ms of signal. Near-end
//     speech (double talk) can disturb the background but not the
//     foreground, and a background that goes astray is reset from the
//     foreground. No double-talk detector threshold has to be right for the
//     output to stay stable.
//   - A non-linear processor (NLP) that replaces a residual far below the
//     far-end level with comfort noise matched to the near-end background.
//   - A tone disabler: a V.25 answer tone with phase reversals (/ANS, from
//     a fax or modem) on either path, found by dsp/tone's FaxDetector,
//     makes the canceller transparent until both paths have been quiet for
//     250 ms (G.165, G.168).
//   - Bypass: the media engine can switch the canceller to a transparent
//     path at any time (clear-channel data, tests).
//
// ERLE per G.168 echo path model, convergence, double talk and the speed
// against libspandsp are measured by the tests: go test -v ./dsp/echo.
package echo

import (
	"errors"
	"fmt"
	"math/bits"

	"callbox/dsp/tone"
)

// Tail lengths accepted by New, in taps (one tap per 8 kHz sample).
const (
	MinTaps = 128  // 16 ms
	MaxTaps = 1024 // 128 ms
)

// Fixed-point formats.
const (
	coefShift = 28 // taps are Q28 in int32: range ±8, resolution 3.7e-9
	stepShift = 16 // extra precision of the per-sample NLMS factor
	powShift  = 8  // level estimators hold power << powShift
	levelRate = 6  // level estimators average over 2^6 samples (8 ms)
	muBits    = 2  // the NLMS step size is in quarters
)

// errTaps: a tail length outside MinTaps..MaxTaps (unexported: callers only
// report it).
var errTaps = errors.New("echo: taps out of range")

// Canceller is one line echo canceller. The zero value is not usable; call
// New. A Canceller is not safe for concurrent use.
type Canceller struct {
	taps int

	// hist holds the DC-blocked far-end samples in time order; the current
	// window is hist[pos-taps+1 : pos+1]. When pos reaches the end, the last
	// taps samples move to the front, so the window is always contiguous.
	hist []int16
	pos  int
	// fg and bg are the foreground and background taps (Q28), stored in the
	// same time order as the window: fg[taps-1] multiplies the newest sample.
	fg, bg []int32
	// xpow is the exact power (sum of squares) of the far-end window.
	xpow int64

	farDC, nearDC dcBlocker

	// Smoothed powers (<< powShift) of the near input, the far input and the
	// two error signals.
	pNear, pFar, pFG, pBG int64
	better, worse         int // consecutive samples bg was better / much worse
	// The trial of a nominated background (see arbitrate): cand is its
	// frozen snapshot; trial counts the samples left; the three sums are
	// the energies of the nominee's error, the foreground's and the near
	// input over every trialStep-th sample of the trial.
	cand                          []int32
	trial                         int
	trialDone                     bool
	trialCand, trialFG, trialNear int64
	mu                            int32 // NLMS step size in Q(muBits)

	nlp        bool
	noiseLevel int64 // smoothed near-end background power estimate (<< powShift)
	noiseAmp   int32 // comfort noise amplitude derived from noiseLevel
	seed       uint32
	cnCount    int

	// partFG and partBG are partial filter outputs computed ahead (see
	// updateFIR); stale when not kept up.
	partFG, partFG2, partBG int64
	stale                   bool
	odd                     bool // off the background's every-other-sample grid

	bypass bool
	adapt  bool

	// The tone disabler: fax and modem answer tones with phase reversals
	// (V.25 /ANS) on either path switch the canceller off until both paths
	// have been quiet for 250 ms (G.165/G.168).
	toneDisable           bool
	faxFar, faxNear       *tone.FaxDetector
	toneOff               bool
	blockN                int   // samples into the current 10 ms block
	blockFarE, blockNearE int64 // energies of the two paths in that block
	quietBlocks           int
}

// Option configures a Canceller.
type Option func(*Canceller)

// WithNLP enables or disables the non-linear processor and its comfort noise
// (enabled by default). Tests of the linear canceller turn it off.
func WithNLP(on bool) Option { return func(c *Canceller) { c.nlp = on } }

// WithAdaptation enables or disables adaptation (enabled by default); with it
// off the canceller keeps its current echo path model.
func WithAdaptation(on bool) Option { return func(c *Canceller) { c.adapt = on } }

// WithToneDisable enables or disables the tone disabler (enabled by
// default): a 2100 Hz answer tone with phase reversals on either path turns
// cancelling off, as fax and modem data pumps run their own cancellers.
func WithToneDisable(on bool) Option { return func(c *Canceller) { c.toneDisable = on } }

// New returns a canceller with a tail of taps samples (MinTaps..MaxTaps).
func New(taps int, opts ...Option) (*Canceller, error) {
	if taps < MinTaps || taps > MaxTaps {
		return nil, fmt.Errorf("%w: %d not in %d..%d", errTaps, taps, MinTaps, MaxTaps)
	}
	c := &Canceller{
		taps:  taps,
		hist:  make([]int16, 2*taps),
		fg:    make([]int32, taps),
		bg:    make([]int32, taps),
		cand:  make([]int32, taps),
		mu:    3,
		nlp:   true,
		adapt: true,
		seed:  0x1234567,

		toneDisable: true,
		faxFar:      tone.NewFaxDetector(tone.FaxConfig{}),
		faxNear:     tone.NewFaxDetector(tone.FaxConfig{}),
	}
	for _, o := range opts {
		o(c)
	}
	c.Reset()
	return c, nil
}

// Taps returns the tail length in samples.
func (c *Canceller) Taps() int { return c.taps }

// Reset forgets the echo path model and all signal history.
func (c *Canceller) Reset() {
	clear(c.hist)
	clear(c.fg)
	clear(c.bg)
	c.pos = c.taps - 1
	c.xpow = 0
	c.partFG, c.partFG2, c.partBG, c.stale, c.odd = 0, 0, 0, false, false
	c.farDC, c.nearDC = dcBlocker{}, dcBlocker{}
	c.pNear, c.pFar, c.pFG, c.pBG = 0, 0, 0, 0
	c.better, c.worse = 0, 0
	c.trial, c.trialDone = 0, false
	c.noiseLevel = 1 << (powShift + 16) // start high; the estimator tracks down fast
	c.noiseAmp = 0
	c.cnCount = 0
	c.faxFar.Reset()
	c.faxNear.Reset()
	c.toneOff = false
	c.blockN, c.blockFarE, c.blockNearE, c.quietBlocks = 0, 0, 0, 0
}

// SetBypass switches the canceller to a transparent path (on) or back to
// cancelling (off). While bypassed the near-end signal passes unchanged and
// the model is kept, so cancelling resumes where it stopped. The media engine
// bypasses for fax and modem calls and clear-channel data.
func (c *Canceller) SetBypass(on bool) { c.bypass = on }

// Bypassed reports whether the canceller is in bypass.
func (c *Canceller) Bypassed() bool { return c.bypass }

// SetNLP enables or disables the non-linear processor at run time.
func (c *Canceller) SetNLP(on bool) { c.nlp = on }

// SetAdaptation enables or disables adaptation at run time.
func (c *Canceller) SetAdaptation(on bool) { c.adapt = on }

// Process cancels echo from near, the signal from the line, given far, the
// signal sent to the line over the same samples, and writes the result to
// out. The three slices must have the same length; out may alias near.
// Blocks of any length give the same result as one long call.
func (c *Canceller) Process(out, near, far []int16) {
	if len(near) != len(far) || len(out) != len(near) {
		panic("echo: Process: slices of different lengths")
	}
	// Work in pieces that end on the tone disabler's 10 ms grid, so that
	// its decisions take effect at the same sample whatever the caller's
	// block length.
	for len(near) > 0 {
		k := min(toneBlock-c.blockN, len(near))
		if c.toneDisable {
			// Before cancelling: out may alias near.
			c.faxFar.Process(far[:k])
			c.faxNear.Process(near[:k])
			c.blockFarE += energy(far[:k])
			c.blockNearE += energy(near[:k])
		}
		for i := range k {
			out[i] = c.sample(near[i], far[i])
		}
		out, near, far = out[k:], near[k:], far[k:]
		if c.blockN += k; c.blockN == toneBlock {
			c.blockN = 0
			if c.toneDisable {
				c.toneCheck()
			}
		}
	}
}

// Tone disabler timing (G.165 clause 4, G.168 clause 6.4.2.10).
const (
	toneBlock = 80 // 10 ms, the fax detector's block
	// Both paths below -36 dBm0 for 250 ms re-enable the canceller; the
	// limit is the energy of a -36 dBm0 sine over one block.
	quietBlocksOn = 25
	quietEnergy   = 366 * 366 / 2 * toneBlock
)

// ToneDisabled reports whether an answer tone has switched the canceller off.
func (c *Canceller) ToneDisabled() bool { return c.toneOff }

// toneCheck runs at the end of every 10 ms block.
func (c *Canceller) toneCheck() {
	if !c.toneOff {
		if c.faxFar.PhaseReversalSeen() || c.faxNear.PhaseReversalSeen() {
			c.toneOff, c.quietBlocks = true, 0
		}
	} else if c.blockFarE < quietEnergy && c.blockNearE < quietEnergy {
		if c.quietBlocks++; c.quietBlocks >= quietBlocksOn {
			c.toneOff = false
			c.faxFar.Reset()
			c.faxNear.Reset()
		}
	} else {
		c.quietBlocks = 0
	}
	c.blockFarE, c.blockNearE = 0, 0
}

func energy(x []int16) (e int64) {
	for _, v := range x {
		e += int64(v) * int64(v)
	}
	return e
}

// sample processes one sample pair and returns the near-end sample with the
// echo removed.
func (c *Canceller) sample(near, far int16) int16 {
	x := c.farDC.filter(far)
	d := c.nearDC.filter(near)

	// Slide the far-end window.
	L := c.taps
	if c.pos == len(c.hist)-1 {
		copy(c.hist, c.hist[len(c.hist)-L:])
		c.pos = L - 1
	}
	old := int64(c.hist[c.pos-L+1])
	c.pos++
	c.hist[c.pos] = x
	c.xpow += int64(x)*int64(x) - old*old

	if c.bypass || c.toneOff {
		c.stale = true
		c.trial, c.trialDone = 0, false
		return near
	}

	win := c.hist[c.pos-L+1 : c.pos+1]
	const half = 1 << (coefShift - 1)
	var yf, yb int64
	if c.stale {
		// The partial sums were not kept up (bypass): compute in full and
		// restart the decimation grid here.
		yf, yb = fir2(c.fg, c.bg, win)
		c.odd, c.stale = false, false
	} else {
		if c.odd {
			yf = c.partFG + int64(c.fg[L-1])*int64(x)
		} else {
			yf = c.partFG2 + int64(c.fg[L-2])*int64(win[L-2]) + int64(c.fg[L-1])*int64(x)
			yb = c.partBG + int64(c.bg[L-2])*int64(win[L-2]) + int64(c.bg[L-1])*int64(x)
		}
	}
	ef := sat16(int32(d) - int32((yf+half)>>coefShift))
	if c.trial > 0 {
		c.trySample(win, d, ef)
	}
	c.pNear += (sq(int32(d)) - c.pNear) >> levelRate
	c.pFar += (sq(int32(x)) - c.pFar) >> levelRate
	c.pFG += (sq(int32(ef)) - c.pFG) >> levelRate

	// Adapt only on far-end signal well above the idle channel noise:
	// average power of at least 24^2 (about -55 dBm0).
	farActive := c.xpow > int64(L)*24*24

	if !c.odd {
		// The filters run on every other sample. One pass over the taps
		// adapts the background and computes the foreground's outputs for
		// the next two samples and the background's for the one after next,
		// less the taps whose samples have not arrived yet. Four multiplies
		// per tap every other sample: two per tap and sample.
		eb := sat16(int32(d) - int32((yb+half)>>coefShift))
		c.pBG += (sq(int32(eb)) - c.pBG) >> (levelRate - 1)
		var f int64
		if c.adapt && farActive {
			f = c.step(eb)
		}
		c.partFG, c.partFG2, c.partBG = updateFIR(c.fg, c.bg, win, f)
		if c.adapt && farActive {
			c.arbitrate(win)
		}
	}
	c.odd = !c.odd

	if !c.nlp {
		return ef
	}
	return c.nonLinear(ef, farActive)
}

// Trial of a nominated background: 32 ms, scored on every 4th sample so
// that it costs an eighth of a filter per sample.
const (
	trialLen  = 256
	trialStep = 4
)

// trySample scores the frozen nominee and the foreground on one sample of
// the trial.
func (c *Canceller) trySample(win []int16, d, ef int16) {
	if c.trial%trialStep == 0 {
		const half = 1 << (coefShift - 1)
		ec := int64(sat16(int32(d) - int32((dot(c.cand, win)+half)>>coefShift)))
		c.trialCand += ec * ec
		c.trialFG += int64(ef) * int64(ef)
		c.trialNear += int64(d) * int64(d)
	}
	if c.trial--; c.trial == 0 {
		c.trialDone = true
	}
}

// step returns the NLMS factor mu*e/(|x|^2 + delta) for the background
// update, in Q(coefShift+stepShift).
func (c *Canceller) step(e int16) int64 {
	den := c.xpow + int64(c.taps)*64
	f := (int64(e) << (coefShift + stepShift - muBits)) * int64(c.mu) / den
	// Bound a single step to one unit per tap so that no input, however
	// pathological, can wrap a tap.
	const maxF = (1 << (coefShift + stepShift)) / 32768
	return max(-maxF, min(maxF, f))
}

// arbitrate moves taps between the two filters; win is the current window
// for recomputing the partial outputs.
func (c *Canceller) arbitrate(win []int16) {
	L := c.taps
	// The background is nominated when its error is at least 0.6 dB below
	// the foreground's and 15 dB below the near input (it cancels echo
	// rather than just differing), while the near input is weaker than the
	// far end's (no hybrid amplifies: louder is near-end speech), sustained
	// for 8 ms (32 updates).
	//
	// A nomination is not enough: NLMS can follow near-end speech for a
	// while when it resembles the far end's (voiced sounds, the same
	// voice), so a background that merely tracks the near end can look
	// better. A snapshot of the nominee is held frozen and tried on the next
	// 32 ms of signal beside the foreground (see trySample); a frozen filter
	// cannot keep tracking, so a nominee that only followed the near end
	// fails the trial.
	if c.pBG < c.pFG-c.pFG>>3 && c.pBG < c.pNear>>5 && c.pNear < c.pFar {
		c.better++
		if c.better >= 32 && c.trial == 0 && !c.trialDone {
			copy(c.cand, c.bg)
			c.trial = trialLen
			c.trialCand, c.trialFG, c.trialNear = 0, 0, 0
			c.better = 0
		}
	} else {
		c.better = 0
	}
	if c.trialDone {
		c.trialDone = false
		// The frozen nominee must beat the foreground by 1.6 dB and leave
		// 18 dB less than the near input over the trial.
		if c.trialCand < c.trialFG*11/16 && c.trialCand < c.trialNear>>6 {
			copy(c.fg, c.cand)
			c.partFG = dot(c.fg[:L-1], win[1:])
			c.partFG2 = dot(c.fg[:L-2], win[2:])
			c.pFG = c.pBG
		}
	}
	// A background 6 dB worse than the foreground for 32 ms has been thrown
	// off by near-end speech: restart it from the foreground.
	if c.pBG > c.pFG<<2 && c.pBG > 64<<powShift {
		c.worse++
		if c.worse >= 128 {
			copy(c.bg, c.fg)
			c.partBG = dot(c.bg[:L-2], win[2:])
			c.pBG = c.pFG
			c.worse = 0
		}
	} else {
		c.worse = 0
	}
}

// nonLinear suppresses a residual echo and fills the gap with comfort noise.
func (c *Canceller) nonLinear(e int16, farActive bool) int16 {
	// Background noise estimate from the residual: falls fast, rises
	// slowly (about 3 dB/s), so speech does not lift it but noise does.
	if c.pFG < c.noiseLevel {
		c.noiseLevel += (c.pFG - c.noiseLevel) >> 5
	} else {
		c.noiseLevel += (c.noiseLevel >> 13) + 1
	}
	if c.cnCount++; c.cnCount >= 64 {
		c.cnCount = 0
		// Uniform noise of amplitude A has power A^2/3.
		c.noiseAmp = int32(isqrt(uint64(3 * (c.noiseLevel >> powShift))))
	}
	// Suppress when the far end talks and the residual is 30 dB or more below
	// it: whatever is left is echo. Near-end speech is louder and passes.
	if farActive && c.pFG<<10 < c.pFar {
		c.seed = c.seed*1664525 + 1013904223
		r := int32(int16(c.seed >> 16)) // uniform -32768..32767
		return int16((r * c.noiseAmp) >> 15)
	}
	return e
}

// fir2 returns the dot products of a and b with x, unscaled.
func fir2(a, b []int32, x []int16) (sa, sb int64) {
	a = a[:len(x)]
	b = b[:len(x)]
	for i, v := range x {
		xv := int64(v)
		sa += int64(a[i]) * xv
		sb += int64(b[i]) * xv
	}
	return sa, sb
}

// dot returns the dot product of h with x, unscaled.
func dot(h []int32, x []int16) int64 {
	h = h[:len(x)]
	var s0, s1 int64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xx := x[i : i+4 : i+4]
		hh := h[i : i+4 : i+4]
		s0 += int64(hh[0])*int64(xx[0]) + int64(hh[2])*int64(xx[2])
		s1 += int64(hh[1])*int64(xx[1]) + int64(hh[3])*int64(xx[3])
	}
	for ; i < len(x); i++ {
		s0 += int64(h[i]) * int64(x[i])
	}
	return s0 + s1
}

// updateFIR adds f*w[j] >> stepShift to every background tap and returns
// the dot products of fg[:L-1] with w[1:] and of fg[:L-2] with w[2:] (the
// foreground's outputs for the next two samples, less the taps whose
// samples have not arrived), and of the updated bg[:L-2] with w[2:] (the
// background's output two samples on, likewise).
func updateFIR(fg, bg []int32, w []int16, f int64) (pf1, pf2, pb int64) {
	const half = 1 << (stepShift - 1)
	n := len(w) - 2
	fg = fg[:n+1]
	bg = bg[:n+2]
	w = w[:n+2]
	x0, x1 := int64(w[0]), int64(w[1])
	for j := 0; j < n; j++ {
		x2 := int64(w[j+2])
		b := bg[j] + int32((f*x0+half)>>stepShift)
		bg[j] = b
		pb += int64(b) * x2
		h := int64(fg[j])
		pf1 += h * x1
		pf2 += h * x2
		x0, x1 = x1, x2
	}
	pf1 += int64(fg[n]) * x1
	bg[n] += int32((f*x0 + half) >> stepShift)
	bg[n+1] += int32((f*x1 + half) >> stepShift)
	return pf1, pf2, pb
}

func sq(v int32) int64 { return int64(v) * int64(v) << powShift }

func sat16(v int32) int16 {
	return int16(max(-32768, min(32767, v)))
}

// isqrt is the integer square root, used at set-up rate only.
func isqrt(v uint64) uint64 {
	if v == 0 {
		return 0
	}
	r := uint64(1) << ((bits.Len64(v) + 1) / 2)
	for {
		n := (r + v/r) / 2
		if n >= r {
			return r
		}
		r = n
	}
}

// dcBlocker is the high-pass y[n] = x[n] - x[n-1] + a y[n-1] with
// a = 1 - 2^-7 (corner near 10 Hz), in Q15 state.
type dcBlocker struct {
	prev int64 // x[n-1]
	acc  int64 // y[n-1] in Q15
}

func (b *dcBlocker) filter(in int16) int16 {
	x := int64(in)
	b.acc += (x-b.prev)<<15 - b.acc>>7
	b.prev = x
	return int16(max(-32768, min(32767, (b.acc+1<<14)>>15)))
}
