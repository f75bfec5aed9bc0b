package v17

import (
	"math"

	"callbox/dsp/fax/internal/qam"
	"callbox/dsp/fax/modem"
)

// Receiver tuning.
const (
	rxBeta     = 0.5 // matched filter roll-off
	rxTaps     = 21  // matched filter length, samples
	eqTaps     = 21  // equaliser length, half-symbols
	acquireLen = 30  // symbols for timing and AGC to settle before looking for the jump
	dataAdapt  = 4   // in data, adapt the equaliser every this many symbols
	// Mean squared error allowed at the end of the training and over the
	// test segment, in receiver units squared (half the constellation's).
	trainErr = 0.25
	// depth is the Viterbi decoder's traceback, symbols (a power of two).
	depth = 16
)

// rxScale: the receiver works on the constellation halved, so that its
// largest points (9 units) stay clear of the equaliser's int16 inputs.
const rxScale = qam.Unit / 2

// The slicing grid: cells of a quarter receiver unit (half a
// constellation unit) each way, over +-gridMax constellation units.
const (
	gridMax  = 10
	gridRes  = 2 // cells per constellation unit
	gridSide = 2 * gridMax * gridRes
	gridCell = rxScale / gridRes
)

// subsetGrid[rate] holds, for each cell, the label of the point nearest
// the cell's centre in each of the eight subsets (labels equal mod 8): the
// Viterbi decoder's candidates.
var subsetGrid = map[int]*[gridSide * gridSide][8]uint8{}

func init() {
	for rate, p := range rates {
		g := new([gridSide * gridSide][8]uint8)
		for i := range g {
			x := (float64(i%gridSide)+0.5)/gridRes - gridMax
			y := (float64(i/gridSide)+0.5)/gridRes - gridMax
			var best [8]float64
			for j := range best {
				best[j] = math.Inf(1)
			}
			for l, c := range p.points {
				d := (x-float64(c[0]))*(x-float64(c[0])) + (y-float64(c[1]))*(y-float64(c[1]))
				if d < best[l&7] {
					best[l&7], g[i][l&7] = d, uint8(l)
				}
			}
		}
		subsetGrid[rate] = g
	}
}

// Rx is a V.17 demodulator: qam.Receiver with V.17's training and a
// Viterbi decoder for the trellis code.
type Rx struct {
	rx     *qam.Receiver
	fe     *qam.Frontend
	sink   modem.Sink
	rate   int
	p      rateParams
	points [128 + 4]qam.Point // the rate's constellation by label, then A B C D
	grid   *[gridSide * gridSide][8]uint8
	abcd   int // index of A in points
	short  bool

	// Training.
	scr   qam.Scrambler // the transmitter's, replayed
	train int           // the ABCD point last sent
	step  int           // training symbols so far (after the first of segment 2)
	seg2  int

	// The Viterbi decoder.
	metric [8]int32
	prev   [depth][8]uint8 // survivor's previous state
	label  [depth][8]uint8 // survivor's label
	t      int             // symbols decoded into the trellis
	prevY  int             // Y2 Y1 of the last symbol out
	desc   uint32          // the descrambler
}

// NewRx returns a demodulator for rate (14400, 12000, 9600 or 7200)
// expecting a long training, writing to sink.
func NewRx(rate int, sink modem.Sink) (*Rx, error) {
	if _, err := paramsOf(rate); err != nil {
		return nil, err
	}
	r := &Rx{sink: sink}
	r.fe = qam.NewFrontend(qam.RxConfig{Baud: Baud, Carrier: Carrier, Beta: rxBeta, Taps: rxTaps, Level: 10})
	r.rx = qam.NewReceiver(r.fe, eqTaps, r.params(rate), r, sink)
	if err := r.Restart(rate, false); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Rx) params(rate int) qam.Params {
	p := rates[rate]
	n := len(p.points)
	for i, c := range p.points {
		r.points[i] = qam.Point{Re: int32(c[0]) * rxScale, Im: int32(c[1]) * rxScale}
	}
	for i, c := range pointsABCD {
		r.points[n+i] = qam.Point{Re: int32(c[0]) * rxScale, Im: int32(c[1]) * rxScale}
	}
	r.abcd = n
	train, window := seg2Len+seg3Len, 48
	if r.short {
		train, window = seg2ShortLen, 32
	}
	return qam.Params{
		Phases: 10, Step: 3, // 2400 baud at 8 kHz
		AcquireLen: acquireLen, SeekLimit: 4 * seg1Len,
		TrainLen: train, TestLen: seg4Len, ErrWindow: window, ErrMax: trainErr,
		EqPower: 10, DataAdapt: dataAdapt, Points: r.points[:n+4],
		KeepEqualizer: r.short,
	}
}

