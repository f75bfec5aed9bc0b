// Package dsp is the root of callbox's telephony signal processing: G.711,
// DTMF, call-progress tones, caller ID, echo cancellation, conference mixing
// and packet loss concealment, each in its own subpackage.
//
// Everything below dsp/ imports only the standard library, works on 8 kHz
// int16 samples with integer accumulators, starts no goroutines, does no I/O
// and allocates nothing per processed block.
package dsp
