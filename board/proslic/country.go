package proslic

import (
	"fmt"
	"math"
	"time"

	"callbox/dsp/country"
)

// Ring is a country's ringing signal: a sine of Frequency hertz and
// Amplitude volts peak, switched on and off by Cadence.
type Ring struct {
	Frequency float64 // Hz, 15 to 100
	Amplitude float64 // volts peak tip to ring, up to 94.5
	// Cadence alternates on and off times, starting with on; its length is
	// even. UK's double ring is {400ms, 200ms, 400ms, 2s}.
	Cadence []time.Duration
}

// ringVolts is the ringing amplitude the driver asks of the chip per
// country code, in volts peak; other countries get defaultRingVolts. The
// frequency and cadence come from the country table (dsp/country).
var ringVolts = map[string]float64{"JP": 75}

const defaultRingVolts = 85

// PresetFor returns the ringing signal of a country (a dsp/country code
// or alias; "" is CN): the table's frequency and cadence at the amplitude
// the driver uses for that country.
func PresetFor(code string) (Ring, error) {
	c, err := country.Lookup(code)
	if err != nil {
		return Ring{}, fmt.Errorf("proslic: ring preset: %w", err)
	}
	v, ok := ringVolts[c.Code]
	if !ok {
		v = defaultRingVolts
	}
	return Ring{Frequency: c.Ring.Hz, Amplitude: v, Cadence: c.Ring.Cadence}, nil
}

// Validate checks that the chip can generate r.
func (r Ring) Validate() error {
	switch {
	case r.Frequency < 15 || r.Frequency > 100:
		return fmt.Errorf("proslic: ring frequency %g Hz is outside 15-100 Hz", r.Frequency)
	case r.Amplitude <= 0 || r.Amplitude > maxBatteryV:
		return fmt.Errorf("proslic: ring amplitude %g V is outside 0-%g V peak", r.Amplitude, maxBatteryV)
	case len(r.Cadence) == 0 || len(r.Cadence)%2 != 0:
		return fmt.Errorf("proslic: ring cadence needs on/off pairs, got %d times", len(r.Cadence))
	}
	for i, d := range r.Cadence {
		if d <= 0 || d > time.Minute {
			return fmt.Errorf("proslic: ring cadence time %d is %v, outside 0-1m", i, d)
		}
	}
	return nil
}

// Period returns the length of one cadence cycle.
func (r Ring) Period() time.Duration {
	var t time.Duration
	for _, d := range r.Cadence {
		t += d
	}
	return t
}

// RingRegisters returns the ring oscillator's indirect register values for
// r: the coefficient RCO (Si3210 indirect 20) and amplitude RNGX (21). The
// oscillator runs at 1 kHz; the datasheet's equations are
//
//	RCO  = cos(2 pi f / 1000) * 2^15
//	RNGX = 1/4 * sqrt((1 - cos)/(1 + cos)) * Vpk / 96 V * 2^15
func RingRegisters(r Ring) (rco, rngx uint16) {
	c := math.Cos(2 * math.Pi * r.Frequency / ringSampleHz)
	rco = uint16(math.Round(c * 32768))
	x := 0.25 * math.Sqrt((1-c)/(1+c)) * r.Amplitude / ringFullV * 32768
	return rco, uint16(math.Round(x))
}

// RingFromRegisters inverts RingRegisters: the frequency and peak voltage an
// oscillator programmed with rco and rngx produces.
func RingFromRegisters(rco, rngx uint16) (freq, vpk float64) {
	c := float64(rco) / 32768
	if c > 1 {
		c = 1
	}
	freq = math.Acos(c) * ringSampleHz / (2 * math.Pi)
	k := math.Sqrt((1 - c) / (1 + c))
	if k == 0 {
		return freq, 0
	}
	vpk = float64(rngx) / 32768 * ringFullV * 4 / k
	return freq, vpk
}
