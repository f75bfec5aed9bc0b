// Package fax is the root of callbox's fax DSP: the modems, HDLC framing,
// page coding and the T.30 session, each in its own subpackage.
//
//   - modem: the interfaces the modems share (bit sources and sinks, status),
//     and modem/v21, modem/v27ter, modem/v29, modem/v17: the V.21 channel 2
//     FSK modem of the T.30 control messages, and the V.27ter (2400, 4800
//     bit/s), V.29 (7200, 9600 bit/s) and trellis-coded V.17 (7200 to 14400
//     bit/s) modems of the image data, with training, equaliser, carrier and
//     symbol timing recovery.
//   - hdlc: HDLC framing with zero-bit insertion and the 16-bit frame check
//     sequence.
//   - t4: T.4 MH and MR and T.6 MMR page coding, 1-bit pages, and turning
//     images into fax pages with a dither.
//   - tiff: TIFF Class F (TIFF-F) files read and written.
//   - t30: the T.30 session over audio, phases A to E, as a state machine.
//
// Everything here keeps the rules of package dsp: 8 kHz int16 audio,
// integer arithmetic per sample (floating point only builds tables), no
// allocation per processed block, no goroutines and no I/O. Levels are in
// dBm0, 0 dBm0 being a sine 3.14 dB below full scale (the G.711 convention).
//
// spandsp, the library Asterisk and FreeSWITCH fax with, is the reference
// every part is tested against in both directions (see the tests' C
// harnesses), and the benchmarks time each modem beside it.
package fax
