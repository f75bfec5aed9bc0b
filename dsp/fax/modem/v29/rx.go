package v29

import (
	"math"

	"callbox/dsp/fax/internal/qam"
	"callbox/dsp/fax/modem"
)

// Receiver tuning.
const (
	rxBeta     = 0.5 // matched filter roll-off
	rxTaps     = 21  // matched filter length, samples
	eqTaps     = 17  // equaliser length, half-symbols
	acquireLen = 30  // symbols for timing and AGC to settle before looking for CDCD
	dataAdapt  = 8   // in data, adapt the equaliser every this many symbols
	// Mean squared error allowed at the end of CDCD and over the ones, in
	// constellation units squared: at 9600 and 7200, and at 4800.
	trainErr     = 0.6
	trainErr4800 = 1.6
)

// Rx is a V.29 demodulator: qam.Receiver with V.29's training and
// decisions.
type Rx struct {
	rx       *qam.Receiver
	fe       *qam.Frontend
	sink     modem.Sink
	rate     int
	p        rateParams
	points   [16]qam.Point
	class    int    // slicer: 0 for 9600, 1 for 7200, 2 for 4800
	invSteps [8]int // phase step -> data bits
	train    uint8  // the CDCD generator
	state    int    // phase of the last symbol, eighths of a turn
	scr      uint32 // the descrambler
}

// NewRx returns a demodulator for rate (9600, 7200 or 4800) writing to sink.
func NewRx(rate int, sink modem.Sink) (*Rx, error) {
	r := &Rx{sink: sink}
	r.fe = qam.NewFrontend(qam.RxConfig{Baud: Baud, Carrier: Carrier, Beta: rxBeta, Taps: rxTaps, Level: 13.5})
	for i, c := range constellation {
		r.points[i] = qam.Point{Re: int32(c[0] * qam.Unit), Im: int32(c[1] * qam.Unit)}
	}
	if _, err := paramsOf(rate); err != nil {
		return nil, err
	}
	r.rx = qam.NewReceiver(r.fe, eqTaps, r.params(rate), r, sink)
	if err := r.Restart(rate); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Rx) params(rate int) qam.Params {
	limit := trainErr
	if rate == 4800 {
		limit = trainErr4800
	}
	return qam.Params{
		Phases: 10, Step: 3, // 2400 baud at 8 kHz
		AcquireLen: acquireLen, SeekLimit: 4 * seg2Len,
		TrainLen: seg3Len, TestLen: seg4Len, ErrWindow: 48, ErrMax: limit,
		EqPower: 13.5, DataAdapt: dataAdapt, Points: r.points[:],
	}
}

// Restart forgets the signal and expects a new training at rate.
func (r *Rx) Restart(rate int) error {
	p, err := paramsOf(rate)
	if err != nil {
		return err
	}
	r.rate, r.p = rate, p
	switch rate {
	case 9600, 7200:
		r.class = 0
		if rate == 7200 {
			r.class = 1
		}
		for s, b := range phaseSteps {
			r.invSteps[b] = s
		}
	case 4800:
		r.class = 2
		for s, b := range phaseSteps4800 {
			r.invSteps[b] = s
		}
	}
	r.rx.SetParams(r.fe, r.params(rate))
	return nil
}

// Carrier reports whether a signal is present.
func (r *Rx) Carrier() bool { return r.rx.Carrier() }

// Receive demodulates x.
func (r *Rx) Receive(x []int16) { r.rx.Receive(x) }

// Jumped: the first C of CDCD has arrived after the ABAB (B first, A
// last); the CDCD generator has given its first bit.
func (r *Rx) Jumped(last *[qam.FitLen]int) {
	for j := range last {
		switch {
		case j == 0:
			last[j] = r.p.c
		case j%2 == 1:
			last[j] = r.p.a
		default:
			last[j] = r.p.b
		}
	}
	r.train = trainingScramblerInit >> 1
	r.train |= ((trainingScramblerInit ^ r.train) & 1) << 6
}

// TrainTarget is the next point of CDCD, from its 1 + x^-6 + x^-7 generator.
func (r *Rx) TrainTarget() int {
	bit := r.train & 1
	r.train >>= 1
	r.train |= ((bit ^ r.train) & 1) << 6
	if bit != 0 {
		return r.p.d
	}
	return r.p.c
}

// StartTest: the ones are coded against phase 0.
func (r *Rx) StartTest() { r.state = 0 }

// The slicer: a grid over the constellation, sliceRes cells per unit
// each way out to sliceMax units, holding the nearest point of each rate's
// set at the cell's centre.
const (
	sliceRes  = 4
	sliceMax  = 7
	sliceSide = 2 * sliceMax * sliceRes
)

// slicers[rate class] is the grid: 0 for 9600, 1 for 7200, 2 for 4800.
var slicers = func() (t [3][sliceSide * sliceSide]uint8) {
	sets := [3][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {0, 1, 2, 3, 4, 5, 6, 7}, {0, 2, 4, 6}}
	for k, set := range sets {
		for i := range sliceSide * sliceSide {
			x := (float64(i%sliceSide)+0.5)/sliceRes - sliceMax
			y := (float64(i/sliceSide)+0.5)/sliceRes - sliceMax
			best, bestD := 0, math.Inf(1)
			for _, p := range set {
				c := constellation[p]
				if d := (x-c[0])*(x-c[0]) + (y-c[1])*(y-c[1]); d < bestD {
					best, bestD = p, d
				}
			}
			t[k][i] = uint8(best)
		}
	}
	return t
}()

// slice returns the index of the constellation point nearest u.
func (r *Rx) slice(u qam.Point) int {
	const cell = qam.Unit / sliceRes
	x := int(u.Re+sliceMax*qam.Unit) / cell
	y := int(u.Im+sliceMax*qam.Unit) / cell
	x = max(0, min(sliceSide-1, x))
	y = max(0, min(sliceSide-1, y))
	return int(slicers[r.class][y*sliceSide+x])
}

// Decide returns the constellation point nearest u (its index), decodes
// its bits and, when out is set, delivers them.
func (r *Rx) Decide(u qam.Point, out bool) int {
	best := r.slice(u)
	phase := best & 7
	step := (phase - r.state) & 7
	r.state = phase
	switch r.rate {
	case 9600:
		r.put(best>>3, out)
		fallthrough
	case 7200:
		bits := r.invSteps[step]
		r.put(bits>>2, out)
		r.put(bits>>1, out)
		r.put(bits, out)
	case 4800:
		bits := r.invSteps[step]
		r.put(bits>>1, out)
		r.put(bits, out)
	}
	return best
}

// put descrambles a received bit and delivers it.
func (r *Rx) put(bit int, out bool) {
	in := uint32(bit) & 1
	b := (in ^ r.scr>>17 ^ r.scr>>22) & 1
	r.scr = r.scr<<1 | in
	if out {
		r.sink.PutBit(int(b))
	}
}
