package v29

import (
	"math"

	"callbox/dsp/fax/internal/dds"
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
	// constellation units squared, per rate class (fine, 4800).
	trainErr     = 0.6
	trainErr4800 = 1.6
)

type stage uint8

const (
	idle     stage = iota // no carrier
	acquire               // timing and AGC settle on ABAB
	seekCD                // waiting for the jump from ABAB into CDCD
	trainCD               // equaliser training on the known CDCD
	testOnes              // decision-directed over the scrambled ones
	data
	parked // training failed: wait for the carrier to go
)

// Rx is a V.29 demodulator.
type Rx struct {
	rate     int
	p        rateParams
	sink     modem.Sink
	fe       *qam.Frontend
	eq       *qam.Equalizer
	loop     qam.Loop
	stage    stage
	count    int
	hist     [8]qam.Point // recent equaliser outputs, newest at hist[0]
	pre      qam.Preamble
	failed   bool // TrainingFailed was reported for this carrier
	train    uint8
	state    int
	scr      uint32
	errAcc   int64
	errMax   int64 // limit on errAcc over its window, 1/Unit^2
	points   [16]qam.Point
	recips   [16]int64 // qam.Recip of each point
	class    int       // slicer: 0 for 9600, 1 for 7200, 2 for 4800
	invSteps [8]int    // phase step -> data bits
}

// NewRx returns a demodulator for rate (9600, 7200 or 4800) writing to sink.
func NewRx(rate int, sink modem.Sink) (*Rx, error) {
	r := &Rx{sink: sink}
	r.fe = qam.NewFrontend(qam.RxConfig{Baud: Baud, Carrier: Carrier, Beta: rxBeta, Taps: rxTaps, Level: 13.5})
	r.eq = qam.NewEqualizer(eqTaps)
	for i, c := range constellation {
		r.points[i] = qam.Point{Re: int32(c[0] * qam.Unit), Im: int32(c[1] * qam.Unit)}
		r.recips[i] = qam.Recip(r.points[i])
	}
	if err := r.Restart(rate); err != nil {
		return nil, err
	}
	return r, nil
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
	limit := trainErr
	if rate == 4800 {
		limit = trainErr4800
	}
	r.errMax = int64(limit * 48 * qam.Unit * qam.Unit)
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

// begin readies the receiver for a training sequence.
func (r *Rx) begin() {
	r.eq.Reset()
	r.eq.SetStep(0.25, 13.5)
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

// symbol handles one equalised symbol.
func (r *Rx) symbol() {
	v := r.eq.Get()
	u := r.loop.Derotate(v)
	copy(r.hist[1:], r.hist[:7])
	r.hist[0] = u
	switch r.stage {
	case acquire:
		if r.count++; r.count == acquireLen {
			r.fe.TimingGain = 2
			r.stage, r.count = seekCD, 0
		}
	case seekCD:
		r.seek(u)
	case trainCD:
		bit := r.train & 1
		r.train >>= 1
		r.train |= ((bit ^ r.train) & 1) << 6
		i := r.p.c
		if bit != 0 {
			i = r.p.d
		}
		target := r.points[i]
		r.trainOn(v, u, i)
		if r.count++; r.count > seg3Len-48 {
			r.errAcc += qam.Dist2(u, target)
		}
		if r.count == seg3Len {
			if r.errAcc > r.errMax {
				r.fail()
				return
			}
			r.loop.SetGains(0.08, 0.002, 8000.0/Baud)
			r.stage, r.count, r.errAcc, r.state = testOnes, 0, 0, 0
		}
	case testOnes:
		i := r.decide(u, false)
		target := r.points[i]
		r.trainOn(v, u, i)
		r.errAcc += qam.Dist2(u, target)
		if r.count++; r.count == seg4Len {
			if r.errAcc > r.errMax {
				r.fail()
				return
			}
			r.loop.SetGains(0.04, 0.0005, 8000.0/Baud)
			r.eq.SetStep(0.05, 13.5)
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

// seek watches the ABAB for the phase jump that starts CDCD: the first C
// is half a turn from the B two symbols before it (at every rate).
func (r *Rx) seek(u qam.Point) {
	if r.count++; r.count > 4*seg2Len {
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
	// Found C. The drift along the ABAB is the frequency error.
	drift := r.pre.Drift()
	if abs32(drift) > 20<<32/Baud {
		r.fail() // plausible carriers are within 20 Hz of nominal
		return
	}
	r.fe.Rate += uint32(drift * 3 / 10) // per sample: 2400 baud at 8 kHz
	// The carrier phase: fit the last symbols to C, A, B, A, B, A with
	// the drift taken out.
	var sre, sim int64
	for j := range 6 {
		t := r.points[r.p.a]
		switch {
		case j == 0:
			t = r.points[r.p.c]
		case j%2 == 0:
			t = r.points[r.p.b]
		}
		c, s := dds.CosSin(uint32(drift) * uint32(j))
		v := qam.Rotate(r.hist[j], c, s)
		sre += int64(v.Re)*int64(t.Re) + int64(v.Im)*int64(t.Im)
		sim += int64(v.Im)*int64(t.Re) - int64(v.Re)*int64(t.Im)
	}
	r.loop.Psi = dds.Atan2(clamp32(sim>>16), clamp32(sre>>16))
	// The C just seen used the first training bit.
	r.train = trainingScramblerInit >> 1
	r.train |= ((trainingScramblerInit ^ r.train) & 1) << 6
	r.loop.SetGains(0.15, 0.004, 8000.0/Baud)
	r.fe.TimingGain = 3
	r.stage, r.count, r.errAcc = trainCD, 1, 0
}

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

// decide returns the constellation point nearest u (its index), decodes
// its bits and, when out is set, delivers them.
func (r *Rx) decide(u qam.Point, out bool) int {
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

func clamp32(v int64) int32 { return int32(max(-1<<31, min(1<<31-1, v))) }

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}
