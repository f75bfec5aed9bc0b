package dtmf

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// GeneratorConfig sets the level and timing of generated digits.
type GeneratorConfig struct {
	// Level is the level of the low (row) tone in dBm0; -10 is usual for
	// telephones, -3 to -40 is sensible.
	Level float64
	// Twist is how many dB the high (column) tone is above the low one;
	// telephones send 1 to 3 dB so the line's high-frequency loss evens out.
	Twist float64
	// On and Off are the tone and pause durations of each digit.
	On, Off time.Duration
}

// DefaultGeneratorConfig is a telephone's usual signal: -10 dBm0 low tone,
// +2 dB twist, 100 ms tone, 100 ms pause.
func DefaultGeneratorConfig() GeneratorConfig {
	return GeneratorConfig{Level: -10, Twist: 2, On: 100 * time.Millisecond, Off: 100 * time.Millisecond}
}

// sineBits is log2 of the oscillator's table length; 1024 entries keep
// spurious components about 50 dB below the tone, far beyond Q.23's 20 dB.
const sineBits = 10

var sine [1 << sineBits]int16 // Q15 sine, one period

func init() {
	for i := range sine {
		sine[i] = int16(math.Round(32767 * math.Sin(2*math.Pi*float64(i)/float64(len(sine)))))
	}
}

// Generator produces DTMF digit strings as 8 kHz linear samples. Digits are
// queued with Send and produced by Generate in blocks of any length; the
// oscillators are phase accumulators, so the output does not depend on how
// it is cut into blocks. Every tone starts at phase zero, so it has no click.
type Generator struct {
	ampLow, ampHigh int32 // Q15 scale of the Q15 sine table
	on, period      int64 // samples of tone and of tone plus pause
	queue           []byte
	next            int   // index in queue of the digit being produced
	pos             int64 // samples into the current digit's period
	stepLow         uint32
	stepHigh        uint32
	phLow, phHigh   uint32
}

// NewGenerator returns a generator with nothing queued.
func NewGenerator(cfg GeneratorConfig) (*Generator, error) {
	if cfg.On <= 0 || cfg.Off < 0 {
		return nil, fmt.Errorf("dtmf: on time %v and off time %v: on must be positive and off not negative", cfg.On, cfg.Off)
	}
	low, high := Amplitude(cfg.Level), Amplitude(cfg.Level+cfg.Twist)
	if low+high > 32767 {
		return nil, fmt.Errorf("dtmf: level %.1f dBm0 with twist %.1f dB clips (peak %.0f > 32767)", cfg.Level, cfg.Twist, low+high)
	}
	return &Generator{
		ampLow:  int32(math.Round(low)),
		ampHigh: int32(math.Round(high)),
		on:      samples(cfg.On),
		period:  samples(cfg.On) + samples(cfg.Off),
	}, nil
}

// Send queues digits (0-9, *, #, A-D; a-d are accepted) after those still
// pending. It allocates only when the queue grows; call it from set-up or
// signalling code, not per sample.
func (g *Generator) Send(digits string) error {
	if err := checkDigits(digits); err != nil {
		return err
	}
	if g.next == len(g.queue) {
		g.queue, g.next = g.queue[:0], 0
	}
	g.queue = append(g.queue, strings.ToUpper(digits)...)
	return nil
}

// Pending returns the number of samples still to come for the queued
// digits, including the pause after the last one.
func (g *Generator) Pending() int64 {
	if g.next == len(g.queue) {
		return 0
	}
	return int64(len(g.queue)-g.next)*g.period - g.pos
}

// Generate fills out with the queued digits, then silence, and returns how
// many samples belonged to queued digits (tones and pauses).
func (g *Generator) Generate(out []int16) int {
	n := 0
	for n < len(out) && g.next < len(g.queue) {
		if g.pos == 0 {
			r, c, _ := position(g.queue[g.next])
			g.stepLow = step(rowHz[r])
			g.stepHigh = step(colHz[c])
			g.phLow, g.phHigh = 0, 0
		}
		if g.pos < g.on {
			k := int(min(int64(len(out)-n), g.on-g.pos))
			g.tone(out[n : n+k])
			n += k
			g.pos += int64(k)
			continue
		}
		k := int(min(int64(len(out)-n), g.period-g.pos))
		clear(out[n : n+k])
		n += k
		g.pos += int64(k)
		if g.pos == g.period {
			g.pos = 0
			g.next++
		}
	}
	clear(out[n:])
	return n
}

// tone writes the current digit's two sines.
func (g *Generator) tone(out []int16) {
	pl, ph := g.phLow, g.phHigh
	sl, sh := g.stepLow, g.stepHigh
	al, ah := g.ampLow, g.ampHigh
	for i := range out {
		v := (al*int32(sine[pl>>(32-sineBits)]) + ah*int32(sine[ph>>(32-sineBits)]) + 1<<14) >> 15
		out[i] = int16(v) // NewGenerator rejected levels that could clip
		pl += sl
		ph += sh
	}
	g.phLow, g.phHigh = pl, ph
}

// step is the phase increment per sample of a frequency, in 2^-32 turns.
func step(hz float64) uint32 {
	return uint32(math.Round(hz / SampleRate * (1 << 32)))
}

// Synthesize returns the samples of a digit string: a convenience for
// tests and tools, which allocates.
func Synthesize(digits string, cfg GeneratorConfig) ([]int16, error) {
	g, err := NewGenerator(cfg)
	if err != nil {
		return nil, err
	}
	if err := g.Send(digits); err != nil {
		return nil, err
	}
	out := make([]int16, g.Pending())
	g.Generate(out)
	return out, nil
}
