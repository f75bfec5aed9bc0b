package v27ter

import (
	"math"

	"callbox/dsp/fax/internal/dds"
	"callbox/dsp/fax/internal/qam"
	"callbox/dsp/fax/modem"
)

// Receiver tuning.
const (
	rxBeta     = 0.5
	eqTaps     = 13 // equaliser length, half-symbols
	acquireLen = 6  // symbols for timing and AGC to settle before watching the reversals
	dataAdapt  = 8  // in data, adapt the equaliser every this many symbols
	testLen    = 48 // symbols at the end of segment 4 whose error is measured
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

type stage uint8

const (
	idle     stage = iota // no carrier
	acquire               // timing and AGC settle
	seek                  // waiting for the end of the reversals
	train                 // equaliser training on the scrambled reversals
	testOnes              // decision-directed over the scrambled ones
	data
	parked // training failed: wait for the carrier to go
)

// Rx is a V.27ter demodulator.
type Rx struct {
	rate   int
	sink   modem.Sink
	fe     *qam.Frontend
	fes    [2]*qam.Frontend // per rate: 4800, 2400
	eq     *qam.Equalizer
	loop   qam.Loop
	stage  stage
	count  int
	hist   [8]qam.Point // recent equaliser outputs, newest at hist[0]
	pre    qam.Preamble
	failed bool // TrainingFailed was reported for this carrier
	scr    scrambler
	tstate int // the transmitter's phase during segment 4
	state  int
	errAcc int64
	errMax int64
	points [8]qam.Point
	recips [8]int64 // qam.Recip of each point
	inv    [8]int   // phase step -> data bits
	clk    clock
	sps    float64 // samples per symbol, for the loop gains
}

// NewRx returns a demodulator for rate (4800 or 2400) writing to sink.
func NewRx(rate int, sink modem.Sink) (*Rx, error) {
	r := &Rx{sink: sink}
	for i, rt := range []int{4800, 2400} {
		clk, _ := clockOf(rt)
		r.fes[i] = qam.NewFrontend(qam.RxConfig{Baud: clk.baud, Carrier: Carrier, Beta: rxBeta, Taps: rxTaps(rt), Level: 2})
	}
	r.eq = qam.NewEqualizer(eqTaps)
	for i, c := range constellation {
		r.points[i] = qam.Point{Re: int32(math.Round(c[0] * qam.Unit)), Im: int32(math.Round(c[1] * qam.Unit))}
		r.recips[i] = qam.Recip(r.points[i])
	}
	if err := r.Restart(rate); err != nil {
		return nil, err
	}
	return r, nil
}

// Restart forgets the signal and expects a new training at rate.
func (r *Rx) Restart(rate int) error {
	clk, err := clockOf(rate)
	if err != nil {
		return err
	}
	r.rate, r.clk = rate, clk
	r.sps = 8000 / float64(clk.baud)
	if rate == 4800 {
		r.fe = r.fes[0]
		for s, b := range phaseSteps4800 {
			r.inv[b] = s
		}
	} else {
		r.fe = r.fes[1]
		for s, b := range phaseSteps2400 {
			r.inv[b] = s
		}
	}
	r.errMax = int64(trainErr(rate) * testLen * qam.Unit * qam.Unit)
	r.fe.Reset()
	r.stage = idle
	return nil
}

// Carrier reports whether a signal is present.
func (r *Rx) Carrier() bool { return r.fe.Carrier() }

// Receive demodulates x.
func (r *Rx) Receive(x []int16) {
	for len(x) > 0 {
		n, out := r.fe.Run(x)
		x = x[n:]
		switch out {
		case qam.Half:
			if r.stage == parked {
				continue
			}
			r.eq.Put(r.fe.Z)
			if r.fe.OnSymbol {
				r.symbol()
			}
		case qam.Up:
			r.begin()
			r.sink.Status(modem.CarrierUp)
		case qam.Down:
			r.fe.Reset()
			r.stage = idle
			r.sink.Status(modem.CarrierDown)
		}
	}
}

func (r *Rx) begin() {
	r.eq.Reset()
	r.eq.SetStep(0.25, 2)
	r.fe.TimingGain = 1
	r.fe.Acquiring = true
	r.stage, r.count = acquire, 0
	r.pre.Reset()
	r.failed = false
	r.hist = [8]qam.Point{}
	r.loop.Psi = 0
}

func (r *Rx) fail() {
	r.stage = parked
	if !r.failed {
		r.failed = true
		r.sink.Status(modem.TrainingFailed)
	}
}

func (r *Rx) symbol() {
	v := r.eq.Get()
	u := r.loop.Derotate(v)
	copy(r.hist[1:], r.hist[:7])
	r.hist[0] = u
	switch r.stage {
	case acquire:
		if r.count++; r.count == acquireLen {
			r.fe.TimingGain = 2
			r.stage, r.count = seek, 0
		}
	case seek:
		r.seek(u)
	case train:
		// The transmitter's next reversal, from our copy of its scrambler.
		b := r.scr.scramble(1)
		r.scr.scramble(1)
		r.scr.scramble(1)
		r.tstate = (r.tstate + 4*b) & 7
		target := r.points[r.tstate]
		r.trainOn(v, u, r.tstate)
		if r.count++; r.count > seg4Len-testLen {
			r.errAcc += qam.Dist2(u, target)
		}
		if r.count == seg4Len {
			if r.errAcc > r.errMax {
				r.fail()
				return
			}
			r.loop.SetGains(0.08, 0.002, r.sps)
			r.state = r.tstate
			r.stage, r.count, r.errAcc = testOnes, 0, 0
		}
	case testOnes:
		i := r.decide(u, false)
		target := r.points[i]
		r.trainOn(v, u, i)
		r.errAcc += qam.Dist2(u, target) * testLen / seg5Len
		if r.count++; r.count == seg5Len {
			if r.errAcc > r.errMax {
				r.fail()
				return
			}
			r.loop.SetGains(0.04, 0.0005, r.sps)
			r.eq.SetStep(0.05, 2)
			r.fe.TimingGain = 4
			r.stage, r.count = data, 0
			r.sink.Status(modem.TrainingOK)
		}
	case data:
		i := r.decide(u, true)
		target := r.points[i]
		r.loop.Track(r.fe, u, target, r.recips[i])
		if r.count++; r.count%dataAdapt == 0 {
			t := r.loop.Back(target)
			r.eq.Adapt(qam.Point{Re: t.Re - v.Re, Im: t.Im - v.Im})
		}
	}
}

// trainOn adapts the equaliser (output v) and the carrier loop (derotated
// output u) towards known point i.
func (r *Rx) trainOn(v, u qam.Point, i int) {
	target := r.points[i]
	t := r.loop.Back(target)
	r.eq.Adapt(qam.Point{Re: t.Re - v.Re, Im: t.Im - v.Im})
	r.loop.Track(r.fe, u, target, r.recips[i])
}

// seek watches the reversals for the first scrambled symbol: it keeps the
// phase of the last reversal, half a turn from the one two symbols before.
func (r *Rx) seek(u qam.Point) {
	if r.count++; r.count > 2*seg3Len {
		// No preamble in sight: say so once, and keep looking (noise
		// may have raised the carrier before the signal came; a run
		// of alternations already under way carries on).
		if !r.failed {
			r.failed = true
			r.sink.Status(modem.TrainingFailed)
		}
		r.count = 0
	}
	if !r.pre.Step(u, r.hist[2]) {
		return
	}
	r.fe.LockAGC()
	r.fe.Acquiring = false
	drift := r.pre.Drift()
	if int64(abs32(drift))*int64(r.clk.baud) > 20<<32 {
		r.fail() // plausible carriers are within 20 Hz of nominal
		return
	}
	r.fe.Rate += uint32(drift * int32(r.clk.step) / int32(r.clk.phases))
	// Segment 4 starts where segment 3 ended, at phase 0; our copy of the
	// transmitter's scrambler gives the first scrambled reversal.
	r.scr.reset()
	b := r.scr.scramble(1)
	r.scr.scramble(1)
	r.scr.scramble(1)
	r.tstate = 4 * b
	// Fit the last symbols to it and the reversals before: phases 0
	// (segment 3's last), 4, 0, 4 ... with the drift taken out.
	var sre, sim int64
	for j := range 6 {
		st := r.tstate
		if j > 0 {
			st = 4 * ((j + 1) % 2)
		}
		t := r.points[st]
		c, s := dds.CosSin(uint32(drift) * uint32(j))
		w := qam.Rotate(r.hist[j], c, s)
		sre += int64(w.Re)*int64(t.Re) + int64(w.Im)*int64(t.Im)
		sim += int64(w.Im)*int64(t.Re) - int64(w.Re)*int64(t.Im)
	}
	r.loop.Psi = dds.Atan2(clamp32(sim>>16), clamp32(sre>>16))
	r.loop.SetGains(0.15, 0.004, r.sps)
	r.fe.TimingGain = 3
	r.stage, r.count, r.errAcc = train, 1, 0
}

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

// decide returns the constellation point nearest u (its index), decodes
// its bits and, when out is set, delivers them.
func (r *Rx) decide(u qam.Point, out bool) int {
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

func clamp32(v int64) int32 { return int32(max(-1<<31, min(1<<31-1, v))) }

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}
