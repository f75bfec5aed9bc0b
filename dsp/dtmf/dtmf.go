// Package dtmf detects and generates ITU-T Q.23/Q.24 dual-tone
// multi-frequency signals (touch-tone digits) in 8 kHz linear audio, in
// fixed point.
//
// The Detector meets Q.24: it accepts frequency errors up to 1.5 % and
// rejects them from 3.5 %, accepts 8 dB of normal and 4 dB of reverse twist,
// recognises tones of 40 ms and never those under 20 ms, bridges dropouts of
// up to 10 ms, follows 10 digits per second, works at 15 dB S/N and over more
// than 35 dB of level, and over a dial tone (350+440, 425 or 450 Hz) up to
// about 5 dB louder than each digit tone. Speech and music give no digits
// (the tests run it over 25 minutes of recorded prompts). It reports the
// start and end of each digit in samples (for RFC 4733 events) and can mute
// the digits from the audio it passes on. The Generator produces digit strings at a given
// level and on/off timing with a phase-accumulator oscillator.
package dtmf

import (
	"fmt"
	"math"
	"time"
)

// SampleRate is the only rate the package works at.
const SampleRate = 8000

// Digits lists every DTMF digit, in keypad order row by row.
const Digits = "123A456B789C*0#D"

// rowHz and colHz are the Q.23 nominal frequencies.
var (
	rowHz = [4]float64{697, 770, 852, 941}
	colHz = [4]float64{1209, 1336, 1477, 1633}
)

// keypad maps (row, column) to its digit.
var keypad = [4][4]byte{
	{'1', '2', '3', 'A'},
	{'4', '5', '6', 'B'},
	{'7', '8', '9', 'C'},
	{'*', '0', '#', 'D'},
}

// Frequencies returns the row (low) and column (high) frequency of a digit;
// lower-case a to d are accepted. ok is false for anything else.
func Frequencies(digit byte) (low, high float64, ok bool) {
	r, c, ok := position(digit)
	if !ok {
		return 0, 0, false
	}
	return rowHz[r], colHz[c], true
}

func position(digit byte) (row, col int, ok bool) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for r := range keypad {
		for c := range keypad[r] {
			if keypad[r][c] == digit {
				return r, c, true
			}
		}
	}
	return 0, 0, false
}

// fullScaleDBm0 is the level of a full-scale sine in dBm0 (G.711 A-law's
// 3.14 dB; mu-law's 3.17 dB differs by less than anyone can measure here).
const fullScaleDBm0 = 3.14

// Amplitude returns the peak amplitude in linear 16-bit samples of a sine
// wave at the given level in dBm0.
func Amplitude(dBm0 float64) float64 {
	return 32768 * math.Pow(10, (dBm0-fullScaleDBm0)/20)
}

// samples converts a duration to a whole number of 8 kHz samples.
func samples(d time.Duration) int64 {
	return int64(math.Round(d.Seconds() * SampleRate))
}

func checkDigits(digits string) error {
	for i := 0; i < len(digits); i++ {
		if _, _, ok := position(digits[i]); !ok {
			return fmt.Errorf("dtmf: %q at %d is not a DTMF digit (want one of %s)", digits[i], i, Digits)
		}
	}
	return nil
}
