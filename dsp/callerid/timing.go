package callerid

import (
	"math"
	"time"

	"callbox/dsp/callerid/fsk"
)

// StepKind is one thing the line does while presenting caller ID.
type StepKind int

const (
	// Wait keeps the line quiet (on-hook, no ringing) for the step's time.
	Wait StepKind = iota + 1
	// Ring sends ringing voltage: the first ring of the cadence, or a
	// short ring pulse alerting signal (RP-AS).
	Ring
	// Reverse reverses the line polarity; it takes no time.
	Reverse
	// AlertTone sends the dual-tone alerting signal (DT-AS, AlertTone1 plus
	// AlertTone2 Hz) that wakes the receiver.
	AlertTone
	// Data sends the caller ID itself: FSK or DTMF, lasting as long as it
	// takes.
	Data
	// Cadence goes on with the port's normal ringing cadence.
	Cadence
)

// String names the step kind.
func (k StepKind) String() string {
	switch k {
	case Wait:
		return "wait"
	case Ring:
		return "ring"
	case Reverse:
		return "reverse"
	case AlertTone:
		return "alert-tone"
	case Data:
		return "data"
	case Cadence:
		return "cadence"
	}
	return "step?"
}

// Step is one step of a presentation: its kind and the time it may take.
// Max 0 means no upper limit. For Data the times are not set: the message
// decides its length.
type Step struct {
	Kind              StepKind
	Min, Nominal, Max time.Duration
}

// Scheme says how the data itself is sent.
type Scheme int

const (
	// SchemeBell202 is FSK with Bell 202 tones (GR-30-CORE).
	SchemeBell202 Scheme = iota + 1
	// SchemeV23 is FSK with V.23 tones (EN 300 659-1).
	SchemeV23
	// SchemeDTMF is a DTMF digit string (EN 300 659-1 annex B).
	SchemeDTMF
)

// String spells the scheme as the command line does.
func (s Scheme) String() string {
	switch s {
	case SchemeBell202:
		return "bell202"
	case SchemeV23:
		return "v23"
	case SchemeDTMF:
		return "dtmf"
	}
	return "scheme?"
}

// Preset is a way to present caller ID on an FXS port: the steps from the
// start of the call's alerting to the normal ring cadence. The line code
// walks Steps in order; making the preset a per-port setting covers the
// exchanges the box must imitate.
type Preset struct {
	Name   string
	Scheme Scheme
	Steps  []Step
	// FSK is the framing of the FSK schemes.
	FSK FSKConfig
	// DTMF is the digit timing of the DTMF scheme.
	DTMF DTMFConfig
}

// The dual-tone alerting signal of EN 300 659-1 (and GR-30 for call waiting).
const (
	AlertTone1 = 2130 // Hz
	AlertTone2 = 2750 // Hz
)

const ms = time.Millisecond

