package fsk

import (
	"math"
)

// EventKind tells what Rx.Process stopped for.
type EventKind int

const (
	// Byte is a correctly framed character.
	Byte EventKind = iota + 1
	// FramingError is a character whose stop bit was a space.
	FramingError
	// CarrierLost means the signal fell below the detection threshold
	// in the middle of a character.
	CarrierLost
)

// Event is one result of the deframer.
type Event struct {
	Kind EventKind
	// Byte is the received character (Kind == Byte).
	Byte byte
	// Idle is the number of whole mark bit periods received before the
	// start bit, capped at MaxIdle: a long run separates messages from
	// preambles.
	Idle int
	// At is the index of the sample where the start bit began, counted
	// from the creation (or last Reset) of the Rx.
	At int64
}

// MaxIdle caps Event.Idle.
const MaxIdle = 1000

// Detection thresholds in dBm0 of the in-band signal; the gap between them
// keeps the carrier detector from chattering.
const (
	carrierOnDBm0  = -48
	carrierOffDBm0 = -52
)

const (
	maxWindow = 16
	// confirm is how many space samples in a row make a start edge, so a
	// noise spike in the mark does not start a character.
	confirm = 3
	// sumShift scales the correlations down before squaring so that three
	// summed energy differences fit in int64.
	sumShift = 4
	// pllGain is the share (1/pllGain) of the timing error corrected at
	// each transition inside a character.
	pllGain = 4
)

type rxState int

const (
	idle rxState = iota
	inChar
)

// Rx demodulates FSK and deframes asynchronous characters.
//
// The demodulator correlates the input with the mark and space frequencies
// over a sliding window one bit long; the difference of the two energies is
// the soft bit. The deframer starts a character at a confirmed mark to space
// edge, placing it between samples by interpolating the zero crossing, keeps
// its bit clock on the transitions inside the character, and decides each
// bit on the soft bits summed over the middle of the bit. Arithmetic is
// integer throughout.
type Rx struct {
	tab  [][4]int32 // cos/sin of mark, cos/sin of space, Q12, one common period
	k    int        // index into tab
	ring [maxWindow][4]int32
	win  int
	pos  int
	sum  [4]int32

	onLevel, offLevel int64 // carrier thresholds on mark+space energy
	carrier           bool
	carrierSince      int64

	baud    int
	half    int   // half the decision span, in clock units
	prevD   int64 // soft bit of the previous sample
	state   rxState
	markRun int   // samples of mark seen while idle
	low     int   // consecutive space samples while idle
	lowD    int64 // soft bit at the first of them
	lowPrev int64 // soft bit just before the first of them
	acc     int   // time since the start edge, in 1/(SampleRate*Baud) s
	next    int   // acc at the centre of the next bit
	dsum    int64
	bit     int
	val     int
	idleFor int
	start   int64
	n       int64 // samples consumed
}

// NewRx returns a demodulator for m.
func NewRx(m Modem) (*Rx, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	// One period of both oscillators: sample-exact tables, no phase drift.
	period := lcm(SampleRate/gcd(SampleRate, m.Mark), SampleRate/gcd(SampleRate, m.Space))
	r := &Rx{tab: make([][4]int32, period), baud: m.Baud}
	for i := range r.tab {
		wm := 2 * math.Pi * float64(m.Mark) * float64(i) / SampleRate
		ws := 2 * math.Pi * float64(m.Space) * float64(i) / SampleRate
		r.tab[i] = [4]int32{q12(math.Cos(wm)), q12(math.Sin(wm)), q12(math.Cos(ws)), q12(math.Sin(ws))}
	}
	r.win = min(int(math.Round(float64(SampleRate)/float64(m.Baud))), maxWindow)
	// Sum the soft bits over about three samples around each bit centre.
	r.half = 3 * m.Baud / 2
	// A tone of amplitude A on one of the frequencies correlates to about
	// A*4096*win/2, whose square is the energy the thresholds compare with.
	level := func(dBm0 float64) int64 {
		c := float64(Amplitude(dBm0)) * 4096 * float64(r.win) / 2 / (1 << sumShift)
		return int64(c * c)
	}
	r.onLevel, r.offLevel = level(carrierOnDBm0), level(carrierOffDBm0)
	return r, nil
}

func q12(v float64) int32 { return int32(math.Round(v * 4096)) }

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int) int { return a / gcd(a, b) * b }

// Reset returns the receiver to its initial state, sample count included.
func (r *Rx) Reset() {
	tab, win, baud, half, on, off := r.tab, r.win, r.baud, r.half, r.onLevel, r.offLevel
	*r = Rx{tab: tab, win: win, baud: baud, half: half, onLevel: on, offLevel: off}
}

