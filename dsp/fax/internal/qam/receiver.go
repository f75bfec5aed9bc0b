package qam

import (
	"callbox/dsp/fax/internal/dds"
	"callbox/dsp/fax/modem"
)

// Trainer is what a modem adds to Receiver: its training sequence and its
// decisions.
type Trainer interface {
	// Jumped is called when the preamble's last alternation has given way
	// to the training proper: it fills last with the constellation points
	// (indexes) the newest symbols were, newest first (the first symbol of
	// the training and the alternations before it), and readies the
	// training sequence after that first symbol.
	Jumped(last *[FitLen]int)
	// TrainTarget returns the point the next training symbol is.
	TrainTarget() int
	// StartTest readies the differential decoding for the test segment.
	StartTest()
	// Decide returns the point nearest u and decodes its bits, delivering
	// them to the sink when deliver is set.
	Decide(u Point, deliver bool) int
}

// FitLen is how many symbols fix the carrier phase at the jump.
const FitLen = 6

// Params are a modem's receiver settings.
type Params struct {
	Phases, Step int     // the symbol clock: a symbol every Phases/Step samples
	AcquireLen   int     // symbols for timing and AGC to settle before seeking
	SeekLimit    int     // symbols of seeking before TrainingFailed is said
	TrainLen     int     // symbols of training, the first included
	TestLen      int     // symbols of decision-directed test after it
	ErrWindow    int     // the last symbols of the training whose error counts
	ErrMax       float64 // mean squared error allowed, constellation units squared
	EqPower      float64 // the equaliser's mean input power, units squared
	DataAdapt    int     // in data, adapt the equaliser every this many symbols
	Points       []Point // the constellation, 1/Unit
	// KeepEqualizer starts a training with the equaliser as the last
	// good reception left it (V.17's short training): the taps saved when
	// a training succeeded and again when its data ended, untouched by
	// noise or failed trainings since.
	KeepEqualizer bool
}

// Receiver stages.
type stage uint8

const (
	stIdle    stage = iota // no carrier
	stAcquire              // timing and AGC settle
	stSeek                 // waiting for the end of the preamble
	stTrain                // equaliser training on the known sequence
	stTest                 // decision-directed over the test segment
	stData
	stParked // training failed: wait for the carrier to go
)

// Receiver is the stage machine every QAM fax modem's receiver runs:
// acquisition, the preamble's phase jump (carrier frequency from its
// drift, phase from a fit), training on the known sequence, a checked test
// segment, then data with a decision-directed carrier loop and slow
// equaliser tracking.
type Receiver struct {
	FE     *Frontend
	EQ     *Equalizer
	Loop   Loop
	sink   modem.Sink
	t      Trainer
	p      Params
	recips []int64
	sps    float64
	stage  stage
	count  int
	hist   [8]Point // recent outputs, newest at hist[0]
	pre    Preamble
	failed bool
	errAcc int64
	errMax int64
	// In data, the line-hit guard (see holdOn).
	errFast int64 // decisions' squared error over about 8 symbols
	errSlow int64 // and over about 32
	hitErr  int64 // errFast above which the line is taken to be hit
	hit     bool  // adaptation held
	held    int   // symbols held so far
	disarm  bool  // guard off until the receiver has converged again
}

// NewReceiver returns a receiver with front end fe (whose AGC brings the
// signal to p.EqPower) feeding t's decisions to sink.
func NewReceiver(fe *Frontend, eqTaps int, p Params, t Trainer, sink modem.Sink) *Receiver {
	r := &Receiver{FE: fe, EQ: NewEqualizer(eqTaps), sink: sink, t: t}
	r.SetParams(fe, p)
	return r
}

// SetParams switches to another front end and settings (a new rate) and
// forgets the signal.
func (r *Receiver) SetParams(fe *Frontend, p Params) {
	r.FE, r.p = fe, p
	r.recips = r.recips[:0]
	for _, pt := range p.Points {
		r.recips = append(r.recips, Recip(pt))
	}
	r.sps = float64(p.Phases) / float64(p.Step)
	r.errMax = int64(p.ErrMax * float64(p.ErrWindow) * Unit * Unit)
	r.hitErr = int64(p.ErrMax * hitFactor * Unit * Unit)
	r.FE.Reset()
	r.stage = stIdle
}

