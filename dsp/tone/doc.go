// Package tone generates and recognises call-progress tones and fax/modem
// tones in 8 kHz int16 audio, in fixed point and without allocation per block.
//
// # Tone plans
//
// A Plan lists a country's tones (dial, ringback, busy, congestion, call
// waiting, special information, MWI stutter dial tone) as data: frequencies,
// levels and cadence. Plans has CN (the default), US, UK, EU (ETSI) and JP;
// PlanFor looks one up by country code.
//
// # Generator
//
// A Generator plays one plan entry with phase-accumulator oscillators: phase
// stays continuous across calls of any block length.
//
// # Detector
//
// A Detector correlates 10 ms blocks against each frequency of a plan, turns
// the blocks into segments (which frequencies, how long), and names the tone
// whose cadence the segments follow within the configured frequency and
// cadence tolerances. Busy and congestion are named after on, off, on: within
// two cycles. It also reports silence and unknown sound.
//
// # Learner
//
// Learn derives the frequencies (one or two) and the cadence of an unknown
// tone from a recording, so that an installer can add an odd exchange's busy
// tone to a plan.
//
// # Fax and modem tones: the echo canceller's switch
//
// FaxDetector recognises the 2100 Hz answer tone (ANS/CED), its phase
// reversing form (/ANS: 180 degrees every 450 ms) and the 1100 Hz CNG tone.
// Its API is stable; an echo canceller uses it like this:
//
//	fd := tone.NewFaxDetector(tone.FaxConfig{}) // defaults: tones down to -43 dBm0
//	for each received block {
//		fd.Process(block)              // any length; no allocation
//		if fd.PhaseReversalSeen() {    // sticky until fd.Reset()
//			disable echo cancellation (G.165/G.168: /ANS disables it)
//		}
//	}
//
// AnswerTone reports a 2100 Hz tone present now (400 ms or more, frequency
// within 2100 +-25 Hz); Reversals counts the reversals in it. Poll returns
// timed events (FaxCED, FaxANSPR, FaxCNG) for logging and fax routing. A
// reversal is a phase jump of more than 135 degrees between 10 ms blocks
// 20 ms apart, after the frequency offset is removed.
package tone