// Restart forgets the signal and expects a new training at rate: a long
// one, or a short one when short is set (the equaliser then starts from
// where the last transmission left it, so a short training follows a long
// one at the same rate).
func (r *Rx) Restart(rate int, short bool) error {
	p, err := paramsOf(rate)
	if err != nil {
		return err
	}
	r.rate, r.p, r.short = rate, p, short
	r.grid = subsetGrid[rate]
	r.seg2 = seg2Len
	if short {
		r.seg2 = seg2ShortLen
	}
	r.rx.SetParams(r.fe, r.params(rate))
	return nil
}

// Carrier reports whether a signal is present.
func (r *Rx) Carrier() bool { return r.rx.Carrier() }

// Receive demodulates x.
func (r *Rx) Receive(x []int16) { r.rx.Receive(x) }

// Jumped: the first symbol of segment 2 (C, half a turn from the A two
// symbols before) has arrived after the ABAB (A first, B last).
func (r *Rx) Jumped(last *[qam.FitLen]int) {
	for j := range last {
		switch {
		case j == 0:
			last[j] = r.abcd + ptC
		case j%2 == 1:
			last[j] = r.abcd + ptB
		default:
			last[j] = r.abcd + ptA
		}
	}
	r.scr.Reset(scramblerInit)
	r.scramble(3, 2)
	r.train, r.step = ptC, 1
}

// scramble replays the transmitter's scrambler.
func (r *Rx) scramble(in uint32, n int) uint32 { return r.scr.Scramble(in, n) }

// TrainTarget is the next point of segments 2 and 3.
func (r *Rx) TrainTarget() int {
	if r.step < r.seg2 {
		b := r.scramble(3, 2)
		r.train = seg2Points[b&1<<1|b>>1]
	} else {
		k := r.step - r.seg2
		b := r.scramble(bridgeWord>>(2*(k&7)), 2)
		r.train = (r.train + bridgeSteps[b&1<<1|b>>1]) & 3
	}
	r.step++
	return r.abcd + r.train
}

// StartTest readies the trellis decoder for segment 4: the coder starts
// in state 0, the differential coder at 1 after a long training, 0 after
// a short one.
func (r *Rx) StartTest() {
	const far = 1 << 28
	r.metric = [8]int32{0, far, far, far, far, far, far, far}
	r.t = 0
	r.prevY = 1
	if r.short {
		r.prevY = 0
	}
}

// Decide feeds u to the Viterbi decoder, delivers the bits of the symbol
// that leaves its traceback (once past segment 4) and returns the point
// nearest u, for the equaliser and the carrier loop.
func (r *Rx) Decide(u qam.Point, _ bool) int {
	x := int(u.Re+gridMax*rxScale) / gridCell
	y := int(u.Im+gridMax*rxScale) / gridCell
	x = max(0, min(gridSide-1, x))
	y = max(0, min(gridSide-1, y))
	cands := &r.grid[y*gridSide+x]
	var d [8]int32
	best, bestD := 0, int32(math.MaxInt32)
	for j, l := range cands {
		d[j] = int32(min(qam.Dist2(u, r.points[l])>>8, 1<<24))
		if d[j] < bestD {
			best, bestD = int(l), d[j]
		}
	}
	// One trellis step: each state's four ways in.
	slot := r.t & (depth - 1)
	var next [8]int32
	for i := range next {
		next[i] = math.MaxInt32
	}
	for s, m := range r.metric {
		for yy, ns := range trellisNext[s] {
			sub := yy<<1 | int(ns>>2&1)
			if v := m + d[sub]; v < next[ns] {
				next[ns] = v
				r.prev[slot][ns] = uint8(s)
				r.label[slot][ns] = cands[sub]
			}
		}
	}
	low := next[0]
	bs := 0
	for i, v := range next {
		if v < low {
			low, bs = v, i
		}
	}
	for i := range next {
		r.metric[i] = next[i] - low
	}
	r.t++
	if r.t >= depth {
		// Trace the best survivor back to the symbol leaving the window.
		st := bs
		k := slot
		for range depth - 1 {
			st = int(r.prev[k][st])
			k = (k - 1) & (depth - 1)
		}
		r.out(int(r.label[k][st]), r.t-depth >= seg4Len)
	}
	return best
}

// out decodes a symbol's label into bits and descrambles them, delivering
// them when deliver is set.
func (r *Rx) out(label int, deliver bool) {
	y := label >> 1 & 3
	q := label>>3<<2 | (y-r.prevY)&3
	r.prevY = y
	for i := range r.p.bits {
		in := uint32(q>>i) & 1
		b := (in ^ r.desc>>17 ^ r.desc>>22) & 1
		r.desc = r.desc<<1 | in
		if deliver {
			r.sink.PutBit(int(b))
		}
	}
}