// Carrier reports whether a signal is present.
func (r *Receiver) Carrier() bool { return r.FE.Carrier() }

// Receive demodulates x.
func (r *Receiver) Receive(x []int16) {
	for len(x) > 0 {
		n, out := r.FE.Run(x)
		x = x[n:]
		switch out {
		case Half:
			if r.stage == stParked {
				continue
			}
			r.EQ.Put(r.FE.Z)
			if r.FE.OnSymbol {
				r.symbol()
			}
		case Up:
			r.begin()
			r.sink.Status(modem.CarrierUp)
		case Down:
			r.FE.Reset()
			r.stage = stIdle
			r.sink.Status(modem.CarrierDown)
		}
	}
}

// begin readies the receiver for a training sequence.
func (r *Receiver) begin() {
	if r.p.KeepEqualizer {
		r.EQ.Restore()
	} else {
		r.EQ.Reset()
	}
	r.EQ.SetStep(0.25, r.p.EqPower)
	r.FE.TimingGain = 1
	r.FE.Acquiring = true
	r.stage, r.count = stAcquire, 0
	r.pre.Reset()
	r.failed = false
	r.hist = [8]Point{}
	r.Loop.Psi = 0
}

// fail parks the receiver until the carrier goes.
func (r *Receiver) fail() {
	r.stage = stParked
	r.sayFailed()
}

func (r *Receiver) sayFailed() {
	if !r.failed {
		r.failed = true
		r.sink.Status(modem.TrainingFailed)
	}
}

func (r *Receiver) symbol() {
	v := r.EQ.Get()
	u := r.Loop.Derotate(v)
	copy(r.hist[1:], r.hist[:7])
	r.hist[0] = u
	switch r.stage {
	case stAcquire:
		if r.count++; r.count == r.p.AcquireLen {
			r.FE.TimingGain = 2
			r.stage, r.count = stSeek, 0
		}
	case stSeek:
		r.seek(u)
	case stTrain:
		i := r.t.TrainTarget()
		r.trainOn(v, u, i)
		if r.count++; r.count > r.p.TrainLen-r.p.ErrWindow {
			r.errAcc += Dist2(u, r.p.Points[i])
		}
		if r.count == r.p.TrainLen {
			if r.errAcc > r.errMax {
				r.fail()
				return
			}
			r.Loop.SetGains(0.08, 0.002, r.sps)
			r.t.StartTest()
			r.stage, r.count, r.errAcc = stTest, 0, 0
		}
	case stTest:
		i := r.t.Decide(u, false)
		r.trainOn(v, u, i)
		r.errAcc += Dist2(u, r.p.Points[i]) * int64(r.p.ErrWindow) / int64(r.p.TestLen)
		if r.count++; r.count == r.p.TestLen {
			if r.errAcc > r.errMax {
				r.fail()
				return
			}
			r.Loop.SetGains(0.04, 0.0005, r.sps)
			r.EQ.SetStep(0.05, r.p.EqPower)
			r.FE.TimingGain = dataTiming
			r.stage, r.count = stData, 0
			r.errFast, r.errSlow, r.hit, r.disarm = 0, 0, false, false
			r.EQ.Save()
			r.sink.Status(modem.TrainingOK)
		}
	case stData:
		i := r.t.Decide(u, true)
		target := r.p.Points[i]
		if r.holdOn(Dist2(u, target)) {
			// The phase still follows (a hit that leaves the carrier
			// a quarter turn away costs nothing more: the coding is
			// differential), the frequency does not.
			r.Loop.Psi += uint32(PhaseErrorRecip(u, target, r.recips[i]) * r.Loop.Kp)
			return
		}
		r.Loop.Track(r.FE, u, target, r.recips[i])
		if r.count++; r.count%r.p.DataAdapt == 0 {
			t := r.Loop.Back(target)
			r.EQ.Adapt(Point{Re: t.Re - v.Re, Im: t.Im - v.Im})
		}
		if r.count%saveEvery == 0 && !r.disarm && r.errSlow < r.hitErr/4 {
			// Data going well: its taps are the best yet (for a short
			// training); the fading end of a carrier or a line hit
			// never get here.
			r.EQ.Save()
		}
	}
}

