// Package plc conceals lost packets of 8 kHz speech after ITU-T G.711
// Appendix I: on a loss it estimates the pitch from the recent history,
// repeats the last pitch period(s) with overlap-add at every junction,
// attenuates losses longer than 10 ms (silence after 60 ms), and blends the
// first good audio after a loss with the synthetic signal.
//
// Like Appendix I the concealer delays its output by 3.75 ms (30 samples),
// so the junction into a loss can be smoothed before it is played out.
// NewLowDelay's concealer passes audio through undelayed until the first
// loss: that loss's first frame then cross-fades from a forward-smoothed
// continuation of the undelayed signal into Appendix I's delayed output,
// which the concealer keeps from then on (until Reset). The
// jitter buffer calls Good for every received frame and Lost for every
// missing one, normally 10 ms (80 samples) at a time; any lengths work and
// give the same result.
package plc

// Algorithm constants of G.711 Appendix I, in samples at 8 kHz.
const (
	// Delay is the output delay: 3.75 ms, a quarter of the longest pitch.
	Delay = 30
	// FrameLen is the frame the timings are counted in: 10 ms.
	FrameLen = 80

	histLen  = 390 // 48.75 ms: three longest pitch periods plus the overlap
	pitchMin = 40  // 200 Hz
	pitchMax = 120 // 66.7 Hz
	corrLen  = 160 // 20 ms correlation window
	// Each further 10 ms of loss lengthens the blend at its end by 4 ms.
	overlapIncr = 32
	// Attenuation: from the second lost frame down by 20 % per 10 ms, to
	// silence at 60 ms.
	fadeEnd    = 6 * FrameLen
	maxPeriods = 3
)

// Concealer is the state of one audio stream. The zero value is ready to
// use. A Concealer is not safe for concurrent use.
type Concealer struct {
	// hist holds the stream as it will be played (input, or synthesis
	// during a loss); the latest sample is hist[w-1]. It is a linear buffer
	// of twice the history, moved back when full.
	hist [2 * histLen]int16
	w    int

	lost   bool
	erased int // samples since the loss began (keeps counting during the blend back)

	pbuf    [histLen]int16 // history at the start of the loss, junction smoothed
	pitch   int
	overlap int // a quarter pitch period
	periods int // pitch periods being repeated (1..3)
	pos     int // next pbuf sample of the repetition

	// A blend from one repetition to the next longer one.
	xpos, xleft, xlen int

	// The blend back to good audio after a loss.
	rec, recLen int

	// Low delay: undelayed until the first loss (direct), then a
	// cross-fade of tLeft samples from the undelayed continuation (the last
	// pitch period as it was, zcont, plus the junction's offset zoff fading
	// out) into the delayed stream.
	lowDelay, direct bool
	tLeft, tPos      int
	zcont            [pitchMax]int16
	zoff             int32
	zlo, zhi         int32 // the range of the signal it continues
}

// transition is the length of the cross-fade from the undelayed stream into
// the delayed one at the first loss of a low-delay concealer: one frame.
const transition = FrameLen

// New returns a Concealer.
func New() *Concealer { return &Concealer{w: histLen} }

// NewLowDelay returns a Concealer whose output is undelayed until the first
// loss (see the package comment).
func NewLowDelay() *Concealer { return &Concealer{w: histLen, lowDelay: true, direct: true} }

// Reset forgets the stream (a low-delay concealer is undelayed again).
func (c *Concealer) Reset() {
	low := c.lowDelay
	*c = Concealer{w: histLen, lowDelay: low, direct: low}
}

// Latency returns the samples by which the output currently trails the
// input: Delay, or 0 for a low-delay concealer that has seen no loss.
func (c *Concealer) Latency() int {
	if c.direct {
		return 0
	}
	return Delay
}

