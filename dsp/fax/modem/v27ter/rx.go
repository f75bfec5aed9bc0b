package v27ter

import (
	"math"

	"callbox/dsp/fax/internal/qam"
	"callbox/dsp/fax/modem"
)

// Receiver tuning.
const (
	rxBeta     = 0.5
	eqTaps     = 13 // equaliser length, half-symbols
	acquireLen = 6  // symbols for timing and AGC to settle before watching the reversals
	dataAdapt  = 8  // in data, adapt the equaliser every this many symbols
)

// rxTaps is the matched filter length per rate: a little over three
// symbols.
func rxTaps(rate int) int {
	if rate == 4800 {
		return 17
	}
	return 21
}

// Mean squared error allowed at the end of the training and over the
// ones, constellation units squared (the points are 1.08 apart at 4800,
// 2 at 2400).
func trainErr(rate int) float64 {
	if rate == 4800 {
		return 0.2
	}
	return 0.5
}

// Rx is a V.27ter demodulator: qam.Receiver with V.27ter's training and
// decisions.
type Rx struct {
	rx     *qam.Receiver
	fes    [2]*qam.Frontend // per rate: 4800, 2400
	sink   modem.Sink
	rate   int
	points [8]qam.Point
	inv    [8]int // phase step -> data bits
	scr    scrambler
	tstate int // the transmitter's phase during segment 4
	state  int // phase of the last symbol, eighths of a turn
}

// NewRx returns a demodulator for rate (4800 or 2400) writing to sink.
func NewRx(rate int, sink modem.Sink) (*Rx, error) {
	r := &Rx{sink: sink}
	for i, rt := range []int{4800, 2400} {
		clk, _ := clockOf(rt)
		r.fes[i] = qam.NewFrontend(qam.RxConfig{Baud: clk.baud, Carrier: Carrier, Beta: rxBeta, Taps: rxTaps(rt), Level: 2})
	}
	for i, c := range constellation {
		r.points[i] = qam.Point{Re: int32(math.Round(c[0] * qam.Unit)), Im: int32(math.Round(c[1] * qam.Unit))}
	}
	if _, err := clockOf(rate); err != nil {
		return nil, err
	}
	r.rx = qam.NewReceiver(r.fes[0], eqTaps, r.params(rate), r, sink)
	if err := r.Restart(rate); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Rx) params(rate int) qam.Params {
	clk, _ := clockOf(rate)
	return qam.Params{
		Phases: clk.phases, Step: clk.step,
		AcquireLen: acquireLen, SeekLimit: 2 * seg3Len,
		TrainLen: seg4Len, TestLen: seg5Len, ErrWindow: 48, ErrMax: trainErr(rate),
		EqPower: 2, DataAdapt: dataAdapt, Points: r.points[:],
	}
}

// Restart forgets the signal and expects a new training at rate.
func (r *Rx) Restart(rate int) error {
	if _, err := clockOf(rate); err != nil {
		return err
	}
	r.rate = rate
	fe := r.fes[0]
	if rate == 4800 {
		for s, b := range phaseSteps4800 {
			r.inv[b] = s
		}
	} else {
		fe = r.fes[1]
		for s, b := range phaseSteps2400 {
			r.inv[b] = s
		}
	}
	r.rx.SetParams(fe, r.params(rate))
	return nil
}

// Carrier reports whether a signal is present.
func (r *Rx) Carrier() bool { return r.rx.Carrier() }

// Receive demodulates x.
func (r *Rx) Receive(x []int16) { r.rx.Receive(x) }

// Jumped: segment 4 has started where segment 3 ended, at phase 0; our
// copy of the transmitter's scrambler gives its first reversal, after
// reversals 0, 4, 0 ...
func (r *Rx) Jumped(last *[qam.FitLen]int) {
	r.scr.reset()
	b := r.scr.scramble(1)
	r.scr.scramble(1)
	r.scr.scramble(1)
	r.tstate = 4 * b
	last[0] = r.tstate
	for j := 1; j < len(last); j++ {
		last[j] = 4 * ((j + 1) % 2)
	}
}

// TrainTarget is the transmitter's next reversal: every third bit of its
// scrambler fed ones.
func (r *Rx) TrainTarget() int {
	b := r.scr.scramble(1)
	r.scr.scramble(1)
	r.scr.scramble(1)
	r.tstate = (r.tstate + 4*b) & 7
	return r.tstate
}

// StartTest: the ones are coded against the last reversal; the
// descrambler carries on from the scrambler copy.
func (r *Rx) StartTest() { r.state = r.tstate }

// The slicer: a grid over the circle, sliceRes cells per unit each way out
// to sliceMax units, holding the nearest phase (eighths of a turn) of each
// rate's set: all eight at 4800, the four on the axes at 2400.
const (
	sliceRes  = 8
	sliceMax  = 3
	sliceSide = 2 * sliceMax * sliceRes
)

var slicers = func() (t [2][sliceSide * sliceSide]uint8) {
	for k, stepBy := range []int{1, 2} {
		for i := range sliceSide * sliceSide {
			x := (float64(i%sliceSide)+0.5)/sliceRes - sliceMax
			y := (float64(i/sliceSide)+0.5)/sliceRes - sliceMax
			best, bestD := 0, math.Inf(1)
			for p := 0; p < 8; p += stepBy {
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

// Decide returns the constellation point nearest u (its index), decodes
// its bits and, when out is set, delivers them.
func (r *Rx) Decide(u qam.Point, out bool) int {
	const cell = qam.Unit / sliceRes
	x := max(0, min(sliceSide-1, int(u.Re+sliceMax*qam.Unit)/cell))
	y := max(0, min(sliceSide-1, int(u.Im+sliceMax*qam.Unit)/cell))
	k := 0
	if r.rate == 2400 {
		k = 1
	}
	best := int(slicers[k][y*sliceSide+x])
	step := (best - r.state) & 7
	r.state = best
	bits := r.inv[step]
	if r.rate == 4800 {
		r.put(bits>>2, out)
	}
	r.put(bits>>1, out)
	r.put(bits, out)
	return best
}

func (r *Rx) put(bit int, out bool) {
	d := r.scr.descramble(bit & 1)
	if out {
		r.sink.PutBit(d)
	}
}