// Carrier reports whether a signal is present, and since which sample.
func (r *Rx) Carrier() (on bool, since int64) { return r.carrier, r.carrierSince }

// Samples returns how many samples Rx has consumed.
func (r *Rx) Samples() int64 { return r.n }

// crossing returns how far (in clock units, 0 to baud) before the current
// sample the soft bit crossed zero, from its values before and after.
func (r *Rx) crossing(before, after int64) int {
	a, b := abs64(after), abs64(before)
	if a+b == 0 {
		return 0
	}
	return int(int64(r.baud) * a / (a + b))
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// Process demodulates x until a character completes (or fails). It returns
// the number of samples consumed and the event, whose Kind is 0 when all of x
// was consumed without one. Feeding the rest of x again continues the
// stream, so results do not depend on how the audio is split into blocks.
func (r *Rx) Process(x []int16) (int, Event) {
	// The correlator state lives in locals inside the loop (the compiler
	// cannot keep struct fields in registers) and goes back on every exit.
	tab, ring, win := r.tab, &r.ring, r.win
	k, pos := r.k, r.pos
	s0, s1, s2, s3 := r.sum[0], r.sum[1], r.sum[2], r.sum[3]
	for i, s := range x {
		t := &tab[k]
		if k++; k == len(tab) {
			k = 0
		}
		v := int32(s)
		p0, p1, p2, p3 := v*t[0], v*t[1], v*t[2], v*t[3]
		old := &ring[pos&(maxWindow-1)]
		s0 += p0 - old[0]
		s1 += p1 - old[1]
		s2 += p2 - old[2]
		s3 += p3 - old[3]
		old[0], old[1], old[2], old[3] = p0, p1, p2, p3
		if pos++; pos == win {
			pos = 0
		}
		c0, c1 := int64(s0>>sumShift), int64(s1>>sumShift)
		c2, c3 := int64(s2>>sumShift), int64(s3>>sumShift)
		em, es := c0*c0+c1*c1, c2*c2+c3*c3
		d, prev := em-es, r.prevD
		r.prevD = d
		r.n++

		if e := em + es; r.carrier {
			if e < r.offLevel {
				r.carrier, r.markRun, r.low = false, 0, 0
				if r.state == inChar {
					r.state = idle
					// Before its start bit is confirmed a character is
					// only the fading tail of the signal.
					if r.bit > 0 {
						r.k, r.pos, r.sum = k, pos, [4]int32{s0, s1, s2, s3}
						return i + 1, Event{Kind: CarrierLost, At: r.start}
					}
				}
				continue
			}
		} else {
			if e < r.onLevel {
				continue
			}
			r.carrier, r.carrierSince = true, r.n-1
		}

		if r.state == idle {
			if d >= 0 {
				// A space too short to be a start bit was noise in the mark.
				r.markRun += r.low + 1
				r.low = 0
				continue
			}
			if r.low == 0 {
				r.lowD, r.lowPrev = d, prev
			}
			if r.low++; r.low < confirm {
				continue
			}
			// Start edge: the zero crossing before the first space sample.
			r.state, r.bit, r.val, r.dsum = inChar, 0, 0, 0
			r.acc = r.crossing(r.lowPrev, r.lowD) + (confirm-1)*r.baud
			r.next = SampleRate / 2
			r.idleFor = min(r.markRun*r.baud/SampleRate, MaxIdle)
			r.start = r.n - confirm
			r.low = 0
			continue
		}

		r.acc += r.baud
		if (d < 0) != (prev < 0) && r.acc > r.baud {
			// A transition belongs on a bit boundary: pull the clock a
			// fraction of the way towards the nearest one.
			at := r.acc - r.crossing(prev, d)
			e := at - (at+SampleRate/2)/SampleRate*SampleRate
			r.acc -= e / pllGain
		}
		if r.acc < r.next-r.half {
			continue
		}
		r.dsum += d
		if r.acc < r.next+r.half {
			continue
		}
		mark := r.dsum >= 0
		r.dsum = 0
		r.next += SampleRate
		switch b := r.bit; {
		case b == 0:
			if mark {
				// A glitch, not a start bit: keep hunting, the mark run
				// before it still counts.
				r.state = idle
				continue
			}
		case b <= 8:
			if mark {
				r.val |= 1 << (b - 1)
			}
		default:
			r.state, r.markRun = idle, 0
			ev := Event{Kind: FramingError, Byte: byte(r.val), Idle: r.idleFor, At: r.start}
			if mark {
				ev.Kind = Byte
			}
			r.k, r.pos, r.sum = k, pos, [4]int32{s0, s1, s2, s3}
			return i + 1, ev
		}
		r.bit++
	}
	r.k, r.pos, r.sum = k, pos, [4]int32{s0, s1, s2, s3}
	return len(x), Event{}
}