// Good passes received audio: out gets the stream delayed by Delay samples.
// out and in must have the same length; out may alias in.
func (c *Concealer) Good(out, in []int16) {
	if len(out) != len(in) {
		panic("plc: Good: slices of different lengths")
	}
	if c.w == 0 {
		c.w = histLen // zero value
	}
	if c.direct {
		c.record(in)
		copy(out, in)
		return
	}
	if c.lost {
		c.lost = false
		frames := (c.erased + FrameLen - 1) / FrameLen
		c.recLen = min(c.overlap+(frames-1)*overlapIncr, FrameLen)
		c.rec = 0
	}
	for len(in) > 0 && c.rec < c.recLen {
		syn := c.synth()
		// Linear cross-fade from the synthetic continuation to the
		// received signal.
		n := int32(c.recLen + 1)
		k := int32(c.rec + 1)
		v := int16((int32(syn)*(n-k) + int32(in[0])*k) / n)
		out[0] = c.fade(c.push(v), in[0])
		c.rec++
		out, in = out[1:], in[1:]
	}
	for len(in) > 0 && c.tLeft > 0 {
		// Still fading in the delay: the undelayed stream is the input.
		x := in[0]
		out[0] = c.fade(c.push(x), x)
		out, in = out[1:], in[1:]
	}
	// Steady state: append to the history, play out from Delay back.
	for len(in) > 0 {
		if c.w == len(c.hist) {
			copy(c.hist[:histLen], c.hist[histLen:])
			c.w = histLen
		}
		k := min(len(in), len(c.hist)-c.w)
		copy(c.hist[c.w:c.w+k], in[:k]) // first: out may alias in
		copy(out[:k], c.hist[c.w-Delay:c.w-Delay+k])
		c.w += k
		out, in = out[k:], in[k:]
	}
}

// Lost conceals len(out) missing samples, writing the (delayed) stream to out.
func (c *Concealer) Lost(out []int16) {
	if c.w == 0 {
		c.w = histLen
	}
	for i := range out {
		if !c.lost {
			if c.direct {
				c.leaveDirect()
			}
			c.start()
		} else if (c.erased == FrameLen || c.erased == 2*FrameLen) && c.periods < maxPeriods {
			// 10 and 20 ms into the loss, repeat one more period so the
			// signal does not buzz, blending over a quarter period.
			c.xpos, c.xleft, c.xlen = c.pos, c.overlap, c.overlap
			c.periods++
			c.pos -= c.pitch
		}
		if c.tLeft > 0 {
			// The undelayed continuation: the last period as it was, its
			// junction offset fading over a quarter period.
			z := int32(c.zcont[c.tPos%c.pitch])
			if q := int32(c.overlap); int32(c.tPos) < q {
				z += c.zoff * (q - int32(c.tPos)) / q
			}
			out[i] = c.fade(c.push(c.synth()), int16(max(c.zlo, min(c.zhi, z))))
			continue
		}
		out[i] = c.push(c.synth())
	}
}

// record appends undelayed input to the history.
func (c *Concealer) record(in []int16) {
	for len(in) > 0 {
		if c.w == len(c.hist) {
			copy(c.hist[:histLen], c.hist[histLen:])
			c.w = histLen
		}
		k := min(len(in), len(c.hist)-c.w)
		copy(c.hist[c.w:c.w+k], in[:k])
		c.w += k
		in = in[k:]
	}
}

// leaveDirect ends the undelayed mode at the first loss: it keeps the
// period the undelayed stream continues with (before start smooths the
// history's end for the delayed one) and arms the cross-fade.
func (c *Concealer) leaveDirect() {
	c.direct = false
	p := pitch(c.hist[c.w-histLen : c.w])
	copy(c.zcont[:p], c.hist[c.w-p:c.w])
	// Repeating the last period jumps from x[e-1] to x[e-p]; shifting the
	// repetition by x[e-1]-x[e-p-1] continues the signal's slope instead.
	c.zoff = int32(c.hist[c.w-1]) - int32(c.hist[c.w-p-1])
	// The shifted repetition stays within the range of the signal it
	// continues (noise can make the offset large).
	c.zlo, c.zhi = int32(c.hist[c.w-1]), int32(c.hist[c.w-1])
	for _, v := range c.zcont[:p] {
		c.zlo, c.zhi = min(c.zlo, int32(v)), max(c.zhi, int32(v))
	}
	c.tLeft, c.tPos = transition, 0
}

// fade mixes the delayed sample d into the undelayed u during the
// transition, counting it; outside the transition it returns d.
func (c *Concealer) fade(d, u int16) int16 {
	if c.tLeft == 0 {
		return d
	}
	k := int32(transition - c.tLeft + 1)
	n := int32(transition + 1)
	c.tLeft--
	c.tPos++
	return int16((int32(u)*(n-k) + int32(d)*k) / n)
}