// saveEvery is how often, in symbols of data received well, the
// equaliser's taps are saved for a short training.
const saveEvery = 256

// hitFactor sets the decision error, relative to the training's limit,
// that is taken for a line hit.
const hitFactor = 1.0

// dataTiming is the timing loop's gain in data.
const dataTiming = 4

// maxHold is the longest a line hit may hold the adaptation, in symbols:
// after it, whatever the line carries is the signal to follow.
const maxHold = 4800

// holdOn watches the decisions' error d for a line hit (a burst of noise,
// a dropout) and reports whether adaptation is held. While a hit lasts the
// error says nothing about the signal, and the equaliser, the carrier loop
// and the timing loop would wander off following it, often to settle
// afterwards on a wrong but stable solution (the constellation turned and
// scaled onto itself). So they keep what they had (but for the carrier
// phase, which would otherwise drift off with the frequency error the
// hold caught), taken up quickly (the
// short average above the limit) and let go slowly (the long one well
// under it); if the error stays up, the hold ends after maxHold and the
// guard waits for the receiver to converge again.
func (r *Receiver) holdOn(d int64) bool {
	r.errFast += (d - r.errFast) >> 3
	r.errSlow += (d - r.errSlow) >> 5
	switch {
	case r.hit:
		if r.held++; r.errSlow < r.hitErr/4 || r.held > maxHold {
			r.hit, r.disarm = false, r.held > maxHold
			r.FE.TimingGain = dataTiming
		}
	case r.disarm:
		r.disarm = r.errSlow >= r.hitErr/4
	case r.errFast > r.hitErr:
		r.hit, r.held = true, 0
		r.FE.TimingGain = 32 // stopped
	}
	return r.hit
}

// trainOn adapts the equaliser (output v) and the carrier loop (derotated
// output u) towards known point i.
func (r *Receiver) trainOn(v, u Point, i int) {
	target := r.p.Points[i]
	t := r.Loop.Back(target)
	r.EQ.Adapt(Point{Re: t.Re - v.Re, Im: t.Im - v.Im})
	r.Loop.Track(r.FE, u, target, r.recips[i])
}

// seek watches the preamble's alternation for the jump that starts the
// training: its first symbol is half a turn from the one two before.
func (r *Receiver) seek(u Point) {
	if r.count++; r.count > r.p.SeekLimit {
		// No preamble in sight: say so once, and keep looking (noise
		// may have raised the carrier before the signal came; a run of
		// alternations already under way carries on).
		r.sayFailed()
		r.count = 0
	}
	if !r.pre.Step(u, r.hist[2]) {
		return
	}
	r.FE.LockAGC()
	r.FE.Acquiring = false
	// The drift along the alternation is the frequency error, per symbol.
	drift := r.pre.Drift()
	baud := int64(8000 * r.p.Step / r.p.Phases)
	if int64(abs32(drift))*baud > 20<<32 {
		r.fail() // plausible carriers are within 20 Hz of nominal
		return
	}
	r.FE.Rate += uint32(drift * int32(r.p.Step) / int32(r.p.Phases))
	// The carrier phase: fit the last symbols to what they were, with the
	// drift taken out.
	var last [FitLen]int
	r.t.Jumped(&last)
	var sre, sim int64
	for j, k := range last {
		t := r.p.Points[k]
		c, s := dds.CosSin(uint32(drift) * uint32(j))
		w := Rotate(r.hist[j], c, s)
		sre += int64(w.Re)*int64(t.Re) + int64(w.Im)*int64(t.Im)
		sim += int64(w.Im)*int64(t.Re) - int64(w.Re)*int64(t.Im)
	}
	r.Loop.Psi = dds.Atan2(clampInt32(sim>>16), clampInt32(sre>>16))
	r.Loop.SetGains(0.15, 0.004, r.sps)
	r.FE.TimingGain = 3
	r.stage, r.count, r.errAcc = stTrain, 1, 0
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}