// Presets, with the published delays.
var (
	// Bellcore: FSK in the silence after the first ring (GR-30-CORE):
	// data no sooner than 500 ms after the first ring ends, and over at
	// least 200 ms before the second ring.
	Bellcore = Preset{
		Name:   "bellcore",
		Scheme: SchemeBell202,
		FSK:    BellcoreFSK,
		Steps: []Step{
			{Kind: Ring},
			{Kind: Wait, Min: 500 * ms, Nominal: 500 * ms},
			{Kind: Data},
			{Kind: Wait, Min: 200 * ms, Nominal: 200 * ms},
			{Kind: Cadence},
		},
	}
	// ETSIDTAS: before the first ring, after a polarity reversal and a
	// dual-tone alert (EN 300 659-1 §6.1.1): at least 100 ms from the
	// reversal to the DT-AS, which lasts 100 ms ±10 ms (80 to 110 ms
	// accepted); the data starts 45 to 500 ms after it; ringing follows the
	// data within 500 ms, after at least 200 ms.
	ETSIDTAS = Preset{
		Name:   "etsi-dtas",
		Scheme: SchemeV23,
		FSK:    ETSIFSK,
		Steps: []Step{
			{Kind: Reverse},
			{Kind: Wait, Min: 100 * ms, Nominal: 150 * ms},
			{Kind: AlertTone, Min: 80 * ms, Nominal: 100 * ms, Max: 110 * ms},
			{Kind: Wait, Min: 45 * ms, Nominal: 100 * ms, Max: 500 * ms},
			{Kind: Data},
			{Kind: Wait, Min: 200 * ms, Nominal: 300 * ms, Max: 500 * ms},
			{Kind: Cadence},
		},
	}
	// ETSIReversal: before the first ring, after a polarity reversal
	// alone (EN 300 659-1 §6.1.1 without DT-AS): data at least 250 ms
	// after the reversal.
	ETSIReversal = Preset{
		Name:   "etsi-reversal",
		Scheme: SchemeV23,
		FSK:    ETSIFSK,
		Steps: []Step{
			{Kind: Reverse},
			{Kind: Wait, Min: 250 * ms, Nominal: 300 * ms, Max: 700 * ms},
			{Kind: Data},
			{Kind: Wait, Min: 200 * ms, Nominal: 300 * ms, Max: 500 * ms},
			{Kind: Cadence},
		},
	}
	// ETSIRingPulse: before the first full ring, after a ring pulse
	// alerting signal (RP-AS, EN 300 659-1 §6.1.2) of 200 to 300 ms; data
	// 500 to 800 ms after the pulse.
	ETSIRingPulse = Preset{
		Name:   "etsi-rpas",
		Scheme: SchemeV23,
		FSK:    ETSIFSK,
		Steps: []Step{
			{Kind: Ring, Min: 200 * ms, Nominal: 250 * ms, Max: 300 * ms},
			{Kind: Wait, Min: 500 * ms, Nominal: 650 * ms, Max: 800 * ms},
			{Kind: Data},
			{Kind: Wait, Min: 200 * ms, Nominal: 300 * ms, Max: 500 * ms},
			{Kind: Cadence},
		},
	}
	// DTMFBeforeRing: DTMF caller ID before the first ring (EN 300 659-1
	// annex B, the Nordic and Dutch practice), optionally after a polarity
	// reversal; ringing at least 250 ms after the last digit.
	DTMFBeforeRing = Preset{
		Name:   "dtmf",
		Scheme: SchemeDTMF,
		DTMF:   DefaultDTMF,
		Steps: []Step{
			{Kind: Reverse},
			{Kind: Wait, Min: 100 * ms, Nominal: 200 * ms},
			{Kind: Data},
			{Kind: Wait, Min: 250 * ms, Nominal: 500 * ms},
			{Kind: Cadence},
		},
	}
)

// Presets lists the presets by name, for settings and the command line.
var Presets = map[string]*Preset{
	Bellcore.Name:       &Bellcore,
	ETSIDTAS.Name:       &ETSIDTAS,
	ETSIReversal.Name:   &ETSIReversal,
	ETSIRingPulse.Name:  &ETSIRingPulse,
	DTMFBeforeRing.Name: &DTMFBeforeRing,
}

// AppendAlertTone appends a dual-tone alerting signal of the given length
// at levelDBm0 per tone (-13 dBm0 is usual) to dst.
func AppendAlertTone(dst []int16, d time.Duration, levelDBm0 float64) []int16 {
	n := int(d * 8000 / time.Second)
	inc1 := uint32(math.Round(AlertTone1 / 8000.0 * (1 << 32)))
	inc2 := uint32(math.Round(AlertTone2 / 8000.0 * (1 << 32)))
	amp := fsk.Amplitude(levelDBm0)
	var p1, p2 uint32
	for i := 0; i < n; i++ {
		v := (amp*fsk.Sine(p1) + amp*fsk.Sine(p2)) >> 15
		dst = append(dst, int16(max(-32768, min(32767, v))))
		p1 += inc1
		p2 += inc2
	}
	return dst
}