// push appends v to the stream and returns the sample Delay before it.
func (c *Concealer) push(v int16) int16 {
	if c.w == len(c.hist) {
		copy(c.hist[:histLen], c.hist[histLen:])
		c.w = histLen
	}
	o := c.hist[c.w-Delay]
	c.hist[c.w] = v
	c.w++
	return o
}

// start begins a loss: find the pitch and smooth the junction from the
// last received sample into the repetition.
func (c *Concealer) start() {
	copy(c.pbuf[:], c.hist[c.w-histLen:c.w])
	p := pitch(c.pbuf[:])
	q := p >> 2
	c.pitch, c.overlap = p, q
	// Blend the last quarter period of real signal into the quarter period
	// one pitch earlier, so that the stream ends where the repeated period
	// begins. Those samples have not been played yet (q <= Delay).
	const e = histLen
	for i := range q {
		real := int32(c.pbuf[e-q+i])
		prev := int32(c.pbuf[e-p-q+i])
		v := int16((real*int32(q-i) + prev*int32(i+1)) / int32(q+1))
		c.pbuf[e-q+i] = v
		c.hist[c.w-q+i] = v
	}
	c.lost = true
	c.erased = 0
	c.periods = 1
	c.pos = e - p
	c.xleft = 0
	c.rec, c.recLen = 0, 0
}

// synth returns the next sample of the repetition, attenuated, and counts it.
func (c *Concealer) synth() int16 {
	v := int32(c.pbuf[c.pos])
	if c.pos++; c.pos == histLen {
		c.pos = histLen - c.periods*c.pitch
	}
	if c.xleft > 0 {
		old := int32(c.pbuf[c.xpos])
		if c.xpos++; c.xpos == histLen {
			c.xpos = histLen - (c.periods-1)*c.pitch
		}
		n := int32(c.xlen + 1)
		k := int32(c.xlen - c.xleft + 1)
		v = (old*(n-k) + v*k) / n
		c.xleft--
	}
	if c.erased >= FrameLen {
		// Linear from 1 at 10 ms to 0 at 60 ms, exact in Q16.
		g := max(0, int32(fadeEnd-c.erased)*65536/(fadeEnd-FrameLen))
		v = (v * g) >> 16
	}
	c.erased++
	return int16(v)
}

// pitch returns the period, in pitchMin..pitchMax samples, that maximises
// the normalised correlation of the last corrLen samples of h with the
// samples one period earlier. Appendix I searches coarsely first (every
// other lag on every other sample); the full search costs about 10 us per
// loss and finds periods such as 2 x 44.4 samples that the coarse grid
// misses, which otherwise click at every repetition.
func pitch(h []int16) int {
	return search(h, pitchMin, pitchMax, 1)
}

// search scores lags lo..hi in steps of dec, using every dec-th sample,
// and returns the best. Integer arithmetic throughout: the score c*|c|/e of
// each lag is compared after scaling c and e below 2^31.
func search(h []int16, lo, hi, dec int) int {
	e := len(h)
	x := h[e-corrLen : e]
	var cs, es [pitchMax - pitchMin + 1]int64
	var top int64
	for i := 0; i < len(x); i += dec {
		top += int64(x[i]) * int64(x[i])
	}
	// The energy of the lagged window slides: one sample in, one out.
	var en int64
	y0 := e - corrLen - lo
	for i := 0; i < corrLen; i += dec {
		en += int64(h[y0+i]) * int64(h[y0+i])
	}
	n := 0
	for lag := lo; lag <= hi; lag += dec {
		if lag > lo {
			// The window moves back by dec samples.
			in := int64(h[e-corrLen-lag])
			out := int64(h[e-corrLen-lag+corrLen])
			en += in*in - out*out
		}
		y := h[e-corrLen-lag : e-lag]
		var c int64
		for i := 0; i < corrLen; i += dec {
			c += int64(x[i]) * int64(y[i])
		}
		cs[n], es[n] = c, en
		n++
		top = max(top, en)
	}
	// |c| <= sqrt(e * energy(x)) <= top, so one shift brings all below 2^31
	// and c*|c| below 2^62.
	shift := uint(0)
	for top>>shift >= 1<<31 {
		shift++
	}
	best, bestScore := hi, int64(-1)
	for i := range n {
		c, en := cs[i]>>shift, es[i]>>shift
		if en < 1 || c <= 0 {
			continue
		}
		if s := c * c / en; s > bestScore {
			best, bestScore = lo+i*dec, s
		}
	}
	return best
}
