// Package moh synthesises the default music on hold: a gentle melody
// (the opening phrase of the folk tune Mo Li Hua, "Jasmine Flower") of
// soft sine notes with a fifth below, each with a raised attack and decay,
// at about -20 dBm0. It is fixed point from end to end: a phase
// accumulator into a quarter-wave table, Q15 envelopes and gains, so each
// held leg's player costs a few nanoseconds a sample and allocates
// nothing. No file is needed on the box.
package moh

import "math"

// note is one note of the tune: a frequency (0 is a rest) and its length
// in 10 ms frames.
type note struct {
	hz     int
	frames int
}

// The tune, in eighth notes of 300 ms (E4 330, G4 392, A4 440, C5 523,
// D5 587 Hz), ending with a rest before it repeats.
var tune = []note{
	{330, 30}, {330, 15}, {392, 15}, {440, 15}, {523, 15}, {523, 15}, {440, 15},
	{392, 30}, {392, 15}, {440, 15}, {392, 60},
	{330, 30}, {330, 15}, {392, 15}, {440, 15}, {523, 15}, {523, 15}, {440, 15},
	{392, 30}, {392, 15}, {440, 15}, {392, 60},
	{392, 30}, {392, 30}, {392, 30}, {330, 15}, {392, 15},
	{440, 30}, {440, 30}, {392, 60}, {0, 60},
}

const (
	sampleRate = 8000
	tableBits  = 10
	// level is the melody's peak in Q15 of full scale: about -20 dBm0
	// once the fifth below and the envelope are added.
	level = 3300
	// fifthGain is the lower voice's gain in Q15 (half).
	fifthGain = 16384
	// rampSamples is the attack and the decay of each note (20 ms).
	rampSamples = 160
)

// sine is one full period of a sine, 1024 points, Q15.
var sine [1 << tableBits]int16

func init() {
	for i := range sine {
		sine[i] = int16(math.Round(32767 * math.Sin(2*math.Pi*float64(i)/float64(len(sine)))))
	}
}

// Player plays the tune over and over. Its ReadFrame makes it a source for
// telephony/media's Engine.Play. The zero value is ready; each held leg
// needs its own player (a player's position moves with every read).
type Player struct {
	note   int    // index in tune
	pos    int    // sample within the note
	ph, p2 uint32 // phases of the melody and the fifth below
}

// ReadFrame fills frame with the next samples of the tune.
func (p *Player) ReadFrame(frame []int16) {
	for i := range frame {
		n := tune[p.note]
		length := n.frames * sampleRate / 100
		var s int32
		if n.hz != 0 {
			inc := uint32(uint64(n.hz) << 32 / sampleRate)
			// The fifth below is 2/3 of the frequency.
			inc2 := uint32(uint64(n.hz) << 33 / (3 * sampleRate))
			v := int32(sine[p.ph>>(32-tableBits)]) + int32(sine[p.p2>>(32-tableBits)])*fifthGain>>15
			p.ph += inc
			p.p2 += inc2
			env := int32(32767)
			if p.pos < rampSamples {
				env = int32(p.pos) * 32767 / rampSamples
			} else if r := length - p.pos; r < rampSamples {
				env = int32(r) * 32767 / rampSamples
			}
			s = (v * level >> 15) * env >> 15
		}
		frame[i] = int16(s)
		p.pos++
		if p.pos >= length {
			p.pos = 0
			p.note++
			if p.note == len(tune) {
				p.note = 0
			}
			if tune[p.note].hz == 0 {
				p.ph, p.p2 = 0, 0
			}
		}
	}
}

// WriteFrame discards what a leg would send to the music.
func (p *Player) WriteFrame([]int16) {}

// Length is the tune's length in samples; the music repeats after it.
func Length() int {
	n := 0
	for _, t := range tune {
		n += t.frames * sampleRate / 100
	}
	return n
}
